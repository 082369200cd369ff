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
