"""考核: the month's ranked scores of an area (workers, communities, streets) or of the
departments, how one score was made, a year's summary, a worker's own scores, the adjustments,
and the administrator's weights."""
from __future__ import annotations

import datetime

from flask import abort, current_app, flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import lazy_gettext as _l
from wtforms.validators import NumberRange

from ..extensions import appbuilder, db
from ..fab.filters import current_scope, current_user_id
from ..fab.interface import EagerInterface
from ..fab.model_view import ScopedModelView
from ..models import AssessmentScore, AssessmentWeights
from ..models.assessment import AREA_WEIGHTS, DEPARTMENT_WEIGHTS, SUBJECT_KINDS, WEIGHTS_OF, WORKER_WEIGHTS
from ..services import assessment
from ..services import patrols as patrol_service
from ..services.errors import DomainError, OutOfScope
from ..services.training import required_hours
from .patrols import DISTRICTS  # the districts a per-district row is picked from
from .formats import local_time
from .service_calls import call_service

VIEW = "AssessmentView"
# the rows a page lists: a district's 8,400 workers are read area by area
MOST_ROWS = 300

KIND_LABELS = {"worker": _l("Grid workers"), "community": _l("Communities"), "street": _l("Streets"),
               "department": _l("Departments")}
INDICATOR_LABELS = {
    "patrol": _l("Patrol compliance"), "reported": _l("Incidents reported"), "on_time": _l("On-time rate"),
    "satisfaction": _l("Satisfaction"), "visits": _l("Visits when due"), "training": _l("Training hours"),
    "clock_in": _l("Clock-in days"), "area_completion": _l("Completion rate"), "area_on_time": _l("On-time rate"),
    "area_satisfaction": _l("Satisfaction"), "report_in": _l("Report-in on time"),
    "result": _l("Result on time"), "rating": _l("Rating received"),
}


def _figures_text(name: str, figure: dict) -> str:
    """What an indicator counted, in words."""
    f = figure
    texts = {
        "patrol": lambda: _l("%(met)s of %(days)s days met the patrol rule", met=f["days_met"], days=f["days"]),
        "clock_in": lambda: _l("%(clocked)s of %(days)s days clocked in", clocked=f["days_clocked"], days=f["days"]),
        "reported": lambda: _l("%(n)s reported, target %(target)s a month", n=f["incidents"], target=f["target"]),
        "on_time": lambda: _l("%(on_time)s of %(resolved)s resolved by the deadline", on_time=f["on_time"],
                              resolved=f["resolved"]),
        "area_on_time": lambda: _l("%(on_time)s of %(resolved)s resolved by the deadline", on_time=f["on_time"],
                                   resolved=f["resolved"]),
        "area_completion": lambda: _l("%(resolved)s of %(received)s resolved", resolved=f["resolved"],
                                      received=f["received"]),
        "visits": lambda: _l("%(made)s of %(due)s residents due visited", made=f["made"], due=f["due"]),
        "training": lambda: _l("%(hours)s hours this year, %(required)s required by this month",
                               hours=f["hours"], required=f["required"]),
        "report_in": lambda: _l("%(on_time)s of %(summoned)s summonses", on_time=f["on_time"],
                                summoned=f["summoned"]),
        "result": lambda: _l("%(on_time)s of %(summoned)s summonses", on_time=f["on_time"], summoned=f["summoned"]),
    }
    if name in ("satisfaction", "area_satisfaction", "rating"):
        return str(_l("%(rated)s rated, mean %(mean)s of 5", rated=f["rated"], mean=f["mean"])) if f["rated"] \
            else str(_l("none rated"))
    return str(texts[name]()) if name in texts else ""


def _required_hours() -> int:
    return required_hours(current_app.config)


def _viewer() -> assessment.Viewer:
    sm = appbuilder.sm
    return assessment.Viewer(current_scope(), assessment.own_worker_id(db.session, current_user_id()),
                             ranks=sm.has_access("can_rank", VIEW))


