"""Table tests of the intake field validators, with real and computed identity codes checked independently."""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from stdnum.cn import ric, uscc

from config import Localized
from intake import validation
from intake.validation import (
    VALIDATORS,
    Checked,
    Choice,
    Period,
    YearMonth,
    check_choice,
    check_choices,
    check_credit_code,
    check_date,
    check_email,
    check_id_number,
    check_integer,
    check_long_text,
    check_mobile,
    check_money,
    check_org_name,
    check_passport,
    check_percentage,
    check_period,
    check_person_name,
    check_text,
    check_url,
    check_year,
    detect_script,
    format_mobile,
    is_chinese_text,
)

TODAY = date(2024, 10, 1)

# ------------------------------------------------------------------------- independent checksum implementations
# Written from the standards, not from python-stdnum, so a shared mistake cannot make both agree.

CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # GB 32100-2015 table: no I, O, S, V, Z
CREDIT_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]


def credit_ok(code: str) -> bool:
    """GB 32100-2015: C18 = 31 - (Σ Ci·Wi mod 31), with 31 written as 0."""
    total = sum(CREDIT_CHARS.index(c) * w for c, w in zip(code[:17], CREDIT_WEIGHTS, strict=True))
    return CREDIT_CHARS[(31 - total % 31) % 31] == code[17]


def make_credit(first17: str) -> str:
    """A valid code from its first 17 characters, by trying every check character."""
    return next(first17 + c for c in CREDIT_CHARS if credit_ok(first17 + c))


def id_ok(number: str) -> bool:
    """GB 11643-1999: (Σ ai·Wi + a18) ≡ 1 (mod 11), with X standing for 10."""
    digits = [10 if c == "X" else int(c) for c in number]
    return (sum(d * w for d, w in zip(digits[:17], ID_WEIGHTS, strict=True)) + digits[17]) % 11 == 1


def make_id(area: str, born: str, seq: str) -> str:
    """A valid identity number for an area code, a YYYYMMDD birth date and a 3-digit sequence."""
    return next(area + born + seq + c for c in "0123456789X" if id_ok(area + born + seq + c))


def change_one(code: str, index: int = 5) -> str:
    """The same code with one character of the body changed (the check character kept)."""
    old = code[index]
    new = "3" if old != "3" else "4"
    return code[:index] + new + code[index + 1 :]


# The standard's own worked example and codes published by well-known companies; each is verified below.
PUBLISHED_CREDIT_CODES = [
    "91350100M000100Y43",  # GB 32100-2015 example
    "914403001922038216",  # 华为技术有限公司
    "91440300708461136T",  # 深圳市腾讯计算机系统有限公司
    "91330100716105852F",  # 阿里巴巴（中国）有限公司
    "91110108551385082Q",  # 小米科技有限责任公司
    "91440300192317458F",  # 比亚迪股份有限公司
    "91110000802100433B",  # 北京百度网讯科技有限公司
]
COMPUTED_CREDIT_CODES = [
    make_credit("91310115MA1H7ABC1"),  # a Shanghai Pudong company, letters in the organisation code
    make_credit("12100000400000123"),  # 机构编制 (public institution)
    make_credit("52310000MJ4912345"),  # 民政 (social organisation)
    make_credit("92440300MA5DXY312"),  # 个体工商户
    make_credit("31310000425012345"),  # 司法行政 (law firm)
    make_credit("N2310115MF0123456"),  # 农业 (rural collective): a letter first, which stdnum's validate() refuses
]
VALID_CREDIT_CODES = PUBLISHED_CREDIT_CODES + COMPUTED_CREDIT_CODES

PUBLISHED_IDS = ["11010519491231002X"]  # GB 11643-1999's example
COMPUTED_IDS = [
    make_id("310115", "19900307", "123"),  # 浦东新区's code dates from 1992: stdnum's validate() refuses this
    make_id("440305", "20000229", "456"),  # a leap day
    make_id("650102", "19751120", "789"),
    make_id("110101", "19000101", "001"),  # earliest accepted year
    make_id("310101", "20241001", "002"),  # born "today"
]
# Ensure at least one computed number ends in X so the lower-case x path is exercised with a fresh number.
ID_WITH_X = next(
    number for seq in range(1000) if (number := make_id("320102", "19860415", f"{seq:03d}")).endswith("X")
)
VALID_IDS = PUBLISHED_IDS + COMPUTED_IDS + [ID_WITH_X]


def test_checksum_fixtures_are_what_they_claim() -> None:
    assert all(credit_ok(code) for code in VALID_CREDIT_CODES)
    assert all(id_ok(number) for number in VALID_IDS)
    # The examples some briefs quote are not checksum-valid; they must stay out of the valid tables.
    assert not credit_ok("91310000MA1FL8L972")
    assert not credit_ok("91110000100000589B")


@pytest.mark.parametrize("code", VALID_CREDIT_CODES)
def test_library_check_char_agrees_with_the_standard(code: str) -> None:
    assert uscc.calc_check_digit(code[:17]) == code[17]


@pytest.mark.parametrize("number", VALID_IDS)
def test_library_id_check_char_agrees_with_the_standard(number: str) -> None:
    # stdnum computes it from a whole number, over its first 17 digits.
    assert ric.calc_check_digit(number[:17] + "0") == number[17]


# --------------------------------------------------------------------------------------------------- helpers


def example_of(message: str, marker: str) -> str:
    assert marker in message, message
    return message.rsplit(marker, 1)[1]


