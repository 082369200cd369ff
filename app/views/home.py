"""The start page: who you are, what your area is, and how much it holds."""
from __future__ import annotations

from flask import g, redirect, url_for
from flask_appbuilder import IndexView, expose

from ..extensions import db
from ..fab.filters import current_scope
from ..services import figures as figure_service


class HomeView(IndexView):
    index_template = "gridgov/index.html"

    @expose("/")
    def index(self):
        counts = None
        user = getattr(g, "user", None)
        if user is not None and getattr(user, "is_authenticated", False):
            scope = current_scope()
            if scope.kind == "volunteer":  # a volunteer's start page is their points
                return redirect(url_for("PointsView.me"))
            counts = figure_service.area_counts(db.session, scope)
        return self.render_template(self.index_template, appbuilder=self.appbuilder, counts=counts)
