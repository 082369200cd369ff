"""吹哨报到 screens: the list of whistles with filters, the whistle page where departments report
in and submit results and the blower closes it, and the form that blows a whistle."""
from __future__ import annotations

import datetime

from flask import flash, redirect, request, url_for
from flask_appbuilder import expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from sqlalchemy.orm import selectinload

from ..extensions import cache, db
from ..fab.fields import choice_field
from ..fab.filters import current_scope
from ..fab.interface import EagerInterface
from ..fab.model_view import ScopedModelView
from ..fab.rendering import label_of
from ..models import Incident, Whistle, WhistleSummons
from ..services import departments as department_service
from ..services import whistles as whistle_service
from ..services.local_time import TIMEZONE
from .formats import local_time
from .service_calls import call_service
from .incidents import current_actor, overdue_flag

WHISTLE_STATUS_LABELS = {"open": _l("Open"), "closed": lazy_pgettext("whistle", "Closed")}
WHISTLE_LEVEL_LABELS = {"street": _l("Street"), "district": _l("District")}


class WhistleModelView(ScopedModelView):
    """吹哨报到 — open and closed whistles, overdue ones flagged; filter by department."""

    datamodel = EagerInterface(Whistle)
    bulk_actions = False
    include_route_methods = {"list", "show", "blow", "report_in", "result", "close", "board"}
    # Quick filters on the list page use FAB's URL filters: _flt_0_status (equal),
    # _flt_1_deadline (before a moment, typed in Beijing time), _flt_0_departments (relation).
    method_permission_name = {"report_in": "answer", "result": "answer", "blow": "blow", "close": "blow",
                              "board": "list"}
    list_title = _l("Whistles")
    show_title = _l("Whistle")
    label_columns = {
        "id": _l("No."), "blown_at": _l("Blown at"), "grid": _l("Blown by (area)"), "level": _l("Level"),
        "reason": _l("Reason"), "deadline": _l("Report-in deadline"), "status": _l("Status"),
        "overdue": _l("Overdue"), "departments": _l("Departments"), "blown_by_name": _l("Blown by"),
        "incidents": _l("Incidents"), "closed_at": _l("Closed at"),
    }
    list_columns = ["id", "blown_at", "grid", "reason", "deadline", "status", "overdue"]
    show_columns = ["id", "level", "grid", "blown_by_name", "blown_at", "reason", "deadline", "status", "overdue",
                    "closed_at"]
    add_columns = edit_columns = ["reason"]
    search_columns = ["status", "level", "departments", "grid", "deadline"]
    order_columns = ["id", "blown_at", "deadline"]
    base_order = ("id", "desc")
    formatters_columns = {"status": label_of(WHISTLE_STATUS_LABELS), "level": label_of(WHISTLE_LEVEL_LABELS),
                          "blown_at": local_time, "deadline": local_time, "closed_at": local_time,
                          "overdue": overdue_flag}
    search_form_extra_fields = {
        "status": choice_field(_l("Status"), WHISTLE_STATUS_LABELS, required=False),
        "level": choice_field(_l("Level"), WHISTLE_LEVEL_LABELS, required=False),
    }
    show_template = "gridgov/whistle_show.html"
    list_template = "gridgov/whistle_list.html"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # the whistle's page lists its summoned departments and its incidents with their grids
        self.datamodel.also_load(
            selectinload(Whistle.summonses).joinedload(WhistleSummons.department),
            selectinload(Whistle.incidents).joinedload(Incident.grid))

    def list_extra(self) -> dict:
        return {
            "now": datetime.datetime.now(TIMEZONE).strftime("%Y-%m-%d %H:%M:%S"),
            "departments": cache.until_changed("functional departments",
                                               lambda: department_service.functional_department_names(db.session)),
        }

    @expose("/show/<pk>", methods=["GET"])
    @has_access
    def show(self, pk):
        widgets = self._show(pk)
        whistle = self.record_shown(pk)
        scope = current_scope()
        sm = self.appbuilder.sm
        can_answer = sm.has_access("can_answer", self.class_permission_name)
        can_close = sm.has_access("can_blow", self.class_permission_name) and whistle.status == "open" and (
            scope.is_all or scope.grid_id == whistle.grid_id)
        incidents, others = whistle_service.incidents_seen(db.session, scope, whistle)
        return self.render_template(
            self.show_template, pk=pk, title=self.show_title, widgets=widgets, related_views=self._related_views,
            whistle=whistle, can_answer=can_answer, can_close=can_close, scope=scope, local_time=local_time,
            incidents=incidents, other_incidents=others,
        )

    @expose("/board/")
    @has_access
    def board(self):
        """Every open whistle with each summoned department: reported in, result in, overdue."""
        page = max(request.args.get("page", default=0, type=int), 0)
        per_page = whistle_service.BOARD_PAGE
        total, overdue, whistles = whistle_service.open_board(db.session, current_scope(), page, per_page)
        pages = max(-(-total // per_page), 1)
        if page >= pages:  # past the last page (whistles closed meanwhile): the last one
            return redirect(url_for("WhistleModelView.board", page=pages - 1))
        now = datetime.datetime.now(datetime.timezone.utc)
        return self.render_template("gridgov/whistle_board.html", whistles=whistles, now=now, local_time=local_time,
                                    total=total, overdue=overdue, page=page, pages=pages)

    @expose("/blow", methods=["GET", "POST"])
    @has_access
    def blow(self):
        scope = current_scope()
        incidents = whistle_service.open_incidents(db.session, scope)
        departments = department_service.functional_departments(db.session)
        actor = current_actor()
        levels = sorted({whistle_service.BLOWER_LEVEL[r] for r in actor.roles if r in whistle_service.BLOWER_LEVEL}) \
            or ["street", "district"]
        form = request.form
        chosen_incidents = form.getlist("incidents") if request.method == "POST" else request.args.getlist("incident")
        if request.method == "POST":
            whistle = call_service(lambda: whistle_service.blow(
                db.session, actor, form.getlist("incidents"), form.get("reason", ""), form.get("level", ""),
                form.getlist("departments"), _parse_local(form.get("deadline"))))
            if whistle:
                flash(str(_l("Whistle No. %(id)s blown: the departments are summoned.", id=whistle.id)), "success")
                return redirect(url_for("WhistleModelView.show", pk=whistle.id))
        here_now = datetime.datetime.now(TIMEZONE)
        default_deadline = (here_now + datetime.timedelta(hours=24)).strftime("%Y-%m-%dT%H:%M")
        return self.render_template(
            "gridgov/whistle_blow.html", incidents=incidents, departments=departments, levels=levels,
            level_labels=WHISTLE_LEVEL_LABELS, form=form, chosen_incidents=chosen_incidents,
            chosen_departments=form.getlist("departments"), default_deadline=default_deadline,
            earliest_deadline=here_now.strftime("%Y-%m-%dT%H:%M"), reason_most=whistle_service.REASON_MOST,
            latest_deadline=(here_now + whistle_service.DEADLINE_HORIZON).strftime("%Y-%m-%dT%H:%M"),
        )

    def _answer(self, summons_id, do, done_message):
        summons = call_service(do)
        if summons is None:
            whistle_id = request.form.get("whistle")
            return redirect(url_for("WhistleModelView.show", pk=whistle_id) if whistle_id else url_for("WhistleModelView.list"))
        flash(str(done_message), "success")
        return redirect(url_for("WhistleModelView.show", pk=summons.whistle_id))

    @expose("/report_in/<int:summons_id>", methods=["POST"])
    @has_access
    def report_in(self, summons_id):
        return self._answer(summons_id, lambda: whistle_service.report_in(db.session, current_actor(), summons_id),
                            _l("Reported in."))

    @expose("/result/<int:summons_id>", methods=["POST"])
    @has_access
    def result(self, summons_id):
        return self._answer(
            summons_id,
            lambda: whistle_service.submit_result(db.session, current_actor(), summons_id, request.form.get("result", "")),
            _l("Result submitted."))

    @expose("/close/<int:pk>", methods=["POST"])
    @has_access
    def close(self, pk):
        ratings = {key[7:]: value for key, value in request.form.items() if key.startswith("rating-")}
        if call_service(lambda: whistle_service.close(db.session, current_actor(), pk, ratings)):
            flash(str(_l("Whistle closed.")), "success")
        return redirect(url_for("WhistleModelView.show", pk=pk))


def _parse_local(value):
    """A datetime-local value (2026-11-23T09:30) in the deployment's time zone."""
    try:
        return datetime.datetime.strptime(value or "", "%Y-%m-%dT%H:%M").replace(tzinfo=TIMEZONE)
    except ValueError:
        return None
