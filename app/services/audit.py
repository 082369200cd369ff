"""The audit trail and the personal-data access log (migration 0024).

The database writes the audit trail itself, by trigger, in the transaction of every change; this
module holds what the app adds: the log of who was shown whose personal data in clear
(``log_looks``), the bulk loader's summary in place of one row per loaded row
(``bulk_load`` / ``record_bulk_load``), and the names the log's pages print for its subjects
(``subject_labels``, masked)."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session

from ..models import (AuditEntry, Department, Grid, GridgovUser, Household, Incident, IncidentCategory,
                      PersonalDataAccess, PointsRule, Resident, Volunteer, Worker)
from .personal_data import mask_mobile
from .typed import as_keys
from .unit_of_work import unit_of_work

# The tables whose changes the trigger records (migration 0024), and whose history a record page links to.
AUDITED_TABLES = ("grids", "workers", "volunteers", "service_records", "departments", "department_communities",
                  "ab_user", "ab_user_role", "ab_role", "ab_permission_view_role", "points_rules", "reward_items",
                  "incident_categories", "incident_deadlines", "attention_tags", "houses", "households", "residents",
                  "visits", "micro_wishes", "training_records", "patrols", "clock_ins", "patrol_rules",
                  "assessment_weights", "assessment_scores", "assessment_adjustments")
# The records a history is kept of (a pairing's history is its department's, a role grant its user's).
RECORD_TABLES = tuple(t for t in AUDITED_TABLES if t not in ("department_communities", "ab_user_role",
                                                            "ab_permission_view_role"))
# The people whose personal data the log records a look at: how their page names them, masked.
SUBJECTS = {
    "workers": (Worker, Worker.phone),
    "volunteers": (Volunteer, Volunteer.phone),
    "incidents": (Incident, Incident.reporter_phone),
    "residents": (Resident, Resident.phone),
}
PLACE_LENGTH = 200


@dataclass(frozen=True)
class Look:
    """``viewer_id`` was shown ``fields`` of the rows ``ids`` of ``table`` in clear, at ``place``
    (an endpoint or a path, no query values)."""

    viewer_id: int | None
    table: str
    ids: Iterable
    fields: Iterable[str]
    place: str


# One row per person of a look, in one statement. The first look of a transaction also turns off
# waiting for the disk at its commit (a page is not held up by a flush of the WAL; a crash may
# lose the last fraction of a second of this log, never a change or its audit row), and writes
# only when the transaction has written nothing before it (it has no transaction id yet): the
# log is not committed together with a change left pending. A plain text statement: the log is
# written on every page that shows people, and SQLAlchemy's insert-from-select costs more to make.
_LOOK = text("""
    INSERT INTO personal_data_access (viewer_id, subject_table, subject_id, fields, place)
    SELECT :viewer, :table, subject, CAST(:fields AS varchar(64)[]), :place
    FROM unnest(CAST(:ids AS bigint[])) AS subject""")
_FIRST_LOOK = text("""
    INSERT INTO personal_data_access (viewer_id, subject_table, subject_id, fields, place)
    SELECT :viewer, :table, subject, CAST(:fields AS varchar(64)[]), :place
    FROM (SELECT pg_current_xact_id_if_assigned() IS NULL AS only_read,
                 set_config('synchronous_commit', 'off', true)) AS state
    CROSS JOIN unnest(CAST(:ids AS bigint[])) AS subject
    WHERE state.only_read""")


def _look_values(look: Look) -> dict | None:
    keys = as_keys(look.ids)
    fields = sorted(set(look.fields))
    if look.viewer_id is None or not keys or not fields:
        return None
    return {"viewer": look.viewer_id, "table": look.table, "ids": list(dict.fromkeys(keys)), "fields": fields,
            "place": look.place[:PLACE_LENGTH]}


def log_looks(session: Session, looks: Iterable[Look]) -> int:
    """Record ``looks`` in ``session``'s transaction and commit it, without waiting for the disk:
    a page's looks after the page is made, in the request's transaction, or a chunk of an export
    in a session of its own. The transaction is expected to have only read; had it written
    anything (left uncommitted, which the end of the request would roll back), that is rolled
    back first and the looks written alone. Returns how many rows were written."""
    values = [v for v in map(_look_values, looks) if v is not None]
    if not values:
        return 0
    with unit_of_work(session):
        if session.execute(_FIRST_LOOK, values[0]).rowcount == 0:  # a change was pending
            session.rollback()
            session.execute(_FIRST_LOOK, values[0])
        for more in values[1:]:
            session.execute(_LOOK, more)
    return sum(len(v["ids"]) for v in values)


def bulk_load(session: Session) -> None:
    """Mark the session's transaction as a bulk load: the audit trigger writes nothing for its rows,
    and the loader calls ``record_bulk_load`` before committing. Only the data generators use it."""
    session.execute(text("SELECT set_config('gridgov.audit', 'summary', true)"))


def record_bulk_load(session: Session, counts: dict[str, int]) -> None:
    """One audit row per audited table a bulk load filled: how many rows it loaded."""
    session.execute(text("SELECT set_config('gridgov.audit', '', true)"))
    rows = [{"table_name": table, "record_table": table, "action": "load", "changes": {"rows": count}}
            for table, count in counts.items() if table in AUDITED_TABLES and count]
    if rows:
        session.execute(insert(AuditEntry), rows)


def subject_labels(session: Session, subjects: Iterable[tuple[str, int]]) -> dict[tuple[str, int], str]:
    """What the log's pages print for each (table, id): the person's name and masked phone, one
    query per table. A subject gone since is left out."""
    wanted: dict[str, set[int]] = {}
    for table, key in subjects:
        if table in SUBJECTS and key is not None:
            wanted.setdefault(table, set()).add(key)
    labels = {}
    for table, keys in wanted.items():
        model, phone = SUBJECTS[table]
        name = Incident.reporter_name if model is Incident else model.name
        for key, person, number in session.execute(select(model.id, name, phone).where(model.id.in_(keys))):
            labels[(table, key)] = " ".join(filter(None, [person or "", mask_mobile(number)])) or str(key)
    return labels


# How an audited change names a record it points at (a worker's grid, a rule's community…).
NAMES = {
    "grids": lambda: (Grid, Grid.name + "（" + Grid.code + "）"),
    "departments": lambda: (Department, Department.name),
    "workers": lambda: (Worker, Worker.name),
    "volunteers": lambda: (Volunteer, Volunteer.name),
    "points_rules": lambda: (PointsRule, PointsRule.name),
    "incident_categories": lambda: (IncidentCategory, IncidentCategory.name),
    "residents": lambda: (Resident, Resident.name),
    "households": lambda: (Household, Household.number),
    "ab_user": lambda: (GridgovUser, GridgovUser.username),
    "ab_role": lambda: _role_names(),
}


def _role_names():
    """FAB's roles, read as the table it keeps in the same metadata (services know nothing of FAB)."""
    roles = AuditEntry.metadata.tables["ab_role"]
    return roles, roles.c.name


def names_of(session: Session, records: Iterable[tuple[str, int]]) -> dict[tuple[str, int], str]:
    """The names of these (table, id) records, one query per table; a record gone since is left
    out (its page prints its number)."""
    wanted: dict[str, set[int]] = {}
    for table, key in records:
        if table in NAMES:
            wanted.setdefault(table, set()).add(key)
    names = {}
    for table, keys in wanted.items():
        model, name = NAMES[table]()
        key_column = model.c.id if hasattr(model, "c") else model.id
        for key, label in session.execute(select(key_column, name).where(key_column.in_(keys))):
            names[(table, key)] = label
    return names
