"""Points for grid workers and building leaders (services/worker_points.py, migration 0030): on a
hand-counted month, who met the patrol rule every day earns and who missed a day does not; a share
of the days; a worker who started mid-month; visits paid when due, under the cap; a community's
own rule in place of the district's; an award made twice, or at once, pays once; a worker's
redemption keeps the bank's invariants; the database's own checks; and a wish's claimer always
has an account to be paid into."""
from __future__ import annotations

import datetime

import pytest
from sqlalchemy import delete, insert, select, text, update
from sqlalchemy.exc import IntegrityError

from app.models import (Grid, GridgovUser, LedgerEntry, Patrol, PointsAccount, Resident, RewardItem, Visit, Volunteer,
                        Worker, WorkerPointsRule, worker_points_months)
from app.services import patrols, points, residents, worker_points
from app.services.errors import DomainError, ValidationError
from app.services.local_time import TIMEZONE
from app.services.scope import EVERYTHING, grid_scope

from .test_incidents import BLOCK, actor
from .test_points_concurrency import engine_for, run_at_once

FEB = datetime.date(2025, 2, 1)  # 28 days, long before the demo's visits and patrols
MARCH_TENTH = datetime.date(2025, 3, 10)  # a "today" in which February is the last month over
OTHER_COMMUNITY_BLOCK = "410611002001-01"  # in 金山社区


def grid_id(session, code) -> int:
    return session.scalar(select(Grid.id).where(Grid.code == code))


def demo_worker(session) -> Worker:
    return session.scalar(select(Worker).join(GridgovUser, GridgovUser.worker_id == Worker.id)
                          .where(GridgovUser.username == "worker"))


def new_worker(session, name, code=BLOCK, role="grid_worker", start=datetime.date(2020, 1, 1)) -> Worker:
    worker = Worker(name=name, role=role, grid_id=grid_id(session, code), phone="13900002222", start_date=start)
    session.add(worker)
    session.commit()
    return worker


def account(session, worker) -> PointsAccount:
    session.expire_all()
    return session.scalar(select(PointsAccount).where(PointsAccount.worker_id == worker.id))


def rule(session, name) -> WorkerPointsRule:
    return session.scalar(select(WorkerPointsRule).where(WorkerPointsRule.name == name))


def set_rule(session, name, **values):
    session.execute(update(WorkerPointsRule).where(WorkerPointsRule.name == name).values(**values))
    session.commit()


def patrol_days(session, worker, days, *, hour=8, minutes=60, metres=1200, per_day=2):
    """``per_day`` patrols of ``minutes`` and ``metres`` on each of ``days``, starting at ``hour``
    o'clock Beijing time."""
    rows = []
    for day in days:
        for n in range(per_day):
            start = datetime.datetime(day.year, day.month, day.day, hour + 2 * n, 0, tzinfo=TIMEZONE)
            rows.append({"worker_id": worker.id, "grid_id": worker.grid_id, "started_at": start,
                         "ended_at": start + datetime.timedelta(minutes=minutes), "distance_m": metres,
                         "duration_s": minutes * 60, "latitudes": [], "longitudes": [], "seconds": []})
    session.execute(insert(Patrol), rows)
    session.commit()


def days_of(month, *, but=()):
    after = worker_points.next_month(month)
    day, found = month, []
    while day < after:
        if day not in but:
            found.append(day)
        day += datetime.timedelta(days=1)
    return found


def awards(session, month=FEB) -> dict[int, list[tuple[str, int]]]:
    """account id → [(award, points)] of the month's workers' awards."""
    found: dict[int, list] = {}
    for account_id, award, amount in session.execute(
            select(LedgerEntry.account_id, WorkerPointsRule.award, LedgerEntry.amount)
            .join(WorkerPointsRule, WorkerPointsRule.id == LedgerEntry.worker_rule_id)
            .where(LedgerEntry.award_month == month).order_by(LedgerEntry.id)):
        found.setdefault(account_id, []).append((award, amount))
    return found


