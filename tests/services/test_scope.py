"""Which rows each kind of scope sees."""
from sqlalchemy import func, select

from app.models import Department, Grid, ServiceRecord, Volunteer, Worker
from app.models.users import GridgovUser
from app.services.scope import EVERYTHING, NOTHING, Scope, scope_for_user, visible


def count(session, scope, model):
    return session.scalar(select(func.count()).select_from(model).where(visible(scope, model)))


def user(session, name):
    return session.scalar(select(GridgovUser).where(GridgovUser.username == name))


def test_admin_sees_all_and_nobody_sees_nothing(session):
    assert count(session, EVERYTHING, Worker) == session.scalar(select(func.count()).select_from(Worker))
    assert count(session, NOTHING, Worker) == 0


def test_secretaries_see_their_own_community_only(session):
    one = scope_for_user(session, user(session, "secretary"))
    two = scope_for_user(session, user(session, "secretary2"))
    mine = set(session.scalars(select(Worker.id).where(visible(one, Worker))))
    theirs = set(session.scalars(select(Worker.id).where(visible(two, Worker))))
    assert mine and theirs and not mine & theirs
    community = session.get(Grid, user(session, "secretary").grid_id)
    for worker in session.scalars(select(Worker).where(Worker.id.in_(mine))):
        assert str(worker.grid.path).startswith(str(community.path))


def test_street_sees_its_communities(session):
    street = scope_for_user(session, user(session, "street"))
    assert count(session, street, Grid) == 1 + 3 + 3 * 2 + 3 * 2 * 2
    assert count(session, street, Volunteer) == 3 * 4


def test_volunteer_sees_only_own_record(session):
    me = user(session, "volunteer")
    scope = scope_for_user(session, me)
    assert scope == Scope("volunteer", volunteer_id=me.volunteer_id)
    assert session.scalars(select(Volunteer.id).where(visible(scope, Volunteer))).all() == [me.volunteer_id]
    records = session.scalars(select(ServiceRecord).where(visible(scope, ServiceRecord))).all()
    assert records and all(r.volunteer_id == me.volunteer_id for r in records)
    assert count(session, scope, Grid) == 0 and count(session, scope, Worker) == 0


def test_department_sees_itself(session):
    scope = scope_for_user(session, user(session, "department"))
    assert session.scalars(select(Department.name).where(visible(scope, Department))).all() == ["淇滨区城市管理局"]


def test_paired_units_are_seen_where_they_serve(session):
    jinshan = scope_for_user(session, user(session, "secretary2"))
    names = set(session.scalars(select(Department.name).where(visible(jinshan, Department))))
    assert "淇滨区教育局" in names  # paired with 金山社区
    assert "国家税务总局淇滨区税务局" not in names  # paired with other communities
    assert "淇滨区城市管理局" in names  # district-wide


def test_points_accounts_ledger_and_redemptions_follow_their_holder(session):
    """An account (and its ledger entries and redemptions) is seen where its volunteer or its
    worker is seen — a grid scope reads the holder's grid kept on the account, a department
    goes through the holders — checked here against the holders the scope sees, for every kind
    of scope."""
    from app.models import LedgerEntry, PointsAccount, Redemption

    scopes = [EVERYTHING, NOTHING] + [scope_for_user(session, user(session, name)) for name in
                                      ("street", "secretary", "secretary2", "worker", "department", "volunteer")]
    accounts = session.execute(select(PointsAccount.id, PointsAccount.volunteer_id, PointsAccount.worker_id)).all()
    for scope in scopes:
        volunteers = set(session.scalars(select(Volunteer.id).where(visible(scope, Volunteer))))
        workers = set(session.scalars(select(Worker.id).where(visible(scope, Worker))))
        expected = {a.id for a in accounts if a.volunteer_id in volunteers or a.worker_id in workers}
        if scope.kind == "volunteer":
            expected = {a.id for a in accounts if a.volunteer_id == scope.volunteer_id}
        assert set(session.scalars(select(PointsAccount.id).where(visible(scope, PointsAccount)))) == expected, scope
        entries = set(session.scalars(select(LedgerEntry.id).where(LedgerEntry.account_id.in_(expected or [0]))))
        assert set(session.scalars(select(LedgerEntry.id).where(visible(scope, LedgerEntry)))) == entries, scope
        redemptions = set(session.scalars(select(Redemption.id).where(Redemption.account_id.in_(expected or [0]))))
        assert set(session.scalars(select(Redemption.id).where(visible(scope, Redemption)))) == redemptions, scope
    street = scope_for_user(session, user(session, "street"))
    assert session.scalar(select(func.count()).select_from(PointsAccount).where(visible(street, PointsAccount)))


def test_an_account_keeps_its_holders_grid(session):
    """``points_accounts.grid_id`` is the holder's grid, held so by the database: a volunteer's or
    a worker's move carries the account along (and the scopes that see it), and an account
    written with another grid is refused."""
    import pytest
    from sqlalchemy import update
    from sqlalchemy.exc import IntegrityError

    from app.models import PointsAccount

    xiangjiang = session.scalar(select(Grid).where(Grid.code == "410611001001"))
    jinshan = session.scalar(select(Grid).where(Grid.code == "410611002001"))
    block = session.scalar(select(Grid).where(Grid.parent_id == jinshan.id).order_by(Grid.id).limit(1))
    volunteer = session.scalar(select(Volunteer).where(Volunteer.community_id == xiangjiang.id).limit(1))
    worker = session.scalar(select(Worker).join(Grid, Grid.id == Worker.grid_id)
                            .where(Grid.path.descendant_of(xiangjiang.path)).limit(1))
    accounts = {holder: session.scalar(select(PointsAccount).where(column == holder.id))
                for holder, column in ((volunteer, PointsAccount.volunteer_id), (worker, PointsAccount.worker_id))}
    assert accounts[volunteer].grid_id == xiangjiang.id and accounts[worker].grid_id == worker.grid_id

    def seen_by(name):
        scope = scope_for_user(session, user(session, name))
        return set(session.scalars(select(PointsAccount.id).where(visible(scope, PointsAccount))))

    mine = {account.id for account in accounts.values()}
    assert mine <= seen_by("secretary") and not mine & seen_by("secretary2")
    volunteer.community_id, worker.grid_id = jinshan.id, block.id
    session.commit()
    for account in accounts.values():
        session.refresh(account)
    assert (accounts[volunteer].grid_id, accounts[worker].grid_id) == (jinshan.id, block.id)
    assert mine <= seen_by("secretary2") and not mine & seen_by("secretary")

    for grid in (xiangjiang.id, None):
        with pytest.raises(IntegrityError):
            session.execute(update(PointsAccount).where(PointsAccount.id == accounts[volunteer].id).values(grid_id=grid))
        session.rollback()
    assert session.scalar(select(PointsAccount.grid_id).where(PointsAccount.id == accounts[volunteer].id)) == jinshan.id
