"""The start page (工作台): what the signed-in person must act on, most urgent first, each item one
tap from its page, with the buttons of their daily work; and the menu bar's to-do badge.

A volunteer starts on their points, a leader on the dashboard when they may open it."""
from __future__ import annotations

import time

from flask import abort, current_app, g, redirect, request, session, url_for
from flask_appbuilder import IndexView, expose
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from ..extensions import cache, db
from ..fab.filters import current_scope
from ..fab.rendering import translated
from ..models.choices import INCIDENT_STATUS_LABELS
from ..services import emergencies as emergency_service
from ..services import figures as figure_service
from ..services import todos
from ..services.users import GRID_WORKER, LEADER
from .formats import local_time
from .incidents import current_actor

SECTION_TITLES = {
    "held": _l("Incidents waiting for you"),
    "department": _l("Incidents dispatched to your department"),
    "summonses": _l("Whistles: report in and send results"),
    "tasks": _l("Emergency tasks to check in"),
    "overdue_below": _l("Overdue below you"),
    "to_rate": _l("Resolved, waiting for the resident's rating"),
    "whistles": _l("Open whistles"),
    "redemptions": _l("Redemptions to hand over"),
    "records": _l("Service records not yet awarded points"),
    "visits": _l("Residents due a visit"),
    "wishes": _l("Micro-wishes no one claimed in time"),
    "wishes_done": _l("Micro-wishes done, waiting for the resident's satisfaction"),
}
STATE_LABELS = {
    **INCIDENT_STATUS_LABELS,
    "open": _l("Open"),
    "to_report_in": _l("To report in"),
    "result_due": _l("Result due"),
    "to_check_in": _l("To check in"),
    "pending": _l("Waiting for pick-up"),
    "to_award": _l("To award"),
    "visit_due": _l("Visit due"),
    "overdue_visit": _l("Visit overdue"),
    "unclaimed": _l("Not claimed"),
    "to_rate_wish": _l("To record the satisfaction"),
}
HELD_STATES = {
    "to_accept": _l("To accept"),
    "in_hand": _l("In hand"),
    "near": _l("Near deadline"),
    "overdue": _l("Overdue"),
    "urged": _l("Urged"),
}
# a section's whole list ("see all") is read a page of this many at a time
SECTION_PAGE = 50


def item_url(item: todos.Item) -> str:
    if item.kind == "incident":
        return url_for("IncidentModelView.show", pk=item.id)
    if item.kind in ("whistle", "summons"):
        return url_for("WhistleModelView.show", pk=item.id)
    if item.kind == "task":
        return url_for("EmergencyResponseModelView.tasks")
    if item.kind == "resident":
        return url_for("ResidentModelView.show", pk=item.id)
    if item.kind == "wish":
        return url_for("MicroWishModelView.show", pk=item.id)
    if item.kind == "redemption":
        return url_for("RedemptionModelView.show", pk=item.id)
    return url_for("ServiceRecordModelView.show", pk=item.id)


def _signed_in() -> bool:
    user = getattr(g, "user", None)
    return user is not None and getattr(user, "is_authenticated", False)


# The badge's count kept in the signed session: [count, user id, when counted (epoch seconds)].
BADGE_KEY = "gridgov_todos"


def waiting_count() -> int:
    """How many to-dos wait for the signed-in user. Counted at most every
    ``GRIDGOV_TODO_BADGE_SECONDS`` (30) and kept in the user's signed session between: the count
    is a statement of six subqueries (~4 ms of PostgreSQL and ~7 ms of Python), and paying it on
    every list page a worker turns made those pages twice as slow. It is counted afresh on the
    home page (the workbench counts the same sections) and after any change the user posts
    (``forget_waiting_count``), so their own work shows at once; another user's work shows
    within the interval, as a notification bell's does."""
    def kept_or_counted() -> int:
        kept = session.get(BADGE_KEY)
        now = int(time.time())
        if (isinstance(kept, list) and len(kept) == 3 and kept[1] == g.user.id
                and 0 <= now - kept[2] < current_app.config["GRIDGOV_TODO_BADGE_SECONDS"]):
            return kept[0]
        return keep_waiting_count(todos.waiting(db.session, current_actor()))

    return cache.per_request("to-dos waiting", kept_or_counted)


