"""台账导入 — records brought in from Excel or CSV: grids, workers, departments and paired units,
volunteers, service records, and 一户一档's houses, households and residents.

``preview`` reads the file (``spreadsheet_reader``), checks every row with the rules the forms
use (the services' ``check_*``), and says which rows are new, changed, unchanged or bad.
``apply`` does it again in one unit of work and writes every row or none: a bad row, or a
preview that is no longer what the user confirmed (someone changed the records meanwhile),
writes nothing and gives the new preview.

Rows are matched to existing records by a key (``Kind.key_note``): a grid by its code, a worker
or volunteer by ID number (else mobile phone) among the records the uploader sees, a department
by its name, a service record by its volunteer, date and activity, a house by its grid, unit and
room, a household by its number, a resident by ID number (else, for a person from abroad who has
none, by mobile phone). An empty optional cell keeps
what an existing record has (a new record takes the default): an import never erases. The
existing records a file names are read in one query per kind, not one per row."""
from __future__ import annotations

import datetime
import hashlib
import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Callable

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy_utils import Ltree

from ..models import Department, Grid, House, Household, PointsRule, Resident, ServiceRecord, Volunteer, Worker
from ..models.choices import (ATTENTION_TAG_LABELS, DEPARTMENT_KIND_LABELS, EMPLOYMENT_TYPE_LABELS, ETHNICITY_LABELS,
                              GRID_KIND_LABELS, GRID_LEVEL_LABELS, GRID_LEVEL_RANK, HOUSE_OWNERSHIP_LABELS,
                              HOUSE_USE_LABELS, HOUSEHOLD_KIND_LABELS, RELATION_LABELS, RESIDENCE_STATUS_LABELS,
                              SENSITIVE_TAGS, VOLUNTEER_KIND_LABELS, WORKER_ROLE_LABELS)
from . import grids as grid_service
from . import people as people_service
from . import residents as resident_service
from .db_errors import MESSAGES as REFUSALS
from .errors import DomainError
from .personal_data import (is_valid_mobile, mask_address, mask_mobile, mask_resident_id, normalise_mobile,
                            normalise_resident_id)
from .scope import Scope, can_write_under, visible
from .spreadsheet_reader import MAX_BYTES, MAX_ROWS, BadFile, read_table
from .unit_of_work import unit_of_work

NEW, CHANGED, UNCHANGED, BAD = "new", "changed", "unchanged", "bad"
LANGUAGES = ("zh", "en")
YES = {"是", "yes", "y", "true", "1", "√", "✓", "有"}
NO = {"否", "no", "n", "false", "0", "×", "无"}
# a grid written as the lists show it, "华夏南区（410611001001-01）": its code
_CODE_IN_NAME = re.compile(r"[（(]([0-9A-Za-z-]{1,32})[）)]\s*$")
DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日", "%Y%m%d")


class CellError(Exception):
    """A cell that cannot be read as its column's type; ``message`` is lazy."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


# --- columns --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Column:
    """One column of a kind's file. ``kind``: text, id_number, int, decimal, date, bool, choice, ref,
    refs (several codes), labels (several of ``choices`` by their labels, the plan reads them).
    ``attr`` is the model attribute it fills; ``length`` comes from the model. ``hidden_choices``:
    the choices shown only to who may see the sensitive tags."""

    name: str
    label: object
    kind: str = "text"
    required: bool = False
    choices: dict | None = None
    note: object = None
    length: int | None = None
    aliases: tuple = ()
    scale: int | None = None  # a decimal's places as its Numeric column stores them
    hidden_choices: tuple = ()

    def shown_choices(self, may_see_sensitive: bool) -> dict:
        return {key: label for key, label in (self.choices or {}).items()
                if may_see_sensitive or key not in self.hidden_choices}


def _length(model, attr: str) -> int | None:
    return getattr(model.__table__.c[attr].type, "length", None)


def _scale(model, attr: str) -> int | None:
    return getattr(model.__table__.c[attr].type, "scale", None)


def in_language(text, language: str) -> str:
    """A lazy string as ``language`` writes it (English is the message itself)."""
    with force_locale(language):
        return str(text)


def _normal(text) -> str:
    text = re.sub(r"\s+", "", str(text or "")).rstrip("*＊").replace("（", "(").replace("）", ")")
    return text.lower()


def choice_names(column: Column) -> dict[str, str]:
    """Every way the file may write one of the column's values: its key, its zh and en labels."""
    names = {}
    for key, label in column.choices.items():
        names[key.lower()] = key
        for language in LANGUAGES:
            names.setdefault(_normal(in_language(label, language)), key)
    return names


def _choice_of(column: Column, value, names: dict | None) -> str:
    key = (names if names is not None else choice_names(column)).get(_normal(value))
    if key is None:
        raise CellError(_l("%(column)s: choose one of %(values)s.", column=column.label,
                           values="、".join(str(label) for label in column.choices.values())))
    return key


def _text(value) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    return str(value).strip()


def parse_cell(column: Column, value, names: dict | None = None):
    """The cell's value as its column's type; None for an empty cell; ``CellError`` else.
    ``names``: the column's ``choice_names``, made once per file."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    kind = column.kind
    if kind == "id_number":
        if isinstance(value, (int, float)):
            raise CellError(_l("%(column)s: type ID numbers as text (Excel keeps only 15 digits of a number).",
                               column=column.label))
        kind = "text"
    if kind in ("text", "ref", "refs"):
        text = _text(value)
        if kind == "ref" and column.name.endswith("code"):  # a grid as lists and exports print it: 名称（code）
            match = _CODE_IN_NAME.search(text)
            text = match.group(1) if match else text
        if column.length and len(text) > column.length:
            raise CellError(_l("%(column)s: at most %(count)s characters.", column=column.label, count=column.length))
        if kind == "refs":
            return [part for part in re.split(r"[\s,，;；、]+", text) if part]
        return text
    if kind == "labels":  # English labels hold spaces: only the separators split them
        return [part.strip() for part in re.split(r"[,，;；、]+", _text(value)) if part.strip()] or None
    if kind == "int":
        try:
            number = Decimal(_text(value))
        except InvalidOperation:
            raise CellError(_l("%(column)s: enter a whole number.", column=column.label)) from None
        if number != number.to_integral_value() or not (0 <= number <= 10**9):
            raise CellError(_l("%(column)s: enter a whole number.", column=column.label))
        return int(number)
    if kind == "decimal":
        try:
            number = Decimal(_text(value))
        except InvalidOperation:
            raise CellError(_l("%(column)s: enter a number.", column=column.label)) from None
        if not number.is_finite() or abs(number) >= 10**6:
            raise CellError(_l("%(column)s: enter a number.", column=column.label))
        if column.scale is not None:  # as PostgreSQL stores it (half away from zero): a re-import is unchanged
            number = number.quantize(Decimal(1).scaleb(-column.scale), rounding=ROUND_HALF_UP)
        return number
    if kind == "date":
        return _date(column, value)
    if kind == "bool":
        if isinstance(value, bool):
            return value
        text = _normal(_text(value))
        if text in YES:
            return True
        if text in NO:
            return False
        raise CellError(_l("%(column)s: enter 是 or 否 (yes or no).", column=column.label))
    if kind == "choice":
        return _choice_of(column, _text(value), names)
    raise ValueError(kind)


def _date(column: Column, value) -> datetime.date:
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, (int, float)) and 20000 <= value <= 80000:  # an Excel day number
        return datetime.date(1899, 12, 30) + datetime.timedelta(days=int(value))
    text = _text(value).split(" ")[0]
    for pattern in DATE_FORMATS:
        try:
            return datetime.datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise CellError(_l("%(column)s: enter a date such as 2024-03-01.", column=column.label))


# --- results --------------------------------------------------------------------------------------
@dataclass
class Row:
    """One data row: its values as read, what the import would do with it, and why not."""

    line: int
    values: dict
    messages: list = field(default_factory=list)
    action: str = BAD
    title: str = ""
    existing: object = None
    record: object = None
    changes: list = field(default_factory=list)  # (label, before, after) shown; (attr, before, after) kept

    def refuse(self, message) -> None:
        self.messages.append(message)
        self.action = BAD


@dataclass
class Preview:
    kind: str
    rows: list
    ignored_columns: list
    applied: bool = False

    def of(self, action: str) -> list[Row]:
        return [row for row in self.rows if row.action == action]

    @property
    def counts(self) -> dict:
        return {action: len(self.of(action)) for action in (NEW, CHANGED, UNCHANGED, BAD)}

    @property
    def can_apply(self) -> bool:
        return bool(self.rows) and not self.of(BAD) and bool(self.of(NEW) or self.of(CHANGED))

    @property
    def digest(self) -> str:
        """What the user confirms: each row's action, the record it matches and its changes."""
        text = repr([(row.line, row.action, getattr(row.existing, "id", None),
                      [(attr, repr(before), repr(after)) for attr, before, after, *_ in row.changes])
                     for row in self.rows])
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


