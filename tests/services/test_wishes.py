"""微心愿 as a state machine (services/wishes.py, migration 0027): every step allowed and refused per
role, the claimer's points once whatever retries or races, one claimer of two at once, the database's
own checks of each state, and the secretary's to-do after the claim deadline on hand-counted dates."""
from __future__ import annotations

import datetime

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from app.models import Grid, LedgerEntry, MicroWish, PointsAccount, PointsRule, Resident, Volunteer
from app.services import todos, wishes
from app.services.errors import Conflict, DomainError, OutOfScope, ValidationError
from app.services.incidents import Actor
from app.services.scope import Scope
from app.services.users import VOLUNTEER

from .test_incidents import BLOCK, actor
from .test_points_concurrency import engine_for, run_at_once

BUILDING = BLOCK + "-01"  # in the demo grid worker's block, 湘江社区
COMMUNITY = "410611001001"
OTHER_COMMUNITY = "410611002001"  # secretary2's 金山社区


def resident(session, code=BUILDING) -> Resident:
    grid_id = session.scalar(select(Grid.id).where(Grid.code == code))
    return session.scalar(select(Resident).where(Resident.grid_id == grid_id).order_by(Resident.id).limit(1))


def volunteers(session, code=COMMUNITY) -> list[Volunteer]:
    community = session.scalar(select(Grid.id).where(Grid.code == code))
    return list(session.scalars(select(Volunteer).where(Volunteer.community_id == community).order_by(Volunteer.id)))


def as_volunteer(volunteer: Volunteer) -> Actor:
    return Actor(None, volunteer.name, frozenset({VOLUNTEER}), Scope("volunteer", volunteer_id=volunteer.id))


def new_wish(session, username="worker", code=BUILDING, claim_days=7, **kw) -> MicroWish:
    data = wishes.WishPost(resident_id=resident(session, code).id, title=kw.pop("title", "想要一个新书包"),
                           kind=kw.pop("kind", "goods"), description=kw.pop("description", "孙子开学用"))
    return wishes.post(session, actor(session, username), data, claim_days=claim_days)


def balance(session, volunteer_id) -> int:
    session.expire_all()
    return session.scalar(select(PointsAccount.balance).where(PointsAccount.volunteer_id == volunteer_id))


def earned(session, wish) -> list[LedgerEntry]:
    return list(session.scalars(select(LedgerEntry).where(LedgerEntry.micro_wish_id == wish.id)))


def claimed_and_done(session, wish, volunteer_actor):
    wishes.act(session, actor(session, "secretary"), wish.id, "open")
    wishes.act(session, volunteer_actor, wish.id, "claim")
    wishes.act(session, volunteer_actor, wish.id, "done", note="已送到老人家中", photo="done.jpg")
    return wish


def test_the_whole_path_open_claim_done_rate_earns_the_rule_once(session):
    wish = new_wish(session)
    assert (wish.state, wish.community.code, wish.grid.code) == ("posted", COMMUNITY, BUILDING)
    assert wish.claim_deadline - wish.posted_at == datetime.timedelta(days=7)
    volunteer = actor(session, "volunteer")
    start = balance(session, volunteer.scope.volunteer_id)
    claimed_and_done(session, wish, volunteer)
    assert (wish.state, wish.claimer_id, wish.done_note) == ("done", volunteer.scope.volunteer_id, "已送到老人家中")
    rule = session.scalar(select(PointsRule).where(PointsRule.name == wishes.DEFAULT_RULE))
    assert wish.rule_id == rule.id and rule.points == 20
    wishes.act(session, actor(session, "worker"), wish.id, "rate", satisfaction="5")
    assert (wish.state, wish.satisfaction) == ("rated", 5)
    assert balance(session, volunteer.scope.volunteer_id) == start + 20
    (entry,) = earned(session, wish)
    assert (entry.kind, entry.amount) == ("earn", 20)
    # a retry of the earning step pays nothing more, and rating again is refused
    assert wishes.award_again(session, actor(session, "secretary"), wish.id) is None
    with pytest.raises(Conflict):
        wishes.act(session, actor(session, "secretary"), wish.id, "rate", satisfaction=4)
    assert balance(session, volunteer.scope.volunteer_id) == start + 20
    assert len(earned(session, wish)) == 1


