"""吹哨报到: the street or district blows a whistle on incidents, summoned departments report
in and submit results, and the blower closes the whistle and rates each department."""
from __future__ import annotations

import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, selectinload

from ..models import Department, Grid, Incident, IncidentEvent, Whistle, WhistleSummons
from ..models.choices import OPEN_STATUSES
from .departments import FUNCTIONAL
from .errors import Conflict, OutOfScope, ValidationError
from .incidents import Actor
from .scope import can_write_under, get_visible, visible
from .typed import as_keys
from .unit_of_work import change_once, unit_of_work
from .users import DEPARTMENT_OFFICER, DISPATCHER, STREET_OFFICER

BLOWER_LEVEL = {STREET_OFFICER: "street", DISPATCHER: "district"}
# The latest report-in deadline a whistle may set: a summons is for days, not years.
DEADLINE_HORIZON = datetime.timedelta(days=30)
# A whistle's reason is also each incident's timeline note, after "#<whistle> " (500 in all).
REASON_MOST = 480


def blower_grid(session: Session, actor: Actor, level: str) -> Grid:
    """The street or district grid the actor blows the whistle for."""
    if level not in ("street", "district"):
        raise ValidationError(_l("Blow the whistle at street or district level."), field="level")
    if actor.is_admin:
        grid = None
    else:
        if not any(BLOWER_LEVEL.get(role) == level for role in actor.roles) or actor.scope.kind != "grid":
            raise ValidationError(_l("Only street officers and district dispatchers blow the whistle, at their own level."),
                                  field="level")
        grid = session.get(Grid, actor.scope.grid_id)
    return grid


def blow(session: Session, actor: Actor, incident_ids, reason: str, level: str, department_ids,
         deadline: datetime.datetime | None) -> Whistle:
    """Summon departments to incidents the actor's street (or district) holds or oversees."""
    with unit_of_work(session):
        reason = (reason or "").strip()
        if not reason:
            raise ValidationError(_l("Say why the whistle is blown."), field="reason")
        if len(reason) > REASON_MOST:
            raise ValidationError(_l("A reason has at most %(most)s characters.", most=REASON_MOST), field="reason")
        grid = blower_grid(session, actor, level)
        ids = as_keys(incident_ids)
        if not ids:
            raise ValidationError(_l("Choose the incidents the whistle is for."), field="incidents")
        # Shared locks on the incidents (in id order): none can be closed while the whistle is blown
        # over it; two whistles over one incident do not wait for each other.
        incidents = session.scalars(select(Incident).where(Incident.id.in_(ids), visible(actor.scope, Incident))
                                    .order_by(Incident.id).with_for_update(read=True, of=Incident)
                                    .execution_options(populate_existing=True)).all()
        if len(incidents) != len(ids):
            raise OutOfScope(_l("Record not found."))
        for incident in incidents:
            if incident.status not in OPEN_STATUSES:
                raise ValidationError(_l("Incident No. %(id)s is no longer open.", id=incident.id), field="incidents")
            if grid is not None and not can_write_under(actor.scope, incident.grid):
                raise ValidationError(_l("Incident No. %(id)s is outside your area.", id=incident.id), field="incidents")
        if grid is None:  # an administrator blows for the district of the first incident
            grid = session.scalar(select(Grid).where(Grid.level == level, Grid.path.ancestor_of(incidents[0].grid.path)))
            if grid is None:
                raise ValidationError(_l("Blow the whistle at street or district level."), field="level")
        department_ids = as_keys(department_ids)
        departments = session.scalars(select(Department).where(Department.id.in_(department_ids), FUNCTIONAL)).all()
        if not department_ids:
            raise ValidationError(_l("Summon at least one department."), field="departments")
        if len(departments) != len(department_ids):
            raise ValidationError(_l("Choose one of the functional departments."), field="departments")
        now = session.scalar(select(func.now()))
        if deadline is None:
            raise ValidationError(_l("Give the deadline to report in."), field="deadline")
        if deadline.tzinfo is None:
            raise ValidationError(_l("Give the deadline to report in."), field="deadline")
        if deadline <= now:
            raise ValidationError(_l("The deadline must be in the future."), field="deadline")
        if deadline > now + DEADLINE_HORIZON:
            raise ValidationError(_l("Departments report in within %(days)s days: choose an earlier deadline.",
                                     days=DEADLINE_HORIZON.days), field="deadline")
        whistle = Whistle(level=level, grid_id=grid.id, reason=reason, deadline=deadline, status="open",
                          blown_by_id=actor.user_id, blown_by_name=actor.name[:130])
        whistle.summonses = [WhistleSummons(department_id=d.id) for d in departments]
        whistle.incidents = list(incidents)
        session.add(whistle)
        session.flush()
        names = "、".join(d.name for d in departments)
        for incident in incidents:
            session.add(IncidentEvent(
                incident_id=incident.id, action="whistle", actor_id=actor.user_id, actor_name=actor.name[:130],
                actor_role=actor.role_label[:64], from_status=incident.status, to_status=incident.status,
                from_level=incident.level, to_level=incident.level, handler=names[:130],
                note=f"#{whistle.id} {reason}"[:500],
            ))
        return whistle


def open_incidents(session: Session, scope, most: int = 200) -> list[Incident]:
    """The open incidents the scope sees, newest first, with their grids, at most ``most``: what
    the blow form offers."""
    return list(session.scalars(
        select(Incident).where(visible(scope, Incident), Incident.status.in_(OPEN_STATUSES))
        .options(selectinload(Incident.grid)).order_by(Incident.id.desc()).limit(most)))


