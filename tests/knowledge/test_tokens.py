"""Chinese is segmented into words (with the campaign's terms kept whole); English is stemmed."""

from __future__ import annotations

import pytest

from knowledge.tokens import Tokenizer, detect_lang


@pytest.fixture(scope="module")
def tokenizer() -> Tokenizer:
    return Tokenizer(extra_terms=["年度新锐潜力", "新一代信息技术"])


def test_chinese_is_segmented_not_split_on_whitespace(tokenizer: Tokenizer):
    tokens = tokenizer.tokens("我们是做芯片的初创公司，能报哪个奖？")
    assert "芯片" in tokens and "公司" in tokens
    assert "的" not in tokens and "，" not in tokens  # stop words and punctuation are dropped


def test_campaign_terms_stay_whole(tokenizer: Tokenizer):
    assert "年度新锐潜力" in tokenizer.tokens("年度新锐潜力怎么报")
    assert "新一代信息技术" in tokenizer.tokens("属于新一代信息技术吗")
    assert "其他申报材料说明" in tokenizer.tokens("其他申报材料说明这一栏填什么")  # from knowledge/terms.txt


def test_english_is_stemmed_and_full_width_normalised(tokenizer: Tokenizer):
    assert tokenizer.tokens("Applications submitted") == tokenizer.tokens("application submit")
    assert tokenizer.tokens("附件超过２０Ｍ") == tokenizer.tokens("附件超过20M") == ["附件", "超过", "20", "m"]
    # a number typed against its unit is the two words the documents write ("20 MB")
    assert tokenizer.tokens("over 20mb") == tokenizer.tokens("over 20 MB")


def test_american_spellings_are_the_guidelines_british_ones(tokenizer: Tokenizer):
    assert tokenizer.tokens("organizing recognized specialization analyzed") == \
        tokenizer.tokens("organising recognised specialisation analysed")
    # no -ise word: the prize, the size
    assert tokenizer.tokens("prize size citizen") == ["prize", "size", "citizen"]


@pytest.mark.parametrize(
    ("text", "lang"),
    [("截止时间是？", "zh"), ("When is the deadline?", "en"), ("what is 初审", "en"), ("我们是AI公司能报吗", "zh")],
)
def test_detect_lang(text: str, lang: str):
    assert detect_lang(text) == lang
