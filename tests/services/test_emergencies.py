"""平急结合: declaring a response pushes a task to every grid of the area at once; grids check in;
progress per street and community."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.models import Grid, ResponseTask
from app.services import emergencies
from app.services.errors import Conflict, DomainError, ValidationError

from .test_incidents import actor, grid


def declare(session, username="dispatcher", code="410611", level="III"):
    return emergencies.declare(session, actor(session, username), grid(session, code).id, level,
                               "防汛三级响应", "各网格立即排查低洼地带、地下车库，转移危险区域群众。")


def test_every_grid_of_the_area_gets_a_task_at_once(session):
    response = declare(session, code="410611001")  # 九州路街道
    street = grid(session, "410611001")
    in_area = session.scalar(select(func.count()).select_from(Grid).where(Grid.path.descendant_of(street.path)))
    assert session.scalar(select(func.count()).select_from(ResponseTask).where(ResponseTask.response_id == response.id)) == in_area
    assert emergencies.totals(session, response.id).done == 0


def test_check_in_and_progress(session):
    response = declare(session)
    worker = actor(session, "worker")
    tasks = session.scalars(select(ResponseTask).join(Grid).where(
        ResponseTask.response_id == response.id, Grid.code.like("410611001001-01%")).order_by(Grid.code)).all()
    assert len(tasks) == 3
    for task in tasks:
        emergencies.check_in(session, worker, task.id, "已排查，无险情")
    with pytest.raises(Conflict):
        emergencies.check_in(session, worker, tasks[0].id, "again")
    session.rollback()
    outside = session.scalar(select(ResponseTask.id).join(Grid).where(
        ResponseTask.response_id == response.id, Grid.code == "410611002001"))
    with pytest.raises(DomainError):
        emergencies.check_in(session, worker, outside, "x")
    session.rollback()
    streets = {p.name: (p.done, p.total) for p in emergencies.progress(session, response.id, "street")}
    assert streets["九州路街道"][0] == 3 and streets["金山街道"][0] == 0
    communities = {p.name: (p.done, p.total) for p in emergencies.progress(session, response.id, "community")}
    assert communities["湘江社区"] == (3, 7)
    assert emergencies.totals(session, response.id).done == 3
    pending = {g.code for g in emergencies.pending(session, response.id)}
    assert "410611001001-01-01" not in pending and "410611002001" in pending


@pytest.mark.parametrize("username,level,code", [("street", "III", "410611001"), ("dispatcher", "IV", "410611"),
                                                 ("secretary", "III", "410611001001")])
def test_only_dispatchers_declare_valid_levels(session, username, level, code):
    with pytest.raises(ValidationError):
        declare(session, username=username, level=level, code=code)


def test_ended_response_takes_no_check_in(session):
    response = declare(session)
    emergencies.end(session, actor(session, "dispatcher"), response.id)
    task = session.scalar(select(ResponseTask.id).join(Grid).where(ResponseTask.response_id == response.id,
                                                                  Grid.code == "410611001001-01"))
    with pytest.raises(Conflict):
        emergencies.check_in(session, actor(session, "worker"), task, "late")
