"""审计日志 and 个人信息查看记录: read-only lists, newest first.

Administrators read the whole audit trail; secretaries, street and district staff the changes of
rows in their grid scope (``services/scope.py``). Only administrators read the access log, which
names each person by name and masked phone: reading it shows no personal data in clear."""
from __future__ import annotations

import json

from flask import current_app
from flask_appbuilder.models.filters import BaseFilter
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy import cast
from sqlalchemy.dialects.postgresql import JSONB

from ..extensions import cache, db
from ..models import AuditEntry, PersonalDataAccess
from ..services import audit as audit_service
from ..fab.fields import choice_field
from ..fab.filters import SCOPED
from ..fab.interface import EagerInterface
from ..fab.model_view import ScopedModelView
from ..fab.rendering import label_of
from ..models.choices import (ATTENTION_TAG_LABELS, DEPARTMENT_KIND_LABELS, EMPLOYMENT_TYPE_LABELS, ETHNICITY_LABELS,
                              GRID_KIND_LABELS, GRID_LEVEL_LABELS, HOUSE_OWNERSHIP_LABELS, HOUSE_USE_LABELS,
                              HOUSEHOLD_KIND_LABELS, RELATION_LABELS, RESIDENCE_STATUS_LABELS, RULE_UNIT_LABELS,
                              URGENCY_LABELS, VISIT_METHOD_LABELS, VOLUNTEER_KIND_LABELS, WORKER_ROLE_LABELS)
from ..security import sees_sensitive_tags
from .formats import local_time

TABLE_LABELS = {
    "grids": _l("Grids"),
    "workers": _l("Workers"),
    "volunteers": _l("Volunteers"),
    "service_records": _l("Service records"),
    "departments": _l("Departments"),
    "department_communities": _l("Communities served"),
    "ab_user": _l("Users"),
    "ab_user_role": _l("Roles of a user"),
    "ab_role": _l("Roles"),
    "ab_permission_view_role": _l("Permissions of a role"),
    "points_rules": _l("Points rules"),
    "reward_items": _l("Reward catalog"),
    "incident_categories": _l("Incident categories"),
    "incident_deadlines": _l("Deadlines"),
    "incidents": _l("Incidents"),
    "attention_tags": _l("Care and attention tags"),
    "houses": _l("Houses"),
    "households": _l("Households"),
    "residents": _l("Residents"),
    "visits": _l("Visits"),
    "micro_wishes": _l("Micro-wishes"),
    "training_records": _l("Training records"),
    "patrols": _l("Patrol log"),
    "clock_ins": _l("Clock-ins"),
    "patrol_rules": _l("Patrol rules"),
    "assessment_weights": _l("Assessment weights"),
    "assessment_scores": _l("Assessment scores"),
    "assessment_adjustments": _l("Assessment adjustments"),
}
RECORD_LABELS = {table: TABLE_LABELS[table] for table in audit_service.RECORD_TABLES}
SUBJECT_LABELS = {table: TABLE_LABELS[table] for table in audit_service.SUBJECTS}
ACTION_LABELS = {"insert": _l("Created"), "update": _l("Changed"), "delete": _l("Deleted"),
                 "load": _l("Bulk load")}
# Fields no screen labels (foreign keys of the pairing tables, a bulk load's count).
FIELD_LABELS = {
    "id": _l("No."),
    "department_id": _l("Department"),
    "grid_id": _l("Grid"),
    "user_id": _l("User"),
    "role_id": _l("Role"),
    "permission_view_id": _l("Permission"),
    "rows": _l("Rows loaded"),
    "password": _l("Password"),
    "path": _l("Grid path"),
    "boundary": _l("Boundary"),
    "track": _l("The patrol's track"),  # a worker's track shown to who leads the area (views/patrols.py)
    # a resident's sensitive tags, written apart from the others (migration 0032)
    "sensitive_tags": _l("Sensitive tags"),
}
# What only a role shown the sensitive tags reads of a change (``can_sensitive``)
SENSITIVE_FIELDS = frozenset({"sensitive_tags"})
# An entry that holds nothing else: not listed to the other roles at all
ONLY_SENSITIVE = {"sensitive_tags": "changed"}


def _shown(field: str) -> bool:
    return field != "id" and (field not in SENSITIVE_FIELDS or sees_sensitive_tags())


