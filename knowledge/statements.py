"""Does a chat message ask anything? A greeting, "ok", "谢谢" or a pasted company profile does not.

Only messages the bot could not answer are judged, and only outside a form: such a statement gets a short note on
what the bot can do instead of "the guideline does not say", and is kept apart from the maintainers' inbox.
The rules lean towards "question": a short keyword ("午餐", "deadline") is a search, so it stays a question; a
text reads as a statement only when it is small talk, or long enough to be a description and asks nothing.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["is_statement"]

# Words and phrases that are only courtesy: a message made of nothing else asks nothing.
_ZH_SMALL_TALK = (
    "您好", "你好", "哈喽", "嗨", "在吗", "在不在", "老师", "谢谢", "多谢", "感谢", "辛苦了", "辛苦", "好的", "好滴", "好",
    "收到", "明白了", "明白", "了解了", "了解", "知道了", "嗯嗯", "嗯", "哦", "噢", "行", "可以", "没问题", "ok", "再见",
    "早上好", "下午好", "晚上好", "大家好", "对", "是的", "不用了", "啊", "呀", "啦", "了", "的", "哈", "呢",
)
_EN_SMALL_TALK = frozenset(
    "hi hello hey there dear team ok okay k thanks thank you thx much very so good morning afternoon evening great "
    "got it noted sure yes yeah yep no nope fine alright all right cool nice cheers understood bye goodbye see later "
    "perfect awesome appreciate appreciated the a lot".split()
)
_QUESTION_MARK = re.compile(r"[?？]")
# Asking outright, in any length of text.
_REQUEST = re.compile(
    r"请问|想问|问一下|咨询|请教|求问|想了解|想知道|麻烦告诉|请告诉|请介绍|介绍一下|说明一下|解释一下"
    r"|\bi(?: would|'d| want to| wanted to)? (?:like to )?know\b|\bi wonder|\bplease (?:tell|explain|advise|let)"
    r"|\b(?:can|could) you (?:tell|explain|help|let)|\blet me know\b"
)
_ZH_ASKING = re.compile(r"吗|什么|怎么|怎样|如何|哪|多少|多久|多长|几[个次号月天年份项位]|是否|能否|可否|为何|谁|啥|咋|(.)不\1")
_EN_ASKING = re.compile(
    r"^(?:what|when|where|who|whom|whose|which|why|how|is|are|am|was|were|can|could|do|does|did|will|would|should|"
    r"shall|may|might|must|have|has|had|any|tell|explain|describe|list)\b"
)
_SENTENCE = re.compile(r"[。！!；;\n]+|\.(?:\s+|$)")
# Longer than this, a text that asks nothing is a description (a pasted profile, a letter), not a keyword search.
_LONG = 24
_ZH_CHAR = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def is_statement(text: str) -> bool:
    """True when the message asks nothing: small talk, or a text of some length without a question in it."""
    plain = unicodedata.normalize("NFKC", text).lower().strip()
    letters = "".join(c for c in plain if c.isalnum())
    if not letters:
        return True  # punctuation, emoji, stickers' text: nothing to answer
    if _small_talk(plain):
        return True
    if _QUESTION_MARK.search(plain) or _REQUEST.search(plain):
        return False
    sentences = [s.strip() for s in _SENTENCE.split(plain) if s.strip()]
    if any(_asks(s) for s in sentences):
        return False
    return len(letters) > _LONG


def _asks(sentence: str) -> bool:
    if _ZH_CHAR.search(sentence):
        return bool(_ZH_ASKING.search(sentence))
    return bool(_EN_ASKING.match(sentence))


def _small_talk(plain: str) -> bool:
    if _ZH_CHAR.search(plain):
        rest = re.sub(r"[\W_]+", "", plain)
        for phrase in _ZH_SMALL_TALK:
            rest = rest.replace(phrase, "")
        return not rest
    words = re.findall(r"[a-z']+", plain)
    return bool(words) and all(w in _EN_SMALL_TALK for w in words) and not re.search(r"\d", plain)