def _kinds(viewer: assessment.Viewer) -> list[str]:
    """The kinds of subject a viewer's rankings offer."""
    scope = viewer.scope
    if scope.kind == "department":
        return ["department"]
    if scope.is_all:
        return list(SUBJECT_KINDS)
    if scope.kind != "grid":
        return []
    depth = len(str(scope.grid_path).split("."))
    kinds = ["worker"]
    if depth <= 3:  # a community, a street or the district
        kinds.append("community")
    if depth <= 2:
        kinds.append("street")
    if depth == 1:
        kinds.append("department")
    return kinds


def _month_or_flash(value) -> datetime.date:
    try:
        return assessment.parse_month(value)
    except DomainError as error:
        flash(str(error), "danger")
        return assessment.current_month()


def _year_or_flash(value) -> int:
    try:
        return assessment.parse_year(value)
    except DomainError as error:
        flash(str(error), "danger")
        return assessment.current_month().year


def _months(month: datetime.date) -> tuple[str | None, str | None]:
    previous = (month - datetime.timedelta(days=1)).replace(day=1)
    following = assessment.next_month(month)
    return (previous.strftime("%Y-%m") if previous >= assessment.EARLIEST else None,
            following.strftime("%Y-%m") if following <= assessment.current_month() else None)


def _chosen_kind():
    """(viewer, the kinds they rank, the kind asked for or their first); 404 for a kind they do not rank."""
    viewer = _viewer()
    kinds = _kinds(viewer)
    if not kinds:
        abort(404)
    kind = request.args.get("kind") or kinds[0]
    if kind not in kinds:
        abort(404)
    return viewer, kinds, kind


class AssessmentView(BaseView):
    """考核: rankings, a score's making, a year, a worker's own scores and the adjustments."""

    route_base = "/assessment"
    default_view = "index"
    method_permission_name = {"index": "rank", "year": "rank", "show": "read", "mine": "read", "adjust": "adjust"}

    @expose("/")
    @has_access
    def index(self):
        viewer, kinds, kind = _chosen_kind()
        month = _month_or_flash(request.args.get("month"))
        try:
            ranking = assessment.ranking(db.session, viewer, kind, month, request.args.get("area"),
                                         required_hours=_required_hours())
        except OutOfScope:
            abort(404)
        areas = patrol_service.areas(db.session, viewer.scope, ranking.area) if ranking.area is not None else {}
        previous, following = _months(month)
        shown = ranking.rows[:MOST_ROWS]
        return self.render_template(
            "assessment/ranking.html", ranking=ranking, shown=shown, total=len(ranking.rows), kinds=kinds, kind=kind, kind_labels=KIND_LABELS,
            month=month.strftime("%Y-%m"), previous=previous, following=following, areas=areas,
            area_id=ranking.area.id if ranking.area is not None else None)

    @expose("/show/<kind>/<subject_id>")
    @has_access
    def show(self, kind, subject_id):
        viewer = _viewer()
        month = _month_or_flash(request.args.get("month"))
        try:
            found = assessment.detail(db.session, viewer, kind, subject_id, month, required_hours=_required_hours())
        except OutOfScope:
            abort(404)
        indicators = []
        if found.row is not None:
            for name in WEIGHTS_OF[kind]:  # the stored JSON keeps no order
                weight, figure = found.row.weights.get(name, 0), found.row.figures.get(name, {})
                indicators.append({"label": INDICATOR_LABELS.get(name, name), "value": figure.get("value"),
                                   "weight": weight, "text": _figures_text(name, figure) if figure else ""})
        previous, following = _months(month)
        return self.render_template(
            "assessment/show.html", found=found, indicators=indicators, kind_label=KIND_LABELS[kind],
            month=month.strftime("%Y-%m"), previous=previous, following=following, kind=kind, subject_id=subject_id,
            can_adjust=appbuilder.sm.has_access("can_adjust", VIEW) and found.row is not None
            and assessment.may_adjust(viewer, kind, found.row.subject_id), local_time=local_time,
            ranks=viewer.ranks)

    @expose("/adjust/<int:score_id>", methods=["POST"])
    @has_access
    def adjust(self, score_id):
        """A correction of a frozen score, with its reason (the score itself is kept)."""
        viewer = _viewer()
        name = g.user.get_full_name() if getattr(g, "user", None) is not None else ""
        entry = call_service(lambda: assessment.adjust(db.session, viewer, current_user_id(), name, score_id,
                                                       request.form.get("delta", ""), request.form.get("reason", "")))
        if entry is not None:
            flash(str(_l("Adjustment recorded.")), "success")
        score = db.session.get(AssessmentScore, score_id)
        if score is None:
            abort(404)
        return redirect(url_for("AssessmentView.show", kind=score.kind, subject_id=score.subject_id,
                                month=score.month.strftime("%Y-%m")))

    @expose("/year/")
    @has_access
    def year(self):
        viewer, kinds, kind = _chosen_kind()
        year = _year_or_flash(request.args.get("year"))
        try:
            summary = assessment.year_summary(db.session, viewer, kind, year, request.args.get("area"),
                                              required_hours=_required_hours())
        except OutOfScope:
            abort(404)
        areas = patrol_service.areas(db.session, viewer.scope, summary["area"]) if summary["area"] is not None else {}
        total = len(summary["rows"])
        summary["rows"] = summary["rows"][:MOST_ROWS]
        return self.render_template(
            "assessment/year.html", summary=summary, total=total, kinds=kinds, kind=kind, kind_labels=KIND_LABELS,
            year=year, this_year=assessment.current_month().year, mine=False, areas=areas,
            area_id=summary["area"].id if summary["area"] is not None else None)

    @expose("/mine/")
    @has_access
    def mine(self):
        """A worker's own scores of the year, each month leading to how it was made."""
        viewer = _viewer()
        year = _year_or_flash(request.args.get("year"))
        if viewer.worker_id is None:
            flash(str(_l("Your login is not linked to a worker record: ask the administrator to link it.")), "info")
            summary = {"kind": "worker", "year": year, "area": None, "rows": [], "live_month": None}
        else:
            summary = assessment.year_summary(db.session, viewer, "worker", year, subject_id=viewer.worker_id,
                                              required_hours=_required_hours())
        return self.render_template(
            "assessment/year.html", summary=summary, kinds=[], kind="worker", kind_labels=KIND_LABELS, year=year,
            this_year=assessment.current_month().year, mine=True, area_id=None, areas={}, total=len(summary["rows"]))



