"""Understanding a message before retrieving: its asks, the kind of answer each wants, its script, yes or no."""

from __future__ import annotations

import pytest

from knowledge.answer import KnowledgeBase
from knowledge.question import Kind, is_traditional, kind_of, split_asks, to_simplified, to_traditional
from knowledge.tokens import Term
from knowledge.yes_no import lead, verdict


@pytest.mark.parametrize(
    ("message", "lang", "asks"),
    [
        ("截止时间是哪天，材料发到哪个邮箱？", "zh", ["截止时间是哪天", "材料发到哪个邮箱？"]),
        # A description of the asker's situation belongs to the question it leads to.
        ("我们是杭州做储能的公司，成立两年，能报名吗", "zh", ["我们是杭州做储能的公司，成立两年，能报名吗"]),
        ("报名费多少？另外结果什么时候公布", "zh", ["报名费多少？", "结果什么时候公布"]),
        ("when do entries close and where do we send the form", "en",
         ["when do entries close", "where do we send the form"]),
        ("We are a battery maker in Munich, which award fits us?", "en",
         ["We are a battery maker in Munich, which award fits us?"]),
        ("is it free? also can we send a video", "en", ["is it free?", "can we send a video"]),
        # "评多久" says too little to be retrieved alone: it stays with the ask before it.
        ("什么时候评审，评多久", "zh", ["什么时候评审，评多久"]),
        # A phone's space between two Chinese questions is a comma.
        ("报名费多少 材料会退回吗", "zh", ["报名费多少", "材料会退回吗"]),
        # Two question words about one thing are one ask; "whens" starts an ask as "when's" does.
        ("when and where do the finalists get announced?", "en", ["when and where do the finalists get announced?"]),
        ("we make drones. whens the cutoff and where do we email it", "en",
         ["we make drones., whens the cutoff", "where do we email it"]),
        # "几轮" asks: it is not the situation told before the next ask.
        ("初审分几轮 结果几月出", "zh", ["初审分几轮", "结果几月出"]),
        # A question word after what the asker did; "&" between two asks.
        ("once we send the file what happens then, and when are results out", "en",
         ["once we send the file what happens then", "when are results out"]),
        ("which list fits a science park & what is the fee", "en", ["which list fits a science park", "what is the fee"]),
        # A colon ends what leads in to the asks.
        ("two things: whens the deadline, and is it free?", "en", ["two things:, whens the deadline", "is it free?"]),
        # "1)", "2)" number the asks: each asks, with or without a question word, and the number is none of it.
        ("checking two things 1) closing date 2) where do we get the form", "en",
         ["checking two things, closing date?", "where do we get the form?"]),
        ("we make (1) a chip and (2) a board, which award?", "en", ["we make (1) a chip and (2) a board, which award?"]),
        # A relative "which" clause tells: the situation stays with the ask after it.
        ("we build lidar units, which isnt one of the listed fields. can we still enter?", "en",
         ["we build lidar units, which isnt one of the listed fields., can we still enter?"]),
        # "n" is a phone's "and".
        ("is the form in english? n where do i send it", "en", ["is the form in english?", "where do i send it"]),
        # A question word after a preposition starts an ask too.
        ("is the form a word file, and in what language do we fill it", "en",
         ["is the form a word file", "in what language do we fill it"]),
        # "e.g." ends no sentence
        ("what files can we attach, e.g. slides or videos?", "en", ["what files can we attach, e.g. slides or videos?"]),
        # chat's "r" for "are" starts an ask
        ("when do submissions close?? and r we allowed to send a video", "en",
         ["when do submissions close??", "r we allowed to send a video"]),
        # a plus before a question lists asks, and what it follows asks too; between what the asker tells, it joins
        ("review dates + how long does each round take?", "en", ["review dates?", "how long does each round take?"]),
        ("we have patents + a big team, which award fits?", "en", ["we have patents, a big team, which award fits?"]),
        # a question word after a preposition, or closing a clause, asks without a "?"
        ("is it free? and the form goes to which mailbox", "en", ["is it free?", "the form goes to which mailbox"]),
        ("what is the fee. and results are out when", "en", ["what is the fee.", "results are out when"]),
        # an English "and" between two Chinese questions; a question after when it would happen asks
        ("邮件发到哪个邮箱 and 标题怎么写", "zh", ["邮件发到哪个邮箱", "标题怎么写"]),
        ("is it free? and after the review do you return our samples", "en",
         ["is it free?", "after the review do you return our samples"]),
    ],
)
def test_a_message_splits_into_its_asks(message: str, lang: str, asks: list[str]):
    assert [a.text for a in split_asks(message, lang=lang)] == asks


@pytest.mark.parametrize(
    ("ask", "lang", "kind"),
    [
        ("一共有哪些奖项", "zh", Kind.LIST),
        ("能用英文提交吗", "zh", Kind.YES_NO),
        ("结果啥时候出", "zh", Kind.DATE),
        ("附件最大能传多少", "zh", Kind.AMOUNT),
        ("谁来当评委", "zh", Kind.WHO),
        ("报名流程是怎样的", "zh", Kind.HOW),
        ("list every product category please", "en", Kind.LIST),
        ("do we have to pay anything", "en", Kind.YES_NO),
        ("when are the results out", "en", Kind.DATE),
        ("if our video is too big, can we send a link instead?", "en", Kind.YES_NO),
        ("could you kindly confirm when entries close", "en", Kind.DATE),
        ("could you confirm that entering is free?", "en", Kind.YES_NO),
    ],
)
def test_each_ask_has_the_kind_of_answer_it_wants(ask: str, lang: str, kind: Kind):
    assert kind_of(ask, lang=lang) is kind


def test_traditional_characters_are_recognised_and_converted_both_ways():
    assert is_traditional("請問報名費用是多少？") and not is_traditional("请问报名费用是多少？")
    assert not is_traditional("When is the deadline?")
    assert to_simplified("報名截止時間") == "报名截止时间"
    assert to_traditional("报名截止时间") == "報名截止時間"
    # Characters, not Taiwan's words: the guideline's terms stay recognisable (not 智慧財產權, 資訊, 影片).
    assert to_traditional("知识产权、新一代信息技术、视频") == "知識產權、新一代信息技術、視頻"
    assert to_traditional("必须为自身持有") == "必須為自身持有"  # 為, as Hong Kong, Macao and Taiwan write it


class _Words:
    WORDS = ("报名费", "退还", "材料", "热线", "咨询", "实名", "匿名", "报名", "fee", "free", "english", "real name",
             "anonymously", "enter")
    # As knowledge/synonyms.yaml has them: a word entrants type → the documents' word.
    SYNONYMS = {"匿名": {"实名"}, "anonymously": {"real name"}, "free": {"fee"}}

    def tokens(self, text: str) -> list[str]:
        return [w for w in self.WORDS if w in text.lower()]

    def terms(self, question: str, *, lang: str) -> list[Term]:
        return [Term(w, frozenset({w, *self.SYNONYMS.get(w, ())})) for w in self.tokens(question)]


@pytest.mark.parametrize(
    ("question", "answer", "lang", "said"),
    [
        ("要交报名费吗", "本次征集不收取任何报名费。", "zh", False),
        ("材料会退还吗", "提交的材料不予退还。", "zh", False),
        ("is it free?", "Entering is free.", "en", True),
        # Clauses that disagree settle nothing; nor does a negated question, whose bare yes reads both ways.
        ("can we write in english", "Within China not in English; abroad in English or Chinese.", "en", None),
        ("不收报名费吗", "本次征集不收取任何报名费。", "zh", None),
        ("材料会退还吗", "截止时间为 10 月 20 日。", "zh", None),
        # It shares 咨询 with the question but says nothing of a 热线: no "有".
        ("有没有咨询热线", "目前只接受邮件咨询。", "zh", None),
        # The answer speaks of the asked word's opposite: the other way round.
        ("可以匿名报名吗", "参与对象应实名报名。", "zh", False),
        ("Can I enter anonymously?", "You must enter under your real name.", "en", False),
        ("is it free?", "No fee is charged.", "en", True),
        ("is it free?", "No fee is charged; entering is free.", "en", None),
    ],
)
def test_yes_or_no_is_read_off_the_answer_only_when_it_is_unambiguous(
    question: str, answer: str, lang: str, said: bool | None
):
    assert verdict(question, answer, lang=lang, tokenizer=_Words()) is said


def test_a_chinese_yes_or_no_echoes_the_question_verb():
    assert lead("能用英文吗", True, lang="zh") == "可以。"
    assert lead("需要盖章吗", False, lang="zh") == "不需要。"
    assert lead("报名要交费吗", False, lang="zh") == "不收费。"
    assert lead("要寄纸质材料吗", False, lang="zh") == "不需要。"
    assert lead("is it free", True, lang="en") == "Yes."