# --- kinds ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Kind:
    name: str
    title: object
    model: type
    columns: tuple
    key_note: object
    example: dict
    plan: Callable
    write: Callable
    # the plan is told whether the uploader may see the sensitive tags (``may_see_sensitive``)
    sensitive: bool = False

    def column(self, name: str) -> Column:
        return next(column for column in self.columns if column.name == name)


def _person_columns(model) -> list[Column]:
    return [
        Column("name", lazy_pgettext("a person's", "Name"), required=True, length=_length(model, "name")),
        Column("phone", _l("Mobile phone"), required=True, length=20,
               note=_l("11-digit mainland mobile number.")),
        Column("id_number", _l("Resident ID number"), "id_number", length=20,
               note=_l("18 characters with the check digit; the last may be X. Type it as text.")),
    ]


WORKER_COLUMNS = (
    *_person_columns(Worker),
    Column("role", _l("Role"), "choice", choices=WORKER_ROLE_LABELS, note=_l("Empty: grid worker.")),
    Column("grid_code", _l("Grid code"), "ref", required=True, length=32, aliases=(_l("Grid"),),
           note=_l("The code of a grid in your area.")),
    Column("employment", _l("Employment type"), "choice", choices=EMPLOYMENT_TYPE_LABELS,
           note=_l("Empty: full-time.")),
    Column("party_member", _l("Party member"), "bool", note=_l("是 or 否; empty: 否.")),
    Column("start_date", _l("Start date"), "date", required=True, note=_l("A date such as 2024-03-01, not in the future.")),
    Column("department", _l("Department or unit"), "ref", length=_length(Department, "name"),
           note=_l("The name of a department or paired unit, as in the departments list.")),
)

VOLUNTEER_COLUMNS = (
    *_person_columns(Volunteer),
    Column("kind", _l("Volunteer type"), "choice", choices=VOLUNTEER_KIND_LABELS, note=_l("Empty: resident.")),
    Column("community_code", _l("Home community code"), "ref", required=True, length=32,
           aliases=(_l("Home community"),), note=_l("The code of a community in your area.")),
    Column("unit", _l("Unit (sunk party members)"), "ref", length=_length(Department, "name"),
           note=_l("Required for sunk party members: the name of the unit they come from.")),
    Column("address", _l("Address"), length=_length(Volunteer, "address")),
    Column("skills", _l("Skills"), length=_length(Volunteer, "skills")),
    Column("party_member", _l("Party member"), "bool", note=_l("是 or 否; empty: 否.")),
)

GRID_COLUMNS = (
    Column("code", _l("Grid code"), required=True, length=32,
           note=_l("1 to 32 letters, digits or dashes, unique, e.g. 410611001001-01.")),
    Column("name", _l("Name"), required=True, length=_length(Grid, "name")),
    Column("level", _l("Level"), "choice", required=True, choices=GRID_LEVEL_LABELS,
           note=_l("Below the level of the parent grid.")),
    Column("kind", _l("Grid kind"), "choice", choices=GRID_KIND_LABELS, note=_l("Empty: comprehensive grid.")),
    Column("parent_code", _l("Parent grid code"), "ref", length=32, aliases=(_l("Parent grid"),),
           note=_l("The code of a grid in your area or on an earlier or later row of the file; empty only for a "
                   "district.")),
    Column("households", _l("Households"), "int", note=_l("A whole number; empty: 0.")),
    Column("population", _l("Population"), "int", note=_l("A whole number; empty: 0.")),
    Column("area_km2", _l("Area (km²)"), "decimal", scale=_scale(Grid, "area_km2")),
    Column("party_branch", _l("Party branch"), length=_length(Grid, "party_branch")),
)

DEPARTMENT_COLUMNS = (
    Column("name", _l("Name"), required=True, length=_length(Department, "name")),
    Column("kind", _l("Type"), "choice", choices=DEPARTMENT_KIND_LABELS, note=_l("Empty: functional department.")),
    Column("contact_name", _l("Contact person"), length=_length(Department, "contact_name")),
    Column("contact_phone", _l("Contact phone"), length=_length(Department, "contact_phone"),
           note=_l("A mobile number or a landline such as 0392-3312345.")),
    Column("description", _l("Description"), length=_length(Department, "description")),
    Column("communities", _l("Communities served"), "refs",
           note=_l("Community codes separated by 、 or commas; empty: none (a department of the whole district).")),
)

RECORD_COLUMNS = (
    Column("volunteer_id_number", _l("Volunteer's ID number"), "id_number", length=20,
           note=_l("The volunteer's ID number, or leave it empty and give the phone.")),
    Column("volunteer_phone", _l("Volunteer's mobile phone"), length=20,
           note=_l("Used when the ID number is empty.")),
    Column("volunteer_name", _l("Volunteer"), length=_length(Volunteer, "name"),
           note=_l("Checked against the volunteer found.")),
    Column("date", _l("Date"), "date", required=True, note=_l("A date such as 2024-03-01, not in the future.")),
    Column("hours", _l("Hours"), "decimal", required=True, note=_l("More than 0 and at most 24."),
           scale=_scale(ServiceRecord, "hours")),
    Column("activity", _l("Activity"), required=True, length=_length(ServiceRecord, "activity")),
    Column("rule", _l("Activity type"), "ref", length=_length(PointsRule, "name"),
           note=_l("The name of an activity type (points rule) of the district or of the volunteer's community.")),
)

# 一户一档: the columns carry the labels of the screens, so that an exported list imports back
HOUSE_COLUMNS = (
    Column("grid_code", _l("Grid code"), "ref", required=True, length=32, aliases=(_l("Grid"),),
           note=_l("The code of a building micro-grid in your area (or of a block grid without them).")),
    Column("unit", _l("Unit (单元)"), length=_length(House, "unit"),
           note=_l("Empty when the building has no units.")),
    Column("room", _l("Room"), required=True, length=_length(House, "room")),
    Column("use", _l("Use"), "choice", choices=HOUSE_USE_LABELS, note=_l("Empty: residential.")),
    Column("area_m2", _l("Area (m²)"), "decimal", scale=_scale(House, "area_m2")),
    Column("ownership", _l("Ownership"), "choice", choices=HOUSE_OWNERSHIP_LABELS, note=_l("Empty: owner-occupied.")),
)

HOUSEHOLD_COLUMNS = (
    Column("number", _l("Household number"), required=True, length=_length(Household, "number"),
           note=_l("1 to 32 letters, digits or dashes, unique.")),
    Column("grid_code", _l("Grid code"), "ref", required=True, length=32, aliases=(_l("Grid"),),
           note=_l("The code of the house's grid, in your area.")),
    Column("unit", _l("Unit (单元)"), length=_length(House, "unit"), note=_l("The house's unit; empty when it has none.")),
    Column("room", _l("Room"), length=_length(House, "room"),
           note=_l("The house's room: the house must be recorded already (import the houses first).")),
    Column("house", _l("House"), length=_length(House, "unit") + _length(House, "room"),
           note=_l("Or, instead of the unit and the room, the house as the lists print it: 1单元101.")),
    Column("kind", _l("Kind of household"), "choice", choices=HOUSEHOLD_KIND_LABELS,
           note=_l("Empty: registered household.")),
    Column("head_id_number", _l("Head's ID number"), "id_number", length=20,
           note=_l("The ID number of one of its members; empty: the head stays as it is (a resident imported as "
                   "head of a household without one becomes its head).")),
)

