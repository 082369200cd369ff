"""Text matching for searches over large tables: a LIKE pattern that takes the user's words
literally, and the rows of a related table a typed name picks (grids with their sub-grids,
workers and volunteers by name) — so a search form never lists a whole table as choices."""
from __future__ import annotations

import re

from sqlalchemy import false, func, or_, select
from sqlalchemy.orm import Session, aliased

from ..models import Grid, GridgovUser, House, Household, Resident, Volunteer, Worker
from ..models.users import person_name
from . import scope as scope_service
from .scope import Scope
from .personal_data import mask_mobile
from .typed import clean


def contains_pattern(word: str) -> str:
    """``%word%`` with LIKE's wildcards and escape character taken as plain characters."""
    return "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _grids(text: str):
    # a grid whose code is typed or whose name contains the words, and everything under it
    match = aliased(Grid)
    return (select(Grid.id).join(match, Grid.path.descendant_of(match.path))
            .where(or_(match.code == text, match.name.ilike(contains_pattern(text)))))


# --- finding a person ---------------------------------------------------------------------
_DIGITS = re.compile(r"^\d{4}$")
_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_ID = re.compile(r"^\d{17}[\dXx]$")
_LETTERS = re.compile(r"^[A-Za-z]{1,20}$")


def find_condition(text: str):
    """What a person's search box asks for, as SQL: the last four digits of a phone or ID
    number, a whole mobile or ID number, pinyin initials (zs), or the start of a name (张三).
    Never a part of a number other than its last four: a masked number shows them anyway."""
    text = "".join((text or "").split())
    if not text:
        return None
    if _DIGITS.match(text):
        return or_(func.right(Resident.phone, 4) == text, func.right(Resident.id_number, 4) == text)
    if _MOBILE.match(text):
        return Resident.phone == text
    if _ID.match(text):
        return Resident.id_number == text.upper()
    if _LETTERS.match(text):
        return Resident.name_initials.startswith(text.lower(), autoescape=True)
    if text.isdigit():
        return false()  # part of a number: not a search the mask allows
    return Resident.name.startswith(text, autoescape=True)



def _residents(text: str):
    condition = find_condition(text)
    return select(Resident.id).where(condition if condition is not None else Resident.id.is_(None))


MATCHERS = {
    Grid: _grids,
    # a person by name, pinyin initials, the last four digits or the whole of a number
    Resident: _residents,
    Household: lambda text: select(Household.id).where(Household.number.startswith(text, autoescape=True)),
    Worker: lambda text: select(Worker.id).where(Worker.name.ilike(contains_pattern(text))),
    Volunteer: lambda text: select(Volunteer.id).where(Volunteer.name.ilike(contains_pattern(text))),
    # a login by its user name or the person's name (the audit trail's "by")
    GridgovUser: lambda text: select(GridgovUser.id).where(or_(
        GridgovUser.username == text, (GridgovUser.last_name + GridgovUser.first_name).ilike(contains_pattern(text)),
        (GridgovUser.first_name + " " + GridgovUser.last_name).ilike(contains_pattern(text)))),
}


def matching_ids(model: type, text: str):
    """A SELECT of the ids of ``model`` that ``text`` names (see MATCHERS)."""
    return MATCHERS[model](clean(text))


# --- typed pickers -------------------------------------------------------------------------
# A form's choice of a grid, worker, volunteer or login is typed into: the rows the text names,
# a page at a time, instead of a drop-down of every row in scope (18,200 grids, 81,400 workers
# at city size). Each model: the statement of (id, label parts), the typed text's condition, the
# order (an index's), and how a row's parts make its label.
PICK_PAGE = 20
PICK_PAGES = 50  # no page after the 1,000th row: type more of the name


def _grid_pick(text: str):
    parent = aliased(Grid)
    statement = (select(Grid.id, Grid.name, Grid.code, parent.name)
                 .outerjoin(parent, parent.id == Grid.parent_id).order_by(Grid.code))
    if text:
        statement = statement.where(or_(Grid.name.ilike(contains_pattern(text)),
                                        Grid.code.startswith(text, autoescape=True)))
    return statement


def _grid_label(name, code, parent_name) -> str:
    return f"{name}（{code}）· {parent_name}" if parent_name else f"{name}（{code}）"


def _named_pick(model, home):
    """Rows with a ``name`` and a home grid, labelled "name（grid）" (two people share a name)."""
    def statement(text: str):
        found = (select(model.id, model.name, Grid.name).outerjoin(Grid, Grid.id == home)
                 .order_by(model.name, model.id))
        return found.where(model.name.ilike(contains_pattern(text))) if text else found
    return statement