async def test_every_ask_of_a_message_is_answered_with_its_citation(kb: KnowledgeBase):
    answer = await kb.answer("报名什么时候截止？材料发到哪个邮箱？")
    assert answer.answered
    assert "10 月 20 日" in answer.answer and "kcxf@thepaper.cn" in answer.answer
    assert answer.answer.count("（见《申报指南》") == 2


async def test_a_list_question_gets_the_whole_list(kb: KnowledgeBase):
    answer = await kb.answer("征集的企业行业一共有哪些，全部列一下")
    assert answer.answered
    for track in ("新一代信息技术", "高端装备", "新材料", "新能源", "节能环保", "生物医药", "数字创意产业"):
        assert track in answer.answer, answer.answer


async def test_a_question_in_traditional_characters_is_answered_in_them(kb: KnowledgeBase):
    answer = await kb.answer("請問報名截止日期是哪一天？")
    assert answer.answered and answer.lang == "zh"
    assert "10 月 20 日" in answer.answer and "截止" in answer.answer and "報名" in answer.answer
    assert "报名" not in answer.answer


async def test_a_yes_no_question_starts_with_the_answer(kb: KnowledgeBase):
    fee = await kb.answer("报名需要交钱吗？")
    assert fee.answered and fee.answer.startswith("不"), fee.answer
    # "No application fee …; entering is free": one clause negated, one not — no bare yes or no is put first.
    english = await kb.answer("Is there an application fee?")
    assert english.answered and "no application fee" in english.answer.lower(), english.answer
    assert not english.answer.startswith(("Yes", "No.")), english.answer
    files = await kb.answer("Will the materials we send be returned?")
    assert files.answered and files.answer.startswith("No"), files.answer
    # "printed" and "samples" mean materials (the synonym table), though the question says "materials" too.
    samples = await kb.answer("do we get the printed samples and materials back afterwards?")
    assert samples.answered and "not be returned" in samples.answer, samples.answer
    # Asked by the opposite word: "不收取任何报名费用" is a yes to "免费", "应实名报名" a no to "匿名".
    free = await kb.answer("是免费的吗")
    assert free.answered and free.answer.startswith("是的。"), free.answer
    for question, no in (("可以匿名报名吗", "不可以。"), ("Can I enter anonymously?", "No.")):
        named = await kb.answer(question)
        assert named.answered and named.answer.startswith(no), named.answer


@pytest.mark.parametrize(
    "question",
    ["评分时各个维度的权重分别是多少？", "每个奖项最后选几家，名额多少", "颁奖典礼在哪个酒店举办",
     "What is the minimum registered capital to enter?", "Is there an age limit for the person award?",
     # another edition named by its year; travel costs; staff numbers; people's names
     "2022年那届的获奖名单能发我吗", "Who were the finalists of the 2021 edition?", "参加论坛的路费能报销吗",
     "how many staff does a company need to have", "can you give me the names of the judging panel?",
     # a limit on how many, which the guideline never sets; the organisation behind a data source it never names
     "每位推荐专家最多可以推荐多少个项目", "what organisation supplies the big data the judges use?",
     # whether the deadline moves; changing an entry once sent; who exactly sits on the jury; another year's
     # winner; an English ask inside a Chinese message
     "交材料的时间还能往后延期吗", "Could the organisers postpone the closing date?",
     "发完邮件之后发现写错了，还能修改吗", "Can I withdraw my entry once it has been sent?",
     "评委会里具体有哪几家高校", "which exact universities sit on the jury?", "2022年度先锋引擎是哪家公司拿的",
     "报名表有没有page limit",
     # how entrants are told, which the guideline never says; a page count it never sets
     "进了复评会不会短信通知我们", "Will you notify us by email if we make the shortlist?",
     "what's the maximum number of pages for the project write-up?",
     # a receipt; a revenue threshold; last year's winners
     "Will we get an acknowledgement email once our entry arrives?",
     "营收有没有门槛", "去年的年度先锋引擎是哪几家",
     # a time zone, which the guideline never names; feedback on a rejected entry; last round's winners;
     # a short follow-up asking for the names the answer before it lacks
     "Does midnight on the 20th mean China time or UTC?", "报名截止是按北京时间算吗",
     "If our entry is turned down, will someone explain why?", "落选了能拿到评审意见吗",
     "which startup won Rising Potential last time?", "去年年度科创园区榜单上都有哪些园区",
     "who sits on the jury? any names?",
     # an edition named by 往年 or 那届; the jury's chair by name; being told of a rejection; a live pitch; an appeal
     "往年的科创论坛都请过哪些嘉宾", "2022年那届几号截止的", "whos the chair of the jury this year?",
     "will we be told if we don't make it?", "do finalists have to pitch live to the jury?", "对评审结果不服可以申诉吗",
     # which side of the language rule Macao or Taiwan is on; what a nominating expert needs; a follow-up asking
     # for the list of names
     "我们公司在澳门注册，算境内还是境外？", "Our studio is in Taipei. Are we treated as domestic or overseas?",
     "推荐专家本人要具备什么条件", "评审专家都有谁？发一下名单呗",
     # any fact of another edition named by 上届 or "the previous edition"
     "上届（2022年）的评委都有谁", "what was the theme of the previous edition?",
     # a count; which side of the language rule, named in Chinese within English; a translation asked of the bot
     "how many experts sit on the jury?", "Taiwan team here, counted as 境外 or 境内 for the language of the materials?",
     "能不能帮我把申报材料翻译成英文",
     # a translation or code asked of the bot in the imperative; a postal address to ship a device to; the chair of
     # the jury; a weighting; a winner of the year before, asked after the year
     "translate 'innovation district' into Korean pls", "write some python code to send the application email",
     "what's the mailing address? we want to post a sample device", "who heads the judging panel this year?",
     "What is the weightage of each of the criteria for products?", "2022: who won the park award?",
     # a video's length; a revenue bar; another edition as "the 2026 one" or asked which it was; a prize pool; a
     # cap on winners; a number asked for; the chair, asked back to front
     "how long can our demo video be at most?", "min yearly revenue for the pioneer engine?",
     "we'll skip this year. when does the 2026 one open?", "2022年的年度科创园区是哪个？", "what's the prize pool?",
     "max number of winners per award?", "how much funding counts as strong fundraising? a number please",
     "who the panel chair is, can you tell me?",
     # revising an entry once sent; the reasons for a rejection; how someone named is told
     "can we revise the entry after sending it? spotted an error", "if we're turned down will they give us the reason?",
     "if he gets shortlisted will they call him or me?"],
)
async def test_a_kind_of_fact_the_guideline_never_states_is_declined(kb: KnowledgeBase, question: str):
    answer = await kb.answer(question)
    assert not answer.answered, answer.answer


async def test_an_age_the_asker_tells_is_not_an_age_asked_for(kb: KnowledgeBase):
    # Before, "years old" made this ask for an age, which no award's text states: declined.
    answer = await kb.answer("our startup is only 3 years old and growing like crazy. which enterprise award suits us?")
    assert answer.answered and "Rising Potential" in answer.answer, answer.answer


async def test_a_when_question_is_answered_with_a_date_not_with_the_entry_nearest_in_words(kb: KnowledgeBase):
    # "… for submissions" is word for word an FAQ variant about the mailbox; "when" wants the deadline.
    deadline = await kb.answer("when's the cut-off for submissions?")
    assert deadline.answered and "20 October" in deadline.answer, deadline.answer
    review = await kb.answer("When does the reviewing take place?")
    assert review.answered and "21" in review.answer and "25" in review.answer, review.answer


async def test_a_homophone_typo_is_read_as_the_word_it_sounds_like(kb: KnowledgeBase):
    answer = await kb.answer("报名邮相是啥")  # 邮相 typed for 邮箱 (both youxiang)
    assert answer.answered and "kcxf@thepaper.cn" in answer.answer, answer.answer
    assert answer.question == "报名邮相是啥"  # logged as typed


def test_only_a_pair_of_lone_characters_sounding_like_a_known_noun_is_corrected():
    from knowledge.tokens import Tokenizer
    from knowledge.typos import HomophoneFixer

    tokenizer = Tokenizer()
    fixer = HomophoneFixer({"邮箱", "公章", "利用", "不能"}, segment=tokenizer.segments)
    assert fixer.fix("申报表要盖公张吗") == "申报表要盖公章吗"
    # 里 and 用 are words typed right ("产品里用的专利"); 还能 is no slip for 不能 (nor a noun).
    assert fixer.fix("我们产品里用的专利") == "我们产品里用的专利"
    assert fixer.fix("现在还能报名吗") == "现在还能报名吗"


