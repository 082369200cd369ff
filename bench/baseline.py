"""The stock Flask-AppBuilder baseline of ``bench/lists.py``, registered only in benchmark mode.

Plain ``ModelView`` / ``GroupByChartView`` over the same tables, written the way FAB's
documentation shows: ``SQLAInterface``, a base filter that keeps the user's area (the grid ids
of the user's subtree, through ``FilterInFunction``), FAB's own search filters (ILIKE),
``count(*)`` and OFFSET paging, related columns loaded per row, the timeline as a related view.

``create_app()`` is gridgov's whole app plus these views (stock views on gridgov's security
manager, menu bar and templates); ``bench/stock_app.py`` registers the same views, with a menu, in
a stock Flask-AppBuilder application. ``grant()`` gives their permissions (and that menu's) to the
roles the benchmark logs in with.
"""
from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from flask import g  # noqa: E402
from flask_appbuilder import ModelView  # noqa: E402
from flask_appbuilder.charts.views import GroupByChartView  # noqa: E402
from flask_appbuilder.models.group import aggregate_count  # noqa: E402
from flask_appbuilder.models.sqla.filters import FilterInFunction  # noqa: E402
from flask_appbuilder.models.sqla.interface import SQLAInterface  # noqa: E402
from sqlalchemy import select  # noqa: E402

from app import create_app as create_gridgov_app  # noqa: E402
from app.extensions import appbuilder, db  # noqa: E402
from app.models import Grid, GridgovUser, Incident, IncidentEvent, Resident, Whistle  # noqa: E402

ROLES = ("Admin", "Street officer", "Community secretary", "District dispatcher")


def area_grid_ids():
    """The ids of every grid under the logged-in user's grid (all grids for a user without one).
    In ``bench/stock_app.py`` the user is FAB's own ``User``, whose row's grid is read here."""
    user = g.user
    query = select(Grid.id)
    grid_id = user.grid_id if hasattr(user, "grid_id") else \
        db.session.scalar(select(GridgovUser.grid_id).where(GridgovUser.id == user.id))
    if grid_id:
        path = db.session.scalar(select(Grid.path).where(Grid.id == grid_id))
        query = query.where(Grid.path.descendant_of(path))
    return list(db.session.scalars(query))


class StockIncidentEventView(ModelView):
    datamodel = SQLAInterface(IncidentEvent)
    list_columns = ["created_at", "actor_name", "action", "to_status", "to_level", "handler", "note"]
    add_columns = edit_columns = ["note"]
    search_columns = ["action", "note"]


class StockIncidentView(ModelView):
    datamodel = SQLAInterface(Incident)
    base_filters = [["grid_id", FilterInFunction, area_grid_ids]]
    list_columns = ["id", "title", "category", "urgency", "status", "level", "grid", "deadline", "overdue"]
    show_columns = ["id", "title", "category", "urgency", "source", "status", "level", "holder_grid",
                    "handler_worker", "department", "grid", "address", "description", "reporter_name", "deadline",
                    "created_at", "resolved_at", "rating"]
    search_columns = ["title", "description", "status", "category", "urgency", "level", "grid"]
    base_order = ("id", "desc")
    related_views = [StockIncidentEventView]
    add_columns = edit_columns = ["title", "description"]


class StockIncidentChartView(GroupByChartView):
    datamodel = SQLAInterface(Incident)
    base_filters = [["grid_id", FilterInFunction, area_grid_ids]]
    definitions = [{"group": "status", "series": [(aggregate_count, "id")]}]
    search_columns = ["status", "category", "grid"]


class StockGridView(ModelView):
    """gridgov's grid list: the same columns and the same search fields. Stock FAB offers the
    parent grid as a drop-down of every grid (18,200 at city size), as the stock incident view
    offers its grid; gridgov's grid list types it (a picker). Until 2026-11-22 this view left the
    parent grid out of its search and measured a page lighter than gridgov's: RESULTS.md keeps
    those figures."""
    datamodel = SQLAInterface(Grid)
    base_filters = [["id", FilterInFunction, area_grid_ids]]
    list_columns = ["code", "name", "level", "kind", "parent", "leader", "households", "population"]
    base_order = ("code", "asc")
    add_columns = edit_columns = ["name"]
    search_columns = ["code", "name", "level", "kind", "parent"]


class StockWhistleView(ModelView):
    datamodel = SQLAInterface(Whistle)
    base_filters = [["grid_id", FilterInFunction, area_grid_ids]]
    list_columns = ["id", "level", "grid", "reason", "deadline", "status", "blown_by_name", "blown_at"]
    base_order = ("id", "desc")
    add_columns = edit_columns = ["reason"]
    search_columns = ["status", "reason", "grid"]


class StockResidentView(ModelView):
    """gridgov's residents list: the same columns; FAB's search of the name is an ILIKE, and it
    has no search by the last four digits of a number (the stock scenario searches the phone
    column with FAB's "ends with" instead)."""
    datamodel = SQLAInterface(Resident)
    base_filters = [["grid_id", FilterInFunction, area_grid_ids]]
    list_columns = ["name", "gender", "residence_status", "grid", "household", "phone", "id_number", "tags"]
    base_order = ("name", "asc")
    add_columns = edit_columns = ["name"]
    search_columns = ["name", "phone", "residence_status", "grid"]


VIEWS = (StockIncidentEventView, StockIncidentView, StockIncidentChartView, StockGridView, StockWhistleView,
         StockResidentView)
# The menu of bench/stock_app.py: (view, entry); the timeline is reached from an incident's page.
MENU_CATEGORY = "Stock"
MENU = ((StockIncidentView, "Incidents"), (StockIncidentChartView, "Incident chart"), (StockGridView, "Grids"),
        (StockWhistleView, "Whistles"), (StockResidentView, "Residents"))


def register(builder, menu: bool = False) -> None:
    """The stock views on ``builder``: without a menu inside gridgov's app, whose menu bar is
    gridgov's; with one in bench/stock_app.py, as a stock application has."""
    entries = dict(MENU) if menu else {}
    for view in VIEWS:
        if view in entries:
            builder.add_view(view, entries[view], category=MENU_CATEGORY)
        else:
            builder.add_view_no_menu(view)


def create_app():
    app = create_gridgov_app()
    with app.app_context():
        register(appbuilder)
    return app


def grant(app) -> None:
    """Create the baseline views' permissions and give them to the benchmark's roles."""
    with app.app_context():
        sm = appbuilder.sm
        pairs = []
        for view in VIEWS:
            instance = next(v for v in appbuilder.baseviews if isinstance(v, view))
            pairs += [(permission, instance.class_permission_name) for permission in ("can_list", "can_show", "can_chart")
                      if permission in instance.base_permissions
                      or permission.removeprefix("can_") in instance.base_permissions]
        pairs += [("menu_access", name) for name in (MENU_CATEGORY, *(entry for _, entry in MENU))]  # stock_app's menu
        for permission, view_name in pairs:
            pvm = sm.add_permission_view_menu(permission, view_name)
            for role in ROLES:
                sm.add_permission_role(sm.find_role(role), pvm)
        db.session.commit()
