"""考核: a worker's, a community's and a department's month score on hand-counted fixtures, the
weights changing it, a past month frozen once (later data and concurrent first readers leave it
as it was), adjustments beside it and append-only, and who may read which score."""
from __future__ import annotations

import datetime
import threading
from decimal import Decimal

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from app.models import (AssessmentAdjustment, AssessmentScore, AssessmentWeights, ClockIn, Department, Grid,
                        GridgovUser, Incident, IncidentCategory, Patrol, Resident, TrainingRecord, Visit, Whistle,
                        WhistleSummons, Worker)
from app.services import assessment
from app.services.errors import OutOfScope, ValidationError
from app.services.local_time import TIMEZONE
from app.services.scope import Scope, grid_scope

JUNE = datetime.date(2026, 6, 1)
STREET = "410611001"  # 九州路街道


def at(day, hour=9, minute=0):
    return datetime.datetime(2026, 6, day, hour, minute, tzinfo=TIMEZONE) if isinstance(day, int) else \
        datetime.datetime.combine(day, datetime.time(hour, minute), TIMEZONE)


@pytest.fixture
def area(session):
    """A community of its own (考核社区) with one block, its grid worker and the worker's login;
    nothing else of the demo lies in it."""
    street = session.scalar(select(Grid).where(Grid.code == STREET))
    community = Grid(code=STREET + "009", name="考核社区", level="community", parent=street)
    session.add(community)
    session.flush()
    block = Grid(code=STREET + "009-01", name="考核小区", level="block", parent=community)
    session.add(block)
    session.flush()
    worker = Worker(name="考核员", role="grid_worker", grid_id=block.id, phone="13900000001",
                    start_date=datetime.date(2020, 1, 1))
    session.add(worker)
    session.flush()
    user = GridgovUser(first_name="员", last_name="考核", username="assessed", email="assessed@example.org",
                       active=True, password="x", grid_id=block.id, worker_id=worker.id)
    session.add(user)
    session.commit()
    return {"community": community, "block": block, "worker": worker, "user": user, "street": street}


def incident(session, area, day, status, *, on_time=True, rating=None, **kw):
    category = session.scalar(select(IncidentCategory).order_by(IncidentCategory.id))
    created = at(day)
    deadline = created + datetime.timedelta(days=2)
    resolved = (created + datetime.timedelta(days=1 if on_time else 3)) if status in ("resolved", "closed") else None
    row = Incident(source="patrol", category_id=category.id, urgency="normal", title="楼道堆物", grid_id=area["block"].id,
                   status=status, level="grid", holder_grid_id=area["block"].id,
                   handler_worker_id=area["worker"].id, created_by_id=area["user"].id, created_at=created,
                   deadline=deadline, resolved_at=resolved, rating=rating,
                   closed_at=resolved + datetime.timedelta(hours=1) if status == "closed" else None, **kw)
    session.add(row)
    session.flush()
    return row


def patrol(session, area, day, minutes=70, metres=1200, hour=8):
    started = at(day, hour)
    session.add(Patrol(worker_id=area["worker"].id, grid_id=area["block"].id, started_at=started,
                       ended_at=started + datetime.timedelta(minutes=minutes), latitudes=[], longitudes=[], seconds=[],
                       distance_m=metres, duration_s=minutes * 60, jumps=0))


def resident(session, area, name, last_visited=None):
    row = Resident(name=name, residence_status="overseas", grid_id=area["block"].id, tags=["elderly_alone"],
                   last_visited_at=last_visited)
    session.add(row)
    session.flush()
    return row