# --- 巡查达标奖励 ------------------------------------------------------------------------------
def test_who_met_the_patrol_rule_every_day_earns_and_who_missed_a_day_does_not(session):
    set_rule(session, "巡查达标奖励", min_share=100)  # every day of the month
    every_day, missed_one, short_one = demo_worker(session), new_worker(session, "缺一天"), new_worker(session, "差一分")
    patrol_days(session, every_day, days_of(FEB))                                       # 28 of 28
    patrol_days(session, missed_one, days_of(FEB, but={datetime.date(2025, 2, 14)}))    # 27 of 28
    patrol_days(session, short_one, days_of(FEB, but={datetime.date(2025, 2, 20)}))
    patrol_days(session, short_one, [datetime.date(2025, 2, 20)], minutes=59)           # too short: not counted
    # the compliance page's own count agrees
    assert sum(day.met for day in patrols.worker_days(session, missed_one, FEB, datetime.date(2025, 2, 28))) == 27
    assert sum(day.met for day in patrols.worker_days(session, short_one, FEB, datetime.date(2025, 2, 28))) == 27

    result = worker_points.award_month(session, FEB, today=MARCH_TENTH)
    assert (result.patrol_awards, result.visit_awards) == (1, 0)
    assert awards(session) == {account(session, every_day).id: [("patrol_month", 50)]}
    entry = session.scalar(select(LedgerEntry).where(LedgerEntry.award_month == FEB))
    assert entry.reason == "巡查达标奖励 2025-02 28/28" and entry.visit_id is None
    assert account(session, missed_one).balance == 0
    assert points.check_invariants(session) == []


def test_a_share_of_the_days_and_a_worker_who_started_mid_month(session):
    # the demo's rule: 90 % of the days. 26 of 28 is 92.9 %: earns; 25 of 28 is 89.3 %: does not
    two_off, three_off = new_worker(session, "两天未达标"), new_worker(session, "三天未达标")
    newcomer = new_worker(session, "新来的", role="building_leader", code=BLOCK + "-01", start=datetime.date(2025, 2, 15))
    patrol_days(session, two_off, days_of(FEB, but={datetime.date(2025, 2, d) for d in (3, 4)}))
    patrol_days(session, three_off, days_of(FEB, but={datetime.date(2025, 2, d) for d in (3, 4, 5)}))
    # a building leader who started on the 15th: 14 days counted, all met
    patrol_days(session, newcomer, [d for d in days_of(FEB) if d.day >= 15])
    worker_points.award_month(session, FEB, today=MARCH_TENTH)
    assert awards(session) == {account(session, two_off).id: [("patrol_month", 50)],
                               account(session, newcomer).id: [("patrol_month", 50)]}
    assert session.scalar(select(LedgerEntry.reason).where(LedgerEntry.account_id == account(session, newcomer).id)) \
        == "巡查达标奖励 2025-02 14/14"


def test_a_day_is_beijings_day(session):
    """Patrols started at 00:30 Beijing time on the 1st (16:30 UTC the day before) count on the 1st;
    started at 23:00 on the 28th, on the 28th."""
    set_rule(session, "巡查达标奖励", min_share=100)
    worker = demo_worker(session)
    patrol_days(session, worker, [datetime.date(2025, 2, 1)], hour=0)  # 00:00 and 02:00 on Feb 1st
    patrol_days(session, worker, [d for d in days_of(FEB) if 1 < d.day < 28])
    patrol_days(session, worker, [datetime.date(2025, 2, 28)], hour=21, per_day=1)
    patrol_days(session, worker, [datetime.date(2025, 2, 28)], hour=23, per_day=1)
    worker_points.award_month(session, FEB, today=MARCH_TENTH)
    assert awards(session) == {account(session, worker).id: [("patrol_month", 50)]}


def test_a_communitys_own_rule_replaces_the_districts_for_its_workers(session):
    xiangjiang = grid_id(session, "410611001001")
    session.add(WorkerPointsRule(name="湘江巡查奖", award="patrol_month", points=80, min_share=100,
                                 community_id=xiangjiang, active=True))
    session.commit()
    here, there = demo_worker(session), new_worker(session, "金山网格员", code=OTHER_COMMUNITY_BLOCK)
    patrol_days(session, here, days_of(FEB))
    patrol_days(session, there, days_of(FEB))
    worker_points.award_month(session, FEB, today=MARCH_TENTH)
    assert awards(session) == {account(session, here).id: [("patrol_month", 80)],
                               account(session, there).id: [("patrol_month", 50)]}


