"""Answer a question: curated FAQ first, else an extractive answer from the best passages, else decline."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from typing import TYPE_CHECKING, Literal, Protocol

from pydantic import BaseModel

from knowledge.question import (
    Ask,
    Kind,
    asking_clause,
    is_traditional,
    kind_of,
    question_after,
    split_asks,
    to_simplified,
    to_traditional,
    unframed,
    yes_no_clause,
)
from knowledge.scope import asked_types, can_answer, outside_edition
from knowledge.tokens import EN_STOP, detect_lang, is_thing
from knowledge.yes_no import lead, verdict

if TYPE_CHECKING:
    from knowledge.chunk import Chunk
    from knowledge.eligibility import Eligibility
    from knowledge.generate import AnswerWriter
    from knowledge.retrieve import FaqHit, Hit, Retriever
    from knowledge.tokens import Term

log = logging.getLogger(__name__)

Lang = Literal["zh", "en"]

ZH_NUMERALS = ("一", "二", "三", "四", "五", "六", "七", "八", "九", "十", "十一")
# "五·申报方式" or "V. How to Apply": a numbered top-level section of the guideline
_SECTION_NO = re.compile(r"^(?:[一二三四五六七八九十]+·|[IVX]+\.\s)")


class Source(BaseModel):
    """A passage or FAQ entry an answer rests on."""

    doc: str
    section: str
    title: str
    score: float


class Answer(BaseModel):
    """What the bot says to a rules question, with where it comes from."""

    question: str
    lang: Lang
    answered: bool
    answer: str
    sources: list[Source] = []
    via: Literal["faq", "extractive", "llm", "none"]
    latency_ms: float = 0.0


class Answerer(Protocol):
    """Anything that can answer a rules question (the engine depends on this, not on the pipeline)."""

    async def answer(self, question: str, lang: Lang | None = None) -> Answer: ...


class RevisionSource(Protocol):
    """Where the knowledge revision is read (knowledge.revision.DbRevisions: the database every process shares)."""

    async def current(self) -> int: ...


class TextSource(Protocol):
    """Where user-facing strings come from (prompts/*.yaml through bot.texts.Texts)."""

    def t(self, key: str, lang: str, **vars: object) -> str: ...


# Thresholds measured on the tuning sets, knowledge/eval/qa.jsonl and dev.jsonl (bench/qa.py prints the pass
# rates they give). 0.45 since the FAQ confidence holds the sentence model's reading of the variants (0.38 before;
# English alone at 0.38 passed one more tuning question and answered "What's the weather in Shanghai tomorrow?"
# with where the committee sits).
FAQ_CONFIDENCE = 0.45
# A maintainer's answer matched this closely is used as written, before the eligibility matcher and even when
# it lacks the kind of fact asked for ("有没有热线？" → "只接受邮件咨询").
FAQ_TRUSTED = 0.8
MIN_COVERAGE = 0.5
# An FAQ entry below the nearest one answers when the nearest lacks the kind of fact asked for and this one holds
# it, if its variants and answer cover this much of the question.
FAQ_FALLBACK_COVERAGE = 0.45
FAQ_RULE_OVER_ELIGIBILITY = 0.42
FAQ_SURE_OVER_UNKNOWN = 0.55
FAQ_SURE_COVERAGE = 0.4
# A question that names nothing after the situation it tells ("… allowed?"): the nearest entry at this confidence,
# this far ahead of the next.
FAQ_SITUATION_CONFIDENCE = 0.4
FAQ_SITUATION_MARGIN = 0.05
# Guideline sections about who may enter what (二·征集范围, 三·榜单设置): the eligibility matcher's ground.
ELIGIBILITY_SECTIONS = frozenset({"二", "三"})

# "May we enter?" in its many forms: the rest of such a clause says who asks, not what is asked about.
_ASKS_TO_ENTER = {
    # 报 but not 报销 (reimburse), 报道 (report) or 报告: "差旅能报销吗" asks about money, not entering.
    "zh": re.compile(r"(能|可以|可不可以|能不能|让)(报(?![销道告])|参加|参选|申报|参与|报名)|有戏|有希望|有机会|够格|符合条件"),
    "en": re.compile(r"\b(can|could|may) (we|i|they|you)( still)? (enter|apply|join|take part|participate|qualify)\b|"
                     r"\b(also|still) can (join|enter|apply|participate)\b|"
                     r"\beligible\b|\bqualif(y|ies)\b", re.IGNORECASE),
}
# A question word: "who has the final say?" asks something of its own, however few its words.
_WH_WORD = {"zh": re.compile(r"谁|什么|啥|哪|几|多少|怎么|如何"),
            "en": re.compile(r"\b(who|whom|what|whats|when|whens|where|which|how)\b|\b(what|when|where|who|how)'s\b",
                             re.IGNORECASE)}
# "which ones r they", "what does it call for": a pronoun for what was told before the question.
_REFERS_BACK = {"zh": re.compile(r"它|这个|那个|这些|那些|这|那"),
                "en": re.compile(r"\b(it|they|them|that|this|those|these|ones|there|here)\b", re.IGNORECASE)}
# Words that ask about a situation without naming anything of it ("what's the rule", "then what? out?").
_VAGUE = {"en": frozenset("rule rules policy deal case situation thing out ok okay allowed fine problem issue happen "
                          "then now".split()),
          "zh": frozenset("规定 规则 情况 问题 怎么办 咋办 然后 会 怎样 怎么样 可以 行".split())}
# "… pending IP dispute with an ex cofounder. issue for the enterprise category?": a clause that opens with one
# asks whether the situation told before it is one; alone it matched the list of award categories.
_VAGUE_LEAD = frozenset("issue problem allowed ok okay fine risk".split())
# The words of a follow-up asking for all of what the ask before it asked about ("list all of them", "全部列出来").
_WHOLE_WORDS = {"en": frozenset("list all full whole complete every everything each em pls please plz".split()),
                "zh": frozenset("列 列出 列出来 列一下 全部 所有 都 完整 一下 全 请".split())}
# Kinds of fact a short follow-up asks of the ask before it ("who are the judges? any names?").
_NARROWING = frozenset({"names", "exact_date", "timezone"})
# "deadline + email, quick", "could you confirm the deadline and the email address?": one ask naming two things, each
# its own entry. Not where the asker tells of themselves ("we have patents and a big team, which award?") or sets
# two things side by side ("diff between pioneer engine and rising potential").
_COORDINATED = {"en": re.compile(r",\s*|\s+(?:and|&|\+)\s+", re.IGNORECASE), "zh": re.compile(r"[，,、+]|和|以及|还有")}
_TELLS_OR_COMPARES = {"en": re.compile(r"\b(we|we're|i|i'm|our|my|us|me|diff|difference|between|vs|versus|compare\w*|or|"
                                       r"both|either)\b", re.IGNORECASE),
                      "zh": re.compile(r"我|区别|不同|对比|比较|还是|哪个")}
# The asker in the frame of a question tells nothing of themselves: "pls tell me the mail address + deadline",
# "which address do we email it to".
# (Not in Chinese: "会告诉我们原因吗" asks whether they will tell.)
_ASKING_FRAME = re.compile(r"\b(?:tell|give|send|show|remind|let)\s+(?:me|us)\b|\b(?:do|can|could|should|shall|must|would|"
                           r"will|may)\s+(?:we|i)\b", re.IGNORECASE)
# "would you confirm the closing date", "pls tell me the mail address": the request around the thing asked for, which
# a piece is matched without (no entry's words say "confirm").
_REQUEST = {"en": re.compile(r"^(?:(?:pls|please|plz|kindly|just|also)\s+)*(?:(?:could|would|can|will)\s+(?:you|u)\s+"
                             r"(?:please\s+|pls\s+|kindly\s+|just\s+)?)?(?:confirm|tell\s+(?:me|us)|let\s+(?:me|us)\s+know|"
                             r"remind\s+(?:me|us)(?:\s+of)?|give\s+(?:me|us)|send\s+(?:me|us)|share)\b\s*", re.IGNORECASE),
            "zh": re.compile(r"^(?:请|麻烦)?(?:确认|告诉我们?|发我们?|给我们?)(?:一下)?")}
# "Two qs: deadline date, and which address …", "quick one - ddl for submissions": what announces the asks
# asks nothing itself.
_ANNOUNCES = {"en": re.compile(r"^(?:\d+|two|three|a few|few|a couple(?: of)?|couple(?: of)?|some|quick|one more)\s+"
                               r"(?:q|qs|questions?|things?|ones?)(?:\s*[-–—:]\s*|$)", re.IGNORECASE),
              "zh": re.compile(r"^(?:有|问)?[两二三几俩]个问题(?:[:：]|$)")}
_COORDINATED_MAX_TERMS = 8
# When a case would happen, after the entry is chosen ("if we become a finalist and later someone sues us", "turns
# out untrue after shortlisting"): the case, not the shortlist, is what the question is about. Not "after
# submitting": "do we still own our patents after submitting?" asks what submitting does.
_ONCE_SELECTED = {"en": re.compile(
    r"\b(?:after|once|when|if)\s+(?:we|we've|we're|they|they've|they're|i|i'm|i've|it|it's|he|she|our \w+|the entry|"
    r"an entry)\s+"
    r"(?:(?:has|have|had|is|are|was|were|get|gets|got|become|becomes|became|been|being)\s+){0,2}(?:shortlisted|"
    r"short-listed|selected|picked|chosen|named|a finalist|finalists|on the shortlist|in the final|awarded|"
    r"a winner|winners?)\b(?:\s+as\s+(?:a\s+)?finalists?)?(?:\s+and\s+(?:later|then))?|"
    r"\bafter (?:the )?(?:shortlisting|short-listing|selection|results?|judging|review)\b",
    re.IGNORECASE)}
# "how many (different prize) lists": the thing counted, in the three words after it.
_HOW_MANY = {"en": re.compile(r"\bhow many ([a-z][a-z-]+)(?:[ /]([a-z][a-z-]+))?(?:[ /]([a-z][a-z-]+))?", re.IGNORECASE)}
# A count in an answer: a number or a range of them ("3–5 years") that is not a year, a day or days of a month nor
# an item's number ("(2)"), or a word for one.
_COUNT = re.compile(r"(?<![\d.,:(])(?!20\d\d\b)\d+(?:\s*[–~-]\s*\d+)?(?![\d.,:)–~-])(?!\s*(?:january|february|march|"
                    r"april|june|july|august|september|october|november|december)\b)|\b(?:one|two|three|four|five|six|"
                    r"seven|eight|nine|ten|several|multiple)\b", re.IGNORECASE)
# No cap answers how many of anything may be sent.
_NO_LIMIT = re.compile(r"\b(no limit|unlimited|any number)\b", re.IGNORECASE)
# How far after the count the thing counted may stand ("seven award categories").
_COUNTED_WITHIN = 40
_THIS_EDITION = re.compile(r"今年|本届|这届|这一届|this year|this edition|this round|this call", re.IGNORECASE)
_ZH_SENTENCE = re.compile(r"(?<=[。！？；])|\n")
# not after an item's number ("1. Launch (from now): …")
_EN_SENTENCE = re.compile(r"(?<=[.!?;])(?<!\b\d\.)(?<!\b\d\d\.)\s+(?=[A-Z0-9(“\"])|\n")
_MAX_CHARS = {"zh": 160, "en": 360}
# An enumeration ("征集类目包括但不限于：A、B、C……") is only an answer to a list question when it is whole.
_MAX_LIST_CHARS = {"zh": 400, "en": 900}
# "what does 'total-factor improvement' mean?", "全要素提升是什么意思": a term the guideline explains in a list item.
_DEFINITION = {
    "en": re.compile(r"\bwhat (?:exactly |precisely |actually )?(?:does|do|is|'s|s) (?:the (?:term |phrase |word )?)?"
                     r"[\"'‘“](?P<a>[^\"'’”?]{3,60})[\"'’”] (?:\w+ ){0,2}mean\b|"
                     r"\bwhat (?:exactly |precisely |actually )?(?:does|do|is|'s|s) (?:the (?:term |phrase |word )?)?(?!(?:they|you|u|we|it)\b)"
                     r"(?P<b>[\w -]{3,60}?) (?:(?:even|actually|really|exactly) )?mean\b|"
                     r"\bwhat (?:do|does) (?:they|you(?: guys| all)?|u|it|the \w+) mean by [\"'‘“]?(?P<c>[^\"'’”?,]{3,60})|"
                     r"\b(?:what is meant by|what (?:is |does )?means? by|meaning of|definition of|define) [\"'‘“]?(?P<d>[^\"'’”?,]{3,60})|"
                     # "what exactly is the 'high quality' trait", "the high efficiency trait - what does that mean"
                     r"\bwhat (?:exactly |precisely )?(?:is|'s) (?:the |a )?[\"'‘“](?P<e>[^\"'’”?]{3,60})[\"'’”]|"
                     # "What means "total-factor improvement" exactly?", as a non-native writer may put it
                     r"\bwhat (?:exactly )?means? [\"'‘“](?P<g>[^\"'’”?]{3,60})[\"'’”]|"
                     r"^\W*(?:the )?(?P<f>[\w -]{3,40}?) (?:trait|track|criterion|dimension)\W+what (?:does|do) "
                     r"(?:that|it|this) mean\b", re.IGNORECASE),
    "zh": re.compile(r"(?P<a>[\u4e00-\u9fffA-Za-z“”\"「」‘’]{2,16}?)(?:到底|具体|究竟)?(?:是什么意思|是啥意思|什么意思|啥意思|"
                     r"指的是什么|指的是啥|指什么|指啥|怎么理解|如何理解)"),
}
# What a track or a trait covers ("what does new energy cover?", "new energy scope?", "'high efficiency' means
# what", "新能源包括哪些"): its list item answers only when the words beside its name say nothing else ("what does
# the innovation district award cover?" is not the trait "Innovation").
_SCOPE_OF = {
    "en": re.compile(r"\bwhat (?:does|do) (?:the )?(?P<a>[\w -]{3,60}?) (?:even |actually |really |exactly )?"
                     r"(?:cover|include|encompass)\b|^\W*(?P<b>[\w -]{3,40}?) scope\b|\bscope of (?:the )?(?P<c>[\w -]{3,40})|"
                     r"[\"'‘“](?P<d>[^\"'’”?]{3,60})[\"'’”] (?:[\w-]+ ){0,2}means? what\b|"
                     r"^\W*(?P<e>[\w -]{3,60}?) means? what\b|"
                     r"\bwhat(?:'s| is| exactly| precisely)?(?: falls| comes| goes)? (?:in|under|included in|covered by|covered under) (?:the )?[\"'‘“]?"
                     r"(?P<f>[\w -]{3,40})|\bwhat (?:counts|qualifies) as (?:an? |the )?[\"'‘“]?(?P<g>[\w -]{3,40})|"
                     # "does the biomedicine track cover med devices?"
                     r"\bdoes (?:the )?(?P<h>[\w -]{3,40}?) (?:track|field|sector) (?:cover|include)s?\b|"
                     # "new energy field covers what exactly", as chat puts it
                     r"^\W*(?:the )?(?P<i>[\w -]{3,40}?) (?:track |field |sector )?(?:covers?|includes?) what\b", re.IGNORECASE),
    "zh": re.compile(r"(?P<a>[\u4e00-\u9fffA-Za-z]{2,12}?)(?:具体|都|主要)?(?:包括|包含|涵盖|覆盖)(?:哪些|什么|啥)|"
                     r"(?P<b>[\u4e00-\u9fffA-Za-z]{2,12}?)的?范围(?:是什么|是啥|有哪些|呢|[？?]|$)"),
}
# Words that relate or weigh what a question names, and endings that make a word of another (unknown_words).
_NOT_THINGS = frozenset("whether inside outside within without otherwise regardless despite whereas".split())
_DERIVED = ("able", "ible", "ment", "ness")
_OWN = re.compile(r"\b(?:our|my|their)\s+([a-z]+)\s+(?:and|or|&)\s+(?:(?:our|my|their)\s+)?([a-z]+)")
_GENERIC = {"en": frozenset("the a an this that field fields track tracks sector sectors industry industries category "
                            "categories area areas trait traits criterion criteria part bit term word phrase "
                            # "what counts as biomedicine here?"
                            "here there exactly actually really then though tho pls please plz anyway".split()),
            "zh": frozenset("领域行业赛道方向这个那个的类")}
_LIST_ITEM = re.compile(r"^\s*[-*]\s+")
# "- 1) **新一代信息技术：** 包括……": a list item that names itself in bold before it explains.
_ITEM_NAME = re.compile(r"^\s*[-*]\s+(?:[\w（()）、.]{1,4}\s*)?\*\*(.+?)[：:]?\s*\*\*")


class KnowledgeBase:
    """The Answerer of the running bot: FAQ, eligibility, extractive (or LLM) answer, or a polite decline."""

    def __init__(
        self,
        *,
        retriever: Retriever,
        texts: TextSource,
        eligibility: Eligibility,
        mailbox: str,
        guideline_doc: str,
        writer: AnswerWriter | None = None,
        aliases: dict[str, list[tuple[str, str]]] | None = None,
    ) -> None:
        self.retriever = retriever
        # Per question language: one pattern finding the campaign's names written in the other language, and what
        # this language calls each (service.campaign_aliases), so a question is read in one pass.
        self._names = {lang: _name_pattern(pairs, lang) for lang, pairs in (aliases or {}).items() if pairs}
        self.texts = texts
        self.eligibility = eligibility
        self.mailbox = mailbox
        self.guideline_doc = guideline_doc
        self.writer = writer
        # The stages bench/qa.py switches off one by one to show what each is worth; both on in the bot.
        self.use_faq = True
        self.split_asks = True
        self._sections = _section_names(retriever, guideline_doc)
        self._years = _years(retriever)
        self.revisions: RevisionSource | None = None
        self.check_every_s = 1.0
        self.revision: int | None = None
        self._checked_at = -float("inf")
        self._loop: asyncio.AbstractEventLoop | None = None
        # Held while the index or the in-memory pieces change, so an edit and a reload never interleave.
        self.lock = asyncio.Lock()

    async def follow(self, revisions: RevisionSource, *, every_s: float) -> None:
        """Keep answering from the latest knowledge: compare the revision at most every `every_s` seconds."""
        loop = asyncio.get_running_loop()
        if self.revisions is revisions and self._loop is loop:
            return
        self.revisions, self.check_every_s, self._loop = revisions, every_s, loop
        async with self.lock:
            current = await revisions.current()
            # Revision 0: nothing was ever edited, so what was built at start-up is current.
            if current != 0:
                await self._reload(reopen=False)
            self.revision = current
        self._checked_at = time.monotonic()

    async def sync(self) -> bool:
        """Rebuild from the index when another process changed it since the last check; True if it did."""
        if self.revisions is None or time.monotonic() - self._checked_at < self.check_every_s:
            return False
        if asyncio.get_running_loop() is not self._loop:
            # The revision is read through database connections that belong to the loop that started
            # following (the bot's); an answerer shared with another loop (a test, a one-off script) keeps
            # its version there.
            return False
        self._checked_at = time.monotonic()
        current = await self.revisions.current()
        if current == self.revision:
            return False
        async with self.lock:
            if current == self.revision:
                return False
            log.info("knowledge revision moved from %s to %d: reloading", self.revision, current)
            await self._reload(reopen=True)
            self.revision = current
        return True

    async def changed(self, revision: int) -> None:
        """This process changed the index (the caller holds `lock`): rebuild now and take `revision` as seen."""
        # Only our own change since the last look: our client already sees it. Anything else means another
        # process wrote too, and an embedded store must be reopened to see that.
        foreign = self.revision is None or revision != self.revision + 1
        await self._reload(reopen=foreign)
        self.revision = revision

    async def reload(self, *, reopen: bool = False) -> None:
        """Rebuild the in-memory pieces from the index now (reopening an embedded store first if asked)."""
        async with self.lock:
            await self._reload(reopen=reopen)

    async def _reload(self, *, reopen: bool) -> None:
        if reopen:
            # In the event loop on purpose: no query can run on the client while it is swapped.
            self.retriever.index.reopen()
        await asyncio.to_thread(self.retriever.refresh)
        self._sections = _section_names(self.retriever, self.guideline_doc)
        self._years = _years(self.retriever)

    async def answer(self, question: str, lang: Lang | None = None) -> Answer:
        """Answer one question in the asker's language (detected unless given), from the latest knowledge."""
        started = time.perf_counter()
        lang = lang or detect_lang(question)
        await self.sync()
        # Matching works on simplified characters; the answer goes back in the script the entrant wrote in.
        text = to_simplified(question.strip())
        # A field's own word is no slip: "esports" was read as "sports", "lidar" as "liar".
        text = self._translate_names(self.retriever.fix_typos(text, lang=lang, keep=self.eligibility.keyword_words),
                                     lang)
        # From this process's snapshot alone: no question reaches Chroma, so another process's write to the store
        # is seen at the next check (sync), and never fails an answer.
        result = await self._answer_message(text, lang)
        update: dict[str, object] = {"question": question.strip(),
                                     "latency_ms": round((time.perf_counter() - started) * 1000, 2)}
        if lang == "zh" and is_traditional(question):
            update["answer"] = to_traditional(result.answer)
        return result.model_copy(update=update)

    async def _answer_message(self, text: str, lang: Lang) -> Answer:
        """Every ask of the message answered in turn; one answer that holds each part with its citation."""
        asks = split_asks(text, lang=lang) if self.split_asks else [Ask(text=text, kind=Kind.OTHER)]
        # The asks' vectors are computed in one model call, at the first lookup of one. With two asks or more,
        # the whole message's too, as their mean: a follow-up or a declined ask is tried again as the whole (11 of
        # the 13 such questions in qa and holdout).
        # Not an ask answered without a vector (another edition's, a term's definition): it would lengthen the
        # call for nothing.
        vectored = [a.text for a in asks if not outside_edition(a.text, lang=lang, years=self._years)
                    and self._definition(a.text, lang) is None]
        self.retriever.prefetch(vectored, whole=text if len(asks) > 1 else None)
        if len(asks) == 1:
            return self._yes_or_no(asks[0], await self._answer_ask(asks[0], lang), lang)
        parts: list[Answer] = []
        elsewhere = False  # an ask about another edition: the asks after it go on about that one
        for n, ask in enumerate(asks):
            if outside_edition(ask.text, lang=lang, years=self._years):
                elsewhere = True
            elif elsewhere and not self._names_this_edition(ask.text):
                # "2025年还办吗？大概几月开始报名": the second ask is about 2025 too, not this edition's dates
                parts.append(self._decline(ask.text, lang))
                continue
            if n and not parts[-1].answered and (ask.short or self._short_question(ask, lang)):
                # "有着装要求吗，要穿正装不": a short follow-up to an ask the guideline cannot answer asks the same;
                # so does one with a remark after it ("who chairs the jury? name please? i want to write to him").
                parts.append(parts[-1])
                continue
            if n and parts[-1].answered and ask.short and \
                    {t.name for t in asked_types(ask.text, lang=lang)} & _NARROWING:
                # "who are the judges? any names?": a short follow-up asks the ask before it for a kind of fact
                # (names, a date), which that ask's answer must hold too.
                before = asks[n - 1]
                narrowed = await self._answer(f"{before.text} {ask.text}", lang, kind=before.kind)
                parts[-1] = self._yes_or_no(before, narrowed, lang)
                continue
            if n and parts[-1].answered and ask.short and ask.kind is Kind.LIST and \
                    _REFERS_BACK[lang].search(ask.text) and \
                    self._only(_WHOLE_WORDS[lang], self.retriever.tokenizer.terms(ask.text, lang=lang)):
                # "what falls under new energy? list all of it": the ask before it, wanting its whole list; alone
                # "list all of it" matched the list of awards.
                before = asks[n - 1]
                parts[-1] = self._yes_or_no(before, await self._answer(before.text, lang, kind=Kind.LIST), lang)
                continue
            if n and parts[-1].answered and ask.short and _REFERS_BACK[lang].search(ask.text):
                # "is there an award for individuals and what do they look at?": "they" is what the ask before
                # named (in its question, not in the situation told before it); alone, the ask matched what every
                # award is profiled on.
                named = question_after(asks[n - 1].text, lang=lang) or asks[n - 1].text
                part = await self._answer(f"{named} {ask.text}", lang, kind=ask.kind)
                # Unless that only says again what the ask before got ("who runs this and where are they based?")
                if part.answered and part.answer not in parts[-1].answer:
                    parts.append(self._yes_or_no(ask, part, lang))
                    continue
            part = await self._answer_ask(ask, lang)
            if not part.answered and n:
                # A follow-up leaning on the ask before it ("产品类有哪些类目？人物类呢？"). Of two asks, the two
                # together are the message: the whole-message try below then reuses its vector (a model call
                # less, on the slowest questions: two asks the guideline cannot answer).
                both = text if len(asks) == 2 else f"{asks[n - 1].text} {ask.text}"
                part = await self._answer(both, lang, kind=ask.kind)
            parts.append(self._yes_or_no(ask, part, lang))
        answered = [p for p in parts if p.answered]
        if not answered:
            # As yes/no when the message opens with one: "申报表需要加盖公章吗？定系签名就得？", "is there an awards
            # night? what date?" name a thing no text names, whichever way they are read (the whole of 10 such
            # messages in the tuning set was answered with a passage on something else).
            whole = await self._answer(text, lang, kind=Kind.YES_NO if asks[0].kind is Kind.YES_NO else Kind.OTHER)
            return whole if whole.answered else self._decline(text, lang)
        texts: list[str] = []
        sources: list[Source] = []
        for part in answered:
            if part.answer not in texts:
                texts.append(part.answer)
            sources += [s for s in part.sources if s not in sources]
        if len(answered) < len(parts):
            texts.append(self.texts.t("knowledge.partly_declined", lang, mailbox=self.mailbox))
        via = answered[0].via if all(p.via == answered[0].via for p in answered) else "extractive"
        return Answer(question=text, lang=lang, answered=True, via=via, answer="\n\n".join(texts), sources=sources)

    @staticmethod
    def _short_question(ask: Ask, lang: Lang) -> bool:
        """A question of a few words opening an ask, with a remark after it."""
        clause = asking_clause(ask.text, lang=lang)
        return clause is not None and Ask(text=clause, kind=ask.kind).short

    async def _answer_ask(self, ask: Ask, lang: Lang) -> Answer:
        """One ask's answer; an ask naming two things the FAQ answers apart gets both."""
        answer = await self._answer(ask.text, lang, kind=ask.kind)
        both = self._coordinated(ask.text, lang, answer)
        after = question_after(ask.text, lang=lang) if both is None else None
        if after is not None:
            # "Our district office is preparing an entry. Could you confirm the deadline and the email address?":
            # the situation told is no third thing asked about
            both = self._coordinated(after, lang, answer)
        if both is None:
            return answer
        first, second = (self._faq_answer(piece, lang, hit) for piece, hit in both)
        return Answer(question=ask.text, lang=lang, answered=True, via="faq",
                      answer=f"{first.answer}\n\n{second.answer}", sources=first.sources + second.sources)

    def _coordinated(self, text: str, lang: Lang, answer: Answer) -> list[tuple[str, FaqHit]] | None:
        """The two pieces of a short ask naming two things, with the FAQ entry each is sure of, when the entries
        differ and the ask's own answer is one of them; else None. A declined ask stays declined: "who are the
        judges? names pls" asks for what no entry holds, though each piece has an entry."""
        pieces = [piece for piece in (_REQUEST[lang].sub("", _ANNOUNCES[lang].sub("", p))
                                      for p in (p.strip(" ?？,，.!:：") for p in _COORDINATED[lang].split(text))) if piece]
        if len(pieces) < 2 or not answer.answered or answer.via != "faq" or \
                _TELLS_OR_COMPARES[lang].search(_ASKING_FRAME.sub(" ", text) if lang == "en" else text) or \
                len(self.retriever.tokenizer.terms(text, lang=lang)) > _COORDINATED_MAX_TERMS:
            return None
        # One model call for the pieces rather than one each (the slowest questions are those split this way).
        self.retriever.prefetch(pieces)
        hits: list[tuple[str, FaqHit]] = []
        for piece in pieces:
            terms = self.retriever.tokenizer.terms(piece, lang=lang)
            found = self.retriever.faq_candidates(piece, lang=lang) if terms else []
            if found and found[0].confidence >= FAQ_CONFIDENCE and lang in found[0].entry.answer and \
                    self._can_answer(piece, found[0].entry.answer[lang], lang):
                hits.append((piece, found[0]))
            elif len(terms) > 1:  # a piece of its own the FAQ is not sure of; a remark ("quick") is none
                return None
        if len(hits) != 2 or hits[0][1].entry.id == hits[1][1].entry.id or \
                not any(hit.entry.answer[lang] in answer.answer for _, hit in hits):
            return None
        return hits

    def _can_answer(self, question: str, text: str, lang: Lang) -> bool:
        """The text holds the kinds of fact the question asks for (scope.can_answer), and a count of what it asks
        how many of: "how many judges are on the jury?" is not answered by "two stages", nor "how many lists
        will there be?" by the year the results come out."""
        if not can_answer(question, text, lang=lang):
            return False
        asked = _HOW_MANY[lang].search(question) if lang in _HOW_MANY else None
        if asked is None:
            return True
        tokenizer = self.retriever.tokenizer
        counted = {alt for word in asked.groups() if word for term in tokenizer.terms(word, lang=lang)
                   for alt in term.alternatives | term.synonyms}
        if not counted or _NO_LIMIT.search(text):  # "how many 入圍 per list": an unknown word counts as any number
            return True
        return any(counted & set(tokenizer.tokens(text[found.end():found.end() + _COUNTED_WITHIN]))
                   for found in _COUNT.finditer(text))

    def _names_this_edition(self, text: str) -> bool:
        """True when an ask says it is about this edition (今年, this year, or a year the documents name)."""
        return bool(_THIS_EDITION.search(text)) or any(
            year in self._years for year in re.findall(r"(?<!\d)20\d\d(?!\d)", text))

    def _translate_names(self, text: str, lang: Lang) -> str:
        """The campaign's names written in the other language, as this language writes them, and an award's
        everyday name with its name beside it ("the person of the year award (Sci-Tech Pioneer of the Year)")."""
        if lang not in self._names:
            return text
        pattern, names = self._names[lang]
        spaced = " {} " if lang == "en" else "{}"  # "is 先锋引擎 right" → "is Pioneer Engine of the Year right"

        def name(match: re.Match[str]) -> str:
            written, meant = match.group(0), names[match.group(0).lower()]
            if written.isascii() == (lang == "en"):  # this language's own everyday name: keep the asker's words
                return f"{written} ({meant})" if written.lower() != meant.lower() else written
            return spaced.format(meant)

        return re.sub(r" {2,}", " ", pattern.sub(name, text)).strip()

    def _yes_or_no(self, ask: Ask, answer: Answer, lang: Lang) -> Answer:
        """A yes/no ask's answer starts with the yes or the no, where the answer's own words settle which."""
        if ask.kind is not Kind.YES_NO or not answer.answered or answer.via == "llm" or \
                (answer.sources and answer.sources[0].doc == "campaign"):
            return answer
        body = answer.answer.split("\n\n")[0]
        said = verdict(ask.text, body, lang=lang, tokenizer=self.retriever.tokenizer)
        if said is None:
            return answer
        first = lead(ask.text, said, lang=lang)
        if body.lower().startswith((first.rstrip("。.").lower(), "yes", "no;", "no,", "no.")):
            return answer  # a maintainer's answer that already starts with it ("No; submitted materials …")
        return answer.model_copy(update={"answer": f"{first}{'' if lang == 'zh' else ' '}{answer.answer}"})

    async def _answer(self, question: str, lang: Lang, *, kind: Kind = Kind.OTHER) -> Answer:
        # A bare "1" or "?" asks nothing a passage could answer (it once matched "1、启动（即日起）").
        if not any(c.isalpha() for c in question) or outside_edition(question, lang=lang, years=self._years):
            return self._decline(question, lang)
        compared = self.eligibility.compare(question, lang=lang)
        if compared is not None:
            return Answer(question=question, lang=lang, answered=True, via="extractive", answer=compared.text,
                          sources=compared.sources)
        defined = self._definition(question, lang)
        if defined is not None:
            return defined
        candidates = self._named_award_first(question, lang,
                                             self._faq_candidates(question, lang) if self.use_faq else [])
        top = candidates[0] if candidates else None
        # A confident match to a rule outside scope and awards (IP, incidents, deadline…) is what was asked,
        # even when the asker also says what they do ("我们公司…出过事故，还能报吗").
        # Trusted on its words alone: a question near a variant in meaning only may ask what the answer lacks
        # ("奖金有多少钱" beside "获奖能得到什么"), which can_answer must then check. A maintainer's answer is
        # trusted for the kind of fact its own variant asks ("有没有热线？" → "只接受邮件咨询"), not for another
        # ("when's the ddl for submissions?" is not "What's the email for submissions?").
        # Not an entry on who may enter when the asker names their field: "Is games/gaming industry eligible" gets
        # the track games fall under (below), not the list of every industry.
        if top is not None and top.lexical >= FAQ_TRUSTED and (
                self._can_answer(question, top.entry.answer[lang], lang) or
                {t.name for t in asked_types(question, lang=lang)} <= {t.name for t in asked_types(top.question, lang=lang)}) and \
                not (top.entry.section in ELIGIBILITY_SECTIONS and self._places_field(question, lang)):
            return self._faq_answer(question, lang, top)
        # The nearest entry whose answer holds the kind of fact asked for ("when does the judging happen?": the
        # timeline, not how the review works).
        # A lower one must cover the question's words too: holding a date does not make the deadline an answer
        # to "what's the exact date of the forum?".
        hit = next((c for n, c in enumerate(candidates) if self._can_answer(question, c.entry.answer[lang], lang) and
                    (n == 0 or c.coverage >= FAQ_FALLBACK_COVERAGE)), None)
        # A yes/no ask naming a thing no text names is declined, unless an FAQ entry is near it in meaning and in
        # words both ("will you send back the printed brochures?" beside "Will you send back our documents?"):
        # near in meaning only, "Do we need to notarise the form?" came nearest the application fee.
        sure = hit is not None and _sure(hit)
        if kind is Kind.YES_NO and not sure and self._asks_about_unknown(question, lang):
            return self._decline(question, lang)
        # In English on its words alone: with the meaning at 45 % of its confidence (retrieve.FAQ_SEMANTIC_WEIGHT),
        # "we're a small game studio, can we enter?" came near the rule on how to enter, not the awards that fit.
        if hit is not None and (hit.lexical if lang == "en" else hit.confidence) >= \
                FAQ_RULE_OVER_ELIGIBILITY and hit.entry.section not in ELIGIBILITY_SECTIONS:
            return self._faq_answer(question, lang, hit)
        # A question after a specific fact (a threshold, an age, a quota) is not "may we enter?"; one telling of an
        # incident or a dispute asks about the rule that may bar the asker, and one asking for the requirements
        # asks for them, when an FAQ entry answers that rule.
        ruled = hit is not None and hit.confidence >= FAQ_CONFIDENCE and (
            self.eligibility.tells_of_trouble(question, lang=lang) or
            self.eligibility.asks_requirements(question, lang=lang))
        verdict = None if asked_types(question, lang=lang) or ruled else self.eligibility.assess(question, lang=lang)
        if verdict is not None:
            text = verdict.text
            # "we're a game studio, can we enter?": the clause that asks is a yes/no one
            if verdict.in_scope and Kind.YES_NO in (kind, kind_of(yes_no_clause(question, lang=lang), lang=lang)):
                text = f"{lead(question, True, lang=lang)}{'' if lang == 'zh' else ' '}{text}"
            return Answer(question=question, lang=lang, answered=True, via="extractive", answer=text,
                          sources=verdict.sources)
        if hit is not None and hit.confidence >= FAQ_CONFIDENCE:
            return self._faq_answer(question, lang, hit)
        # "Client wants to enter under a brand alias, not its registered name. allowed?": the situation is all the
        # question says, in words of its own; the nearest entry, well ahead of the next, is what it asks about. So
        # is a telling of an incident or a dispute, however long ("a tenant had a big pollution incident in 2022
        # that made national news. Are they allowed to apply?"): the rule that may bar the asker.
        if hit is not None and hit is top and hit.confidence >= FAQ_SITUATION_CONFIDENCE and \
                (len(candidates) < 2 or hit.confidence - candidates[1].confidence >= FAQ_SITUATION_MARGIN) and \
                (self._asks_of_situation(question, lang) or self.eligibility.tells_of_trouble(question, lang=lang)):
            return self._faq_answer(question, lang, hit)
        hits = [h for h in self.retriever.passages(question, lang=lang)
                if self._can_answer(question, h.chunk.plain_text, lang)]
        if not hits or max(h.coverage for h in hits) < MIN_COVERAGE:
            return self._decline(question, lang, hits)
        sources = [
            Source(doc=h.chunk.doc, section=h.chunk.section, title=h.chunk.title, score=round(h.score, 5))
            for h in hits
        ]
        if self.writer is not None:
            written = await self.writer.write(question, lang=lang, passages=[h.chunk for h in hits])
            if written is not None:
                if not written:
                    return self._decline(question, lang, hits)
                text = f"{written}\n\n{self._cite_passage(hits[0].chunk, lang)}"
                return Answer(question=question, lang=lang, answered=True, via="llm", answer=text, sources=sources)
        best, sentence = self._best_sentence(question, hits, lang, kind=kind)
        text = f"{sentence}\n\n{self._cite_passage(best.chunk, lang)}"
        best_first = [s for s in sources if s.title == best.chunk.title and s.section == best.chunk.section][:1]
        rest = [s for s in sources if s not in best_first]
        return Answer(question=question, lang=lang, answered=True, via="extractive", answer=text,
                      sources=best_first + rest)

    def _places_field(self, question: str, lang: Lang) -> bool:
        """True when the question asks whether the asker may enter and names a field the call's tracks hold."""
        verdict = self.eligibility.assess(question, lang=lang)
        return verdict is not None and verdict.in_scope

    def _definition(self, question: str, lang: Lang) -> Answer | None:
        """The list item that names and explains the term asked about ("5) Total-factor improvement: rather than
        improving a single factor …"), where the question asks what a term means; else None.

        An FAQ entry or a sentence that only names the term among others (the six traits) is no answer to it.
        """
        asked = _DEFINITION[lang].search(question)
        scope = asked is None and (asked := _SCOPE_OF[lang].search(question)) is not None
        if asked is None:
            return None
        written = next(g for g in asked.groups() if g)
        term = _bare(written)
        for chunk in self.retriever.chunks(lang):
            for line in chunk.text.splitlines():  # an item may open a passage or sit inside one
                named = _ITEM_NAME.match(line)
                name = _bare(named.group(1)) if named else ""
                if len(name) >= (2 if lang == "zh" else 5) and (name in term or (lang == "en" and term in name and
                                                                              len(term) >= 5)) and \
                        not (scope and _says_more(written, named.group(1) if named else "", lang)):
                    item = re.sub(r"\*\*(.+?)\*\*", r"\1", _LIST_ITEM.sub("", line)).strip()
                    text = f"{_trim(item, _MAX_CHARS[lang], lang)}\n\n{self._cite_passage(chunk, lang)}"
                    source = Source(doc=chunk.doc, section=chunk.section, title=chunk.title, score=1.0)
                    return Answer(question=question, lang=lang, answered=True, via="extractive", answer=text,
                                  sources=[source])
        return None

    def _faq_candidates(self, question: str, lang: Lang) -> list[FaqHit]:
        """FAQ entries near the ask, with an answer in its language; those near its asking clause alone when the
        whole ask finds none sure enough (the remark beside the question, "老板不想露名", dilutes its words)."""
        question = unframed(question, lang=lang)
        candidates = [c for c in self.retriever.faq_candidates(question, lang=lang) if lang in c.entry.answer]
        untimed = _ONCE_SELECTED[lang].sub(" ", question) if lang in _ONCE_SELECTED else question
        if untimed != question and len(self.retriever.tokenizer.terms(untimed, lang=lang)) > 1:
            # "what if our revenue turns out inaccurate after we're shortlisted?": when it happens is not what it is
            # about; the shortlist's words brought up when finalists are announced. Matched without it where that
            # leaves enough to match.
            found = [c for c in self.retriever.faq_candidates(untimed, lang=lang) if lang in c.entry.answer]
            if found and found[0].confidence >= FAQ_CONFIDENCE:
                question, candidates = untimed, found
        if asked_types(question, lang=lang) and not (
                candidates and self._can_answer(question, candidates[0].entry.answer[lang], lang)):
            # "what's the deadline for the park award?": the entry on the award holds no date, and the award's name,
            # most of the question's words, left the deadline too little of them to be sure of.
            unnamed = self.eligibility.without_names(question)
            if unnamed is not None and self.retriever.tokenizer.terms(unnamed, lang=lang):
                found = [c for c in self.retriever.faq_candidates(unnamed, lang=lang) if lang in c.entry.answer]
                if found and found[0].confidence >= FAQ_CONFIDENCE and \
                        self._can_answer(question, found[0].entry.answer[lang], lang):
                    question, candidates = unnamed, found
        clause = asking_clause(question, lang=lang)
        # Sure, and holding the kind of fact asked for, unless the question comes first: a long preamble
        # ("我们是苏州做机器人的公司……请问报名最晚到几号？") brings up the entry nearest the asker's situation, which
        # cannot answer "when"; the question after it is tried alone.
        answers = bool(candidates) and candidates[0].confidence >= FAQ_CONFIDENCE and (
            clause is not None or self._can_answer(question, candidates[0].entry.answer[lang], lang))
        # A question the remark after it leaves short of sure (_sure) is tried alone too, and the surer kept:
        # "could you confirm the email address? I want to make sure I have the official one and not a lookalike"
        # fell under FAQ_SURE_OVER_UNKNOWN with the remark's words, and the unknown "lookalike" declined it. Not a
        # remark asking a kind of fact of its own ("评委都有谁，名单发一下"), nor the question after a
        # situation: alone, it loses what the situation says ("our patent is licensed, not owned. ok?").
        if answers and (clause is None or _sure(candidates[0]) or
                        {t.name for t in asked_types(question, lang=lang)} - {t.name for t in asked_types(clause, lang=lang)}):
            return candidates
        if clause is None:
            clause = self._question_after(question, lang)
        if clause is None:
            return candidates
        alone = [c for c in self.retriever.faq_candidates(clause, lang=lang) if lang in c.entry.answer]
        if not alone or alone[0].confidence < FAQ_CONFIDENCE:
            return candidates
        # Over an answer of the whole, only an entry well ahead of the next: alone, "Roughly how long does the
        # judging run?" (", Exact dates pls") came as near the judges as the timeline.
        return alone if not answers or (alone[0].confidence > candidates[0].confidence and (
            len(alone) < 2 or alone[0].confidence - alone[1].confidence >= FAQ_SITUATION_MARGIN)) else candidates

    def _named_award_first(self, question: str, lang: Lang, candidates: list[FaqHit]) -> list[FaqHit]:
        """The entry on the award the question names, ahead of a nearer entry on another award: in "For Sci-Tech
        Pioneer of the Year, what do they evaluate? Our park director is considering it." the park's words brought
        up the park award."""
        named = self.eligibility.named(question) if len(candidates) > 1 else []
        if len(named) != 1:
            return candidates
        # An entry on an award names it in its answer ("Parks enter Sci-Tech Park of the Year, …"); no award's name
        # is inside another's.
        name = named[0].name.get(lang)
        top = candidates[0].entry.answer[lang]
        if name in top or not any(a.name.get(lang) in top for a in self.eligibility.campaign.awards):
            return candidates  # the top entry is on this award, or on no award (the deadline, the fee)
        found = next((c for c in candidates[1:3] if name in c.entry.answer[lang] and
                      c.confidence >= FAQ_CONFIDENCE), None)
        return candidates if found is None else [found, *(c for c in candidates if c is not found)]

    def _question_after(self, question: str, lang: Lang) -> str | None:
        """The clause that asks after a situation told before it, where it can be matched alone."""
        clause = question_after(question, lang=lang)
        # "we're a game studio, can we enter?": whether the situation may enter is the eligibility matcher's;
        # "… and its product in another. Allowed?", "which ones r they": a question of a word or two without a
        # question word of its own, or with a pronoun for what was told, asks about what was told before it;
        # alone it matches any entry with that word ("Is self-nomination allowed?")
        # "copying a competitor's patent text into our materials - what's the rule": a question whose only words
        # are vague ones asks what the rule on the situation is; alone it matched who interprets the rules.
        terms = self.retriever.tokenizer.terms(clause, lang=lang) if clause is not None else []
        if clause is not None and (_ASKS_TO_ENTER[lang].search(clause) or
                                   self.eligibility.asks_fit(clause, lang=lang) or
                                   self._vague(terms, lang) or
                                   (len(terms) < 2 and
                                    (not _WH_WORD[lang].search(clause) or _REFERS_BACK[lang].search(clause)))):
            return None
        return clause

    def _asks_of_situation(self, question: str, lang: Lang) -> bool:
        """True when the question after the situation told names nothing of its own ("… allowed?", "… then what")."""
        clause = question_after(question, lang=lang)
        return clause is not None and self._vague(self.retriever.tokenizer.terms(clause, lang=lang), lang)

    def _vague(self, terms: list[Term], lang: Lang) -> bool:
        return self._only(_VAGUE[lang], terms) or \
            (lang == "en" and bool(terms) and terms[0].token in self._stems(_VAGUE_LEAD))

    def _only(self, words: frozenset[str], terms: list[Term]) -> bool:
        """True when there are words the matcher counts and every one is one of `words`, as itself: a word
        standing in a synonym's phrase means the phrase ("would that rule us out?")."""
        stems = self._stems(words)
        return bool(terms) and all(t.token in stems and t.alternatives <= stems for t in terms)

    def _stems(self, words: frozenset[str]) -> set[str]:
        """`words` as the matcher compares words: stemmed, segmented."""
        return set(self.retriever.tokenizer.tokens(" ".join(sorted(words))))

    def _asks_about_unknown(self, question: str, lang: Lang) -> bool:
        """A yes/no ask about a thing no text of the knowledge base names ("申报表要不要盖公章", "can we appeal?").

        Whatever passage or FAQ entry comes nearest speaks of something else, and its words would read as a
        yes or a no. Only the asking clause counts: the situation told before it ("我们是新加坡的公司，") may
        name anything.
        """
        clause = yes_no_clause(question, lang=lang)
        if _ASKS_TO_ENTER[lang].search(clause) or self.eligibility.asks_fit(clause, lang=lang):
            # "搞商业火箭的公司能报吗", "is nuclear under new energy?": the unknown words describe the entrant or
            # their field; eligibility decides
            return False
        unknown = self.retriever.unknown_words(clause, lang=lang)
        if lang == "zh":
            return any(is_thing(word) for word in unknown)
        # An adverb ("essentially", "solely") or a word of relation ("whether", "inside") names no thing, and a
        # word made from a known one ("payable" of "pay") names a known thing.
        stem = self.retriever.tokenizer.stem
        vocabulary = self.retriever.vocabulary(lang)
        not_things = {stem(w) for w in re.findall(r"[a-z]+", clause.lower())
                      if w in _NOT_THINGS or (w.endswith("ly") and len(w) > 5) or
                      any(w.endswith(end) and stem(w[:-len(end)]) in vocabulary for end in _DERIVED)}
        # The asker's own things, two of them named side by side, are what they tell of, not what they ask about:
        # "can we submit both our watch and our earbuds, or one entry per company?"
        not_things |= {stem(w) for pair in _OWN.findall(clause.lower()) for w in pair}
        return any(len(word) >= 5 and word.isalpha() and word not in EN_STOP and word not in not_things
                   for word in unknown)

    def _faq_answer(self, question: str, lang: Lang, hit: FaqHit) -> Answer:
        section = self.section_name(hit.entry.section, lang)
        text = f"{hit.entry.answer[lang]}\n\n{self._cite(section, lang)}"
        source = Source(doc="faq", section=section, title=hit.question, score=round(hit.confidence, 4))
        return Answer(question=question, lang=lang, answered=True, via="faq", answer=text, sources=[source])

    def _best_sentence(self, question: str, hits: list[Hit], lang: Lang, *, kind: Kind) -> tuple[Hit, str]:
        """The sentence (or list item) that covers most of the question, from the best few passages.

        A question asking for a list gets the whole list the best passage belongs to, not one item of it.
        """
        terms = self.retriever.tokenizer.terms(question, lang=lang)
        top = hits[0].score
        best: tuple[float, Hit, str] | None = None
        for rank, hit in enumerate(hits[:3]):
            for sentence in _sentences(hit.chunk.plain_text, lang):
                s_tokens = set(self.retriever.tokenizer.tokens(f"{hit.chunk.title} {sentence}"))
                overlap = sum(1 for term in terms if term.alternatives & s_tokens) / max(len(terms), 1)
                score = overlap + 0.3 * hit.score / top - 0.05 * rank
                if best is None or score > best[0]:
                    best = (score, hit, sentence)
        assert best is not None  # hits is non-empty and every chunk has text
        _, hit, sentence = best
        if kind is Kind.LIST:
            listed = self._whole_list(hit.chunk, lang)
            if listed:
                return hit, listed
            return hit, _trim(sentence, _MAX_LIST_CHARS[lang], lang)
        return hit, _trim(sentence, _MAX_CHARS[lang], lang)

    def _whole_list(self, chunk: Chunk, lang: Lang) -> str | None:
        """The list a passage is an item of: the lead-in line and every item's name (or text), in order."""
        if not _LIST_ITEM.match(chunk.text):
            return None
        siblings = [c for c in self.retriever.chunks(lang)
                    if c.doc == chunk.doc and c.section == chunk.section and c.title == chunk.title]
        items = [c for c in siblings if _LIST_ITEM.match(c.text)]
        if len(items) < 2:
            return None
        names = [_item_name(c.text).rstrip(";；。. ") for c in items]  # the separator ends each item
        lead = [c.plain_text for c in siblings if c.position < items[0].position and
                c.plain_text.rstrip().endswith(("：", ":"))][-1:]
        sep = "；" if lang == "zh" else "; "
        body = sep.join(f"{n}. {name}" if not name[:1].isdigit() else name for n, name in enumerate(names, 1))
        return f"{lead[0]}{body}" if lead else body

    def _decline(self, question: str, lang: Lang, hits: list[Hit] | None = None) -> Answer:
        sources = [
            Source(doc=h.chunk.doc, section=h.chunk.section, title=h.chunk.title, score=round(h.score, 5))
            for h in (hits or [])[:3]
        ]
        text = self.texts.t("knowledge.decline", lang, mailbox=self.mailbox)
        return Answer(question=question, lang=lang, answered=False, via="none", answer=text, sources=sources)

    def section_name(self, numeral: str, lang: str) -> str:
        """The guideline section a numeral (一…十一) stands for, e.g. "五·申报方式"; the numeral if unknown."""
        return self._sections.get((numeral, lang), numeral)

    def _cite(self, section: str, lang: str) -> str:
        return self.texts.t("knowledge.cite", lang, section=section)

    def _cite_passage(self, chunk: Chunk, lang: str) -> str:
        """The guideline by section; any other document (an uploaded notice) by its own title."""
        if chunk.doc == self.guideline_doc or not chunk.doc_title:
            return self._cite(chunk.section, lang)
        if chunk.section == chunk.doc_title:
            return self.texts.t("kb.cite_title", lang, title=chunk.doc_title)
        return self.texts.t("kb.cite_doc", lang, title=chunk.doc_title, section=chunk.section)


def _section_names(retriever: Retriever, guideline_doc: str) -> dict[tuple[str, str], str]:
    """Map (Chinese numeral, lang) to the section heading, aligning the translations by section order."""
    out: dict[tuple[str, str], str] = {}
    for lang in ("zh", "en"):
        sections = dict.fromkeys(c.section for c in retriever.chunks(lang) if c.doc == guideline_doc)
        for n, section in enumerate(s for s in sections if _SECTION_NO.match(s)):
            if n < len(ZH_NUMERALS):
                out[(ZH_NUMERALS[n], lang)] = section
    return out


def _name_pattern(pairs: list[tuple[str, str]], lang: str) -> tuple[re.Pattern[str], dict[str, str]]:
    """One pattern for every alias, the longest first ("年度先锋引擎" before "先锋引擎"), and each alias's name."""
    names = {alias.lower(): name for alias, name in pairs}
    alternatives = "|".join(re.escape(alias) for alias in sorted(names, key=len, reverse=True))
    # An English name stands between non-letters, in a Chinese question too ("Rising Potential要什么条件").
    return re.compile(f"(?<![A-Za-z])(?:{alternatives})(?![A-Za-z])", re.IGNORECASE), names


def _years(retriever: Retriever) -> frozenset[str]:
    """Every year the passages name (the edition's, its timeline's): a question about another is declined."""
    return frozenset(year for lang in ("zh", "en") for c in retriever.chunks(lang)
                     for year in re.findall(r"(?<!\d)20\d\d(?!\d)", c.plain_text))


def _item_name(text: str) -> str:
    """A list item's bold name ("新一代信息技术"), else its first line without the bullet."""
    named = _ITEM_NAME.match(text)
    if named:
        return named.group(1).rstrip("：: ")
    first = _LIST_ITEM.sub("", text.splitlines()[0])
    return re.sub(r"\*\*(.+?)\*\*", r"\1", first).strip()


def _says_more(term: str, name: str, lang: Lang) -> bool:
    """Whether the words asked about hold more than the item's name and generic words (a field, a track)."""
    if lang == "zh":
        rest = to_simplified(term).replace(to_simplified(name).rstrip("：:"), "")
        return any(ch not in _GENERIC["zh"] for ch in rest)
    words = set(re.findall(r"[a-z]+", term.lower())) - set(re.findall(r"[a-z]+", name.lower()))
    return not words <= _GENERIC["en"]


def _bare(term: str) -> str:
    """A term as compared with an item's name: lower case, letters and characters only ("Total-factor" is
    "totalfactor")."""
    return re.sub(r"[^\w]|_", "", term.lower())


def _sentences(text: str, lang: str) -> list[str]:
    splitter = _ZH_SENTENCE if lang == "zh" else _EN_SENTENCE
    return [s.strip() for s in splitter.split(text) if s and len(s.strip()) > 1]


def _trim(sentence: str, limit: int, lang: str) -> str:
    if len(sentence) <= limit:
        return sentence
    cut = sentence[:limit]
    stop = max(cut.rfind(p) for p in ("，", "、", ",", ";", "；"))
    return (cut[:stop] if stop > limit // 2 else cut) + ("……" if lang == "zh" else "…")


def _sure(hit: FaqHit) -> bool:
    """An FAQ entry near the question in meaning and in words both, so that a word no text uses does not make the
    ask one about an unknown thing."""
    return hit.confidence >= FAQ_SURE_OVER_UNKNOWN and hit.coverage >= FAQ_SURE_COVERAGE
