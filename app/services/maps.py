"""The grid map: a grid's outline, its children's outlines with the figures to colour them by
(received, open, overdue, completion rate), and the located incidents under it, as GeoJSON, over
the user's scope.

The figures are the incident figures' own (``figures``: the tallies of the grid, or the scope's
incidents for a department), rolled up to the grid's children in one statement; open and overdue
come from the open incidents alone (a few thousand in a city), in one more."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Integer, and_, any_, func, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session, aliased, undefer

from ..models import Grid, Incident, incident_scopes
from ..models.choices import OPEN_STATUSES
from .figures import figure_row, per_base_grid  # the figures' own measures, rolled up here by child
from .scope import Scope, get_visible, is_visible, visible

PIN_LIMIT = 2000


@dataclass(frozen=True)
class MapArea:
    """Whose children the map draws: a grid, or (``grid`` None) the roots of the user's tree."""

    grid: Grid | None
    children: list[Grid]


def _path_ids(path):
    return func.gridgov_path_ids(path, type_=ARRAY(Integer))


def area(session: Session, scope: Scope, grid_id=None) -> MapArea:
    """The grid (``OutOfScope`` when the scope does not see it) and its children the scope sees;
    without a grid, the scope's own grid, or the roots of everything or a department's
    communities."""
    if grid_id is None and scope.kind == "grid":
        grid_id = scope.grid_id
    if grid_id is not None:
        grid = get_visible(session, scope, Grid, grid_id)
        children = session.scalars(select(Grid).options(undefer(Grid.boundary))
                                   .where(Grid.parent_id == grid.id, visible(scope, Grid)).order_by(Grid.code)).all()
        return MapArea(grid, list(children))
    if scope.is_all:
        roots = select(Grid).options(undefer(Grid.boundary)).where(Grid.parent_id.is_(None))
    else:
        roots = select(Grid).options(undefer(Grid.boundary)).where(visible(scope, Grid), Grid.level == "community")
    return MapArea(None, list(session.scalars(roots.order_by(Grid.code))))


def _child_of(area: MapArea, base):
    """The id of the child of ``area`` that ``base`` lies in (NULL outside them): the path's id at
    the children's depth, so the roll-up is a hash join whatever the number of base grids. None
    when the children are not all at one depth (a department's communities)."""
    if area.grid is not None:
        return _path_ids(base.path)[len(str(area.grid.path).split(".")) + 1]
    if all(child.parent_id is None for child in area.children):
        return _path_ids(base.path)[1]
    return None


def _counted(scope: Scope, area: MapArea) -> Scope:
    """Whose incidents are counted: what the grid sees, when the scope sees all of that (a grid
    inside a grid scope, anything for everything); else the scope's own (a department's)."""
    if area.grid is not None and (scope.is_all or scope.kind == "grid"):
        return Scope("grid", grid_id=area.grid.id, grid_path=str(area.grid.path))
    return scope


def _by_child(session: Session, area: MapArea, base_query, measures: int) -> dict[int, tuple]:
    """A query of (base grid id, measures…) summed per child of the area."""
    per_grid = base_query.subquery()
    base = aliased(Grid)
    key, *columns = list(per_grid.c)
    sums = [func.sum(column) for column in columns[:measures]]
    child = _child_of(area, base)
    ids = [c.id for c in area.children]
    if child is None:  # children at several depths: each base grid's ancestors among them
        group = aliased(Grid)
        child = group.id
        query = (select(child, *sums).select_from(per_grid).join(base, base.id == key)
                 .join(group, group.id == any_(_path_ids(base.path))).where(group.id.in_(ids)))
    else:
        query = select(child, *sums).select_from(per_grid).join(base, base.id == key)
    wanted = set(ids)
    return {row[0]: tuple(row[1:]) for row in session.execute(query.group_by(child)) if row[0] in wanted}


def _open_per_base_grid(counted: Scope):
    """Open and overdue incidents per base grid, read from the open incidents' index (a few
    thousand in a city) rather than from everything the scope has ever seen."""
    overdue = Incident.deadline < func.now()
    return (select(Incident.grid_id, func.count(), func.count().filter(overdue))
            .where(Incident.status.in_(OPEN_STATUSES), visible(counted, Incident))
            .group_by(Incident.grid_id))


