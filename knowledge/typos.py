"""Typos in questions: "报名邮相是啥" means 邮箱, "when is the deadine" means deadline.

Chinese is typed by pinyin, so the usual slip is the right sound with the wrong character. Two neighbouring
characters that the segmenter leaves as single characters (no word holds them) and that differ from exactly one
two-character word of the knowledge base by one character of the same sound are read as that word. English is
typed by letters, so the usual slip is one letter too many, too few, wrong or swapped: a word no text of the
knowledge base uses that is one such slip away from exactly one word it does use is read as that word. Only for
matching: the question is still logged and echoed as typed.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable, Collection, Iterable
from pathlib import Path

import yaml

from knowledge.tokens import ZH_STOP, is_han, is_thing

CHAT_SPELLINGS_FILE = Path(__file__).with_name("chat_spellings.yaml")


@functools.cache
def _readings(char: str) -> frozenset[str]:
    """The toneless pinyin of a character (相: xiang), none for a character pypinyin does not know."""
    # Imported on the first typo-shaped question only. Without its phrase table (words' readings in context, of no
    # use for one character: the readings of U+4E00–U+9FFF are the same without it) and the copy of its tables
    # it makes for custom readings, pypinyin loads in 0.05 s and 22 MB instead of 0.2 s and 66 MB.
    os.environ.setdefault("PYPINYIN_NO_PHRASES", "1")
    os.environ.setdefault("PYPINYIN_NO_DICT_COPY", "1")
    from pypinyin import Style, pinyin

    # The common reading only: rare ones (方 as wang) made 官网 sound like 官方.
    return frozenset(r for r in pinyin(char, style=Style.NORMAL)[0] if r.isalpha())


class HomophoneFixer:
    """Puts the knowledge base's word in place of a same-sounding non-word of a question."""

    def __init__(self, vocabulary: Collection[str], *, segment: Callable[[str], list[str]]) -> None:
        self._vocabulary = vocabulary
        self._segment = segment
        self._index: dict[tuple[int, str], list[str]] | None = None

    def _sharing(self) -> dict[tuple[int, str], list[str]]:
        # (position, character) → the vocabulary's two-character nouns with the other character there; no pinyin
        # is read to build it (a thousand words' readings took a second), only for the few candidates of a pair.
        if self._index is None:
            index: dict[tuple[int, str], list[str]] = {}
            for word in self._vocabulary:
                # Things only (nouns: 邮箱, 公章, 园区): a function word such as 不能 or 除了 would "correct" 还能, 出了.
                if len(word) == 2 and all(is_han(c) for c in word) and is_thing(word):
                    for pos in (0, 1):
                        index.setdefault((1 - pos, word[1 - pos]), []).append(word)
            self._index = index
        return self._index

    def _sounds_like(self, pair: str) -> set[str]:
        """The vocabulary's nouns that differ from `pair` in one character of the same sound."""
        found: set[str] = set()
        for pos in (0, 1):
            # A function word typed right ("产品里用的专利": 里, 用) is no slip for a word of the same sound (利用).
            if pair[pos] in ZH_STOP:
                continue
            sound = _readings(pair[pos])
            found.update(word for word in self._sharing().get((1 - pos, pair[1 - pos]), ())
                         if word[pos] != pair[pos] and _readings(word[pos]) & sound)
        return found

    def fix(self, text: str) -> str:
        """The text with every unambiguous homophone typo replaced by the word it stands for."""
        # Only characters the segmenter found no word for: a pair across two words ("报名|邮") is no typo.
        alone: list[bool] = []
        for piece in self._segment(text):
            alone += [len(piece) == 1] * len(piece)
        out = list(text)
        i = 0
        while i < len(out) - 1:
            pair = out[i] + out[i + 1]
            if alone[i] and alone[i + 1] and is_han(pair[0]) and is_han(pair[1]) and pair not in self._vocabulary:
                found = self._sounds_like(pair)
                if len(found) == 1:
                    out[i : i + 2] = next(iter(found))
                    i += 2
                    continue
            i += 1
        return "".join(out)