async def test_an_award_named_in_the_other_language_is_understood(kb: KnowledgeBase):
    # Entrants write a name as they saw it: the Chinese name inside an English question.
    answer = await kb.answer("what does 先锋引擎 look for?")
    assert answer.answered and "Pioneer Engine" in answer.answer, answer.answer


async def test_a_field_described_in_everyday_words_is_placed_in_its_track_with_the_guidelines_examples(
        kb: KnowledgeBase):
    answer = await kb.answer("We design wind turbines for offshore farms. Is that one of the industries you take?")
    assert answer.answered and "New energy" in answer.answer, answer.answer
    assert "large-scale wind power" in answer.answer, answer.answer  # the guideline's example, quoted
    chinese = await kb.answer("我们是做碳纤维零件的，算不算你们征集的行业")
    assert chinese.answered and "新材料" in chinese.answer and "高性能复合材料" in chinese.answer, chinese.answer


async def test_what_the_asker_says_they_are_not_does_not_describe_them(kb: KnowledgeBase):
    answer = await kb.answer("I lecture and do research, I'm not a company founder. Can I still apply myself?")
    assert answer.answered, answer.answer
    awards = answer.answer.splitlines()[0]
    assert "Sci-Tech Pioneer of the Year" in awards and "Pioneer Engine" not in awards, answer.answer


async def test_a_named_kind_of_entrant_outranks_another_kinds_award_word(kb: KnowledgeBase):
    # "well established" is Pioneer Engine's word for a leading company; the asker is a district.
    answer = await kb.answer("Our innovation quarter is well established and decades old. Too late to apply?")
    assert answer.answered and "Pioneer Engine" not in answer.answer, answer.answer
    assert "Innovation District" in answer.answer and "relatively mature" in answer.answer, answer.answer


async def test_an_award_is_found_by_its_criteria_described_in_the_askers_words(kb: KnowledgeBase):
    answer = await kb.answer("We already get tax incentives and an R&D subsidy, and have key clients in the grid "
                             "sector. Which award is the best fit?")
    assert answer.answered and "could enter: Pioneer Engine of the Year" in answer.answer, answer.answer  # first


async def test_two_awards_compared_are_set_side_by_side(kb: KnowledgeBase):
    chinese = await kb.answer("年度科创园区跟科创街区差别在哪")
    assert chinese.answered and "「年度科创园区」" in chinese.answer and "「年度科创街区」" in chinese.answer, chinese.answer
    assert "产业布局" in chinese.answer and "城市治理" in chinese.answer, chinese.answer
    english = await kb.answer("New Quality Productive Forces vs Rising Potential, how do they differ?")
    assert english.answered, english.answer
    assert english.answer.startswith("New Quality Productive Forces Enterprise of the Year:"), english.answer
    assert "Rising Potential of the Year:" in english.answer and "Pioneer Engine" not in english.answer


def test_an_english_slip_of_one_letter_is_read_as_the_knowledge_bases_word_but_a_real_word_is_left_alone():
    from knowledge.typos import SpellingFixer

    fixer = SpellingFixer({"deadline", "eight", "round", "mailbox"}, known=lambda word: word in {"deadline"})
    assert fixer.fix("Whats the deadine? And the maibox?") == "Whats the deadline? And the mailbox?"
    # English words one letter from a knowledge-base word are what the asker meant: weight is no slip for eight.
    assert fixer.fix("what weight does IP get, and who found it") == "what weight does IP get, and who found it"


def test_phone_spellings_are_written_out_and_numbers_stay_numbers():
    from knowledge.typos import expand_chat_spellings

    assert expand_chat_spellings("wat r the R&D rules 4 a lab spin-off? n can u send 2 projects") == \
        "what are the R&D rules for a lab spin-off? and can you send 2 projects"
    assert expand_chat_spellings("does some prof have 2 nominate me? we hv 3 diff products, not n/a") == \
        "does some prof have to nominate me? we have 3 different products, not n/a"
    assert expand_chat_spellings("the diff between the two awards, 2 yrs ago") == \
        "the diff between the two awards, 2 years ago"


async def test_a_question_in_phone_spelling_with_a_slip_is_answered(kb: KnowledgeBase):
    # "wen", "r" and "anounced": a phone's spellings, and a slip for an English word the knowledge base words
    # otherwise ("announces")
    answer = await kb.answer("wen do u anounce who made the cut")
    assert answer.answered and "late October" in answer.answer, answer.answer


async def test_a_misspelt_english_question_is_answered(kb: KnowledgeBase):
    answer = await kb.answer("Where do I get the aplication form?")
    assert answer.answered and "Word" in answer.answer, answer.answer


async def test_an_ask_after_one_about_another_edition_is_about_that_edition_too(kb: KnowledgeBase):
    later = await kb.answer("2026年还会办吗？大概什么时候开始报名？")
    assert not later.answered, later.answer
    # Said to be about this year, the second ask is answered.
    now = await kb.answer("2021年的获奖名单有吗？今年截止是哪天？")
    assert now.answered and "10 月 20 日" in now.answer, now.answer


async def test_a_request_for_a_service_the_committee_never_offers_is_declined(kb: KnowledgeBase):
    for request in ("Could you translate our pitch deck into Chinese?", "帮我写一份申报材料吧"):
        answer = await kb.answer(request)
        assert not answer.answered, answer.answer


async def test_an_asker_telling_of_an_incident_gets_the_rule_not_the_awards_for_their_field(kb: KnowledgeBase):
    answer = await kb.answer("Last year a solvent spill at our factory was on the national news. Can we still enter?")
    assert answer.answered and "3 years" in answer.answer, answer.answer
    assert "Awards you could enter" not in answer.answer, answer.answer


async def test_the_guidelines_conditions_for_a_company_answer_a_question_about_them(kb: KnowledgeBase):
    answer = await kb.answer("Is a company with a contested patent ownership still allowed in?")
    assert answer.answered and "no ownership disputes" in answer.answer, answer.answer
    content = await kb.answer("参选项目的内容方面有什么规定")
    assert content.answered and "科创主题" in content.answer, content.answer


async def test_a_question_after_a_situation_is_matched_on_the_question(kb: KnowledgeBase):
    # The worry told first shares few words with the FAQ; the question after it is the jury's principles.
    answer = await kb.answer("Our board is nervous about sharing revenue figures. Which principles guide the jury?")
    assert answer.answered and "confidentiality" in answer.answer, answer.answer


async def test_everyday_ways_of_asking_for_a_track_reach_the_eligibility_matcher(kb: KnowledgeBase):
    reactor = await kb.answer("we're building small nuclear reactors, is that covered?")
    assert reactor.answered and "New energy" in reactor.answer, reactor.answer
    # "phone chips" asks for no phone number
    chips = await kb.answer("our team designs IC for phone chips, which industry would that be?")
    assert chips.answered and "information technology" in chips.answer, chips.answer
    for question, track in (("we build VR trainers for surgeons, sector-wise where would we sit?", "Digital creative"),
                            ("solar farm builder here - is that something you accept?", "New energy"),
                            ("r we high-end equipment or new materials? we make carbon fibre drone frames", "New materials"),
                            ("graphene coatings for ships: new materials or energy saving category?", "New materials")):
        answer = await kb.answer(question)
        assert answer.answered and track in answer.answer, answer.answer


async def test_why_the_call_is_run_is_answered_with_what_it_honours(kb: KnowledgeBase):
    for question, honours in (("what's the idea behind these awards, why run them at all?", "new quality productive forces"),
                              ("澎湃搞这个评选图啥", "新质生产力")):
        answer = await kb.answer(question)
        assert answer.answered and honours in answer.answer, answer.answer


async def test_the_urban_governance_category_is_described_by_what_its_cases_stand_out_for(kb: KnowledgeBase):
    answer = await kb.answer("which sorts of projects go in the urban governance group?")
    assert answer.answered and "innovation resources" in answer.answer and "talent" in answer.answer, answer.answer


@pytest.mark.parametrize(
    ("question", "explained"),
    [("what do you guys mean by 'high quality' exactly?", "lean production"),
     ("what does intelligence and digitalisation really mean", "automation"),
     ("“全要素提升”到底是啥意思", "劳动力、资本、技术和管理"),
     ("what is meant by other fields that fit the STAR market's remit", "optoelectronic chips"),
     # word order as a non-native writer may put it
     ("what means 'high efficiency' for the enterprise award?", "production processes")],
)
async def test_what_a_term_means_is_answered_by_the_item_that_explains_it(kb: KnowledgeBase, question: str,
                                                                        explained: str):
    answer = await kb.answer(question)
    assert answer.answered and explained in answer.answer, answer.answer


async def test_a_what_if_case_before_the_question_is_the_case_not_the_question(kb: KnowledgeBase):
    # Matched as one, the case's words ("CEO", "Dutch citizen") held the language entry under the confidence bar.
    answer = await kb.answer("what if our CEO is a Dutch citizen — could the application be in English?")
    assert answer.answered and "Chinese or English" in answer.answer, answer.answer


