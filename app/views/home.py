"""The start page: who you are, what your area is, and how much it holds."""
from __future__ import annotations

from flask import g, redirect, url_for
from flask_appbuilder import IndexView, expose
from sqlalchemy import func, select

from ..extensions import db
from ..models import Department, Grid, Volunteer, Worker
from ..services.scope import visible
from ..fab.filters import current_scope


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
            counts = {
                name: db.session.scalar(select(func.count()).select_from(model).where(visible(scope, model)))
                for name, model in (("grids", Grid), ("workers", Worker), ("volunteers", Volunteer),
                                    ("departments", Department))
            }
        return self.render_template(self.index_template, appbuilder=self.appbuilder, counts=counts)