def test_dispatch_to_a_volunteer_who_takes_it_up_with_a_community_rule(session):
    wish = new_wish(session, username="secretary")
    first, second = volunteers(session)[:2]
    rule = session.scalar(select(PointsRule).where(PointsRule.name == "邻里纠纷调解"))  # per event, 30
    wishes.act(session, actor(session, "secretary"), wish.id, "dispatch", volunteer_id=str(second.id), rule_id=rule.id)
    assert (wish.state, wish.claimer_id, wish.rule_id) == ("dispatched", second.id, rule.id)
    # only the volunteer it was dispatched to sees it and takes it up
    with pytest.raises(OutOfScope):
        wishes.act(session, as_volunteer(first), wish.id, "claim")
    wishes.act(session, as_volunteer(second), wish.id, "claim")
    assert wish.state == "claimed" and wish.claimed_at is not None
    start = balance(session, second.id)
    wishes.act(session, as_volunteer(second), wish.id, "done", note="陪老人聊天两小时", photo="p.jpg")
    wishes.act(session, actor(session, "secretary"), wish.id, "rate", satisfaction=4)
    assert balance(session, second.id) == start + 30


@pytest.mark.parametrize("username", ["street", "dispatcher", "leader", "department", "volunteer", "secretary2"])
def test_who_may_not_post(session, username):
    before = session.scalar(select(func.count()).select_from(MicroWish))
    with pytest.raises(ValidationError):
        new_wish(session, username=username)
    assert session.scalar(select(func.count()).select_from(MicroWish)) == before


def test_bad_input_is_refused_and_nothing_is_written(session):
    before = session.scalar(select(func.count()).select_from(MicroWish))
    for kw, field in (({"title": "  "}, "title"), ({"title": "长" * 101}, "title"), ({"kind": "car"}, "kind"),
                      ({"description": "字" * 1001}, "description")):
        with pytest.raises(ValidationError) as refused:
            new_wish(session, **kw)
        assert refused.value.field == field
    with pytest.raises(ValidationError):
        new_wish(session, claim_days=0)
    # a resident of another community is not the worker's to post for
    with pytest.raises(ValidationError) as refused:
        wishes.post(session, actor(session, "worker"),
                    wishes.WishPost(resident_id=resident(session, OTHER_COMMUNITY + "-01-01").id, title="修水管"))
    assert refused.value.field == "resident"
    with pytest.raises(ValidationError):
        wishes.post(session, actor(session, "worker"), wishes.WishPost(resident_id="abc", title="修水管"))
    assert session.scalar(select(func.count()).select_from(MicroWish)) == before


def test_each_step_is_refused_to_the_wrong_role(session):
    wish = new_wish(session)
    worker, secretary, volunteer = actor(session, "worker"), actor(session, "secretary"), actor(session, "volunteer")
    # the community opens and dispatches, not the grid worker; other scopes do not even see it
    with pytest.raises(ValidationError):
        wishes.act(session, worker, wish.id, "open")
    for username in ("secretary2", "department"):
        with pytest.raises(OutOfScope):
            wishes.act(session, actor(session, username), wish.id, "open")
    for username in ("street", "dispatcher", "leader"):  # they read, they do not act
        with pytest.raises(ValidationError):
            wishes.act(session, actor(session, username), wish.id, "open")
    # a posted wish is not yet the volunteers' to see
    with pytest.raises(OutOfScope):
        wishes.act(session, volunteer, wish.id, "claim")
    wishes.act(session, secretary, wish.id, "open")
    with pytest.raises(ValidationError):  # staff do not claim
        wishes.act(session, secretary, wish.id, "claim")
    # a volunteer of another community does not see it
    with pytest.raises(OutOfScope):
        wishes.act(session, as_volunteer(volunteers(session, OTHER_COMMUNITY)[0]), wish.id, "claim")
    with pytest.raises(Conflict):  # not claimed yet: nothing to mark done
        wishes.act(session, volunteer, wish.id, "done", note="x", photo="x.jpg")
    wishes.act(session, volunteer, wish.id, "claim")
    other = as_volunteer(volunteers(session)[1])
    with pytest.raises(OutOfScope):  # no longer open: only its claimer sees it
        wishes.act(session, other, wish.id, "done", note="x", photo="x.jpg")
    with pytest.raises(ValidationError):  # staff do not mark the volunteer's work done
        wishes.act(session, secretary, wish.id, "done", note="x", photo="x.jpg")
    with pytest.raises(ValidationError) as refused:
        wishes.act(session, volunteer, wish.id, "done", note=" ", photo="x.jpg")
    assert refused.value.field == "note"
    with pytest.raises(ValidationError) as refused:
        wishes.act(session, volunteer, wish.id, "done", note="已完成", photo=None)
    assert refused.value.field == "photo"
    with pytest.raises(Conflict):
        wishes.act(session, worker, wish.id, "rate", satisfaction=5)
    wishes.act(session, volunteer, wish.id, "done", note="已完成", photo="x.jpg")
    with pytest.raises(ValidationError):  # the claimer does not rate their own work
        wishes.act(session, volunteer, wish.id, "rate", satisfaction=5)
    for bad in ("6", "0", "abc", None):
        with pytest.raises(ValidationError):
            wishes.act(session, worker, wish.id, "rate", satisfaction=bad)
    with pytest.raises(Conflict):  # done: too late to cancel
        wishes.act(session, secretary, wish.id, "cancel")
    session.refresh(wish)
    assert wish.state == "done" and earned(session, wish) == []


