"""Word segmentation for retrieval: jieba for Chinese, a Snowball stemmer for English."""

from __future__ import annotations

import functools
import logging
import re
import threading
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from config.yaml_location import load_yaml

if TYPE_CHECKING:  # imported where first used: detect_lang and normalize need neither
    import jieba
    import Stemmer

TERMS_FILE = Path(__file__).with_name("terms.txt")
SYNONYMS_FILE = Path(__file__).with_name("synonyms.yaml")

_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_LATIN_WORD = re.compile(r"[a-z0-9]+(?:[.@][a-z0-9]+)*")
_PUNCT_OR_SPACE = re.compile(r"^[\W_]+$")

# Function words that carry no topic in a chat question; kept short on purpose, since over-eager stop lists
# remove the very words ("哪些", "多少") some answers hinge on only for lexical ranking, never for display.
ZH_STOP = frozenset(
    "的 了 吗 呢 吧 啊 呀 嘛 哦 么 呗 哈 嗯 呃 诶 喂 是 在 和 与 及 或 我 我们 你 你们 您 他 她 它 他们 这 那 这个 那个 这些 那些 "
    "就 都 也 还 又 要 会 能 可以 可 请问 请 问 一下 一个 个 有 没有 有没有 什么 什么样 怎么 怎么样 怎样 如何 咋 啥 哪 哪个 哪些 "
    "哪儿 哪里 几 多少 谁 为什么 是否 是不是 能不能 能否 可不可以 行不行 需要 需不需要 得 地 着 过 被 把 给 让 对 从 到 向 于 以 之 其 该 "
    "各 等 等等 如果 的话 那么 然后 所以 但是 因为 想 想要 知道 告诉 一般 大概 具体 现在 目前 时候 啥时候 什么时候 东西 做 搞 弄 "
    "去 来 里 好 下 上 刚 就是 还有 别的 其他 一些 有点 这样 那样 还是 或者 而且 应该 必须 一定 主要 已经 ta 您好 你好 谢谢 列出 列举 罗列 所有".split()
)
EN_STOP = frozenset(
    "a an the of to in on at for by with from and or but if then so is are was were be been being do does did "
    "i we you he she it they me us my our your their this that these those there here what which who whom whose "
    "when where why how can could should would will shall may might must have has had not no any some "
    "please tell know about into as than too very just also get got want wanted need needs hi hello thanks "
    "thank does doing done am let lets hey ok okay like actually really just kind sort stuff thing things "
    "anything something all s re m d t ll ve don doesn isn aren won wouldn can't cant im i'm "
    # chat spellings: "r u eligible", "pls", "thx", apostrophes left out ("whats", "theres")
    "r u ur pls plz thx ya yeah guys gonna wanna even tbh whats thats theres heres wheres hows whos its "
    "dont doesnt isnt arent wont didnt somebody someone anybody anyone everybody everyone again rn "
    "honestly literally wat wats wht lol lmao "
    # "does the intro mention the plan? y/n"
    "mention mentions mentioned talk talks talking y n instead rather "
    # "list every industry", "the background bit, what does it say"
    "every each bit say says said directly itself themselves ourselves himself herself "
    # what a definition question says around its term ("what does X even mean in plain words")
    "mean means meaning plain layman basically "
    # courtesy and asking verbs no text holds ("quick q", "sorry to bother", "could you kindly confirm …"): as
    # unknown words they diluted the match and read as a thing no text names
    "kindly confirm clarify sorry bother quick hmm btw fyi "
    # "is my unreleased tech kept secret during review?": as unknown words ("dure") they declined it
    "during while quite "
    # pronouns and chat words the lists above missed: "can we put her up as a person?" named no "her" thing
    # ("them" stays a word: "list them all" asks for the whole list of what was named before it)
    "her hers him his theirs yours mine wants kinda sorta".split()
)
# "20mb", "3yrs": a number typed against its unit is two words, as the documents write them ("20 MB").
_NUMBER_UNIT = re.compile(r"(?<=\d)(?=[a-z])|(?<=[a-z])(?=\d)")