@pytest.fixture
def june(session, area):
    """The worker's June, counted by hand (the weights are the default: 25/15/15/15/10/10/10):

    - patrols: the rule (2 a day of 60 min and 1,000 m) met on June 1–3; on June 4 one patrol of
      two is too short: 3 of 30 days → 10.00
    - reported: 5 incidents against the target of 10 → 50.00
    - handled: 4 of the 5 resolved, 3 of them by the deadline → 75.00; rated 5 and 4 → 4.5 → 90.00
    - visits: one resident due visited in June, one due since May 31 not visited → 50.00
    - training: 20 hours by June against 70 × 6/12 = 35 → 57.14 (July's 30 hours do not count)
    - clock-ins: 6 of 30 days → 20.00
    score = (10×25 + 50×15 + 75×15 + 90×15 + 50×10 + 57.14×10 + 20×10) / 100 = 47.46
    The community: received 5, resolved 4 (80.00), on time 3 of 4 (75.00), 4.5 (90.00):
    (80×40 + 75×30 + 90×30) / 100 = 81.50."""
    for day in (1, 2, 3):
        patrol(session, area, day, hour=8)
        patrol(session, area, day, hour=14)
    patrol(session, area, 4, hour=8)
    patrol(session, area, 4, minutes=30, hour=14)
    for day in range(1, 7):
        session.add(ClockIn(worker_id=area["worker"].id, grid_id=area["block"].id, clocked_at=at(day, 7),
                            latitude=35.7, longitude=114.3))
    incident(session, area, 2, "closed", rating=5)
    incident(session, area, 3, "closed", rating=4)
    incident(session, area, 5, "resolved")
    incident(session, area, 8, "resolved", on_time=False)
    incident(session, area, 9, "in_progress")
    visited = resident(session, area, "走访甲")
    resident(session, area, "走访乙", last_visited=datetime.datetime(2026, 5, 1, 10, tzinfo=TIMEZONE))
    session.add(Visit(resident_id=visited.id, grid_id=area["block"].id, visitor_id=area["user"].id,
                      visited_at=at(10), method="home", found="身体良好"))
    session.add(TrainingRecord(worker_id=area["worker"].id, date=datetime.date(2026, 3, 1), course="业务培训",
                               hours=Decimal(20)))
    session.add(TrainingRecord(worker_id=area["worker"].id, date=datetime.date(2026, 7, 1), course="调解实务",
                               hours=Decimal(30)))
    session.commit()
    return area


@pytest.fixture
def department(session, area):
    """A department's June, by hand: three whistles; reported in by the deadline once of three
    (33.33), result by the deadline once of three (33.33), rated 4 and 2 (3 → 60.00):
    (33.33×40 + 33.33×30 + 60×30) / 100 = 41.33."""
    dept = Department(name="考核测试局", kind="functional")
    session.add(dept)
    session.flush()
    for blown_day, reported, result, rating in ((5, at(5, 15), at(6, 8), 4), (10, at(12), at(13), 2),
                                                (20, None, None, None)):
        blown = at(blown_day)
        whistle = Whistle(level="street", grid_id=area["street"].id, reason="联合处置", status="open",
                          blown_by_name="街道干部", blown_at=blown, deadline=blown + datetime.timedelta(days=1))
        session.add(whistle)
        session.flush()
        session.add(WhistleSummons(whistle_id=whistle.id, department_id=dept.id, reported_at=reported,
                                   result="已处置" if result else None, result_at=result, rating=rating))
    session.commit()
    return dept


def one(rows, subject_id):
    return next(row for row in rows if row.subject_id == subject_id)


# --- the score on hand-counted fixtures ------------------------------------------------------
def test_a_workers_june_counted_by_hand(session, june):
    row = one(assessment.compute(session, "worker", JUNE, path=str(june["community"].path)), june["worker"].id)
    values = {name: figure["value"] for name, figure in row.figures.items()}
    assert values == {"patrol": 10.0, "reported": 50.0, "on_time": 75.0, "satisfaction": 90.0, "visits": 50.0,
                      "training": 57.14, "clock_in": 20.0}
    assert row.figures["patrol"]["days_met"] == 3 and row.figures["patrol"]["days"] == 30
    assert row.figures["visits"] == {"value": 50.0, "made": 1, "due": 2}
    assert row.score == Decimal("47.46")


def test_a_communitys_june_counted_by_hand(session, june):
    row = one(assessment.compute(session, "community", JUNE, path=str(june["street"].path)), june["community"].id)
    assert {name: figure["value"] for name, figure in row.figures.items()} == {
        "area_completion": 80.0, "area_on_time": 75.0, "area_satisfaction": 90.0}
    assert row.score == Decimal("81.50")