RESIDENT_COLUMNS = (
    Column("name", lazy_pgettext("a person's", "Name"), required=True, length=_length(Resident, "name")),
    Column("id_number", _l("Resident ID number"), "id_number", length=20,
           note=_l("18 characters with the check digit; the last may be X. Type it as text. Only a person from "
                   "abroad may have none.")),
    Column("phone", _l("Mobile phone"), length=20,
           note=_l("11-digit mainland mobile number; matches a person from abroad without an ID number.")),
    Column("ethnicity", _l("Ethnic group"), "choice", choices=ETHNICITY_LABELS),
    Column("residence_status", _l("Residence status"), "choice", choices=RESIDENCE_STATUS_LABELS,
           note=_l("Empty: registered.")),
    Column("grid_code", _l("Grid code"), "ref", length=32, aliases=(_l("Grid"),),
           note=_l("Where they live when they are in no household: the code of a grid in your area. With a "
                   "household, empty or its grid.")),
    Column("household_number", _l("Household number"), "ref", length=_length(Household, "number"),
           aliases=(_l("Household"),), note=_l("The number of a household of your area; give the grid code or it.")),
    Column("relation", _l("Relation to the head"), "choice", choices=RELATION_LABELS,
           note=_l("Required with a household. 户主 makes them its head when it has none.")),
    Column("moved_in", _l("Moved in"), "date", note=_l("A date such as 2024-03-01, not in the future.")),
    Column("workplace", _l("Workplace or school"), length=_length(Resident, "workplace")),
    Column("party_member", _l("Party member"), "bool", note=_l("是 or 否; empty: 否.")),
    Column("tags", _l("Care and attention"), "labels", choices=ATTENTION_TAG_LABELS, hidden_choices=SENSITIVE_TAGS,
           note=_l("Tags separated by 、 or commas; they replace the tags you see (a tag you are not shown stays).")),
)


# --- reading a file into rows ---------------------------------------------------------------------
def _header_map(kind: Kind, header: list[str]) -> tuple[dict, list[str]]:
    """{column index: Column} and the headers no column takes; ``BadFile`` for a missing
    required column or one given twice."""
    names = {}
    for column in kind.columns:
        for label in (column.label, *column.aliases):
            for language in LANGUAGES:
                names.setdefault(_normal(in_language(label, language)), column)
        names.setdefault(_normal(column.name), column)
    found, ignored = {}, []
    for index, text in enumerate(header):
        column = names.get(_normal(text)) if text else None
        if column is None:
            if text:
                ignored.append(text)
            continue
        if column in found.values():
            raise BadFile(_l("The column %(column)s appears twice in the header row.", column=column.label))
        found[index] = column
    missing = [column for column in kind.columns if column.required and column not in found.values()]
    if missing:
        raise BadFile(_l("The header row lacks the required columns %(columns)s: download the template and keep "
                         "its first row.", columns="、".join(str(column.label) for column in missing)))
    return found, ignored


def _rows(kind: Kind, table) -> tuple[list[Row], list[str]]:
    columns, ignored = _header_map(kind, table.header)
    names = {column.name: choice_names(column) for column in columns.values() if column.choices}
    example = _example(kind, list(columns.values()), names)
    rows = []
    for line, cells in table.rows:
        row = Row(line=line, values={})
        for index, column in columns.items():
            try:
                value = parse_cell(column, cells[index] if index < len(cells) else None, names.get(column.name))
            except CellError as error:
                row.refuse(error.message)
                continue
            if value is not None:
                row.values[column.name] = value
            elif column.required:
                row.refuse(_l("%(column)s is required.", column=column.label))
        if not row.messages and row.values == example:
            row.refuse(_l("Line %(line)s is the template's example: delete it or change it to real data before "
                          "importing.", line=line))
        rows.append(row)
    return rows, ignored


def _example(kind: Kind, columns: list[Column], names: dict) -> dict | None:
    """The template's example row as the file's columns read it (a row equal to it was uploaded
    untouched: it is no real record); None when the file lacks one of the example's columns (it is
    not the template)."""
    if any(kind.example.get(column.name) is not None and column not in columns for column in kind.columns):
        return None
    example = {}
    for column in columns:
        shown = _shown(column, kind.example.get(column.name))
        try:
            value = parse_cell(column, shown, names.get(column.name))
        except CellError:
            return None
        if value is not None:
            example[column.name] = value
    return example or None


def preview(session: Session, scope: Scope, kind_name: str, data: bytes, filename: str = "", *,
            may_see_sensitive: bool = False) -> Preview:
    """What importing the file would do; nothing is written. ``BadFile`` for a refused file.
    ``may_see_sensitive``: the uploader may see and set the sensitive tags (the view says)."""
    kind = KINDS[kind_name]
    table = read_table(data, filename)
    rows, ignored = _rows(kind, table)
    options = {"may_see_sensitive": may_see_sensitive} if kind.sensitive else {}
    with session.no_autoflush:
        kind.plan(session, scope, [row for row in rows if not row.messages], **options)
    for row in rows:
        if row.messages:
            row.action = BAD
    return Preview(kind=kind_name, rows=rows, ignored_columns=ignored)


def apply(session: Session, scope: Scope, kind_name: str, data: bytes, filename: str, confirmed: str, *,
          may_see_sensitive: bool = False) -> Preview:
    """Check the file again and write all its rows in one transaction, when the result is still
    the preview the user confirmed (``confirmed``: its digest) and no row is bad; otherwise write
    nothing and give the new preview (``applied`` False)."""
    kind = KINDS[kind_name]
    with unit_of_work(session):
        result = preview(session, scope, kind_name, data, filename, may_see_sensitive=may_see_sensitive)
        if result.digest != confirmed or not result.can_apply:
            return result
        kind.write(session, result)
        session.flush()
        result.applied = True
    return result


# --- shared steps of the plans --------------------------------------------------------------------
def _check(row: Row, check, *args, **kwargs) -> bool:
    try:
        check(*args, **kwargs)
    except DomainError as error:
        row.refuse(error.message)
        return False
    return True


def _once(rows: list[Row], key_of) -> list[Row]:
    """The rows whose key no earlier row has; a repeated key is a bad row naming the first line."""
    seen, kept = {}, []
    for row in rows:
        key = key_of(row)
        if key in seen:
            row.refuse(_l("The same record as on line %(line)s.", line=seen[key]))
            continue
        seen[key] = row.line
        kept.append(row)
    return kept


def _display(value, column: Column | None = None) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(_l("Yes")) if value else str(_l("No"))
    if column is not None and column.choices:
        return str(column.choices.get(value, value))
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, (list, tuple, set)):
        return "、".join(sorted(str(v) for v in value))
    return str(value)


def _masked(attr: str, shown: str) -> str:
    """A personal-data field's value as the preview shows it (PIPL: masked on both sides of a
    change, as the lists show it): a mobile, an ID number, an address; a contact phone that is a
    mobile (an office's landline is not personal)."""
    if not shown:
        return shown
    if attr == "phone" or (attr == "contact_phone" and is_valid_mobile(normalise_mobile(shown))):
        return mask_mobile(shown)
    if attr == "id_number":
        return mask_resident_id(shown)
    if attr == "address":
        return mask_address(shown)
    return shown


def _finish(row: Row, existing, record, fields: list[tuple[str, Column | None]], *, title: str) -> None:
    """Mark the checked row new, changed (with each field's before → after) or unchanged."""
    row.record, row.existing, row.title = record, existing, title
    if existing is None:
        row.action = NEW
        return
    changes = []
    for attr, column in fields:
        before, after = _comparable(getattr(existing, attr)), _comparable(getattr(record, attr))
        if before != after:
            label = column.label if column is not None else attr
            changes.append((attr, before, after, label, _masked(attr, _display(before, column)),
                            _masked(attr, _display(after, column))))
    row.changes = changes
    row.action = CHANGED if changes else UNCHANGED