async def test_a_proposal_is_an_entry(kb: KnowledgeBase):
    answer = await kb.answer("may one lab hand in several proposals?")
    assert answer.answered and "several projects" in answer.answer, answer.answer


async def test_a_question_after_a_long_preamble_is_answered_not_the_preamble(kb: KnowledgeBase):
    zh = await kb.answer("你好，我们是一家做激光雷达的公司，在无锡，人不多，领导刚在澎湃新闻上看到科创先锋征集，叫我抓紧准备。"
                         "请问报名截止到几号几点？")
    assert zh.answered and "10 月 20 日" in zh.answer, zh.answer
    en = await kb.answer("Hi, we applied for the Rising Potential award on Oct 2. the investors keep asking. "
                         "when do results come out?")
    assert en.answered and "November" in en.answer, en.answer


async def test_a_copyright_complaint_is_not_an_appeal_against_the_result(kb: KnowledgeBase):
    answer = await kb.answer("a stock photo agency filed a complaint over images in our entry, what happens then?")
    assert answer.answered and "revoke" in answer.answer, answer.answer


async def test_what_the_fee_costs_is_answered_by_no_fee_and_prize_money_stays_declined(kb: KnowledgeBase):
    for question in ("报名费要交多少钱？", "heard the entry fee is 300 rmb, true?"):
        answer = await kb.answer(question)
        assert answer.answered and ("不收取" in answer.answer or "No application fee" in answer.answer), answer.answer
    both = await kb.answer("do we pay anything to enter? and how much cash does a winner get?")
    assert both.answered and "No application fee" in both.answer, both.answer
    assert "does not answer the rest" in both.answer, both.answer


async def test_is_a_field_under_a_track_reaches_the_eligibility_matcher(kb: KnowledgeBase):
    answer = await kb.answer("is geothermal under new energy? we drill wells for heat")
    assert answer.answered and "New energy" in answer.answer, answer.answer


async def test_how_many_entries_one_may_send_is_a_limit_not_a_quota_of_winners(kb: KnowledgeBase):
    answer = await kb.answer("how many applications can one firm send in? we've got 4 products")
    assert answer.answered and "no limit" in answer.answer, answer.answer
    capped = await kb.answer("we have a few spin-offs and products. is there any cap on how many entries a single firm can file?")
    assert capped.answered and "no limit" in capped.answer, capped.answer
    winners = await kb.answer("how many entries will win in each category?")
    assert not winners.answered, winners.answer


async def test_an_asker_lacking_what_every_entrant_needs_gets_the_basic_requirements(kb: KnowledgeBase):
    answer = await kb.answer("We are two engineers with just a concept, no funding and nothing built. Can we enter?")
    assert answer.answered and "real investment" in answer.answer, answer.answer
    assert "Awards you could enter" not in answer.answer, answer.answer


async def test_a_request_to_walk_through_something_is_not_a_yes_or_no_question(kb: KnowledgeBase):
    assert kind_of("could you walk me through the stages?", lang="en") is not Kind.YES_NO
    answer = await kb.answer("could u break down the schedule phase by phase")
    assert answer.answered and "21–25 October" in answer.answer, answer.answer


async def test_choosing_between_two_awards_sets_them_side_by_side(kb: KnowledgeBase):
    answer = await kb.answer("should we go for Rising Potential or Pioneer Engine?")
    assert answer.answered and "Rising Potential" in answer.answer and "Pioneer Engine" in answer.answer, answer.answer


async def test_a_researcher_who_says_they_run_no_company_is_pointed_to_the_person_award(kb: KnowledgeBase):
    answer = await kb.answer("I'm a biology prof, not working for any company. which award could I go for?")
    assert answer.answered and "Sci-Tech Pioneer of the Year" in answer.answer.split("\n")[0], answer.answer


async def test_asking_for_a_companys_requirements_gets_them_not_the_awards(kb: KnowledgeBase):
    answer = await kb.answer("what conditions does a firm have to satisfy to be eligible, e.g. on patents or its record?")
    assert answer.answered and "adverse record" in answer.answer, answer.answer
    assert "Awards you could enter" not in answer.answer, answer.answer


async def test_the_entrants_own_phone_number_on_the_form_asks_for_no_phone_number(kb: KnowledgeBase):
    answer = await kb.answer("申报表上的联系电话写错了会怎么样")
    assert answer.answered and "负责" in answer.answer, answer.answer


async def test_english_terms_inside_a_chinese_question_are_read_as_the_guidelines_words(kb: KnowledgeBase):
    answer = await kb.answer("报名的deadline是哪天？参加要交entry fee吗")
    assert answer.answered and "10 月 20 日" in answer.answer and "报名费" in answer.answer, answer.answer


async def test_asking_for_any_contact_gets_the_email_though_a_phone_is_named_beside_it(kb: KnowledgeBase):
    for question in ("how do i reach the organisers? phone/email, either is fine",
                     "how can we get in touch with the committee? we'd prefer a phone call if there's one"):
        answer = await kb.answer(question)
        assert answer.answered and "kcxf@thepaper.cn" in answer.answer, (question, answer.answer)
    assert not (await kb.answer("what's the committee's phone number?")).answered


async def test_last_years_winners_in_chat_spelling_are_another_editions(kb: KnowledgeBase):
    answer = await kb.answer("which company took the district award last yrs?")
    assert not answer.answered, answer.answer


async def test_a_field_asked_about_for_a_named_award_is_placed_in_its_track(kb: KnowledgeBase):
    answer = await kb.answer("i work on gene therapies at a pharma startup, is that in scope for the person award?")
    assert answer.answered and "Biomedicine" in answer.answer and "Sci-Tech Pioneer of the Year" in answer.answer, \
        answer.answer
    # who may enter is what the award's own entry says, whatever field the asker is in
    answer = await kb.answer("my colleague builds wind farms; who is eligible for the individual award?")
    assert answer.answered and "researchers" in answer.answer and "falls under a track" not in answer.answer, \
        answer.answer


async def test_everyday_words_for_a_bar_and_a_weekday_reach_the_rules_words(kb: KnowledgeBase):
    answer = await kb.answer("our firm had a factory fire in the news last year. are we barred from applying?")
    assert answer.answered and "3 years" in answer.answer, answer.answer
    answer = await kb.answer("does the deadline fall on a weekend?")
    assert answer.answered and "Sunday" in answer.answer, answer.answer


async def test_what_an_asker_would_enter_as_names_the_group_meant(kb: KnowledgeBase):
    answer = await kb.answer("i'm a professor working on batteries. can i enter as a person, or must a company enter?")
    assert answer.answered and "Sci-Tech Pioneer of the Year" in answer.answer, answer.answer
    assert "Rising Potential" not in answer.answer, answer.answer


async def test_whether_a_thing_fits_under_the_product_award_gets_its_categories(kb: KnowledgeBase):
    answer = await kb.answer("would a sleep-tracking smart ring fit under the product award?")
    assert answer.answered and "Wearable technology products" in answer.answer, answer.answer


async def test_a_guideline_term_written_in_the_other_language_is_read_in_the_askers(kb: KnowledgeBase):
    answer = await kb.answer("where should the 申报表 be emailed?")
    assert answer.answered and "kcxf@thepaper.cn" in answer.answer, answer.answer
    answer = await kb.answer("参选一定要用real name吗")
    assert answer.answered and "实名" in answer.answer, answer.answer


async def test_a_question_of_a_word_after_a_situation_is_not_matched_alone(kb: KnowledgeBase):
    # "Allowed?" alone is nearest "Is self-nomination allowed?", which says nothing of what was told before it
    answer = await kb.answer("we'd put the firm in one award and its product in another. Allowed?")
    assert "self-nomination" not in answer.answer, answer.answer


async def test_patents_in_an_entry_owned_by_the_entrant_itself_is_a_known_rule(kb: KnowledgeBase):
    answer = await kb.answer("do the patents featured in a client's entry have to be owned by the client itself?")
    assert answer.answered and "held by the entrants themselves" in answer.answer, answer.answer


async def test_a_street_address_is_declined_where_only_the_city_is_known(kb: KnowledgeBase):
    answer = await kb.answer("could you give me the committee's full street address? we'd hand in a printed copy")
    assert not answer.answered, answer.answer
    answer = await kb.answer("组委会的具体地址在哪条路几号？")
    assert not answer.answered, answer.answer
    answer = await kb.answer("which city is the committee in?")
    assert answer.answered and "Shanghai" in answer.answer, answer.answer


async def test_an_award_asked_for_a_group_names_that_group_over_the_askers_company(kb: KnowledgeBase):
    answer = await kb.answer("Other than the firm itself, I'm also our CTO. Is there an award for individuals? what is its name")
    assert answer.answered and "Sci-Tech Pioneer of the Year" in answer.answer, answer.answer
    assert "Rising Potential" not in answer.answer, answer.answer


