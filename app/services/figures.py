"""Figures computed by SQL over the user's scope: how much the area holds (the start page), and
the incident figures — received, resolved, completion rate (办结率), on-time rate, average
satisfaction and open whistles — per grid (community or street), per department, or per month.
Two grouped queries a table, whatever its number of rows."""
from __future__ import annotations

import datetime
from dataclasses import dataclass

from sqlalchemy import Date, Integer, and_, any_, cast, distinct, func, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session, aliased

from ..models import (Department, Grid, Incident, IncidentCategory, Volunteer, Whistle, WhistleSummons, Worker,
                      incident_month_tallies, incident_scopes, incident_tallies, whistle_incidents)
from ..models.choices import OPEN_STATUSES, PENDING_STATUSES, in_constants
from .scope import Scope, visible
from .local_time import TIMEZONE_NAME

RESOLVED = ("resolved", "closed")
GRID_GROUPINGS = ("community", "street", "district")
GROUPINGS = (*GRID_GROUPINGS, "department", "month")


def area_counts(session: Session, scope: Scope) -> dict[str, int]:
    """How many grids, workers, volunteers and departments the scope sees."""
    return {name: session.scalar(select(func.count()).select_from(model).where(visible(scope, model)))
            for name, model in (("grids", Grid), ("workers", Worker), ("volunteers", Volunteer),
                                ("departments", Department))}


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
    """received, resolved, resolved on time, rated, sum of ratings."""
    resolved = Incident.status.in_(RESOLVED)
    return [
        func.count(Incident.id),
        func.count(Incident.id).filter(resolved),
        func.count(Incident.id).filter(resolved, Incident.resolved_at <= Incident.deadline),
        func.count(Incident.rating),
        func.coalesce(func.sum(Incident.rating), 0),
    ]


def _scope_measures():
    """The same measures over ``incident_scopes`` (read from its index alone)."""
    seen = incident_scopes.c
    resolved = seen.status.in_(RESOLVED)
    return [
        func.count(),
        func.count().filter(resolved),
        func.count().filter(resolved, seen.on_time),
        func.count(seen.rating),
        func.coalesce(func.sum(seen.rating), 0),
    ]


def _tally_measures():
    """The same measures added up from ``incident_tallies``."""
    tally = incident_tallies.c
    return [func.coalesce(func.sum(column), 0)
            for column in (tally.received, tally.resolved, tally.on_time, tally.rated, tally.rating_sum)]


def _tallied_grids(scope: Scope, grid_id=incident_tallies.c.grid_id):
    """The grids whose tallies (``grid_id``: a tally table's column) hold every incident the
    scope sees (None: tallies do not serve it): a grid scope's own grid; for everything, the
    roots of the tree (every incident is seen by the root above it)."""
    if scope.kind == "grid":
        return grid_id == scope.grid_id
    if scope.is_all:
        return grid_id.in_(select(Grid.id).where(Grid.parent_id.is_(None)))
    return None


def per_base_grid(scope: Scope, since: datetime.date | None, until: datetime.date | None):
    """The measures per base grid over the incidents the scope sees: from ``incident_tallies``
    over all time; over a period, a grid scope counts its entries in ``incident_scopes`` instead
    of visiting every incident."""
    tallied = _tallied_grids(scope)
    if tallied is not None and since is None and until is None:
        tally = incident_tallies.c
        return (select(tally.base_grid_id.label("grid_id"), *_tally_measures())
                .where(tallied, tally.received > 0).group_by(tally.base_grid_id))
    if scope.kind == "grid":
        seen = incident_scopes.c
        return (select(seen.base_grid_id.label("grid_id"), *_scope_measures())
                .where(seen.grid_id == scope.grid_id, *_period(seen.created_at, since, until))
                .group_by(seen.base_grid_id))
    return (select(Incident.grid_id, *_measures())
            .where(visible(scope, Incident), *_period(Incident.created_at, since, until))
            .group_by(Incident.grid_id))


def _period(created_at, since: datetime.date | None, until: datetime.date | None) -> list:
    """Reported in [since, until), local dates."""
    local_day = cast(func.timezone(TIMEZONE_NAME, created_at), Date)
    return ([local_day >= since] if since else []) + ([local_day < until] if until else [])


def figure_row(key, label, received, resolved, on_time, rated, rating_sum) -> FigureRow:
    return FigureRow(key, str(label), int(received), int(resolved), int(on_time), int(rated),
                     float(rating_sum) / int(rated) if rated else None)


def _ancestor_at(group, level: str, base):
    """``group`` is the grid of ``level`` above ``base`` (or ``base`` itself): looked up by the ids
    of ``base``'s path, one primary-key probe each."""
    return and_(group.id == any_(func.gridgov_path_ids(base.path, type_=ARRAY(Integer))), group.level == level)


