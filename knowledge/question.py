"""Understand a message before retrieving: its script, the asks it holds, and the kind of answer each wants.

Entrants type on a phone: two questions in one message ("截止哪天，发哪个邮箱？"), a description of their
situation before the question ("我们是做芯片的初创公司，能报吗"), traditional characters from Hong Kong, Macao,
Taiwan or abroad. Matching works on simplified text, one ask at a time; the answer goes back in the script the
entrant wrote in.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from enum import StrEnum

from knowledge.scope import asked_types
from knowledge.tokens import is_han


class Kind(StrEnum):
    """The kind of answer an ask wants; it decides how much of a passage the answer quotes."""

    YES_NO = "yes_no"
    LIST = "list"
    DATE = "date"
    AMOUNT = "amount"
    WHO = "who"
    HOW = "how"
    OTHER = "other"


@dataclass(frozen=True)
class Ask:
    """One question inside a message, with the situation the entrant described before it."""

    text: str
    kind: Kind

    @property
    def short(self) -> bool:
        """A follow-up of a few words ("要穿正装不", "and the fee?"), which leans on the ask before it."""
        return _size(self.text) <= 6


@functools.cache
def _converter(config: str):  # noqa: ANN202 - opencc has no type hints
    import opencc

    return opencc.OpenCC(config)


# Cantonese words Hong Kong and Macao entrants type, as the Mandarin the guideline is written in: matching only.
_CANTONESE = (("我哋", "我们"), ("你哋", "你们"), ("佢哋", "他们"), ("邊個", "哪个"), ("边个", "哪个"),
              ("幾多", "多少"), ("几多", "多少"), ("點樣", "怎样"), ("点样", "怎样"), ("乜嘢", "什么"), ("啲乜", "什么"),
              ("乜", "什么"), ("咩", "什么"),
              ("係唔係", "是不是"), ("系唔系", "是不是"), ("係", "是"), ("嘅", "的"), ("冇", "没有"), ("唔", "不"),
              ("喺", "在"), ("咗", "了"), ("啲", "些"), ("俾", "给"), ("嗰", "那"), ("幾時", "什么时候"),
              ("几时", "什么时候"), ("而家", "现在"), ("邊度", "哪里"), ("边度", "哪里"))


def to_simplified(text: str) -> str:
    """Traditional characters as simplified ones (OpenCC) and Cantonese words as Mandarin, for matching."""
    if not any(is_han(c) for c in text):
        return text
    for cantonese, mandarin in _CANTONESE:
        text = text.replace(cantonese, mandarin)
    return _converter("t2s").convert(text)


def to_traditional(text: str) -> str:
    """An answer in traditional characters (OpenCC, Taiwan standard forms: 為, 說), for one who wrote so.

    Characters only, no regional phrases: Taiwan's phrasing turned the guideline's 知识产权 into 智慧財產權 and
    信息技术 into 資訊科技, words a Hong Kong or Macao entrant does not use and no guideline term matches. OpenCC's
    plain standard (s2t) writes 爲 and Hong Kong's (s2hk) 説, which few entrants do.
    """
    return _converter("s2tw").convert(text)


def is_traditional(text: str) -> bool:
    """True when the text has characters that only traditional script writes so (and none the other way)."""
    simplified = to_simplified(text)
    if simplified == text:
        return False
    # A simplified text with one traditional-looking variant (a name, a quoted title) stays simplified: count.
    changed = sum(1 for a, b in zip(text, simplified, strict=False) if a != b)
    back = sum(1 for a, b in zip(text, _converter("s2tw").convert(simplified), strict=False) if a != b)
    return changed >= 1 and changed >= back


# What marks a clause as asking something. A clause without it (a description of the asker's situation) belongs
# to the ask that follows it.
_ZH_ASKS = re.compile(
    r"[吗么嘛呢？?]|哪|什么|啥|几[个号点月天时家项类种份次轮年届位名页岁]|多少|多大|多久|多长|怎么|怎样|如何|咋|谁|是否|"
    r"能不能|能否|可不可以|可否|有没有|要不要|需不需要|用不用|是不是|行不行|对不对|算不算|会不会|收不收|退不退|"
    r"[能可要会行算用收退有是][不没]\S{0,2}$|[不没]$|列[一出举]|都有|分别|还是"
)
# Where an English clause starts a new question after "and", "also", a comma: a question word or an auxiliary.
_EN_QUESTION_START = re.compile(
    r"^(?:(?:and|n|also|plus|oh|btw|ps|then|so|ok|okay|hi|hey|hello|pls|plz|please|sorry|quick q|one more)\b[\s,:!]*)*"
    # "… and on which dates does the judging happen?"
    r"(?:(?:on|in|at|for|by|from|to|until|till|with|about|under)\s+(?=(?:which|what|whom|whose)\b))?"
    r"(what|what's|whats|wats|which|when|when's|whens|where|where's|wheres|who|who's|whos|whom|whose|why|how|how's|"
    # "r we paying a fee": chat's "are"
    r"hows|is|are|r(?=\s+(?:we|u|you|they|there|i|it)\b)|am|was|were|do|does|did|can|could|"
    r"should|would|will|may|might|must|shall|has|have|any|list|tell|explain|give|name)\b",
    re.IGNORECASE,
)
# A space between two Chinese characters is a phone's comma ("报名要交钱吗 资料会退吗").
# So is an English "and" between two Chinese clauses ("申报表发到哪个邮箱 and 邮件标题怎么写").
_ZH_SPLIT = re.compile(r"(?<=[？?！!。；;\n])|(?<=[，,、])(?=另外|还有|顺便|再问|以及|然后|同时|另|再就是|还想问)"
                       r"|(?<=[，,])|(?<=[\u4e00-\u9fff])\s+(?:(?:and|&|\+)\s+)?(?=[\u4e00-\u9fff])", re.IGNORECASE)
_ZH_LEADING_JOINER = re.compile(r"^(另外|还有|顺便问一?下|顺便|再问一?下|以及|然后|同时|再就是|还想问一?下)[，,、：:\s]*")
# "when and where is the forum?" is one ask about one thing: no split after a bare question word.
_EN_SPLIT = re.compile(r"(?<=[?!.;:])(?<!e\.g\.)(?<!i\.e\.)\s+|\n|\s*,\s*(?=\S)|\s+[+&]\s+|\s+(?=[1-9]\)\s)|"
                       r"(?<!\bwhen)(?<!\bwhere)(?<!\bwhat)(?<!\bwho)(?<!\bhow)(?<!\bwhy)\s+(?=(?:and|n|also|plus)\s)",
                       re.IGNORECASE)
_EN_PLUS = re.compile(r"\s+[+&]\s+")
# "1) exact deadline? 2) which email": the number before an ask is no word of it, and each numbered one asks.
_EN_NUMBERED = re.compile(r"^[1-9]\)\s+")
_EN_INNER_QUESTION = re.compile(r"\b(what|when|where|how|which|who)\s+(happens|happened|do|does|did|is|are|can|"
                                r"should|will|would)\b", re.IGNORECASE)
# "n form send to which email", "and the results are out when": a question word inside or at the end of a clause.
# "after the judging do you send back our brochures": a question after when it would happen.
_EN_QUESTION_INSIDE = re.compile(r"\b(?:to|in|on|at|for|by|from|under|into|of)\s+(?:which|what)\s+"
                                 r"(?!(?:we|i|our|they|it|you|u|he|she|my|their)\b)\w+|"
                                 r"^(?:after|before|once|during|when|if|until|till)\s[^,?]*?\b(?:do|does|did|can|could|will|"
                                 r"would|should|is|are)\s+(?:you|u|we|i|they|it)\b|"
                                 r"\b(?:when|where|how long|how much|how many)\W*(?:ah|la|lah|leh|huh|eh)?\W*$",
                                 re.IGNORECASE)
# "our work is on photonic chips, which isnt in the named sectors." tells; "which is the deadline?" asks (its "?").
_EN_RELATIVE = re.compile(r"^which\s+(is|isn'?t|are|aren'?t|was|wasn'?t|means?|makes?|has|have|had|we|i|our|my)\b",
                          re.IGNORECASE)
# A case put before the question about it ("what if our founder is abroad, can …?", "如果…的话，能…吗").
_WHAT_IF = {"en": re.compile(r"^\W*(?:(?:so|and|ok|okay|hi|hey|um|also|but)\W+)*(?:what if|suppose|say)\b", re.IGNORECASE),
            "zh": re.compile(r"^(?:如果|假如|要是|万一)")}
_EN_LEADING_JOINER = re.compile(r"^(?:(?:and|n|also|plus|oh|btw|ps)\b[\s,]*)+", re.IGNORECASE)

_LIST = {
    "zh": re.compile(r"哪些|哪几|都有什么|都有啥|有什么[类种奖项]|都是什么|都包括|包括什么|包括哪|列[一出举]|全部|所有|分别是|"
                     r"几[个类种项大]|都能报什么|什么类目|哪几类|有几"),
    "en": re.compile(r"\b(list|all (the|of)|which (are|ones)|break (it |this |that )?down|(phase|step|stage) by "
                     r"(phase|step|stage)|walk (me|us) through|what are (all )?the|what (kinds?|types?|categories|"
                     r"awards|industries|sectors|fields|dimensions|criteria)|how many (categories|awards|kinds|types|"
                     r"tracks|industries|sectors)|every|each of)\b", re.IGNORECASE),
}
_YES_NO = {
    "zh": re.compile(r"[吗么嘛][？?。!！]*$|能不能|能否|可不可以|可否|有没有|要不要|需不需要|用不用|是不是|是否|行不行|"
                     r"对不对|算不算|会不会|收不收|退不退|[能可要会行算用收退有是][不没]\S{0,2}[？?]*$|[不没][？?]*$"),
    # "if we aren't shortlisted, will you say why?": a condition before the asking clause
    # "can u walk me thru the timeline?" asks for the timeline, not whether it can be done; "could you kindly
    # confirm the final date?" for the date ("… confirm that it is free?" is a yes or a no)
    "en": re.compile(r"^(?!(?:can|could|would) (?:you|u) (?:please |pls |just |kindly )?(?:walk|tell|explain|give|list|"
                     r"show|break|describe|outline|summari[sz]e|share|send|specify|(?:confirm|clarify)(?!\s+(?:that|whether|"
                     r"if)\b))\b)(?:(?:if|once|after|in case)\b[^,?]{3,60},\s*)?"
                     r"(?:(?:and|also|so|oh|btw|hi|hey|hello|pls|please)\b[\s,]*)*(is|are|r(?=\s+(?:we|u|you|they|there|i|it)\b)|am|was|were|do|does|did|can|"
                     r"could|should|would|will|may|might|must|shall|has|have)\b", re.IGNORECASE),
}
_DATE = {
    "zh": re.compile(r"哪天|几号|几月|什么时候|啥时候|多久|何时|时间|日期|截止|几点|ddl|deadline", re.IGNORECASE),
    "en": re.compile(r"\b(when|what (date|day|time)|deadline|ddl|how long|until)\b", re.IGNORECASE),
}
_AMOUNT = {
    "zh": re.compile(r"多少|多大|几[个项家名位]|多重|上限|限制|最多|最少"),
    "en": re.compile(r"\bhow (much|many|big|large)\b|\b(limit|maximum|max|minimum|size)\b", re.IGNORECASE),
}
_WHO = {
    "zh": re.compile(r"谁|哪个单位|哪家|什么人|什么机构|主办|承办|评委"),
    "en": re.compile(r"\b(who|whom|which (organi[sz]ation|company|body))\b", re.IGNORECASE),
}
_HOW = {
    "zh": re.compile(r"怎么|如何|咋|怎样|流程|步骤|方式|途径"),
    "en": re.compile(r"\bhow (do|can|should|to|does)\b|\b(process|procedure|steps?)\b", re.IGNORECASE),
}


def kind_of(ask: str, *, lang: str) -> Kind:
    """The kind of answer one ask wants; a list question outranks a yes/no one ("有哪些类目？" is a list)."""
    for kind, table in ((Kind.LIST, _LIST), (Kind.YES_NO, _YES_NO), (Kind.WHO, _WHO), (Kind.DATE, _DATE),
                        (Kind.AMOUNT, _AMOUNT), (Kind.HOW, _HOW)):
        if table[lang].search(ask.strip()):
            return kind
    return Kind.OTHER


def split_asks(message: str, *, lang: str) -> list[Ask]:
    """The asks in one message, in order; a clause that asks nothing joins the ask it leads to (or follows)."""
    clauses = _clauses(message, lang=lang)
    asks: list[str] = []
    pending: list[str] = []
    for clause in clauses:
        pending.append(clause)
        if _asks_something(clause, lang=lang):
            asks.append(_join(pending, lang=lang))
            pending = []
    if pending:
        if asks:
            asks[-1] = _join([asks[-1], *pending], lang=lang)
        else:
            asks.append(_join(pending, lang=lang))
    merged = _merge_fragments([a.strip().rstrip("，,、；; ") for a in asks if a.strip()], lang=lang)
    return [Ask(text=a, kind=kind_of(a, lang=lang)) for a in merged] or [Ask(text=message.strip(), kind=Kind.OTHER)]


# A spaced dash ends a clause too ("my manager calls it 'the media partner' — who is actually running this?").
# A question mark ends a clause and stays with it ("请问要缴费吗？学校财务处要我确认一下").
_CLAUSE = {"zh": re.compile(r"[，,。；;：:\s]+|(?<=[？?！!])"),
           "en": re.compile(r"[,;:]\s*|(?<=[.?!])(?<!e\.g\.)(?<!i\.e\.)\s+|\s+(?:[—–]|--?)\s+")}


def _split_clauses(ask: str, *, lang: str) -> list[str]:
    return [c for c in _CLAUSE[lang].split(ask.strip()) if c.strip("？?！! ")]


def yes_no_clause(ask: str, *, lang: str) -> str:
    """The clause of a yes/no ask that asks ("我们是外资企业，要交营业执照吗" → "要交营业执照吗"), else the ask;
    without the reason given after it ("is there an entry fee because we are broke"): that is the asker's case."""
    clauses = _split_clauses(ask, lang=lang)
    asking = [c for c in clauses if _YES_NO[lang].search(c)]
    clause = asking[-1] if asking else ask
    return _REASON_AFTER.sub("", clause) if lang == "en" else clause