async def test_a_headcount_is_not_the_person_group(kb: KnowledgeBase):
    answer = await kb.answer("we're a 12-person startup building drug discovery software, which awards could we enter?")
    assert answer.answered and "Rising Potential" in answer.answer, answer.answer
    assert "Sci-Tech Pioneer of the Year (People)" not in answer.answer, answer.answer


async def test_a_field_in_the_calls_tracks_asked_yes_or_no_is_answered_yes(kb: KnowledgeBase):
    answer = await kb.answer("we design mobile games, can we take part?")
    assert answer.answer.startswith("Yes.") and "Digital creative" in answer.answer, answer.answer
    answer = await kb.answer("我们是做手游的工作室，能报吗")
    assert answer.answer.startswith("可以。") and "数字创意" in answer.answer, answer.answer


async def test_everyday_words_for_a_nominee_and_manuscripts_reach_the_rules_words(kb: KnowledgeBase):
    answer = await kb.answer("can a nominee stay anonymous?")
    assert answer.answered and "real name" in answer.answer, answer.answer
    answer = await kb.answer("稿子会寄回给我们吗")
    assert answer.answered and "不退稿" in answer.answer, answer.answer


async def test_money_asked_after_what_winners_get_does_not_unmake_the_answer(kb: KnowledgeBase):
    answer = await kb.answer("so what does a finalist receive? any cash?")
    assert answer.answered and "trophy" in answer.answer, answer.answer
    answer = await kb.answer("is there prize money? how much")
    assert not answer.answered, answer.answer


async def test_another_file_format_than_the_forms_is_declined_but_the_forms_format_is_answered(kb: KnowledgeBase):
    answer = await kb.answer("would you take the entry form as a pdf rather than the docx?")
    assert not answer.answered, answer.answer
    answer = await kb.answer("申报表能不能交PDF")
    assert not answer.answered, answer.answer
    answer = await kb.answer("what format is the entry form in, word or pdf?")
    assert answer.answered and "Word" in answer.answer, answer.answer


async def test_how_many_will_be_picked_and_an_amount_after_a_yes_no_ask_are_declined(kb: KnowledgeBase):
    answer = await kb.answer("how many districts will really be chosen for Sci-Tech Innovation District of the Year?")
    assert not answer.answered, answer.answer
    answer = await kb.answer("入围名单里大概有多少个园区？")
    assert not answer.answered, answer.answer
    # the amount stays with the yes/no ask before it
    answer = await kb.answer("论坛门票要自己出钱吗？多少钱？")
    assert not answer.answered, answer.answer


async def test_when_the_asker_hears_back_is_the_results_date_and_a_nomination_is_putting_forward(kb: KnowledgeBase):
    answer = await kb.answer("when would we hear back from you?")
    assert answer.answered and "November" in answer.answer, answer.answer
    answer = await kb.answer("an investor of ours would like to put us forward, does that work?")
    assert answer.answered and "expert recommendation" in answer.answer, answer.answer


async def test_the_guidelines_everyday_terms_written_in_chinese_inside_english_are_read_in_english(kb: KnowledgeBase):
    answer = await kb.answer("for 企业 and 人物 entries which 5 维度 get used?")
    assert answer.answered and "financing progress" in answer.answer, answer.answer
    answer = await kb.answer("a rival says we copied their 专利 - what then?")
    assert answer.answered and "held by the entrants themselves" in answer.answer, answer.answer
    # the kind of fact asked for is read in English too: an extension, a length
    answer = await kb.answer("could the cutoff be 延期 by a few days?")
    assert not answer.answered, answer.answer
    answer = await kb.answer("is there a 字数限制 on the form?")
    assert not answer.answered, answer.answer


async def test_a_later_years_call_is_another_edition_but_a_founding_year_is_not(kb: KnowledgeBase):
    answer = await kb.answer("2026年大概几月份可以申报")
    assert not answer.answered, answer.answer
    answer = await kb.answer("how many invention patents would count as enough for Rising Potential?")
    assert not answer.answered, answer.answer
    answer = await kb.answer("我们2019年成立的公司，能报名吗")
    assert answer.answered, answer.answer


async def test_an_awards_ceremony_the_guideline_never_holds_is_declined(kb: KnowledgeBase):
    answer = await kb.answer("when is the award ceremony? my boss needs the date")
    assert not answer.answered, answer.answer
    answer = await kb.answer("is there any event for finalists, like a conference?")
    assert answer.answered and "Forum" in answer.answer, answer.answer


async def test_shen_qing_is_shen_bao_and_how_many_win_is_a_quota(kb: KnowledgeBase):
    answer = await kb.answer("我們在香港，申請表可以用英文填嗎？")
    assert answer.answered and "英文" in answer.answer, answer.answer
    answer = await kb.answer("how many startups win Rising Potential?")
    assert not answer.answered, answer.answer
    answer = await kb.answer("we may skip the ceremony - would the trophy be posted to us?")
    assert not answer.answered, answer.answer


async def test_who_asks_for_the_judges_not_the_judging_dates(kb: KnowledgeBase):
    # "When is judging?" shares every word but the question word with it
    answer = await kb.answer("who is judging")
    assert answer.answered and "experts" in answer.answer and "21–25" not in answer.answer, answer.answer
    answer = await kb.answer("谁来评审")
    assert answer.answered and "专家" in answer.answer, answer.answer
    answer = await kb.answer("when is judging?")
    assert answer.answered and "21–25" in answer.answer, answer.answer


async def test_what_a_track_or_trait_covers_is_its_item(kb: KnowledgeBase):
    answer = await kb.answer("what does the biomedicine track cover")
    assert answer.answered and "biological products" in answer.answer, answer.answer
    answer = await kb.answer("'high quality' means what")
    assert answer.answered and answer.answer.startswith("3) High quality"), answer.answer
    answer = await kb.answer("高端装备具体包括哪些")
    assert answer.answered and "轨道交通" in answer.answer, answer.answer
    # the trait "Innovation" is not the district award's scope
    answer = await kb.answer("what does the innovation district award cover")
    assert answer.answered and not answer.answer.startswith("4) Innovation"), answer.answer


async def test_placing_a_field_under_a_track_asks_which_fits(kb: KnowledgeBase):
    answer = await kb.answer("we recycle lithium batteries. filed under new energy, correct?")
    assert answer.answered and "Energy saving" in answer.answer, answer.answer
    answer = await kb.answer("an animation studio - fits the enterprise group or not")
    assert answer.answered and "Digital creative" in answer.answer, answer.answer


async def test_whose_problem_a_wrong_field_is_asks_who_bears_it(kb: KnowledgeBase):
    answer = await kb.answer("we mistyped our revenue in the form. whose fault is that, could we be DQ'd")
    assert answer.answered and "responsibility" in answer.answer, answer.answer


async def test_the_questions_after_a_dash_are_matched_without_the_remark_before_it(kb: KnowledgeBase):
    # two asking clauses after the situation go together; a spaced dash ends the remark
    answer = await kb.answer("my colleague says it's a government prize — who organises it, which company?")
    assert answer.answered and "The Paper" in answer.answer, answer.answer


async def test_how_to_list_on_the_star_market_is_no_rule_of_the_call(kb: KnowledgeBase):
    answer = await kb.answer("off topic, what are the listing rules for the STAR Market?")
    assert not answer.answered, answer.answer
    answer = await kb.answer("科创板的上市门槛是什么")
    assert not answer.answered, answer.answer


async def test_the_guidelines_phrases_inside_english_include_put_into_practice_and_recommendation(kb: KnowledgeBase):
    answer = await kb.answer("does the call require 落地 projects?")
    assert answer.answered and "put into practice" in answer.answer, answer.answer
    answer = await kb.answer("how does 推荐 work")
    assert answer.answered and "expert recommendation" in answer.answer, answer.answer


async def test_submitting_through_a_chat_app_asks_how_to_submit(kb: KnowledgeBase):
    answer = await kb.answer("could we submit via wechat rather than email?")
    assert answer.answered and "kcxf@thepaper.cn" in answer.answer, answer.answer
    answer = await kb.answer("is there a wechat group for entrants?")
    assert not answer.answered, answer.answer


async def test_nqpf_is_the_new_quality_productive_forces_award(kb: KnowledgeBase):
    answer = await kb.answer("NQPF vs rising potential, what's the difference?")
    assert answer.answered and "total-factor" in answer.answer and "rapid growth" in answer.answer, answer.answer