# --- 走访积分 --------------------------------------------------------------------------------
def visit(session, resident_id=None, household_id=None, on=datetime.date(2025, 2, 3), username="worker"):
    at = datetime.datetime(on.year, on.month, on.day, 10, 0, tzinfo=TIMEZONE)
    return residents.record_visit(session, actor(session, username), residents.VisitData(
        resident_id=resident_id, household_id=household_id, visited_at=at, method="home", found="身体状况良好"))


def block_residents(session, tagged: bool) -> list[Resident]:
    scope = actor(session, "worker").scope
    from app.services.scope import visible

    condition = Resident.tags != [] if tagged else Resident.tags == []
    return list(session.scalars(select(Resident).where(condition, visible(scope, Resident),
                                                       ~Resident.tags.overlap(["community_correction"]))
                                .order_by(Resident.id)))


def test_visits_made_when_due_are_paid_once_each_under_the_cap(session):
    first, second = block_residents(session, tagged=True)[:2]    # tags asking a visit every 30 days
    untagged = block_residents(session, tagged=False)[0]
    paid = [visit(session, first.id, on=datetime.date(2025, 2, 3)),      # first ever: due
            visit(session, second.id, on=datetime.date(2025, 2, 5))]     # first ever: due
    visit(session, first.id, on=datetime.date(2025, 2, 10))              # 7 days after the last: not due
    visit(session, untagged.id, on=datetime.date(2025, 2, 6))            # no care or attention: not counted
    visit(session, household_id=untagged.household_id, on=datetime.date(2025, 2, 7))  # a household: not counted
    visit(session, first.id, on=datetime.date(2025, 3, 11))              # 29 days after the last: not due
    visit(session, second.id, on=datetime.date(2025, 3, 7))              # 30 days after: due, but in March
    set_rule(session, "走访积分", monthly_cap=None)
    result = worker_points.award_month(session, FEB, today=MARCH_TENTH)
    worker = account(session, demo_worker(session))
    assert (result.patrol_awards, result.visit_awards) == (0, 2)
    assert awards(session) == {worker.id: [("visit_due", 5), ("visit_due", 5)]}
    assert set(session.scalars(select(LedgerEntry.visit_id).where(LedgerEntry.award_month == FEB))) == \
        {v.id for v in paid}
    # March: the visit 30 days after the one before is due
    worker_points.award_month(session, datetime.date(2025, 3, 1), today=datetime.date(2025, 4, 2))
    assert awards(session, datetime.date(2025, 3, 1)) == {worker.id: [("visit_due", 5)]}


def test_the_cap_pays_the_earliest_visits_and_holds_on_a_second_run(session):
    tagged = block_residents(session, tagged=True)
    assert len(tagged) == 2
    made = [visit(session, r.id, on=datetime.date(2025, 2, 5 - i)) for i, r in enumerate(tagged[:2])]
    set_rule(session, "走访积分", monthly_cap=1)
    worker_points.award_month(session, FEB, today=MARCH_TENTH)
    worker = account(session, demo_worker(session))
    # the earliest visit (the 4th) is paid, not the first recorded (the 5th)
    assert set(session.scalars(select(LedgerEntry.visit_id).where(LedgerEntry.award_month == FEB))) == {made[1].id}
    # a visit typed in late for February, and the award run again: the cap is already reached
    late = block_residents(session, tagged=False)[0]
    session.execute(update(Resident).where(Resident.id == late.id).values(tags=["elderly_alone"]))
    session.commit()
    visit(session, late.id, on=datetime.date(2025, 2, 20))
    assert worker_points.award_month(session, FEB, today=MARCH_TENTH).entries == 0
    assert account(session, demo_worker(session)).balance == worker.balance == 5
    # a paid visit is kept: the award refers to it (corrected by an adjustment, not by deleting it)
    with pytest.raises(IntegrityError):
        session.execute(delete(Visit).where(Visit.id == made[1].id))
        session.flush()
    session.rollback()


# --- once, whatever happens ------------------------------------------------------------------
def test_award_twice_pays_once(session):
    worker = demo_worker(session)
    patrol_days(session, worker, days_of(FEB))
    visit(session, block_residents(session, tagged=True)[0].id)
    first = worker_points.award_month(session, FEB, today=MARCH_TENTH)
    again = worker_points.award_month(session, FEB, today=MARCH_TENTH)
    assert (first.entries, again.entries) == (2, 0)
    assert account(session, worker).balance == 55
    assert session.execute(select(worker_points_months.c.month, worker_points_months.c.entries)).all() == [(FEB, 2)]
    assert points.check_invariants(session) == []


