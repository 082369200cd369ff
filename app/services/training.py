"""Workers' training (培训): the records a worker attended, each year's total, and the workers under
the hours a year asks for (Qibin: 70), per community."""
from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session, aliased

from ..models import Grid, TrainingRecord, Worker
from ..models.people import MAX_TRAINING_HOURS
from .errors import ValidationError
from .local_time import local_today
from .scope import Scope, get_visible, visible

DEFAULT_REQUIRED_HOURS = 70


def required_hours(config) -> int:
    """The training hours a year asks of a grid worker: the site's ``GRIDGOV_TRAINING_HOURS_REQUIRED``
    (``config``: the app's settings), else Qibin's 70."""
    return int(config.get("GRIDGOV_TRAINING_HOURS_REQUIRED", DEFAULT_REQUIRED_HOURS))

# the roles a year's training hours are asked of: the grid leaders and workers (not the helpers)
TRAINED_ROLES = ("chief_grid_leader", "grid_leader", "grid_worker")


def _in_year(year: int):
    return and_(TrainingRecord.date >= datetime.date(year, 1, 1), TrainingRecord.date < datetime.date(year + 1, 1, 1))


def year_total(session: Session, scope: Scope, worker_id, year: int) -> Decimal:
    """The worker's training hours in ``year`` (a worker the scope does not see: ``OutOfScope``)."""
    worker = get_visible(session, scope, Worker, worker_id)
    return session.scalar(select(func.coalesce(func.sum(TrainingRecord.hours), 0))
                          .where(TrainingRecord.worker_id == worker.id, _in_year(year)))


def yearly_totals(session: Session, scope: Scope, worker_id) -> list[tuple[int, Decimal]]:
    """(year, hours) of every year the worker trained in, the latest first."""
    worker = get_visible(session, scope, Worker, worker_id)
    year = func.extract("year", TrainingRecord.date)
    return [(int(y), hours) for y, hours in session.execute(
        select(year, func.sum(TrainingRecord.hours)).where(TrainingRecord.worker_id == worker.id)
        .group_by(year).order_by(year.desc()))]


@dataclass
class UnderHours:
    community_id: int
    community: str
    worker_id: int
    name: str
    role: str
    grid: str
    hours: Decimal
    missing: Decimal


def under_required(session: Session, scope: Scope, year: int, required: int | Decimal = DEFAULT_REQUIRED_HOURS,
                   roles=TRAINED_ROLES) -> list[UnderHours]:
    """The workers of ``roles`` the scope sees who trained fewer than ``required`` hours in
    ``year``, by community (then fewest hours first), in one query. A worker belongs to the
    community their grid lies in (the community itself included); workers above the communities
    (a street's or the district's) are not listed."""
    if required is None or not (0 < Decimal(required) <= 2000):
        raise ValidationError(_l("The required hours are more than 0 and at most 2000."), field="required")
    community, grid = aliased(Grid), aliased(Grid)
    hours = func.coalesce(func.sum(TrainingRecord.hours), 0)
    rows = session.execute(
        select(community.id, community.name, Worker.id, Worker.name, Worker.role, grid.name, hours)
        .join(grid, grid.id == Worker.grid_id)
        .join(community, and_(community.level == "community", community.path.ancestor_of(grid.path)))
        .outerjoin(TrainingRecord, and_(TrainingRecord.worker_id == Worker.id, _in_year(year)))
        .where(visible(scope, Worker), Worker.role.in_(roles))
        .group_by(community.id, community.name, Worker.id, Worker.name, Worker.role, grid.name)
        .having(hours < required)
        .order_by(community.name, community.id, hours, Worker.name, Worker.id)
    ).all()
    return [UnderHours(c_id, c_name, w_id, name, role, grid_name, Decimal(h), Decimal(required) - Decimal(h))
            for c_id, c_name, w_id, name, role, grid_name, h in rows]


def check_record(session: Session, scope: Scope, record: TrainingRecord) -> None:
    """A training record of a worker the scope keeps: a course, a date from 2000 to today, more
    than 0 and at most 200 hours."""
    record.course = (record.course or "").strip()
    record.organiser = (record.organiser or "").strip() or None
    if not record.course:
        raise ValidationError(_l("Name the course."), field="course")
    worker_id = record.worker.id if record.worker is not None else record.worker_id
    if worker_id is None:
        raise ValidationError(_l("Choose the worker."), field="worker")
    worker = session.scalar(select(Worker).where(Worker.id == worker_id, visible(scope, Worker)))
    if worker is None or not (scope.is_all or scope.kind == "grid"):
        raise ValidationError(_l("You can only record the training of workers in your own area."), field="worker")
    if record.date is None or not (datetime.date(2000, 1, 1) <= record.date <= local_today()):
        raise ValidationError(_l("The training date is from 2000 up to today."), field="date")
    if record.hours is None or not (0 < record.hours <= MAX_TRAINING_HOURS):
        raise ValidationError(_l("A training record has more than 0 and at most 200 hours."), field="hours")