def children_figures(session: Session, scope: Scope, area: MapArea) -> dict[int, dict]:
    """Per child: received, resolved, open, overdue and completion rate (None with nothing
    received), over the incidents the scope sees under it."""
    if not area.children:
        return {}
    counted = _counted(scope, area)
    received = _by_child(session, area, per_base_grid(counted, None, None), 5)
    open_ = _by_child(session, area, _open_per_base_grid(counted), 2)
    result = {}
    for child in area.children:
        row = figure_row(child.id, child.name, *received.get(child.id, (0, 0, 0, 0, 0)))
        still_open, overdue = open_.get(child.id, (0, 0))
        result[child.id] = {"received": row.received, "resolved": row.resolved, "open": int(still_open),
                            "overdue": int(overdue), "completion_rate": row.completion_rate}
    return result


def pins(session: Session, scope: Scope, area: MapArea, limit: int = PIN_LIMIT) -> tuple[list, bool]:
    """The newest ``limit`` located incidents under the area that the scope sees, and whether
    there were more."""
    located = and_(Incident.latitude.is_not(None), Incident.longitude.is_not(None))
    columns = (Incident.id, Incident.title, Incident.status, Incident.latitude, Incident.longitude,
               and_(Incident.status.in_(OPEN_STATUSES), Incident.deadline < func.now()))
    counted = _counted(scope, area)
    if counted.kind == "grid":  # the grid's incidents newest first, from its scope rows' index
        seen = incident_scopes.c
        query = (select(*columns).select_from(incident_scopes).join(Incident, Incident.id == seen.incident_id)
                 .where(seen.grid_id == counted.grid_id, located).order_by(seen.incident_id.desc()))
    else:
        query = select(*columns).where(visible(counted, Incident), located).order_by(Incident.id.desc())
    rows = session.execute(query.limit(limit + 1)).all()
    return rows[:limit], len(rows) > limit


def _feature(geometry, properties: dict, key=None) -> dict:
    feature = {"type": "Feature", "geometry": geometry, "properties": properties}
    if key is not None:
        feature["id"] = key
    return feature


def grid_map(session: Session, scope: Scope, grid_id=None, *, limit: int = PIN_LIMIT) -> dict:
    """The map of a grid (or of the scope's top) as GeoJSON: ``grid`` (its outline, or None),
    ``children`` (a FeatureCollection with each child's figures), ``pins`` (a FeatureCollection
    of incidents), ``capped`` (more incidents than ``limit`` were located there) and ``up`` (the
    parent's id, when the scope sees it). ``OutOfScope`` for a grid the scope does not see."""
    where = area(session, scope, grid_id)
    figures = children_figures(session, scope, where)
    with_children = set(session.scalars(
        select(Grid.parent_id).where(Grid.parent_id.in_([c.id for c in where.children])).distinct())) \
        if where.children else set()
    children = [_feature(child.boundary, {"id": child.id, "name": child.name, "code": child.code,
                                          "level": child.level, "has_children": child.id in with_children,
                                          **figures[child.id]}, child.id)
                for child in where.children]
    rows, capped = pins(session, scope, where, limit)
    located = [_feature({"type": "Point", "coordinates": [float(longitude), float(latitude)]},
                        {"id": key, "title": title, "status": status, "overdue": bool(overdue)}, key)
               for key, title, status, latitude, longitude, overdue in rows]
    grid = where.grid
    up = grid.parent_id if grid is not None and is_visible(session, scope, Grid, grid.parent_id) else None
    return {
        "grid": None if grid is None else _feature(grid.boundary, {"id": grid.id, "name": grid.name, "code": grid.code,
                                                                   "level": grid.level}, grid.id),
        "children": {"type": "FeatureCollection", "features": children},
        "pins": {"type": "FeatureCollection", "features": located},
        "capped": capped,
        "limit": limit,
        "up": up,
    }


def outline(session: Session, scope: Scope, grid_id) -> dict | None:
    """A grid's outline (a GeoJSON geometry, or None when it has none): the report form's map.
    ``OutOfScope`` for a grid the scope does not see."""
    return get_visible(session, scope, Grid, grid_id).boundary