def test_cancel_by_the_secretary_or_the_poster_while_posted(session):
    wish = new_wish(session)
    other = new_wish(session, title="修理漏水龙头", kind="repair")
    wishes.act(session, actor(session, "worker"), wish.id, "cancel")
    assert wish.state == "cancelled" and wish.cancelled_at is not None
    wishes.act(session, actor(session, "secretary"), other.id, "open")
    with pytest.raises(ValidationError):  # open: the community's now
        wishes.act(session, actor(session, "worker"), other.id, "cancel")
    wishes.act(session, actor(session, "secretary"), other.id, "cancel")
    with pytest.raises(Conflict):
        wishes.act(session, actor(session, "secretary"), other.id, "open")


def test_dispatch_refuses_a_volunteer_of_another_community_and_an_hourly_rule(session):
    wish = new_wish(session)
    secretary = actor(session, "secretary")
    with pytest.raises(ValidationError) as refused:
        wishes.act(session, secretary, wish.id, "dispatch", volunteer_id=volunteers(session, OTHER_COMMUNITY)[0].id)
    assert refused.value.field == "volunteer"
    hourly = session.scalar(select(PointsRule).where(PointsRule.unit == "hour").limit(1))
    with pytest.raises(ValidationError) as refused:
        wishes.act(session, secretary, wish.id, "dispatch", volunteer_id=volunteers(session)[0].id, rule_id=hourly.id)
    assert refused.value.field == "rule"
    with pytest.raises(ValidationError):
        wishes.act(session, secretary, wish.id, "fly")
    session.refresh(wish)
    assert (wish.state, wish.claimer_id, wish.rule_id) == ("posted", None, None)


def test_two_volunteers_claiming_at_once_one_wins(session):
    wish = new_wish(session)
    wishes.act(session, actor(session, "secretary"), wish.id, "open")
    claimers = [as_volunteer(v) for v in volunteers(session)[:4]]
    engine = engine_for(session)
    outcomes = run_at_once(engine, lambda s, i: wishes.act(s, claimers[i], wish.id, "claim").claimer_id,
                           count=len(claimers))
    engine.dispose()
    won = [o for o in outcomes if isinstance(o, int)]
    assert len(won) == 1, outcomes
    assert all(isinstance(o, DomainError) for o in outcomes if not isinstance(o, int))
    session.expire_all()
    assert session.get(MicroWish, wish.id).claimer_id == won[0]


def test_two_staff_rating_at_once_pay_once(session):
    volunteer = actor(session, "volunteer")
    wish = claimed_and_done(session, new_wish(session), volunteer)
    start = balance(session, volunteer.scope.volunteer_id)
    raters = [actor(session, name) for name in ("worker", "secretary", "worker", "secretary")]
    engine = engine_for(session)
    outcomes = run_at_once(engine, lambda s, i: wishes.act(s, raters[i], wish.id, "rate", satisfaction=5).state,
                           count=len(raters))
    engine.dispose()
    assert outcomes.count("rated") == 1, outcomes
    assert balance(session, volunteer.scope.volunteer_id) == start + 20
    assert len(earned(session, wish)) == 1


def test_the_database_keeps_each_state_consistent_and_pays_a_wish_once(session):
    wish = new_wish(session)
    volunteer_id = volunteers(session)[0].id
    for values in ({"state": "claimed", "claimer_id": volunteer_id},  # no claim time
                   {"state": "open", "claimer_id": volunteer_id},  # waiting, yet a claimer
                   {"state": "dispatched"},  # dispatched to nobody
                   {"state": "done", "claimer_id": volunteer_id, "claimed_at": func.now()},  # no note
                   {"state": "rated"}, {"state": "cancelled"}, {"satisfaction": 9}):
        with pytest.raises(IntegrityError):
            session.execute(update(MicroWish).where(MicroWish.id == wish.id).values(**values))
        session.rollback()
    account = session.scalar(select(PointsAccount.id).where(PointsAccount.volunteer_id == volunteer_id))
    session.add(LedgerEntry(account_id=account, kind="earn", amount=5, reason="x", micro_wish_id=wish.id))
    session.commit()
    session.add(LedgerEntry(account_id=account, kind="earn", amount=5, reason="x", micro_wish_id=wish.id))
    with pytest.raises(IntegrityError):
        session.commit()
    session.rollback()


