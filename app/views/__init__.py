"""Registers every screen and its menu entry."""
from __future__ import annotations

from flask import current_app, g, request, session
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from . import headers


def _html_lang():
    locale = str(get_locale() or "zh")
    return {"gridgov_html_lang": "zh-CN" if locale.startswith("zh") else locale}


_NAVBARS: dict = {}
_NAVBARS_KEPT = 2000


def _navbar(render):
    """The menu bar (FAB's navbar block, ``render``), made once per user, display name, language
    and permission set: FAB checks every menu entry and translates every label on each page."""
    user = getattr(g, "user", None)
    if user is None or not getattr(user, "is_authenticated", False):
        return render()
    sm = current_app.appbuilder.sm
    key = (user.id, user.get_full_name(), str(get_locale()), session.get("locale"),
           frozenset(sm.permission_set(user)))
    html = _NAVBARS.get(key)
    if html is None:
        if len(_NAVBARS) >= _NAVBARS_KEPT:
            _NAVBARS.clear()
        html = _NAVBARS[key] = render()
    return html


_ONCE: dict = {}
_ONCE_KEPT = 100
_NONCE_MARK = "gridgov-csp-nonce"


def _once(name: str, caller):
    """A part of every page that depends only on the language and where the app is mounted
    (the stylesheets and scripts of the page frame: some 25 ``url_for`` and a dozen translated
    texts), made once per process: ``{% call gridgov_once('name') %}…{% endcall %}``. It is kept
    with a mark where the request's CSP nonce stood, and each page gets its own nonce there."""
    key = (name, str(get_locale()), request.script_root)
    nonce = headers.csp_nonce()
    html = _ONCE.get(key)
    if html is None:
        if len(_ONCE) >= _ONCE_KEPT:
            _ONCE.clear()
        html = _ONCE[key] = caller().replace(nonce, _NONCE_MARK)
    return html.replace(_NONCE_MARK, nonce)


def register_views(appbuilder) -> None:
    from ..api.grids import GridApi
    from .departments import DepartmentModelView
    from .grids import GridModelView
    from .incidents import DeadlineRuleModelView, IncidentCategoryModelView, IncidentEventModelView, IncidentModelView
    from .people import ServiceRecordModelView, VolunteerModelView, WorkerModelView
    from .emergencies import EmergencyResponseModelView
    from .whistles import WhistleModelView
    from .points import (
        LedgerEntryModelView,
        PointsAccountModelView,
        PointsRuleModelView,
        PointsView,
        RedemptionLineModelView,
        RedemptionModelView,
        RewardItemModelView,
    )

    from . import templating
    from .base import COUNT_CAP, list_rows, show_rows
    from .errors import register_error_pages
    from .uploads import discard_uploads

    templating.install(current_app)
    headers.install(current_app)
    register_error_pages(current_app)
    current_app.context_processor(_html_lang)
    current_app.teardown_request(discard_uploads)
    current_app.jinja_env.globals["gridgov_count_cap"] = COUNT_CAP
    current_app.jinja_env.globals["gridgov_navbar"] = _navbar
    current_app.jinja_env.globals["gridgov_once"] = _once
    current_app.jinja_env.globals["gridgov_rows"] = list_rows
    current_app.jinja_env.globals["gridgov_show_rows"] = show_rows
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
    loop = {"category": "Incidents", "category_label": _l("Incidents"), "category_icon": "fa-bell"}
    appbuilder.add_view(IncidentModelView, "Incidents", label=_l("Incidents"), icon="fa-list-alt", **loop)
    appbuilder.add_link("Report an incident", href="/incidentmodelview/report", label=_l("Report an incident"),
                        icon="fa-camera", category="Incidents")
    appbuilder.add_view(WhistleModelView, "Whistles", label=_l("Whistles"), icon="fa-bullhorn", category="Incidents")
    appbuilder.add_view(EmergencyResponseModelView, "Emergency responses", label=_l("Emergency responses"),
                        icon="fa-exclamation-triangle", category="Incidents")
    appbuilder.add_link("Emergency tasks", href="/emergencyresponsemodelview/tasks/", label=_l("Emergency tasks"),
                        icon="fa-check-square-o", category="Incidents")
    appbuilder.add_view(IncidentCategoryModelView, "Incident categories", label=_l("Incident categories"),
                        icon="fa-tags", category="Incidents")
    appbuilder.add_view(DeadlineRuleModelView, "Deadlines", label=_l("Deadlines"), icon="fa-clock-o",
                        category="Incidents")
    appbuilder.add_view_no_menu(IncidentEventModelView)
    bank = {"category": "Points bank", "category_label": _l("Points bank"), "category_icon": "fa-gift"}
    appbuilder.add_view(PointsView, "My points", label=_l("My points"), icon="fa-user", **bank)
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
    appbuilder.add_view_no_menu(RedemptionLineModelView)
    appbuilder.add_api(GridApi)
