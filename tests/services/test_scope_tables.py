"""The tables and columns PostgreSQL keeps for fast lists (migration 0007): ``incident_scopes``
mirrors every incident for every grid that sees it, whatever writes the incident, and a whistle
is seen by the grids above its blower and by those seeing one of its incidents."""
from __future__ import annotations

import datetime

import pytest
from sqlalchemy import func, select, text

from app.models import Department, Grid, Incident, IncidentEvent, Whistle, Worker
from app.services import figures
from app.services import incidents
from app.services import paging
from app.services.scope import EVERYTHING, Scope, grid_scope, visible

from .test_figures import resolved_late
from .test_incidents import BLOCK, actor, grid, new_incident
from .test_whistles import blow, department, street_incident

# what incident_scopes must hold, derived from incidents alone
DERIVED = """
    SELECT g, i.id, i.grid_id, i.status, i.category_id, i.resolved_at <= i.deadline, i.rating, i.created_at
    FROM incidents i, unnest(i.scope_grid_ids) AS g"""
KEPT = ("SELECT grid_id, incident_id, base_grid_id, status, category_id, on_time, rating, created_at "
        "FROM incident_scopes")


# what incident_tallies must hold (rows whose incidents all left may stay, at zero)
TALLIED = f"""
    SELECT g, base, count(*), count(*) FILTER (WHERE status IN ('resolved', 'closed')),
           count(*) FILTER (WHERE status IN ('resolved', 'closed') AND on_time), count(rating), coalesce(sum(rating), 0)
    FROM ({DERIVED}) AS derived (g, id, base, status, category, on_time, rating, created_at)
    GROUP BY g, base"""
TALLIES = ("SELECT grid_id, base_grid_id, received, resolved, on_time, rated, rating_sum "
           "FROM incident_tallies WHERE received <> 0 OR resolved <> 0 OR on_time <> 0 OR rated <> 0 OR rating_sum <> 0")


def assert_mirrored(session):
    session.flush()
    assert session.execute(text(f"{DERIVED} EXCEPT {KEPT}")).all() == []
    assert session.execute(text(f"{KEPT} EXCEPT {DERIVED}")).all() == []
    assert session.execute(text(f"{TALLIED} EXCEPT {TALLIES}")).all() == []
    assert session.execute(text(f"{TALLIES} EXCEPT {TALLIED}")).all() == []


def test_incident_scopes_follow_every_change_of_an_incident(session):
    assert_mirrored(session)  # the demo incidents, filled by the migration or the trigger
    incident = new_incident(session, code=BLOCK + "-01")
    assert session.scalar(text("SELECT count(*) FROM incident_scopes WHERE incident_id = :id"),
                          {"id": incident.id}) == len(str(grid(session, BLOCK + "-01").path).split("."))
    worker = actor(session, "worker")
    incidents.act(session, worker, incident.id, "escalate", note="需社区协调")
    secretary = actor(session, "secretary")
    incidents.act(session, secretary, incident.id, "accept")
    other_block = session.scalar(select(Grid).where(Grid.parent_id == incident.holder_grid_id, Grid.code != BLOCK)
                                 .order_by(Grid.code))
    incidents.act(session, secretary, incident.id, "assign",
                  worker_id=session.scalar(select(Worker.id).where(Worker.grid_id == other_block.id)))
    assert_mirrored(session)  # the other block's entry is there
    assert session.scalar(text("SELECT count(*) FROM incident_scopes WHERE incident_id = :id AND grid_id = :g"),
                          {"id": incident.id, "g": other_block.id}) == 1
    # a late resolution and a rating change the figures' columns
    session.execute(text("UPDATE incidents SET deadline = now() - interval '1 hour' WHERE id = :id"), {"id": incident.id})
    assert_mirrored(session)
    # moving a block moves its incidents' entries
    block = grid(session, BLOCK)
    block.parent_id = session.scalar(select(Grid.id).where(Grid.level == "community", Grid.id != block.parent_id)
                                     .order_by(Grid.code))
    session.flush()
    assert_mirrored(session)
    # an incident deleted (by hand: the app never does, its timeline is append-only) leaves its tallies
    session.execute(text("ALTER TABLE incident_events DISABLE TRIGGER USER"))
    session.execute(text("DELETE FROM incident_events WHERE incident_id = :id"), {"id": incident.id})
    session.execute(text("DELETE FROM incidents WHERE id = :id"), {"id": incident.id})
    assert_mirrored(session)