def test_an_unclaimed_wish_past_its_deadline_is_a_secretarys_to_do(session):
    secretary = actor(session, "secretary")
    demo = todos.section(session, secretary, "wishes", 0, 100)  # the demo's own late wish
    before = {item.id for item in demo.items}
    # hand-counted: posted 4 days ago with 3 days to be claimed: due 1 day ago
    late = new_wish(session, claim_days=3, title="陪老人去医院")
    # posted 2 days ago with 3 days: due tomorrow
    early = new_wish(session, claim_days=3, title="修门锁")
    # posted 10 days ago, claimed: not waiting for anyone
    taken = new_wish(session, claim_days=3, title="送米面油")
    claimed_and_done(session, taken, actor(session, "volunteer"))
    for wish, days in ((late, 4), (early, 2), (taken, 10)):
        session.execute(update(MicroWish).where(MicroWish.id == wish.id).values(
            posted_at=MicroWish.posted_at - datetime.timedelta(days=days),
            claim_deadline=MicroWish.claim_deadline - datetime.timedelta(days=days)))
    session.commit()
    section = todos.section(session, secretary, "wishes", 0, 100)
    assert section.count == section.late == len(before) + 1
    assert [(item.kind, item.title) for item in section.items if item.id not in before] == [("wish", "陪老人去医院")]
    assert todos.workbench(session, secretary).section("wishes").count == len(before) + 1
    # opened for claiming, still unclaimed: still there; once claimed, gone
    wishes.act(session, secretary, late.id, "open")
    assert todos.workbench(session, secretary).section("wishes").count == len(before) + 1
    wishes.act(session, actor(session, "volunteer"), late.id, "claim")
    assert todos.workbench(session, secretary).section("wishes").count == len(before)
    # the other community's secretary and the grid worker have no such section
    assert todos.workbench(session, actor(session, "secretary2")).section("wishes").count == 0
    assert todos.workbench(session, actor(session, "worker")).section("wishes") is None


def test_a_done_wish_waits_in_the_to_dos_of_the_staff_who_record_the_satisfaction(session):
    volunteer = actor(session, "volunteer")
    counts = lambda name: (todos.section(session, actor(session, name), "wishes_done", 0, 100) or
                           todos.Section("none", -1)).count
    before = {name: counts(name) for name in ("worker", "secretary", "secretary2", "street")}
    assert before["street"] == -1  # the street reads wishes, it does not rate them
    wish = claimed_and_done(session, new_wish(session, title="送一台收音机"), volunteer)
    assert {name: counts(name) for name in before} == {**before, "worker": before["worker"] + 1,
                                                       "secretary": before["secretary"] + 1}
    items = todos.section(session, actor(session, "worker"), "wishes_done", 0, 100).items
    assert ("wish", wish.id, "送一台收音机", "to_rate_wish") in [(i.kind, i.id, i.title, i.state) for i in items]
    wishes.act(session, actor(session, "secretary"), wish.id, "rate", satisfaction=5)
    assert {name: counts(name) for name in before} == before


def test_what_each_role_sees(session):
    from app.services.scope import visible

    wish = new_wish(session)
    seen = lambda username: session.scalar(select(func.count()).select_from(MicroWish).where(
        MicroWish.id == wish.id, visible(actor(session, username).scope, MicroWish)))
    assert {name: seen(name) for name in ("worker", "secretary", "street", "dispatcher", "leader", "secretary2",
                                          "department", "volunteer")} == {
        "worker": 1, "secretary": 1, "street": 1, "dispatcher": 1, "leader": 1, "secretary2": 0, "department": 0,
        "volunteer": 0}
    wishes.act(session, actor(session, "secretary"), wish.id, "open")
    assert seen("volunteer") == 1
    assert wishes.allowed_actions(actor(session, "volunteer"), wish) == ["claim"]
    assert wishes.allowed_actions(actor(session, "secretary"), wish) == ["dispatch", "cancel"]
    assert wishes.allowed_actions(actor(session, "worker"), wish) == []
    assert wishes.allowed_actions(actor(session, "leader"), wish) == []