def _comparable(value):
    if isinstance(value, Decimal):
        return value.normalize()
    if isinstance(value, list):  # related rows: compared by what the file names them
        return tuple(sorted(str(v) for v in value))
    return value


def _write_rows(session: Session, result: Preview) -> None:
    for row in result.rows:
        if row.action == NEW:
            session.add(row.record)
        elif row.action == CHANGED:
            for attr, *_ in row.changes:
                setattr(row.existing, attr, getattr(row.record, attr))


def _grids_by_code(session: Session, codes, scope: Scope | None = None) -> dict[str, Grid]:
    """The grids of these codes; with ``scope``, only those it may place records in: a grid outside
    it is as unknown as a code no grid has (the message does not tell whether it exists)."""
    codes = {code.lower() for code in codes if code}
    if not codes:
        return {}
    return {grid.code.lower(): grid for grid in session.scalars(select(Grid).where(func.lower(Grid.code).in_(codes)))
            if scope is None or can_write_under(scope, grid)}


def _departments_by_name(session: Session, scope: Scope, names) -> dict[str, Department]:
    names = {name for name in names if name}
    if not names:
        return {}
    return {d.name: d for d in session.scalars(select(Department).where(Department.name.in_(names),
                                                                        visible(scope, Department)))}


def _person_key(row: Row) -> tuple:
    id_number = normalise_resident_id(row.values.get("id_number"))
    return ("id", id_number) if id_number else ("phone", normalise_mobile(row.values.get("phone")))


def _match_person(row: Row, by_id: dict, by_phone: dict, noun):
    """The one record the row names: by ID number, else (when none has it) by a phone whose record
    has no ID number. None for a new record; False when several match (the row is refused)."""
    id_number = normalise_resident_id(row.values.get("id_number"))
    phone = normalise_mobile(row.values.get("phone"))
    found = by_id.get(id_number, []) if id_number else []
    if not found:
        found = [p for p in by_phone.get(phone, []) if not id_number or p.id_number is None]
    if len(found) > 1:
        row.refuse(_l("Several %(records)s in your area have this ID number or phone: correct them on their pages "
                      "first.", records=noun))
        return False
    return found[0] if found else None


def _people_in_scope(session: Session, scope: Scope, model, rows: list[Row]):
    ids = {normalise_resident_id(r.values.get("id_number")) for r in rows} - {None}
    phones = {normalise_mobile(r.values.get("phone")) for r in rows} - {None}
    people = session.scalars(select(model).where(visible(scope, model),
                                                 or_(model.id_number.in_(ids), model.phone.in_(phones)))).all()
    by_id, by_phone = {}, {}
    for person in people:
        if person.id_number:
            by_id.setdefault(person.id_number, []).append(person)
        by_phone.setdefault(person.phone, []).append(person)
    return by_id, by_phone


def _set(record, existing, values: dict, attrs: dict, defaults: dict) -> None:
    """Fill ``record`` from the row's values; a value not given keeps the existing record's, or
    takes the default for a new one."""
    for attr, name in attrs.items():
        if name in values:
            setattr(record, attr, values[name])
        elif existing is not None:
            setattr(record, attr, getattr(existing, attr))
        else:
            setattr(record, attr, defaults.get(attr))


def _unknown_grid(row: Row, code) -> None:
    row.refuse(_l("No grid in your area has the code %(code)s.", code=code))


def _unknown_department(row: Row, name) -> None:
    row.refuse(_l("No department or unit in your area is named %(name)s.", name=name))


# --- workers --------------------------------------------------------------------------------------
WORKER_ATTRS = {"name": "name", "phone": "phone", "id_number": "id_number", "role": "role",
                "employment": "employment", "party_member": "party_member", "start_date": "start_date"}
WORKER_DEFAULTS = {"role": "grid_worker", "employment": "full_time", "party_member": False}


def _plan_workers(session: Session, scope: Scope, rows: list[Row]) -> None:
    rows = _once(rows, _person_key)
    grids = _grids_by_code(session, [r.values.get("grid_code") for r in rows], scope)
    departments = _departments_by_name(session, scope, [r.values.get("department") for r in rows])
    by_id, by_phone = _people_in_scope(session, scope, Worker, rows)
    columns = {c.name: c for c in WORKER_COLUMNS}
    matched = {}
    for row in rows:
        existing = _match_person(row, by_id, by_phone, _l("workers"))
        if existing is False or not _not_matched_twice(row, existing, matched):
            continue
        worker = Worker(id=existing.id if existing else None)
        _set(worker, existing, row.values, WORKER_ATTRS, WORKER_DEFAULTS)
        grid = grids.get(row.values["grid_code"].lower())
        if grid is None:
            _unknown_grid(row, row.values["grid_code"])
            continue
        worker.grid, worker.grid_id = grid, grid.id
        department = existing.department if existing is not None else None
        if "department" in row.values:
            department = departments.get(row.values["department"])
            if department is None:
                _unknown_department(row, row.values["department"])
                continue
        worker.department, worker.department_id = department, department.id if department else None
        if not _check(row, people_service.check_worker, session, scope, worker):
            continue
        _finish(row, existing, worker, [(attr, columns[name]) for attr, name in WORKER_ATTRS.items()]
                + [("grid_id", columns["grid_code"]), ("department_id", columns["department"])], title=worker.name)
        _show_refs(row, {"grid_id": lambda _: (existing.grid.code if existing else ""), "department_id":
                         lambda _: (existing.department.name if existing and existing.department else "")},
                   {"grid_id": grid.code, "department_id": department.name if department else ""})


def _not_matched_twice(row: Row, existing, matched: dict) -> bool:
    if existing is None:
        return True
    if existing.id in matched:
        row.refuse(_l("The same record as on line %(line)s.", line=matched[existing.id]))
        return False
    matched[existing.id] = row.line
    return True


def _show_refs(row: Row, before: dict, after: dict) -> None:
    """Show a changed reference by the code or name the file uses, not its id."""
    row.changes = [(attr, b, a, label, before[attr](b) if attr in before else shown_b,
                    after[attr] if attr in after else shown_a)
                   for attr, b, a, label, shown_b, shown_a in row.changes]


# --- volunteers -----------------------------------------------------------------------------------
VOLUNTEER_ATTRS = {"name": "name", "phone": "phone", "id_number": "id_number", "kind": "kind",
                   "address": "address", "skills": "skills", "party_member": "party_member"}
VOLUNTEER_DEFAULTS = {"kind": "resident", "party_member": False}


def _plan_volunteers(session: Session, scope: Scope, rows: list[Row]) -> None:
    rows = _once(rows, _person_key)
    grids = _grids_by_code(session, [r.values.get("community_code") for r in rows], scope)
    units = _departments_by_name(session, scope, [r.values.get("unit") for r in rows])
    by_id, by_phone = _people_in_scope(session, scope, Volunteer, rows)
    columns = {c.name: c for c in VOLUNTEER_COLUMNS}
    matched = {}
    for row in rows:
        existing = _match_person(row, by_id, by_phone, _l("volunteers"))
        if existing is False or not _not_matched_twice(row, existing, matched):
            continue
        volunteer = Volunteer(id=existing.id if existing else None)
        _set(volunteer, existing, row.values, VOLUNTEER_ATTRS, VOLUNTEER_DEFAULTS)
        community = grids.get(row.values["community_code"].lower())
        if community is None:
            _unknown_grid(row, row.values["community_code"])
            continue
        volunteer.community, volunteer.community_id = community, community.id
        unit = existing.unit if existing is not None else None
        if "unit" in row.values:
            unit = units.get(row.values["unit"])
            if unit is None:
                _unknown_department(row, row.values["unit"])
                continue
        volunteer.unit, volunteer.unit_id = unit, unit.id if unit else None
        if not _check(row, people_service.check_volunteer, session, scope, volunteer):
            continue
        _finish(row, existing, volunteer, [(attr, columns[name]) for attr, name in VOLUNTEER_ATTRS.items()]
                + [("community_id", columns["community_code"]), ("unit_id", columns["unit"])], title=volunteer.name)
        _show_refs(row, {"community_id": lambda _: existing.community.code if existing else "",
                         "unit_id": lambda _: existing.unit.name if existing and existing.unit else ""},
                   {"community_id": community.code, "unit_id": unit.name if unit else ""})


