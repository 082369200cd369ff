"""The grid map's data: a grid's children with their figures and the incidents under it, and a
grid's outline for the report form, as JSON for app/static/gridgov/map.js."""
from __future__ import annotations

from flask import jsonify, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access_api
from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..fab.filters import current_scope
from ..models.choices import GRID_LEVEL_LABELS, INCIDENT_STATUS_LABELS
from ..services import maps
from ..services.errors import OutOfScope


def _not_found():
    return jsonify(message=str(_l("Record not found."))), 404


class MapView(BaseView):
    """地图 — the JSON the grid map draws; one permission for both answers."""

    route_base = "/map"
    class_permission_name = "GridMap"
    method_permission_name = {"grid": "read", "outline": "read"}

    @expose("/grid/")
    @expose("/grid/<grid_id>")
    @has_access_api
    def grid(self, grid_id=None):
        """The map of a grid (without one: of the user's top) as GeoJSON, with labels in the
        user's language and each incident's address."""
        try:
            data = maps.grid_map(db.session, current_scope(), grid_id)
        except OutOfScope:
            return _not_found()
        for feature in data["children"]["features"]:
            feature["properties"]["level_label"] = str(GRID_LEVEL_LABELS.get(feature["properties"]["level"], ""))
        for feature in data["pins"]["features"]:
            properties = feature["properties"]
            properties["status_label"] = str(INCIDENT_STATUS_LABELS.get(properties["status"], properties["status"]))
            properties["url"] = url_for("IncidentModelView.show", pk=properties["id"])
        if data["grid"] is not None:
            properties = data["grid"]["properties"]
            properties["level_label"] = str(GRID_LEVEL_LABELS.get(properties["level"], ""))
        return jsonify(data)

    @expose("/outline/<grid_id>")
    @has_access_api
    def outline(self, grid_id):
        """A grid's outline (a GeoJSON geometry, or null when it has none)."""
        try:
            return jsonify(geometry=maps.outline(db.session, current_scope(), grid_id))
        except OutOfScope:
            return _not_found()