def test_closing_and_rating_reach_incident_scopes(session):
    incident = new_incident(session)
    worker = actor(session, "worker")
    for action, kw in (("accept", {}), ("handle", {}), ("resolve", {"note": "好了"})):
        incidents.act(session, worker, incident.id, action, **kw)
    incidents.act(session, actor(session, "secretary"), incident.id, "rate", rating=4)
    assert_mirrored(session)
    assert session.execute(text("SELECT DISTINCT status, on_time, rating FROM incident_scopes WHERE incident_id = :id"),
                           {"id": incident.id}).all() == [("closed", True, 4)]


@pytest.mark.parametrize("offset, limit", [(0, 3), (2, 3), (0, 100), (50, 5)])
def test_newest_page_is_the_general_query_read_from_the_index(session, offset, limit):
    for n in range(4):
        new_incident(session, title=f"事件{n}")
    community = grid_scope(session, grid(session, BLOCK).parent_id)
    expected = session.scalars(select(Incident.id).where(visible(community, Incident))
                               .order_by(Incident.id.desc()).offset(offset).limit(limit)).all()
    everything = session.scalar(select(func.count()).where(visible(community, Incident)))
    count, ids = paging.newest_incidents(session, community, offset, limit, cap=5)
    assert ids == expected
    assert count == min(everything, 6)  # counted up to the cap and one more
    assert paging.newest_incidents(session, EVERYTHING, 0, 10, cap=5) is None  # the general query serves it


def test_newest_page_of_a_status_and_category(session):
    closed = new_incident(session, title="已办结的")
    worker = actor(session, "worker")
    for action, kw in (("accept", {}), ("handle", {}), ("resolve", {"note": "好了"})):
        incidents.act(session, worker, closed.id, action, **kw)
    incidents.act(session, actor(session, "secretary"), closed.id, "rate", rating=5)
    community = grid_scope(session, grid(session, BLOCK).parent_id)
    for status, category_id in (("closed", closed.category_id), ("closed", None), (None, closed.category_id),
                                ("reported", closed.category_id), ("closed", closed.category_id + 1000)):
        conditions = [visible(community, Incident)]
        if status:
            conditions.append(Incident.status == status)
        if category_id:
            conditions.append(Incident.category_id == category_id)
        expected = session.scalars(select(Incident.id).where(*conditions).order_by(Incident.id.desc())).all()
        count, ids = paging.newest_incidents(session, community, 0, 100, cap=100, status=status, category_id=category_id)
        assert (count, ids) == (len(expected), expected)
    assert closed.id in paging.newest_incidents(session, community, 0, 100, 100, status="closed",
                                                category_id=closed.category_id)[1]


@pytest.mark.parametrize("offset, limit, cap", [(0, 2, 100), (2, 2, 100), (0, 2, 3), (4, 2, 3), (50, 5, 100)])
def test_a_keyword_page_is_the_general_query_in_one_pass(session, offset, limit, cap):
    """Matches counted up to the cap and paged newest first, whatever the scope; past the cap
    the page is still the newest of every match."""
    for n in range(6):
        new_incident(session, title=f"楼顶漏水{n}" if n % 2 == 0 else f"管道渗水{n}",
                     description="屋面漏水严重" if n == 1 else "待查")
    community = grid_scope(session, grid(session, BLOCK).parent_id)
    for scope in (community, EVERYTHING):
        for words, status in (("漏水", None), ("漏水 楼顶", None), ("漏水", "reported"), ("不存在的词", None)):
            conditions = [visible(scope, Incident), incidents.keyword_condition(words)]
            if status:
                conditions.append(Incident.status == status)
            everything = session.scalars(select(Incident.id).where(*conditions).order_by(Incident.id.desc())).all()
            count, ids = paging.newest_incidents(session, scope, offset, limit, cap, keywords=words, status=status)
            assert ids == everything[offset:offset + limit], (words, status)
            assert count == min(len(everything), cap + 1)
    assert paging.newest_incidents(session, EVERYTHING, 0, 10, cap, keywords="  ") is None  # no word: general query


