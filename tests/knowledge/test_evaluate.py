"""How an eval item's answer is scored."""

from knowledge.answer import Answer
from knowledge.evaluate import EvalItem, passes


def _answer(text: str, *, lang: str = "zh", answered: bool = True) -> Answer:
    return Answer(question="q", lang=lang, answered=answered, via="faq", answer=text)


def test_a_fact_counts_in_either_chinese_script():
    item = EvalItem(id="t", lang="zh", question="我們做VR遊戲，屬於哪個行業？", answerable=True, facts=[["数字创意产业"]])
    assert passes(item, _answer("您所在的領域屬於：數字創意產業（虛擬現實(VR)）"))
    assert not passes(item, _answer("您所在的領域屬於：新一代信息技術"))


def test_every_fact_is_needed_and_a_decline_passes_only_where_nothing_is_answerable():
    item = EvalItem(id="t", lang="en", question="deadline and email?", answerable=True,
                    facts=[["October 20", "20 October"], ["kcxf@thepaper.cn"]])
    assert passes(item, _answer("Apply by 20 October.\n\nWrite to KCXF@thepaper.cn.", lang="en"))
    assert not passes(item, _answer("Apply by 20 October.", lang="en"))
    assert not passes(item, _answer("Apply by 20 October. kcxf@thepaper.cn", lang="zh"))
    unanswerable = EvalItem(id="u", lang="en", question="who won in 2023?", answerable=False, facts=[])
    assert passes(unanswerable, _answer("Sorry…", lang="en", answered=False))
    assert not passes(unanswerable, _answer("The Paper runs it.", lang="en"))


def test_dashes_and_spacing_are_typography_not_content():
    item = EvalItem(id="t", lang="en", question="what period?", answerable=True,
                    facts=[["3-5 years"], ["business model"]])
    assert passes(item, _answer("Projects of the past 3–5 years; business-model innovation counts.", lang="en"))
    assert not passes(item, _answer("Projects of the past 5 years; business-model innovation counts.", lang="en"))


def test_no_tuning_question_faq_variant_or_synonym_is_a_blind_question():
    # blind.jsonl measures what nobody tuned for: none of its questions may sit in what is tuned on or shipped
    from pathlib import Path

    import yaml

    from knowledge.evaluate import load_eval

    root = Path(__file__).resolve().parents[2]
    blind = {i.question.strip().lower() for i in load_eval(root / "knowledge/eval/blind.jsonl")}
    tuned = [i.question for name in ("dev", "qa", "holdout") for i in load_eval(root / f"knowledge/eval/{name}.jsonl")]
    variants = [q for path in root.glob("config/editions/*/faq.yaml") for entry in yaml.safe_load(path.read_text())
                for qs in entry["questions"].values() for q in qs]
    words = [k for table in yaml.safe_load((root / "knowledge/synonyms.yaml").read_text()).values() for k in table]
    assert [q for q in tuned + variants + words if str(q).strip().lower() in blind] == []