_REASON_AFTER = re.compile(r"\s+(?:because|cause|cuz|coz|since)\s.*$", re.IGNORECASE)


def asking_clause(ask: str, *, lang: str) -> str | None:
    """The question of an ask that a remark follows ("可以匿名报吗，老板不想露名" → "可以匿名报吗"; "wats the hard
    deadline, like exact day AND time? juggling 3 clients rn" → its first two clauses), else None.

    Only a question that opens the ask: a situation told before the question ("我们是做手游的工作室，也能参加吗") is
    what an eligibility question is about.
    """
    clauses = _split_clauses(ask, lang=lang)
    asking = [n for n, c in enumerate(clauses) if _asks_something(c, lang=lang)]
    if not asking or asking[0] != 0 or asking[-1] == len(clauses) - 1:
        return None
    return ("，" if lang == "zh" else ", ").join(clauses[:asking[-1] + 1])


def unframed(ask: str, *, lang: str) -> str:
    """The ask without who wants to know ("财务部门想确认一下报名要不要交报名费" → "报名要不要交报名费", "my boss
    wants to know if there is a fee" → "there is a fee"): the asker's go-between is none of the words to match."""
    rest = _REPORTED[lang].sub("", ask)
    return rest if _size(rest) >= 2 else ask


_REPORTED = {
    "zh": re.compile(r"(?:^|(?<=[，,。；;？?！!\s]))[^，,。；;？?！!\s]{0,10}?(?:想|要|需要|让我|叫我)"
                     r"(?:确认|问问?|了解|知道|咨询|核实)(?:一下|下)?[，,：:\s]*"),
    "en": re.compile(r"(?:^|(?<=[,;.?!]\s))(?:[\w']+\s+){0,4}?(?:wants?|wanted|needs?|asks?|asked|wonders?|"
                     r"wondering)\s+(?:to\s+(?:know|check|confirm|find\s+out)\s+)?(?:if|whether)\s+", re.IGNORECASE),
}


