"""Issue 24, finding 1: "is grid A under grid B" is answered label by label, everywhere. Street
path ``1.2`` is a text prefix of ``1.2900.2901``, a grid of another street: it is not under it."""
from __future__ import annotations

import datetime

import pytest
from sqlalchemy import select

from app.models import Grid, Worker
from app.services import incidents
from app.services.errors import ValidationError
from app.services.grids import check_grid
from app.services.scope import can_write_under, grid_scope, is_under

from .test_incidents import actor, new_incident


@pytest.mark.parametrize("path, ancestor, expected", [
    ("1.2", "1.2", True),
    ("1.2.5.7", "1.2", True),
    ("1.24.25.26", "1.2", False),  # sibling ids 2 and 24
    ("1.310", "1.3", False),  # sibling ids 3 and 310
    ("1.3.10", "1.3", True),
    ("1", "1.3", False),
    ("12.3", "1", False),
    (None, "1", False),
])
def test_is_under_compares_whole_labels(path, ancestor, expected):
    assert is_under(path, ancestor) is expected


def prefix_street(session):
    """A second street whose id starts with the demo street's id (九州路街道, the 'street' login's
    scope), with a community, a block and a grid worker under it."""
    street = session.get(Grid, actor(session, "street").scope.grid_id)
    base = int(f"{street.id}900")
    twin = Grid(id=base, code=f"T{base}", name="前缀街道", level="street", parent_id=street.parent_id)
    session.add(twin)
    session.flush()
    community = Grid(id=base + 1, code=f"T{base + 1}", name="前缀社区", level="community", parent_id=twin.id)
    session.add(community)
    session.flush()
    block = Grid(id=base + 2, code=f"T{base + 2}", name="前缀片区", level="block", parent_id=community.id)
    session.add(block)
    session.flush()
    worker = Worker(name="前缀网格员", role="grid_worker", grid_id=block.id, phone="13912345678", employment="full_time",
                    start_date=datetime.date(2024, 1, 1))
    session.add(worker)
    session.commit()
    assert str(block.path).startswith(str(street.path))  # the trap: a text prefix
    return street, block, worker


def test_a_street_cannot_assign_to_a_worker_of_a_street_whose_id_shares_its_prefix(session):
    street, block, stranger = prefix_street(session)
    incident = new_incident(session)
    incidents.act(session, actor(session, "worker"), incident.id, "escalate", note="需社区处理")
    incidents.act(session, actor(session, "secretary"), incident.id, "escalate", note="需街道协调")
    officer = actor(session, "street")
    incidents.act(session, officer, incident.id, "accept")
    with pytest.raises(ValidationError):
        incidents.act(session, officer, incident.id, "assign", worker_id=stranger.id)
    session.rollback()
    assert session.get(type(incident), incident.id).handler_worker_id is None
    assert stranger not in incidents.assignable_workers(session, incident)


def test_assigning_needs_a_grid_worker_or_leader(session):
    incident = new_incident(session, username="secretary", code="410611001001")
    secretary = actor(session, "secretary")
    incidents.act(session, secretary, incident.id, "accept")
    cleaner = Worker(name="保洁员甲", role="cleaner", grid_id=incident.grid_id, phone="13912345670", employment="full_time",
                    start_date=datetime.date(2024, 1, 1))
    session.add(cleaner)
    session.commit()
    with pytest.raises(ValidationError):
        incidents.act(session, secretary, incident.id, "assign", worker_id=cleaner.id)
    session.rollback()
    for junk in ("", "abc", "99999999999999999999", -1):
        with pytest.raises(ValidationError):
            incidents.act(session, secretary, incident.id, "assign", worker_id=junk)
        session.rollback()


def test_scope_checks_compare_labels(session):
    street, block, _ = prefix_street(session)
    scope = grid_scope(session, street.id)
    assert not can_write_under(scope, block)
    assert can_write_under(scope, session.scalar(select(Grid).where(Grid.parent_id == street.id)))
    # a secretary of the street cannot hang a grid under the other street's block either
    newcomer = Grid(code="T-NEW-1", name="新楼", level="building", parent_id=block.id)
    with pytest.raises(ValidationError):
        check_grid(session, scope, newcomer, is_new=True)
    session.rollback()
