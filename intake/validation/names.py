"""Registered names: a person's real name and an organisation's full registered name, in Chinese or Latin letters."""

from __future__ import annotations

import re
import unicodedata

from intake.validation.checked import INVISIBLE, Checked, accept, refuse
from intake.validation.text import SPACE_RUN, is_control, is_emoji_or_symbol, is_han, is_latin_letter

__all__ = ["check_org_name", "check_person_name"]

_NAME_EXAMPLE = ("张伟", "Jane Smith")
_DOTS = str.maketrans(dict.fromkeys("•・･‧∙⋅●", "·"))
_PLACEHOLDERS_ZH = frozenset(
    {
        "匿名", "无名", "无名氏", "佚名", "不详", "未知", "保密", "本人", "自己", "某人", "某某",
        "测试", "用户", "管理员", "客服", "联系人", "负责人", "张三", "李四", "王五", "赵六",
        "路人甲", "先生", "女士", "小姐", "老师", "老板", "同学", "朋友", "无",
    }
)  # fmt: skip
# Honorifics that never end a registered name; a name that ends with one is a form of address.
_TITLES_ZH = (
    "先生", "女士", "小姐", "老师", "教授", "博士", "院士", "经理", "总经理", "董事长", "总监",
    "主任", "老板", "师傅", "同学", "校长", "院长", "所长", "书记", "局长", "处长", "科长", "部长",
)  # fmt: skip
# One-character titles that are also ordinary given-name characters; only a surname before them gives them away.
_SHORT_TITLES_ZH = frozenset("总董工哥姐叔姨爷")
_NICK_PREFIXES = frozenset("小老阿")
_COMPOUND_SURNAMES = frozenset(
    {
        "欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "慕容", "令狐", "司徒", "夏侯",
        "尉迟", "公孙", "长孙", "宇文", "独孤", "端木", "百里", "呼延", "南宫", "西门",
    }
)  # fmt: skip
_INTERJECTIONS = frozenset("哈呵嘿嘻啊哦嗯额呃噢喔哇")
_TITLES_EN = frozenset({"mr", "mrs", "ms", "miss", "mx", "dr", "prof", "sir", "madam"})
_PLACEHOLDERS_EN = frozenset(
    {
        "test", "tester", "admin", "administrator", "anonymous", "anon", "user", "username", "demo",
        "null", "none", "nobody", "unknown", "asdf", "qwerty", "xxx", "sample", "example", "name",
    }
)  # fmt: skip
_PLACEHOLDER_FULL_EN = frozenset({"john doe", "jane doe", "zhang san", "li si", "wang wu", "first last"})
_LATIN_PART = re.compile(r"^[^\W\d_]+(?:['-][^\W\d_]+)*\.?$")


def _clean_name(raw: str) -> str:
    # Compatibility form: full-width letters and compatibility ideographs become the ordinary ones.
    return SPACE_RUN.sub(" ", unicodedata.normalize("NFKC", raw).translate(INVISIBLE)).strip()


def _name_refusal(lang: str, zh: str, en: str) -> Checked[str]:
    return refuse(lang, zh, en, *_NAME_EXAMPLE)


def _chinese_name_problem(name: str) -> tuple[str, str] | None:
    han = name.replace("·", "")
    if name.startswith("·") or name.endswith("·") or "··" in name:
        return "间隔号“·”只能用在名字中间", 'The middle dot "·" can only stand between parts of a name'
    if len(han) < 2:
        return (
            "请填写完整的真实姓名，不能只有一个字",
            "Please give the full real name, not a single character",
        )
    if len(han) > 20:
        return "中文姓名最多 20 个汉字", "A Chinese name has at most 20 characters"
    if name in _PLACEHOLDERS_ZH or "某" in name or "测试" in name:
        return f"“{name}”不是真实姓名", f'"{name}" is not a real name'
    if len(set(han)) == 1 or set(han) <= _INTERJECTIONS:
        return f"“{name}”不像真实姓名（叠字或语气词）", f'"{name}" does not look like a real name'
    title = next((t for t in _TITLES_ZH if han.endswith(t)), None)
    if title is not None:
        return (
            f"请去掉称呼“{title}”，只填写身份证件上的姓名",
            f'Please leave out the form of address "{title}" and give the name as on the identity document',
        )
    rest = han[:-1]
    if han[-1] in _SHORT_TITLES_ZH and (len(rest) == 1 or rest in _COMPOUND_SURNAMES):
        return (
            f"“{name}”是称呼而不是姓名，请填写完整的真实姓名",
            f'"{name}" is a form of address, not a name; please give the full real name',
        )
    if len(han) == 2 and han[0] in _NICK_PREFIXES:
        return (
            f"“{name}”像是昵称，请填写身份证件上的真实姓名",
            f'"{name}" looks like a nickname; please give the real name as on the identity document',
        )
    return None


