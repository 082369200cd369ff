"""Workers' points attacked (issue 29, second look): a rule that paid points keeps what it
rewards — turned from 巡查达标奖励 into 走访积分, every month's patrol award already paid read as a
visit award on the ledger (awards_of, the worker's "my points") — by the service with a message
and by the database whatever path writes it (migration 0031)."""
from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from app.services import worker_points
from app.services.errors import ValidationError
from app.services.scope import EVERYTHING

from .test_worker_points import FEB, MARCH_TENTH, account, days_of, demo_worker, patrol_days, rule


def test_a_rule_that_paid_keeps_what_it_rewards(session):
    worker = demo_worker(session)
    patrol_days(session, worker, days_of(FEB))
    assert worker_points.award_month(session, FEB, today=MARCH_TENTH).patrol_awards == 1
    paid = rule(session, "巡查达标奖励")
    entry_awards = worker_points.awards_of(session, account(session, worker).id)
    assert list(entry_awards.values()) == ["patrol_month"]
    paid.award, paid.min_share, paid.monthly_cap = "visit_due", None, 10
    with pytest.raises(ValidationError) as refused, session.no_autoflush:  # as the form's save checks it
        worker_points.check_rule(session, EVERYTHING, paid, present_community_id=None, present_award="patrol_month")
    assert refused.value.field == "award"
    session.rollback()
    with pytest.raises(DBAPIError) as refused:
        session.execute(text("UPDATE worker_points_rules SET award = 'visit_due', min_share = NULL "
                             "WHERE name = '巡查达标奖励'"))
    assert refused.value.orig.diag.constraint_name == "worker_points_rules_award_kept"
    session.rollback()
    # what else it says may change: its points, its name, whether it is active
    session.execute(text("UPDATE worker_points_rules SET points = 60, active = false WHERE name = '巡查达标奖励'"))
    session.commit()
    assert list(worker_points.awards_of(session, account(session, worker).id).values()) == ["patrol_month"]


def test_a_rule_that_paid_nothing_may_change_what_it_rewards(session):
    session.execute(text("UPDATE worker_points_rules SET active = false WHERE name = '巡查达标奖励'"))
    session.execute(text("UPDATE worker_points_rules SET award = 'visit_due', min_share = NULL "
                         "WHERE name = '巡查达标奖励'"))
    session.commit()
    assert rule(session, "巡查达标奖励").award == "visit_due"


def test_a_worker_redeeming_at_once_from_two_phones_spends_what_they_have_once(session):
    """50 points of February's patrols; two redemptions of 2 bags (40 points) at once: one is made,
    the other refused with a message; the balance never goes below 0."""
    from sqlalchemy import select

    from app.models import Redemption, RewardItem
    from app.services import points

    from .test_incidents import actor
    from .test_points_concurrency import engine_for, run_at_once

    worker = demo_worker(session)
    patrol_days(session, worker, days_of(FEB))
    worker_points.award_month(session, FEB, today=MARCH_TENTH)
    own = account(session, worker)
    assert own.balance == 50
    bag = session.scalar(select(RewardItem).where(RewardItem.name == "环保购物袋"))  # 20 points
    engine = engine_for(session)
    outcomes = run_at_once(engine, lambda s, i: points.redeem(s, actor(s, "worker").scope, own.id, {bag.id: 2}, None),
                           count=2)
    engine.dispose()
    assert sum(isinstance(o, Redemption) for o in outcomes) == 1
    assert sum(isinstance(o, ValidationError) or "points" in str(o) for o in outcomes
               if not isinstance(o, Redemption)) == 1
    assert account(session, worker).balance == 10
    assert points.check_invariants(session) == []