def question_after(ask: str, *, lang: str) -> str | None:
    """The clauses that ask, after a situation told before them ("our CFO worries about confidentiality. what
    principles do the judges work under? just checking" → the second sentence; "… — who runs this award, which
    outlet?" → both questions), else None.

    For matching the FAQ only: whether the situation makes the asker eligible is the eligibility matcher's.
    """
    clauses = _split_clauses(ask, lang=lang)
    asking = [n for n, c in enumerate(clauses) if _asks_something(c, lang=lang)]
    if len(asking) > 1 and _WHAT_IF[lang].match(clauses[asking[0]]):
        # "what if my boss is based in Singapore — can the entry be in English?": the "what if" tells the case
        asking = asking[1:]
    if not asking or asking[0] == 0:
        return None
    return ("，" if lang == "zh" else ", ").join(clauses[asking[0]:asking[-1] + 1])


def _clauses(message: str, *, lang: str) -> list[str]:
    text = message.strip()
    if lang == "zh":
        parts = [p.strip() for p in _ZH_SPLIT.split(text)]
        parts = [_ZH_LEADING_JOINER.sub("", p) for p in parts]
    else:
        # "judging dates + how many rounds?": a plus before a question lists asks, and what it follows is one too
        # (merged into the question after it, "judging dates" went unanswered); "hypergrowth + a recent raise"
        # lists what the asker tells.
        pieces = _EN_PLUS.split(text)
        text = pieces[0]
        for piece in pieces[1:]:
            told = not _asks_something(_EN_SPLIT.split(text)[-1].strip(), lang=lang)
            if text.endswith(("?", "!", ".")):
                text += f" {piece}"
            else:
                text += f"? {piece}" if told and _EN_QUESTION_START.match(piece) else f" + {piece}"
        # a numbered piece asks, with or without its question mark ("1) deadline 2) email address")
        parts = [_EN_NUMBERED.sub("", p).rstrip("?") + "?" if _EN_NUMBERED.match(p) else p
                 for p in (p.strip() for p in _EN_SPLIT.split(text))]
        # A comma or "and" only separates two asks when the next one starts like a question; otherwise the
        # pieces belong together ("we make chips, and we're based in shenzhen").
        glued: list[str] = []
        for part in parts:
            if glued and not (glued[-1].endswith(("?", "!", ".", ";")) or _EN_QUESTION_START.match(part)):
                glued[-1] = f"{glued[-1]}, {part}" if not re.match(r"(and|n|also|plus)\b", part, re.I) else \
                    f"{glued[-1]} {part}"
            else:
                glued.append(part)
        parts = [_EN_LEADING_JOINER.sub("", p) for p in glued]
    return [p for p in parts if p and not re.fullmatch(r"[\W_]+", p)]


