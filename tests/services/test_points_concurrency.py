"""Concurrency on real PostgreSQL: threads that redeem against one account never overspend,
threads buying the last items never oversell, parallel awards of one record award once.
Each test ends with the same invariant check as `gridgov points check`."""
from __future__ import annotations

import datetime
import threading
from decimal import Decimal

from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import sessionmaker

from app.models import LedgerEntry, PointsRule, Redemption, RewardItem, ServiceRecord, Volunteer
from app.services import points
from app.services.errors import DomainError
from app.services.scope import EVERYTHING

from .test_points import give, item, volunteer_account

THREADS = 16


def run_at_once(engine, work, count=THREADS):
    """Run ``work(session, i)`` in ``count`` threads released together; collect the outcomes."""
    barrier = threading.Barrier(count)
    outcomes = [None] * count
    make_session = sessionmaker(engine)

    def worker(i):
        with make_session() as session:
            barrier.wait()
            try:
                outcomes[i] = work(session, i)
            except DomainError as error:
                outcomes[i] = error
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return outcomes


def engine_for(session):
    return create_engine(session.get_bind().url, pool_size=THREADS + 2, max_overflow=0)


def test_concurrent_redemptions_never_overspend(session):
    account = give(session, volunteer_account(session), 200)  # plus whatever the demo gave
    session.refresh(account)
    soap = item(session, "洗衣液 2kg")  # 80 points, stock 50
    start = account.balance
    affordable = start // soap.price
    engine = engine_for(session)
    outcomes = run_at_once(engine, lambda s, i: points.redeem(s, EVERYTHING, account.id, {soap.id: 1}, None))
    engine.dispose()
    made = [o for o in outcomes if isinstance(o, Redemption)]
    assert len(made) == min(affordable, THREADS)
    assert all(isinstance(o, (Redemption, DomainError)) for o in outcomes)
    session.expire_all()
    assert session.get(type(account), account.id).balance == start - len(made) * soap.price >= 0
    assert points.check_invariants(session) == []


def test_concurrent_buyers_never_oversell_the_last_items(session):
    appliance = item(session, "家电清洗服务")  # 金山社区, 120 points, stock 10
    community_id = appliance.community_id
    volunteers = session.scalars(select(Volunteer.id).where(Volunteer.community_id == community_id)).all()
    accounts = []
    for i in range(THREADS):
        # 4 volunteers in the community: each buys up to 4 of the 10 at once
        account = points.account_of_volunteer(session, volunteers[i % len(volunteers)])
        accounts.append(account.id)
    for volunteer_id in volunteers:
        give(session, points.account_of_volunteer(session, volunteer_id), 1000)
    stock = session.get(RewardItem, appliance.id).stock
    engine = engine_for(session)
    outcomes = run_at_once(engine, lambda s, i: points.redeem(s, EVERYTHING, accounts[i], {appliance.id: 1}, None))
    engine.dispose()
    made = [o for o in outcomes if isinstance(o, Redemption)]
    assert len(made) == stock
    session.expire_all()
    assert session.get(RewardItem, appliance.id).stock == 0
    assert points.check_invariants(session) == []


def test_parallel_awards_of_one_record_award_once(session):
    account = volunteer_account(session)
    rule = session.scalar(select(PointsRule).where(PointsRule.name == "邻里纠纷调解"))
    record = ServiceRecord(volunteer_id=account.volunteer_id, date=datetime.date(2026, 6, 1), hours=Decimal(2),
                           activity="邻里纠纷调解", rule_id=rule.id)
    session.add(record)
    session.commit()
    balance = account.balance
    engine = engine_for(session)
    outcomes = run_at_once(engine, lambda s, i: points.award(s, EVERYTHING, [record.id], None))
    engine.dispose()
    assert sum(len(o.awarded) for o in outcomes) == 1
    assert sum(len(o.already) for o in outcomes) == THREADS - 1
    assert session.scalar(select(func.count()).select_from(LedgerEntry).where(LedgerEntry.service_record_id == record.id)) == 1
    session.expire_all()
    assert session.get(type(account), account.id).balance == balance + rule.points
    assert points.check_invariants(session) == []


def test_concurrent_cancels_refund_once(session):
    account = give(session, volunteer_account(session), 100)
    redemption = points.redeem(session, EVERYTHING, account.id, {item(session, "洗衣液 2kg").id: 1}, None)
    session.refresh(account)
    balance = account.balance
    engine = engine_for(session)
    outcomes = run_at_once(engine, lambda s, i: points.cancel(s, EVERYTHING, redemption.id, None), count=8)
    engine.dispose()
    assert sum(isinstance(o, Redemption) for o in outcomes) == 1
    session.expire_all()
    assert session.get(type(account), account.id).balance == balance + 80
    assert points.check_invariants(session) == []
