"""Issue 24, finding 2: a state check and the write it guards happen under one row lock or one
conditional statement. On 7e331d6 a department's result landed on a whistle already closed and
rated (3 of 10 rounds with 2 workers, 7 of 10 with 8).

Each test runs two actions in two threads against real PostgreSQL and makes the race happen every
time instead of now and then: the first action is held just before its write (its commit) until
the second has finished, or for ``HOLD`` seconds when the second cannot finish because it waits
for the first's lock. If the second finished while the first was held, the first checked a state
that is gone and must be refused; if the first's lock made the second wait, both may succeed, in
that order."""
from __future__ import annotations

import datetime
import threading

from sqlalchemy import event, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import sessionmaker

from app.models import EmergencyResponse, Incident, IncidentEvent, LedgerEntry, ResponseTask, ServiceRecord, Whistle
from app.services import emergencies, incidents, points, whistles
from app.services.errors import DomainError
from app.services.scope import EVERYTHING

from .test_emergencies import declare
from .test_incidents import actor
from .test_points_concurrency import engine_for
from .test_whistles import blow, street_incident

HOLD = 2.0  # seconds the first action waits for the second, at most


def race(session, monkeypatch, held_at, first, second):
    """Run ``first(session)`` and ``second(session)`` in two threads, ``first`` held at
    ``held_at`` until ``second`` is done: "commit" (its unit of work's commit) or (module, name of
    the function that writes its change). Returns (first's outcome, second's outcome, whether
    second was done before first wrote)."""
    engine = engine_for(session)
    make_session = sessionmaker(engine)
    started, second_done = threading.Event(), threading.Event()
    seen = {"second_before_write": False}

    def hold():
        if threading.current_thread().name == "first" and not started.is_set():
            started.set()
            seen["second_before_write"] = second_done.wait(HOLD)

    if held_at != "commit":
        module, write = held_at
        real = getattr(module, write)

        def held(*args, **kwargs):
            hold()
            return real(*args, **kwargs)

        monkeypatch.setattr(module, write, held)
    outcomes = {}

    def run(name, action):
        with make_session() as own:
            if held_at == "commit":  # before the commit flushes the changes
                event.listen(own, "before_commit", lambda _session: hold())
            try:
                outcomes[name] = action(own)
            except (DomainError, DBAPIError) as error:
                own.rollback()
                outcomes[name] = error
            finally:
                if name == "second":
                    second_done.set()

    one = threading.Thread(target=run, args=("first", first), name="first")
    one.start()
    assert started.wait(30), "the first action never reached its write"
    two = threading.Thread(target=run, args=("second", second), name="second")
    two.start()
    one.join(60)
    two.join(60)
    engine.dispose()
    return outcomes["first"], outcomes["second"], seen["second_before_write"]


def refused(outcome) -> bool:
    return isinstance(outcome, (DomainError, DBAPIError))


def answered_whistle(session):
    """A whistle whose summoned departments have all reported in and submitted a result."""
    whistle = blow(session, street_incident(session))
    admin = actor(session, "admin")
    for summons in whistle.summonses:
        whistles.report_in(session, admin, summons.id)
        whistles.submit_result(session, admin, summons.id, "已处置")
    return whistle


def test_no_result_lands_on_a_closed_whistle(session, monkeypatch):
    whistle = answered_whistle(session)
    street, urban = actor(session, "street"), actor(session, "department")
    mine = next(s.id for s in whistle.summonses if s.department_id == urban.scope.department_id)
    ratings = {s.id: 4 for s in whistle.summonses}
    result, closed, close_first = race(
        session, monkeypatch, "commit",
        lambda s: whistles.submit_result(s, urban, mine, "补充：已回访"),
        lambda s: whistles.close(s, street, whistle.id, ratings))
    assert not refused(closed)
    assert not (close_first and not refused(result)), "a result was written on a closed whistle"
    session.expire_all()
    assert session.get(Whistle, whistle.id).status == "closed"