def test_a_departments_june_counted_by_hand(session, department):
    row = one(assessment.compute(session, "department", JUNE), department.id)
    assert {name: figure["value"] for name, figure in row.figures.items()} == {
        "report_in": 33.33, "result": 33.33, "rating": 60.0}
    assert row.score == Decimal("41.33")


def test_a_subject_with_nothing_to_measure_is_scored_on_what_it_has(session, area):
    """A month without incidents, visits or patrol days: the indicators with something to measure
    make the score; a department never summoned has no score at all."""
    row = one(assessment.compute(session, "worker", JUNE, subject_id=area["worker"].id), area["worker"].id)
    assert row.figures["on_time"]["value"] is None and row.figures["satisfaction"]["value"] is None
    # patrol 0, reported 0, training 0, clock-in 0 (weights 25, 15, 10, 10): 0
    assert row.score == Decimal("0.00")
    quiet = Department(name="无哨部门", kind="functional")
    session.add(quiet)
    session.commit()
    assert one(assessment.compute(session, "department", JUNE), quiet.id).score is None


def test_the_weights_change_the_score(session, june):
    weights = session.scalar(select(AssessmentWeights).where(AssessmentWeights.district_id.is_(None)))
    weights.patrol = weights.visits = 0
    session.commit()
    row = one(assessment.compute(session, "worker", JUNE, subject_id=june["worker"].id), june["worker"].id)
    # (50×15 + 75×15 + 90×15 + 57.14×10 + 20×10) / 65 = 3996.4 / 65 = 61.48
    assert row.score == Decimal("61.48")
    # a district's own weights are its, not the default's
    district = session.scalar(select(Grid).where(Grid.parent_id.is_(None)))
    session.add(AssessmentWeights(district_id=district.id, patrol=100, reported=0, on_time=0, satisfaction=0,
                                  visits=0, training=0, clock_in=0, area_completion=1, area_on_time=0,
                                  area_satisfaction=0, report_in=1, result=0, rating=0, reports_target=10))
    session.commit()
    row = one(assessment.compute(session, "worker", JUNE, subject_id=june["worker"].id), june["worker"].id)
    assert row.score == Decimal("10.00")


def test_the_database_keeps_the_weights_in_bounds_and_the_default(session):
    default = session.scalar(select(AssessmentWeights).where(AssessmentWeights.district_id.is_(None)))
    for statement in ("UPDATE assessment_weights SET patrol = 101", "UPDATE assessment_weights SET patrol = -1",
                      "UPDATE assessment_weights SET area_completion = 0, area_on_time = 0, area_satisfaction = 0",
                      f"DELETE FROM assessment_weights WHERE id = {default.id}",
                      "INSERT INTO assessment_weights (district_id, patrol, reported, on_time, satisfaction, visits, "
                      "training, clock_in, area_completion, area_on_time, area_satisfaction, report_in, result, "
                      "rating, reports_target) SELECT id, 1,1,1,1,1,1,1,1,1,1,1,1,1,10 FROM grids "
                      "WHERE level = 'street' LIMIT 1"):
        with pytest.raises(DBAPIError):
            session.execute(text(statement))
        session.rollback()
    with pytest.raises(ValidationError):
        assessment.check_weights_delete(session, default)


# --- freezing ---------------------------------------------------------------------------------
def test_a_past_month_is_frozen_once_and_later_data_does_not_change_it(session, june):
    assert assessment.freeze(session, JUNE) > 0
    assert assessment.freeze(session, JUNE) == 0
    frozen = session.scalar(select(AssessmentScore).where(AssessmentScore.kind == "worker",
                                                          AssessmentScore.subject_id == june["worker"].id))
    assert frozen.score == Decimal("47.46") and frozen.month == JUNE
    assert frozen.weights["patrol"] == 25 and frozen.figures["clock_in"]["days_clocked"] == 6
    # a clock-in added to June afterwards changes the computation, not the frozen score
    session.add(ClockIn(worker_id=june["worker"].id, grid_id=june["block"].id, clocked_at=at(20, 7),
                        latitude=35.7, longitude=114.3))
    session.commit()
    assert one(assessment.compute(session, "worker", JUNE, subject_id=june["worker"].id),
               june["worker"].id).score != Decimal("47.46")
    viewer = assessment.Viewer(grid_scope(session, june["community"].id), ranks=True)
    ranking = assessment.ranking(session, viewer, "worker", JUNE)
    assert not ranking.live
    assert one(ranking.rows, june["worker"].id).adjusted == Decimal("47.46")
    with pytest.raises(DBAPIError):
        session.execute(text("UPDATE assessment_scores SET score = 99 WHERE id = :id"), {"id": frozen.id})
    session.rollback()
    with pytest.raises(DBAPIError):
        session.execute(text("DELETE FROM assessment_scores WHERE id = :id"), {"id": frozen.id})
    session.rollback()