def assert_refused(check: Any, raw: str, **limits: Any) -> Checked[Any]:
    """The answer is refused with a zh and an en reason, each ending in an example the same check accepts."""
    result = check(raw, **limits)
    assert not result.ok, f"{raw!r} should be refused, got {result.value!r}"
    assert result.value is None
    assert isinstance(result.error, Localized)
    zh, en = result.error.zh, result.error.en
    assert zh and en
    assert zh.split("。例如：")[0], zh
    for example in (example_of(zh, "例如："), example_of(en, "Example: ")):
        assert example
        again = check(example, **limits)
        assert again.ok, f"example {example!r} in {zh!r} / {en!r} is itself refused: {again.message}"
    return result


def assert_accepted(check: Any, raw: str, expected: Any, **limits: Any) -> None:
    result = check(raw, **limits)
    assert result.ok, f"{raw!r} refused: {result.message}"
    assert result.error is None
    assert result.value == expected
    assert type(result.value) is type(expected)


# ------------------------------------------------------------------------------------------------ the result


def test_checked_is_frozen_and_speaks_the_asked_language() -> None:
    zh = check_year("21", lang="zh")
    en = check_year("21", lang="en")
    assert zh.message == zh.error.zh if zh.error else False
    assert en.message == en.error.en if en.error else False
    assert check_year("2021").message is None
    with pytest.raises(dataclasses.FrozenInstanceError):
        zh.ok = True  # type: ignore[misc]


def test_registry_names_every_field_type() -> None:
    assert set(VALIDATORS) == {
        "text", "long_text", "choice", "choices", "integer", "money", "percentage", "date", "year",
        "period", "mobile", "email", "url", "credit_code", "id_number", "passport", "person_name",
        "org_name",
    }  # fmt: skip
    assert VALIDATORS["credit_code"]("91350100M000100Y43").ok
    with pytest.raises(TypeError):
        VALIDATORS["text"]["x"] = check_text  # type: ignore[index]


def test_public_api_is_declared() -> None:
    assert all(hasattr(validation, name) for name in validation.__all__)


# ------------------------------------------------------------------------------------------------------ text


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("量子计算芯片", "量子计算芯片"),
        ("  量子  计算\t芯片 \n", "量子 计算 芯片"),
        ("AI\u3000质检平台", "AI 质检平台"),
        ("zero\u200bwidth", "zerowidth"),
        ("程序员 👩\u200d💻", "程序员 👩\u200d💻"),
    ],
)
def test_text_accepts_and_normalises(raw: str, expected: str) -> None:
    assert_accepted(check_text, raw, expected)


@pytest.mark.parametrize(
    ("raw", "limits"),
    [
        ("", {}),
        ("   \t\n ", {}),
        ("a\x00b", {}),
        ("right\u202eleft", {}),
        ("x" * 201, {}),
        ("短", {"min_len": 2}),
        ("一二三四五六七八九十一", {"max_len": 30, "min_len": 12}),
        ("一二三四五六", {"max_len": 5}),
    ],
)
def test_text_refuses(raw: str, limits: dict[str, Any]) -> None:
    assert_refused(check_text, raw, **limits)


def test_text_uses_the_callers_example() -> None:
    result = check_text("", example=Localized(zh="研发总监", en="R&D director"))
    assert result.error is not None
    assert result.error.zh.endswith("例如：研发总监")
    assert result.error.en.endswith("Example: R&D director")


@pytest.mark.parametrize(
    ("raw", "limits", "expected"),
    [
        ("第一段\r\n\r\n\r\n\r\n第二段  有  空格", {}, "第一段\n\n第二段 有 空格"),
        ("\u3000\u3000段首缩进的正文。\n", {}, "段首缩进的正文。"),
        ("无", {"languages": ("zh",)}, "无"),
        ("我们基于 GPU 与 AI 大模型开发的工业质检系统已落地。", {"languages": ("zh",)}, None),
        ("Our robots are used in 30 factories.", {"languages": ("zh", "en")}, None),
        ("我们的机器人已在 30 家工厂使用。", {"languages": ("zh", "en")}, None),
        ("Deployed in 30 factories.", {"languages": ("en",)}, None),
        ("一" * 50, {"min_len": 50, "max_len": 50}, None),
    ],
)
def test_long_text_accepts(raw: str, limits: dict[str, Any], expected: str | None) -> None:
    result = check_long_text(raw, **limits)
    assert result.ok, result.message
    assert result.value == (expected if expected is not None else raw.strip())


@pytest.mark.parametrize(
    ("raw", "limits"),
    [
        ("", {}),
        ("\n\n", {}),
        ("正文\x07响铃", {}),
        ("太短", {"min_len": 10}),
        ("字" * 2001, {}),
        ("Our robots are used in 30 factories and saved customers RMB 20 million.", {"languages": ("zh",)}),
        ("None", {"languages": ("zh",)}),
        ("我们的机器人已在 30 家工厂使用。", {"languages": ("en",)}),
        ("Наши роботы работают на заводах.", {"languages": ("zh", "en")}),
    ],
)
def test_long_text_refuses(raw: str, limits: dict[str, Any]) -> None:
    assert_refused(check_long_text, raw, **limits)