# --- departments ----------------------------------------------------------------------------------
DEPARTMENT_ATTRS = {"name": "name", "kind": "kind", "contact_name": "contact_name",
                    "contact_phone": "contact_phone", "description": "description"}


def _plan_departments(session: Session, scope: Scope, rows: list[Row]) -> None:
    rows = _once(rows, lambda row: row.values["name"])
    names = [row.values["name"] for row in rows]
    existing_all = {d.name: d for d in session.scalars(select(Department).where(Department.name.in_(names)))}
    seen = _departments_by_name(session, scope, names)
    grids = _grids_by_code(session, [code for row in rows for code in row.values.get("communities", [])], scope)
    columns = {c.name: c for c in DEPARTMENT_COLUMNS}
    for row in rows:
        name = row.values["name"]
        if name in existing_all and name not in seen:
            row.refuse(REFUSALS["departments_name_key"])
            continue
        existing = seen.get(name)
        department = Department(id=existing.id if existing else None)
        _set(department, existing, row.values, DEPARTMENT_ATTRS, {"kind": "functional"})
        if "communities" in row.values:
            communities = []
            for code in row.values["communities"]:
                grid = grids.get(code.lower())
                if grid is None:
                    _unknown_grid(row, code)
                    break
                communities.append(grid)
            if row.messages:
                continue
        else:
            communities = list(existing.communities) if existing is not None else []
        department.communities = communities
        if not _check(row, people_service.check_department, session, scope, department):
            continue
        _finish(row, existing, department, [(attr, columns[name]) for attr, name in DEPARTMENT_ATTRS.items()],
                title=department.name)
        if existing is not None and {g.id for g in existing.communities} != {g.id for g in communities}:
            before = sorted(g.code for g in existing.communities)
            after = sorted(g.code for g in communities)
            row.changes.append(("communities", tuple(before), tuple(after), columns["communities"].label,
                                "、".join(before), "、".join(after)))
            row.action = CHANGED


def _write_departments(session: Session, result: Preview) -> None:
    for row in result.rows:
        if row.action == NEW:
            session.add(row.record)
        elif row.action == CHANGED:
            for attr, *_ in row.changes:
                setattr(row.existing, attr, list(row.record.communities) if attr == "communities"
                        else getattr(row.record, attr))


# --- grids ----------------------------------------------------------------------------------------
GRID_ATTRS = {"code": "code", "name": "name", "level": "level", "kind": "kind", "households": "households",
              "population": "population", "area_km2": "area_km2", "party_branch": "party_branch"}
GRID_DEFAULTS = {"kind": "comprehensive", "households": 0, "population": 0}


def _plan_grids(session: Session, scope: Scope, rows: list[Row]) -> None:
    rows = _once(rows, lambda row: row.values["code"].lower())
    stored = _grids_by_code(session, [r.values["code"] for r in rows] + [r.values.get("parent_code") for r in rows])
    in_file = {row.values["code"].lower(): row for row in rows}
    columns = {c.name: c for c in GRID_COLUMNS}
    # parents before children: a grid's level is strictly below its parent's
    for row in sorted(rows, key=lambda r: (GRID_LEVEL_RANK[r.values["level"]], r.line)):
        code = row.values["code"].lower()
        existing = stored.get(code)
        if existing is not None and not can_write_under(scope, existing):
            row.refuse(_l("The grid %(code)s is outside your area.", code=existing.code))
            continue
        grid = Grid(id=existing.id if existing else None)
        _set(grid, existing, row.values, GRID_ATTRS, GRID_DEFAULTS)
        grid.code = grid.code.strip()
        parent_code = row.values.get("parent_code")
        if parent_code is None and existing is not None:
            grid.parent_id = existing.parent_id
        elif parent_code is not None:
            parent_row = in_file.get(parent_code.lower())
            if parent_row is not None and parent_row is not row:
                if GRID_LEVEL_RANK[parent_row.values["level"]] >= GRID_LEVEL_RANK[row.values["level"]]:
                    row.refuse(REFUSALS["grids_level_below_parent"])
                    continue
                if parent_row.action == BAD or parent_row.record is None:
                    row.refuse(_l("The parent grid on line %(line)s has errors: fix it first.",
                                  line=parent_row.line))
                    continue
                parent = parent_row.record
                if parent.id is not None:
                    grid.parent_id = parent.id
                else:
                    grid.parent = parent
            elif parent_code.lower() in stored and can_write_under(scope, stored[parent_code.lower()]):
                grid.parent_id = stored[parent_code.lower()].id
            else:
                _unknown_grid(row, parent_code)
                continue
        if existing is not None:
            set_committed_value(grid, "path", existing.path)
        if not _check(row, grid_service.check_grid, session, scope, grid,
                      original_parent_id=existing.parent_id if existing else None, is_new=existing is None):
            continue
        if existing is None:  # where the new grid will hang, so that its own children are checked against it
            parent = grid.parent or session.get(Grid, grid.parent_id)
            set_committed_value(grid, "path", Ltree(f"{parent.path}.0") if parent is not None else Ltree("0"))
        _finish(row, existing, grid, [(attr, columns[name]) for attr, name in GRID_ATTRS.items()]
                + [("parent_id", columns["parent_code"])], title=f"{grid.name}（{grid.code}）")
        if row.action == UNCHANGED or existing is None:
            continue
        _show_refs(row, {"parent_id": lambda _: existing.parent.code if existing.parent else ""},
                   {"parent_id": parent_code or ""})
        if grid.parent is not None and grid.parent.id is None:  # moved under a grid new in this file
            row.changes = [change for change in row.changes if change[0] != "parent_id"] + [
                ("parent", existing.parent_id, grid.parent.code, columns["parent_code"].label,
                 existing.parent.code if existing.parent else "", grid.parent.code)]


def _write_grids(session: Session, result: Preview) -> None:
    for row in sorted(result.rows, key=lambda r: GRID_LEVEL_RANK[r.record.level] if r.record is not None else 0):
        if row.action == NEW:
            set_committed_value(row.record, "path", None)  # the database's trigger derives it
            session.add(row.record)
        elif row.action == CHANGED:
            for attr, *_ in row.changes:
                setattr(row.existing, attr, getattr(row.record, attr))
        session.flush()


# --- service records ------------------------------------------------------------------------------
def _volunteer_key(row: Row):
    id_number = normalise_resident_id(row.values.get("volunteer_id_number"))
    if id_number:
        return ("id", id_number)
    phone = normalise_mobile(row.values.get("volunteer_phone"))
    return ("phone", phone) if phone else None