def test_the_current_month_is_live_and_never_frozen(session, area):
    this_month = assessment.current_month()
    with pytest.raises(ValidationError):
        assessment.freeze(session, this_month)
    viewer = assessment.Viewer(grid_scope(session, area["community"].id), ranks=True)
    ranking = assessment.ranking(session, viewer, "worker", this_month)
    assert ranking.live and [row.subject_id for row in ranking.rows] == [area["worker"].id]
    assert session.scalar(select(AssessmentScore.id).where(AssessmentScore.month == this_month)) is None


def test_two_first_readers_at_once_freeze_the_month_once(session, june, pg_server):
    from tests.conftest import TEST_DB, normalise_url

    engine = create_engine(normalise_url(pg_server.get_uri(TEST_DB)))
    barrier = threading.Barrier(4)
    written, errors = [], []

    def first_view():
        with Session(engine) as own:
            barrier.wait()
            try:
                written.append(assessment.freeze(own, JUNE))
            except Exception as error:  # noqa: BLE001 - reported by the assertion below
                errors.append(repr(error))

    threads = [threading.Thread(target=first_view) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    engine.dispose()
    stored = session.scalar(text("SELECT count(*) FROM assessment_scores WHERE month = :m"), {"m": JUNE})
    assert errors == []
    assert sorted(written)[:3] == [0, 0, 0] and sum(written) == stored > 0


def test_an_adjustment_shows_beside_the_score_and_is_append_only(session, june):
    assessment.freeze(session, JUNE)
    score = session.scalar(select(AssessmentScore).where(AssessmentScore.kind == "worker",
                                                         AssessmentScore.subject_id == june["worker"].id))
    street = assessment.Viewer(grid_scope(session, june["street"].id), ranks=True)
    for delta, reason in (("5", "  "), ("0", "无"), ("101", "太多"), ("abc", "不是数"), ("1.005", "三位小数")):
        with pytest.raises(ValidationError):
            assessment.adjust(session, street, None, "街道干部", score.id, delta, reason)
    assert session.scalar(select(AssessmentAdjustment.id)) is None
    assessment.adjust(session, street, None, "街道干部", score.id, "2.5", "防汛突击表现突出")
    detail = assessment.detail(session, street, "worker", june["worker"].id, JUNE)
    assert detail.row.score == Decimal("47.46") and detail.row.adjustment == Decimal("2.5")
    assert detail.row.adjusted == Decimal("49.96")
    assert [a.reason for a in detail.adjustments] == ["防汛突击表现突出"]
    for statement in ("UPDATE assessment_adjustments SET delta = 50", "DELETE FROM assessment_adjustments"):
        with pytest.raises(DBAPIError):
            session.execute(text(statement))
        session.rollback()
    # a secretary of another street cannot adjust (nor see) it
    other = session.scalar(select(Grid).where(Grid.code == "410611002001"))
    with pytest.raises(OutOfScope):
        assessment.adjust(session, assessment.Viewer(grid_scope(session, other.id), ranks=True), None, "书记",
                          score.id, "1", "理由")


# --- who reads which score ----------------------------------------------------------------------
def test_who_reads_which_score(session, june, department):
    worker_id, community_id = june["worker"].id, june["community"].id
    other = session.scalar(select(Grid).where(Grid.code == "410611002001"))
    outsider = assessment.Viewer(grid_scope(session, other.id), ranks=True)
    with pytest.raises(OutOfScope):
        assessment.check_subject(session, outsider, "worker", worker_id)
    with pytest.raises(OutOfScope):
        assessment.check_subject(session, outsider, "community", community_id)
    with pytest.raises(OutOfScope):
        assessment.area_in_scope(session, outsider, june["block"].id)
    # the worker reads their own score, not a colleague's, and no ranking
    me = assessment.Viewer(grid_scope(session, june["block"].id), worker_id=worker_id, ranks=False)
    assert assessment.check_subject(session, me, "worker", worker_id)[0] == worker_id
    colleague = session.scalar(select(Worker.id).where(Worker.id != worker_id, Worker.role == "grid_worker"))
    with pytest.raises(OutOfScope):
        assessment.check_subject(session, me, "worker", colleague)
    with pytest.raises(OutOfScope):
        assessment.ranking(session, me, "worker", JUNE)
    # a department reads its own score only; a street officer does not rank departments
    own = assessment.Viewer(Scope("department", department_id=department.id), ranks=True)
    assert [r.subject_id for r in assessment.ranking(session, own, "department", JUNE).rows] == [department.id]
    with pytest.raises(OutOfScope):
        assessment.check_subject(session, own, "worker", worker_id)
    street = assessment.Viewer(grid_scope(session, june["street"].id), ranks=True)
    with pytest.raises(OutOfScope):
        assessment.ranking(session, street, "department", JUNE)
    # a volunteer reads nothing
    volunteer = assessment.Viewer(Scope("volunteer", volunteer_id=1), ranks=False)
    with pytest.raises(OutOfScope):
        assessment.check_subject(session, volunteer, "worker", worker_id)


def test_bad_months_and_years_are_refused():
    for value in ("2026-13", "2026-00", "26-01", "1999-12", "abc", "2999-01"):
        with pytest.raises(ValidationError):
            assessment.parse_month(value)
    assert assessment.parse_month("2026-06") == JUNE
    for value in ("1999", "x", "3000"):
        with pytest.raises(ValidationError):
            assessment.parse_year(value)


# --- the year and the honour roll ----------------------------------------------------------------
def test_the_year_summary_and_the_honour_roll(session, june):
    viewer = assessment.Viewer(grid_scope(session, june["community"].id), ranks=True)
    summary = assessment.year_summary(session, viewer, "worker", 2026)
    row = next(r for r in summary["rows"] if r.subject_id == june["worker"].id)
    assert row.months[6].adjusted == Decimal("47.46")
    # the months from the first one anything was recorded in (the fixture's June), the current one live
    first = assessment.first_month(session)
    assert first <= JUNE
    assert set(row.months) == set(range(first.month, assessment.current_month().month + 1))
    roll = assessment.worker_honour_roll(session, grid_scope(session, june["community"].id), 2026)
    board = roll["communities"][(june["community"].id, "考核社区")]
    assert [entry.worker_id for entry in board] == [june["worker"].id]
    # the average of the ended months (the frozen ones), the current month not counted
    frozen = session.scalars(select(AssessmentScore.score).where(AssessmentScore.kind == "worker",
                                                                  AssessmentScore.subject_id == june["worker"].id)).all()
    assert board[0].months == len(frozen) == assessment.current_month().month - first.month
    assert board[0].average == (sum(frozen) / len(frozen)).quantize(Decimal("0.01"))
    assert row.average == board[0].average  # the year's average is of the ended months too


def test_a_freeze_is_one_entry_of_the_audit_trail_and_an_adjustment_one_more(session, june):
    written = assessment.freeze(session, JUNE)
    entries = session.execute(text("SELECT table_name, action, changes FROM audit_entries "
                                   "WHERE table_name LIKE 'assessment%' ORDER BY id")).all()
    assert entries == [("assessment_scores", "load", {"rows": written})]
    score = session.scalar(select(AssessmentScore.id).where(AssessmentScore.month == JUNE,
                                                            AssessmentScore.kind == "community",
                                                            AssessmentScore.subject_id == june["community"].id))
    assessment.adjust(session, assessment.Viewer(grid_scope(session, june["street"].id), ranks=True), None, "街道干部",
                      score, "-1", "数据核减")
    assert session.scalar(text("SELECT count(*) FROM audit_entries WHERE table_name = 'assessment_adjustments' "
                               "AND action = 'insert'")) == 1