@pytest.mark.parametrize(
    ("text", "script", "chinese"),
    [
        ("我们研发了基于GPU的AI芯片", "han", True),
        ("公司研发的 large language model 已在 GitHub 开源，服务 200 家企业", "han", True),
        ("Our company builds industrial robots", "latin", False),
        ("We work with 复旦大学 on batteries and solar cells for electric vehicles", "latin", False),
        ("人工智能 and robotics", "mixed", False),
        ("Привет мир", "other", False),
        ("12345 ,.!", "none", False),
        ("", "none", False),
        ("无", "han", True),
    ],
)
def test_script_detection(text: str, script: str, chinese: bool) -> None:
    assert detect_script(text) == script
    assert is_chinese_text(text) is chinese


def test_chinese_share_threshold_is_adjustable() -> None:
    text = "人工智能 and robotics"
    assert not is_chinese_text(text)
    assert is_chinese_text(text, min_share=0.3)


# --------------------------------------------------------------------------------------------------- choices

MODES = [
    Choice.of("self", "自荐", "Self-nomination"),
    Choice.of("expert", "专家推荐", "Expert nomination", "推荐"),
]
STAGES = [
    Choice.of("mature", "成熟", "Mature"),
    Choice.of("building", "建设中、初具形态", "Under construction, taking shape"),
    Choice.of("planned", "规划/筹备", "Planned"),
]


@pytest.mark.parametrize(
    ("raw", "options", "expected"),
    [
        ("self", MODES, "self"),
        ("EXPERT", MODES, "expert"),
        ("自荐", MODES, "self"),
        ("  专家推荐。", MODES, "expert"),
        ("self-nomination", MODES, "self"),
        ("Expert Nomination", MODES, "expert"),
        ("推荐", MODES, "expert"),
        ("1", MODES, "self"),
        ("２", MODES, "expert"),
        ("第2项", MODES, "expert"),
        ("(1)", MODES, "self"),
        ("2.", MODES, "expert"),
        ("建设中、初具形态", STAGES, "building"),
        ("3", STAGES, "planned"),
    ],
)
def test_choice_accepts_id_label_or_number(raw: str, options: list[Choice], expected: str) -> None:
    assert_accepted(check_choice, raw, expected, options=options)


@pytest.mark.parametrize("raw", ["", "3", "0", "自我推荐", "both", "1,2"])
def test_choice_refuses(raw: str) -> None:
    result = assert_refused(check_choice, raw, options=MODES)
    assert result.error is not None
    assert "专家推荐" in result.error.zh and "Expert nomination" in result.error.en


def test_choice_accepts_campaign_options(campaign: Any) -> None:
    tracks = campaign.tracks
    assert check_choice(tracks[2].name.zh, options=tracks).value == tracks[2].id
    assert check_choice(tracks[2].name.en.upper(), options=tracks, lang="en").value == tracks[2].id
    assert check_choice(str(len(tracks)), options=tracks).value == tracks[-1].id
    assert_refused(check_choice, "区块链", options=tracks)


@pytest.mark.parametrize(
    ("raw", "limits", "expected"),
    [
        ("1,2", {}, ("self", "expert")),
        ("自荐、专家推荐", {}, ("self", "expert")),
        ("专家推荐，自荐", {}, ("expert", "self")),
        ("1 2", {}, ("self", "expert")),
        ("1；self", {}, ("self",)),
        ("Self-nomination, expert", {}, ("self", "expert")),
        ("2", {}, ("expert",)),
        ("建设中、初具形态、规划/筹备", {"options": STAGES}, ("building", "planned")),
        ("成熟、3", {"options": STAGES, "max_count": 2}, ("mature", "planned")),
    ],
)
def test_choices_accept_lists(raw: str, limits: dict[str, Any], expected: tuple[str, ...]) -> None:
    limits = {"options": MODES} | limits
    assert_accepted(check_choices, raw, expected, **limits)


@pytest.mark.parametrize(
    ("raw", "limits"),
    [
        ("", {}),
        ("，、", {}),
        ("1,5", {}),
        ("自荐、别的", {}),
        ("1", {"min_count": 2}),
        ("1,2,3", {"options": STAGES, "max_count": 2}),
    ],
)
def test_choices_refuse(raw: str, limits: dict[str, Any]) -> None:
    limits = {"options": MODES} | limits
    assert_refused(check_choices, raw, **limits)


def test_an_exclusive_choice_stands_alone() -> None:
    from intake.forms import FormChoice

    ratings = [FormChoice(id="high_tech", zh="高新技术企业", en="High-Tech Enterprise"),
               FormChoice(id="none", zh="无", en="None", exclusive=True)]
    assert check_choices("无", options=ratings).value == ("none",)
    refused = assert_refused(check_choices, "高新技术企业、无", options=ratings)
    assert refused.error is not None and "“无”不能与其他选项同时选择" in refused.error.zh
    assert '"None" cannot be picked together' in refused.error.en


def test_choice_needs_options() -> None:
    with pytest.raises(ValueError):
        check_choice("1", options=[])
    with pytest.raises(ValueError):
        check_choices("1", options=[])


# --------------------------------------------------------------------------------------------------- numbers


@pytest.mark.parametrize(
    ("raw", "limits", "expected"),
    [
        ("120", {}, 120),
        ("1,234", {}, 1234),
        ("1 234 567", {}, 1234567),
        ("１２３４", {}, 1234),
        ("１，２３４", {}, 1234),
        ("120人", {}, 120),
        ("约 35 项", {}, 35),
        ("二十", {}, 20),
        ("一百零五", {}, 105),
        ("0", {"min_value": 0}, 0),
        ("-5", {}, -5),
        ("50", {"min_value": 1, "max_value": 50}, 50),
    ],
)
def test_integer_accepts(raw: str, limits: dict[str, Any], expected: int) -> None:
    assert_accepted(check_integer, raw, expected, **limits)


