"""一屏知全域 — the leader's dashboard over the user's scope, and a drill-down into one grid of it."""
from __future__ import annotations

from flask import abort, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext, pgettext

from ..extensions import db
from ..fab.filters import current_scope
from ..models.choices import GRID_LEVEL_LABELS
from ..services import dashboard as dashboard_service
from ..services.errors import OutOfScope


def _rate(value: float | None) -> float | None:
    return round(100 * value, 1) if value is not None else None


def chart_data(board: dashboard_service.Dashboard) -> dict:
    """What dashboard.js draws, with the page's words (the tables beside the charts say the same)."""
    return {
        "labels": {"received": gettext("Received"), "resolved": pgettext("figure", "Resolved"),
                   "completion": gettext("Completion rate"), "on_time": gettext("On-time rate"),
                   "satisfaction": gettext("Average satisfaction"), "checked_in": gettext("Checked in"),
                   "waiting": gettext("Waiting")},
        "months": [row.month.strftime("%Y-%m") for row in board.months],
        "received": [row.received for row in board.months],
        "resolved": [row.resolved for row in board.months],
        "categories": [{"name": name, "value": count} for name, count in board.categories],
        "areas": [{"name": row.label, "url": url_for("DashboardView.show", grid_id=row.key),
                   "completion": _rate(row.completion_rate), "on_time": _rate(row.on_time_rate),
                   "satisfaction": round(row.average_rating, 2) if row.average_rating is not None else None,
                   "received": row.received} for row in board.areas],
        "emergency": [{"name": p.name, "done": p.done, "waiting": p.total - p.done}
                      for p in (board.emergency.areas if board.emergency else [])],
    }


class DashboardView(BaseView):
    """The charts and tables of an area, each sub-area a link one level down."""

    route_base = "/dashboard"
    default_view = "show"

    @expose("/")
    @expose("/<grid_id>")
    @has_access
    def show(self, grid_id=None):
        try:
            board = dashboard_service.dashboard(db.session, current_scope(), grid_id)
        except OutOfScope:
            abort(404)
        return self.render_template("gridgov/dashboard.html", board=board, data=chart_data(board),
                                    level_labels=GRID_LEVEL_LABELS)
