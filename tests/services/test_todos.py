"""To-dos (待办), urging (催办), supervision (督办) and who rates, on the demo district."""
from __future__ import annotations

import pytest
from sqlalchemy import select, text, update

from app.models import Incident, IncidentEvent
from app.services import incidents, todos
from app.services.errors import Conflict, OutOfScope, ValidationError
from app.services.departments import functional_departments

from .test_incidents import actor, new_incident


def section(session, username, key):
    bench = todos.workbench(session, actor(session, username))
    return bench.section(key)


def ids(section):
    return [item.id for item in section.items] if section else []


def past_deadline(session, incident, hours=1):
    """Move the incident's deadline into the past (as time passing would)."""
    session.execute(update(Incident).where(Incident.id == incident.id).values(
        deadline_from=text(f"now() - interval '{hours + 10} hours'"), deadline=text(f"now() - interval '{hours} hours'")))
    session.commit()
    session.refresh(incident)


def test_a_reported_incident_waits_for_the_grid_worker_and_the_secretary(session):
    incident = new_incident(session)
    held = section(session, "worker", "held")
    assert incident.id in ids(held) and held.count >= 1
    assert incident.id in ids(section(session, "secretary", "held"))
    assert incident.id not in ids(section(session, "secretary2", "held"))
    assert section(session, "street", "held") is None or incident.id not in ids(section(session, "street", "held"))
    assert todos.waiting(session, actor(session, "worker")) >= 1


def test_an_escalated_incident_leaves_the_worker_and_reaches_the_street(session):
    incident = new_incident(session)
    worker = actor(session, "worker")
    before = todos.waiting(session, worker)
    incidents.act(session, worker, incident.id, "escalate", note="需社区协调")
    incidents.act(session, actor(session, "secretary"), incident.id, "escalate", note="需街道协调")
    assert todos.waiting(session, worker) == before - 1
    assert incident.id in ids(section(session, "street", "held"))
    assert incident.id not in ids(section(session, "secretary", "held"))


def test_near_deadline_and_overdue(session):
    incident = new_incident(session)
    now = session.scalar(select(text("now()")))
    # 85 % of the way from deadline_from to the deadline: near
    session.execute(update(Incident).where(Incident.id == incident.id).values(
        deadline_from=text("now() - interval '85 hours'"), deadline=text("now() + interval '15 hours'")))
    session.commit()
    session.refresh(incident)
    assert incidents.deadline_state(incident, now) == "near"
    item = next(i for i in section(session, "worker", "held").items if i.id == incident.id)
    assert item.deadline == "near" and not item.urgent
    past_deadline(session, incident)
    item = next(i for i in section(session, "worker", "held").items if i.id == incident.id)
    assert item.deadline == "overdue" and item.urgent
    assert section(session, "worker", "held").late >= 1
    # the level above sees it overdue too: the street among the overdue under it
    assert incident.id in ids(section(session, "street", "overdue_below"))
    assert incident.id in ids(section(session, "dispatcher", "overdue_below"))


def test_a_superior_urges_an_overdue_incident_and_the_holder_sees_it_until_acting(session):
    incident = new_incident(session)
    worker, street = actor(session, "worker"), actor(session, "street")
    with pytest.raises(Conflict):  # not overdue yet
        incidents.oversee(session, street, incident.id, "urge", "请尽快处理")
    past_deadline(session, incident)
    assert incidents.oversight_actions(session, worker, incident) == []  # the holder does not urge himself
    assert "urge" in incidents.oversight_actions(session, street, incident)
    with pytest.raises(ValidationError):
        incidents.oversee(session, street, incident.id, "urge", "  ")  # a note is needed
    with pytest.raises(ValidationError):
        incidents.oversee(session, worker, incident.id, "urge", "自己催自己")
    incidents.oversee(session, street, incident.id, "urge", "请今天内处理")
    assert incident.urged_at is not None
    last = session.scalars(select(IncidentEvent).where(IncidentEvent.incident_id == incident.id)
                           .order_by(IncidentEvent.id.desc())).first()
    assert (last.action, last.note, last.to_status) == ("urge", "请今天内处理", "reported")
    items = section(session, "worker", "held").items
    assert items[0].id == incident.id and items[0].urged  # urged comes first
    incidents.act(session, worker, incident.id, "accept")
    assert incident.urged_at is None