@pytest.mark.parametrize(
    ("raw", "limits"),
    [
        ("", {}),
        ("abc", {}),
        ("12,34", {}),
        ("1,2345", {}),
        ("12.5", {}),
        ("一二三", {}),
        ("1e5", {}),
        ("-1", {"min_value": 0}),
        ("51", {"min_value": 1, "max_value": 50}),
        ("0", {"min_value": 1}),
        ("10001", {"max_value": 10000}),
        ("一千二", {}),  # spoken for 1200; read as 1002 before cn2an, refused now rather than guessed
    ],
)
def test_integer_refuses(raw: str, limits: dict[str, Any]) -> None:
    assert_refused(check_integer, raw, **limits)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("500万", 5_000_000),
        ("500 万元", 5_000_000),
        ("500万元整", 5_000_000),
        ("1.2亿", 120_000_000),
        ("1.2 亿元", 120_000_000),
        ("3,000,000元", 3_000_000),
        ("3000000", 3_000_000),
        ("３０００万", 30_000_000),
        ("RMB 5 million", 5_000_000),
        ("rmb 2.5m", 2_500_000),
        ("CNY 800k", 800_000),
        ("5 million yuan", 5_000_000),
        ("¥1.5万", 15_000),
        ("￥1,200", 1_200),
        ("人民币 200 万元", 2_000_000),
        ("五百万元", 5_000_000),
        ("一亿二千万", 120_000_000),
        ("两千万", 20_000_000),
        ("约 300 万元", 3_000_000),
        ("1.23456万", 12_346),
        ("0", 0),
        ("伍佰万元整", 5_000_000),  # the financial numerals of a 大写 amount, read since cn2an
        ("贰拾万圆", 200_000),
    ],
)
def test_money_normalises_to_yuan(raw: str, expected: int) -> None:
    assert_accepted(check_money, raw, expected)


@pytest.mark.parametrize(
    ("raw", "limits"),
    [
        ("", {}),
        ("很多", {}),
        ("-500万", {}),
        ("负100万元", {}),
        ("500-800万", {}),
        ("$5 million", {}),
        ("500万美元", {}),
        ("EUR 300k", {}),
        ("12,34万", {}),
        ("500万元", {"max_value": 1_000_000}),
        ("100", {"min_value": 10_000}),
        ("三万五", {}),  # spoken for 35 000; read as 30 005 before cn2an, refused now rather than guessed
    ],
)
def test_money_refuses(raw: str, limits: dict[str, Any]) -> None:
    assert_refused(check_money, raw, **limits)


@pytest.mark.parametrize(
    ("raw", "limits", "expected"),
    [
        ("12.5%", {}, Decimal("12.5")),
        ("12.5", {}, Decimal("12.5")),
        ("12.5 %", {}, Decimal("12.5")),
        ("１２．５％", {}, Decimal("12.5")),
        ("百分之十二", {}, Decimal("12")),
        ("百分之十二点五", {}, Decimal("12.5")),
        ("百分之百", {}, Decimal("100")),
        ("0", {}, Decimal("0")),
        ("100%", {}, Decimal("100")),
        ("35 percent", {}, Decimal("35")),
        ("150%", {"allow_over": True}, Decimal("150")),
        ("-3.5%", {"min_value": None}, Decimal("-3.5")),
    ],
)
def test_percentage_accepts(raw: str, limits: dict[str, Any], expected: Decimal) -> None:
    assert_accepted(check_percentage, raw, expected, **limits)


@pytest.mark.parametrize(
    ("raw", "limits"),
    [
        ("", {}),
        ("一些", {}),
        ("100.1%", {}),
        ("150%", {}),
        ("-3%", {}),
        ("12.5%%", {}),
        ("百分之", {}),
        ("5%", {"min_value": 10}),
    ],
)
def test_percentage_refuses(raw: str, limits: dict[str, Any]) -> None:
    assert_refused(check_percentage, raw, **limits)


# ----------------------------------------------------------------------------------------------------- dates


@pytest.mark.parametrize(
    ("raw", "limits", "expected"),
    [
        ("2024-03-01", {}, date(2024, 3, 1)),
        ("2024/3/1", {}, date(2024, 3, 1)),
        ("2024年3月1日", {}, date(2024, 3, 1)),
        ("2024 年 3 月 1 号", {}, date(2024, 3, 1)),
        ("2024.03.01", {}, date(2024, 3, 1)),
        ("20240301", {}, date(2024, 3, 1)),
        ("２０２４－０３－０１", {}, date(2024, 3, 1)),
        ("2024-02-29", {}, date(2024, 2, 29)),
        ("2000-02-29", {}, date(2000, 2, 29)),
        ("2024-10-01", {"not_future": True, "today": TODAY}, TODAY),
        ("2030-01-01", {}, date(2030, 1, 1)),
    ],
)
def test_date_accepts(raw: str, limits: dict[str, Any], expected: date) -> None:
    assert_accepted(check_date, raw, expected, **limits)


