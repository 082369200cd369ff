"""Keys and text typed by a user (a form's, a URL's), read as the database takes them."""
from __future__ import annotations


def clean(text: str | None) -> str:
    """Typed text as PostgreSQL takes it: trimmed, without NUL characters (which no text column
    holds and the driver refuses)."""
    return (text or "").replace("\x00", "").strip()


def as_key(value) -> int | None:
    """A typed primary key (a form's, a URL's), or None when the text is not one: letters, empty,
    out of the integer range, or digits other than 0-9 ("²" and "①" are digits to Python's
    ``isdigit`` but not to ``int``)."""
    text = clean(value if isinstance(value, str) else str(value) if value is not None else "")
    if not (text.isascii() and text.isdigit()) or len(text) > 10:
        return None
    number = int(text)
    return number if number < 2**31 else None


def as_keys(values) -> list[int]:
    """The keys among ``values``, each once, in order; what is not a key is left out."""
    return sorted({key for key in map(as_key, values or ()) if key is not None})
