"""The grid map: the demo's outlines nest, the children's figures match the figures page and a count
by hand, the pins stay in the scope and are capped."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy_utils import Ltree

from app.models import Department, Grid, Incident
from app.models.choices import OPEN_STATUSES
from app.services import figures, maps
from app.services.errors import OutOfScope
from app.services.scope import EVERYTHING, Scope, grid_scope
from seed.boundaries import box_of

from ..views.helpers import JINSHAN, XIANGJIANG, grid_id


def inside(inner, outer) -> bool:
    return outer[0] <= inner[0] < inner[2] <= outer[2] and outer[1] <= inner[1] < inner[3] <= outer[3]


def overlap(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def check_nesting(grids) -> None:
    """Every grid has an outline inside its parent's, apart from its siblings'."""
    boxes = {g.id: box_of(g.boundary) for g in grids}
    siblings: dict = {}
    for g in grids:
        if g.parent_id is not None:
            assert inside(boxes[g.id], boxes[g.parent_id]), g.code
        siblings.setdefault(g.parent_id, []).append(g.id)
    for ids in siblings.values():
        for i, a in enumerate(ids):
            for b in ids[i + 1:]:
                assert not overlap(boxes[a], boxes[b]), (a, b)


def test_demo_outlines_nest_around_hebi(session):
    grids = session.scalars(select(Grid)).all()
    assert all(g.boundary and g.boundary["type"] == "Polygon" for g in grids)
    check_nesting(grids)
    west, south, east, north = box_of(next(g for g in grids if g.parent_id is None).boundary)
    assert west < 114.29 < east and south < 35.74 < north
    located_inside_their_grids(session)


def located_inside_their_grids(session) -> None:
    """Every incident has a location inside its grid's outline (the demo's and the generators')."""
    rows = session.execute(select(Incident.latitude, Incident.longitude, Grid.boundary)
                           .join(Grid, Grid.id == Incident.grid_id)).all()
    assert rows
    for latitude, longitude, boundary in rows:
        box = box_of(boundary)
        assert box[1] < float(latitude) < box[3] and box[0] < float(longitude) < box[2]


def open_under(session, code, overdue=False):
    path = session.scalar(select(Grid.path).where(Grid.code == code))
    query = (select(func.count()).select_from(Incident).join(Grid, Grid.id == Incident.grid_id)
             .where(Grid.path.descendant_of(path), Incident.status.in_(OPEN_STATUSES)))
    if overdue:
        query = query.where(Incident.deadline < func.now())
    return session.scalar(query)


def test_children_figures_match_the_figures_page_and_a_count_by_hand(session):
    data = maps.grid_map(session, EVERYTHING, grid_id(session, "410611"))
    streets = {f["properties"]["code"]: f["properties"] for f in data["children"]["features"]}
    assert set(streets) == {"410611001", "410611002"}
    by_street = {row.label: row for row in figures.figures(session, EVERYTHING, "street")}
    for code, properties in streets.items():
        row = by_street[properties["name"]]
        assert (properties["received"], properties["resolved"]) == (row.received, row.resolved)
        assert properties["completion_rate"] == row.completion_rate
        assert properties["open"] == open_under(session, code) > 0
        assert properties["overdue"] == open_under(session, code, overdue=True)
        assert properties["has_children"]
    assert streets["410611001"]["overdue"] == 1  # the demo's overdue door lock in 滨河小区
    assert data["grid"]["geometry"]["type"] == "Polygon" and data["up"] is None


def test_a_community_map_for_its_secretary(session):
    community = grid_id(session, XIANGJIANG)
    scope = grid_scope(session, community)
    data = maps.grid_map(session, scope, community)
    blocks = {f["properties"]["code"]: f["properties"] for f in data["children"]["features"]}
    assert set(blocks) == {XIANGJIANG + "-01", XIANGJIANG + "-02"}
    assert sum(b["received"] for b in blocks.values()) == figures.totals(session, scope).received == 5
    assert data["up"] is None  # her street is outside her scope
    # pins: all hers, each inside her community
    path = session.scalar(select(Grid.path).where(Grid.id == community))
    ids = [f["id"] for f in data["pins"]["features"]]
    assert len(ids) == 5 and not data["capped"]
    inside_ids = session.scalars(select(Incident.id).join(Grid, Grid.id == Incident.grid_id)
                                 .where(Incident.id.in_(ids), Grid.path.descendant_of(Ltree(str(path))))).all()
    assert sorted(inside_ids) == sorted(ids)
    # a block one level down: its parent is in her scope
    block = maps.grid_map(session, scope, grid_id(session, XIANGJIANG + "-01"))
    assert block["up"] == community
    with pytest.raises(OutOfScope):
        maps.grid_map(session, scope, grid_id(session, JINSHAN))
    with pytest.raises(OutOfScope):
        maps.outline(session, scope, grid_id(session, JINSHAN))


def test_pins_are_capped_newest_first(session):
    data = maps.grid_map(session, EVERYTHING, grid_id(session, "410611"), limit=3)
    ids = [f["id"] for f in data["pins"]["features"]]
    newest = session.scalars(select(Incident.id).order_by(Incident.id.desc()).limit(3)).all()
    assert ids == newest and data["capped"]
    # without a grid, everything: the district is the only root
    top = maps.grid_map(session, EVERYTHING)
    assert top["grid"] is None and [f["properties"]["code"] for f in top["children"]["features"]] == ["410611"]
    assert top["children"]["features"][0]["properties"]["received"] == figures.totals(session, EVERYTHING).received


def test_a_department_sees_only_its_incidents(session):
    unit = session.scalar(select(Department).where(Department.name == "淇滨区教育局"))  # paired with 金山社区
    scope = Scope("department", department_id=unit.id)
    top = maps.grid_map(session, scope)
    assert [f["properties"]["code"] for f in top["children"]["features"]] == [JINSHAN]
    assert top["pins"]["features"] == [] and top["children"]["features"][0]["properties"]["received"] == 0
    with pytest.raises(OutOfScope):
        maps.grid_map(session, scope, grid_id(session, XIANGJIANG))


def test_nothing_for_no_scope(session):
    with pytest.raises(OutOfScope):
        maps.grid_map(session, Scope("none"), grid_id(session, "410611"))