def test_another_street_cannot_urge_or_supervise(session):
    incident = new_incident(session)
    past_deadline(session, incident)
    with pytest.raises(OutOfScope):
        incidents.oversee(session, actor(session, "secretary2"), incident.id, "urge", "催")


def test_supervision_is_flagged_once_and_kept_until_closed(session):
    incident = new_incident(session)
    street = actor(session, "street")
    incidents.oversee(session, street, incident.id, "supervise", "列入督办")
    assert incident.supervised_at is not None
    assert "supervise" not in incidents.oversight_actions(session, street, incident)
    with pytest.raises(Conflict):
        incidents.oversee(session, street, incident.id, "supervise", "再次督办")


def test_the_resolver_cannot_rate_his_own_work_and_staff_ratings_are_marked(session):
    incident = new_incident(session)
    worker = actor(session, "worker")
    for action in ("accept", "handle"):
        incidents.act(session, worker, incident.id, action)
    incidents.act(session, worker, incident.id, "resolve", note="已清理")
    assert "rate" not in incidents.allowed_actions(session, worker, incident)
    with pytest.raises(ValidationError):
        incidents.act(session, worker, incident.id, "rate", rating=5)
    assert incident.id in ids(section(session, "secretary", "to_rate"))
    incidents.act(session, actor(session, "secretary"), incident.id, "rate", rating=4, note="居民电话评价")
    assert incident.status == "closed" and incident.rated_on_behalf is True
    with pytest.raises(Exception):  # a closed incident keeps who rated it
        session.execute(update(Incident).where(Incident.id == incident.id).values(rated_on_behalf=False))
        session.flush()
    session.rollback()


def test_a_department_sees_what_was_dispatched_to_it(session):
    incident = new_incident(session)
    secretary = actor(session, "secretary")
    department = next(d for d in functional_departments(session) if d.name == "淇滨区城市管理局")
    worker = actor(session, "worker")
    incidents.act(session, worker, incident.id, "escalate", note="需社区协调")
    incidents.act(session, secretary, incident.id, "dispatch", department_id=department.id)
    officer = actor(session, "department")
    assert incident.id in ids(section(session, "department", "department"))
    assert todos.waiting(session, officer) >= 1
    assert "urge" not in incidents.oversight_actions(session, secretary, incident)


def test_every_role_gets_a_workbench_without_error(session):
    for username in ("admin", "dispatcher", "street", "secretary", "secretary2", "worker", "department", "volunteer",
                     "leader"):
        bench = todos.workbench(session, actor(session, username))
        assert bench.waiting == todos.waiting(session, actor(session, username))


def test_a_department_sees_its_summonses_on_its_home(session):
    from ..services.test_whistles import blow, street_incident

    blow(session, street_incident(session))  # summons 城管 (the demo department officer's) and 市政
    summonses = section(session, "department", "summonses")
    assert summonses is not None and summonses.count >= 1
    assert {item.state for item in summonses.items} == {"to_report_in"}


def test_to_rate_lists_what_the_user_may_rate(session):
    incident = new_incident(session)
    secretary = actor(session, "secretary")
    for action in ("accept", "handle"):
        incidents.act(session, secretary, incident.id, action)
    incidents.act(session, secretary, incident.id, "resolve", note="已处理")
    assert incident.id not in ids(section(session, "secretary", "to_rate"))  # she resolved it
    assert incident.id in ids(section(session, "worker", "to_rate"))
    assert "rate" in incidents.allowed_actions(session, actor(session, "worker"), incident)


def test_an_urging_waits_for_the_holder_before_another(session):
    incident = new_incident(session)
    past_deadline(session, incident)
    street = actor(session, "street")
    incidents.oversee(session, street, incident.id, "urge", "请处理")
    assert "urge" not in incidents.oversight_actions(session, street, incident)
    with pytest.raises(Conflict):
        incidents.oversee(session, street, incident.id, "urge", "再催")
    incidents.act(session, actor(session, "worker"), incident.id, "accept")
    assert "urge" in incidents.oversight_actions(session, street, incident)
