"""Registers every screen and its menu entry."""
from __future__ import annotations

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext

from .. import headers, uploads
from ..fab import templating


def register_views(appbuilder) -> None:
    from ..api.grids import GridApi
    from .audit import AuditEntryModelView, PersonalDataAccessModelView
    from .departments import DepartmentModelView
    from .grids import GridModelView
    from .maps import MapView
    from .incidents import DeadlineRuleModelView, IncidentCategoryModelView, IncidentEventModelView, IncidentModelView
    from .people import ServiceRecordModelView, TrainingRecordModelView, VolunteerModelView, WorkerModelView
    from .wishes import MicroWishModelView
    from .residents import (AttentionTagModelView, HouseholdModelView, HouseholdMoveModelView, HouseModelView,
                            ResidentModelView, VisitModelView)
    from .emergencies import EmergencyResponseModelView
    from .patrols import PatrolModelView, PatrolRuleModelView
    from .whistles import WhistleModelView
    from .points import (
        LedgerEntryModelView,
        PointsAccountModelView,
        PointsRuleModelView,
        PointsView,
        RedemptionLineModelView,
        RedemptionModelView,
        RewardItemModelView,
        WorkerPointsRuleModelView,
    )
    from .assessment import AssessmentView, AssessmentWeightsModelView
    from .errors import register_error_pages

    templating.install(current_app)
    from .home import forget_waiting_count, todo_badge

    current_app.jinja_env.globals["gridgov_todo_badge"] = todo_badge
    current_app.before_request(forget_waiting_count)
    from .grids import figures_source

    current_app.jinja_env.globals["gridgov_figures_source"] = figures_source
    from .people import training_years

    current_app.jinja_env.globals["gridgov_training_years"] = training_years
    headers.install(current_app)
    register_error_pages(current_app)
    current_app.teardown_request(uploads.discard_uploads)
    from ..fab.access_log import write_shown

    current_app.after_request(write_shown)
    from .dashboard import DashboardView
    appbuilder.add_view(DashboardView, "Dashboard", label=_l("Dashboard"), icon="fa-area-chart")
    appbuilder.add_view(GridModelView, "Grids", label=_l("Grids"), icon="fa-th", category="Territory",
                        category_label=_l("Territory"), category_icon="fa-map")
    appbuilder.add_link("Grid tree", href="/gridmodelview/tree/", label=_l("Grid tree"), icon="fa-sitemap",
                        category="Territory")
    appbuilder.add_view(DepartmentModelView, "Departments", label=_l("Departments"), icon="fa-building",
                        category="Territory")
    appbuilder.add_view(WorkerModelView, "Workers", label=_l("Workers"), icon="fa-id-badge", category="People",
                        category_label=_l("People"), category_icon="fa-users")
    appbuilder.add_view(VolunteerModelView, "Volunteers", label=_l("Volunteers"), icon="fa-heart",
                        category="People")
    appbuilder.add_view(ServiceRecordModelView, "Service records", label=_l("Service records"),
                        icon="fa-clock-o", category="People")
    appbuilder.add_view(TrainingRecordModelView, "Training records", label=_l("Training records"),
                        icon="fa-graduation-cap", category="People")
    appbuilder.add_link("Training below the required hours", href="/trainingrecordmodelview/under/",
                        label=_l("Training below the required hours"), icon="fa-exclamation-circle", category="People")
    # 微心愿: 群众点单、社区派单、党员接单
    appbuilder.add_view(MicroWishModelView, "Micro-wishes", label=_l("Micro-wishes"), icon="fa-gift",
                        category="Wishes", category_label=_l("Micro-wishes"), category_icon="fa-heart-o")
    appbuilder.add_link("Post a micro-wish", href="/microwishmodelview/post", label=_l("Post a micro-wish"),
                        icon="fa-plus", category="Wishes")
    appbuilder.add_link("Wishes to claim", href="/microwishmodelview/mine/", label=_l("Micro-wishes to claim"),
                        icon="fa-hand-paper-o", category="Wishes")
    # 一户一档: the base data of each grid
    appbuilder.add_view(ResidentModelView, "Residents", label=_l("Residents"), icon="fa-user", category="Residents",
                        category_label=_l("Households and residents"), category_icon="fa-home")
    appbuilder.add_link("Visits due", href="/residentmodelview/list/?_flt_0_next_visit_due=due", label=_l("Visits due"),
                        icon="fa-calendar-check-o", category="Residents")
    appbuilder.add_view(VisitModelView, "Visits", label=_l("Visits"), icon="fa-handshake-o", category="Residents")
    appbuilder.add_view(HouseholdModelView, "Households", label=_l("Households"), icon="fa-users",
                        category="Residents")
    appbuilder.add_view(HouseModelView, "Houses", label=_l("Houses"), icon="fa-building-o", category="Residents")
    appbuilder.add_view(AttentionTagModelView, "Care and attention tags", label=_l("Care and attention tags"),
                        icon="fa-tags", category="Residents")
    appbuilder.add_view_no_menu(HouseholdMoveModelView)
    # 巡查日志 and 打卡
    appbuilder.add_link("Patrol", href="/patrolmodelview/patrol/", label=_l("Patrol and clock in"), icon="fa-road",
                        category="Patrols", category_label=_l("Patrols"), category_icon="fa-road")
    appbuilder.add_view(PatrolModelView, "Patrol log", label=_l("Patrol log"), icon="fa-list", category="Patrols")
    appbuilder.add_link("Patrol compliance", href="/patrolmodelview/compliance/", label=_l("Patrol compliance"),
                        icon="fa-check-square-o", category="Patrols")
    appbuilder.add_view(PatrolRuleModelView, "Patrol rules", label=_l("Patrol rules"), icon="fa-sliders",
                        category="Patrols")
    incidents_menu = {"category": "Incidents", "category_label": _l("Incidents"), "category_icon": "fa-bell"}
    appbuilder.add_view(IncidentModelView, "Incidents", label=_l("Incidents"), icon="fa-list-alt", **incidents_menu)
    appbuilder.add_link("Report an incident", href="/incidentmodelview/report", label=_l("Report an incident"),
                        icon="fa-camera", category="Incidents")
    appbuilder.add_view(WhistleModelView, "Whistles", label=_l("Whistles"), icon="fa-bullhorn", category="Incidents")
    appbuilder.add_view(EmergencyResponseModelView, "Emergency responses", label=_l("Emergency responses"),
                        icon="fa-exclamation-triangle", category="Incidents")
    appbuilder.add_link("Declare a response", href="/emergencyresponsemodelview/declare",
                        label=_l("Declare an emergency response"), icon="fa-exclamation-circle", category="Incidents")
    appbuilder.add_link("Emergency tasks", href="/emergencyresponsemodelview/tasks/", label=_l("Emergency tasks"),
                        icon="fa-check-square-o", category="Incidents")
    appbuilder.add_view(IncidentCategoryModelView, "Incident categories", label=_l("Incident categories"),
                        icon="fa-tags", category="Incidents")
    appbuilder.add_view(DeadlineRuleModelView, "Deadlines", label=_l("Deadlines"), icon="fa-clock-o",
                        category="Incidents")
    appbuilder.add_view_no_menu(IncidentEventModelView)
    points_menu = {"category": "Points bank", "category_label": _l("Points bank"), "category_icon": "fa-gift"}
    appbuilder.add_view(PointsView, "My points", label=_l("My points"), icon="fa-user", **points_menu)
    appbuilder.add_link("Redeem rewards", href="/points/redeem/", label=_l("Redeem rewards"),
                        icon="fa-shopping-basket", category="Points bank")
    appbuilder.add_link("Honour roll", href="/points/honour/", label=_l("Honour roll"), icon="fa-trophy",
                        category="Points bank")
    appbuilder.add_view(RewardItemModelView, "Reward catalog", label=_l("Reward catalog"), icon="fa-gift",
                        category="Points bank")
    appbuilder.add_view(RedemptionModelView, "Redemptions", label=_l("Redemptions"), icon="fa-list",
                        category="Points bank")
    appbuilder.add_view(PointsAccountModelView, "Points accounts", label=_l("Points accounts"),
                        icon="fa-university", category="Points bank")
    appbuilder.add_view(LedgerEntryModelView, "Points ledger", label=_l("Points ledger"), icon="fa-book",
                        category="Points bank")
    appbuilder.add_view(PointsRuleModelView, "Points rules", label=_l("Points rules"), icon="fa-balance-scale",
                        category="Points bank")
    appbuilder.add_view(WorkerPointsRuleModelView, "Workers' points rules", label=_l("Workers' points rules"),
                        icon="fa-balance-scale", category="Points bank")
    appbuilder.add_view_no_menu(RedemptionLineModelView)
    # 考核: the monthly scores, the year, a worker's own, the weights
    appbuilder.add_view(AssessmentView, "Assessment scores", label=_l("Assessment ranking"), icon="fa-line-chart",
                        category="Assessment", category_label=_l("Assessment"), category_icon="fa-star")
    appbuilder.add_link("Assessment year summary", href="/assessment/year/", label=_l("Year summary"),
                        icon="fa-calendar", category="Assessment")
    appbuilder.add_link("My assessment", href="/assessment/mine/", label=_l("My assessment"), icon="fa-user",
                        category="Assessment")
    appbuilder.add_view(AssessmentWeightsModelView, "Assessment weights", label=_l("Assessment weights"),
                        icon="fa-balance-scale", category="Assessment")
    appbuilder.add_view_no_menu(MapView)
    # 审计日志 and 个人信息查看记录: beside the administrator's users and roles
    # a menu of its own: a secretary reads her area's trail without the administrator's Security menu
    appbuilder.add_view(AuditEntryModelView, "Audit trail", label=_l("Audit trail"), icon="fa-history",
                        category="Audit", category_label=lazy_pgettext("menu", "Audit"), category_icon="fa-history")
    appbuilder.add_view(PersonalDataAccessModelView, "Personal data access", label=_l("Personal data access log"),
                        icon="fa-eye", category="Audit")
    appbuilder.add_api(GridApi)