# A coded field's values, by table: shown by their labels, as the table's own screens show them.
CHOICES = {
    ("workers", "role"): WORKER_ROLE_LABELS, ("workers", "employment"): EMPLOYMENT_TYPE_LABELS,
    ("volunteers", "kind"): VOLUNTEER_KIND_LABELS, ("grids", "level"): GRID_LEVEL_LABELS,
    ("grids", "kind"): GRID_KIND_LABELS, ("departments", "kind"): DEPARTMENT_KIND_LABELS,
    ("points_rules", "unit"): RULE_UNIT_LABELS, ("incident_deadlines", "urgency"): URGENCY_LABELS,
    ("houses", "use"): HOUSE_USE_LABELS, ("houses", "ownership"): HOUSE_OWNERSHIP_LABELS,
    ("households", "kind"): HOUSEHOLD_KIND_LABELS, ("residents", "relation"): RELATION_LABELS,
    ("residents", "residence_status"): RESIDENCE_STATUS_LABELS, ("residents", "ethnicity"): ETHNICITY_LABELS,
    ("visits", "method"): VISIT_METHOD_LABELS, ("attention_tags", "code"): ATTENTION_TAG_LABELS,
}
# A key of another record: shown by that record's name (``audit.names_of``), by the table it names.
REFERENCES = {
    "grid_id": "grids", "parent_id": "grids", "community_id": "grids", "department_id": "departments",
    "unit_id": "departments", "leader_id": "workers", "volunteer_id": "volunteers", "rule_id": "points_rules",
    "points_rule_id": "points_rules", "category_id": "incident_categories", "user_id": "ab_user",
    "role_id": "ab_role", "household_id": "households", "owner_id": "residents", "head_id": "residents",
    "resident_id": "residents", "visitor_id": "ab_user", "worker_id": "workers", "district_id": "grids",
}


def _screen_labels() -> dict:
    """Each field's label as the audited tables' screens name it (``grid_id`` as their ``grid``),
    by table: a volunteer's ``kind`` is its volunteer type, a grid's its grid kind. Gathered once
    a request: an export of the trail labels every field of every entry."""
    return cache.per_request("audit field labels", _gather_screen_labels)


def _gather_screen_labels() -> dict:
    labels = {}
    for view in current_app.appbuilder.baseviews:
        datamodel = getattr(view, "datamodel", None)
        if datamodel is None or datamodel.obj.__tablename__ not in audit_service.AUDITED_TABLES:
            continue
        table = datamodel.obj.__tablename__
        for column, label in (type(view).label_columns or {}).items():
            labels.setdefault((table, column), label)
            labels.setdefault((table, f"{column}_id"), label)
    return labels


def field_label(field: str, table: str | None = None) -> str:
    labels = _screen_labels()
    found = FIELD_LABELS.get(field) or labels.get((table, field)) or next(
        (label for (_table, name), label in labels.items() if name == field), None)
    return str(found or field)


def _value(value, table: str | None = None, field: str | None = None, names: dict | None = None) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    choices = CHOICES.get((table, field))
    if choices is not None and value in choices:
        return str(choices[value])
    if names is not None and field in REFERENCES and isinstance(value, int):
        return names.get((REFERENCES[field], value), f"#{value}")
    return str(value)


def changed_fields(fields) -> str:
    return "、".join(field_label(field) for field in fields or () if _shown(field))


def _names(table: str, changes: dict) -> dict:
    """The names of the records the changes' keys point at, in one query per table."""
    wanted = [(REFERENCES[field], value) for field, change in changes.items() if field in REFERENCES
              and isinstance(change, list) for value in change if isinstance(value, int)]
    return audit_service.names_of(db.session, wanted) if wanted else {}


def _changes(change_set):
    """(label, before, after) of each change, the entry's own number left out."""
    table, changes = change_set
    names = _names(table, changes)
    for field, change in changes.items():
        if not _shown(field):
            continue
        if isinstance(change, list) and len(change) == 2:
            before, after = (_value(value, table, field, names) for value in change)
        else:
            before, after = "", _("changed (not recorded)") if change == "changed" else _value(change)
        yield field_label(field, table), before, after


def changes_text(change_set) -> str:
    """The changes as one line of a file: 角色：楼栋长 → 网格员；手机号：… (before → after)."""
    return _("; ").join(f"{label}{_(': ')}{before} → {after}" for label, before, after in _changes(change_set))


def before_after(change_set) -> Markup:
    """Each changed field, its value before → after (a secret only "changed")."""
    rows = []
    for label, before, after in _changes(change_set):
        rows.append(Markup("<tr><th>{}</th><td>{}</td><td>→</td><td>{}</td></tr>").format(label, before, after))
    head = Markup("<tr><th>{}</th><th>{}</th><th></th><th>{}</th></tr>").format(_("Field"), _("Before"), _("After"))
    return Markup('<table class="table table-condensed gridgov-changes">') + head + Markup("").join(rows) \
        + Markup("</table>")


def actor_name(user) -> str:
    return str(user) if user is not None else _("System")


class WithoutSensitiveOnly(BaseFilter):
    """Leaves out, for a user not shown the sensitive tags, the entries that hold only their change."""

    name = "without sensitive only"
    arg_name = None

    def apply(self, query, value):
        if sees_sensitive_tags():
            return query
        return query.filter(AuditEntry.changes != cast(ONLY_SENSITIVE, JSONB))