class AssessmentWeightsModelView(ScopedModelView):
    """考核权重 — each district's weights; the row without a district is the default."""

    datamodel = EagerInterface(AssessmentWeights)
    list_title = _l("Assessment weights")
    show_title = _l("Assessment weights")
    add_title = _l("Add assessment weights")
    edit_title = _l("Edit assessment weights")
    pick_where = {"district": DISTRICTS}
    label_columns = {"district": _l("District"), **{name: INDICATOR_LABELS[name] for name in WORKER_WEIGHTS},
                     "area_completion": _l("Area: completion rate"), "area_on_time": _l("Area: on-time rate"),
                     "area_satisfaction": _l("Area: satisfaction"),
                     "report_in": _l("Department: report-in on time"), "result": _l("Department: result on time"),
                     "rating": _l("Department: rating received"),
                     "reports_target": _l("Incidents a month for full marks")}
    list_columns = ["district", *WORKER_WEIGHTS, *AREA_WEIGHTS, *DEPARTMENT_WEIGHTS, "reports_target"]
    show_columns = add_columns = edit_columns = list_columns
    search_columns = ["district"]
    base_order = ("id", "asc")
    formatters_columns = {"district": lambda d: d if d is not None else _l("Default (every district without its own)")}
    description_columns = {
        "district": _l("Leave empty for the default weights of every district without their own."),
        "patrol": _l("Weights are whole numbers from 0 to 100; a score is the weighted mean of the indicators "
                     "that had something to measure."),
        "reports_target": _l("A worker who reported this many incidents in a month gets the full 100."),
    }
    validators_columns = {**{name: [NumberRange(min=0, max=100)]
                             for name in (*WORKER_WEIGHTS, *AREA_WEIGHTS, *DEPARTMENT_WEIGHTS)},
                          "reports_target": [NumberRange(min=1, max=500)]}

    def check(self, item, *, is_new, original):
        assessment.check_weights(db.session, item)

    def check_delete(self, item):
        assessment.check_weights_delete(db.session, item)