def _latin_name_problem(name: str) -> tuple[str, str] | None:
    parts = name.split(" ")
    if any(not _LATIN_PART.match(part) for part in parts):
        return (
            "英文姓名只能包含字母、空格、连字符和撇号",
            "A name in Latin letters may contain only letters, spaces, hyphens and apostrophes",
        )
    if any(not is_latin_letter(ch) for ch in name if ch.isalpha()):
        return "请只用中文或拉丁字母填写姓名", "Please write the name in Chinese characters or Latin letters"
    folded = [part.rstrip(".").casefold() for part in parts]
    if folded[0] in _TITLES_EN:
        return (
            "请去掉称谓（如 Mr、Dr），只填写姓名",
            "Please leave out titles such as Mr or Dr and give the name only",
        )
    if " ".join(folded) in _PLACEHOLDER_FULL_EN or any(p in _PLACEHOLDERS_EN for p in folded):
        return f"“{name}”不是真实姓名", f'"{name}" is not a real name'
    if len(parts) < 2:
        return "请填写名和姓，至少两部分", "Please give both the given name and the family name"
    letters = [p.replace("'", "").replace("-", "") for p in folded]
    if all(len(p) == 1 for p in letters) or len(set(folded)) == 1:
        return f"“{name}”不像真实姓名", f'"{name}" does not look like a real name'
    if any(len(p) >= 3 and len(set(p)) == 1 for p in letters):
        return f"“{name}”不像真实姓名", f'"{name}" does not look like a real name'
    if len(name) > 100:
        return "姓名太长，最多 100 个字符", "The name is too long (at most 100 characters)"
    return None


def check_person_name(raw: str, *, lang: str = "zh") -> Checked[str]:
    """A person's real name: 2–20 Han characters (· between parts allowed) or Latin 'Given Family'."""
    name = _clean_name(raw).translate(_DOTS).replace("’", "'").replace("‘", "'")
    if not name:
        return _name_refusal(lang, "请填写真实姓名", "Please give your real name")
    if name.startswith("@"):
        return _name_refusal(
            lang,
            "请填写真实姓名，而不是 Telegram 用户名",
            "Please give your real name, not a Telegram username",
        )
    if any(ch.isdigit() for ch in name):
        return _name_refusal(lang, "姓名中不能有数字", "A name cannot contain digits")
    if any(is_emoji_or_symbol(ch) or is_control(ch) for ch in name):
        return _name_refusal(lang, "姓名中不能有表情或特殊符号", "A name cannot contain emoji or symbols")
    if any(is_han(ch) for ch in name):
        # Chinese names are written solid; "王 小明" is the same name.
        name = re.sub(r"\s*·\s*", "·", name)
        name = re.sub(r"\s+", "", name) if all(is_han(ch) or ch in "· " for ch in name) else name
        if not all(is_han(ch) or ch == "·" for ch in name):
            return _name_refusal(
                lang,
                "中文姓名只能由汉字组成（少数民族或外国人译名可用“·”分隔），不要夹杂字母或标点",
                "A Chinese name consists of Han characters only (with · between parts of a transliterated name)",
            )
        problem = _chinese_name_problem(name)
    elif any(ch.isalpha() for ch in name):
        problem = _latin_name_problem(name)
    else:
        problem = ("请填写真实姓名", "Please give your real name")
    if problem is not None:
        return _name_refusal(lang, *problem)
    return accept(name, lang)


_ORG_EXAMPLE = ("上海科创先锋科技有限公司", "Pioneer Technologies Ltd.")
# Organisation forms a registered Chinese name ends with (companies, partnerships, public bodies, institutions).
_ORG_FORMS_ZH = (
    "有限责任公司", "股份有限公司", "有限公司", "股份公司", "集团公司", "总公司", "分公司", "公司", "集团",
    "合伙企业", "（有限合伙）", "（普通合伙）", "（特殊普通合伙）", "合作社", "事务所", "个人独资企业",
    "研究院", "研究所", "研究中心", "科学院", "设计院", "医院", "院", "实验室", "大学", "学院", "学校",
    "中心", "管委会", "管理委员会", "委员会", "管理局", "园区", "产业园", "科技园", "孵化器", "开发区",
    "高新区", "示范区", "新区", "街道", "街道办事处", "办事处", "代表处", "人民政府", "政府", "局",
    "协会", "学会", "商会", "基金会", "联合会", "促进会", "研究会", "联盟", "银行", "分行", "支行", "厂",
)  # fmt: skip
# Legal-form endings, compared on lower-case tokens with dots and slashes removed ("S.A." → "sa", "A/S" → "as").
_ORG_FORMS_EN = tuple(
    tuple(form.split())
    for form in (
        "ltd", "limited", "inc", "incorporated", "corp", "corporation", "co", "company", "llc", "llp", "lp",
        "plc", "pllc", "gmbh", "ggmbh", "ag", "kg", "kgaa", "ohg", "se", "ev", "sa", "sas", "sarl", "sl",
        "sau", "spa", "srl", "bv", "nv", "pty", "kk", "gk", "oy", "oyj", "ab", "as", "asa", "aps", "sro",
        "kft", "zrt", "ltda", "lda", "bhd", "sp z oo", "ulc", "cic", "sagl", "scs", "sca",
    )
)  # fmt: skip
_INSTITUTION_WORDS = frozenset(
    {
        "university", "universität", "universitat", "université", "universite", "universidad",
        "università", "universiteit", "universitet", "institute", "institut", "instituto", "istituto",
        "college", "academy", "akademie", "académie", "school", "hochschule", "polytechnic",
        "politecnico", "laboratory", "laboratories", "foundation", "stiftung", "society", "association",
        "gesellschaft", "hospital", "centre", "center", "council", "agency", "ministry", "authority",
    }
)  # fmt: skip


