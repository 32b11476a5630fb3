"""Contact details: mobile numbers (numbering plans by phonenumbers), e-mail addresses (syntax by email-validator,
no DNS look-up) and web links."""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit, urlunsplit

import phonenumbers
from email_validator import EmailNotValidError, ValidatedEmail, validate_email
from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberType

from intake.validation.checked import Checked, accept, fold, refuse

__all__ = ["check_email", "check_mobile", "check_url", "format_mobile"]

_MOBILE_EXAMPLE = ("13812345678", "+86 138 1234 5678")
# Numbers that reach no one's handset. Many countries (the US among them) do not tell mobiles from landlines by
# the number: those are FIXED_LINE_OR_MOBILE and taken.
_NOT_MOBILE = frozenset(
    {
        PhoneNumberType.FIXED_LINE,
        PhoneNumberType.TOLL_FREE,
        PhoneNumberType.PREMIUM_RATE,
        PhoneNumberType.SHARED_COST,
        PhoneNumberType.UAN,
        PhoneNumberType.VOICEMAIL,
    }
)


def check_mobile(raw: str, *, lang: str = "zh", allow_international: bool = True) -> Checked[str]:
    """A mobile number, mainland (with or without +86) or international (+ country code), as E.164."""
    text = re.sub(r"[\s\-().·]", "", fold(raw))
    if not text:
        return refuse(lang, "请填写手机号码", "Please give a mobile number", *_MOBILE_EXAMPLE)
    if text.startswith("00"):
        text = "+" + text[2:]
    plus = text.startswith("+")
    digits = text[1:] if plus else text
    # Digits only: phonenumbers would read letters as on a keypad (138l2345678 as 13852345678).
    if not digits.isdigit() or not digits.isascii():
        return refuse(
            lang,
            "手机号只能包含数字，可以带开头的 + 号",
            "A phone number may only contain digits and a leading +",
            *_MOBILE_EXAMPLE,
        )
    # Mainland numbers arrive as +86…, 86… (13 digits) or bare; anything else with a + is international.
    if digits.startswith("86") and (plus or len(digits) == 13):
        return _mainland_mobile(digits[2:], lang=lang, country_code_given=True)
    if not plus:
        return _mainland_mobile(digits, lang=lang, country_code_given=False)
    if not allow_international:
        return refuse(
            lang, "请填写中国大陆手机号", "Please give a mainland China mobile number", *_MOBILE_EXAMPLE
        )
    return _international_mobile(digits, lang=lang)


def _parse(number: str) -> phonenumbers.PhoneNumber | None:
    try:
        return phonenumbers.parse(number)
    except NumberParseException:
        return None


def _mainland_mobile(national: str, *, lang: str, country_code_given: bool) -> Checked[str]:
    # A bare number that does not start with 1 is not read as a landline with its trunk 0 (phonenumbers would):
    # it is more likely a foreign number without its country code.
    number = _parse(f"+86{national}") if national.startswith("1") else None
    if number is not None and phonenumbers.number_type(number) == PhoneNumberType.MOBILE:
        return accept(phonenumbers.format_number(number, PhoneNumberFormat.E164), lang)
    if len(national) == 11 and national.startswith("1") and national[1] in "012":
        reason_zh, reason_en = "中国大陆手机号的第二位应为 3–9", "A mainland mobile number starts 13–19"
    elif national.startswith("1") and len(national) != 11:
        reason_zh = f"中国大陆手机号应为 11 位，您填写了 {len(national)} 位"
        reason_en = f"A mainland mobile number has 11 digits, this has {len(national)}"
    elif national.startswith("1"):
        reason_zh = f"中国大陆没有 {national[:3]} 开头的手机号段，请逐位核对"
        reason_en = (
            f"No mainland mobile numbers start with {national[:3]}; please check the number digit by digit"
        )
    elif country_code_given:
        reason_zh, reason_en = "这不是手机号，请填写手机而不是座机", "This is not a mobile number (landline?)"
    else:
        reason_zh = "这不是中国大陆手机号；境外号码请加 + 和国家代码"
        reason_en = "This is not a mainland China mobile; add + and the country code for other numbers"
    return refuse(lang, reason_zh, reason_en, *_MOBILE_EXAMPLE)


def _international_mobile(digits: str, *, lang: str) -> Checked[str]:
    number = _parse(f"+{digits}")
    if number is None or not phonenumbers.is_possible_number(number):
        return refuse(
            lang,
            "国际号码应为 + 国家代码 + 号码，共 7–15 位数字",
            "An international number is + country code + number, 7–15 digits in all",
            *_MOBILE_EXAMPLE,
        )
    # A number of the right length for its country is taken unless it is known to ring no handset: the ranges
    # set aside for fiction and tests (+44 7700 900xxx) are not "valid" numbers, yet they are what tests and
    # examples rightly use.
    if phonenumbers.number_type(number) in _NOT_MOBILE:
        return refuse(
            lang,
            "这不是手机号，请填写手机而不是座机",
            "This is not a mobile number (landline?)",
            *_MOBILE_EXAMPLE,
        )
    return accept(phonenumbers.format_number(number, PhoneNumberFormat.E164), lang)