def _asks_something(clause: str, *, lang: str) -> bool:
    if lang == "zh":
        return bool(_ZH_ASKS.search(clause))
    # "we are a chip startup" says something; "are we eligible", "list the awards" and "the deadline?" ask.
    # "after we email the form what happens next": a question word after what the asker did
    if "?" in clause:
        return True
    return not _EN_RELATIVE.match(clause) and bool(_EN_QUESTION_START.match(clause) or _EN_INNER_QUESTION.search(clause)
                                                   or _EN_QUESTION_INSIDE.search(clause))


def _stands_alone(fragment: str, before: str, *, lang: str) -> bool:
    """A fragment too short to retrieve alone that is still an ask of its own: a yes/no ask with its own predicate
    ("要钱吗"), or money asked after an ask that asks none ("what do winners get? any cash?": money the guideline
    never names must not unmake the answer to what it does name). After a yes/no ask the amount is part of it
    ("要另外付费吗？多少钱？")."""
    if _YES_NO[lang].search(fragment):
        return True
    return _asks_money(fragment, lang=lang) and not _asks_money(before, lang=lang) and \
        not _YES_NO[lang].search(before)


def _asks_money(text: str, *, lang: str) -> bool:
    return any(t.name == "money" for t in asked_types(text, lang=lang))


def _join(parts: list[str], *, lang: str) -> str:
    if lang == "zh":
        return "".join(p if p.endswith(("，", ",", "？", "?", "。", "！", "!", "；")) else p + "，" for p in parts[:-1]) + \
            parts[-1]
    return ", ".join(p.rstrip(",") for p in parts)


def _merge_fragments(asks: list[str], *, lang: str) -> list[str]:
    """A fragment too short to be retrieved on its own ("评多久", "and when?") belongs to the ask before it."""
    out: list[str] = []
    for ask in asks:
        size = _size(ask)
        if out and size <= (3 if lang == "zh" else 2) and not _stands_alone(ask, out[-1], lang=lang):
            out[-1] = _join([out[-1], ask], lang=lang)
        else:
            out.append(ask)
    return out


def _size(text: str) -> int:
    """Han characters plus Latin words: a rough count of what a text says."""
    return sum(1 for c in text if is_han(c)) + len(re.findall(r"[a-z0-9]+", text, re.IGNORECASE))
