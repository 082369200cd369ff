"""Incident screens: the scoped list with overdue flags, the incident page with its timeline
and the actions the user may take, the phone-sized report form, and the configuration lists."""
from __future__ import annotations

import dataclasses

import os

from flask import abort, current_app, flash, g, redirect, request, send_from_directory, url_for
from flask_appbuilder import expose
from flask_appbuilder.models.filters import BaseFilter
from flask_appbuilder.models.sqla.filters import FilterEqual, FilterRelationOneToManyEqual
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext, pgettext
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from markupsafe import Markup, escape
from wtforms.validators import Length, NumberRange

from .. import downloads
from ..extensions import db
from ..models import DeadlineRule, Grid, Incident, IncidentCategory, IncidentEvent
from ..models.choices import (
    OPEN_STATUSES,
    HANDLING_LEVEL_LABELS,
    INCIDENT_SOURCE_LABELS,
    INCIDENT_STATUS_LABELS,
    URGENCY_LABELS,
)
from ..services import departments as department_service
from ..services import figures as figure_service
from ..services import incidents
from ..services import paging
from ..services import search as search_service
from ..services.errors import DomainError
from ..services.personal_data import mask_mobile
from ..fab.fields import choice_field, flag_field
from ..fab.filters import current_scope, row_key, ScopeFilter
from ..fab.interface import EagerInterface
from ..fab.model_view import ScopedModelView
from ..fab.rendering import label_of, translated, yes_no
from ..uploads import keep_uploads, save_picture
from .formats import local_time
from .service_calls import call_service

ACTION_LABELS = {
    "report": _l("Reported"),
    "accept": _l("Accept"),
    "reject": _l("Reject"),
    "handle": _l("Handle here"),
    "assign": _l("Assign to a grid worker"),
    "dispatch": _l("Dispatch to a department"),
    "start": _l("Start work"),
    "escalate": _l("Escalate one level up"),
    "return": _l("Return to the level below"),
    "resolve": _l("Resolve"),
    "rate": _l("Rate"),
    "overdue": _l("Overdue: escalated"),
    "whistle": _l("Whistle blown"),
    "urge": _l("Urge (催办)"),
    "supervise": _l("Supervise (督办)"),
}


def current_actor() -> incidents.Actor:
    from ..security import sees_sensitive_tags

    return dataclasses.replace(incidents.actor_from_user(db.session, g.user, current_scope()),
                               sees_sensitive=sees_sensitive_tags())


def photos_dir() -> str:
    return os.path.join(current_app.config["INSTANCE_DIR"], "uploads", "incidents")


def timeline_html(events) -> Markup:
    """An incident's timeline, an item per event, made in Python: quicker than Jinja's loop over
    each event's nine lookups, translations and escapes."""
    actions, statuses, levels = translated(ACTION_LABELS), translated(INCIDENT_STATUS_LABELS), translated(HANDLING_LEVEL_LABELS)
    system = escape(gettext("System"))
    out = []
    for e in events:
        role = system if e.actor_role == "system" else escape(e.actor_role)
        # an urging or a supervision changes no status: no "A → A"
        moved = f"{escape(statuses[e.from_status])} → " if e.from_status and e.from_status != e.to_status else ""
        handler = f" · {escape(e.handler)}" if e.handler else ""
        note = f'<div class="gridgov-note">{escape(e.note)}</div>' if e.note else ""
        out.append(
            f'<li class="panel panel-default"><div class="panel-body">'
            f'<strong>{escape(actions.get(e.action, e.action))}</strong> · {escape(local_time(e.created_at))}'
            f' · {escape(e.actor_name)} <small class="text-muted">{role}</small><br>'
            f'{moved}{escape(statuses[e.to_status])} · {escape(levels[e.to_level])}{handler}{note}</div></li>')
    return Markup("".join(out))


def overdue_flag(value) -> Markup:
    return Markup('<span class="label label-danger">%s</span>') % _l("Overdue") if value else Markup("")


