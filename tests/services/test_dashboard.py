"""The leader's dashboard against the hand-counted demo district, its drill-down and its scope,
and the monthly tallies (migration 0023) against the incidents they count."""
from __future__ import annotations

import datetime

import pytest
from sqlalchemy import text

from app.services import dashboard, incidents
from app.services.errors import OutOfScope
from app.services.local_time import TIMEZONE
from app.services.scope import EVERYTHING, Scope

from .test_incidents import BLOCK, actor, category, grid, new_incident

DISTRICT, JIUZHOU, JINSHAN_STREET = "410611", "410611001", "410611002"
XIANGJIANG, JINSHAN = "410611001001", "410611002001"

# The demo's twelve incidents (seed/demo.py INCIDENTS), all reported this month.
CATEGORIES = [("环境卫生", 3), ("公共服务", 2), ("城市管理", 2), ("安全隐患", 2), ("矛盾纠纷", 2), ("防汛应急", 1)]

# what incident_month_tallies must hold, derived from incidents alone (rows left at zero may stay)
DERIVED = """
    SELECT g, date_trunc('month', i.created_at AT TIME ZONE 'Asia/Shanghai')::date, i.category_id, count(*),
           count(*) FILTER (WHERE i.status IN ('resolved', 'closed'))
    FROM incidents i, unnest(i.scope_grid_ids) AS g GROUP BY 1, 2, 3"""
KEPT = ("SELECT grid_id, month, category_id, received, resolved FROM incident_month_tallies "
        "WHERE received <> 0 OR resolved <> 0")


def assert_tallied(session):
    session.flush()
    assert session.execute(text(f"{DERIVED} EXCEPT {KEPT}")).all() == []
    assert session.execute(text(f"{KEPT} EXCEPT {DERIVED}")).all() == []


def scope_of(session, username):
    return actor(session, username).scope


def test_the_leaders_district_by_hand(session):
    board = dashboard.dashboard(session, scope_of(session, "leader"))
    assert board.grid.code == DISTRICT and [g.code for g in board.trail] == [DISTRICT]
    assert (board.totals.received, board.totals.resolved) == (12, 4)
    assert board.overdue == 1  # 小区门禁损坏, past its deadline
    assert board.supervised == 0
    assert len(board.months) == 12 and board.months[0].month < board.months[-1].month
    assert [(m.received, m.resolved) for m in board.months] == [(0, 0)] * 11 + [(12, 4)]
    assert sorted(board.categories, key=lambda c: (-c[1], c[0])) == board.categories
    assert sorted(board.categories) == sorted(CATEGORIES)
    # the two streets ranked by completion rate: 九州路 3 of 8, 金山 1 of 4
    assert board.area_level == "street"
    assert [(a.label, a.received, a.resolved) for a in board.areas] == [("九州路街道", 8, 3), ("金山街道", 4, 1)]
    # three closed rated 5, and 绿化带垃圾 rated 2 (reopened)
    assert board.areas[0].on_time_rate == 1.0 and board.areas[0].average_rating == (5 + 5 + 5 + 2) / 4
    # the garage's whistle summons two departments; none is late (12 hours to go)
    # 应急管理局 sent its result: only 市政 is still waited for
    assert sorted((w.name, w.open, w.late) for w in board.whistles) == [("淇滨区市政工程处", 1, 0)]
    # the flood response over 金山街道, three grids checked in
    assert board.emergency.response.title == "金山街道防汛三级响应"
    assert board.emergency.totals.done == 3
    assert [(p.name, p.done) for p in board.emergency.areas] == [("金山街道", 3)]


def test_supervised_incidents_count_until_closed_and_only_in_their_area(session):
    incident = new_incident(session)
    incidents.oversee(session, actor(session, "street"), incident.id, "supervise", "列入督办")
    assert dashboard.dashboard(session, scope_of(session, "leader")).supervised == 1
    assert dashboard.dashboard(session, scope_of(session, "leader"), grid(session, JINSHAN).id).supervised == 0
    worker = actor(session, "worker")
    for action in ("accept", "handle"):
        incidents.act(session, worker, incident.id, action)
    incidents.act(session, worker, incident.id, "resolve", note="已处理")
    assert dashboard.dashboard(session, scope_of(session, "leader")).supervised == 1  # resolved, not yet closed
    incidents.act(session, actor(session, "secretary"), incident.id, "rate", rating=5)
    assert dashboard.dashboard(session, scope_of(session, "leader")).supervised == 0


def test_the_administrator_sees_the_single_district_as_the_leader_does(session):
    board = dashboard.dashboard(session, EVERYTHING)
    assert board.grid.code == DISTRICT and not board.several_roots
    assert (board.totals.received, board.totals.resolved, board.overdue) == (12, 4, 1)
    assert [a.label for a in board.areas] == ["九州路街道", "金山街道"]