@pytest.mark.parametrize(
    ("raw", "limits"),
    [
        ("", {}),
        ("明天", {}),
        ("3/1/2024", {}),
        ("2024-3", {}),
        ("2023-02-29", {}),
        ("1900-02-29", {}),
        ("2024-04-31", {}),
        ("2024-13-01", {}),
        ("2024-00-10", {}),
        ("0000-01-01", {}),
        ("2024-10-02", {"not_future": True, "today": TODAY}),
        ("2024-03-01", {"not_future": True, "today": date(2024, 2, 1)}),
        ("1999-12-31", {"min_date": date(2000, 1, 1)}),
        ("2025-01-01", {"max_date": date(2024, 12, 31)}),
    ],
)
def test_date_refuses(raw: str, limits: dict[str, Any]) -> None:
    assert_refused(check_date, raw, **limits)


def test_impossible_date_says_why() -> None:
    result = check_date("2023-02-29")
    assert result.error is not None
    assert "28" in result.error.zh and "28" in result.error.en


@pytest.mark.parametrize(
    ("raw", "limits", "expected"),
    [
        ("2021", {}, 2021),
        ("2021年", {}, 2021),
        ("２０２１", {}, 2021),
        ("1900", {}, 1900),
        ("2024", {"min_year": 2019, "max_year": 2024}, 2024),
    ],
)
def test_year_accepts(raw: str, limits: dict[str, Any], expected: int) -> None:
    assert_accepted(check_year, raw, expected, **limits)


@pytest.mark.parametrize(
    ("raw", "limits"),
    [("", {}), ("21", {}), ("20210", {}), ("1899", {}), ("二〇二一", {}), ("2025", {"max_year": 2024})],
)
def test_year_refuses(raw: str, limits: dict[str, Any]) -> None:
    assert_refused(check_year, raw, **limits)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2021.03-2024.06", Period(YearMonth(2021, 3), YearMonth(2024, 6))),
        ("2021.3 - 2024.6", Period(YearMonth(2021, 3), YearMonth(2024, 6))),
        ("2021-03-2024-06", Period(YearMonth(2021, 3), YearMonth(2024, 6))),
        ("2021/03~2024/06", Period(YearMonth(2021, 3), YearMonth(2024, 6))),
        ("2021年3月-2024年6月", Period(YearMonth(2021, 3), YearMonth(2024, 6))),
        ("2021年3月至2024年6月", Period(YearMonth(2021, 3), YearMonth(2024, 6))),
        ("2021年3月——2024年6月", Period(YearMonth(2021, 3), YearMonth(2024, 6))),
        ("2021.03 to 2024.06", Period(YearMonth(2021, 3), YearMonth(2024, 6))),
        ("2024.06-2024.06", Period(YearMonth(2024, 6), YearMonth(2024, 6))),
        ("2021年3月至今", Period(YearMonth(2021, 3), None)),
        ("2021.03-至今", Period(YearMonth(2021, 3), None)),
        ("2021.03 - present", Period(YearMonth(2021, 3), None)),
        ("２０２１年３月至今", Period(YearMonth(2021, 3), None)),
    ],
)
def test_period_accepts(raw: str, expected: Period) -> None:
    assert_accepted(check_period, raw, expected)


@pytest.mark.parametrize(
    ("raw", "limits"),
    [
        ("", {}),
        ("三年", {}),
        ("2021-2024", {}),
        ("2021.03", {}),
        ("2024.06-2021.03", {}),
        ("2021.13-2022.01", {}),
        ("2021.00-2022.01", {}),
        ("1850.01-1860.01", {}),
        ("2021.03-2024.06", {"max_year": 2023}),
    ],
)
def test_period_refuses(raw: str, limits: dict[str, Any]) -> None:
    assert_refused(check_period, raw, **limits)


def test_period_reads_back() -> None:
    assert str(Period(YearMonth(2021, 3), YearMonth(2024, 6))) == "2021-03 – 2024-06"
    assert str(Period(YearMonth(2021, 3), None)) == "2021-03 – 至今"


# -------------------------------------------------------------------------------------------------- contacts


@pytest.mark.parametrize(
    ("raw", "limits", "expected"),
    [
        ("13812345678", {}, "+8613812345678"),
        ("138 1234 5678", {}, "+8613812345678"),
        ("138-1234-5678", {}, "+8613812345678"),
        ("+86 138 1234 5678", {}, "+8613812345678"),
        ("+86-19912345678", {}, "+8619912345678"),
        ("8613812345678", {}, "+8613812345678"),
        ("008613812345678", {}, "+8613812345678"),
        ("(+86) 138 1234 5678", {}, "+8613812345678"),
        ("１３８１２３４５６７８", {}, "+8613812345678"),
        ("+4915123456789", {}, "+4915123456789"),
        ("+1 (415) 555-2671", {}, "+14155552671"),
        ("0044 7700 900123", {}, "+447700900123"),
        ("+852 9123 4567", {}, "+85291234567"),
        ("13812345678", {"allow_international": False}, "+8613812345678"),
    ],
)
def test_mobile_normalises_to_e164(raw: str, limits: dict[str, Any], expected: str) -> None:
    assert_accepted(check_mobile, raw, expected, **limits)