class IncidentCategoryModelView(ScopedModelView):
    datamodel = EagerInterface(IncidentCategory)
    list_title = _l("Incident categories")
    show_title = add_title = edit_title = _l("Incident category")
    label_columns = {"name": _l("Category"), "active": _l("Active"), "points_rule": _l("Points for volunteer reporters")}
    list_columns = ["name", "active", "points_rule"]
    show_columns = add_columns = edit_columns = list_columns
    search_columns = ["name", "active"]
    base_order = ("name", "asc")
    formatters_columns = {"active": yes_no}
    validators_columns = {"name": [Length(max=50)]}
    add_form_extra_fields = {"active": flag_field(_l("Active"))}
    edit_form_extra_fields = add_form_extra_fields


class DeadlineRuleModelView(ScopedModelView):
    datamodel = EagerInterface(DeadlineRule)
    list_title = _l("Deadlines")
    show_title = add_title = edit_title = _l("Deadline")
    label_columns = {"category": _l("Category"), "urgency": _l("Urgency"), "hours": _l("Hours per level")}
    list_columns = ["category", "urgency", "hours"]
    show_columns = add_columns = edit_columns = list_columns
    search_columns = ["category", "urgency"]
    formatters_columns = {"urgency": label_of(URGENCY_LABELS)}
    validators_columns = {"hours": [NumberRange(min=1, max=8760)]}
    add_form_extra_fields = {"urgency": choice_field(_l("Urgency"), URGENCY_LABELS)}
    edit_form_extra_fields = add_form_extra_fields


class IncidentEventModelView(ScopedModelView):
    datamodel = EagerInterface(IncidentEvent)
    include_route_methods = {"list", "show"}
    list_title = _l("Timeline")
    label_columns = {"created_at": _l("Time"), "actor_name": _l("By"), "actor_role": _l("Role"), "action": _l("Action"),
                     "from_status": _l("From"), "to_status": _l("To"), "to_level": _l("Level"), "handler": _l("Handler"),
                     "note": _l("Note"), "incident": _l("Incident")}
    list_columns = ["created_at", "actor_name", "action", "to_status", "to_level", "handler", "note"]
    show_columns = ["incident", "created_at", "actor_name", "actor_role", "action", "from_status", "to_status",
                    "to_level", "handler", "note"]
    base_order = ("id", "asc")
    # Not FAB's default (every column): its incident field is a drop-down of every incident in
    # scope.
    search_columns = ["action", "actor_name", "note", "created_at"]
    search_form_extra_fields = {"action": choice_field(_l("Action"), ACTION_LABELS, required=False)}
    formatters_columns = {"created_at": local_time, "action": label_of(ACTION_LABELS),
                          "from_status": label_of(INCIDENT_STATUS_LABELS), "to_status": label_of(INCIDENT_STATUS_LABELS),
                          "to_level": label_of(HANDLING_LEVEL_LABELS)}


class FilterKeywords(BaseFilter):
    """Title or description contains every word typed (served by the incidents' GIN index)."""

    name = _l("Title or description contains")
    arg_name = "kw"

    def apply(self, query, value):
        return query.filter(incidents.keyword_condition(value))


class IncidentInterface(EagerInterface):
    """The list in its default order (newest first), unfiltered or filtered by status and
    category, is read from ``incident_scopes``: its count and page ids come from that index; a
    keyword search (with status or category or not) counts and pages its matches in one pass."""

    def index_page(self, filters, order_column, order_direction, offset, limit, cap):
        if (order_column or "id") != "id" or (order_direction or "desc") != "desc":
            return None
        wanted = {}
        for flt, values in filters.get_filters_values() if filters is not None else ():
            if isinstance(flt, ScopeFilter):
                continue
            values = values if isinstance(values, list) else [values]
            if len(values) != 1:  # FAB applies each value: let it
                return None
            (value,) = values
            if isinstance(flt, FilterEqual) and flt.column_name == "status" and "status" not in wanted:
                wanted["status"] = value
            elif isinstance(flt, FilterRelationOneToManyEqual) and flt.column_name == "category" \
                    and "category_id" not in wanted and row_key(value) is not None:
                wanted["category_id"] = row_key(value)
            elif isinstance(flt, FilterKeywords) and "keywords" not in wanted:
                wanted["keywords"] = value
            else:
                return None
        return paging.newest_incidents(db.session, current_scope(), offset, limit, cap, **wanted)