_LATIN_WORD = re.compile(r"[A-Za-z]{5,}")
# "2" and "4" are "to" and "for" before a word that no number counts ("does some prof have 2 nominate me", "does it
# count 4 anything"); elsewhere they are numbers ("2 yrs ago", "need 2 projects").
_TAKEN = (r"the|a|an|me|us|you|u|my|our|your|ur|it|its|this|that|these|those|them|him|her|anything|everything|"
          r"something|both|each|every|any|all|free|real|sure|apply|enter|send|submit|sign|join|nominate|register|be|"
          r"get|do|know|see|pay|win|make|use|show|talk|prove")
_TO_OR_FOR = re.compile(rf"(?i)(?<![\w.,])([24])(?= (?:{_TAKEN})\b)")
# "3 diff products" are different ones; "the diff between pioneer engine and rising potential" is a difference.
_DIFFERENT = re.compile(r"(?i)\bdiff\b(?! (?:between|btwn|of|in)\b)")


@functools.cache
def _chat_spellings() -> tuple[re.Pattern[str], dict[str, str]]:
    table = {str(k).lower(): str(v) for k, v in
             (yaml.safe_load(CHAT_SPELLINGS_FILE.read_text(encoding="utf-8")) or {}).items()}
    words = "|".join(sorted(map(re.escape, table), key=len, reverse=True))
    # Not a piece of something else: "R&D", "n/a", "U.S.", "don't" keep their letters.
    return re.compile(rf"(?i)(?<![\w&/.'’-])(?:{words})(?![\w&/'’-]|\.\w)"), table


def expand_chat_spellings(text: str) -> str:
    """An English question with phone spellings written out ("wat do u need" → "what do you need")."""
    pattern, table = _chat_spellings()
    text = _DIFFERENT.sub("different", pattern.sub(lambda m: table[m.group(0).lower()], text))
    return _TO_OR_FOR.sub(lambda m: "to" if m.group(1) == "2" else "for", text)


@functools.cache
def _speller():  # noqa: ANN202 - pyspellchecker has no type hints
    """pyspellchecker (MIT) with its English word list."""
    # Imported on the first English question with a word the knowledge base never uses: 0.1 s, about 30 MB.
    from spellchecker import SpellChecker

    return SpellChecker()


def _english() -> Collection[str]:
    """English words: "weight" and "found" are words, not slips for eight, round."""
    return _speller().word_frequency.dictionary


@functools.lru_cache(maxsize=4096)  # the same slips come back; the edit set is some 300 words to look up
def _commonest_slip(word: str) -> str | None:
    """The commonest English word one slip from `word` ("anounce" → "announce"), if any."""
    known = _speller().known(_speller().edit_distance_1(word))
    return max(sorted(known), key=_speller().word_usage_frequency) if known else None


class SpellingFixer:
    """Puts the knowledge base's word in place of an English word one slip of the finger away from it."""

    def __init__(self, texts: Iterable[str], *, known: Callable[[str], bool]) -> None:
        """`texts`: the knowledge base's texts, whose words are the corrections; `known`: whether a word is one
        the knowledge base understands already (its own, or a synonym's)."""
        self._known = known
        self._by_length: dict[int, list[str]] = {}
        for word in {w.lower() for text in texts for w in _LATIN_WORD.findall(text)}:
            self._by_length.setdefault(len(word), []).append(word)

    def fix(self, text: str, *, keep: frozenset[str] = frozenset()) -> str:
        """The text with every misspelling of five letters or more replaced by the word it stands for: the knowledge
        base's word when one is one slip away, else the commonest English word that is. Words in `keep` are
        words, not misspellings."""
        def replace(match: re.Match[str]) -> str:
            word = match.group(0).lower()
            if word in _english() or word in keep or self._known(word):
                return match.group(0)
            found = {w for n in (len(word) - 1, len(word), len(word) + 1) for w in self._by_length.get(n, ())
                     if _one_slip(word, w)}
            if len(found) == 1:
                return found.pop()
            # Not a slip for a word of ours: the English word it stands for ("when do you anounce the finalists"),
            # which the synonyms may know.
            return (_commonest_slip(word) if not found else None) or match.group(0)

        return _LATIN_WORD.sub(replace, text)


def _one_slip(a: str, b: str) -> bool:
    """True when b is a with one letter added, dropped, changed, or two neighbours swapped."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diff) == 1 or (len(diff) == 2 and diff[1] == diff[0] + 1 and
                                  a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]])
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    i = next((k for k in range(len(short)) if short[k] != long_[k]), len(short))
    return short[i:] == long_[i + 1:]
