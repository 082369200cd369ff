"""The points bank in the service layer and in the database itself."""
from __future__ import annotations

import datetime
from collections import defaultdict
from decimal import Decimal

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from app.models import (
    Grid,
    LedgerEntry,
    PointsAccount,
    PointsRule,
    Redemption,
    RewardItem,
    ServiceRecord,
    StockMovement,
    Volunteer,
    Worker,
)
from app.services import paging
from app.services import points
from app.services.errors import Conflict, OutOfScope, ValidationError
from app.services.scope import EVERYTHING, Scope, grid_scope

XIANGJIANG = "410611001001"
JINSHAN = "410611002001"


def community(session, code):
    return session.scalar(select(Grid).where(Grid.code == code))


def volunteer_account(session, code=XIANGJIANG, index=1):
    community_id = community(session, code).id
    volunteer = session.scalars(select(Volunteer).where(Volunteer.community_id == community_id).order_by(Volunteer.id)).all()[index]
    return points.account_of_volunteer(session, volunteer.id)


def item(session, name):
    return session.scalar(select(RewardItem).where(RewardItem.name == name))


def give(session, account, amount):
    """Points for tests, through a real service record and the award service."""
    rule = session.scalar(select(PointsRule).where(PointsRule.name == "政策宣讲"))  # 20 per event
    ids = []
    for _ in range(amount // 20):
        record = ServiceRecord(volunteer_id=account.volunteer_id, date=datetime.date(2026, 5, 1), hours=Decimal(1),
                               activity="政策宣讲", rule_id=rule.id)
        session.add(record)
        session.flush()
        ids.append(record.id)
    session.commit()
    points.award(session, EVERYTHING, ids, None)
    session.refresh(account)
    return account


def test_every_holder_has_an_account_and_the_demo_bank_is_consistent(session):
    assert session.scalar(select(func.count()).select_from(PointsAccount)) == (
        session.scalar(select(func.count()).select_from(Volunteer)) + session.scalar(select(func.count()).select_from(Worker)))
    assert points.check_invariants(session) == []
    worker = Worker(name="新人", grid_id=community(session, XIANGJIANG).id, phone="13900001111",
                    start_date=datetime.date(2025, 1, 1), role="grid_worker", employment="full_time", party_member=False)
    session.add(worker)
    session.commit()
    assert session.scalar(select(PointsAccount).where(PointsAccount.worker_id == worker.id)).balance == 0


def test_ledger_is_append_only_and_balance_moves_only_with_it(session):
    entry = session.scalar(select(LedgerEntry).limit(1))
    for statement in (f"UPDATE points_entries SET amount = 1 WHERE id = {entry.id}",
                      f"DELETE FROM points_entries WHERE id = {entry.id}",
                      "TRUNCATE points_entries CASCADE",
                      f"UPDATE points_accounts SET balance = balance + 1000 WHERE id = {entry.account_id}",
                      "UPDATE reward_items SET stock = stock + 5",
                      "DELETE FROM stock_movements"):
        with pytest.raises(DBAPIError):
            session.execute(text(statement))
        session.rollback()
    assert points.check_invariants(session) == []


def test_award_once_per_record(session):
    account = volunteer_account(session)
    before = account.balance
    pending = session.scalars(
        select(ServiceRecord.id).where(ServiceRecord.volunteer_id == account.volunteer_id, ServiceRecord.rule_id.is_not(None))
    ).all()
    first = points.award(session, EVERYTHING, pending, None)
    again = points.award(session, EVERYTHING, pending, None)
    assert again.awarded == [] and len(again.already) == len(pending)
    session.refresh(account)
    assert account.balance == before + first.total
    assert points.check_invariants(session) == []


def test_points_follow_the_rule(session):
    hour_rule = PointsRule(name="测试按时", unit="hour", points=15)
    event_rule = PointsRule(name="测试按次", unit="event", points=25)
    assert points.points_for(ServiceRecord(hours=Decimal("2.5"), rule=hour_rule)) == 38  # 37.5 rounds half up
    assert points.points_for(ServiceRecord(hours=Decimal("3"), rule=event_rule)) == 25
    assert points.points_for(ServiceRecord(hours=Decimal("3"), rule=None)) == 0


def test_secretary_cannot_award_outside_her_community(session):
    secretary = grid_scope(session, community(session, XIANGJIANG).id)
    other = volunteer_account(session, JINSHAN)
    record = session.scalar(select(ServiceRecord.id).where(ServiceRecord.volunteer_id == other.volunteer_id))
    with pytest.raises(OutOfScope):
        points.award(session, secretary, [record], None)


def test_redeem_debits_points_and_stock_together(session):
    account = give(session, volunteer_account(session), 200)
    soap, bag = item(session, "洗衣液 2kg"), item(session, "环保购物袋")
    balance, soap_stock, bag_stock = account.balance, soap.stock, bag.stock
    redemption = points.redeem(session, EVERYTHING, account.id, {soap.id: 1, bag.id: 2}, None)
    session.expire_all()
    assert redemption.status == "pending" and redemption.total_points == 80 + 2 * 20
    assert session.get(PointsAccount, account.id).balance == balance - 120
    assert (session.get(RewardItem, soap.id).stock, session.get(RewardItem, bag.id).stock) == (soap_stock - 1, bag_stock - 2)
    points.cancel(session, EVERYTHING, redemption.id, None, "不要了")
    session.expire_all()
    assert session.get(PointsAccount, account.id).balance == balance
    assert session.get(RewardItem, bag.id).stock == bag_stock
    with pytest.raises(Conflict):
        points.hand_over(session, EVERYTHING, redemption.id, None)
    assert points.check_invariants(session) == []


@pytest.mark.parametrize("case", ["over_balance", "over_stock", "zero", "negative", "inactive", "other_community", "text"])
def test_bad_redemptions_change_nothing(session, case):
    account = give(session, volunteer_account(session), 100)
    soap = item(session, "洗衣液 2kg")
    towel = item(session, "纯棉毛巾")  # 金山社区 only
    def counts():
        return tuple(session.scalar(select(func.count()).select_from(m)) for m in (LedgerEntry, StockMovement, Redemption))

    raw = {
        "over_balance": {str(soap.id): str(account.balance // 80 + 1)},
        "over_stock": None,
        "zero": {str(soap.id): "0"},
        "negative": {str(soap.id): "-1"},
        "inactive": {str(soap.id): "1"},
        "other_community": {str(towel.id): "1"},
        "text": {str(soap.id): "两个"},
    }[case]
    if case == "inactive":
        soap.active = False
        session.commit()
    if case == "over_stock":
        rice = item(session, "东北大米 5kg")
        give(session, account, 200 * (rice.stock + 1))
        raw = {str(rice.id): str(rice.stock + 1)}
    session.refresh(account)
    balance, before = account.balance, counts()
    with pytest.raises(ValidationError) as info:
        points.redeem(session, EVERYTHING, account.id, points.parse_quantities(raw), None)
    assert str(info.value)
    session.expire_all()
    assert counts() == before
    assert session.get(PointsAccount, account.id).balance == balance
    assert points.check_invariants(session) == []


def test_volunteer_can_only_redeem_from_own_account(session):
    mine = volunteer_account(session, index=1)
    other = volunteer_account(session, index=2)
    me = Scope("volunteer", volunteer_id=mine.volunteer_id)
    with pytest.raises(OutOfScope):
        points.redeem(session, me, other.id, {item(session, "洗衣液 2kg").id: 1}, None)


def test_request_key_makes_redeem_idempotent(session):
    account = give(session, volunteer_account(session), 100)
    soap = item(session, "洗衣液 2kg")
    first = points.redeem(session, EVERYTHING, account.id, {soap.id: 1}, None, request_key="k-1")
    second = points.redeem(session, EVERYTHING, account.id, {soap.id: 1}, None, request_key="k-1")
    assert first.id == second.id
    assert session.scalar(select(func.count()).select_from(Redemption).where(Redemption.account_id == account.id,
                                                                            Redemption.status == "pending")) >= 1
    assert points.check_invariants(session) == []


def test_honour_roll_counts_earned_not_balance(session):
    rich = give(session, volunteer_account(session, index=1), 400)
    points.redeem(session, EVERYTHING, rich.id, {item(session, "东北大米 5kg").id: 1}, None)
    year = datetime.datetime.now(points.TIMEZONE).year
    xiangjiang = community(session, XIANGJIANG)
    roll = points.honour_roll(session, EVERYTHING, year, street_id=xiangjiang.parent_id)
    top = roll["communities"][(xiangjiang.id, xiangjiang.name)][0]
    assert top.volunteer_id == rich.volunteer_id
    earned = session.scalar(select(func.sum(LedgerEntry.amount)).where(LedgerEntry.account_id == rich.id, LedgerEntry.kind == "earn"))
    assert top.points == earned > session.get(PointsAccount, rich.id).balance
    secretary2 = grid_scope(session, community(session, JINSHAN).id)
    assert (xiangjiang.id, xiangjiang.name) not in points.honour_roll(session, secretary2, year)["communities"]


def test_invariant_check_finds_a_broken_balance(session):
    # Break the bank the only way left: disable the guard as the owner would in a bad migration.
    session.execute(text("ALTER TABLE points_accounts DISABLE TRIGGER points_accounts_guard_balance"))
    session.execute(text("UPDATE points_accounts SET balance = balance + 7 WHERE id = (SELECT min(id) FROM points_accounts)"))
    session.commit()
    problems = points.check_invariants(session)
    assert len(problems) == 1 and "balance" in problems[0]


def _earned_by_ledger(session) -> dict:
    """Volunteers' earnings per account and Beijing year, added up from the ledger."""
    return {(account, year): total for account, year, total in session.execute(text(
        "SELECT account_id, extract(year FROM e.created_at AT TIME ZONE 'Asia/Shanghai')::int, sum(amount)"
        " FROM points_entries e JOIN points_accounts a ON a.id = e.account_id AND a.volunteer_id IS NOT NULL"
        " WHERE kind = 'earn' GROUP BY 1, 2"))}


def _earned_kept(session) -> dict:
    return {(account, year): total for account, year, total in
            session.execute(text("SELECT account_id, year, earned FROM points_earned"))}


def test_points_earned_follows_the_ledger(session):
    """``points_earned`` (the honour roll's) equals the ledger's earnings per account and Beijing
    year after the seed, awards, redemptions, adjustments and an entry at the turn of a year."""
    assert _earned_kept(session) == _earned_by_ledger(session) != {}
    account = give(session, volunteer_account(session, index=2), 50)  # awards of service records
    points.redeem(session, EVERYTHING, account.id, {item(session, "环保购物袋").id: 1}, None)
    points.adjust(session, EVERYTHING, account.id, -5, "更正", None)
    # 2025-12-31 16:30 UTC is 2026-01-01 00:30 in Beijing: earned in 2026; two entries in one statement
    session.execute(text(
        "INSERT INTO points_entries (account_id, kind, amount, reason, incident_ref, created_at) VALUES"
        " (:a, 'earn', 7, '跨年', 'year-turn-1', '2025-12-31 16:30+00'),"
        " (:a, 'earn', 3, '跨年', 'year-turn-2', '2025-12-31 15:30+00')"), {"a": account.id})
    session.commit()
    kept = _earned_kept(session)
    assert kept == _earned_by_ledger(session)
    assert kept[(account.id, 2025)] >= 3 and kept[(account.id, 2026)] >= 7


def _add_second_district(session) -> Grid:
    """A city's second district, with one street and one community: its community."""
    district = Grid(code="410602", name="鹤山区", level="district", kind="comprehensive")
    session.add(district)
    session.flush()
    street = Grid(code="410602001", name="中山街道", level="street", kind="comprehensive", parent_id=district.id)
    session.add(street)
    session.flush()
    home = Grid(code="410602001001", name="红旗社区", level="community", kind="comprehensive", parent_id=street.id)
    session.add(home)
    session.commit()
    return home


def test_honour_roll_ranks_one_level_below_what_it_covers(session):
    year = datetime.datetime.now(points.TIMEZONE).year
    district = points.honour_roll(session, EVERYTHING, year, per_group=2)  # one district, two streets
    assert district["level"] == "street" and len(district["districts"]) == 1 and len(district["streets"]) == 2
    assert district["communities"] == {}
    rolls = [points.honour_roll(session, EVERYTHING, year, per_group=2, street_id=street_id)
             for street_id, _ in district["streets"]]
    assert all(roll["level"] == "community" and roll["districts"] == {} for roll in rolls)
    roll = {"streets": district["streets"], "communities": {k: v for r in rolls for k, v in r["communities"].items()}}
    for one in rolls:  # a street's own roll ranks it as the district's does
        assert list(one["streets"].items())[0] in district["streets"].items()
    earned = {account: total for (account, y), total in _earned_by_ledger(session).items() if y == year}
    for groups in (roll["communities"], roll["streets"], district["districts"]):
        assert groups
        for rows in groups.values():
            assert 1 <= len(rows) <= 2 and [row.rank for row in rows] == list(range(1, len(rows) + 1))
            assert [row.points for row in rows] == sorted((row.points for row in rows), reverse=True)
    by_community = defaultdict(list)
    for account, home in session.execute(select(PointsAccount.id, Volunteer.community_id)
                                         .join(Volunteer, Volunteer.id == PointsAccount.volunteer_id)):
        if account in earned:
            by_community[home].append(earned[account])
    assert set(by_community) == {community_id for community_id, _ in roll["communities"]}
    for (community_id, _), rows in roll["communities"].items():  # the top two of the community's earnings
        assert [row.points for row in rows] == sorted(by_community[community_id], reverse=True)[:2]
    # a second district makes it a city: its roll ranks districts, each district's own its streets
    _add_second_district(session)
    city = points.honour_roll(session, EVERYTHING, year, per_group=2)
    assert city["level"] == "district" and city["streets"] == city["communities"] == {}
    assert city["districts"] == district["districts"]  # the new district has no earners yet
    ((qibin_id, _),) = district["districts"]
    assert points.honour_roll(session, EVERYTHING, year, per_group=2, district_id=qibin_id) == district
    # a street's roll links back to its district's, when the scope sees the district
    street_id = next(iter(district["streets"]))[0]
    assert points.honour_roll(session, EVERYTHING, year, street_id=street_id)["district"] == (qibin_id, "淇滨区")
    assert points.honour_roll(session, grid_scope(session, qibin_id), year, street_id=street_id)["district"] \
        == (qibin_id, "淇滨区")
    assert points.honour_roll(session, grid_scope(session, street_id), year, street_id=street_id)["district"] is None
    assert points.honour_roll(session, EVERYTHING, year, street_id=qibin_id)["district"] is None  # not a street


def _roll_by_hand(session, scope, year, per_group, street_id=None, district_id=None, ledger=None) -> dict:
    """The honour roll worked out in Python from the ledger (not ``points_earned``), the grid tree
    and the volunteers the scope sees: {board key: [(volunteer id, points)]} per kind of board, and
    the level it ranks down to. ``ledger``: the ledger's earnings by account and year, when the
    caller read them already (they do not change between its checks)."""
    earned = {account: total for (account, y), total in (ledger or _earned_by_ledger(session)).items() if y == year}
    grids = {grid.id: grid for grid in session.scalars(select(Grid))}

    def above(grid_id, level):
        grid = grids[grid_id]
        while grid is not None and grid.level != level:
            grid = grids.get(grid.parent_id)
        return grid

    rows = []  # (earned, account, volunteer id, community, street, district)
    for account, volunteer_id, community_id in session.execute(
            select(PointsAccount.id, Volunteer.id, Volunteer.community_id)
            .join(Volunteer, Volunteer.id == PointsAccount.volunteer_id).where(points.visible(scope, Volunteer))):
        street, district = above(community_id, "street"), above(community_id, "district")
        if account in earned and (street_id is None or (street is not None and street.id == street_id)) \
                and (district_id is None or district.id == district_id):
            rows.append((earned[account], account, volunteer_id, grids[community_id], street, district))
    rows.sort(key=lambda row: (-row[0], row[1]))  # ties: the account opened first

    def seen(level):
        return sum(1 for grid in grids.values() if grid.level == level and session.scalar(
            select(func.count()).select_from(Grid).where(Grid.id == grid.id, points.visible(scope, Grid))))

    level = ("community" if street_id is not None or seen("street") <= 1
             else "street" if district_id is not None or seen("district") <= 1 else "district")
    kinds = {"district": ("districts",), "street": ("districts", "streets"), "community": ("streets", "communities")}
    boards = {"communities": defaultdict(list), "streets": defaultdict(list), "districts": defaultdict(list)}
    for total, _, volunteer_id, home, street, district in rows:
        for kind, grid in (("communities", home), ("streets", street), ("districts", district)):
            if kind in kinds[level] and grid is not None and len(boards[kind][(grid.id, grid.name)]) < per_group:
                boards[kind][(grid.id, grid.name)].append((volunteer_id, total))
    return {**{kind: dict(groups) for kind, groups in boards.items()}, "level": level}


def _roll(roll) -> dict:
    return {**{kind: {key: [(row.volunteer_id, row.points) for row in rows] for key, rows in roll[kind].items()}
               for kind in ("communities", "streets", "districts")}, "level": roll["level"]}


def test_the_honour_roll_is_the_ledger_ranked_for_every_scope(session):
    """The roll read from ``points_earned`` (each community's best, then its street's and
    district's) equals the ledger ranked by hand, for every kind of scope, a street's and a
    district's own roll, and groups of 1 to 3, with one district and with two; a worker's earnings
    stay off it; a volunteer who moves takes their points to the new community."""
    from app.models import Department, GridgovUser
    from app.services.scope import scope_for_user

    year = datetime.datetime.now(points.TIMEZONE).year
    rich, tied = volunteer_account(session, index=1), volunteer_account(session, JINSHAN, index=2)
    give(session, rich, 400)
    give(session, tied, 400)  # a tie across streets and with the seed's own earners
    # a worker at a community earns points for an incident: the roll is of volunteers
    worker = session.scalar(select(Worker).order_by(Worker.id))
    worker.grid_id = community(session, XIANGJIANG).id
    session.commit()
    worker_account = session.scalar(select(PointsAccount).where(PointsAccount.worker_id == worker.id))
    session.execute(text("INSERT INTO points_entries (account_id, kind, amount, reason, incident_ref)"
                         " VALUES (:a, 'earn', 5000, '事件处置', 'worker-award-1')"), {"a": worker_account.id})
    session.commit()
    assert session.scalar(text("SELECT count(*) FROM points_earned WHERE account_id = :a"),
                          {"a": worker_account.id}) == 0

    def scopes():
        grids = session.scalars(select(Grid).where(Grid.level.in_(("district", "street", "community")))).all()
        yield from [EVERYTHING] + [grid_scope(session, grid.id) for grid in grids]
        # departments' scopes are all alike (none sees a volunteer): two of them
        yield from [Scope("department", department_id=d)
                    for d in session.scalars(select(Department.id).order_by(Department.id).limit(2))]
        for name in ("volunteer", "department", "secretary"):
            yield scope_for_user(session, session.scalar(select(GridgovUser).where(GridgovUser.username == name)))

    def check():
        places = [{}] + [{f"{level}_id": grid_id} for level, grid_id in session.execute(
            select(Grid.level, Grid.id).where(Grid.level.in_(("street", "district"))))]
        ledger = _earned_by_ledger(session)
        for scope in scopes():
            for per_group in (1, 3):
                for place in places:
                    expected = _roll_by_hand(session, scope, year, per_group, ledger=ledger, **place)
                    assert _roll(points.honour_roll(session, scope, year, per_group, **place)) == expected, \
                        (scope, per_group, place)
        roll = points.honour_roll(session, EVERYTHING, year, 10, community(session, XIANGJIANG).parent_id)
        assert all(row.volunteer_id is not None for rows in roll["communities"].values() for row in rows)
        return roll

    check()
    moved = session.get(Volunteer, rich.volunteer_id)
    moved.community_id = community(session, JINSHAN).id
    session.commit()
    assert session.scalar(text("SELECT DISTINCT grid_id FROM points_earned WHERE account_id = :a"),
                          {"a": rich.id}) == moved.community_id
    roll = points.honour_roll(session, EVERYTHING, year, 10, community(session, JINSHAN).parent_id)
    jinshan = community(session, JINSHAN)
    assert rich.volunteer_id in [row.volunteer_id for row in roll["communities"][(jinshan.id, jinshan.name)]]
    check()
    # a second district, and a volunteer moving there: the city's roll ranks two districts
    elsewhere = _add_second_district(session)
    session.get(Volunteer, tied.volunteer_id).community_id = elsewhere.id
    session.commit()
    roll = points.honour_roll(session, EVERYTHING, year, 10)
    assert roll["level"] == "district" and len(roll["districts"]) == 2
    check()

def test_the_ledger_page_read_by_account_is_the_scope_ledger_newest_first(session):
    """``paging.newest_ledger_entries`` (the ledger list's fast path) gives the entries the scope's
    rule gives, in the same order, for every kind of scope, any page, and counts up to its cap."""
    from app.models import GridgovUser
    from app.services.scope import NOTHING, scope_for_user

    give(session, volunteer_account(session, index=1), 30)  # entries of more than one kind and time
    scopes = [EVERYTHING, NOTHING] + [
        scope_for_user(session, session.scalar(select(GridgovUser).where(GridgovUser.username == name)))
        for name in ("dispatcher", "street", "secretary", "worker", "department", "volunteer")]
    for scope in scopes:
        expected = list(session.scalars(select(LedgerEntry.id).where(points.visible(scope, LedgerEntry))
                                        .order_by(LedgerEntry.id.desc())))
        for offset, limit in ((0, 20), (0, 3), (3, 3), (len(expected) - 2, 5), (len(expected) + 10, 5)):
            offset = max(offset, 0)
            count, keys = paging.newest_ledger_entries(session, scope, offset, limit, cap=10_000)
            assert (count, keys) == (len(expected), expected[offset:offset + limit]), (scope, offset)
        assert paging.newest_ledger_entries(session, scope, 0, 2, cap=3)[0] == min(len(expected), 4), scope