# The report form lists the grids of a scope up to this many; past it the grid is typed.
REPORT_LIST_MOST = 200


class IncidentModelView(ScopedModelView):
    """诉求 / 事件 — changed only through the loop's actions, never edited in place."""

    datamodel = IncidentInterface(Incident)
    bulk_actions = False
    include_route_methods = {"list", "show", "act", "oversee", "report", "photo", "figures", "figures_export", "pick"}
    # the figures' file: who may export this view's lists and read the figures
    method_permission_name = {"muldelete": "delete", "figures_export": "export"}
    list_title = _l("Incidents")
    show_title = _l("Incident")
    label_columns = {
        "id": _l("No."), "title": _l("Title"), "category": _l("Category"), "urgency": _l("Urgency"),
        "status": _l("Status"), "level": _l("Level"), "grid": _l("Grid"), "holder_grid": _l("Held by"),
        "department": _l("Department"), "handler_worker": _l("Handler"), "deadline": _l("Deadline"),
        "overdue": _l("Overdue"), "created_at": _l("Reported at"), "source": _l("Source"),
        "description": _l("Description"), "address": lazy_pgettext("where an incident happened", "Address"), "reporter_name": _l("Reporter"),
        "reporter_phone": _l("Reporter's phone"), "rating": _l("Satisfaction"), "rating_note": _l("Rating note"),
        "resolved_at": _l("Resolved at"), "closed_at": _l("Closed at"),
        "rated_on_behalf": _l("Rated by staff for the resident"), "supervised_at": _l("Supervised since"),
        "urged_at": _l("Urged at"),
    }
    list_columns = ["id", "title", "category", "urgency", "status", "level", "grid", "deadline", "overdue"]
    show_columns = ["id", "title", "category", "urgency", "source", "status", "level", "holder_grid", "handler_worker",
                    "department", "grid", "address", "description", "reporter_name", "reporter_phone", "deadline",
                    "overdue", "supervised_at", "urged_at", "created_at", "resolved_at", "rating", "rated_on_behalf",
                    "rating_note"]
    search_columns = ["title", "status", "category", "urgency", "level", "grid", "source"]
    # No add or edit routes (incidents change through the loop), but FAB still builds the forms.
    add_columns = edit_columns = ["title"]
    order_columns = ["id", "deadline", "created_at", "urgency"]
    base_order = ("id", "desc")
    masked_columns = {"reporter_phone": mask_mobile}
    formatters_columns = {
        "urgency": label_of(URGENCY_LABELS), "status": label_of(INCIDENT_STATUS_LABELS),
        "level": label_of(HANDLING_LEVEL_LABELS), "source": label_of(INCIDENT_SOURCE_LABELS),
        "deadline": local_time, "created_at": local_time, "resolved_at": local_time, "overdue": overdue_flag,
        "supervised_at": local_time, "urged_at": local_time, "rated_on_behalf": yes_no,
    }
    search_form_extra_fields = {
        "status": choice_field(_l("Status"), INCIDENT_STATUS_LABELS, required=False),
        "urgency": choice_field(_l("Urgency"), URGENCY_LABELS, required=False),
        "level": choice_field(_l("Level"), HANDLING_LEVEL_LABELS, required=False),
        "source": choice_field(_l("Source"), INCIDENT_SOURCE_LABELS, required=False),
    }
    show_template = "gridgov/incident_show.html"
    list_template = "gridgov/incident_list.html"
    pick_extra = {"grid": (Grid, ("can_report",))}  # the report form's grid, past REPORT_LIST_MOST

    def _init_properties(self):
        super()._init_properties()
        # Searching titles is by words in title and description, not FAB's unindexed ILIKE.
        self.replace_search_filters("title", FilterKeywords)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.datamodel.also_load(incidents.with_timeline())  # the page prints it

    def list_extra(self) -> dict:
        return {"totals": figure_service.totals(db.session, current_scope())}

    def _figures(self):
        """(grouping, since, until, rows) of the figures the request asks for."""
        by = request.args.get("by")
        if by not in figure_service.GROUPINGS:
            by = figure_service.default_grouping(db.session, current_scope())
        since, until = _date(request.args.get("since")), _date(request.args.get("until"))
        return by, since, until, figure_service.figures(db.session, current_scope(), by, since=since, until=until)

    @expose("/figures/")
    @has_access
    def figures(self):
        """办结率 and the rest, per community, street, district, department or month, over the user's
        scope (by district by default over several districts)."""
        by, since, until, rows = self._figures()
        may_export = self.appbuilder.sm.has_access("can_export", self.class_permission_name)
        return self.render_template("gridgov/incident_figures.html", rows=rows, by=by, since=since, until=until,
                                    totals=figure_service.totals(db.session, current_scope()),
                                    grouping_labels=translated(GROUPING_LABELS), may_export=may_export)

    @expose("/figures/export/<string:fmt>")
    @has_access
    def figures_export(self, fmt):
        """The figures page's table as a file (its grouping and period)."""
        if fmt not in downloads.FORMATS:
            abort(404)
        if not self.appbuilder.sm.has_access("can_figures", self.class_permission_name):
            flash(str(_l("Access is Denied")), "danger")
            return redirect(url_for("IncidentModelView.list"))
        by, since, until, rows = self._figures()
        title = f"{gettext('Incident figures')}_{translated(GROUPING_LABELS)[by]}"
        return downloads.send(downloads.Table(title, f"incident_figures_{by}", figure_headers(by),
                                              figure_cells(rows)), fmt)

    def manages_rows(self) -> bool:
        """Grid staff who act on incidents call the reporter back; leaders and departments see
        the phone masked."""
        scope = current_scope()
        if scope.is_all:
            return True
        return scope.kind == "grid" and self.appbuilder.sm.has_access("can_act", self.class_permission_name)

    @expose("/show/<pk>", methods=["GET"])
    @has_access
    def show(self, pk):
        widgets = self._show(pk)
        incident = self.record_shown(pk)
        actor = current_actor()
        actions = incidents.allowed_actions(db.session, actor, incident) if self.appbuilder.sm.has_access(
            "can_act", self.class_permission_name) else []
        oversight = incidents.oversight_actions(db.session, actor, incident) if self.appbuilder.sm.has_access(
            "can_oversee", self.class_permission_name) else []
        workers = incidents.assignable_workers(db.session, incident) if "assign" in actions else []
        departments = department_service.functional_departments(db.session) if "dispatch" in actions else []
        return self.render_template(
            self.show_template, pk=pk, title=self.show_title, widgets=widgets, related_views=self._related_views,
            incident=incident, actions=actions, action_labels=translated(ACTION_LABELS), workers=workers,
            oversight=oversight,
            can_blow=self.appbuilder.sm.has_access("can_blow", "WhistleModelView") and incident.status in OPEN_STATUSES,
            departments=departments,
            timeline=timeline_html(incidents.timeline(db.session, incident)),
        )

    @expose("/act/<int:pk>", methods=["POST"])
    @has_access
    def act(self, pk):
        action = request.form.get("action", "")
        incident = call_service(lambda: incidents.act(
            db.session, current_actor(), pk, action, note=request.form.get("note"),
            worker_id=request.form.get("worker"), department_id=request.form.get("department"),
            rating=request.form.get("rating")))
        if incident:
            flash(str(_l("Done: %(action)s. The incident is now %(status)s.", action=ACTION_LABELS.get(action, action),
                         status=INCIDENT_STATUS_LABELS[incident.status])), "success")
        return redirect(url_for("IncidentModelView.show", pk=pk))

    @expose("/oversee/<int:pk>", methods=["POST"])
    @has_access
    def oversee(self, pk):
        """催办 / 督办 by a level above the holder."""
        action = request.form.get("action", "")
        if call_service(lambda: incidents.oversee(db.session, current_actor(), pk, action, request.form.get("note"))):
            flash(str(_l("Done: %(action)s.", action=ACTION_LABELS.get(action, action))), "success")
        return redirect(url_for("IncidentModelView.show", pk=pk))

    @expose("/report", methods=["GET", "POST"])
    @has_access
    def report(self):
        scope = current_scope()
        grids = incidents.report_grids(db.session, scope, REPORT_LIST_MOST)
        categories = incidents.report_categories(db.session)
        form = request.form
        if request.method == "POST":
            try:
                data = incidents.Report(
                    grid_id=_int(form.get("grid")), category_id=_int(form.get("category")),
                    title=form.get("title", ""), source=form.get("source") or ("photo" if scope.kind == "volunteer" else "patrol"),
                    urgency=form.get("urgency") or "normal", description=form.get("description"),
                    address=form.get("address"), latitude=_float(form.get("latitude")),
                    longitude=_float(form.get("longitude")), reporter_name=form.get("reporter_name"),
                    reporter_phone=form.get("reporter_phone"),
                    photo=save_picture(request.files.get("photo"), photos_dir(), "photo"),
                )
                incident = incidents.report(db.session, current_actor(), data)
            except DomainError as error:
                flash(str(error), "danger")
            else:
                keep_uploads()
                flash(str(_l("Reported as incident No. %(id)s.", id=incident.id)), "success")
                return redirect(url_for("IncidentModelView.show", pk=incident.id))
        default_grid = getattr(g.user, "grid_id", None)
        picked = None  # a large scope's grid is typed: (key, label) of the chosen one, or ()
        if len(grids) > REPORT_LIST_MOST:
            chosen = search_service.picked(db.session, scope, Grid, [row_key(form.get("grid") or default_grid or "")])
            picked = [(row.id, search_service.label(db.session, Grid, row)) for row in chosen]
        return self.render_template(
            "gridgov/incident_report.html", grids=grids, categories=categories, form=form, picked=picked,
            default_grid=default_grid, urgency_labels=URGENCY_LABELS, source_labels=INCIDENT_SOURCE_LABELS,
            volunteer=scope.kind == "volunteer",
        )

    @expose("/photo/<int:pk>")
    @has_access
    def photo(self, pk):
        incident = self.datamodel.get(pk, self._base_filters)
        if incident is None or not incident.photo:
            abort(404)
        return send_from_directory(photos_dir(), incident.photo, max_age=3600)


GROUPING_LABELS = {"community": _l("Community"), "street": _l("Street"),
                   "district": lazy_pgettext("figures grouped by", "District"), "department": _l("Department"),
                   "month": _l("Month")}


def figure_headers(by: str) -> list[str]:
    """The figures table's headers, the first naming the grouping."""
    return [str(translated(GROUPING_LABELS)[by]), gettext("Received"), pgettext("resolved or closed", "Resolved"),
            gettext("Completion rate"), gettext("On-time rate"), gettext("Average satisfaction"),
            gettext("Open whistles")]


def figure_cells(rows):
    """The figures as a file's rows: counts as numbers, rates as percentages, no rating blank."""
    for row in rows:
        yield [row.label, row.received, row.resolved, _percent(row.completion_rate), _percent(row.on_time_rate),
               None if row.average_rating is None else round(row.average_rating, 2), row.open_whistles]


def _percent(value):
    return None if value is None else downloads.Percent(value)


def _date(value):
    import datetime

    try:
        return datetime.date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _float(value):
    try:
        return float(value) if value not in (None, "") else None
    except ValueError:
        return None