def _plan_records(session: Session, scope: Scope, rows: list[Row]) -> None:
    from .points import awarded_record_ids  # noqa: PLC0415  (points imports people too)

    for row in rows:
        if _volunteer_key(row) is None:
            row.refuse(_l("Give the volunteer's ID number or mobile phone."))
    rows = [row for row in rows if not row.messages]
    rows = _once(rows, lambda row: (_volunteer_key(row), row.values["date"], row.values["activity"]))
    person_rows = [Row(line=r.line, values={"id_number": r.values.get("volunteer_id_number"),
                                            "phone": r.values.get("volunteer_phone")}) for r in rows]
    by_id, by_phone = _people_in_scope(session, scope, Volunteer, person_rows)
    volunteer_ids = {p.id for people in (*by_id.values(), *by_phone.values()) for p in people}
    stored = {}
    for record in session.scalars(select(ServiceRecord).where(
            ServiceRecord.volunteer_id.in_(volunteer_ids),
            ServiceRecord.date.in_({r.values["date"] for r in rows}))):
        stored.setdefault((record.volunteer_id, record.date, record.activity.strip()), []).append(record)
    awarded = awarded_record_ids(session, [r.id for found in stored.values() for r in found])
    names = {r.values.get("rule") for r in rows} - {None}
    rules = {rule.name: rule for rule in session.scalars(select(PointsRule).where(
        PointsRule.name.in_(names), visible(scope, PointsRule)))} if names else {}
    columns = {c.name: c for c in RECORD_COLUMNS}
    for row, person_row in zip(rows, person_rows):
        volunteer = _match_person(person_row, by_id, by_phone, _l("volunteers"))
        if volunteer is False:
            row.refuse(person_row.messages[0])
            continue
        if volunteer is None:
            row.refuse(_l("No volunteer in your area has this ID number or phone."))
            continue
        if row.values.get("volunteer_name") and row.values["volunteer_name"] != volunteer.name:
            row.refuse(_l("The volunteer with this ID number or phone is named %(name)s.", name=volunteer.name))
            continue
        matches = stored.get((volunteer.id, row.values["date"], row.values["activity"]), [])
        if len(matches) > 1:
            row.refuse(_l("%(volunteer)s has several records of this activity on this day: correct them on the list "
                          "first.", volunteer=volunteer.name))
            continue
        existing = matches[0] if matches else None
        record = ServiceRecord(id=existing.id if existing else None, volunteer_id=volunteer.id,
                               date=row.values["date"], activity=row.values["activity"], hours=row.values["hours"])
        rule = existing.rule if existing is not None else None
        if "rule" in row.values:
            rule = rules.get(row.values["rule"])
            if rule is None:
                row.refuse(_l("No activity type in your area is named %(name)s.", name=row.values["rule"]))
                continue
        record.rule, record.rule_id = rule, rule.id if rule else None
        if not _check(row, people_service.check_service_record, session, scope, record):
            continue
        _finish(row, existing, record, [("hours", columns["hours"]), ("rule_id", columns["rule"])],
                title=f"{volunteer.name} {record.date.isoformat()} {record.activity}")
        _show_refs(row, {"rule_id": lambda _: existing.rule.name if existing and existing.rule else ""},
                   {"rule_id": rule.name if rule else ""})
        if row.action == CHANGED and existing.id in awarded:
            row.refuse(REFUSALS["service_records_awarded_frozen"])


# --- houses ---------------------------------------------------------------------------------------
HOUSE_ATTRS = {"use": "use", "area_m2": "area_m2", "ownership": "ownership"}
HOUSE_DEFAULTS = {"use": "residential", "ownership": "owned"}


def _room_key(values: dict) -> tuple:
    """A house as a row names it: its grid code, unit (None: none) and room."""
    return (values["grid_code"].lower(), (values.get("unit") or "").strip() or None, values["room"].strip())


def _houses_of(session: Session, grids: dict, rows: list[Row]) -> dict:
    """(grid id, unit, room) → the house, for the houses the rows name in their grids."""
    grid_ids = {grid.id for grid in grids.values()}
    rooms = {row.values["room"].strip() for row in rows if "room" in row.values}
    if not grid_ids or not rooms:
        return {}
    return {(h.grid_id, h.unit, h.room): h for h in session.scalars(
        select(House).where(House.grid_id.in_(grid_ids), House.room.in_(rooms)))}


def _houses_by_address(session: Session, grids: dict, rows: list[Row]) -> dict:
    """(grid id, unit and room as one text) → the houses, for the rows that name a house so."""
    grid_ids = {grids[r.values["grid_code"].lower()].id for r in rows
                if "house" in r.values and "room" not in r.values and r.values["grid_code"].lower() in grids}
    found = {}
    if grid_ids:
        for house in session.scalars(select(House).where(House.grid_id.in_(grid_ids))):
            found.setdefault((house.grid_id, house.address), []).append(house)
    return found


def _house_title(grid: Grid, house: House) -> str:
    return f"{grid.code} {house.address}"


def _plan_houses(session: Session, scope: Scope, rows: list[Row]) -> None:
    rows = _once(rows, lambda row: _room_key(row.values))
    grids = _grids_by_code(session, [r.values["grid_code"] for r in rows], scope)
    stored = _houses_of(session, grids, rows)
    columns = {c.name: c for c in HOUSE_COLUMNS}
    for row in rows:
        code, unit, room = _room_key(row.values)
        grid = grids.get(code)
        if grid is None:
            _unknown_grid(row, row.values["grid_code"])
            continue
        existing = stored.get((grid.id, unit, room))
        house = House(id=existing.id if existing else None, grid_id=grid.id, unit=unit, room=room,
                      owner_id=existing.owner_id if existing else None)
        _set(house, existing, row.values, HOUSE_ATTRS, HOUSE_DEFAULTS)
        if not _check(row, resident_service.check_house, session, scope, house):
            continue
        _finish(row, existing, house, [(attr, columns[name]) for attr, name in HOUSE_ATTRS.items()],
                title=_house_title(grid, house))


# --- households -----------------------------------------------------------------------------------
def _residents_by_id_number(session: Session, scope: Scope, numbers) -> dict[str, Resident]:
    numbers = {normalise_resident_id(number) for number in numbers} - {None}
    if not numbers:
        return {}
    return {r.id_number: r for r in session.scalars(select(Resident).where(Resident.id_number.in_(numbers),
                                                                           visible(scope, Resident)))}


def _households_by_number(session: Session, scope: Scope, numbers) -> dict[str, Household]:
    numbers = {number for number in numbers if number}
    if not numbers:
        return {}
    return {h.number: h for h in session.scalars(select(Household).where(Household.number.in_(numbers),
                                                                         visible(scope, Household)))}


def _plan_households(session: Session, scope: Scope, rows: list[Row]) -> None:
    rows = _once(rows, lambda row: row.values["number"])
    grids = _grids_by_code(session, [r.values["grid_code"] for r in rows], scope)
    houses = _houses_of(session, grids, rows)
    by_address = _houses_by_address(session, grids, rows)
    stored = _households_by_number(session, scope, [r.values["number"] for r in rows])
    heads = _residents_by_id_number(session, scope, [r.values.get("head_id_number") for r in rows])
    columns = {c.name: c for c in HOUSEHOLD_COLUMNS}
    for row in rows:
        grid = grids.get(row.values["grid_code"].lower())
        if grid is None:
            _unknown_grid(row, row.values["grid_code"])
            continue
        if "room" in row.values:
            _, unit, room = _room_key(row.values)
            address, found = f"{unit or ''}{room}", [houses.get((grid.id, unit, room))]
        elif "house" in row.values:
            address = row.values["house"].replace(" ", "")
            found = by_address.get((grid.id, address), [None])
        else:
            row.refuse(_l("Give the house's room (and its unit), or the house as the lists print it."))
            continue
        if len(found) > 1:
            row.refuse(_l("The grid %(code)s has several houses %(room)s: give the unit and the room apart.",
                          code=grid.code, room=address))
            continue
        house = found[0]
        if house is None:
            row.refuse(_l("The grid %(code)s has no house %(room)s: add or import the house first.", code=grid.code,
                          room=address))
            continue
        existing = stored.get(row.values["number"])
        household = Household(id=existing.id if existing else None, number=row.values["number"], house_id=house.id)
        _set(household, existing, row.values, {"kind": "kind"}, {"kind": "registered"})
        head = existing.head if existing is not None else None
        if "head_id_number" in row.values:
            head = heads.get(normalise_resident_id(row.values["head_id_number"]))
            if head is None:
                row.refuse(_l("No resident of your area has the head's ID number."))
                continue
        household.head_id = head.id if head is not None else None
        if not _check(row, resident_service.check_household, session, scope, household):
            continue
        # a household follows its house into the house's grid (and its residents follow it)
        _finish(row, existing, household, [("house_id", columns["house"]), ("grid_id", columns["grid_code"]),
                                           ("kind", columns["kind"]), ("head_id", columns["head_id_number"])],
                title=household.number)
        if existing is not None:
            _show_refs(row, {"house_id": lambda _: _house_title(existing.house.grid, existing.house),
                             "grid_id": lambda _: existing.grid.code,
                             "head_id": lambda _: existing.head.name if existing.head else ""},
                       {"house_id": _house_title(grid, house), "grid_id": grid.code,
                        "head_id": head.name if head else ""})