@pytest.mark.parametrize(
    ("raw", "limits"),
    [
        ("", {}),
        ("abc", {}),
        ("138l2345678", {}),
        ("12345678901", {}),
        ("1381234567", {}),
        ("138123456789", {}),
        ("+8602112345678", {}),
        ("+862112345678", {}),
        ("02112345678", {}),
        ("015123456789", {}),
        ("+49 1", {}),
        ("+0123456789", {}),
        ("+1234567890123456", {}),
        ("+4915123456789", {"allow_international": False}),
        # Refused since the numbering plans come from phonenumbers:
        ("15412345678", {}),  # no mainland 154 block
        ("+49 30 12345678", {}),  # a Berlin landline
        ("+44 800 123 4567", {}),  # a UK freephone number
    ],
)
def test_mobile_refuses(raw: str, limits: dict[str, Any]) -> None:
    assert_refused(check_mobile, raw, **limits)


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        ("+8613812345678", "+86 138 1234 5678"),
        ("+4915123456789", "+49 1512 3456789"),
        ("+85291234567", "+852 9123 4567"),
        ("not a number", "not a number"),
        ("+86138****5678", "+86138****5678"),  # masked: shown as it is, not misread
    ],
)
def test_mobile_is_shown_grouped(stored: str, shown: str) -> None:
    assert format_mobile(stored) == shown


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("name@example.com", "name@example.com"),
        ("  Zhang.Wei@Example.COM ", "Zhang.Wei@example.com"),
        ("first.last+kcxf@mail.thepaper.cn", "first.last+kcxf@mail.thepaper.cn"),
        ("kcxf@thepaper.cn", "kcxf@thepaper.cn"),
        ("mailto:kcxf@thepaper.cn", "kcxf@thepaper.cn"),
        ("name＠qq。com", "name@qq.com"),
        ("x@例子.中国", "x@例子.中国"),
        ("x@sub-domain.example.co.uk", "x@sub-domain.example.co.uk"),
    ],
)
def test_email_accepts(raw: str, expected: str) -> None:
    assert_accepted(check_email, raw, expected)


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "name",
        "name@",
        "@example.com",
        "name@163",
        "a@b@c.com",
        "a b@c.com",
        ".a@b.com",
        "a..b@c.com",
        "a@-example.com",
        "a@example..com",
        "a@example.c",
        "a@example.123",
        "张伟@example.com",
        "name@qq,com",
    ],
)
def test_email_refuses(raw: str) -> None:
    assert_refused(check_email, raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("https://www.thepaper.cn", "https://www.thepaper.cn/"),
        ("HTTPS://Example.COM/Path?q=1#Frag", "https://example.com/Path?q=1#Frag"),
        ("http://example.com:80/a", "http://example.com/a"),
        ("https://example.com:443/a", "https://example.com/a"),
        ("https://example.com:8443/a", "https://example.com:8443/a"),
        ("pan.baidu.com/s/1AbCdEf", "https://pan.baidu.com/s/1AbCdEf"),
        ("www.example.com", "https://www.example.com/"),
        ("<https://example.com/x>", "https://example.com/x"),
        ("https://例子.中国/资料", "https://例子.中国/资料"),
        ("https://8.8.8.8/files", "https://8.8.8.8/files"),
    ],
)
def test_url_accepts(raw: str, expected: str) -> None:
    assert_accepted(check_url, raw, expected)


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "资料见附件",
        "ftp://example.com/file",
        "javascript:alert(1)",
        "mailto:kcxf@thepaper.cn",
        "https://",
        "http://localhost:8000/",
        "http://192.168.1.10/share",
        "http://user:secret@example.com/",
        "https://example.com:99999/",
        "https://pan.baidu.com/s/1abc 提取码: x1y2",
        "https://exa_mple.com/",
    ],
)
def test_url_refuses(raw: str) -> None:
    assert_refused(check_url, raw)


# -------------------------------------------------------------------------------------------- identity codes


@pytest.mark.parametrize("code", VALID_CREDIT_CODES)
def test_credit_code_accepts_valid_codes(code: str) -> None:
    assert_accepted(check_credit_code, code, code)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("91350100m000100y43", "91350100M000100Y43"),
        (" 9135 0100 M000 100Y 43 ", "91350100M000100Y43"),
        ("91350100-M000100Y4-3", "91350100M000100Y43"),
        ("９１３５０１００Ｍ０００１００Ｙ４３", "91350100M000100Y43"),
    ],
)
def test_credit_code_normalises(raw: str, expected: str) -> None:
    assert_accepted(check_credit_code, raw, expected)


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "91310000MA1FL8L972",  # quoted as an example in places, but its check character should be 1
        *(change_one(code) for code in VALID_CREDIT_CODES),
        *(change_one(code, 12) for code in COMPUTED_CREDIT_CODES),
        *(code[:17] + ("0" if code[17] != "0" else "1") for code in PUBLISHED_CREDIT_CODES),
        "91350100M000100Y4",  # 17
        "91350100M000100Y433",  # 19
        "913501",
        *(f"9135010{letter}M000100Y43" for letter in "IOSVZ"),
        "91350100M00O100Y43",
        "91350100M000100Y4Z",
        "91350100M000100Y4!",
        "91350100中00100Y43",
        make_credit("91A50100M000100Y4"),  # checksum-valid, but the region code has a letter
    ],
)
def test_credit_code_refuses(raw: str) -> None:
    assert_refused(check_credit_code, raw)


def test_credit_code_names_the_forbidden_letter() -> None:
    result = check_credit_code("9135010OM000100Y43")
    assert result.error is not None
    assert "O" in result.error.zh and "O" in result.error.en
    assert "91350100M000100Y43" in result.error.zh


