"""巡查日志 and 打卡: the distance of hand-made tracks, impossible jumps, points resent after a lost
signal, one patrol under way at a time (two starts at once), one clock-in a day, the rule per
district and who fell short of it in a week, and an incident or visit linked to the patrol."""
from __future__ import annotations

import datetime
import math
import threading

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.orm import Session

from app.models import AuditEntry, ClockIn, Grid, GridgovUser, Incident, Patrol, PatrolRule, Resident, Worker
from app.services import incidents, patrols, residents
from app.services.errors import Conflict, DomainError, OutOfScope, ValidationError
from app.services.local_time import TIMEZONE, local_today

from .test_incidents import BLOCK, actor, category, grid

# 0.001° of latitude (or of longitude on the equator) on a sphere of 6,371,000 m:
# 6,371,000 × 0.001 × π / 180 = 111.19508… m
STEP_M = 6_371_000 * 0.001 * math.pi / 180


def track(steps, seconds_apart=60, lat=35.0, lon=114.3):
    """A walk north, one 0.001° step every ``seconds_apart`` seconds: (lats, lons, seconds)."""
    return ([lat + 0.001 * i for i in range(steps + 1)], [lon] * (steps + 1),
            [i * seconds_apart for i in range(steps + 1)])


def as_points(patrol, lats, lons, seconds, acc=10):
    start_ms = patrol.started_at.timestamp() * 1000
    return [{"lat": a, "lon": o, "t": start_ms + s * 1000, "acc": acc} for a, o, s in zip(lats, lons, seconds)]


def worker_row(session, username="worker") -> Worker:
    return session.scalar(select(Worker).join(GridgovUser, GridgovUser.worker_id == Worker.id)
                          .where(GridgovUser.username == username))


# --- distance and jumps --------------------------------------------------------------------
def test_the_haversine_of_hand_made_stretches():
    assert patrols.haversine_m(35.0, 114.3, 35.001, 114.3) == pytest.approx(111.195, abs=0.001)
    assert patrols.haversine_m(0.0, 0.0, 0.0, 0.001) == pytest.approx(111.195, abs=0.001)
    # a degree of longitude at 60° north is half as long: cos 60° = 0.5
    assert patrols.haversine_m(60.0, 10.0, 60.0, 10.002) == pytest.approx(111.195, abs=0.01)
    # Beijing (39.9042, 116.4074) to Shanghai (31.2304, 121.4737): 1,067.3 km on the sphere
    assert patrols.haversine_m(39.9042, 116.4074, 31.2304, 121.4737) == pytest.approx(1_067_300, rel=0.001)


def test_a_walk_of_ten_steps_measures_ten_steps_and_its_time():
    lats, lons, seconds = track(10)
    found = patrols.measure(lats, lons, seconds, max_speed=12)
    assert found.distance_m == pytest.approx(10 * STEP_M, abs=0.01)  # 1,111.95 m
    assert (found.duration_s, found.jumps, found.fastest_jump) == (600, 0, None)


def test_an_impossible_jump_is_left_out_and_counted():
    # 5 steps of 111 m a minute (1.9 m/s), then 0.01° (1,111.95 m) in 10 s (111 m/s), then 2 more steps
    lats, lons, seconds = track(5)
    lats += [lats[-1] + 0.01, lats[-1] + 0.011, lats[-1] + 0.012]
    lons += [114.3] * 3
    seconds += [310, 370, 430]
    found = patrols.measure(lats, lons, seconds, max_speed=12)
    assert found.jumps == 1
    assert found.fastest_jump == pytest.approx(111.195, abs=0.01)
    assert found.distance_m == pytest.approx(7 * STEP_M, abs=0.01)
    assert found.duration_s == 430
    # the same stretch under a looser bound (a district that allows 200 m/s) counts
    assert patrols.measure(lats, lons, seconds, max_speed=200).distance_m == pytest.approx(17 * STEP_M, abs=0.01)