def keep_waiting_count(count: int) -> int:
    """Keep a fresh count of the user's to-dos for this request and the next ones."""
    cache.keep_in_request("to-dos waiting", count)
    session[BADGE_KEY] = [count, g.user.id, int(time.time())]
    return count


def forget_waiting_count() -> None:
    """Before any request that may change something (not GET or HEAD): the kept count may be
    out of date after it."""
    if request.method not in ("GET", "HEAD", "OPTIONS") and BADGE_KEY in session:
        session.pop(BADGE_KEY)


def todo_badge() -> Markup:
    """The menu bar's bell: a red number when something waits, one tap from the start page."""
    if not _signed_in() or current_scope().kind in ("volunteer", "none"):
        return Markup("")
    count = waiting_count()
    title = _l("%(count)s to-dos waiting", count=count)
    number = Markup('<span class="badge gridgov-badge">%s</span>') % count if count else Markup("")
    return Markup('<a class="navbar-brand gridgov-todos" href="%s" title="%s" aria-label="%s">'
                  '<i class="fa fa-bell" aria-hidden="true"></i>%s</a>') % (
        url_for("HomeView.index"), title, title, number)


class HomeView(IndexView):
    index_template = "gridgov/index.html"

    @expose("/")
    def index(self):
        if not _signed_in():
            return self.render_template(self.index_template, appbuilder=self.appbuilder, bench=None)
        scope = current_scope()
        sm = self.appbuilder.sm
        if scope.kind == "volunteer":  # a volunteer's start page is their points
            return redirect(url_for("PointsView.me"))
        roles = {role.name for role in g.user.roles}
        if roles == {LEADER} and sm.has_access("can_show", "DashboardView"):  # a leader reads the dashboard
            return redirect(url_for("DashboardView.show"))
        actor = current_actor()
        bench = todos.workbench(db.session, actor)
        keep_waiting_count(bench.waiting)
        responses = [(response, emergency_service.totals(db.session, response.id, scope))
                     for response in todos.active_responses(db.session, actor)]
        can = {name: sm.has_access(permission, view) for name, (permission, view) in {
            "report": ("can_report", "IncidentModelView"), "declare": ("can_declare", "EmergencyResponseModelView"),
            "blow": ("can_blow", "WhistleModelView"), "figures": ("can_figures", "IncidentModelView"),
            "responses": ("can_list", "EmergencyResponseModelView"), "dashboard": ("can_show", "DashboardView"),
            "visit": ("can_add", "VisitModelView"), "wish": ("can_post", "MicroWishModelView"),
            "patrol": ("can_patrol", "PatrolModelView"), "patrol_compliance": ("can_lead", "PatrolModelView"),
            "points": ("can_me", "PointsView"),
            "assessment": ("can_rank", "AssessmentView"),
        }.items()}
        figures = None
        if scope.kind in ("grid", "all", "department") and GRID_WORKER not in roles:
            figures = figure_service.totals(db.session, scope)
        return self.render_template(
            self.index_template, appbuilder=self.appbuilder, bench=bench, responses=responses, can=can,
            figures=figures, counts=figure_service.area_counts(db.session, scope) if figures else None,
            titles=translated(SECTION_TITLES), states=translated(STATE_LABELS), item_url=item_url,
            held_states=translated(HELD_STATES),
            phone_first=GRID_WORKER in roles, local_time=local_time)

    @expose("/todos/<key>/")
    def todos(self, key):
        """One section of the to-dos in full ("see all"), a page at a time, most urgent first."""
        if not _signed_in():
            return redirect(self.appbuilder.get_url_for_login)
        page = request.args.get("page", "0")
        page = int(page) if page.isdigit() and len(page) < 7 else 0
        section = todos.section(db.session, current_actor(), key, page * SECTION_PAGE, SECTION_PAGE)
        if section is None or key not in SECTION_TITLES:
            abort(404)
        pages = max(1, -(-section.count // SECTION_PAGE))
        if page >= pages:
            return redirect(url_for("HomeView.todos", key=key, page=pages - 1))
        return self.render_template(
            "gridgov/todo_section.html", appbuilder=self.appbuilder, section=section, page=page,
            pages=pages, titles=translated(SECTION_TITLES), states=translated(STATE_LABELS), item_url=item_url,
            held_states=translated(HELD_STATES), local_time=local_time)