def test_drill_down_into_a_community_and_a_block(session):
    street = scope_of(session, "street")
    board = dashboard.dashboard(session, street, grid(session, XIANGJIANG).id)
    assert [g.code for g in board.trail] == [JIUZHOU, XIANGJIANG]
    # 湘江社区: two closed, one reopened, one in progress, one reported
    assert (board.totals.received, board.totals.resolved, board.overdue) == (5, 2, 0)
    assert board.area_level == "block"
    assert sum(a.received for a in board.areas) == 5
    assert board.whistles == [] and board.emergency is None
    block = dashboard.dashboard(session, street, grid(session, BLOCK).id)
    assert block.area_level == "building" and [g.code for g in block.trail][-1] == BLOCK


def test_the_street_officer_sees_only_his_street(session):
    street = scope_of(session, "street")
    board = dashboard.dashboard(session, street)
    assert board.grid.code == JIUZHOU and [g.code for g in board.trail] == [JIUZHOU]
    assert (board.totals.received, board.overdue) == (8, 1)
    assert board.emergency is None  # the response is over 金山街道
    assert board.whistles == []
    for outside in (JINSHAN, DISTRICT, JINSHAN_STREET):
        with pytest.raises(OutOfScope):
            dashboard.dashboard(session, street, grid(session, outside).id)
    for garbage in ("abc", "-1", "99999999", "1e9", ""):
        with pytest.raises(OutOfScope):
            dashboard.dashboard(session, street, garbage)


def test_the_response_seen_from_a_community_of_its_street(session):
    board = dashboard.dashboard(session, scope_of(session, "leader"), grid(session, JINSHAN).id)
    assert board.emergency is not None and board.emergency.totals.done == 3
    assert board.emergency.totals.total > 3  # every grid of the community has a task
    # the block 410611002001-01 and its two buildings checked in: that block is done, the others wait
    assert [(p.grid_id, p.done, p.total) for p in board.emergency.areas if p.done] == [
        (grid(session, JINSHAN + "-01").id, 3, 3)]


@pytest.mark.parametrize("kind", [Scope("department", department_id=1), Scope("volunteer", volunteer_id=1),
                                  Scope("none")])
def test_no_dashboard_outside_a_grid(session, kind):
    with pytest.raises(OutOfScope):
        dashboard.dashboard(session, kind)


def test_months_and_categories_follow_the_incidents(session):
    assert_tallied(session)  # the demo, tallied by the migration or the triggers
    today = datetime.datetime.now(TIMEZONE).date()
    earlier = new_incident(session, title="两个月前的")
    old = new_incident(session, title="一年多以前的")
    session.execute(text("UPDATE incidents SET created_at = now() - interval '62 days' WHERE id = :id"), {"id": earlier.id})
    session.execute(text("UPDATE incidents SET created_at = now() - interval '400 days' WHERE id = :id"), {"id": old.id})
    assert_tallied(session)
    worker = actor(session, "worker")
    for action, kw in (("accept", {}), ("handle", {}), ("resolve", {"note": "好了"})):
        incidents.act(session, worker, earlier.id, action, **kw)
    session.execute(text("UPDATE incidents SET category_id = :c WHERE id = :id"),
                    {"c": category(session, "防汛应急").id, "id": earlier.id})
    assert_tallied(session)
    board = dashboard.dashboard(session, scope_of(session, "secretary"), today=today)
    month = {m.month: (m.received, m.resolved) for m in board.months}
    now = datetime.datetime.now(TIMEZONE)
    this_month = now.date().replace(day=1)
    then = (now - datetime.timedelta(days=62)).date().replace(day=1)
    assert month[this_month] == (5, 2)  # 湘江社区's five demo incidents
    assert month[then] == (1, 1)
    assert sum(r for r, _ in month.values()) == 6  # not the one of more than a year ago
    assert dict(board.categories)["防汛应急"] == 1
    assert board.totals.received == 7  # every time: the one of more than a year ago too
    session.execute(text("ALTER TABLE incident_events DISABLE TRIGGER USER"))
    session.execute(text("DELETE FROM incident_events WHERE incident_id = :id"), {"id": old.id})
    session.execute(text("DELETE FROM incidents WHERE id = :id"), {"id": old.id})
    assert_tallied(session)


def test_first_month():
    assert dashboard.first_month(datetime.date(2026, 12, 3)) == datetime.date(2026, 1, 1)
    assert dashboard.first_month(datetime.date(2026, 3, 31)) == datetime.date(2025, 4, 1)
    assert dashboard.first_month(datetime.date(2026, 3, 31), 1) == datetime.date(2026, 3, 1)