# what a department must see, derived without the scope rule: what it holds and what it was
# summoned to by a whistle
DEPARTMENT_SEES = """
    SELECT id FROM incidents WHERE department_id = :d
    UNION SELECT wi.incident_id FROM whistle_incidents wi JOIN whistle_summonses ws USING (whistle_id)
          WHERE ws.department_id = :d"""


def hand_to(session, incident, department_id):
    session.execute(text("UPDATE incidents SET level = 'department', department_id = :d WHERE id = :id"),
                    {"d": department_id, "id": incident.id})


def test_a_department_sees_what_it_holds_and_what_it_was_summoned_to(session):
    """The department rule reads its summonses as one array beside its holdings (a BitmapOr at
    city size); its list counts and pages both through their indexes. Each must be exactly the
    incidents it holds or was summoned to, each once, and nothing else."""
    urban = department(session, "淇滨区城市管理局")
    works = department(session, "淇滨区市政工程处")
    held, summoned, both, elsewhere = (street_incident(session) for _ in range(4))
    hand_to(session, held, urban.id)
    blow(session, summoned, names=("淇滨区城市管理局",))
    blow(session, both, names=("淇滨区城市管理局", "淇滨区市政工程处"))
    hand_to(session, both, urban.id)
    blow(session, elsewhere, names=("淇滨区市政工程处",))
    idle = Department(name="淇滨区未被召集的局", kind="functional")
    session.add(idle)
    session.flush()
    for dept, mine, not_mine in ((urban, {held.id, summoned.id, both.id}, {elsewhere.id}),
                                 (works, {both.id, elsewhere.id}, {held.id, summoned.id}),
                                 (idle, set(), {held.id, summoned.id, both.id, elsewhere.id})):
        scope = Scope("department", department_id=dept.id)
        expected = sorted(session.scalars(text(DEPARTMENT_SEES), {"d": dept.id}), reverse=True)
        seen = session.scalars(select(Incident.id).where(visible(scope, Incident)).order_by(Incident.id.desc())).all()
        assert seen == expected, dept.name
        assert mine <= set(seen) and not (not_mine & set(seen)), dept.name
        for offset, limit, cap in ((0, 2, 100), (1, 2, 100), (0, 100, 1), (len(expected), 5, 100)):
            count, ids = paging.newest_incidents(session, scope, offset, limit, cap)
            assert ids == expected[offset:offset + limit], (dept.name, offset, limit)
            assert count == min(len(expected), cap + 1), dept.name
        # filtered, the general query serves the list
        assert paging.newest_incidents(session, scope, 0, 10, 100, status="closed") is None
        # the timeline of exactly those incidents
        events = set(session.scalars(select(IncidentEvent.incident_id).where(visible(scope, IncidentEvent))))
        assert events == set(expected)


def test_a_grid_scope_timeline_is_the_timeline_of_its_incidents(session):
    """A grid scope's timeline rule reads incident_scopes, the incidents' rule their array: the
    same incidents, whatever moved."""
    incident = new_incident(session, code=BLOCK + "-01")
    incidents.act(session, actor(session, "worker"), incident.id, "escalate", note="需社区协调")
    for grid_id in session.scalars(select(Grid.id).where(Grid.level.in_(("district", "street", "community", "block")))):
        scope = grid_scope(session, grid_id)
        expected = session.scalars(select(IncidentEvent.id).join(Incident, Incident.id == IncidentEvent.incident_id)
                                   .where(visible(scope, Incident)).order_by(IncidentEvent.id)).all()
        assert session.scalars(select(IncidentEvent.id).where(visible(scope, IncidentEvent))
                               .order_by(IncidentEvent.id)).all() == expected