def format_mobile(value: str) -> str:
    """A stored E.164 number as people read it (+86 138 1234 5678); anything else, e.g. a masked one, as it is."""
    compact = value.replace(" ", "")
    # phonenumbers reads past what is not a digit: "+86138****5678" would come out as a shorter, wrong number.
    number = _parse(compact) if re.fullmatch(r"\+\d+", compact) else None
    return value if number is None else phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)


def _email(address: str) -> ValidatedEmail | None:
    try:
        # Syntax only, never DNS. Mailbox names stay ASCII (a mailbox such as 张伟@… needs SMTPUTF8 on every
        # server on the way); domains may be internationalised. strict: at most 64 characters before the @.
        return validate_email(address, check_deliverability=False, allow_smtputf8=False, strict=True)
    except EmailNotValidError:
        return None


def check_email(raw: str, *, lang: str = "zh") -> Checked[str]:
    """An e-mail address by its syntax (no DNS look-up); the domain lower-cased, the part before the @ kept."""
    example = "name@example.com"
    # A Chinese keyboard easily gives 。 for . and ＠ for @ (NFKC folds the latter).
    text = re.sub(r"^mailto:", "", fold(raw), flags=re.IGNORECASE).replace("。", ".")
    if not text:
        return refuse(lang, "请填写电子邮箱", "Please give an email address", example)
    if any(ch.isspace() for ch in text):
        return refuse(lang, "邮箱地址中不能有空格", "An email address cannot contain spaces", example)
    if text.count("@") != 1:
        return refuse(lang, "邮箱地址应有且只有一个 @", "An email address has exactly one @", example)
    local, domain = text.split("@")
    # email-validator's reasons are in English only; checking the mailbox name beside a known-good domain tells
    # which half of the address to point at.
    if not local or _email(f"{local}@example.com") is None:
        return refuse(
            lang,
            "@ 前面的用户名部分不正确",
            "The part before the @ is not a valid mailbox name",
            example,
        )
    address = _email(text)
    # No top-level domain has a single letter (the root zone reserves them); email-validator leaves that to DNS.
    if address is None or len(address.ascii_domain.rsplit(".", 1)[-1]) < 2:
        return refuse(
            lang,
            f"@ 后面的域名“{domain[:40]}”不完整或不正确",
            f'The domain "{domain[:40]}" after the @ is incomplete or invalid',
            example,
        )
    return accept(address.normalized, lang)


_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
_TLD = re.compile(r"^(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$")


def _domain(host: str) -> str | None:
    """The host lower-cased if it is a plausible public domain name (IDN allowed); None otherwise."""
    host = host.lower().rstrip(".")
    try:
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError:
        return None
    labels = ascii_host.split(".")
    if len(ascii_host) > 253 or len(labels) < 2:
        return None
    if not all(_LABEL.match(label) for label in labels) or not _TLD.match(labels[-1]):
        return None
    return host


_DEFAULT_PORTS = {"http": 80, "https": 443}


def check_url(raw: str, *, lang: str = "zh") -> Checked[str]:
    """An http(s) link to a public host; scheme and host lower-cased, default port dropped, empty path '/'."""
    example = "https://www.example.com/materials.pdf"
    text = fold(raw).strip("<>\"'“”")
    if not text:
        return refuse(lang, "请填写链接", "Please give a link", example)
    if any(ch.isspace() for ch in text):
        return refuse(
            lang,
            "链接中不能有空格；如有提取码，请另外写明",
            "A link cannot contain spaces; give any access code separately",
            example,
        )
    # A bare "pan.baidu.com/s/abc" is what people copy from an address bar that hides the scheme.
    if "://" not in text and re.match(r"^[\w-]+(?:\.[\w-]+)+(?:[/:?#]|$)", text):
        text = "https://" + text
    try:
        parts = urlsplit(text)
    except ValueError:  # e.g. an unclosed "[" that urlsplit takes for a broken IPv6 address
        return refuse(lang, "这不是一个有效的网页链接", "This is not a valid web link", example)
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        return refuse(
            lang, "只接受以 http:// 或 https:// 开头的网页链接", "Only http:// or https:// links", example
        )
    if parts.username is not None or parts.password is not None:
        return refuse(
            lang,
            "链接中不能包含用户名或密码",
            "A link cannot contain a user name or password",
            example,
        )
    try:
        port = parts.port
    except ValueError:
        return refuse(lang, "链接中的端口号不正确", "The port in this link is invalid", example)
    hostname = parts.hostname or ""
    host = _domain(hostname)
    if host is None:
        try:
            address = ipaddress.ip_address(hostname)
        except ValueError:
            address = None
        if address is None or not address.is_global:
            return refuse(
                lang,
                "链接中的网站地址不正确",
                "The site address in this link is not a valid public host",
                example,
            )
        host = f"[{address}]" if address.version == 6 else str(address)
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    return accept(urlunsplit((scheme, netloc, parts.path or "/", parts.query, parts.fragment)), lang)
