"""The pinyin initials of a Chinese name (张三 → zs), by pypinyin: a resident is found by them on a
phone's keyboard. A surname read otherwise than its common reading (单 shàn, 曾 zēng) is read as a
surname."""
from __future__ import annotations

from functools import lru_cache

from pypinyin import Style, lazy_pinyin

# Surnames whose reading differs from the character's common one (单 is dān, as a surname shàn).
SURNAME_INITIALS = {
    "单": "s", "曾": "z", "解": "x", "仇": "q", "区": "o", "朴": "p", "查": "z", "翟": "z", "乐": "y",
    "盖": "g", "覃": "q", "缪": "m", "种": "c", "召": "s", "繁": "p", "秘": "b", "折": "s", "员": "y",
    "尉": "y", "长": "c", "重": "c", "华": "h", "任": "r", "沈": "s", "万": "w", "句": "g", "黑": "h",
}
MOST = 50  # the column's width


@lru_cache(maxsize=65536)
def initials_of(name: str | None) -> str:
    """Lowercase initials of each Chinese character; Latin letters kept, the rest dropped."""
    name = "".join((name or "").split())
    if not name:
        return ""
    first = SURNAME_INITIALS.get(name[0])
    letters = lazy_pinyin(name[1:] if first else name, style=Style.FIRST_LETTER, errors="default")
    text = (first or "") + "".join(letters)
    return "".join(ch for ch in text.lower() if ch.isascii() and ch.isalnum())[:MOST]
