"""Text matching for searches over large tables: a LIKE pattern that takes the user's words
literally, and the rows of a related table a typed name picks (grids with their sub-grids,
workers and volunteers by name) — so a search form never lists a whole table as choices."""
from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import aliased

from ..models import Grid, Volunteer, Worker


def clean(text: str | None) -> str:
    """Typed text as PostgreSQL takes it: trimmed, without NUL characters (which no text column
    holds and the driver refuses)."""
    return (text or "").replace("\x00", "").strip()


def contains_pattern(word: str) -> str:
    """``%word%`` with LIKE's wildcards and escape character taken as plain characters."""
    return "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _grids(text: str):
    # a grid whose code is typed or whose name contains the words, and everything under it
    match = aliased(Grid)
    return (select(Grid.id).join(match, Grid.path.descendant_of(match.path))
            .where(or_(match.code == text, match.name.ilike(contains_pattern(text)))))


MATCHERS = {
    Grid: _grids,
    Worker: lambda text: select(Worker.id).where(Worker.name.ilike(contains_pattern(text))),
    Volunteer: lambda text: select(Volunteer.id).where(Volunteer.name.ilike(contains_pattern(text))),
}


def matching_ids(model: type, text: str):
    """A SELECT of the ids of ``model`` that ``text`` names (see MATCHERS)."""
    return MATCHERS[model](clean(text))