# --- residents ------------------------------------------------------------------------------------
RESIDENT_ATTRS = {"name": "name", "id_number": "id_number", "phone": "phone", "ethnicity": "ethnicity",
                  "residence_status": "residence_status", "moved_in": "moved_in", "workplace": "workplace",
                  "party_member": "party_member"}
RESIDENT_DEFAULTS = {"residence_status": "registered", "party_member": False}


def _resident_key(row: Row):
    """A resident's ID number; for a person from abroad without one, their mobile phone."""
    id_number = normalise_resident_id(row.values.get("id_number"))
    if id_number:
        return ("id", id_number)
    phone = normalise_mobile(row.values.get("phone"))
    return ("phone", phone) if phone else None


def _residents_matched(session: Session, scope: Scope, rows: list[Row]):
    """(ID number → resident, phone → residents without an ID number) of the scope the rows name."""
    keys = [_resident_key(row) for row in rows]
    ids = {value for kind, value in keys if kind == "id"}
    phones = {value for kind, value in keys if kind == "phone"}
    by_id = _residents_by_id_number(session, scope, ids)
    by_phone = {}
    if phones:
        for person in session.scalars(select(Resident).where(Resident.phone.in_(phones), Resident.id_number.is_(None),
                                                             visible(scope, Resident))):
            by_phone.setdefault(person.phone, []).append(person)
    return by_id, by_phone


def _tags_of(row: Row, column: Column, names: dict, may_see_sensitive: bool) -> list[str] | None:
    """The tag codes a row's labels name; None when a label is unknown or not the uploader's to set
    (the row is refused)."""
    codes = []
    for label in row.values["tags"]:
        code = names.get(_normal(label))
        # a sensitive tag the uploader may not set is refused as an unknown one: the message names
        # no tag they are not shown
        if code is None or (code in SENSITIVE_TAGS and not may_see_sensitive):
            row.refuse(_l("%(column)s: choose among %(values)s.", column=column.label, values="、".join(
                str(label) for label in column.shown_choices(may_see_sensitive).values())))
            return None
        codes.append(code)
    return codes


def _plan_residents(session: Session, scope: Scope, rows: list[Row], *, may_see_sensitive: bool = False) -> None:
    for row in rows:
        if _resident_key(row) is None:
            row.refuse(_l("Give the resident ID number, or the mobile phone of a person from abroad who has none."))
    rows = _once([row for row in rows if not row.messages], _resident_key)
    grids = _grids_by_code(session, [r.values.get("grid_code") for r in rows], scope)
    households = _households_by_number(session, scope, [r.values.get("household_number") for r in rows])
    by_id, by_phone = _residents_matched(session, scope, rows)
    columns = {c.name: c for c in RESIDENT_COLUMNS}
    tag_names = choice_names(columns["tags"])
    heads = {}  # household id → the line naming its head
    for row in rows:
        kind, key = _resident_key(row)
        found = [by_id[key]] if kind == "id" and key in by_id else by_phone.get(key, []) if kind == "phone" else []
        if len(found) > 1:
            row.refuse(_l("Several residents of your area without an ID number have this phone: correct them on "
                          "their pages first."))
            continue
        existing = found[0] if found else None
        resident = Resident(id=existing.id if existing else None)
        _set(resident, existing, row.values, RESIDENT_ATTRS, RESIDENT_DEFAULTS)
        if existing is not None:
            resident.moved_out = existing.moved_out

        # where they live: the household given, else the one they are in; its grid is theirs
        code, number = row.values.get("grid_code"), row.values.get("household_number")
        household = existing.household if existing is not None and number is None else None
        if number is not None:
            household = households.get(number)
            if household is None:
                row.refuse(_l("No household of your area has the number %(number)s.", number=number))
                continue
            if existing is not None and existing.moved_out is not None:
                row.refuse(_l("This resident has moved out."))
                continue
        if household is not None:
            if code is not None and code.lower() != household.grid.code.lower():
                row.refuse(_l("The household %(number)s lies in the grid %(code)s.", number=household.number,
                              code=household.grid.code))
                continue
            grid = household.grid
            same_household = existing is not None and existing.household_id == household.id
            resident.relation = row.values.get("relation", existing.relation if same_household else None)
        elif code is not None:
            grid = grids.get(code.lower())
            if grid is None:
                _unknown_grid(row, code)
                continue
        elif existing is not None:
            grid = existing.grid
        else:
            row.refuse(_l("Give the grid code or the household number."))
            continue
        resident.household_id = household.id if household is not None else None
        resident.grid_id = grid.id

        previous = list(existing.tags or ()) if existing is not None else []
        resident.tags = previous
        if "tags" in row.values:
            chosen = _tags_of(row, columns["tags"], tag_names, may_see_sensitive)
            if chosen is None:
                continue
            resident.tags = resident_service.merged_tags(chosen, previous, may_see_sensitive)
        if not _check(row, resident_service.check_resident, session, scope, resident):
            continue
        if household is not None and resident.relation == "head" and not _may_head(row, existing, household, heads):
            continue
        _finish(row, existing, resident, [(attr, columns[name]) for attr, name in RESIDENT_ATTRS.items()]
                + [("grid_id", columns["grid_code"]), ("household_id", columns["household_number"]),
                   ("relation", columns["relation"]), ("tags", columns["tags"])], title=resident.name)
        if existing is not None:
            shown = columns["tags"].shown_choices(may_see_sensitive)

            def labels(tags):
                return "、".join(str(shown[tag]) for tag in resident_service.shown_tags(tags, may_see_sensitive))

            _show_refs(row, {"grid_id": lambda _: existing.grid.code,
                             "household_id": lambda _: existing.household.number if existing.household else "",
                             "tags": lambda _: labels(existing.tags)},
                       {"grid_id": grid.code, "household_id": household.number if household else "",
                        "tags": labels(resident.tags)})


def _may_head(row: Row, existing, household: Household, heads: dict) -> bool:
    """A row that makes a resident the head (户主) of a household: none of its other rows does, and
    the household has no other head (the household's page changes a head)."""
    if household.id in heads:
        row.refuse(_l("Line %(line)s already names the head of the household %(number)s.", line=heads[household.id],
                      number=household.number))
        return False
    heads[household.id] = row.line
    already = existing is not None and existing.household_id == household.id and existing.relation == "head"
    if not already and household.head_id is not None and household.head_id != getattr(existing, "id", None):
        row.refuse(_l("The household %(number)s already has a head, %(name)s: change its head on the household's "
                      "page first.", number=household.number, name=household.head.name))
        return False
    return True


def _write_residents(session: Session, result: Preview) -> None:
    """Write the rows; a resident who says they head a household without a head becomes its head,
    and one who left a household no longer heads it (``settle_household``)."""
    settle = []
    for row in result.rows:
        if row.action == NEW:
            resident, previous = row.record, None
            session.add(resident)
        elif row.action == CHANGED:
            resident, previous = row.existing, row.existing.household_id
            for attr, *_ in row.changes:
                setattr(resident, attr, getattr(row.record, attr))
            resident.name_initials = row.record.name_initials
        else:
            continue
        if resident.relation == "head" or (previous is not None and previous != resident.household_id):
            settle.append((resident, previous))
    session.flush()  # the rows in one go; then the heads, which need the residents' ids
    for resident, previous in settle:
        resident_service.settle_household(session, resident, previous)


