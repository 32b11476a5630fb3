"""The yes or the no a yes/no question starts its answer with, read off the passage that answers it.

A wrong "yes" is worse than none, so the verdict is given only when the clauses of the answer that speak of what
was asked agree: all negated (no) or none negated (yes). Anything else leaves the answer as it was.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from knowledge.tokens import Term

_NEGATION = {
    "zh": re.compile(r"不|无|未|没有|没|非|禁止|勿|否"),
    "en": re.compile(r"\b(not|no|never|cannot|none|without|neither|nor)\b|n't\b", re.IGNORECASE),
}
# Words asked whose synonyms are their opposites (knowledge/synonyms.yaml: "匿名" → "实名", "free" → "fee"): an
# answer that speaks of the opposite settles the question the other way ("可以匿名报名吗" → "应实名报名": no).
_OPPOSITES = {
    "zh": re.compile(r"免费|匿名|化名|不用真名|不实名|不用实名"),
    "en": re.compile(r"\b(free|anonymous(ly)?|anon|pseudonyms?|nicknames?)\b", re.IGNORECASE),
}
# "is the scoring quantitative or just vibes?" asks which of two, which a yes or a no does not answer; "or not" asks
# whether.
_EITHER_OR = {"zh": re.compile(r"还是(?!不)"),
              "en": re.compile(r"\bor\b(?!\s+(not|no)\b)", re.IGNORECASE)}
# A-not-A questions ("能不能", "收不收", "来得及不") ask; they do not negate.
_ZH_A_NOT_A = re.compile(r"(.)[不没]\1|[不没](?:有)?[？?。!！]*$")
_CLAUSE = {"zh": re.compile(r"[，。；！？、：,;]"), "en": re.compile(r"[.;!?]\s|,\s|\n")}
# The word a Chinese answer echoes ("能报吗" → "可以" / "不可以"), by the question's modal verb.
_ZH_ECHO = (
    (re.compile(r"收不收|收费|收钱|要钱|交钱|交费|缴费|付费|报名费|费用|花钱"), ("收费", "不收费")),
    (re.compile(r"退不退|退回|退还|退稿|还给"), ("会退还", "不退还")),
    (re.compile(r"需要|需不需要|要不要|得|用不用|必须|要.{0,6}[吗么]"), ("需要", "不需要")),
    (re.compile(r"能|可以|可不可以|可否|行不行|行吗"), ("可以", "不可以")),
    (re.compile(r"会不会|会"), ("会", "不会")),
    (re.compile(r"有没有|有"), ("有", "没有")),
)


class Tokens(Protocol):
    """The retriever's tokenizer: topic words of a text (stop words left out), each with its synonyms."""

    def tokens(self, text: str) -> list[str]: ...

    def terms(self, question: str, *, lang: str) -> list[Term]: ...


def verdict(question: str, answer: str, *, lang: str, tokenizer: Tokens) -> bool | None:
    """True for yes, False for no, None when the answer's clauses do not settle it.

    Every word of the question must be found in the answer (itself or a synonym): "有没有咨询热线" answered
    "只接受邮件咨询" shares 咨询 but says nothing of a 热线, and a "有" there would be wrong.
    """
    terms = tokenizer.terms(question, lang=lang)
    if not terms or _EITHER_OR[lang].search(question):
        return None
    clauses = [(c, set(tokenizer.tokens(c))) for c in _CLAUSE[lang].split(answer)]
    said = set().union(*(words for _, words in clauses))
    if not all(term.alternatives & said for term in terms):
        return None
    negation = _NEGATION[lang]
    asked = {alt for term in terms for alt in term.alternatives}
    relevant = [c for c, words in clauses if asked & words]
    if not relevant:
        return None
    negated = [bool(negation.search(c)) for c in relevant]
    if any(negated) and not all(negated):
        return None
    plain = _ZH_A_NOT_A.sub("", question) if lang == "zh" else question
    # Read the other way round only where the answer speaks of the opposite alone ("entering is free" says "free").
    opposite = _OPPOSITES[lang].search(plain)
    if opposite is not None and opposite.group(0).lower() in answer.lower():
        opposite = None
    if opposite is not None:
        plain = plain.replace(opposite.group(0), "")  # "不用真名": its 不 is the opposite word's, not a negation
    # "不收费吗？" / "isn't it free?": a bare yes or no to a negated question is read both ways; say neither.
    if negation.search(plain):
        return None
    return negated[0] if opposite is not None else not negated[0]


def lead(question: str, yes: bool, *, lang: str) -> str:
    """"Yes." / "No.", or in Chinese the question's own verb ("可以。", "不需要。")."""
    if lang != "zh":
        return "Yes." if yes else "No."
    for pattern, (positive, negative) in _ZH_ECHO:
        if pattern.search(question):
            return f"{positive if yes else negative}。"
    return "是的。" if yes else "不是。"
