"""一屏知全域 — the leader's dashboard: what an area's incidents, whistles and emergency look like
at a glance, over the user's scope or one grid inside it (a drill-down).

Each figure is read from the tallies that ``figures`` keeps per grid (``incident_tallies``,
``incident_month_tallies``) or from small indexes (open incidents, open whistles, one response's
tasks): the whole city answers as fast as a community."""
from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from ..models import EmergencyResponse, Grid
from . import emergencies, figures
from .errors import OutOfScope
from .local_time import TIMEZONE
from .scope import EVERYTHING, Scope, visible
from .typed import as_key

MONTHS = 12  # the trend's length, this month included


@dataclass
class Emergency:
    """The newest active response over (or around) the area, and its check-ins there."""

    response: EmergencyResponse
    totals: emergencies.Progress
    areas: list[emergencies.Progress]


@dataclass
class Dashboard:
    grid: Grid | None  # the area shown; None: everything, over several districts
    trail: list[Grid]  # the grids from the top of the user's scope down to ``grid``
    totals: figures.FigureRow
    overdue: int
    months: list[figures.MonthRow]  # the last ``MONTHS`` months, oldest first, empty ones at zero
    categories: list[tuple[str, int]]  # over the same months, most first
    areas: list[figures.FigureRow]  # the sub-areas, best completion rate first
    whistles: list[figures.DepartmentWhistles]
    emergency: Emergency | None
    # 督办: incidents flagged supervised and not yet closed
    supervised: int = 0
    area_level: str | None = field(default=None)  # the level of the sub-areas (None: no sub-area)
    several_roots: bool = False  # the user sees every district, above the trail


def first_month(today: datetime.date, months: int = MONTHS) -> datetime.date:
    """The first day of the month ``months - 1`` months before ``today``'s."""
    index = today.year * 12 + today.month - 1 - (months - 1)
    return datetime.date(index // 12, index % 12 + 1, 1)


def _month_series(rows: list[figures.MonthRow], since: datetime.date, months: int) -> list[figures.MonthRow]:
    """Every month from ``since``, those with no incident at zero."""
    found = {row.month: row for row in rows}
    series = []
    for n in range(months):
        index = since.year * 12 + since.month - 1 + n
        month = datetime.date(index // 12, index % 12 + 1, 1)
        series.append(found.get(month, figures.MonthRow(month, 0, 0)))
    return series


def _roots(session: Session) -> list[Grid]:
    """The roots of the tree: one (a district's deployment) or several (a city's districts)."""
    return list(session.scalars(select(Grid).where(Grid.parent_id.is_(None)).order_by(Grid.code).limit(2)))


def _trail(session: Session, scope: Scope, grid_id) -> list[Grid]:
    """The grids the scope sees from the top down to ``grid_id`` (its last), in one query; a grid
    outside the scope (or none at all) is ``OutOfScope``."""
    key = as_key(grid_id)
    if key is None:
        raise OutOfScope(_not_found())
    shown = aliased(Grid)
    trail = list(session.scalars(
        select(Grid).where(Grid.path.ancestor_of(select(shown.path).where(shown.id == key).scalar_subquery()),
                           visible(scope, Grid))
        .order_by(func.nlevel(Grid.path))))
    if not trail or trail[-1].id != key:
        raise OutOfScope(_not_found())
    return trail


def _area(session: Session, scope: Scope, grid_id) -> tuple[list[Grid], Scope, bool]:
    """The trail down to the grid shown, the scope its figures are counted over, and whether the
    user sees several districts above it. Without a grid: the user's own grid; for everything,
    the root of the tree when there is one, else every district together (an empty trail)."""
    if scope.kind not in ("grid", "all"):
        raise OutOfScope(_not_found())
    several = False
    if grid_id is None:
        if scope.kind == "grid":
            return _trail(session, scope, scope.grid_id), scope, False
        roots = _roots(session)
        if len(roots) != 1:
            return [], EVERYTHING, True
        grid_id = roots[0].id
    elif scope.is_all:
        several = len(_roots(session)) > 1
    trail = _trail(session, scope, grid_id)
    shown = trail[-1]
    return trail, Scope("grid", grid_id=shown.id, grid_path=str(shown.path)), several


def _emergency(session: Session, area: Scope, area_level: str | None) -> Emergency | None:
    response = session.scalar(select(EmergencyResponse)
                              .where(EmergencyResponse.status == "active", visible(area, EmergencyResponse))
                              .order_by(EmergencyResponse.declared_at.desc(), EmergencyResponse.id.desc()).limit(1))
    if response is None:
        return None
    totals = emergencies.totals(session, response.id, area)
    if not totals.total:  # declared around the area, over none of its grids
        return None
    by_area = emergencies.progress(session, response.id, area_level, area) if area_level else []
    return Emergency(response, totals, by_area)


def _ranked(rows: list[figures.FigureRow]) -> list[figures.FigureRow]:
    """Best completion rate first, then on-time rate, satisfaction; areas with no incident last."""
    def key(row):
        return (row.completion_rate is None, -(row.completion_rate or 0), -(row.on_time_rate or 0),
                -(row.average_rating or 0), row.label)
    return sorted(rows, key=key)


def dashboard(session: Session, scope: Scope, grid_id=None, *, today: datetime.date | None = None) -> Dashboard:
    """The dashboard of the user's scope, or of the grid ``grid_id`` inside it."""
    trail, area, several = _area(session, scope, grid_id)
    grid = trail[-1] if trail else None
    today = today or datetime.datetime.now(TIMEZONE).date()
    since = first_month(today)
    area_level, children = figures.child_figures(session, grid.id if grid is not None else None)
    months, categories = figures.months(session, area, since)
    return Dashboard(
        grid=grid,
        trail=trail,
        totals=figures.totals(session, area),
        overdue=figures.overdue(session, area),
        supervised=figures.supervised(session, area),
        months=_month_series(months, since, MONTHS),
        categories=categories,
        areas=_ranked(children),
        whistles=figures.whistles_by_department(session, area),
        emergency=_emergency(session, area, area_level),
        area_level=area_level,
        several_roots=several,
    )


def _not_found():
    from flask_babel import lazy_gettext

    return lazy_gettext("Record not found.")