def is_han(char: str) -> bool:
    """True for a CJK ideograph."""
    return bool(_HAN.match(char))


def normalize(text: str) -> str:
    """NFKC (full-width digits and letters become ASCII) and lower case, so both scripts compare cleanly."""
    return unicodedata.normalize("NFKC", text).lower()


def detect_lang(text: str) -> Literal["zh", "en"]:
    """'zh' when Chinese characters make up a meaningful share of what the text says, else 'en'."""
    # English words without English grammar ("请问deadline是几号？要交application fee吗", "我们是做EV battery pack的")
    # are terms inside a Chinese sentence. With it, an English word weighs three Han characters, so a 汉字 name in
    # an English sentence ("what's the deadline for 2024 科创先锋案例征集?") does not make it Chinese. What is
    # quoted ("what does '参选类别 + 参选者名称' mean?") is what the asker asks about, not the language they ask
    # in; a text that is all quotation is read whole.
    unquoted = _QUOTED.sub(" ", text)
    if not any(is_han(c) or (c.isascii() and c.isalpha()) for c in unquoted):
        unquoted = text
    han = sum(1 for c in unquoted if is_han(c))
    words = _LATIN_WORDS.findall(unquoted)
    if han and not any(w.lower() in _EN_GRAMMAR for w in words):
        return "zh"
    return "zh" if han and han >= 3 * len(words) else "en"


_QUOTED = re.compile(r"'[^']*'|‘[^’]*’|\"[^\"]*\"|“[^”]*”|《[^》]*》|「[^」]*」|【[^】]*】")
_LATIN_WORDS = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)?")
# The words that make a sentence English rather than a Chinese sentence holding English terms.
_EN_GRAMMAR = frozenset(
    "a an the is are was were be am do does did can could will would should may must what what's whats when "
    "where which who how why i we you he she it they our my your their this that these those to of for in on at "
    "with from and or but if not no any there here "
    # a phone's spellings of them ("form full name wat ah, 申报表?")
    "wat wats wht u ur".split()
)


# The guideline spells the British way (organiser, recognised, digitalisation); entrants often the American way,
# which the stemmer cuts elsewhere ("recognized" → "recogn", "recognised" → "recognis"). Three letters before it:
# "size", "prize" and "seize" are no -ise words.
_AMERICAN = re.compile(r"(?<=[a-z]{3})([iy])z(?=(?:e|es|ed|ing|ings|ation|ations|er|ers)$)")


@dataclass(frozen=True)
class Term:
    """One word of a question and the words that may stand for it in the documents (itself included)."""

    token: str
    alternatives: frozenset[str]
    # Every synonym the table gives the word, also those another word of the question says: the word is known
    # ("printed" → "materials" in "will you send back the printed materials?"), though it matches as itself.
    synonyms: frozenset[str] = frozenset()