def test_a_close_in_progress_is_not_rated_on_stale_results(session, monkeypatch):
    """The other way round: a result submitted while the whistle is being closed waits for the
    close and is then refused; it never changes what the blower rated."""
    whistle = answered_whistle(session)
    street, admin = actor(session, "street"), actor(session, "admin")
    ratings = {s.id: 5 for s in whistle.summonses}
    closing, reporting, report_first = race(
        session, monkeypatch, "commit",
        lambda s: whistles.close(s, street, whistle.id, ratings),
        lambda s: whistles.submit_result(s, admin, whistle.summonses[0].id, "更正结果"))
    assert not (report_first and not refused(closing) and not refused(reporting))
    session.expire_all()
    summons = session.get(type(whistle.summonses[0]), whistle.summonses[0].id)
    closed = session.get(Whistle, whistle.id)
    if closed.status == "closed":
        assert summons.result_at <= closed.closed_at


def test_no_check_in_on_an_ended_response(session, monkeypatch):
    response = declare(session, code="410611001001")
    task = session.scalar(select(ResponseTask.id).where(ResponseTask.response_id == response.id).limit(1))
    dispatcher, secretary = actor(session, "dispatcher"), actor(session, "secretary")
    checked, ended, end_first = race(
        session, monkeypatch, (emergencies, "change_once"),
        lambda s: emergencies.check_in(s, secretary, task, "已排查"),
        lambda s: emergencies.end(s, dispatcher, response.id))
    assert not refused(ended)
    assert not (end_first and not refused(checked)), "a grid checked in after the response ended"
    session.expire_all()
    assert session.get(EmergencyResponse, response.id).status == "ended"


def test_no_whistle_over_an_incident_no_longer_open(session, monkeypatch):
    street = actor(session, "street")
    departments = [s.department_id for s in blow(session, street_incident(session)).summonses]
    incident = street_incident(session)  # held by the street, reported
    deadline = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=8)
    blown, rejected, reject_first = race(
        session, monkeypatch, "commit",
        lambda s: whistles.blow(s, street, [incident.id], "联合执法", "street", departments, deadline),
        lambda s: incidents.act(s, street, incident.id, "reject", note="不属于治理事项"))
    assert not refused(rejected)
    assert not (reject_first and not refused(blown)), "a whistle was blown over a rejected incident"
    session.expire_all()
    actions = session.scalars(select(IncidentEvent.action).where(IncidentEvent.incident_id == incident.id)
                              .order_by(IncidentEvent.id)).all()
    assert session.get(Incident, incident.id).status == "rejected"
    assert "whistle" not in actions[actions.index("reject"):]


def test_an_award_prices_the_record_as_it_stays(session, monkeypatch):
    """Awarding a service record while it is edited: the ledger and the record agree."""
    account = points.account_of_volunteer(session, actor(session, "volunteer").scope.volunteer_id)
    rule = session.scalar(select(ServiceRecord.rule_id).where(ServiceRecord.rule_id.is_not(None)).limit(1))
    record = ServiceRecord(volunteer_id=account.volunteer_id, date=datetime.date(2026, 5, 1), hours=2,
                           activity="清洁楼道", rule_id=rule)
    session.add(record)
    session.commit()

    def edit(s):
        row = s.get(ServiceRecord, record.id)
        row.hours = 8
        s.commit()
        return row

    awarded, edited, edit_first = race(session, monkeypatch, "commit",
                                       lambda s: points.award(s, EVERYTHING, [record.id], None), edit)
    session.expire_all()
    stored = session.get(ServiceRecord, record.id)
    earned = session.scalars(select(LedgerEntry.amount).where(LedgerEntry.service_record_id == record.id,
                                                              LedgerEntry.kind == "earn")).all()
    assert earned == [points.points_for(stored)], "the ledger priced other hours than the record keeps"
    assert refused(edited) or edit_first  # after the award, the hours are frozen
