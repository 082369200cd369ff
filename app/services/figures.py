"""Incident figures, computed by SQL over the user's scope: received, resolved, completion rate
(办结率), on-time rate, average satisfaction and open whistles — per grid (community or street),
per department, or per month. Two grouped queries a table, whatever its number of rows."""
from __future__ import annotations

import datetime
from dataclasses import dataclass

from sqlalchemy import Date, and_, cast, distinct, func, select
from sqlalchemy.orm import Session, aliased

from ..models import Department, Grid, Incident, Whistle, whistle_incidents
from .scope import Scope, visible

RESOLVED = ("resolved", "closed")
TIMEZONE_NAME = "Asia/Shanghai"
GROUPINGS = ("community", "street", "department", "month")


@dataclass
class FigureRow:
    key: object
    label: str
    received: int
    resolved: int
    on_time: int
    rated: int
    average_rating: float | None
    open_whistles: int = 0

    @property
    def completion_rate(self) -> float | None:
        return self.resolved / self.received if self.received else None

    @property
    def on_time_rate(self) -> float | None:
        return self.on_time / self.resolved if self.resolved else None


def _measures():
    return [
        func.count(Incident.id),
        func.count(Incident.id).filter(Incident.status.in_(RESOLVED)),
        func.count(Incident.id).filter(Incident.status.in_(RESOLVED), Incident.resolved_at <= Incident.deadline),
        func.count(Incident.rating),
        func.avg(Incident.rating),
    ]


def _grouping(by: str):
    """(key, label, order, joins) that put each incident in its group."""
    if by in ("community", "street"):
        group, grid = aliased(Grid), aliased(Grid)

        def joins(query):
            return (query.join(grid, grid.id == Incident.grid_id)
                    .join(group, and_(group.level == by, group.path.ancestor_of(grid.path))))
        return group.id, group.name, group.code, joins
    if by == "department":
        return Department.id, Department.name, Department.name, \
            lambda query: query.join(Department, Department.id == Incident.department_id)
    if by == "month":
        month = func.date_trunc("month", func.timezone(TIMEZONE_NAME, Incident.created_at))
        return month, func.to_char(month, "YYYY-MM"), month, lambda query: query
    raise ValueError(by)


def figures(session: Session, scope: Scope, by: str = "community", *, since: datetime.date | None = None,
            until: datetime.date | None = None) -> list[FigureRow]:
    """One row per community / street / department / month, over the incidents the scope sees
    (reported in [since, until), local dates, when given)."""
    conditions = [visible(scope, Incident)]
    local_day = cast(func.timezone(TIMEZONE_NAME, Incident.created_at), Date)
    if since:
        conditions.append(local_day >= since)
    if until:
        conditions.append(local_day < until)
    key, label, order, joins = _grouping(by)
    query = joins(select(key, label, *_measures()).select_from(Incident)).where(*conditions)
    rows = [
        FigureRow(k, str(name), int(received), int(resolved), int(on_time), int(rated),
                  float(average) if average is not None else None)
        for k, name, received, resolved, on_time, rated, average in session.execute(
            query.group_by(key, label, order).order_by(order))
    ]
    # Open whistles whose incidents fall in each group.
    key, label, order, joins = _grouping(by)
    whistles = dict(session.execute(
        joins(select(key, func.count(distinct(Whistle.id)))
              .select_from(Incident)
              .join(whistle_incidents, whistle_incidents.c.incident_id == Incident.id)
              .join(Whistle, Whistle.id == whistle_incidents.c.whistle_id))
        .where(Whistle.status == "open", *conditions).group_by(key)
    ).all())
    for row in rows:
        row.open_whistles = int(whistles.get(row.key, 0))
    return rows


def totals(session: Session, scope: Scope) -> FigureRow:
    """The same figures for everything the scope sees (shown above the incident list)."""
    received, resolved, on_time, rated, average = session.execute(
        select(*_measures()).where(visible(scope, Incident))).one()
    open_whistles = session.scalar(select(func.count(Whistle.id)).where(Whistle.status == "open", visible(scope, Whistle)))
    return FigureRow(None, "", int(received), int(resolved), int(on_time), int(rated),
                     float(average) if average is not None else None, int(open_whistles))