KINDS = {
    "grids": Kind("grids", _l("Grids"), Grid, GRID_COLUMNS, _l("A grid is matched by its grid code."),
                  {"code": "410611001001-09", "name": "滨河花园", "level": "block", "kind": "comprehensive",
                   "parent_code": "410611001001", "households": 320, "population": 960, "area_km2": Decimal("0.12"),
                   "party_branch": "滨河花园党支部"},
                  _plan_grids, _write_grids),
    "workers": Kind("workers", _l("Workers"), Worker, WORKER_COLUMNS,
                    _l("A worker is matched by ID number, or by mobile phone when the row has no ID number, among "
                       "the workers of your area."),
                    {"name": "张丽", "phone": "13939201234", "id_number": "410611199003152341", "role": "grid_worker",
                     "grid_code": "410611001001-01", "employment": "full_time", "party_member": True,
                     "start_date": datetime.date(2024, 3, 1)},
                    _plan_workers, _write_rows),
    "departments": Kind("departments", _l("Departments and paired units"), Department, DEPARTMENT_COLUMNS,
                        _l("A department is matched by its name."),
                        {"name": "淇滨区住房和城乡建设局", "kind": "functional", "contact_name": "王建国",
                         "contact_phone": "0392-3312345", "description": "老旧小区改造、房屋安全",
                         "communities": ["410611001001"]},
                        _plan_departments, _write_departments),
    "volunteers": Kind("volunteers", _l("Volunteers"), Volunteer, VOLUNTEER_COLUMNS,
                       _l("A volunteer is matched by ID number, or by mobile phone when the row has no ID number, "
                          "among the volunteers of your area."),
                       {"name": "李文华", "phone": "13803921234", "id_number": "410611198507211021",
                        "kind": "resident", "community_code": "410611001001", "address": "湘江路18号院3号楼",
                        "skills": "理发、心理疏导", "party_member": False},
                       _plan_volunteers, _write_rows),
    "service_records": Kind("service_records", _l("Service records"), ServiceRecord, RECORD_COLUMNS,
                            _l("A service record is matched by its volunteer, date and activity. Imported records "
                               "earn points only when they are awarded, like records typed in a form."),
                            {"volunteer_id_number": "410611198507211021", "volunteer_phone": "13803921234",
                             "volunteer_name": "李文华", "date": datetime.date(2025, 5, 10), "hours": Decimal(2),
                             "activity": "清洁家园：湘江路沿街垃圾清理", "rule": "清洁家园"},
                            _plan_records, _write_rows),
    "houses": Kind("houses", _l("Houses"), House, HOUSE_COLUMNS,
                   _l("A house is matched by its grid code, unit and room."),
                   {"grid_code": "410611001001-01-01", "unit": "3单元", "room": "1502", "use": "residential",
                    "area_m2": Decimal("89.5"), "ownership": "owned"},
                   _plan_houses, _write_rows),
    "households": Kind("households", _l("Households"), Household, HOUSEHOLD_COLUMNS,
                       _l("A household is matched by its household number."),
                       {"number": "HX-0103-1502", "grid_code": "410611001001-01-01", "unit": "3单元", "room": "1502",
                        "kind": "registered"},
                       _plan_households, _write_rows),
    "residents": Kind("residents", _l("Residents"), Resident, RESIDENT_COLUMNS,
                      _l("A resident is matched by ID number among the residents of your area; a person from abroad "
                         "without one, by mobile phone among those who have no ID number."),
                      {"name": "王秀兰", "id_number": "410611194808150041", "phone": "13903928888", "ethnicity": "01",
                       "residence_status": "registered", "household_number": "HX-0103-1502", "relation": "head",
                       "moved_in": datetime.date(2008, 6, 1), "workplace": "退休", "party_member": True,
                       "tags": ["elderly_alone"]},
                      _plan_residents, _write_residents, sensitive=True),
}


# --- templates ------------------------------------------------------------------------------------
TEMPLATE_ROWS = 500  # rows under the header given drop-downs and text cells


def _shown(column: Column, value):
    if value is None:
        return None
    if column.kind == "labels":
        return "、".join(str(column.choices[key]) for key in value)
    if column.choices:
        return str(column.choices[value])
    if isinstance(value, bool):
        return str(_l("Yes")) if value else str(_l("No"))
    if isinstance(value, list):
        return "、".join(value)
    if isinstance(value, Decimal):
        return float(value)
    return value


def _allowed(column: Column, may_see_sensitive: bool) -> str:
    if column.choices:
        return "、".join(str(label) for label in column.shown_choices(may_see_sensitive).values())
    return str({"bool": _l("是 or 否"), "date": _l("A date"), "int": _l("A whole number"), "decimal": _l("A number"),
                "refs": _l("Codes")}.get(column.kind, _l("Text")))


def template(kind_name: str, *, may_see_sensitive: bool = False) -> bytes:
    """The kind's .xlsx template in the user's language: the header row, one example row, drop-downs
    of the closed lists, and a Help sheet on every column, the match key and the limits. The
    sensitive tags are listed only to who may see them."""
    import io

    import openpyxl  # noqa: PLC0415  (only a template download needs it)
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    kind = KINDS[kind_name]
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    long_lists = []  # (column letter, labels) of the drop-downs read from a hidden sheet
    sheet.title = str(kind.title)[:31]
    sheet.append([f"{column.label}*" if column.required else str(column.label) for column in kind.columns])
    sheet.append([_shown(column, kind.example.get(column.name)) for column in kind.columns])
    for index, column in enumerate(kind.columns, start=1):
        letter = get_column_letter(index)
        sheet.cell(row=1, column=index).font = Font(bold=True)
        sheet.column_dimensions[letter].width = max(12, min(40, 2 * len(str(column.label)) + 4))
        if column.kind == "date":
            sheet.cell(row=2, column=index).number_format = "yyyy-mm-dd"
        if column.kind == "id_number" or column.name.endswith("phone"):
            for row in range(2, TEMPLATE_ROWS + 2):  # as text: Excel would round an 18-digit number
                sheet.cell(row=row, column=index).number_format = "@"
        if column.kind in ("choice", "bool"):
            labels = [str(label) for label in column.choices.values()] if column.choices else [
                str(_l("Yes")), str(_l("No"))]
            formula = '"' + ",".join(labels) + '"'
            if len(formula) > 255 or any("," in label for label in labels):  # Excel's limit of a written list
                long_lists.append((letter, labels))
                continue
            validation = DataValidation(type="list", formula1=formula, allow_blank=True)
            validation.add(f"{letter}2:{letter}{TEMPLATE_ROWS + 1}")
            sheet.add_data_validation(validation)
    sheet.freeze_panes = "A2"

    help_sheet = workbook.create_sheet(str(_l("Help"))[:31])
    help_sheet.append([str(_l("Column")), str(_l("Required")), str(_l("Allowed values")), str(_l("Notes"))])
    for column in kind.columns:
        help_sheet.append([str(column.label), str(_l("Yes")) if column.required else str(_l("No")),
                           _allowed(column, may_see_sensitive), str(column.note or "")])
    help_sheet.append([])
    for text in (
        kind.key_note,
        _l("Replace the example on row 2 with your own records; the columns marked * are required."),
        _l("An empty optional cell keeps what an existing record has; a new record takes the default. An import "
           "never erases a value: clear it on the record's page."),
        _l("The first sheet is read: its first row is the header, the rows under it are the records. No formulas, "
           "no merged cells."),
        _l("At most %(rows)s rows and %(size)s MB per file, .xlsx or .csv (UTF-8 or GBK).",
           rows=f"{MAX_ROWS:,}", size=MAX_BYTES // (1024 * 1024)),
        _l("The import writes every row or none: a file with a bad row writes nothing. Importing the same file "
           "again changes nothing."),
    ):
        help_sheet.append([str(text)])
    for letter, width in zip("ABCD", (24, 10, 48, 60)):
        help_sheet.column_dimensions[letter].width = width
    for row in help_sheet.iter_rows():
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    for cell in help_sheet[1]:
        cell.font = Font(bold=True)
    if long_lists:  # a list too long for a drop-down's formula (民族) is read from its own hidden sheet
        lists = workbook.create_sheet("lists")
        lists.sheet_state = "hidden"
        for index, (letter, labels) in enumerate(long_lists, start=1):
            list_letter = get_column_letter(index)
            for row, label in enumerate(labels, start=1):
                lists.cell(row=row, column=index, value=label)
            validation = DataValidation(type="list", formula1=f"lists!${list_letter}$1:${list_letter}${len(labels)}",
                                        allow_blank=True)
            validation.add(f"{letter}2:{letter}{TEMPLATE_ROWS + 1}")
            sheet.add_data_validation(validation)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
