"""The audit trail and the personal-data access log (migration 0024).

The database writes the audit trail itself, by trigger, in the transaction of every change; this
module holds what the app adds: the log of who was shown whose personal data in clear
(``log_access``), the bulk loader's summary in place of one row per loaded row
(``bulk_load`` / ``record_bulk_load``), and the names the log's pages print for its subjects
(``subject_labels``, masked)."""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import String, func, insert, literal, select, text
from sqlalchemy.dialects.postgresql import ARRAY
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


def log_access(session: Session, viewer_id: int | None, table: str, ids: Iterable, fields: Iterable[str],
               place: str) -> int:
    """Record that ``viewer_id`` was shown ``fields`` of the rows ``ids`` of ``table`` in clear, at
    ``place`` (an endpoint or a path, no query values): one row per person, in one statement,
    committed at once (the page showing them is a read; give it a session of its own). Returns
    how many rows it wrote."""
    keys = as_keys(ids)
    fields = sorted(set(fields))
    if viewer_id is None or not keys or not fields:
        return 0
    subject = func.unnest(literal(keys, ARRAY(AuditEntry.record_id.type))).column_valued("subject_id")
    statement = insert(PersonalDataAccess).from_select(
        ["viewer_id", "subject_table", "subject_id", "fields", "place"],
        select(literal(viewer_id), literal(table), subject, literal(fields, ARRAY(String(64))),
               literal(place[:PLACE_LENGTH])))
    own_transaction = not session.in_transaction()
    with unit_of_work(session):
        if own_transaction:
            # Not waiting for the disk: a page is not held up by a flush of the WAL (a crash may
            # lose the last fraction of a second of this log, never a change or its audit row).
            session.execute(text("SET LOCAL synchronous_commit = off"))
        session.execute(statement)
    return len(keys)


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