@pytest.mark.parametrize("number", VALID_IDS)
def test_id_number_accepts_valid_numbers(number: str) -> None:
    assert_accepted(check_id_number, number, number, today=TODAY)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("11010519491231002x", "11010519491231002X"),
        (ID_WITH_X.lower(), ID_WITH_X),
        ("110105 19491231 002X", "11010519491231002X"),
        ("１１０１０５１９４９１２３１００２Ｘ", "11010519491231002X"),
    ],
)
def test_id_number_normalises(raw: str, expected: str) -> None:
    assert_accepted(check_id_number, raw, expected, today=TODAY)


@pytest.mark.parametrize(
    "raw",
    [
        "",
        *(change_one(number) for number in VALID_IDS),
        *(change_one(number, 15) for number in COMPUTED_IDS),
        "110105194912310021",  # check digit changed from X
        "440524188001010014",  # the standard's other example: checksum right, but born 1880
        make_id("110105", "19990231", "123"),  # 31 February, checksum right
        make_id("110105", "20230229", "123"),  # not a leap year
        make_id("110105", "19991301", "123"),  # month 13
        make_id("110105", "19990100", "123"),  # day 0
        make_id("110105", "20241002", "123"),  # born tomorrow
        make_id("110105", "20990101", "123"),  # far future
        make_id("110105", "18991231", "123"),  # before 1900
        "11010519491231002",  # 17
        "11010519491231002X1",  # 19
        "110105491231002",  # old 15-digit card
        "11010519491231X02X",  # X in the middle
        "1101051949123100ZX",
        "11010519491231002Y",
    ],
)
def test_id_number_refuses(raw: str) -> None:
    assert_refused(check_id_number, raw, today=TODAY)


def test_id_number_future_birth_follows_today() -> None:
    born_2024_10_02 = make_id("110105", "20241002", "123")
    assert not check_id_number(born_2024_10_02, today=TODAY).ok
    assert check_id_number(born_2024_10_02, today=date(2024, 10, 2)).ok


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("E12345678", "E12345678"),
        ("e1234 5678", "E12345678"),
        ("C01X00T47", "C01X00T47"),
        ("ｇ１２３４５６７８", "G12345678"),
        ("123456789", "123456789"),
        ("AB12345", "AB12345"),
        ("E1234", "E1234"),
        ("A" * 10 + "1" * 10, "A" * 10 + "1" * 10),
    ],
)
def test_passport_accepts(raw: str, expected: str) -> None:
    assert_accepted(check_passport, raw, expected)


@pytest.mark.parametrize(
    "raw",
    ["", "E12", "E123", "E123456789012345678901", "E1234567!", "护照E1234567", "AAAAAAA", "0000000"],
)
def test_passport_refuses(raw: str) -> None:
    assert_refused(check_passport, raw)


# ----------------------------------------------------------------------------------------------------- names


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("张伟", "张伟"),
        ("王小明", "王小明"),
        ("王 小明", "王小明"),
        (" 欧阳娜娜 ", "欧阳娜娜"),
        ("王芳芳", "王芳芳"),
        ("张博", "张博"),
        ("阿卜杜勒·艾尼", "阿卜杜勒·艾尼"),
        ("阿卜杜勒•艾尼", "阿卜杜勒·艾尼"),
        ("阿卜杜勒・艾尼", "阿卜杜勒·艾尼"),
        ("阿卜杜勒 · 艾尼", "阿卜杜勒·艾尼"),
        ("爱新觉罗·溥仪", "爱新觉罗·溥仪"),
        ("Jane Smith", "Jane Smith"),
        ("Zhang Wei", "Zhang Wei"),
        ("ZHANG Xiaoming", "ZHANG Xiaoming"),
        ("Mary-Jane O'Neil", "Mary-Jane O'Neil"),
        ("Seán O’Brien", "Seán O'Brien"),
        ("John F. Kennedy", "John F. Kennedy"),
        ("Ludwig van  Beethoven", "Ludwig van Beethoven"),
        ("Ｊａｎｅ Ｓｍｉｔｈ", "Jane Smith"),
    ],
)
def test_person_name_accepts(raw: str, expected: str) -> None:
    assert_accepted(check_person_name, raw, expected)


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "王",
        "J",
        "小王",
        "老李",
        "阿强",
        "王总",
        "欧阳总",
        "李工",
        "张老师",
        "刘经理",
        "张伟先生",
        "陈女士",
        "李教授",
        "匿名",
        "无名氏",
        "测试",
        "测试用户",
        "王某",
        "张某某",
        "张三",
        "李四",
        "哈哈",
        "呵呵呵",
        "丽丽",
        "张三1",
        "user123",
        "😀李明",
        "李明😀",
        "@zhangwei",
        "@jane_smith",
        "王 Wang",
        "·王明",
        "阿卜杜勒··艾尼",
        "王" * 21,
        "Mr. X",
        "Mr Smith",
        "Dr. Jane Smith",
        "test",
        "admin",
        "Test User",
        "John Doe",
        "Zhang San",
        "Madonna",
        "J. K.",
        "Ha Ha",
        "Xxx Smith",
        "Jane_Smith",
        "Jane Smith!",
        "Иван Петров",
        "やまだ たろう",
        "...",
    ],
)
def test_person_name_refuses(raw: str) -> None:
    assert_refused(check_person_name, raw)