async def test_what_an_award_or_track_counts_is_not_whether_the_asker_fits(kb: KnowledgeBase):
    # not the list of awards the asker could enter
    answer = await kb.answer("what government support counts for pioneer engine?")
    assert answer.answered and "Awards you could enter" not in answer.answer, answer.answer
    # the track's own item of the guideline, not "your field falls under"
    answer = await kb.answer("what counts as new materials?")
    assert answer.answer.startswith("3) New materials"), answer.answer


async def test_all_of_it_after_an_ask_wants_that_asks_whole_list(kb: KnowledgeBase):
    # alone, "list all of it" is the list of awards
    answer = await kb.answer("what goes under 'biomedicine'? list all of it")
    assert answer.answered and "biological products" in answer.answer and "seven awards" not in answer.answer, \
        answer.answer


async def test_a_vague_question_after_a_situation_is_not_matched_alone(kb: KnowledgeBase):
    # "what's the rule" alone came nearest "Who has the last word on what the rules mean?"
    answer = await kb.answer("we reused a rival's product photos in our slides - what's the rule")
    assert "final interpretation" not in answer.answer, answer.answer
    # "issue for the product award?" alone came nearest the list of award categories
    answer = await kb.answer("our main patent is in an ownership fight with a former partner. issue for the product award?")
    assert "seven awards" not in answer.answer, answer.answer
    # unless its words stand for a phrase that names something
    answer = await kb.answer("we had a chemical leak at our plant in 2023. would that rule us out?")
    assert answer.answered and "3 years" in answer.answer, answer.answer


async def test_whens_asks_when_after_a_long_preamble(kb: KnowledgeBase):
    # a tuning-set question (dev70): "where do i send the stuff?" shared more of its words
    answer = await kb.answer("hi!! im a 2nd year phd student and this is my first time entering any kind of award thing "
                             "so sorry if this is dumb.. whens the last day i can send my stuff in")
    assert answer.answered and "20 October" in answer.answer, answer.answer


async def test_more_guideline_terms_inside_english_are_read_in_english(kb: KnowledgeBase):
    answer = await kb.answer("the 风险诊断 looks at what exactly")
    assert answer.answered and "litigation" in answer.answer, answer.answer
    answer = await kb.answer("who holds the 最终解释权?")
    assert answer.answered and "final interpretation" in answer.answer, answer.answer


async def test_the_minimum_to_qualify_is_the_entry_requirements_not_a_number(kb: KnowledgeBase):
    answer = await kb.answer("what's the bare minimum to qualify?")
    assert answer.answered and "R&D" in answer.answer, answer.answer
    answer = await kb.answer("what's the minimum revenue to qualify?")
    assert not answer.answered, answer.answer


async def test_whether_scoring_is_by_numbers_is_the_quantifiable_comparison(kb: KnowledgeBase):
    answer = await kb.answer("do the judges score on hard data or gut feeling")
    assert answer.answered and "quantifiable" in answer.answer, answer.answer
    # which of two is asked: no yes or no before it
    assert not answer.answer.startswith(("Yes", "No")), answer.answer


async def test_a_question_mark_ends_a_chinese_clause_before_the_remark_after_it(kb: KnowledgeBase):
    # one clause before: the remark about the finance office diluted "缴费" past every entry
    answer = await kb.answer("請問報名要繳費嗎？單位財務要我問清楚")
    assert answer.answered and "不收取" in answer.answer, answer.answer


async def test_a_situation_with_a_question_naming_nothing_gets_the_entry_well_ahead(kb: KnowledgeBase):
    answer = await kb.answer("we signed the form with the brand name, not the company's registered name. allowed?")
    assert answer.answered and "real name" in answer.answer, answer.answer
    answer = await kb.answer("our write-up copies text from someone else's patent - what's the rule")
    assert answer.answered and "plagiarising" in answer.answer, answer.answer


async def test_phone_recycling_asks_for_no_phone_number(kb: KnowledgeBase):
    answer = await kb.answer("we're in phone recycling. can we use someone else's photos in our entry?")
    assert answer.answered and "permission" in answer.answer, answer.answer


async def test_what_exactly_a_term_means_or_a_track_holds_is_its_item(kb: KnowledgeBase):
    answer = await kb.answer("what exactly does 'high quality' mean here")
    assert answer.answer.startswith("3) High quality"), answer.answer
    answer = await kb.answer("what precisely is the 'innovation' trait?")
    assert answer.answer.startswith("4) Innovation"), answer.answer
    answer = await kb.answer("the total-factor improvement trait: what does that mean?")
    assert answer.answer.startswith("5) Total-factor improvement"), answer.answer
    answer = await kb.answer("what exactly goes under the biomedicine track")
    assert "biological products" in answer.answer, answer.answer
    answer = await kb.answer("does the new energy track include solar?")
    assert answer.answer.startswith("4) New energy"), answer.answer


async def test_who_exactly_organises_is_the_organiser_not_a_list_of_names(kb: KnowledgeBase):
    answer = await kb.answer("who exactly is behind this call?")
    assert answer.answered and "The Paper" in answer.answer, answer.answer
    answer = await kb.answer("who exactly sits on the jury?")
    assert not answer.answered, answer.answer


async def test_a_field_placed_in_another_track_than_the_one_guessed_gets_no_yes(kb: KnowledgeBase):
    answer = await kb.answer("do electric car makers go under new energy?")
    assert answer.answered and "Energy saving" in answer.answer and not answer.answer.startswith("Yes"), \
        answer.answer
    answer = await kb.answer("do electric car makers go under energy saving and environmental protection?")
    assert answer.answered and not answer.answer.startswith("No"), answer.answer


async def test_what_happens_after_a_situation_asks_about_the_situation(kb: KnowledgeBase):
    # a tuning-set question (dev74): "what happens" alone came nearest "What happens if something is plagiarised?"
    answer = await kb.answer("i left the funding part of the form blank bc we never raised any money. what happens")
    assert answer.answered and "responsibility" in answer.answer, answer.answer


async def test_can_join_with_no_one_named_asks_whether_the_entrant_may_enter(kb: KnowledgeBase):
    # Singlish leaves the subject out: "… also can join?" was read as no question about entering and declined.
    answer = await kb.answer("my friend runs a small mobile game studio. also can join?")
    assert answer.answered and "Digital creative" in answer.answer, answer.answer
    answer = await kb.answer("we make drone software, can apply or not?")
    assert answer.answered and "Awards you could enter" in answer.answer, answer.answer


async def test_a_question_of_several_clauses_is_matched_without_the_remark_after_it(kb: KnowledgeBase):
    # The worry told after the question diluted its words below the FAQ's bar: declined
    answer = await kb.answer("who's judging, like what sort of people? my cofounder worries it'll be all reporters "
                             "who won't understand battery chemistry")
    assert answer.answered and "media leaders" in answer.answer, answer.answer
    answer = await kb.answer("what's the deadline, exact day and time? swamped with three launches this week")
    assert answer.answered and "20 October" in answer.answer and "24:00" in answer.answer, answer.answer


async def test_an_award_putting_weight_on_something_is_asked_which_not_what_share(kb: KnowledgeBase):
    # "puts weight on" asks where the emphasis lies; a weighting asked for stays declined (above).
    answer = await kb.answer("which award puts weight on market recognition?")
    assert answer.answered and "Pioneer Engine" in answer.answer, answer.answer


async def test_a_companys_eligibility_asks_the_conditions_not_which_awards_fit(kb: KnowledgeBase):
    answer = await kb.answer("company eligibility: anything on reputation?")
    assert answer.answered and "reputation" in answer.answer and "Awards you could enter" not in answer.answer, \
        answer.answer


async def test_a_phone_spelt_english_question_holding_a_chinese_term_is_english(kb: KnowledgeBase):
    answer = await kb.answer("form full name wat ah, 申报表?")
    # "wat" is English grammar as "what" is: answered in English, with the form's full name
    assert answer.lang == "en" and "2024 科创先锋案例征集申报表" in answer.answer, answer.answer


async def test_one_ask_naming_two_things_gets_both(kb: KnowledgeBase):
    # One ask, no second question word: each of the two things has its own entry, and both are answered.
    answer = await kb.answer("entry fee and closing date?")
    assert "20 October" in answer.answer and "fee" in answer.answer, answer.answer
    answer = await kb.answer("截止日期和报名费说一下")
    assert "10 月 20 日" in answer.answer and "报名费" in answer.answer, answer.answer
    # The asker in a question's frame ("tell me", "do we") tells nothing, "Quick questions:" asks nothing, and a
    # situation told before the question is no third thing.
    for message in ("could u tell me the closing date + the mailbox, cheers",
                    "Quick questions: closing date, and what address do we send the entry to?",
                    "We are a small lab in Hefei putting together a first entry. Would you confirm the deadline and "
                    "the email address please?"):
        answer = await kb.answer(message)
        assert "20 October" in answer.answer and "kcxf@thepaper.cn" in answer.answer, (message, answer.answer)
    # Two awards set side by side, or judges' names no entry holds, are not two things to answer apart.
    assert (await kb.answer("diff between pioneer engine and rising potential")).answer.startswith("Pioneer Engine")
    assert not (await kb.answer("who r the judges? names pls")).answered


