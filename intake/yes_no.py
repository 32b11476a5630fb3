"""The words an entrant may type for yes and for no, in Chinese and English: one list for every yes/no question
(a declaration, the pre-check, "another project?", the summary's confirmation)."""

from __future__ import annotations

import re
import unicodedata

__all__ = ["NO", "YES", "normalized", "yes_or_no"]

YES = frozenset({"是", "是的", "同意", "确认", "确定", "好", "好的", "可以", "yes", "y", "agree", "iagree", "agreed", "ok", "confirm", "true"})  # fmt: skip
NO = frozenset({"否", "不", "不是", "不同意", "不确认", "no", "n", "disagree", "idonotagree", "false"})


def normalized(text: str) -> str:
    """`text` as the lists hold words: full-width folded, spaces and end punctuation dropped, case-folded."""
    return re.sub(r"[\s.。!！,，~]", "", unicodedata.normalize("NFKC", text)).casefold()


def yes_or_no(text: str) -> bool | None:
    """True for a yes word, False for a no word, None for anything else."""
    key = normalized(text)
    if key in YES:
        return True
    if key in NO:
        return False
    return None