@pytest.mark.parametrize(
    ("raw", "reason_zh", "reason_en"),
    [
        ("小王", "昵称", "nickname"),
        ("王总", "称呼", "form of address"),
        ("张老师", "老师", "老师"),
        ("Mr. X", "称谓", "title"),
        ("@zhangwei", "用户名", "username"),
        ("李明2", "数字", "digits"),
        ("😀李明", "表情", "emoji"),
        ("王", "一个字", "single character"),
        ("匿名", "不是真实姓名", "not a real name"),
        ("哈哈", "叠字", "does not look like a real name"),
    ],
)
def test_person_name_says_why(raw: str, reason_zh: str, reason_en: str) -> None:
    result = check_person_name(raw)
    assert result.error is not None
    assert reason_zh in result.error.zh
    assert reason_en in result.error.en


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("上海科创先锋科技有限公司", "上海科创先锋科技有限公司"),
        ("深圳市腾讯计算机系统有限公司", "深圳市腾讯计算机系统有限公司"),
        ("小米科技有限责任公司", "小米科技有限责任公司"),
        ("比亚迪股份有限公司", "比亚迪股份有限公司"),
        ("阿里巴巴(中国)有限公司", "阿里巴巴（中国）有限公司"),
        ("ABB（中国）有限公司", "ABB（中国）有限公司"),
        ("中国石油化工集团公司", "中国石油化工集团公司"),
        ("复星集团", "复星集团"),
        ("中国信息通信研究院", "中国信息通信研究院"),
        ("中国科学院上海微系统与信息技术研究所", "中国科学院上海微系统与信息技术研究所"),
        ("上海交通大学", "上海交通大学"),
        ("上海 张江 高科技园区 管理委员会", "上海张江高科技园区管理委员会"),
        ("漕河泾开发区管委会", "漕河泾开发区管委会"),
        ("上海市徐汇区徐家汇街道办事处", "上海市徐汇区徐家汇街道办事处"),
        ("苏州工业园区", "苏州工业园区"),
        ("上海国家技术转移东部中心", "上海国家技术转移东部中心"),
        ("深圳创新投资合伙企业（有限合伙）", "深圳创新投资合伙企业（有限合伙）"),
        ("Siemens AG", "Siemens AG"),
        ("Pioneer Technologies Co., Ltd.", "Pioneer Technologies Co., Ltd."),
        ("DBS Bank Pte. Ltd.", "DBS Bank Pte. Ltd."),
        ("Nestlé S.A.", "Nestlé S.A."),
        ("Google LLC", "Google LLC"),
        ("Apple Inc.", "Apple Inc."),
        ("Robert Bosch GmbH", "Robert Bosch GmbH"),
        ("ASML Holding N.V.", "ASML Holding N.V."),
        ("Philips B.V.", "Philips B.V."),
        ("Microsoft Corp.", "Microsoft Corp."),
        ("3M Company", "3M Company"),
        ("Massachusetts Institute of Technology", "Massachusetts Institute of Technology"),
        ("University of Oxford", "University of Oxford"),
        ("Fraunhofer-Gesellschaft", "Fraunhofer-Gesellschaft"),
        ("Technische  Universität München", "Technische Universität München"),
    ],
)
def test_org_name_accepts(raw: str, expected: str) -> None:
    assert_accepted(check_org_name, raw, expected)


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "腾讯",
        "华为",
        "阿里巴巴",
        "腾讯公司",
        "华为公司",
        "公司",
        "有限公司",
        "某某有限公司",
        "12345",
        "12345678",
        "😀科技有限公司",
        "@tencent",
        "https://www.tencent.com",
        "www.tencent.com",
        "Google",
        "Tencent",
        "Apple",
        "Ltd",
        "Inc.",
        "123 Ltd",
        "Microsoft Windows",
        "Яндекс ООО",
    ],
)
def test_org_name_refuses(raw: str) -> None:
    assert_refused(check_org_name, raw)


# ------------------------------------------------------------------------------------------- every field type

# One refused answer per field type, with the limits it needs; the example in each message must pass again.
REFUSED_PER_TYPE: list[tuple[str, str, dict[str, Any]]] = [
    ("text", "", {}),
    ("long_text", "English only", {"languages": ("zh",)}),
    ("choice", "9", {"options": MODES}),
    ("choices", "1,9", {"options": MODES}),
    ("integer", "很多", {}),
    ("money", "-1", {}),
    ("percentage", "101", {}),
    ("date", "2023-02-29", {}),
    ("year", "99", {}),
    ("period", "2024.06-2021.03", {}),
    ("mobile", "12345", {}),
    ("email", "name@163", {}),
    ("url", "ftp://x.com", {}),
    ("credit_code", "91310000MA1FL8L972", {}),
    ("id_number", "110105199902310025", {"today": TODAY}),
    ("passport", "E1", {}),
    ("person_name", "小王", {}),
    ("org_name", "腾讯", {}),
]


def test_every_type_has_a_refusal_case() -> None:
    assert {kind for kind, _, _ in REFUSED_PER_TYPE} == set(VALIDATORS)


@pytest.mark.parametrize(("kind", "raw", "limits"), REFUSED_PER_TYPE)
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_refusal_is_bilingual_with_an_example(
    kind: str, raw: str, limits: dict[str, Any], lang: str
) -> None:
    result = assert_refused(VALIDATORS[kind], raw, lang=lang, **limits)
    assert result.error is not None
    assert "例如：" in result.error.zh and "Example: " in result.error.en
    assert result.message == (result.error.en if lang == "en" else result.error.zh)
    # Each language speaks its own: the Chinese reason has Chinese in it, the English one is English prose.
    assert is_chinese_text(result.error.zh.split("。例如：")[0], min_share=0.3)
    assert detect_script(result.error.en.split(". Example: ")[0]) in {"latin", "mixed"}
