"""Grid screens: the CRUD list of grids and the tree navigation page."""
from __future__ import annotations

from flask import abort
from flask_appbuilder import expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from wtforms.validators import Length

from ..extensions import db
from ..models import Grid
from ..models.choices import GRID_KIND_LABELS, GRID_LEVEL_LABELS
from ..services import grids as grid_service
from ..services.errors import OutOfScope
from ..fab.fields import choice_field
from ..fab.filters import current_scope, row_key
from ..fab.interface import EagerInterface
from ..fab.model_view import ScopedModelView
from ..fab.rendering import label_of
from .imports import Importable

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


COUNTED = ("households", "population")


def figures_source(pk) -> str:
    """What a grid's page says of where its households and population come from."""
    key = row_key(pk)
    if key is None:
        return ""
    recorded, total = grid_service.figures_source(db.session, key)
    if recorded == 0:
        return gettext("Households and population as typed: no households or residents are recorded here yet.")
    if recorded == total:
        return gettext("Households and population counted from the recorded households and residents.")
    return gettext("Households and population counted from the recorded households and residents in %(recorded)s "
                   "of %(total)s base grids, as typed in the others.", recorded=recorded, total=total)


class GridInterface(EagerInterface):
    """A grid's households and population as the tree counts them (``counted_figures``: its own
    typed numbers for a base grid, its base grids' sum otherwise), for a list page's grids in
    one query, and for a record's."""

    def get_values(self, lst, list_columns):
        rows = list(lst)
        values = list(super().get_values(rows, list_columns))
        if any(column in list_columns for column in COUNTED):
            counted = grid_service.counted_figures(db.session, [grid.id for grid in rows])
            for grid, row in zip(rows, values):
                _, row["households"], row["population"] = counted.get(grid.id, (0, 0, 0))
        return values

    def get_values_item(self, item, show_columns):
        values = super().get_values_item(item, show_columns)
        if item is not None and any(column in show_columns for column in COUNTED):
            _, households, population = grid_service.counted_figures(db.session, [item.id]).get(item.id, (0, 0, 0))
            figures = {"households": households, "population": population}
            values = [figures.get(column, value) for column, value in zip(show_columns, values)]
        return values


class GridModelView(Importable, ScopedModelView):
    """网格 — the grids of the user's area."""

    import_kind = "grids"

    datamodel = GridInterface(Grid)
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
    # not households or population: a grid's are counted from its base grids, not its columns
    order_columns = ["code", "name", "level"]
    base_order = ("code", "asc")
    formatters_columns = {"level": label_of(GRID_LEVEL_LABELS), "kind": label_of(GRID_KIND_LABELS)}
    description_columns = {
        "code": _l("Unique code printed on the grid's public sign, e.g. 410611001001-01."),
        "leader": _l("A worker of this grid."),
        "households": _l("Typed for a grid without sub-grids until its households are recorded; a grid with "
                         "sub-grids shows the sum of its base grids."),
        "population": _l("Typed for a grid without sub-grids until its residents are recorded; a grid with "
                         "sub-grids shows the sum of its base grids."),
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