def test_a_stretch_of_no_time_that_moved_is_a_jump_and_one_that_stood_still_is_not():
    found = patrols.measure([35.0, 35.001, 35.001], [114.3] * 3, [0, 0, 0], max_speed=12)
    assert (found.jumps, found.distance_m) == (1, 0)


# --- patrolling through the service ----------------------------------------------------------
def started_minutes_ago(session, worker, minutes=30):
    """A patrol started ``minutes`` ago (a track's points are never later than now)."""
    patrol = patrols.start(session, worker)
    session.execute(text("UPDATE patrols SET started_at = started_at - make_interval(mins => :m) WHERE id = :id"),
                    {"id": patrol.id, "m": minutes})
    session.commit()
    session.refresh(patrol)
    return patrol


def test_a_patrol_started_fed_and_stopped_counts_its_track(session):
    worker = actor(session, "worker")
    patrol = started_minutes_ago(session, worker)
    assert patrol.worker_id == worker_row(session).id and patrol.grid_id == worker_row(session).grid_id
    lats, lons, seconds = track(10, seconds_apart=60)
    patrols.add_points(session, worker, patrol.id, as_points(patrol, lats[:4], lons[:4], seconds[:4]))
    patrols.stop(session, worker, patrol.id, as_points(patrol, lats[4:], lons[4:], seconds[4:]))
    session.refresh(patrol)
    assert patrol.ended_at is not None and patrol.ended_at >= patrol.started_at
    assert (patrol.distance_m, patrol.duration_s, patrol.jumps, patrol.points) == (1112, 600, 0, 11)


def test_a_track_too_fast_for_the_district_is_flagged_not_counted(session):
    worker = actor(session, "worker")
    patrol = started_minutes_ago(session, worker)
    lats, lons, seconds = track(3, seconds_apart=5)  # 111 m in 5 s = 22 m/s: beyond the default 12 m/s
    _, added = patrols.add_points(session, worker, patrol.id, as_points(patrol, lats, lons, seconds))
    assert added == 4
    assert (patrol.jumps, patrol.distance_m, patrol.duration_s, patrol.flagged) == (3, 0, 15, True)
    assert float(patrol.fastest_jump) == pytest.approx(22.2, abs=0.05)


def test_points_sent_again_after_a_lost_signal_are_stored_once(session):
    worker = actor(session, "worker")
    patrol = started_minutes_ago(session, worker)
    lats, lons, seconds = track(6)
    points = as_points(patrol, lats, lons, seconds)
    patrols.add_points(session, worker, patrol.id, points[:3])
    # the phone lost the answer and sends everything it holds again, shuffled, with a duplicate
    _, added = patrols.add_points(session, worker, patrol.id, list(reversed(points)) + points[:2])
    assert added == 4
    _, added = patrols.add_points(session, worker, patrol.id, points)
    assert added == 0
    session.refresh(patrol)
    assert patrol.seconds == seconds and patrol.latitudes == lats
    assert patrol.distance_m == round(6 * STEP_M)


def test_points_that_are_not_points_are_refused_and_change_nothing(session):
    worker = actor(session, "worker")
    patrol = patrols.start(session, worker)
    good = as_points(patrol, *track(1))
    for bad in ("nonsense", [1, 2], [{"lat": 91, "lon": 114, "t": good[0]["t"]}], [{"lat": "x", "lon": 1, "t": 1}],
                [{"lat": float("nan"), "lon": 114, "t": good[0]["t"]}], [{"lat": True, "lon": 114, "t": 1}]):
        with pytest.raises(ValidationError):
            patrols.add_points(session, worker, patrol.id, good + bad if isinstance(bad, list) else bad)
    session.refresh(patrol)
    assert patrol.seconds == []
    # imprecise points, points from before the start and from the far future are left out, quietly
    start_ms = patrol.started_at.timestamp() * 1000
    _, added = patrols.add_points(session, worker, patrol.id, [
        {"lat": 35, "lon": 114, "t": start_ms + 1000, "acc": 500}, {"lat": 35, "lon": 114, "t": start_ms - 60_000},
        {"lat": 35, "lon": 114, "t": start_ms + 86_400_000}])
    assert added == 0


