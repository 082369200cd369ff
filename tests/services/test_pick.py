"""The typed pickers' rows (services/search.py ``pick`` and ``picked``)."""
from sqlalchemy import select

from app.models import Grid, Volunteer, Worker
from app.models.users import GridgovUser
from app.services import search
from app.services.scope import EVERYTHING, NOTHING, scope_for_user, visible


def _scope(session, name):
    return scope_for_user(session, session.scalar(select(GridgovUser).where(GridgovUser.username == name)))


def test_pick_names_the_scope_rows_in_code_order_a_page_at_a_time(session):
    street = _scope(session, "street")
    seen = set(session.scalars(select(Grid.id).where(visible(street, Grid))))
    first, more = search.pick(session, street, Grid, "", page=1)
    second, more2 = search.pick(session, street, Grid, "", page=2)
    assert len(first) == 20 and more and not more2
    assert {key for key, _ in first + second} == seen
    codes = [session.get(Grid, key).code for key, _ in first + second]
    assert codes == sorted(codes)
    assert search.pick(session, NOTHING, Grid, "", page=1) == ([], False)


def test_pick_matches_names_and_code_starts_literally(session):
    rows, _ = search.pick(session, EVERYTHING, Grid, "金山")
    assert rows and all("金山" in label for _, label in rows)
    community = session.scalar(select(Grid).where(Grid.code == "410611002001"))
    assert (community.id, f"金山社区（410611002001）· {community.parent.name}") in rows
    assert search.pick(session, EVERYTHING, Grid, "_")[0] == []  # LIKE's wildcard, taken as text
    rows, _ = search.pick(session, EVERYTHING, Grid, "", where=(Grid.level == "community",))
    assert rows and all(session.get(Grid, key).level == "community" for key, _ in rows)


def test_people_are_labelled_with_their_grid(session):
    worker = session.scalar(select(Worker).order_by(Worker.id))
    rows, _ = search.pick(session, EVERYTHING, Worker, worker.name)
    assert (worker.id, f"{worker.name}（{worker.grid.name}）") in rows
    volunteer = session.scalar(select(Volunteer).order_by(Volunteer.id))
    assert search.label(session, Volunteer, volunteer) == f"{volunteer.name}（{volunteer.community.name}）"


def test_picked_reads_submitted_keys_through_the_scope(session):
    secretary = _scope(session, "secretary")
    own = session.scalar(select(Worker.id).where(visible(secretary, Worker)))
    other = session.scalar(select(Worker.id).where(~visible(secretary, Worker)))
    assert [row.id for row in search.picked(session, secretary, Worker, [own, other, None])] == [own]
    assert search.picked(session, secretary, Worker, []) == []
    # a relation to FAB's User is given User rows, chosen through the logins' scope
    from flask_appbuilder.security.sqla.models import User

    admin_id = session.scalar(select(GridgovUser.id).where(GridgovUser.username == "admin"))
    assert search.picked(session, secretary, GridgovUser, [admin_id], as_model=User) == []
    rows = search.picked(session, EVERYTHING, GridgovUser, [admin_id], as_model=User)
    assert [type(row) for row in rows] == [User]