async def test_a_question_in_american_spelling_is_answered(kb: KnowledgeBase):
    # the guideline writes "organiser"; the stemmer made "organizing" a word no text uses
    answer = await kb.answer("which company is organizing it anyway")
    assert answer.answered and "The Paper" in answer.answer, answer.answer


async def test_when_a_case_would_happen_is_not_what_it_is_about(kb: KnowledgeBase):
    # "after we've been shortlisted" brought up the entries on finalists; the case is wrong information
    answer = await kb.answer("what happens if the turnover we put on the form proves to be wrong after we've been "
                             "shortlisted?")
    assert answer.answered and "revoke" in answer.answer, answer.answer
    # what finalists get is about the shortlist itself
    answer = await kb.answer("what do we get once we're shortlisted?")
    assert "certificate" in answer.answer, answer.answer


async def test_entering_alone_or_put_forward_by_another_is_the_ways_to_enter(kb: KnowledgeBase):
    answer = await kb.answer("how can one enter: only apply by ourself or can somebody propose us?")
    assert "self-nomination" in answer.answer and "expert recommendation" in answer.answer, answer.answer


async def test_a_question_a_remark_leaves_short_of_sure_is_matched_alone(kb: KnowledgeBase):
    # The remark's words pulled the email entry under the sure bar, and its unknown "lookalike" declined the ask
    answer = await kb.answer("can you confirm which email address the entry goes to? I'd hate to send it to some "
                             "fake lookalike inbox")
    assert answer.answered and "kcxf@thepaper.cn" in answer.answer, answer.answer
    # sure by confidence but not by coverage: the unknown "valid" declined it
    answer = await kb.answer("are wearables a valid category for products? we sell a sleep-tracking ring")
    assert answer.answered and "wearable" in answer.answer.lower(), answer.answer
    # a remark asking for a kind of fact (names) keeps the whole ask, which no entry answers
    assert not (await kb.answer("评委有哪些人？名单能发我吗")).answered


async def test_how_many_is_answered_by_a_count_of_what_was_asked(kb: KnowledgeBase):
    # "two stages" counts no judges, and a year or a day of a month counts nothing
    for question in ("how many judges sit on the panel?", "how many people are on the jury"):
        answer = await kb.answer(question)
        assert not answer.answered, (question, answer.answer)
    # a count of a synonym of what was asked, or no limit on it, still answers
    for question, fact in (("how many rounds does the judging have?", "two stages"),
                           ("how many projects may one firm send?", "no limit"),
                           ("how many award lists are there?", "seven awards"),
                           ("how many lists are there altogether", "seven awards")):
        answer = await kb.answer(question)
        assert answer.answered and fact in answer.answer, (question, answer.answer)


async def test_a_codename_is_not_a_real_name(kb: KnowledgeBase):
    for question, fact in (("could we sign up under a codename until launch?", "real names"),
                           ("我们能用项目代号报名吗", "实名")):
        answer = await kb.answer(question)
        assert answer.answered and fact in answer.answer, (question, answer.answer)


async def test_courtesy_words_are_no_things_asked_about(kb: KnowledgeBase):
    # "quick one", "sorry to bother", "kindly confirm": words no text holds diluted the match, and "quick one -"
    # was read as part of the first thing asked
    answer = await kb.answer("quick one - closing date for entries and which mailbox do they go to")
    assert "20 October" in answer.answer and "kcxf@thepaper.cn" in answer.answer, answer.answer
    # a request to confirm a date asks for the date, not for a yes; "final date" is the deadline
    answer = await kb.answer("Could you kindly confirm the final date and time for receiving entries?")
    assert answer.answered and "20 October" in answer.answer and "24:00" in answer.answer, answer.answer
    assert not answer.answer.startswith(("Yes", "No")), answer.answer
    # "yo when's …" asks when: the award's description holds no date
    answer = await kb.answer("yo when's the deadline for the product award??")
    assert "Products enter" not in answer.answer, answer.answer


async def test_a_long_telling_of_an_incident_asks_about_the_rule_on_incidents(kb: KnowledgeBase):
    # the nearest entry was the rule on incidents, well ahead of the next, but short of sure
    for question in ("Hmm, tricky: a tenant of ours had a big pollution incident in 2022 that made national news. Are "
                     "they allowed to apply?",
                     "Awkward one: a company we incubate had a chemical spill in 2023 that was all over the local "
                     "news. Are they still allowed to apply?"):
        answer = await kb.answer(question)
        assert answer.answered and "3 years" in answer.answer, (question, answer.answer)


async def test_the_people_category_is_the_person_award_and_its_industries_are_listed(kb: KnowledgeBase):
    answer = await kb.answer("which fields are covered in the people category?")
    assert answer.answered and "biomedicine" in answer.answer and "high-end equipment" in answer.answer, answer.answer
    answer = await kb.answer("人物类覆盖哪些行业")
    assert answer.answered and "生物医药" in answer.answer, answer.answer


async def test_the_whole_form_is_the_rule_to_fill_it_in_completely(kb: KnowledgeBase):
    answer = await kb.answer("must we fill in the entire form? a few fields don't apply to our lab")
    assert answer.answered and "completely" in answer.answer, answer.answer


async def test_the_award_named_outranks_another_awards_words(kb: KnowledgeBase):
    # "park" in the remark brought up the park award over the award asked about
    for question in ("For Sci-Tech Pioneer of the Year, what gets evaluated? The director of our park is considering it.",
                     "Sci-Tech Pioneer of the Year - what is evaluated? our park manager is thinking about it"):
        answer = await kb.answer(question)
        assert answer.answered and answer.answer.startswith("Individuals enter"), (question, answer.answer)


async def test_how_one_award_is_different_from_another_sets_them_side_by_side(kb: KnowledgeBase):
    answer = await kb.answer("how is Rising Potential different from Pioneer Engine, briefly?")
    assert "Rising Potential of the Year:" in answer.answer and "Pioneer Engine of the Year:" in answer.answer, \
        answer.answer


async def test_an_entrant_told_of_in_the_third_person_asks_whether_they_may_enter(kb: KnowledgeBase):
    # "can she enter?", "ok under new materials?", "which bucket": asked for someone else, or in other words, were
    # declined
    answer = await kb.answer("my cousin makes AR headsets for museums, can she enter?")
    assert answer.answered and "Digital creative" in answer.answer, answer.answer
    answer = await kb.answer("one tenant makes carbon fibre bike frames - fine under new materials?")
    assert answer.answered and "New materials" in answer.answer, answer.answer
    answer = await kb.answer("our startup builds lidar lasers, which bucket do we go in")
    assert answer.answered and "Other fields" in answer.answer, answer.answer


async def test_a_field_named_gets_its_track_not_the_list_of_every_industry(kb: KnowledgeBase):
    # the entry on the industries matched these words surely, and listed all eight without saying which fits
    answer = await kb.answer("is the esports industry eligible")
    assert answer.answer.startswith("Yes.") and "Digital creative" in answer.answer, answer.answer
    answer = await kb.answer("which industries can enter?")
    assert answer.via == "faq" and "biomedicine" in answer.answer, answer.answer


async def test_what_belongs_to_another_asks_about_its_rights_not_which_award_fits(kb: KnowledgeBase):
    # "belong to" asks about a category ("which track do we belong to?") or, as here, about an owner.
    owned = await kb.answer("The patent behind our park's pilot belongs to a partner university, not to us. "
                            "Is that an issue?")
    assert owned.answered and "held by the entrants themselves" in owned.answer, owned.answer
    assert "Awards you could enter" not in owned.answer
    placed = await kb.answer("which track do we belong to? we make power batteries")
    assert placed.answered and "Energy saving and environmental protection" in placed.answer, placed.answer


async def test_needing_ones_own_ip_to_enter_asks_for_the_requirement(kb: KnowledgeBase):
    answer = await kb.answer("do we need our own patents to enter as a company? we have none yet")
    assert answer.answered and "intellectual property" in answer.answer, answer.answer
    assert "Awards you could enter" not in answer.answer


async def test_what_is_the_deadline_of_a_named_award_is_the_deadline(kb: KnowledgeBase):
    answer = await kb.answer("What is the deadline for 科创园区 entries?")
    assert answer.answered and "20 October" in answer.answer, answer.answer


async def test_cantonese_what_and_a_track_called_a_category_get_the_tracks_scope(kb: KnowledgeBase):
    answer = await kb.answer("我哋做診斷試劑，生物醫藥類包括啲乜？")
    assert answer.answered and "生物製品" in answer.answer and "高端醫療設備" in answer.answer, answer.answer


