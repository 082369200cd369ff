"""Grid screens: the CRUD list of grids and the tree navigation page."""
from __future__ import annotations

from flask import abort
from flask_appbuilder import expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import lazy_gettext as _l
from wtforms.validators import Length

from ..extensions import db
from ..models import Grid
from ..models.choices import GRID_KIND_LABELS, GRID_LEVEL_LABELS
from ..services import grids as grid_service
from ..services.errors import OutOfScope
from ..fab.fields import choice_field
from ..fab.filters import current_scope
from ..fab.interface import EagerInterface
from ..fab.model_view import ScopedModelView
from ..fab.rendering import label_of

GRID_LABELS = {
    "code": _l("Grid code"),
    "name": _l("Name"),
    "level": _l("Level"),
    "kind": _l("Grid kind"),
    "parent": _l("Parent grid"),
    "households": _l("Households"),
    "population": _l("Population"),
    "area_km2": _l("Area (km²)"),
    "party_branch": _l("Party branch"),
    "leader": _l("Grid leader"),
    "tree_link": _l("Tree"),
}


class GridModelView(ScopedModelView):
    """网格 — the grids of the user's area."""

    datamodel = EagerInterface(Grid)
    list_title = _l("Grids")
    show_title = _l("Grid")
    add_title = _l("Add grid")
    edit_title = _l("Edit grid")
    label_columns = GRID_LABELS
    list_columns = ["code", "name", "level", "kind", "parent", "leader", "households", "population"]
    show_columns = ["code", "name", "level", "kind", "parent", "leader", "party_branch",
                    "households", "population", "area_km2"]
    add_columns = ["parent", "code", "name", "level", "kind", "party_branch", "households",
                   "population", "area_km2"]
    edit_columns = ["parent", "code", "name", "level", "kind", "leader", "party_branch",
                    "households", "population", "area_km2"]
    search_columns = ["code", "name", "level", "kind", "parent"]
    order_columns = ["code", "name", "level", "households", "population"]
    base_order = ("code", "asc")
    formatters_columns = {"level": label_of(GRID_LEVEL_LABELS), "kind": label_of(GRID_KIND_LABELS)}
    description_columns = {
        "code": _l("Unique code printed on the grid's public sign, e.g. 410611001001-01."),
        "leader": _l("A worker of this grid."),
    }
    validators_columns = {"code": [Length(max=32)], "name": [Length(max=100)], "party_branch": [Length(max=100)]}
    add_form_extra_fields = {
        "level": choice_field(_l("Level"), GRID_LEVEL_LABELS),
        "kind": choice_field(_l("Grid kind"), GRID_KIND_LABELS),
    }
    edit_form_extra_fields = add_form_extra_fields
    search_form_extra_fields = {
        "level": choice_field(_l("Level"), GRID_LEVEL_LABELS, required=False),
        "kind": choice_field(_l("Grid kind"), GRID_KIND_LABELS, required=False),
    }
    show_template = "gridgov/grid_show.html"

    def _original(self, item):
        return {"parent_id": item.parent_id}

    def check(self, item, *, is_new, original):
        if item.code:
            item.code = item.code.strip()
        grid_service.check_grid(db.session, current_scope(), item, original_parent_id=original.get("parent_id"), is_new=is_new)

    def check_delete(self, item):
        grid_service.check_can_delete(db.session, current_scope(), item)

    @expose("/tree/")
    @expose("/tree/<pk>")
    @has_access
    def tree(self, pk=None):
        """Tree navigation: a grid's ancestors, its children and figures rolled up."""
        scope = current_scope()
        if pk is None:
            roots = grid_service.tree_roots(db.session, scope)
            return self.render_template(
                "gridgov/grid_tree.html", node=None, roots=grid_service.rollups(db.session, roots),
                title=_l("Grid tree"), level_labels=GRID_LEVEL_LABELS,
            )
        try:
            node = grid_service.tree_node(db.session, scope, pk)
        except OutOfScope:
            abort(404)
        return self.render_template(
            "gridgov/grid_tree.html", node=node, roots=None, title=_l("Grid tree"),
            level_labels=GRID_LEVEL_LABELS,
        )