class Tokenizer:
    """Tokenizes either language; Chinese with a private jieba dictionary extended by the campaign's terms."""

    def __init__(self, extra_terms: Iterable[str] = (), *, synonyms_file: Path = SYNONYMS_FILE) -> None:
        self._extra_terms = [t.strip() for t in extra_terms if t.strip()]
        self._synonyms_file = synonyms_file

    @cached_property
    def _synonyms(self) -> dict[str, dict[str, list[str]]]:
        """Per language: a word entrants type → the documents' words for the same thing (knowledge/synonyms.yaml)."""
        if not self._synonyms_file.exists():
            return {}
        raw = load_yaml(self._synonyms_file.read_text(encoding="utf-8")) or {}
        return {
            lang: {normalize(str(k)): [str(v) for v in vs] for k, vs in (table or {}).items()}
            for lang, table in raw.items()
        }

    def terms(self, question: str, *, lang: str) -> list[Term]:
        """The question's words, each with the synonyms that count as the same word when matching."""
        words = self.tokens(question)
        extra: dict[str, set[str]] = {}
        # Words that are part of a phrase key ("send back"), with the phrase's synonyms: they mean the phrase, not
        # themselves nor what they mean alone ("will they send back the brochures?" asks whether materials are
        # returned, not where to send them).
        phrased: dict[str, set[str]] = {}
        text = normalize(question)
        for key, values in self._synonyms.get(lang, {}).items():
            if _contains(text, key):
                # The key's own tokens are the words the synonyms stand in for.
                anchors = self.tokens(key) or [key]
                if key in anchors:  # "报名费": the synonyms stand for the whole word, not also for "报名"
                    anchors = [key]
                found = {t for v in values for t in self.tokens(v)}
                for anchor in anchors:
                    extra.setdefault(anchor, set()).update(found)
                    if lang == "en" and " " in key.strip():
                        phrased.setdefault(anchor, set()).update(found)
        # A synonym never stands for another word of the same question: "fee" → "application fee" must not let
        # "application" alone cover "fee" in "is there an application fee?".
        said = set(words)

        def term(w: str) -> Term:
            meant = phrased.get(w, set()) - said
            return Term(w, frozenset(meant or {w, *(extra.get(w, set()) - said)}),
                        frozenset(phrased.get(w, set()) | extra.get(w, set())))

        return [term(w) for w in dict.fromkeys(words)]

    @cached_property
    def _dictionary(self) -> tuple[str, ...]:
        """The words this instance adds to jieba's dictionary: with the text, all that its tokens depend on."""
        return (*_read_terms(TERMS_FILE), *self._extra_terms)

    @cached_property
    def _jieba(self) -> jieba.Tokenizer:
        import jieba

        # A private instance: the global one would leak our dictionary into any other user of jieba. It starts
        # from its own copy of jieba's dictionary, which is read once per process.
        freq, total = _jieba_dictionary()
        seg = jieba.Tokenizer()
        seg.FREQ, seg.total, seg.initialized = dict(freq), total, True
        for term in self._dictionary:
            # A high frequency makes jieba keep the term whole instead of splitting it into common words.
            seg.add_word(term, freq=200_000)
        return seg

    @cached_property
    def _stemmer(self) -> Stemmer.Stemmer:
        import Stemmer

        return Stemmer.Stemmer("english")

    def tokens(self, text: str, *, keep_stopwords: bool = False) -> list[str]:
        """Index/query tokens: jieba search-mode words for Chinese runs, stemmed words for Latin runs."""
        key = (self._dictionary, text, keep_stopwords)
        found = _SEGMENTED.get(key)
        if found is None:
            found = _SEGMENTED.put(key, tuple(self._tokens(text, keep_stopwords=keep_stopwords)))
        return list(found)

    def stem(self, word: str) -> str:
        """An English word as the index holds it ("payable" → "payabl"; "organizing" as "organising" → "organis")."""
        return self._stemmer.stemWord(_AMERICAN.sub(r"\1s", word))

    def _tokens(self, text: str, *, keep_stopwords: bool) -> list[str]:
        text = normalize(text)
        out: list[str] = []
        for word in self._jieba.lcut_for_search(text):
            word = word.strip()
            if not word or _PUNCT_OR_SPACE.match(word):
                continue
            if any(is_han(c) for c in word):
                if keep_stopwords or word not in ZH_STOP:
                    out.append(word)
                    out.extend(self._long_subwords(word))
                continue
            for found in _LATIN_WORD.findall(word):
                parts = [found] if "." in found or "@" in found else _NUMBER_UNIT.split(found)
                for latin in parts:
                    # a unit stays even when it spells a stop word ("20m": the m of "i'm")
                    if keep_stopwords or latin not in EN_STOP or len(parts) > 1:
                        out.append(self.stem(latin))
        return out

    def _long_subwords(self, word: str) -> list[str]:
        """Dictionary words of four or more characters inside a longer one.

        jieba's search mode only yields the 2- and 3-character words inside a long word, so "年度新质生产力科创企业"
        in a heading would never meet "新质生产力" in a question.
        """
        if len(word) <= 4:
            return []
        freq = self._jieba.FREQ
        return [
            word[i : i + size]
            for size in range(4, len(word))
            for i in range(len(word) - size + 1)
            if freq.get(word[i : i + size])
        ]

    def segments(self, text: str) -> list[str]:
        """jieba's dictionary words of the text as written (no HMM guesses: a pair of characters no dictionary
        word holds stays two pieces); the pieces join back into the text."""
        return list(self._jieba.cut(text, HMM=False))

    def words(self, text: str) -> list[str]:
        """Plain segmentation (jieba default mode), for display-level work such as sentence scoring."""
        return [w for w in self._jieba.lcut(normalize(text)) if w.strip() and not _PUNCT_OR_SPACE.match(w)]