@pytest.mark.parametrize(("question", "expected"), [
    ("will you send back our physical copies after the review?", "will not be returned"),
    ("can a company enter twice?", "no limit"),
    ("can we use third-party footage in our materials?", "permission"),
    ("who pays if somebody sues us over copyright in the entry?", "bear the consequences"),
])
async def test_everyday_words_for_the_rules_terms(kb: KnowledgeBase, question: str, expected: str):
    answer = await kb.answer(question)
    assert answer.answered and expected in answer.answer, answer.answer


async def test_the_longer_keyword_places_a_field_inside_anothers_word(kb: KnowledgeBase):
    # The guideline names optoelectronic chips under the STAR Market item, not with the chips of new-generation IT.
    for question in ("we design optoelectronic chips, which industry is that?", "我们做光电芯片的，属于哪个领域？"):
        answer = await kb.answer(question)
        assert answer.answered and ("STAR Market" in answer.answer or "科创板" in answer.answer), answer.answer
        assert "New-generation information technology" not in answer.answer and "新一代信息技术" not in answer.answer
    chips = await kb.answer("we design memory chips, which industry is that?")
    assert chips.answered and "New-generation information technology" in chips.answer, chips.answer
    doubting = await kb.answer("we do optoelectronic chips and can't find them among your industries. so we're not covered?")
    assert doubting.answered and "STAR Market" in doubting.answer, doubting.answer


async def test_the_reason_given_after_a_yes_no_ask_is_not_what_it_asks_about(kb: KnowledgeBase):
    answer = await kb.answer("is there a fee to enter cuz we're broke")
    assert answer.answered and "No application fee" in answer.answer, answer.answer


async def test_who_wants_to_know_is_no_part_of_the_ask(kb: KnowledgeBase):
    answer = await kb.answer("你好，我们是一家上市公司，法务部想确认一下要不要交报名费？另外材料会退吗？")
    assert answer.answered and "不收取任何报名费用" in answer.answer and "不退稿" in answer.answer, answer.answer


async def test_they_in_a_follow_up_is_what_the_ask_before_named(kb: KnowledgeBase):
    answer = await kb.answer("we'd also like to nominate our chief scientist. is there an award for individuals, "
                             "and what do they look at?")
    assert answer.answered and "Sci-Tech Pioneer of the Year" in answer.answer and "team leadership" in answer.answer


async def test_can_still_enter_without_a_subject_asks_whether_one_may_enter(kb: KnowledgeBase):
    answer = await kb.answer("our team builds optoelectronic chips, none of the seven industries. could still apply?")
    assert answer.answered and "STAR Market" in answer.answer, answer.answer


async def test_a_share_price_is_no_rule_of_the_call(kb: KnowledgeBase):
    assert not (await kb.answer("how is The Paper's stock price doing?")).answered
    assert not (await kb.answer("澎湃新闻现在股价多少")).answered


async def test_here_after_a_field_still_asks_what_the_field_covers(kb: KnowledgeBase):
    answer = await kb.answer("what counts as new energy here?")
    assert answer.answered and "photovoltaic" in answer.answer, answer.answer


async def test_a_yes_no_ask_about_an_unknown_thing_with_its_alternative_is_declined_whole(kb: KnowledgeBase):
    # Cantonese: "does the form need the company seal, or is a signature enough?"
    assert not (await kb.answer("申請表需要蓋公司公章嗎？定係簽名就得？")).answered


async def test_a_short_follow_up_with_a_remark_after_it_asks_what_the_declined_ask_did(kb: KnowledgeBase):
    # "name pls" asks the chair's name, which the guideline never gives: not the rule on entrants' real names.
    answer = await kb.answer("who chairs the judging panel? name pls, i'd like to write them a letter")
    assert not answer.answered, answer.answer


@pytest.mark.parametrize("question", [
    "who's the CEO of The Paper?",
    "評委會主席係邊位？",  # Cantonese: "who is the jury's chair?"
    "澎湃的总编是谁",
])
async def test_a_person_in_a_role_is_a_name_no_text_gives(kb: KnowledgeBase, question: str):
    answer = await kb.answer(question)
    assert not answer.answered, answer.answer


async def test_a_phone_number_is_not_answered_with_the_mailbox_as_if_it_were_one(kb: KnowledgeBase):
    answer = await kb.answer("有客服电话吗？想打电话问")
    assert not answer.answered and "kcxf@thepaper.cn" in answer.answer, answer.answer


async def test_is_it_open_yet_is_answered_with_the_launch_and_the_application_stage(kb: KnowledgeBase):
    # Time-neutral: the bot also answers after the call has closed, so no "open now" of its own.
    answer = await kb.answer("can we already apply or not open yet?")
    assert answer.answered and "from now" in answer.answer and "mid-September" in answer.answer, answer.answer
    assert "open now" not in answer.answer, answer.answer


async def test_a_ceiling_asked_for_is_a_threshold_the_guideline_never_sets(kb: KnowledgeBase):
    answer = await kb.answer("Our university holds 30% of a spin-off. Is there a maximum stake a university may hold "
                             "for the company to be eligible?")
    assert not answer.answered, answer.answer


async def test_who_the_prize_goes_to_is_not_which_award_to_enter(kb: KnowledgeBase):
    answer = await kb.answer("is it given to the company or to the founder?")
    assert "could enter" not in answer.answer, answer.answer


async def test_an_age_told_in_words_is_the_askers_not_an_age_limit(kb: KnowledgeBase):
    answer = await kb.answer("our startup is three years old and grew revenue 5x since. which award fits it?")
    assert answer.answered and "Rising Potential" in answer.answer, answer.answer


async def test_how_much_a_dimension_counts_asks_for_its_weight(kb: KnowledgeBase):
    answer = await kb.answer("how much does the innovation rating count against the IP assets?")
    assert not answer.answered, answer.answer


async def test_what_entrants_call_an_award_is_taken_out_with_its_name(kb: KnowledgeBase):
    # "the person award": when does it close?
    answer = await kb.answer("人物奖什么时候截止")
    assert answer.answered and "10 月 20 日" in answer.answer, answer.answer


@pytest.mark.parametrize(("question", "expected"), [
    ("I'm in a tricky spot. One of our spin-offs had an environmental incident 2 years ago with quite a bit of press "
     "coverage. Would that exclude them?", "may not take part"),
    ("the patent in my project belongs to my former employer, problem?", "permission"),
])
async def test_chat_words_for_a_spin_off_exclusion_and_an_employer(kb: KnowledgeBase, question: str,
                                                                          expected: str):
    answer = await kb.answer(question)
    assert answer.answered and expected in answer.answer, answer.answer


async def test_a_follow_up_asking_to_share_the_names_asks_the_judges_names(kb: KnowledgeBase):
    answer = await kb.answer("who's on the jury? can you share the names")
    assert not answer.answered, answer.answer


async def test_updates_and_the_official_site_are_the_topic_page(kb: KnowledgeBase):
    answer = await kb.answer("where can I check for updates on the campaign?")
    assert answer.answered and "topic page" in answer.answer, answer.answer


@pytest.mark.parametrize("question", [
    "which file format and resolution should our demo video be in?",
    "how heavy is the trophy and what is it made of?",
    "do winners have to cover their own flights to the forum?",
    "how many slides can our deck have at most?",
])
async def test_a_format_a_trophys_make_travel_costs_and_slides_are_facts_no_text_gives(kb: KnowledgeBase,
                                                                                        question: str):
    answer = await kb.answer(question)
    assert not answer.answered, answer.answer


async def test_rising_potential_without_patents_gets_the_business_model_alternative(kb: KnowledgeBase):
    answer = await kb.answer("does a rising potential entrant need patents, or can a new business model do?")
    assert answer.answered and "novel ways" in answer.answer, answer.answer


async def test_the_askers_own_things_are_not_what_a_yes_no_ask_asks_about(kb: KnowledgeBase):
    answer = await kb.answer("can we submit both our robot and our sensor or is it one entry per company")
    assert answer.answered and "no limit" in answer.answer, answer.answer


async def test_her_is_no_thing_asked_about(kb: KnowledgeBase):
    answer = await kb.answer("our CTO is kinda a big deal in the field, can we put her up as a person?")
    assert answer.answered and "Sci-Tech Pioneer of the Year" in answer.answer, answer.answer


async def test_can_join_this_without_a_subject_asks_whether_one_may_enter(kb: KnowledgeBase):
    answer = await kb.answer("a studio making mobile games, can join this?")
    assert answer.answered and "games" in answer.answer, answer.answer


async def test_a_field_covers_what_asks_for_the_fields_own_item(kb: KnowledgeBase):
    answer = await kb.answer("biomedicine track covers what?")
    assert answer.answered and "biological products" in answer.answer, answer.answer
