"""The server's clock (app/clock.py) and its pass (services/housekeeping.py): one pass escalates
what is overdue, freezes the ended months and pays the last month's workers' points; the next
finds nothing to do; the thread runs passes until stopped and survives a failed one; 0 seconds
turns it off."""
from __future__ import annotations

import time

from sqlalchemy import func, select, text

from app import clock
from app.models import AssessmentScore, Incident, worker_points_months
from app.services import assessment, housekeeping, worker_points

from .test_incidents import new_incident


def overdue_incident(session) -> int:
    incident = new_incident(session)
    session.execute(text("UPDATE incidents SET deadline = now() - interval '1 hour' WHERE id = :id"), {"id": incident.id})
    session.commit()
    return incident.id


def test_one_pass_does_the_calendars_work_and_the_next_finds_none(session):
    incident_id = overdue_incident(session)
    last = worker_points.last_month()
    assert not worker_points.is_awarded(session, last)
    assert session.scalar(select(func.count()).select_from(AssessmentScore)) == 0

    caught = housekeeping.catch_up(session)

    assert incident_id in caught.escalated
    session.expire_all()
    assert session.get(Incident, incident_id).level == "community"
    first = assessment.first_month(session)
    frozen = set(session.scalars(select(AssessmentScore.month).distinct()))
    assert last in frozen and last in caught.months_frozen
    assert caught.scores_frozen == session.scalar(select(func.count()).select_from(AssessmentScore)) > 0
    # every ended month from the first on record (within this year and the last) is frozen
    month = max(first, last.replace(year=last.year - 1, month=1))
    while month <= last:
        assert month in frozen, month
        month = assessment.next_month(month)
    assert caught.points_paid_for == last and worker_points.is_awarded(session, last)
    assert session.scalar(select(func.count()).select_from(worker_points_months)) == 1

    again = housekeeping.catch_up(session)
    assert not again.anything, again


def test_the_clock_runs_passes_until_stopped_and_outlives_a_failed_one(app, session, monkeypatch):
    incident_id = overdue_incident(session)
    calls = []
    real = housekeeping.catch_up

    def flaky(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("the database went away")
        return real(*args, **kwargs)

    monkeypatch.setattr(housekeeping, "catch_up", flaky)
    app.config["GRIDGOV_CLOCK_SECONDS"] = 0.05
    try:
        running = clock.start(app)
        deadline = time.monotonic() + 60
        while running.passes < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        running.stop()
        running.join(10)
    finally:
        app.config["GRIDGOV_CLOCK_SECONDS"] = 60
    assert not running.is_alive() and running.passes >= 3
    session.expire_all()
    assert session.get(Incident, incident_id).level == "community"  # a later pass did the work


def test_no_clock_at_zero_seconds(app):
    app.config["GRIDGOV_CLOCK_SECONDS"] = 0
    try:
        assert clock.start(app) is None
    finally:
        app.config["GRIDGOV_CLOCK_SECONDS"] = 60


def test_a_failing_step_or_month_does_not_hold_up_the_others(session, monkeypatch):
    """An incident whose escalation fails, or a month that cannot be frozen, fails again every
    minute: the other months are still frozen and the workers' points still paid."""
    overdue_incident(session)
    last = worker_points.last_month()
    first = assessment.first_month(session)
    assert first < last
    real_freeze = assessment.freeze

    def refuse(*args, **kwargs):
        raise RuntimeError("an incident the escalation cannot move")

    def freeze_but_the_first(session, month, *args, **kwargs):
        if month == max(first, last.replace(year=last.year - 1, month=1)):
            raise RuntimeError("a month that cannot be frozen")
        return real_freeze(session, month, *args, **kwargs)

    monkeypatch.setattr(housekeeping, "escalate_overdue", refuse)
    monkeypatch.setattr(assessment, "freeze", freeze_but_the_first)
    caught = housekeeping.catch_up(session)
    assert caught.failed[0] == "escalation" and len(caught.failed) == 2, caught.failed
    assert last in caught.months_frozen
    assert caught.points_paid_for == last and worker_points.is_awarded(session, last)


def test_the_clock_outlives_a_pass_whose_cleanup_fails_too(app, monkeypatch):
    """The database gone: the pass fails, and so may its rollback; the thread keeps running."""
    from app.extensions import db

    def gone(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(housekeeping, "catch_up", gone)
    with app.app_context():
        monkeypatch.setattr(db.session, "rollback", gone)
    app.config["GRIDGOV_CLOCK_SECONDS"] = 0.05
    try:
        running = clock.start(app)
        deadline = time.monotonic() + 30
        while running.passes < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        alive = running.is_alive()
        running.stop()
        running.join(10)
    finally:
        app.config["GRIDGOV_CLOCK_SECONDS"] = 60
    assert alive and running.passes >= 3


def test_an_idle_pass_reads_a_few_small_indexes_whatever_the_number_of_months(session):
    """Records since January of last year (up to 23 ended months): once they are frozen and the
    points paid, a pass makes the same few statements as with one month, every minute."""
    from sqlalchemy import event

    session.execute(text("UPDATE incidents SET created_at = :at WHERE id = (SELECT min(id) FROM incidents)"),
                    {"at": f"{assessment.current_month().year - 1}-01-15 10:00+08"})
    session.commit()
    first = housekeeping.catch_up(session)
    assert len(first.months_frozen) >= 12 and not first.failed
    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(session.get_bind(), "before_cursor_execute", listener)
    try:
        assert not housekeeping.catch_up(session).anything
    finally:
        event.remove(session.get_bind(), "before_cursor_execute", listener)
    assert len(statements) <= 6, statements
