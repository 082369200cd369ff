"""吹哨报到: blowing, reporting in, results, closing and rating, with what must be refused."""
from __future__ import annotations

import datetime

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from app.models import Department, Incident, IncidentEvent, Whistle
from app.services import incidents
from app.services import whistles
from app.services.errors import Conflict, DomainError, ValidationError
from app.services.scope import visible

from .test_incidents import actor, new_incident


def department(session, name):
    return session.scalar(select(Department).where(Department.name == name))


def later(hours=24):
    return datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=hours)


def street_incident(session):
    incident = new_incident(session, title="小区内违建")
    incidents.act(session, actor(session, "worker"), incident.id, "escalate", note="需社区处理")
    incidents.act(session, actor(session, "secretary"), incident.id, "escalate", note="需街道协调")
    return incident


def blow(session, incident, names=("淇滨区城市管理局", "淇滨区市政工程处"), **kw):
    ids = [department(session, n).id for n in names]
    return whistles.blow(session, actor(session, kw.pop("by", "street")), [incident.id], kw.pop("reason", "多部门联合执法"),
                         kw.pop("level", "street"), ids, kw.pop("deadline", later()))


def test_the_whole_whistle(session):
    incident = street_incident(session)
    whistle = blow(session, incident)
    assert whistle.status == "open" and len(whistle.summonses) == 2
    assert session.scalars(select(IncidentEvent.action).where(IncidentEvent.incident_id == incident.id)).all()[-1] == "whistle"
    urban = actor(session, "department")  # 城管
    assert session.scalar(select(Incident.id).where(Incident.id == incident.id, visible(urban.scope, Incident)))
    mine = next(s for s in whistle.summonses if s.department.name == "淇滨区城市管理局")
    other = next(s for s in whistle.summonses if s.department.name != "淇滨区城市管理局")
    with pytest.raises(Conflict):
        whistles.submit_result(session, urban, mine.id, "已拆除")  # report in first
    session.rollback()
    whistles.report_in(session, urban, mine.id)
    with pytest.raises(Conflict):
        whistles.report_in(session, urban, mine.id)  # once
    session.rollback()
    with pytest.raises(ValidationError):
        whistles.report_in(session, urban, other.id)  # not its summons
    session.rollback()
    whistles.submit_result(session, urban, mine.id, "已联合拆除违建")
    street = actor(session, "street")
    with pytest.raises(ValidationError):
        whistles.close(session, street, whistle.id, {mine.id: 5, other.id: 4})  # 市政 has no result yet
    session.rollback()
    admin = actor(session, "admin")
    whistles.report_in(session, admin, other.id)
    whistles.submit_result(session, admin, other.id, "已修复管线")
    with pytest.raises(ValidationError):
        whistles.close(session, street, whistle.id, {mine.id: 5, other.id: 9})
    session.rollback()
    whistles.close(session, street, whistle.id, {mine.id: 5, other.id: 4})
    session.expire_all()
    whistle = session.get(Whistle, whistle.id)
    assert whistle.status == "closed" and sorted(s.rating for s in whistle.summonses) == [4, 5]


@pytest.mark.parametrize("kwargs,error", [
    ({"names": ()}, ValidationError),
    ({"names": ("国家税务总局淇滨区税务局",)}, ValidationError),  # a paired unit, not a functional department
    ({"deadline": datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=1)}, ValidationError),
    ({"deadline": None}, ValidationError),
    ({"reason": " "}, ValidationError),
    ({"by": "secretary"}, ValidationError),
    ({"by": "street", "level": "district"}, ValidationError),
    ({"by": "secretary2"}, DomainError),
])
def test_bad_whistles_are_refused(session, kwargs, error):
    incident = street_incident(session)
    before = session.scalar(select(func.count()).select_from(Whistle))
    with pytest.raises(error):
        blow(session, incident, **kwargs)
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Whistle)) == before


def test_the_database_refuses_closing_without_results_and_a_past_deadline(session):
    whistle = blow(session, street_incident(session))
    with pytest.raises(DBAPIError):
        session.execute(text("UPDATE whistles SET status = 'closed', closed_at = now() WHERE id = :id"), {"id": whistle.id})
    session.rollback()
    with pytest.raises(DBAPIError):
        session.execute(text("UPDATE whistles SET deadline = blown_at - interval '1 minute' WHERE id = :id"), {"id": whistle.id})
    session.rollback()


def test_dispatcher_blows_at_district_level(session):
    incident = street_incident(session)
    whistle = blow(session, incident, by="dispatcher", level="district", names=("淇滨区应急管理局",))
    assert whistle.level == "district" and whistle.grid.level == "district"
    with pytest.raises(ValidationError):  # the street did not blow this one
        whistles.close(session, actor(session, "street"), whistle.id, {})


def test_the_board_pages_open_whistles_nearest_deadline_first(session):
    from app.services.scope import EVERYTHING

    first = blow(session, street_incident(session), deadline=later(48))
    second = blow(session, street_incident(session), deadline=later(2))
    session.execute(text("UPDATE whistles SET blown_at = now() - interval '3 hours', deadline = now() - interval '1 hour' "
                         "WHERE id = :id"), {"id": first.id})
    session.commit()
    open_now = session.scalars(select(Whistle).where(Whistle.status == "open")
                               .order_by(Whistle.deadline, Whistle.id)).all()
    late = sum(w.deadline < datetime.datetime.now(datetime.timezone.utc) for w in open_now)
    pages = [whistles.open_board(session, EVERYTHING, page, per_page=2) for page in range(len(open_now))]
    assert all((total, overdue) == (len(open_now), late) for total, overdue, _ in pages)
    assert [w.id for _, _, page in pages for w in page] == [w.id for w in open_now]
    assert all(len(page) <= 2 for _, _, page in pages) and open_now.index(first) < open_now.index(second)
    assert whistles.open_board(session, EVERYTHING, 10**20, per_page=2) == (len(open_now), late, [])