def test_concurrent_awards_pay_once(session):
    workers = [demo_worker(session)] + [new_worker(session, f"网格员{i}") for i in range(3)]
    for worker in workers:
        patrol_days(session, worker, days_of(FEB))
    tagged = block_residents(session, tagged=True)[:3]
    for i, resident in enumerate(tagged):
        visit(session, resident.id, on=datetime.date(2025, 2, 3 + i))
    set_rule(session, "走访积分", monthly_cap=2)
    engine = engine_for(session)
    outcomes = run_at_once(engine, lambda s, i: worker_points.award_month(s, FEB, today=MARCH_TENTH))
    engine.dispose()
    assert all(isinstance(o, worker_points.MonthAward) for o in outcomes), outcomes
    assert sum(o.patrol_awards for o in outcomes) == 4 and sum(o.visit_awards for o in outcomes) == 2
    assert {a: sorted(v) for a, v in awards(session).items()} == {
        account(session, workers[0]).id: [("patrol_month", 50), ("visit_due", 5), ("visit_due", 5)],
        **{account(session, w).id: [("patrol_month", 50)] for w in workers[1:]}}
    assert points.check_invariants(session) == []


def test_two_first_views_at_once_award_the_last_month_once(session):
    worker = demo_worker(session)
    patrol_days(session, worker, days_of(FEB))
    engine = engine_for(session)
    outcomes = run_at_once(engine, lambda s, i: worker_points.award_last_month_once(s, today=MARCH_TENTH))
    engine.dispose()
    made = [o for o in outcomes if o is not None]
    assert len(made) == 1 and made[0].patrol_awards == 1, outcomes
    assert account(session, worker).balance == 50
    assert worker_points.award_last_month_once(session, today=MARCH_TENTH) is None  # one read, nothing more


# --- redeeming as a volunteer does -----------------------------------------------------------
def test_a_workers_redemption_keeps_the_banks_invariants(session):
    worker = demo_worker(session)
    patrol_days(session, worker, days_of(FEB))
    worker_points.award_month(session, FEB, today=MARCH_TENTH)
    own = account(session, worker)
    scope = actor(session, "worker").scope
    bag = session.scalar(select(RewardItem).where(RewardItem.name == "环保购物袋"))  # 20 points, 湘江社区
    rice = session.scalar(select(RewardItem).where(RewardItem.name == "东北大米 5kg"))  # 200 points
    assert {i.name for i in points.offered_items(session, own)} >= {"环保购物袋", "东北大米 5kg"}
    with pytest.raises(ValidationError, match="200"):
        points.redeem(session, scope, own.id, {rice.id: 1}, None)
    done = points.redeem(session, scope, own.id, {bag.id: 2}, None)
    assert (done.total_points, account(session, worker).balance) == (40, 10)
    # the secretary of the worker's community hands it over; a worker at the counter cannot
    points.hand_over(session, actor(session, "secretary").scope, done.id, None)
    assert points.check_invariants(session) == []


def test_a_worker_cannot_be_paid_into_by_hand_as_an_award_or_reach_another_account(session):
    own = account(session, demo_worker(session))
    volunteer_account = session.scalar(select(PointsAccount.id).where(PointsAccount.volunteer_id.is_not(None)))
    patrol_rule = rule(session, "巡查达标奖励")
    visit_rule = rule(session, "走访积分")
    for values in (
        {"account_id": volunteer_account, "worker_rule_id": patrol_rule.id},   # a volunteer's account
        {"account_id": own.id, "worker_rule_id": visit_rule.id},               # a visit award without its visit
        {"account_id": own.id, "worker_rule_id": patrol_rule.id, "award_month": datetime.date(2025, 2, 3)},
    ):
        row = {"kind": "earn", "amount": 5, "reason": "x", "award_month": FEB, **values}
        with pytest.raises(IntegrityError):
            session.execute(insert(LedgerEntry).values(**row))
        session.rollback()
    # a worker's scope sees the accounts of the grids below it, but redeeming from another worker's
    # account is for the counter (views/points.py asks ``may_redeem_from``)
    other = account(session, new_worker(session, "别人"))
    assert worker_points.may_redeem_from(other.id, own, at_counter=False) is False
    assert worker_points.may_redeem_from(own.id, own, at_counter=False) is True
    assert worker_points.may_redeem_from(other.id, own, at_counter=True) is True