def _by_grid_level(level: str, base_query, measures: int):
    """Roll a query grouped by ``Incident.grid_id`` up to the grids of ``level`` above: the
    incidents are counted once per base grid (an index scan over the scope), and only those
    few rows are joined to the tree."""
    per_grid = base_query.subquery()
    base, group = aliased(Grid), aliased(Grid)
    columns = list(per_grid.c)[1:1 + measures]
    return (select(group.id, group.name, *[func.sum(c) for c in columns])
            .select_from(per_grid)
            .join(base, base.id == per_grid.c.grid_id)
            .join(group, _ancestor_at(group, level, base))
            .group_by(group.id, group.name, group.code)
            .order_by(group.code))


def _own_tallies(level: str):
    """For everything: each grid of ``level`` adds up its own tallies of the incidents reported
    under it, in one hash join (rolling the base grids up the tree instead probes every base
    grid's ancestors). An incident a grid holds but that was reported elsewhere stays with the
    grid it was reported under."""
    tally = incident_tallies.c
    group, base = aliased(Grid), aliased(Grid)
    return (select(group.id, group.name, *_tally_measures())
            .select_from(group)
            .join(incident_tallies, tally.grid_id == group.id)
            .join(base, and_(base.id == tally.base_grid_id, base.path.descendant_of(group.path)))
            .where(group.level == level)
            .group_by(group.id, group.name, group.code)
            .having(func.sum(tally.received) > 0)
            .order_by(group.code))


def _grouping(by: str):
    """(key, label, order, joins) that put each incident in its group (departments, months)."""
    if by == "department":
        return Department.id, Department.name, Department.name, \
            lambda query: query.join(Department, Department.id == Incident.department_id)
    if by == "month":
        month = func.date_trunc("month", func.timezone(TIMEZONE_NAME, Incident.created_at))
        return month, func.to_char(month, "YYYY-MM"), month, lambda query: query
    raise ValueError(by)


def default_grouping(session: Session, scope: Scope) -> str:
    """By district for a scope over several districts (a city has 1,640 communities), else by
    community. A department's incidents are not those of one subtree (a whistle summons it from
    any district it serves), so in a city its figures open by district too, not with a row for
    each of the communities it serves."""
    districts = select(func.count()).select_from(Grid).where(Grid.level == "district")
    if (scope.is_all or scope.kind == "department") and session.scalar(districts) > 1:
        return "district"
    return "community"


def figures(session: Session, scope: Scope, by: str = "community", *, since: datetime.date | None = None,
            until: datetime.date | None = None) -> list[FigureRow]:
    """One row per community / street / district / department / month, over the incidents the
    scope sees (reported in [since, until), local dates, when given)."""
    if by not in GROUPINGS:
        raise ValueError(by)
    conditions = [visible(scope, Incident), *_period(Incident.created_at, since, until)]
    # open whistles over the incidents of each group (a whistle over two incidents counts once)
    open_whistles = (select(Incident.grid_id, Whistle.id.label("whistle_id"))
                     .select_from(Incident)
                     .join(whistle_incidents, whistle_incidents.c.incident_id == Incident.id)
                     .join(Whistle, Whistle.id == whistle_incidents.c.whistle_id)
                     .where(Whistle.status == "open", *conditions))
    if by in GRID_GROUPINGS:
        if scope.is_all and since is None and until is None:
            query = _own_tallies(by)
        else:
            query = _by_grid_level(by, per_base_grid(scope, since, until), 5)
        whistle_ids = open_whistles.subquery()
        base, group = aliased(Grid), aliased(Grid)
        whistles = dict(session.execute(
            select(group.id, func.count(distinct(whistle_ids.c.whistle_id)))
            .select_from(whistle_ids)
            .join(base, base.id == whistle_ids.c.grid_id)
            .join(group, _ancestor_at(group, by, base))
            .group_by(group.id)).all())
    else:
        key, label, order, joins = _grouping(by)
        query = joins(select(key, label, *_measures()).select_from(Incident)).where(*conditions) \
            .group_by(key, label, order).order_by(order)
        whistles = dict(session.execute(
            joins(open_whistles.with_only_columns(key, func.count(distinct(Whistle.id)))).group_by(key)).all())
    rows = [figure_row(*values) for values in session.execute(query)]
    for row in rows:
        row.open_whistles = int(whistles.get(row.key, 0))
    return rows


def totals(session: Session, scope: Scope) -> FigureRow:
    """The same figures for everything the scope sees (shown above the incident list)."""
    tallied = _tallied_grids(scope)
    if tallied is not None:
        measures = select(*_tally_measures()).where(tallied)
    else:
        measures = select(*_measures()).where(visible(scope, Incident))
    open_whistles = (select(func.count(Whistle.id)).where(Whistle.status == "open", visible(scope, Whistle))
                     .scalar_subquery())
    *figures, whistles = session.execute(measures.add_columns(open_whistles)).one()  # one round trip
    row = figure_row(None, "", *figures)
    row.open_whistles = int(whistles)
    return row


# --- the dashboard's figures (services/dashboard.py) -------------------------------------------