def test_grid_scope_figures_from_incident_scopes_match_the_incidents(session):
    late = resolved_late(session)
    incidents.act(session, actor(session, "secretary"), late.id, "rate", rating=2)
    street = session.scalar(select(Grid).where(Grid.name == "九州路街道"))
    ever = datetime.date(2000, 1, 1)  # a period: counted from the entries and the incidents, not the tallies

    def table(scope, by, **period):
        return {r.label: vars(r) for r in figures.figures(session, scope, by, **period)}

    scoped = table(grid_scope(session, street.id), "community")
    assert scoped and scoped == table(grid_scope(session, street.id), "community", since=ever)
    general = table(EVERYTHING, "community")
    assert general == table(EVERYTHING, "community", since=ever)
    assert scoped == {label: row for label, row in general.items() if label in scoped}
    assert table(EVERYTHING, "street") == table(EVERYTHING, "street", since=ever)
    street_row = table(EVERYTHING, "street", since=ever)["九州路街道"]
    for scope, expected in ((grid_scope(session, street.id), street_row),
                            (EVERYTHING, {key: sum(row[key] for row in general.values())
                                          for key in ("received", "resolved", "on_time", "rated")})):
        totals = vars(figures.totals(session, scope))
        assert {key: totals[key] for key in ("received", "resolved", "on_time", "rated")} == \
            {key: expected[key] for key in ("received", "resolved", "on_time", "rated")}


def whistle_scope(session, whistle):
    return sorted(session.scalar(select(Whistle.scope_grid_ids).where(Whistle.id == whistle.id)))


def path_ids(grid_row):
    return [int(label) for label in str(grid_row.path).split(".")]


def test_a_whistle_is_seen_above_its_blower_and_by_those_seeing_its_incidents(session):
    incident = street_incident(session)
    whistle = blow(session, incident)
    session.flush()
    street = session.get(Grid, whistle.grid_id)
    building = session.get(Grid, incident.grid_id)
    assert whistle_scope(session, whistle) == sorted(set(path_ids(street)) | set(path_ids(building)))

    def sees(grid_id):
        return session.scalar(select(Whistle.id).where(
            Whistle.id == whistle.id, visible(grid_scope(session, grid_id), Whistle))) is not None

    block = grid(session, BLOCK)
    other_community = session.scalar(select(Grid).where(Grid.level == "community", Grid.parent_id != street.id)
                                     .order_by(Grid.code))
    assert sees(block.id) and sees(street.id) and not sees(other_community.id)
    # a hand-written value is replaced by the derived one
    session.execute(text("UPDATE whistles SET scope_grid_ids = '{}' WHERE id = :id"), {"id": whistle.id})
    assert whistle_scope(session, whistle) == sorted(set(path_ids(street)) | set(path_ids(building)))
    # the block moves to a community of another street: its users still see the whistle, and
    # so does that community now; the old community no longer does
    old_community = block.parent_id
    block.parent_id = other_community.id
    session.flush()
    session.expire_all()
    assert sees(block.id) and sees(other_community.id) and sees(street.id) and not sees(old_community)


def test_a_second_incident_widens_who_sees_the_whistle(session):
    incident = street_incident(session)
    whistle = blow(session, incident)
    elsewhere = session.scalar(select(Grid).where(Grid.level == "building", ~Grid.path.descendant_of(
        session.get(Grid, whistle.grid_id).path)).order_by(Grid.code))
    before = whistle_scope(session, whistle)
    session.execute(text("INSERT INTO whistle_incidents (whistle_id, incident_id) VALUES (:w, :i)"),
                    {"w": whistle.id, "i": new_incident(session, "admin", code=elsewhere.code).id})
    assert set(whistle_scope(session, whistle)) == set(before) | set(path_ids(elsewhere))
    session.execute(text("DELETE FROM whistle_incidents WHERE whistle_id = :w AND incident_id <> :i"),
                    {"w": whistle.id, "i": incident.id})
    assert whistle_scope(session, whistle) == before
