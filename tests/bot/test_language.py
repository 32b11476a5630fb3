"""Language detection for free text."""

from __future__ import annotations

import pytest

from bot.language import detect_lang, is_lang


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("申报截止时间是什么时候？", "zh"),
        ("个人可以申报 pioneer_person 吗", "zh"),
        ("When is the deadline?", "en"),
        ("Can a company from Hong Kong enter 年度科创园区?", "en"),
        # English terms without English grammar inside a Chinese sentence; a quoted Chinese phrase asked about
        ("请问submission deadline是哪天，要不要交entry fee", "zh"),
        ("我们做smart glasses的", "zh"),
        ("what does '征集官方报名邮箱' mean?", "en"),
        ("where do I find the 2024 科创先锋案例征集 topic page?", "en"),
        ("１２３？", "en"),
        ("", "en"),
    ],
)
def test_detect_lang(text: str, lang: str):
    assert detect_lang(text) == lang


def test_is_lang():
    assert is_lang("zh") and is_lang("en")
    assert not is_lang("fr") and not is_lang(None) and not is_lang("ZH")
