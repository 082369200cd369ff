"""Read-only REST access to the grids of the user's area: /api/v1/grids/."""
from __future__ import annotations

from flask_appbuilder.models.sqla.interface import SQLAInterface

from ..models import Grid
from ..fab.api import RestApi
from ..fab.filters import SCOPED


class GridApi(RestApi):
    resource_name = "grids"
    # Called with the login session (FAB's token login is not offered: see security.SignedInOnlyApi).
    allow_browser_login = True
    datamodel = SQLAInterface(Grid)
    base_filters = SCOPED
    include_route_methods = {"get", "get_list", "info"}
    list_columns = ["id", "code", "name", "level", "kind", "parent_id", "households", "population"]
    show_columns = ["id", "code", "name", "level", "kind", "parent_id", "households", "population",
                    "area_km2", "party_branch", "leader_id"]
    # Read-only, but FAB still builds write schemas: keep the derived ltree path out of them.
    add_columns = edit_columns = ["code", "name", "level", "kind", "parent_id"]
    order_columns = ["code", "name", "level"]
    search_columns = ["code", "name", "level", "parent_id"]
    max_page_size = 100