def incidents_seen(session: Session, scope, whistle: Whistle) -> tuple[list[Incident], int]:
    """The whistle's incidents the scope sees, with their grids, and how many others it covers: a
    whistle over two communities' incidents shows each community's staff their own only."""
    ids = [incident.id for incident in whistle.incidents]
    seen = session.scalars(select(Incident).where(Incident.id.in_(ids), visible(scope, Incident))
                           .options(selectinload(Incident.grid)).order_by(Incident.id)).all() if ids else []
    return list(seen), len(ids) - len(seen)


BOARD_PAGE = 50


def open_board(session: Session, scope, page: int = 0, per_page: int = BOARD_PAGE) -> tuple[int, int, list[Whistle]]:
    """(open whistles the scope sees, how many of them are past their report-in deadline, the
    ``page``-th ``per_page`` of them, the nearest deadline first, with their grids and summoned
    departments). A city's administrator sees some 500 open whistles: a page of 50 is read and
    printed, not all of them. A page past the last is empty (and not asked of the database: its
    offset may not even fit in a bigint)."""
    seen = (Whistle.status == "open", visible(scope, Whistle))
    total, overdue = session.execute(select(
        func.count(), func.count().filter(Whistle.deadline < func.now())).where(*seen)).one()
    if max(page, 0) * per_page >= total:
        return int(total), int(overdue), []
    whistles = session.scalars(
        select(Whistle).where(*seen)
        .options(selectinload(Whistle.summonses).selectinload(WhistleSummons.department),
                 selectinload(Whistle.grid))
        .order_by(Whistle.deadline, Whistle.id).offset(max(page, 0) * per_page).limit(per_page)).all()
    return int(total), int(overdue), list(whistles)


def _lock_open(session: Session, whistle_id: int) -> None:
    """Lock the whistle's row and refuse when it is no longer open. Reporting in, submitting a
    result and closing each take this lock first: a result cannot land on a whistle that is being
    closed, nor a whistle close while a result is being written."""
    status = session.scalar(select(Whistle.status).where(Whistle.id == whistle_id).with_for_update())
    if status != "open":
        raise Conflict(_l("This whistle is closed."))


def _summons_for(session: Session, actor: Actor, summons_id) -> WhistleSummons:
    summons = get_visible(session, actor.scope, WhistleSummons, summons_id)
    if not actor.is_admin and not (DEPARTMENT_OFFICER in actor.roles and actor.scope.kind == "department"
                                   and actor.scope.department_id == summons.department_id):
        raise ValidationError(_l("Only the summoned department reports in and submits its result."))
    _lock_open(session, summons.whistle_id)
    session.refresh(summons)
    return summons


def report_in(session: Session, actor: Actor, summons_id) -> WhistleSummons:
    """报到: the department answers the summons (once)."""
    with unit_of_work(session):
        summons = _summons_for(session, actor, summons_id)
        change_once(session, update(WhistleSummons)
                    .where(WhistleSummons.id == summons.id, WhistleSummons.reported_at.is_(None))
                    .values(reported_at=func.statement_timestamp(), reported_by_id=actor.user_id).returning(WhistleSummons.id),
                    _l("Your department has already reported in."))
    session.refresh(summons)
    return summons


def submit_result(session: Session, actor: Actor, summons_id, result: str) -> WhistleSummons:
    """What the department did, after reporting in."""
    with unit_of_work(session):
        summons = _summons_for(session, actor, summons_id)
        result = (result or "").strip()
        if not result:
            raise ValidationError(_l("Say what your department did."), field="result")
        if len(result) > 1000:
            raise ValidationError(_l("The result has at most 1000 characters."), field="result")
        if summons.reported_at is None:
            raise Conflict(_l("Report in before submitting the result."))
        summons.result = result
        summons.result_at = func.statement_timestamp()
        return summons


def close(session: Session, actor: Actor, whistle_id, ratings: dict) -> Whistle:
    """The blower closes the whistle once every result is in, rating each department 1–5."""
    with unit_of_work(session):
        whistle = get_visible(session, actor.scope, Whistle, whistle_id)
        if not actor.is_admin:
            if not any(BLOWER_LEVEL.get(role) == whistle.level for role in actor.roles) or \
                    actor.scope.kind != "grid" or actor.scope.grid_id != whistle.grid_id:
                raise ValidationError(_l("Only whoever blew the whistle closes it."))
        _lock_open(session, whistle.id)
        session.refresh(whistle)
        for summons in whistle.summonses:  # the results as they are under the lock
            session.refresh(summons)
        missing = [s.department.name for s in whistle.summonses if s.result_at is None]
        if missing:
            raise ValidationError(_l("Still waiting for the results of: %(names)s.", names="、".join(missing)))
        for summons in whistle.summonses:
            value = ratings.get(summons.id, ratings.get(str(summons.id)))
            try:
                rating = int(value)
            except (TypeError, ValueError):
                rating = 0
            if not 1 <= rating <= 5:
                raise ValidationError(_l("Rate every department with a whole number from 1 to 5."), field="ratings")
            summons.rating = rating
        change_once(session, update(Whistle).where(Whistle.id == whistle.id, Whistle.status == "open")
                    .values(status="closed", closed_at=func.statement_timestamp()).returning(Whistle.id),
                    _l("This whistle is closed."))
    session.refresh(whistle)
    return whistle