def test_only_the_worker_who_walks_it_feeds_or_stops_a_patrol(session):
    patrol = patrols.start(session, actor(session, "worker"))
    for other in ("secretary", "admin"):
        with pytest.raises(OutOfScope):
            patrols.add_points(session, actor(session, other), patrol.id, [])
        with pytest.raises(OutOfScope):
            patrols.stop(session, actor(session, other), patrol.id)
    with pytest.raises(ValidationError):  # a login that is no worker cannot patrol
        patrols.start(session, actor(session, "secretary"))


def test_a_stopped_patrol_takes_late_points_from_before_its_end_only(session):
    worker = actor(session, "worker")
    patrol = started_minutes_ago(session, worker, 20)
    patrols.stop(session, worker, patrol.id)
    with pytest.raises(Conflict):
        patrols.stop(session, worker, patrol.id)
    points = as_points(patrol, *track(5))  # 5 minutes of walk, all before the end
    late = {"lat": 36, "lon": 114.3, "t": patrol.ended_at.timestamp() * 1000 + 60_000, "acc": 5}
    _, added = patrols.add_points(session, worker, patrol.id, points + [late])
    assert added == 6


def test_one_patrol_under_way_at_a_time_even_when_started_twice_at_once(session, pg_server):
    from tests.conftest import TEST_DB, normalise_url

    engine = create_engine(normalise_url(pg_server.get_uri(TEST_DB)))
    user_id = session.scalar(select(GridgovUser.id).where(GridgovUser.username == "worker"))
    barrier = threading.Barrier(4)
    outcomes = []

    def start():
        with Session(engine) as own:
            user = own.get(GridgovUser, user_id)
            me = incidents.actor_from_user(own, user)
            barrier.wait()
            try:
                outcomes.append(patrols.start(own, me).id)
            except DomainError as error:
                outcomes.append(str(error))

    threads = [threading.Thread(target=start) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    engine.dispose()
    assert sum(isinstance(outcome, int) for outcome in outcomes) == 1, outcomes
    assert len(outcomes) == 4
    assert session.scalar(text("SELECT count(*) FROM patrols WHERE ended_at IS NULL")) == 1
    with pytest.raises(DomainError):
        patrols.start(session, actor(session, "worker"))


def test_the_database_refuses_a_track_whose_arrays_differ_or_leave_the_globe(session):
    worker = worker_row(session)
    for lats, lons, seconds in (([35.0, 35.1], [114.0], [0, 5]), ([95.0], [114.0], [0]), ([35.0], [190.0], [0])):
        session.add(Patrol(worker_id=worker.id, grid_id=worker.grid_id, latitudes=lats, longitudes=lons,
                           seconds=seconds))
        with pytest.raises(Exception):
            session.flush()
        session.rollback()


# --- clocking in -----------------------------------------------------------------------------
def test_a_worker_clocks_in_once_a_day_and_needs_a_place(session):
    worker = actor(session, "worker")
    with pytest.raises(ValidationError):
        patrols.clock_in(session, worker, None, None)
    with pytest.raises(ValidationError):
        patrols.clock_in(session, worker, "35.7", "nonsense")
    entry = patrols.clock_in(session, worker, "35.74", 114.29, 12.5)
    assert entry.day == local_today() and entry.accuracy_m == 12
    with pytest.raises(Conflict):
        patrols.clock_in(session, worker, 35.74, 114.29)
    assert session.scalar(select(ClockIn.id).where(ClockIn.worker_id == worker_row(session).id)) == entry.id


def test_the_audit_trail_keeps_no_track_and_no_place(session):
    worker = actor(session, "worker")
    patrol = started_minutes_ago(session, worker)
    entries = select(AuditEntry.changes).where(AuditEntry.table_name.in_(("patrols", "clock_ins")))
    before = len(session.scalars(entries).all())
    patrols.add_points(session, worker, patrol.id, as_points(patrol, *track(3)))
    assert len(session.scalars(entries).all()) == before  # the points wrote none
    patrols.stop(session, worker, patrol.id)
    patrols.clock_in(session, worker, 35.74123, 114.29456)
    changes = session.scalars(entries).all()
    assert len(changes) == before + 2  # the stop and the clock-in
    written = str(changes)
    assert "35.74123" not in written and "114.29456" not in written and "35.001" not in written
    assert "latitudes" not in written and "seconds" not in written


# --- incidents and visits made on a patrol ---------------------------------------------------------
def test_an_incident_reported_and_a_visit_recorded_on_a_patrol_are_linked_to_it(session):
    worker = actor(session, "worker")
    patrol = patrols.start(session, worker)
    incident = incidents.report(session, worker, incidents.Report(
        grid_id=grid(session, BLOCK + "-01").id, category_id=category(session).id, title="路灯不亮"))
    assert incident.patrol_id == patrol.id
    resident = session.scalar(select(Resident).where(Resident.grid_id == grid(session, BLOCK + "-01").id,
                                                     Resident.moved_out.is_(None)).order_by(Resident.id))
    visit = residents.record_visit(session, worker, residents.VisitData(resident_id=resident.id, found="身体尚好"))
    assert visit.patrol_id == patrol.id
    patrols.stop(session, worker, patrol.id)
    after = incidents.report(session, worker, incidents.Report(
        grid_id=grid(session, BLOCK + "-01").id, category_id=category(session).id, title="井盖缺失"))
    assert after.patrol_id is None
    # someone else's report is not linked to the worker's patrol
    again = patrols.start(session, worker)
    theirs = incidents.report(session, actor(session, "secretary"), incidents.Report(
        grid_id=grid(session, BLOCK + "-01").id, category_id=category(session).id, title="占道经营"))
    assert theirs.patrol_id is None and again.id != patrol.id


# --- the rule and who met it -----------------------------------------------------------------
def past_patrol(session, worker, day, minutes, metres, jumps=0, hour=8):
    started = datetime.datetime.combine(day, datetime.time(hour), TIMEZONE)
    patrol = Patrol(worker_id=worker.id, grid_id=worker.grid_id, started_at=started,
                    ended_at=started + datetime.timedelta(minutes=minutes), latitudes=[], longitudes=[], seconds=[],
                    distance_m=metres, duration_s=minutes * 60, jumps=jumps)
    session.add(patrol)
    session.flush()
    return patrol


def test_the_rule_of_a_district_is_its_own_or_the_default(session):
    district = session.scalar(select(Grid).where(Grid.parent_id.is_(None)))
    assert patrols.rule_for(session, district) == patrols.Rule(2, 60, 1000, 12.0)
    session.add(PatrolRule(district_id=district.id, min_patrols=1, min_minutes=30, min_metres=500, max_speed=8))
    session.commit()
    block = grid(session, BLOCK)
    assert patrols.rule_for(session, block) == patrols.Rule(1, 30, 500, 8.0)
    with pytest.raises(ValidationError):
        patrols.check_rule(session, PatrolRule(district_id=block.id, min_patrols=2, min_minutes=60, min_metres=1000,
                                               max_speed=12))
    with pytest.raises(ValidationError):
        patrols.check_rule(session, PatrolRule(district_id=district.id, min_patrols=2, min_minutes=60,
                                               min_metres=1000, max_speed=12))
    with pytest.raises(ValidationError):
        patrols.check_rule(session, PatrolRule(min_patrols=0, min_minutes=60, min_metres=1000, max_speed=12))


def test_the_database_keeps_the_default_rule(session):
    """Whatever path writes the table: the default can be neither deleted nor given a district."""
    from sqlalchemy.exc import IntegrityError

    district = session.scalar(select(Grid).where(Grid.parent_id.is_(None)))
    default = session.scalar(select(PatrolRule).where(PatrolRule.district_id.is_(None)))
    for statement in (f"DELETE FROM patrol_rules WHERE id = {default.id}",
                      f"UPDATE patrol_rules SET district_id = {district.id} WHERE id = {default.id}"):
        with pytest.raises(IntegrityError) as refused:
            session.execute(text(statement))
        assert refused.value.orig.diag.constraint_name == "patrol_rules_default_kept"
        session.rollback()
    session.execute(text(f"UPDATE patrol_rules SET min_patrols = 3 WHERE id = {default.id}"))  # its figures change
    session.commit()
    assert patrols.rule_for(session, district).min_patrols == 3


def test_each_day_of_a_worker_is_met_or_not_by_the_rule(session):
    worker = worker_row(session)
    monday = patrols.week_of(local_today())[0] - datetime.timedelta(days=7)
    tuesday, wednesday, thursday = (monday + datetime.timedelta(days=n) for n in (1, 2, 3))
    past_patrol(session, worker, monday, 61, 1200)
    past_patrol(session, worker, monday, 60, 1000, hour=15)            # exactly the minimum: counted
    past_patrol(session, worker, tuesday, 90, 3000)
    past_patrol(session, worker, tuesday, 59, 3000, hour=15)           # a minute short: not counted
    past_patrol(session, worker, wednesday, 70, 999)                   # a metre short
    past_patrol(session, worker, wednesday, 70, 1500, hour=14)
    past_patrol(session, worker, wednesday, 70, 1500, jumps=2, hour=18)  # flagged, counted on what remains
    session.add(ClockIn(worker_id=worker.id, grid_id=worker.grid_id, latitude=35.7, longitude=114.3,
                        clocked_at=datetime.datetime.combine(monday, datetime.time(7, 55), TIMEZONE)))
    session.commit()
    days = patrols.worker_days(session, worker, monday, thursday)
    assert [(d.day, d.patrols, d.counted, d.flagged, d.met, d.clocked_in) for d in days] == [
        (monday, 2, 2, 0, True, True), (tuesday, 2, 1, 0, False, False), (wednesday, 3, 2, 1, True, False),
        (thursday, 0, 0, 0, False, False)]
    assert days[0].metres == 2200 and days[0].minutes == 121


def test_who_fell_short_in_a_week_per_area(session):
    me = worker_row(session)
    block = grid(session, BLOCK)
    others = session.scalars(select(Worker).join(Grid, Worker.grid_id == Grid.id)
                             .where(Grid.path.descendant_of(block.path), Worker.id != me.id)).all()
    monday, sunday = patrols.week_of(local_today() - datetime.timedelta(days=7))
    for offset in range(7):  # the demo worker meets the rule every day but Friday
        day = monday + datetime.timedelta(days=offset)
        past_patrol(session, me, day, 65, 1100)
        if offset != 4:
            past_patrol(session, me, day, 65, 1100, hour=16)
    session.commit()
    short = patrols.shortfalls(session, block, monday, sunday)
    mine = next(row for row in short if row.worker_id == me.id)
    assert (mine.days, mine.days_short, mine.patrols, mine.counted, mine.clock_ins) == (7, 1, 13, 13, 0)
    # the block's other workers (its leader, its buildings' workers) patrolled not at all: seven days short each
    assert {row.worker_id for row in short} == {me.id} | {worker.id for worker in others}
    assert all(row.days_short == 7 for row in short if row.worker_id != me.id)
    # a whole community: the same worker among the community's other workers
    community = session.get(Grid, block.parent_id)
    assert me.id in {row.worker_id for row in patrols.shortfalls(session, community, monday, sunday)}
    # another street's community does not list him
    jinshan = grid(session, "410611002001")
    assert me.id not in {row.worker_id for row in patrols.shortfalls(session, jinshan, monday, sunday)}
    # the Friday made good: he falls short no more
    past_patrol(session, me, monday + datetime.timedelta(days=4), 65, 1100, hour=19)
    session.commit()
    assert me.id not in {row.worker_id for row in patrols.shortfalls(session, block, monday, sunday)}


def test_only_ended_days_count_in_the_current_week():
    today = datetime.date(2026, 12, 3)  # a Thursday
    monday, sunday = patrols.week_of(today)
    assert (monday, sunday) == (datetime.date(2026, 11, 30), datetime.date(2026, 12, 6))
    assert patrols.counted_days(monday, sunday, today) == (monday, datetime.date(2026, 12, 2))


def test_a_login_is_a_worker_of_its_own_grid(session):
    from app.services.users import check_user_worker

    me = worker_row(session)
    block = grid(session, BLOCK)
    check_user_worker(block, me)
    check_user_worker(grid(session, "410611001001"), me)  # a community login: a worker under it
    with pytest.raises(ValidationError):
        check_user_worker(grid(session, "410611002001"), me)  # another street's community
    with pytest.raises(ValidationError):
        check_user_worker(None, me)  # a login without a grid is no worker
    check_user_worker(block, None)


def test_a_patrol_stopped_more_than_a_day_ago_takes_no_late_points(session):
    """Found attacking issue 29: a patrol stopped with no track could be filled in days later (a
    fabricated walk inside its start and end), changing a past week's compliance."""
    worker = actor(session, "worker")
    patrol = started_minutes_ago(session, worker, 70)
    patrols.stop(session, worker, patrol.id)
    session.execute(text("UPDATE patrols SET started_at = started_at - interval '2 days', "
                         "ended_at = ended_at - interval '2 days' WHERE id = :id"), {"id": patrol.id})
    session.commit()
    session.refresh(patrol)
    with pytest.raises(Conflict):
        patrols.add_points(session, worker, patrol.id, as_points(patrol, *track(5)))
    session.refresh(patrol)
    assert (patrol.points, patrol.distance_m) == (0, 0)


def test_clocking_in_twice_at_once_keeps_one_clock_in(session, pg_server):
    """Found attacking issue 29 (held): two taps of 打卡 at once, the day's unique key decides."""
    from tests.conftest import TEST_DB, normalise_url

    engine = create_engine(normalise_url(pg_server.get_uri(TEST_DB)))
    user_id = session.scalar(select(GridgovUser.id).where(GridgovUser.username == "worker"))
    barrier = threading.Barrier(4)
    outcomes = []

    def clock_in():
        with Session(engine) as own:
            me = incidents.actor_from_user(own, own.get(GridgovUser, user_id))
            barrier.wait()
            try:
                outcomes.append(patrols.clock_in(own, me, "35.7461", "114.2951", "9").id)
            except DomainError as error:
                outcomes.append(str(error))

    threads = [threading.Thread(target=clock_in) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    engine.dispose()
    assert sum(isinstance(outcome, int) for outcome in outcomes) == 1, outcomes
    assert len(outcomes) == 4 and all(isinstance(o, int) or "打卡" in o or "clocked in" in o for o in outcomes), outcomes
    assert session.scalar(text("SELECT count(*) FROM clock_ins")) == 1


@pytest.mark.parametrize(("workers", "short", "share"), [
    (300, 1, 99), (200, 1, 99), (300, 299, 1), (300, 300, 0), (300, 0, 100), (4, 1, 75), (3, 1, 67), (0, 0, 0)])
def test_an_areas_share_met_is_100_only_when_all_met_and_0_only_when_none_did(workers, short, share):
    assert patrols.AreaFigures("1.2", workers, short).share_met == share