def child_figures(session: Session, parent_id: int | None) -> tuple[str | None, list[FigureRow]]:
    """The level of the grids right under ``parent_id`` (the roots of the tree when None) and the
    figures of each, over the incidents it sees (as its own dashboard's totals), added up from its
    own tallies: one index range a child, whatever the number of incidents. A child with no
    incident has a row of zeros."""
    tally = incident_tallies.c
    child = aliased(Grid)
    parent = child.parent_id.is_(None) if parent_id is None else child.parent_id == parent_id
    query = (select(child.level, child.id, child.name, *_tally_measures())
             .select_from(child)
             .outerjoin(incident_tallies, tally.grid_id == child.id)
             .where(parent)
             .group_by(child.id, child.name, child.code, child.level)
             .order_by(child.code))
    found = session.execute(query).all()
    return (found[0][0] if found else None), [figure_row(*values[1:]) for values in found]


@dataclass
class MonthRow:
    month: datetime.date
    received: int
    resolved: int


def _month_tallies(scope: Scope, since: datetime.date):
    """The rows of ``incident_month_tallies`` that hold the incidents the scope sees reported
    since ``since`` (None: the scope is not served by them)."""
    tallied = _tallied_grids(scope, incident_month_tallies.c.grid_id)
    if tallied is None:
        return None
    return and_(tallied, incident_month_tallies.c.month >= since)


def months(session: Session, scope: Scope, since: datetime.date) -> tuple[list[MonthRow], list[tuple[str, int]]]:
    """Over the incidents the scope sees reported from ``since`` (a first day of a month) on:
    received and resolved (of those received) per local month, oldest first (a month with none is
    not listed); and received per category, most first. One grouped query."""
    tally = incident_month_tallies.c
    rows = _month_tallies(scope, since)
    if rows is not None:
        counted = (select(tally.month, tally.category_id, func.sum(tally.received).label("received"),
                          func.sum(tally.resolved).label("resolved"))
                   .where(rows).group_by(tally.month, tally.category_id).subquery())
    else:
        month = cast(func.date_trunc("month", func.timezone(TIMEZONE_NAME, Incident.created_at)), Date)
        counted = (select(month.label("month"), Incident.category_id, func.count().label("received"),
                          func.count().filter(Incident.status.in_(RESOLVED)).label("resolved"))
                   .where(visible(scope, Incident), *_period(Incident.created_at, since, None))
                   .group_by(month, Incident.category_id).subquery())
    found = session.execute(select(counted.c.month, IncidentCategory.name, counted.c.received, counted.c.resolved)
                            .join(IncidentCategory, IncidentCategory.id == counted.c.category_id)
                            .where(counted.c.received > 0)).all()
    per_month: dict[datetime.date, list[int]] = {}
    per_category: dict[str, int] = {}
    for month, name, received, resolved in found:
        figures = per_month.setdefault(month, [0, 0])
        figures[0] += int(received)
        figures[1] += int(resolved)
        per_category[name] = per_category.get(name, 0) + int(received)
    return ([MonthRow(month, *per_month[month]) for month in sorted(per_month)],
            sorted(per_category.items(), key=lambda item: (-item[1], item[0])))


def overdue(session: Session, scope: Scope) -> int:
    """How many incidents the scope sees are open and past their deadline: read from the open
    incidents' index (a few thousand in a city), each checked against the scope."""
    return int(session.scalar(select(func.count()).select_from(Incident).where(
        in_constants(Incident.status, OPEN_STATUSES), Incident.deadline < func.now(), visible(scope, Incident))))


def supervised(session: Session, scope: Scope) -> int:
    """How many incidents the scope sees are supervised (督办) and not yet closed: read from the
    index of those alone (migration 0021)."""
    return int(session.scalar(select(func.count()).select_from(Incident).where(
        Incident.supervised_at.is_not(None), in_constants(Incident.status, PENDING_STATUSES),
        visible(scope, Incident))))


@dataclass
class DepartmentWhistles:
    department_id: int
    name: str
    open: int
    late: int


def whistles_by_department(session: Session, scope: Scope) -> list[DepartmentWhistles]:
    """Per summoned department, the open whistles the scope sees that still wait for its result,
    and how many of them are past their deadline: most late first."""
    waiting = WhistleSummons.result_at.is_(None)
    late = func.count().filter(Whistle.deadline < func.now())
    rows = session.execute(
        select(Department.id, Department.name, func.count(), late)
        .select_from(Whistle)
        .join(WhistleSummons, WhistleSummons.whistle_id == Whistle.id)
        .join(Department, Department.id == WhistleSummons.department_id)
        .where(Whistle.status == "open", waiting, visible(scope, Whistle))
        .group_by(Department.id, Department.name)
        .order_by(late.desc(), func.count().desc(), Department.name))
    return [DepartmentWhistles(int(i), name, int(count), int(overdue_count)) for i, name, count, overdue_count in rows]