class AuditEntryModelView(ScopedModelView):
    """审计日志 — every change to the base records, newest first."""

    datamodel = EagerInterface(AuditEntry)
    base_filters = [*SCOPED, ["id", WithoutSensitiveOnly, None]]
    # read and taken out as a file (the lists' export), never changed: the database refuses it anyway
    base_permissions = ["can_list", "can_show", "can_export"]
    include_route_methods = {"list", "show"}
    bulk_actions = False
    muldelete = None  # not even the bulk delete's permission (FAB adds an action's own)
    list_title = _l("Audit trail")
    show_title = _l("Audit entry")
    label_columns = {
        "at": _l("Time"), "actor": _l("By"), "action": _l("Action"), "table_name": _l("Table"),
        "record_table": _l("Record type"), "record_id": _l("Record No."), "changed_fields": _l("Changed fields"),
        "changes": _l("Before → after"), "change_set": _l("Before → after"),
    }
    list_columns = ["at", "actor", "action", "table_name", "record_id", "changed_fields"]
    show_columns = ["at", "actor", "action", "table_name", "record_table", "record_id", "change_set"]
    # a file answers "who changed what from what to what": the changes in words, not their names
    export_columns = ["at", "actor", "action", "table_name", "record_id", "change_set"]
    export_formatters_columns = {"change_set": changes_text}
    add_columns = edit_columns = ["action"]  # no add or edit routes, but FAB still builds the forms
    search_columns = ["actor", "table_name", "record_table", "record_id", "at"]
    order_columns = ["at"]
    base_order = ("id", "desc")
    formatters_columns = {
        "at": local_time, "actor": actor_name, "action": label_of(ACTION_LABELS),
        "table_name": label_of(TABLE_LABELS), "record_table": label_of(TABLE_LABELS),
        "changed_fields": changed_fields, "change_set": before_after,
    }
    search_form_extra_fields = {
        "table_name": choice_field(_l("Table"), TABLE_LABELS, required=False),
        "record_table": choice_field(_l("Record type"), RECORD_LABELS, required=False),
    }


class SubjectInterface(EagerInterface):
    """The log's rows with each person named as their page names them, masked (one query per table)."""

    def get_values(self, lst, list_columns):
        rows = list(lst)
        values = list(super().get_values(rows, list_columns))
        if "subject" in list_columns:
            labels = audit_service.subject_labels(db.session, [(r.subject_table, r.subject_id) for r in rows])
            for row, value in zip(rows, values):
                value["subject"] = labels.get((row.subject_table, row.subject_id), f"#{row.subject_id}")
        return values

    def get_values_item(self, item, show_columns):
        values = super().get_values_item(item, show_columns)
        if item is not None and "subject" in show_columns:
            label = audit_service.subject_labels(db.session, [(item.subject_table, item.subject_id)]).get(
                (item.subject_table, item.subject_id), f"#{item.subject_id}")
            values = [label if column == "subject" else value for column, value in zip(show_columns, values)]
        return values


def field_names(fields) -> str:
    return "、".join(field_label(field) for field in fields or ())


# Where a person's data was shown, by the kind of page (the rest of the path names the record).
PLACES = (("/export/", _l("Export")), ("/edit/", _l("Edit form")), ("/show/", _l("Record page")),
          ("/list/", _l("List")))


def place_label(place: str | None) -> str:
    """``/workermodelview/edit/108`` as 编辑表单 · 工作人员 No. 108: what a page it was, in words."""
    place = place or ""
    kind = next((label for marker, label in PLACES if marker in place), None)
    if kind is None:
        return place
    parts = [part for part in place.split("/") if part]
    view = next((v for v in current_app.appbuilder.baseviews if v.__class__.__name__.lower() == (parts[0] if parts else "")),
                None)
    where = str(getattr(view, "list_title", "") or "") if view is not None else ""
    tail = parts[-1] if parts and parts[-1].isdigit() else (parts[-1].upper() if "/export/" in place else "")
    return " · ".join(filter(None, [str(kind), where, tail]))


class PersonalDataAccessModelView(ScopedModelView):
    """个人信息查看记录 — who was shown whose phone, ID number or address in clear (administrators)."""

    datamodel = SubjectInterface(PersonalDataAccess)
    base_permissions = ["can_list", "can_show", "can_export"]
    include_route_methods = {"list", "show"}
    bulk_actions = False
    muldelete = None
    list_title = _l("Personal data access log")
    show_title = _l("Personal data access")
    label_columns = {
        "at": _l("Time"), "viewer": _l("Seen by"), "subject_table": _l("Record type"), "subject_id": _l("Record No."),
        "subject": _l("Person"), "fields": _l("Data shown"), "place": _l("Where"),
    }
    list_columns = ["at", "viewer", "subject_table", "subject", "fields", "place"]
    show_columns = ["at", "viewer", "subject_table", "subject_id", "subject", "fields", "place"]
    add_columns = edit_columns = ["place"]
    search_columns = ["viewer", "subject_table", "subject_id", "at"]
    order_columns = ["at"]
    base_order = ("id", "desc")
    formatters_columns = {
        "at": local_time, "viewer": actor_name, "subject_table": label_of(TABLE_LABELS), "fields": field_names,
        "place": place_label,
    }
    search_form_extra_fields = {"subject_table": choice_field(_l("Record type"), SUBJECT_LABELS, required=False)}