class _Segmented:
    """Tokens already computed, by (added words, text, keep_stopwords), shared by every Tokenizer of the process.

    The lexical side of the index is rebuilt from the whole corpus by every knowledge base a process opens and
    after every knowledge edit (Retriever.refresh), and the corpus barely changes in between: segmenting it
    again with jieba was most of the cost. Bounded: the oldest entry goes first. Threads share it (refresh runs
    in a worker thread while questions are answered).
    """

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: dict[tuple[tuple[str, ...], str, bool], tuple[str, ...]] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple[tuple[str, ...], str, bool]) -> tuple[str, ...] | None:
        return self._items.get(key)

    def put(self, key: tuple[tuple[str, ...], str, bool], tokens: tuple[str, ...]) -> tuple[str, ...]:
        with self._lock:
            if key not in self._items and len(self._items) >= self._size:
                del self._items[next(iter(self._items))]
            self._items[key] = tokens
        return tokens


_SEGMENTED = _Segmented(20_000)


@functools.cache
def _jieba_dictionary() -> tuple[dict[str, int], int]:
    """jieba's prefix dictionary and its total frequency, as Tokenizer.initialize() loads them (half a second).

    Read once per process: every Tokenizer (one per knowledge base a process opens) copies it, which takes
    a few milliseconds, and adds its own terms to the copy.
    """
    import jieba

    jieba.setLogLevel(logging.WARNING)
    seg = jieba.Tokenizer()
    seg.initialize()
    return seg.FREQ, seg.total


@functools.cache
def _jieba_things() -> frozenset[str]:
    """The words of jieba's dictionary tagged as things (_THING_TAGS): "公章" is one, "直接" (ad) is not."""
    import jieba

    # One pattern over the whole file: decoding and splitting its 349,000 lines one by one took 0.35 s, this 0.1 s,
    # paid by the first question that needs it.
    with jieba.dt.get_dict_file() as file:
        text = file.read().decode("utf-8")
    tags = "|".join(sorted(_THING_TAGS))
    return frozenset(re.findall(rf"^(\S+) \d+ (?:{tags})\r?$", text, re.MULTILINE))


def is_thing(word: str) -> bool:
    """A Chinese noun or verb of two characters or more in jieba's dictionary: a thing or act one can ask about.

    Adverbs ("直接"), pronouns ("本身"), numerals ("半天") and words jieba does not know (colloquial fragments such
    as "全写") are not: a question can hold them without asking about them.
    """
    return len(word) >= 2 and word in _jieba_things()


# jieba's tags for common nouns, verbal nouns and verbs; names of places, people and organisations (ns, nr, nt)
# describe the asker ("我们是新加坡的公司"), not what is asked.
_THING_TAGS = frozenset({"n", "vn", "nz"})


def _read_terms(path: Path) -> list[str]:
    if not path.exists():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def _contains(text: str, key: str) -> bool:
    # Every synonym key is tried on every question: the substring test first, the pattern only where it holds.
    if key not in text:
        return False
    return not key.isascii() or _word_pattern(key).search(text) is not None


@functools.cache
def _word_pattern(key: str) -> re.Pattern[str]:
    """ASCII keys need word boundaries: "ddl" must not match inside another word. A plural is the same key
    ("brochures" is "brochure")."""
    return re.compile(rf"(?<![a-z0-9]){re.escape(key)}(?:s|es)?(?![a-z0-9])")