def _user_pick(text: str):
    statement = select(GridgovUser.id, GridgovUser.username, GridgovUser.first_name,
                       GridgovUser.last_name).order_by(GridgovUser.username)
    if text:
        pattern = contains_pattern(text)
        statement = statement.where(or_(GridgovUser.username.ilike(pattern), GridgovUser.first_name.ilike(pattern),
                                        GridgovUser.last_name.ilike(pattern)))
    return statement


def _named_label(name, home) -> str:
    return f"{name}（{home}）" if home else name


def _resident_pick(text: str):
    statement = (select(Resident.id, Resident.name, Grid.name, Resident.phone).outerjoin(Grid, Grid.id == Resident.grid_id)
                 .where(Resident.moved_out.is_(None)).order_by(Resident.name, Resident.id))
    condition = find_condition(text) if text else None
    return statement if condition is None else statement.where(condition)


def _resident_label(name, grid, phone) -> str:
    # the phone as a masked list shows it: enough to tell two 张伟 apart
    return " ".join(filter(None, [f"{name}（{grid}）" if grid else name, mask_mobile(phone)]))


def _household_pick(text: str):
    statement = (select(Household.id, Household.number, Grid.name).join(Grid, Grid.id == Household.grid_id)
                 .order_by(Household.number))
    return statement.where(Household.number.startswith(text, autoescape=True)) if text else statement


def _house_pick(text: str):
    # a house by its grid's name (a building) and its unit: its room is masked for some roles, so
    # it is neither searched nor shown here
    statement = (select(House.id, Grid.name, House.unit, House.id).join(Grid, Grid.id == House.grid_id)
                 .order_by(Grid.code, House.id))
    return statement.where(Grid.name.ilike(contains_pattern(text))) if text else statement


PICKERS = {
    Resident: (_resident_pick, _resident_label),
    Household: (_household_pick, lambda number, grid: f"{number}（{grid}）"),
    House: (_house_pick, lambda grid, unit, key: f"{grid} {unit or ''} #{key}"),
    Grid: (_grid_pick, _grid_label),
    Worker: (_named_pick(Worker, Worker.grid_id), _named_label),
    Volunteer: (_named_pick(Volunteer, Volunteer.community_id), _named_label),
    GridgovUser: (_user_pick, lambda username, first, last: f"{username}（{person_name(first, last)}）"),
}


def picker_of(model: type) -> type | None:
    """The model whose picker serves a relation to ``model`` (FAB's groups name its ``User``,
    which ``GridgovUser`` extends), or None: that relation keeps its drop-down."""
    return next((picked for picked in PICKERS if issubclass(picked, model)), None)


def pick(session: Session, scope: Scope, model: type, text: str | None, *, page: int = 1,
         where=()) -> tuple[list[tuple[int, str]], bool]:
    """A page of (id, label) of the rows of ``model`` that ``scope`` may see and ``text`` names
    (all of them when it is empty), in the index's order; and whether more pages follow.
    ``where``: what else the form's field asks of the row (a community-level grid…)."""
    statement, label = PICKERS[model]
    page = min(max(page, 1), PICK_PAGES)
    rows = session.execute(statement(clean(text)).where(scope_service.visible(scope, model), *where)
                           .offset((page - 1) * PICK_PAGE).limit(PICK_PAGE + 1)).all()
    more = len(rows) > PICK_PAGE and page < PICK_PAGES
    return [(row[0], label(*row[1:])) for row in rows[:PICK_PAGE]], more


def picked(session: Session, scope: Scope, model: type, keys, *, as_model: type | None = None) -> list:
    """The rows of these keys that ``scope`` may see (a form's submitted choice is read through
    the scope the picker offered it from; what else the row must be is the service's check, whose
    message says why), loaded as ``as_model`` when the relation names a model ``model`` extends."""
    keys = [key for key in keys if key is not None]
    if not keys:
        return []
    seen = select(model.id).where(model.id.in_(keys), scope_service.visible(scope, model))
    as_model = as_model or model
    return list(session.scalars(select(as_model).where(as_model.id.in_(seen))))


def label(session: Session, model: type, row) -> str:
    """The label the picker gives ``row``."""
    statement, make = PICKERS[model]
    found = session.execute(statement("").where(model.id == row.id)).first()
    return make(*found[1:]) if found else str(row)
