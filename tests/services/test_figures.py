"""Incident figures against hand-counted fixtures."""
from __future__ import annotations


import pytest
from sqlalchemy import select, text

from app.models import Department, Grid
from app.services import figures
from app.services import incidents
from app.services.scope import EVERYTHING, Scope, grid_scope

from .test_incidents import actor, new_incident


def row(rows, label):
    return next(r for r in rows if r.label == label)


def resolved_late(session):
    """A new incident of the worker's block, resolved after its deadline."""
    late = new_incident(session, title="迟办结")
    worker = actor(session, "worker")
    incidents.act(session, worker, late.id, "accept")
    incidents.act(session, worker, late.id, "handle")
    session.execute(text("UPDATE incidents SET deadline = now() - interval '1 hour' WHERE id = :id"), {"id": late.id})
    session.commit()
    incidents.act(session, worker, late.id, "resolve", note="处理完毕")
    return late


def test_community_figures_by_hand(session):
    # The demo gives 湘江社区 five incidents: two closed (rated 5 and 5), one reopened (rated 2),
    # one in progress, one reported. Add one resolved late and one closed on time, rated 3.
    resolved_late(session)
    worker = actor(session, "worker")
    on_time = new_incident(session, title="按时办结")
    for action, kw in (("accept", {}), ("handle", {}), ("resolve", {"note": "好了"})):
        incidents.act(session, worker, on_time.id, action, **kw)
    incidents.act(session, actor(session, "secretary"), on_time.id, "rate", rating=3)

    xiangjiang = row(figures.figures(session, EVERYTHING, "community"), "湘江社区")
    assert xiangjiang.received == 7
    assert xiangjiang.resolved == 4  # 2 demo closed + late (resolved) + on time (closed)
    assert xiangjiang.completion_rate == pytest.approx(4 / 7)
    assert xiangjiang.on_time == 3 and xiangjiang.on_time_rate == pytest.approx(3 / 4)
    assert xiangjiang.rated == 4 and xiangjiang.average_rating == pytest.approx((5 + 5 + 2 + 3) / 4)
    assert xiangjiang.open_whistles == 0


def test_street_department_month_and_scope(session):
    rows = figures.figures(session, EVERYTHING, "street")
    assert {r.label for r in rows} == {"九州路街道", "金山街道"}
    assert sum(r.received for r in rows) == 12  # every demo incident lies under one of the two streets
    departments = figures.figures(session, EVERYTHING, "department")
    assert [(r.label, r.received) for r in departments] == [("淇滨区市政工程处", 1)]
    months = figures.figures(session, EVERYTHING, "month")
    assert sum(r.received for r in months) == 12
    secretary2 = grid_scope(session, session.scalar(select(Grid.id).where(Grid.code == "410611002001")))
    assert {r.label for r in figures.figures(session, secretary2, "community")} == {"金山社区"}
    totals = figures.totals(session, secretary2)
    assert totals.received == row(figures.figures(session, EVERYTHING, "community"), "金山社区").received


def test_open_whistles_are_counted_per_community(session):
    from .test_whistles import blow, street_incident

    blow(session, street_incident(session))
    xiangjiang = row(figures.figures(session, EVERYTHING, "community"), "湘江社区")
    assert xiangjiang.open_whistles == 1
    assert row(figures.figures(session, EVERYTHING, "community"), "嵩山社区").open_whistles == 0
    assert figures.totals(session, EVERYTHING).open_whistles == 2  # with the demo's whistle in 金山街道
    assert row(figures.figures(session, EVERYTHING, "community"), "泰山社区").open_whistles == 1


@pytest.mark.parametrize("by", ["community", "street", "district"])
def test_the_tallied_figures_equal_the_incidents_counted_one_by_one(session, by):
    """All-time figures are read from the tallies; over a period (here: since 1970) they are
    counted from the incidents. Both must agree, for everything and for a street, also for an
    incident held by a grid it was not reported under."""
    import datetime

    resolved_late(session)
    elsewhere = new_incident(session, title="别处代管")
    session.execute(text("UPDATE incidents SET holder_grid_id = (SELECT id FROM grids WHERE code = '410611002001') "
                         "WHERE id = :id"), {"id": elsewhere.id})
    session.commit()
    street = grid_scope(session, session.scalar(select(Grid.id).where(Grid.code == "410611001")))
    since = datetime.date(1970, 1, 1)
    for scope in (EVERYTHING, street):
        tallied = figures.figures(session, scope, by)
        counted = figures.figures(session, scope, by, since=since)
        assert tallied and [vars(r) for r in tallied] == [vars(r) for r in counted]


def test_districts_add_up_their_streets_and_are_the_default_over_several(session):
    district = row(figures.figures(session, EVERYTHING, "district"), "淇滨区")
    streets = figures.figures(session, EVERYTHING, "street")
    assert district.received == sum(r.received for r in streets) == figures.totals(session, EVERYTHING).received
    assert district.resolved == sum(r.resolved for r in streets)
    assert district.open_whistles == figures.totals(session, EVERYTHING).open_whistles
    street = grid_scope(session, session.scalar(select(Grid.id).where(Grid.code == "410611001")))
    assert [(r.label, r.received) for r in figures.figures(session, street, "district")] == [
        ("淇滨区", row(streets, "九州路街道").received)]
    # one district: by community; a second district (a city's): by district, for everything and
    # for a department (summoned from any district), not for a grid scope
    department = Scope("department", department_id=session.scalar(select(Department.id).order_by(Department.id)))
    assert figures.default_grouping(session, EVERYTHING) == figures.default_grouping(session, department) == "community"
    session.add(Grid(code="410602", name="鹤山区", level="district", kind="comprehensive"))
    session.commit()
    assert figures.default_grouping(session, EVERYTHING) == figures.default_grouping(session, department) == "district"
    assert figures.default_grouping(session, street) == "community"