# --- bad input -------------------------------------------------------------------------------
@pytest.mark.parametrize("value", ["2025-13", "abc", "2026-12", "2099-01", "1999-12", "2025-2-1"])
def test_a_month_not_over_or_not_a_month_is_refused(value):
    with pytest.raises(ValidationError):
        worker_points.parse_month(value, today=datetime.date(2026, 12, 4))


def test_the_last_month_and_a_given_one(app):
    assert worker_points.parse_month(None, today=datetime.date(2026, 1, 1)) == datetime.date(2025, 12, 1)
    assert worker_points.parse_month("2026-11", today=datetime.date(2026, 12, 4)) == datetime.date(2026, 11, 1)


def test_rules_are_checked_and_one_active_per_award_and_scope(session):
    secretary = actor(session, "secretary").scope
    xiangjiang = grid_id(session, "410611001001")
    district_rule = WorkerPointsRule(name="另一个巡查奖", award="patrol_month", points=10, min_share=50, active=True)
    with pytest.raises(ValidationError, match="district"):
        worker_points.check_rule(session, secretary, district_rule)
    with pytest.raises(ValidationError):  # the district already has an active patrol rule
        worker_points.check_rule(session, EVERYTHING, district_rule)
    session.rollback()
    bad_share = WorkerPointsRule(name="x", award="patrol_month", points=10, min_share=0, community_id=xiangjiang)
    with pytest.raises(ValidationError):
        worker_points.check_rule(session, secretary, bad_share)
    session.rollback()
    own = WorkerPointsRule(name="湘江走访奖", award="visit_due", points=3, monthly_cap=10, min_share=70,
                           community_id=xiangjiang, active=True)
    worker_points.check_rule(session, secretary, own)
    assert own.min_share is None  # a visit rule has no share of days
    session.add(own)
    session.commit()
    with pytest.raises(IntegrityError):  # and the database holds it: a second active one
        session.add(WorkerPointsRule(name="湘江走访奖2", award="visit_due", points=3, community_id=xiangjiang,
                                     active=True))
        session.flush()
    session.rollback()


# --- every holder keeps an account (the wish that paid nothing, silently) --------------------
def test_an_account_is_not_deleted_while_its_holder_exists(session):
    volunteer = session.scalar(select(Volunteer).order_by(Volunteer.id))
    with pytest.raises(IntegrityError, match="belongs to an existing holder"):
        session.execute(delete(PointsAccount).where(PointsAccount.volunteer_id == volunteer.id))
    session.rollback()
    # with its holder, it goes (a volunteer with no history)
    fresh = Volunteer(name="新志愿者", phone="13900003333", community_id=grid_id(session, "410611001001"))
    session.add(fresh)
    session.commit()
    assert account_of(session, fresh.id) is not None
    session.delete(fresh)
    session.commit()
    assert account_of(session, fresh.id) is None


def account_of(session, volunteer_id):
    return session.scalar(select(PointsAccount.id).where(PointsAccount.volunteer_id == volunteer_id))


def test_a_wish_claimer_without_an_account_is_a_clear_refusal_not_silence(session):
    from app.services import wishes

    from .test_wishes import as_volunteer, claimed_and_done, new_wish

    helper = Volunteer(name="新志愿者", phone="13900003333", community_id=grid_id(session, "410611001001"))
    session.add(helper)
    session.commit()
    wish = claimed_and_done(session, new_wish(session), as_volunteer(helper))
    # the database no longer lets an account go; were it gone all the same (its guard switched
    # off by hand), the rating says so and records nothing
    session.execute(text("ALTER TABLE points_accounts DISABLE TRIGGER points_accounts_kept"))
    session.execute(delete(PointsAccount).where(PointsAccount.volunteer_id == helper.id))
    session.execute(text("ALTER TABLE points_accounts ENABLE TRIGGER points_accounts_kept"))
    session.commit()
    with pytest.raises(DomainError, match="no points account"):
        wishes.act(session, actor(session, "worker"), wish.id, "rate", satisfaction=5)
    session.expire_all()
    assert session.get(type(wish), wish.id).state == "done"
