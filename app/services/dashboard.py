"""一屏知全域 — the leader's dashboard: what an area's incidents, whistles and emergency look like
at a glance, over the user's scope or one grid inside it (a drill-down).

Each figure is read from the tallies that ``figures`` keeps per grid (``incident_tallies``,
``incident_month_tallies``) or from small indexes (open incidents, open whistles, one response's
tasks): the whole city answers as fast as a community."""
from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..models import EmergencyResponse, Grid
from . import emergencies, figures
from .errors import OutOfScope
from .local_time import TIMEZONE
from .scope import EVERYTHING, Scope, get_visible, grid_scope, visible

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
    # 督办: incidents flagged supervised and not yet closed; None until incidents carry the flag
    supervised: int | None = None
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


def _several_roots(session: Session, scope: Scope) -> bool:
    return scope.is_all and len(session.scalars(select(Grid.id).where(Grid.parent_id.is_(None)).limit(2)).all()) > 1


def _area(session: Session, scope: Scope, grid_id) -> tuple[Grid | None, Scope]:
    """The grid shown and the scope its figures are counted over. A grid outside the user's scope
    (or none at all) is ``OutOfScope``. Without a grid: the user's own grid; for everything, the
    root of the tree when there is one, else every district together."""
    if scope.kind not in ("grid", "all"):
        raise OutOfScope(_not_found())
    if grid_id is not None:
        grid = get_visible(session, scope, Grid, grid_id)
        return grid, grid_scope(session, grid.id)
    if scope.kind == "grid":
        return session.get(Grid, scope.grid_id), scope
    roots = session.scalars(select(Grid).where(Grid.parent_id.is_(None)).limit(2)).all()
    if len(roots) == 1:
        return roots[0], grid_scope(session, roots[0].id)
    return None, EVERYTHING


def _trail(session: Session, scope: Scope, grid: Grid | None) -> list[Grid]:
    if grid is None:
        return []
    return list(session.scalars(select(Grid).where(Grid.path.ancestor_of(grid.path), visible(scope, Grid))
                                .order_by(func.nlevel(Grid.path))))


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
    grid, area = _area(session, scope, grid_id)
    today = today or datetime.datetime.now(TIMEZONE).date()
    since = first_month(today)
    children = figures.child_figures(session, grid.id if grid is not None else None)
    area_level = None
    if children:
        area_level = session.scalar(select(Grid.level).where(Grid.id == children[0].key))
    return Dashboard(
        grid=grid,
        trail=_trail(session, scope, grid),
        totals=figures.totals(session, area),
        overdue=figures.overdue(session, area),
        months=_month_series(figures.months(session, area, since), since, MONTHS),
        categories=figures.categories(session, area, since),
        areas=_ranked(children),
        whistles=figures.whistles_by_department(session, area),
        emergency=_emergency(session, area, area_level),
        area_level=area_level,
        several_roots=_several_roots(session, scope),
    )


def _not_found():
    from flask_babel import lazy_gettext

    return lazy_gettext("Record not found.")
