"""Eligibility questions ("we make chips, which award can we enter?"): awards that fit, and the conditions."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property, lru_cache

from config.campaign import Award, Campaign, Keywords, Track
from knowledge.answer import Source, TextSource
from knowledge.tokens import normalize

# Ways of asking "may we / which one" — language, not campaign data, so they live here.
_INTENT = {
    "zh": re.compile(
        r"能报|可以报|能不能报|能否报|能参加|可以参加|能不能参加|能参与|能否参|适合报|适合哪|报哪|哪个奖|哪个榜|"
        r"哪一类|哪类|哪个类|算哪|归到|归哪|收不收|有没有资格|有资格|能申报|可以申报|能不能申报|能报么|能报吗|符合.{0,4}(条件|要求)|"
        r"属于哪|哪个(行业|领域|赛道|类目)|(对应|合适)的(类目|类别|赛道)|"
        # "光伏算不算你们说的行业", "在不在征集的领域里"
        r"(算不算|在不在|属不属于|是不是).{0,8}(行业|领域|赛道|类目|范围)"
    ),
    "en": re.compile(
        r"\b(eligible|eligibility|qualify|qualifies|in scope|within scope|which (\w+ )?(award|category|list|track|"
        r"prize|industry|sector|field|bucket)|fall(s)? (within|under|into)|belong(s)? (in|to(?! (us|our|who|whom|them|him|her|you|me|my|its|their)\b| (a|an|the) (\w+ )?(partner|uni|university|college|institute|lab|organi[sz]\w*|authors?|company|firm|person|owners?|third)\b))|count(s|ed)? (as|for|towards?|under)|"
        r"what (\w+ )?(award|category|list|field|industry|sector|track)|(can|could|may) (we|i|he|she|they|our \w+|my \w+|(a|an) ([\w-]+ ){0,2}[\w-]+) (\w+ )?(apply|enter|join|take part|"
        r"participate|compete)|allowed to (apply|enter)|is there a (category|award) for|"
        # "is that one of the sectors you accept?", "does that fit any of the industries?"
        r"(one|any|either) of (the|your|ur) (\w+ )?(industr\w*|sectors?|fields?|tracks?|categor\w*|awards?|groups?)|"
        # "do we go under new energy?", "is nuclear covered?", "is there a catch-all?"
        r"(go|goes|come|comes|sit|sits) (under|into)|(is|are|r) ([\w-]+ ){1,3}(under|part of) |(is|are) (\w+ ){1,3}(covered|included|accepted)|catch-?all|"
        # "we do optoelectronic chips, don't see it in the list. so it's not covered?"
        r"\b(it|that|this|we)('s| is|'re| are) (not |still )?(covered|included|accepted)\b|"
        # "not in the usual 7 industries. can still enter?": the entrant left out, as chat leaves it
        r"(?:^|(?<=[,.;?!] )|(?<=[,.;?!]))(can|could|may) (still |also |even )?(enter|apply|join|participate|take part)"
        r"(?=( or not| at all| too)?( (this|it|in|the (call|awards?|campaign|competition)))?( or not| at all| too)? *(\?+|$))|"
        # "industry-wise where do we sit?"
        r"(where|how) (do|would|does) (we|i|it|they|that) (sit|fit|belong|land|stand)|(industry|sector|category)-?wise|"
        # "is that new energy or high-end equipment?", "enter as a company or as a product?", "it fits?",
        # "do games even count?"
        r"(is|are|r) (that|this|it|we|they) (?!(allowed|ok|okay|fine|possible|permitted|acceptable|paid|given|awarded|sent|presented|handed)\b).{0,40}\bor\b|\bor ([\w-]+ ){1,3}(category|track|industry|sector|field|group)\b|(enter|apply|go|submit) as (a|an|the) |(it|that|this|we) "
        r"(fits?|qualif\w+)|do(es)? (\w+ ){1,3}(even )?count|"
        r"(fit|fits|match|matches|suit|suits) (any|one|an?) (award|category|industry|sector|track)|fits? (under|in|into) |"
        # "fits enterprise category or not?", "EV battery startup, put under new energy right?"
        r"fits? (the |your |ur )?[\w-]+ (award|category|industry|sector|track|group)|"
        r"(put|placed|filed|classed|classified|listed|categori[sz]ed) (under|into)|"
        # "steel alloys - ok under new materials?"
        r"\b(ok|okay|fine) (under|in) |"
        r"too (early|late|small|young|new|old)( for (us|me|them|it))? to (enter|apply)|"
        # "game company also can join meh?", "hardware startup can apply or not?": no one named, as Singlish asks
        r"(also|still) can (join|enter|apply|participate)|(?<!who )(?<!which )can (join|enter|apply|participate)( or not| anot| meh| lah| lor| not)?(?=\s*[?？!.]*$)|"
        # "do you even accept that kind of company?", "is that an industry you cover?", "which of your groups"
        r"(do|would|will) (you|u) (\w+ )?(accept|take|cover|allow|consider|include)|"
        # "is that even something you guys take?", "do we fit in somewhere?"
        r"something (you|u)( guys)? (accept|take|cover|allow|consider|include)|(do|would|does|will) (we|i|it|that|this) fit\b|"
        r"(industry|sector|field|track|category|award)( group)? (you|u) (cover|accept|take|include)|"
        r"which of (the|your) (\w+ )?(awards?|categor\w+|industr\w+|sectors?|tracks?|groups?|lists?)|"
        r"is there (even )?(an?|any) (\w+ )?(industry|sector|track|category|award)( group)? for|"
        r"(best|right|suitable|ideal|appropriate) (\w+ )?(award|category|list|track|fit))\b"
    ),
}


_NOT = {
    "zh": re.compile(r"(不是|并非|而非|不算)[^，。,.!?！？；;]{0,10}"),
    "en": re.compile(r"\b(not|isn't|aren't|rather than|instead of)( (a|an|the|really))? [\w-]+( [\w-]+){0,3}"),
}
# A size is not a group: "a 30-person biotech", "三个人的团队", "one-man company"; "我一个人能报吗" is a person.
_SIZE = {"zh": re.compile(r"[\d一二三四五六七八九十百几]+\s*(个)?人(的)?(团队|公司|规模|左右)"),
         "en": re.compile(r"\b(\d+|one|two|three|four|five|ten|twenty|fifty|hundred)[- ](person|people|man|strong)\b")}


# "先锋引擎和新锐潜力有啥区别", "what's the diff between the park award and the district one?"
_COMPARE = {
    "zh": re.compile(r"区别|差别|差异|不同|不一样|有何异同|怎么选|选哪个|哪个更"),
    "en": re.compile(r"\b(difference|diff|differ|differs|different from|versus|vs|compare|comparison|which (one )?should we pick|"
                     r"(should|shall|do) (we|i) (go for|pick|choose|enter|apply for))\b"),
}


# Trouble the asker tells of ("we had a chemical leak, can we still enter?"): the question is whether a rule bars
# them (the incidents rule, the IP rule), not which award fits what they make.
_TROUBLE = {
    "zh": re.compile(r"事故|丑闻|事件|泄漏|污染|违法|违规|处罚|罚款|官司|诉讼|纠纷|负面|不良记录"),
    "en": re.compile(r"\b(incidents?|accidents?|scandals?|leak(ed|s)?|spill(ed|s)?|controvers\w*|lawsuits?|litigation|"
                     r"fined|fines|penalt\w*|violations?|disputes?|fighting|bad press)\b"),
}


# What the asker says they lack of the basic requirements (research, R&D, projects put into practice, real
# investment): "we only have a pitch deck, no money spent yet, can we enter?" asks whether those requirements
# bar them, not which award fits.
_LACKING = {
    "zh": re.compile(r"(没有|没|还没|尚未|未|缺)(什么)?(融资|投入|投资|钱|研发|落地|产品|专利|实际项目|收入)|只有(一个)?(想法|概念|idea|创意|原型|demo|PPT|ppt)|"
                     r"还在(概念|构想|设想|实验室)阶段"),
    "en": re.compile(r"\b(no|zero|little|not much|without)( real| actual| own| of our own)? (funding|money|investment|revenue|"
                     r"r&d|research|product|deployment|customers)\b|\b(nothing|not yet|not|never been) (built|deployed|"
                     r"launched|in use)\b|\bno (money|funds?) spent\b|\b(only|just) (have )?(an? )?(idea|concept|prototype|"
                     r"pitch deck|deck)\b|\bpre-?(seed|revenue)\b|\bno real-world use\b"),
}


# Asking for the requirements themselves ("basic eligibility for a company? anything about IP?"): a rule the FAQ
# holds, not the awards for the asker's kind.
_REQUIREMENTS = {
    "zh": re.compile(r"条件|要求|门槛|标准|资格"),
    # "company eligibility - anything about compliance record?" asks what the rules ask of a company
    # "do we need our own IP to enter as a company?" asks what is required, not which award fits
    "en": re.compile(r"\b(requirements?|reqs?|conditions?|criteria|standards?|prerequisites?|eligibility|rules?)\b|"
                     r"\b(do|does|must) (we|i|they|it|the \w+|a \w+|our \w+) (need|have) (to (own|have|hold|be)|(our|their|its) own)\b"),
}


@dataclass(frozen=True)
class Verdict:
    """The eligibility answer and what it rests on."""

    text: str
    sources: list[Source]
    # The asker's field is one of the call's tracks: "does a VR studio count?" is answered yes.
    in_scope: bool = False

# What the asker would enter as, or the entrants an award is asked for ("is there an award for individuals?",
# "有没有面向个人的奖项").
_AS_A = {"zh": re.compile(r"以(.{1,6}?)(?:的)?(?:身份|名义)|(?:给|面向|针对|专门给)(.{1,6}?)的(?:奖|榜|类)"),
         # "enter as a company or as a product?" names both
         "en": re.compile(r"\b(?:(?:apply|enter|go|submit|compete|take part|participate) as|"
                          r"(?:award|prize|list|category|track)s? for) (?:an? |the )?"
                          r"([\w-]+(?: or (?:as )?(?:an? |the )?[\w-]+| [\w-]+)?)")}
_WHO = {"zh": re.compile(r"谁|什么人|哪些人"), "en": re.compile(r"\bwho\b")}
# "what gov policy support counts for pioneer engine?" asks what the award counts, not whether the asker fits
# (English only: "哪些企业算…" asks which fit)
_WHAT_COUNTS = re.compile(r"^(what|which) ([\w-]+ ){0,4}counts? (as|for|towards?|under)\b")


class Eligibility:
    """Matches an entrant's self-description against the campaign's groups, awards and tracks."""

    def __init__(self, *, campaign: Campaign, texts: TextSource) -> None:
        self.campaign = campaign
        self.texts = texts

    def assess(self, question: str, *, lang: str) -> Verdict | None:
        """A verdict when the question asks what the asker may enter; None for any other question."""
        text = normalize(question)
        if not _INTENT[lang].search(text) or (lang == "en" and _WHAT_COUNTS.search(text)):
            return None
        # What the asker says they are not ("not a company founder", "不是公司") describes nobody.
        text = _SIZE[lang].sub(" ", _NOT[lang].sub(" ", text))
        tracks = _most_specific(text, [t for t in self.campaign.tracks if _mentions(text, t.keywords)])
        if any(normalize(a.name.get(lang)) in text or normalize(a.name.zh) in text for a in self.campaign.awards):
            # The asker knows the award: only whether their field is in scope for it is left to say.
            return self._placed(text, tracks, lang=lang)
        groups = [g for g in self.campaign.groups if _mentions(text, g.keywords)]
        # A group asked for by its name ("企业高管可以报人物类吗") or as what the asker would enter as ("can I apply as
        # a person, or only companies?") is the one meant, whatever else the words say.
        entering_as = " ".join(part for found in _AS_A[lang].findall(text)
                               for part in (found if isinstance(found, tuple) else (found,)))
        named = [g for g in groups if normalize(g.name.get(lang)) in text or _mentions(entering_as, g.keywords)]
        groups = named or groups
        awards = [a for a in self.campaign.awards if _mentions(text, a.keywords)]
        if not (tracks or groups or awards):
            return None
        # A group the asker names ("our innovation district") outranks another group's award word in the
        # description ("20 years old, pretty established" is Pioneer Engine's word for a leading company).
        group_ids = {g.id for g in groups} or {a.group for a in awards}
        awards = [a for a in awards if a.group in group_ids]
        if tracks and not group_ids:
            group_ids = {"enterprise"} if "enterprise" in {g.id for g in self.campaign.groups} else set()
        fitting = self._rank(awards, group_ids)
        t = self.texts.t
        lines = []
        if tracks:
            lines.append(t("knowledge.eligibility.track", lang, tracks=self._track_names(tracks, lang)))
        if fitting:
            sep = "、" if lang == "zh" else "; "
            listed = sep.join(f"{a.name.get(lang)}（{self.campaign.group(a.group).name.get(lang)}）" if lang == "zh"
                              else f"{a.name.get(lang)} ({self.campaign.group(a.group).name.get(lang)})"
                              for a in fitting)
            lines.append(t("knowledge.eligibility.awards", lang, awards=listed))
            lines.append(t("knowledge.eligibility.about", lang, award=fitting[0].name.get(lang),
                           summary=fitting[0].summary.get(lang)))
        if "product" in group_ids:
            # A product entrant's first question is whether the product's kind is collected at all.
            lines.append(self._categories(lang))
        elif not tracks and group_ids & self._in_track_scope():
            sep = "、" if lang == "zh" else "; "
            lines.append(t("knowledge.eligibility.scope", lang,
                           tracks=sep.join(tr.name.get(lang) for tr in self.campaign.tracks)))
        lines.append(t("knowledge.eligibility.conditions", lang, deadline=self.campaign.deadline_display.get(lang)))
        lines.append(t("knowledge.eligibility.cite", lang))
        sources = [Source(doc="campaign", section="awards", title=a.name.get(lang), score=1.0) for a in fitting[:3]]
        # "do EV makers go under new energy?": a field placed in another track than the one the asker names is in
        # scope, but the answer to what was asked is not yes.
        guessed = {tr.id for tr in self.campaign.tracks if normalize(tr.name.get(lang)) in text}
        placed = {tr.id for tr in tracks}
        return Verdict(text="\n".join(lines), sources=sources,
                       in_scope=bool(placed) and (not guessed or bool(guessed & placed)))

    def _placed(self, text: str, tracks: list[Track], *, lang: str) -> Verdict | None:
        """Whether what the asker names fits the award they ask about: the tracks of their field for an award the
        tracks apply to ("does biomed count for the person award?"), the categories for the product award ("does a
        smart home gadget fit under the product award?"), each with what the award looks for; else None."""
        named = [a for a in self.campaign.awards if any(n in text for n in _short_names(a))]
        # "who is eligible for the individual award? only company people?" asks who, whatever field is told
        if not named or _WHO[lang].search(text):
            return None
        award = max(named, key=lambda a: max(len(n) for n in _short_names(a) if n in text))
        t = self.texts.t
        about = t("knowledge.eligibility.about", lang, award=award.name.get(lang), summary=award.summary.get(lang))
        if tracks and all(a.group in self._in_track_scope() for a in named):
            lines = [t("knowledge.eligibility.track", lang, tracks=self._track_names(tracks, lang)), about]
        elif award.group == "product" and len(named) == 1:
            lines = [about, self._categories(lang)]
        else:
            return None
        lines.append(t("knowledge.eligibility.cite", lang))
        return Verdict(text="\n".join(lines),
                       sources=[Source(doc="campaign", section="awards", title=award.name.get(lang), score=1.0)])

    def _in_track_scope(self) -> set[str]:
        """The groups whose entrants the industry tracks (二·征集范围) apply to."""
        return {g.id for g in self.campaign.groups if g.in_track_scope}

    def _categories(self, lang: str) -> str:
        sep = "、" if lang == "zh" else ", "
        return self.texts.t("knowledge.eligibility.categories", lang,
                            categories=sep.join(c.name.get(lang) for c in self.campaign.product_categories))

    @staticmethod
    def _track_names(tracks: list[Track], lang: str) -> str:
        """Each track with the guideline's examples of it: the asker sees their field in the track's own words."""
        if lang == "zh":
            return "、".join(f"{tr.name.zh}（{'、'.join(tr.examples.zh)}）" if tr.examples.zh else tr.name.zh
                            for tr in tracks)
        return "; ".join(f"{tr.name.en} ({', '.join(tr.examples.en)})" if tr.examples.en else tr.name.en
                         for tr in tracks)

    @staticmethod
    def asks_fit(question: str, *, lang: str) -> bool:
        """True when the question asks what the asker may enter or where they fit ("which track is that?")."""
        return bool(_INTENT[lang].search(normalize(question)))

    @staticmethod
    def tells_of_trouble(question: str, *, lang: str) -> bool:
        """True when the asker tells of an incident, a dispute or a penalty ("我们有个专利还在打官司，能报吗"), or
        of lacking what the rules ask of every entrant ("no funding yet, nothing deployed")."""
        text = normalize(question)
        return bool(_TROUBLE[lang].search(text) or _LACKING[lang].search(text))

    @cached_property
    def keyword_words(self) -> frozenset[str]:
        """The Latin words of the campaign's keywords ("esports", "lidar"): words of a field, not misspellings."""
        keywords = [k for item in (*self.campaign.tracks, *self.campaign.groups, *self.campaign.awards)
                    for k in (*item.keywords.zh, *item.keywords.en)]
        return frozenset(w for k in keywords for w in re.findall(r"[a-z]+", k.lower()))

    @staticmethod
    def asks_requirements(question: str, *, lang: str) -> bool:
        """True when the question asks what the rules require ("basic requirements for a company to enter?")."""
        return bool(_REQUIREMENTS[lang].search(normalize(question)))

    def compare(self, question: str, *, lang: str) -> Verdict | None:
        """Two to four awards set side by side, each with what it looks for, when the question compares them."""
        text = normalize(question)
        if not _COMPARE[lang].search(text):
            return None
        named, rest = self._named(text)
        if len(named) < 2:
            # By their words ("the park award"), or a group's with one award ("产品奖和人物奖").
            alone = {g.id for g in self.campaign.groups if sum(a.group == g.id for a in self.campaign.awards) == 1
                     and _mentions(rest, g.keywords)}
            named += [a for a in self.campaign.awards if a not in named and (
                _mentions(rest, a.keywords) or a.group in alone)]
        if not 2 <= len(named) <= 4:
            return None
        t = self.texts.t
        lines = [t("knowledge.eligibility.about", lang, award=a.name.get(lang), summary=a.summary.get(lang))
                 for a in named]
        lines.append(t("knowledge.eligibility.cite_awards", lang))
        sources = [Source(doc="campaign", section="awards", title=a.name.get(lang), score=1.0) for a in named]
        return Verdict(text="\n".join(lines), sources=sources)

    def named(self, question: str) -> list[Award]:
        """The awards the question names, by any of their names, in the campaign's order."""
        return self._named(normalize(question))[0]

    def without_names(self, question: str) -> str | None:
        """The question (normalised) without the awards it names; None when it names none."""
        named, rest = self._named(normalize(question))
        return rest if named else None

    def _named(self, text: str) -> tuple[list[Award], str]:
        """The awards a normalised text names, and the text without their names."""
        named: list[Award] = []
        rest = text
        # Longest names first, each taken out once found: "sci-tech pioneer product" is not also "sci-tech pioneer".
        # What entrants call an award goes too: "产品奖 (年度科创先锋产品)什么时候截止" is asked of the deadline.
        for name, award in sorted(((n, a) for a in self.campaign.awards
                                   for n in _short_names(a) | {normalize(x) for x in a.aliases.zh + a.aliases.en}),
                                  key=lambda pair: -len(pair[0])):
            if name in rest:
                rest = rest.replace(name, " ")
                if award not in named:
                    named.append(award)
        named.sort(key=self.campaign.awards.index)
        return named, rest

    def _rank(self, named: list[Award], group_ids: set[str]) -> list[Award]:
        """Awards of the matched groups, those the description points to most directly first."""
        pool = [a for a in self.campaign.awards if a.group in group_ids]
        return sorted(pool, key=lambda a: (a not in named, self.campaign.awards.index(a)))


def _short_names(award: Award) -> set[str]:
    """The names an entrant writes for an award: whole, without 年度 or "of the Year", in either language (no
    single English word: "pioneer" alone is in three names)."""
    zh, en = normalize(award.name.zh), normalize(award.name.en)
    short = en.removesuffix(" of the year")
    names = {zh, zh.removeprefix("年度"), en, short, short.removeprefix("sci-tech ")}
    if short.count(" ") >= 3:  # "new quality productive forces (enterprise)"
        names.add(short.rsplit(" ", 1)[0])
    return {n for n in names if (" " in n if n.isascii() else len(n) >= 3)}


def _most_specific(text: str, tracks: list[Track]) -> list[Track]:
    """The tracks named, less one named only by words inside another's longer keyword: "optoelectronic chips" are
    the STAR Market item's, not the chips of new-generation IT."""
    spans = {t.id: _spans(text, t.keywords) for t in tracks}

    def inside_another(track: Track, span: tuple[int, int]) -> bool:
        return any(start <= span[0] and span[1] <= end and end - start > span[1] - span[0]
                   for other in tracks if other is not track for start, end in spans[other.id])

    kept = [t for t in tracks if not all(inside_another(t, span) for span in spans[t.id])]
    return kept or tracks


def _spans(text: str, keywords: Keywords) -> list[tuple[int, int]]:
    """Where the text names one of the keywords."""
    latin, han = _keyword_pattern((*keywords.zh, *keywords.en))
    found = [(m.start(), m.end()) for word in han for m in re.finditer(re.escape(word), text)]
    return found + ([(m.start(), m.end()) for m in latin.finditer(text)] if latin is not None else [])


def _mentions(text: str, keywords: Keywords) -> bool:
    # Either language's words: "AI" in an English question, "EV battery pack" in a Chinese one.
    latin, han = _keyword_pattern((*keywords.zh, *keywords.en))
    return any(word in text for word in han) or (latin is not None and latin.search(text) is not None)


@lru_cache(maxsize=1024)
def _keyword_pattern(words: tuple[str, ...]) -> tuple[re.Pattern[str] | None, tuple[str, ...]]:
    """One pattern for the ASCII words, and the others: built once per list, not per question (a few ms each
    question spent escaping the same words)."""
    normalized = [normalize(w) for w in words]
    # ASCII words need word boundaries: "ar" must not match "solar", "ai" not "email"; a plural counts ("an award
    # for individuals").
    latin = [rf"{re.escape(w)}(?:e?s)?" for w in normalized if w.isascii()]
    pattern = re.compile(rf"(?<![a-z0-9])(?:{'|'.join(latin)})(?![a-z0-9])") if latin else None
    return pattern, tuple(w for w in normalized if not w.isascii())