def _org_refusal(lang: str, zh: str, en: str) -> Checked[str]:
    return refuse(lang, zh, en, *_ORG_EXAMPLE)


def check_org_name(raw: str, *, lang: str = "zh") -> Checked[str]:
    """An organisation's full registered name: Chinese with an organisation form, or foreign with a legal form."""
    name = _clean_name(raw)
    if not name:
        return _org_refusal(lang, "请填写单位全称", "Please give the organisation's full registered name")
    if name.startswith("@") or re.search(r"https?://|www\.", name, re.IGNORECASE):
        return _org_refusal(
            lang,
            "请填写营业执照或登记证书上的单位全称，而不是账号或网址",
            "Please give the registered name, not an account or a web address",
        )
    if any((is_emoji_or_symbol(ch) and ch not in "&+") or is_control(ch) for ch in name):
        return _org_refusal(
            lang, "单位名称中不能有表情或特殊符号", "An organisation name cannot contain emoji or symbols"
        )
    if not any(ch.isalpha() for ch in name):
        return _org_refusal(
            lang, "单位名称不能只有数字或符号", "An organisation name cannot be only digits or symbols"
        )
    if "某某" in name:
        return _org_refusal(lang, f"“{name}”不是真实的单位名称", f'"{name}" is not a real organisation name')
    if any(is_han(ch) for ch in name):
        # Registered Chinese names use full-width brackets and no spaces next to Chinese characters.
        name = name.replace("(", "（").replace(")", "）")
        name = re.sub(r"\s+(?=[^\x00-\x7f])|(?<=[^\x00-\x7f])\s+", "", name)
        form = next((f for f in _ORG_FORMS_ZH if name.endswith(f)), None)
        # At least a two-character name before the form: "有限公司" alone names nobody.
        if len(name) < 4 or form is None or len(name) - len(form) < 2:
            return _org_refusal(
                lang,
                "请填写与营业执照或登记证书一致的单位全称，应以“有限公司”“研究院”“大学”“管委会”等组织形式结尾",
                "Please give the full name as registered, ending with its organisation form "
                "(e.g. 有限公司, 研究院, 大学, 管委会)",
            )
        # "腾讯公司" is how people say it, not how it is registered: a bare 公司 follows a longer name.
        if form == "公司" and len(name) - len(form) < 4:
            return _org_refusal(
                lang,
                f"“{name}”是简称，请填写营业执照上的完整名称",
                f'"{name}" is a short name; please give the full name on the business licence',
            )
        return accept(name, lang)
    if any(ch.isalpha() and not is_latin_letter(ch) for ch in name):
        return _org_refusal(
            lang,
            "单位名称请用中文或拉丁字母填写",
            "Please write the organisation name in Chinese or Latin letters",
        )
    tokens = re.findall(r"[^\W_]+", re.sub(r"[./]", "", name.casefold()))
    is_institution = any(token in _INSTITUTION_WORDS for token in tokens)
    form_en = next((f for f in _ORG_FORMS_EN if tuple(tokens[-len(f) :]) == f), None)
    body = tokens[: len(tokens) - len(form_en)] if form_en else tokens
    if not is_institution and (form_en is None or not any(ch.isalpha() for ch in "".join(body))):
        return _org_refusal(
            lang,
            "请填写单位注册全称，包括公司形式（如 Ltd、Inc.、GmbH）或大学、研究机构的完整名称",
            "Please give the full registered name including its legal form (e.g. Ltd, Inc., GmbH, S.A.), "
            "or the full name of the university or institute",
        )
    return accept(name, lang)
