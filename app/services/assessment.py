"""考核: each month's score of every grid worker, community, street and department, from indicators
weighted as the district's administrator set them (三统两考一评); the month's scores frozen once
it has ended, a later correction as a visible adjustment; ranked lists, a year's summary and the
grid workers' honour roll (光荣榜).

Every indicator is brought to 0–100; the score is the weighted mean of the indicators that have
something to measure (a worker who handled no incident is not scored on satisfaction). A month
is computed in one statement per kind of subject, whatever the number of subjects:

- a worker (网格员, 网格长): days the patrol rule was met and days clocked in, of the month's days
  that are over; incidents they reported against the district's monthly target; of the incidents
  they handled that were reported this month, the share resolved by the deadline and the mean
  rating (5 = 100); visits made to the residents due for one in their grid (those visited this
  month and those still due at its end); training hours of the year against the required hours
  pro-rated to the month (at most 100);
- a community or street: of the incidents reported in it this month, the share resolved
  (办结率), the share of those resolved by the deadline and the mean rating;
- a department: of its summonses on whistles blown this month, the share it reported in by the
  whistle's deadline, the share whose result came by its incidents' latest deadline, the mean
  rating it received; a summons whose deadline has not passed and that is not answered yet is
  not counted.

The current month is computed when asked (not final). A past month is frozen by the server's clock
(``services.housekeeping``) in the first minute after it ends, or the first time it is needed
before that — its ranking, a year's summary, the honour roll, or ``gridgov assess freeze`` — under a
transaction advisory lock, so two first readers freeze it once; the database then refuses any
change to it (migration 0029)."""
from __future__ import annotations

import datetime
import re
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session
from sqlalchemy_utils import Ltree

from ..models import (AssessmentAdjustment, AssessmentScore, AssessmentWeights, Department, Grid, GridgovUser,
                      Incident, Patrol, Visit, Worker)
from ..models.assessment import SUBJECT_KINDS, WEIGHTS_OF
from . import audit
from .district_rows import check_one_per_district, district_of
from .errors import OutOfScope, ValidationError
from .local_time import TIMEZONE, local_today
from .scope import Scope, is_under
from .training import DEFAULT_REQUIRED_HOURS, TRAINED_ROLES
from .typed import as_key
from .unit_of_work import unit_of_work

# the grid staff assessed: the grid leaders and workers (the helpers of a building are not)
ASSESSED_ROLES = TRAINED_ROLES
AREA_LEVELS = ("community", "street")
# pg_advisory_xact_lock(LOCK_CLASS, yyyymm): one freezer of a month at a time
LOCK_CLASS = 29
EARLIEST = datetime.date(2000, 1, 1)
HUNDRED = Decimal(100)
CENT = Decimal("0.01")


# --- months ---------------------------------------------------------------------------------
def month_of(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def next_month(month: datetime.date) -> datetime.date:
    return datetime.date(month.year + (month.month == 12), month.month % 12 + 1, 1)


def current_month() -> datetime.date:
    """This month in Beijing."""
    return month_of(local_today())


MONTH_TEXT = re.compile(r"^(\d{4})-(\d{1,2})$")


def parse_month(value: str | None) -> datetime.date:
    """A month given as YYYY-MM (this month when not given), from 2000-01 to this month."""
    if value in (None, ""):
        return current_month()
    match = MONTH_TEXT.match(str(value).strip())
    month = None
    if match and 1 <= int(match.group(2)) <= 12:
        month = datetime.date(int(match.group(1)), int(match.group(2)), 1)
    if month is None or not EARLIEST <= month <= current_month():
        raise ValidationError(_l("Give a month as YYYY-MM, from 2000-01 to this month."), field="month")
    return month


def parse_year(value) -> int:
    this_year = local_today().year
    if value in (None, ""):
        return this_year
    try:
        year = int(str(value).strip())
    except ValueError:
        year = 0
    if not EARLIEST.year <= year <= this_year:
        raise ValidationError(_l("Give a year from 2000 to this year."), field="year")
    return year


# --- the computation ------------------------------------------------------------------------
@dataclass
class Computed:
    """One subject's month: its indicators' figures (each with its value 0–100, or None when
    there was nothing to measure), the weights used and the score."""

    kind: str
    subject_id: int
    name: str
    grid_id: int | None
    figures: dict
    weights: dict
    score: Decimal | None


def _rate(part, whole, scale=HUNDRED) -> Decimal | None:
    if not whole:
        return None
    return min(HUNDRED, Decimal(part) * scale / Decimal(whole)).quantize(CENT, ROUND_HALF_UP)


def _figure(value: Decimal | None, **counts) -> dict:
    return {"value": None if value is None else float(value), **{k: float(v) if isinstance(v, Decimal) else v
                                                                 for k, v in counts.items()}}


def score_of(figures: dict, weights: dict) -> Decimal | None:
    """The weighted mean of the indicators with a value; None when none of weight has one."""
    total = weight_sum = Decimal(0)
    for name, weight in weights.items():
        value = figures.get(name, {}).get("value")
        if value is None or not weight:
            continue
        total += Decimal(str(value)) * weight
        weight_sum += weight
    return (total / weight_sum).quantize(CENT, ROUND_HALF_UP) if weight_sum else None


def _weights(session: Session) -> dict:
    """Every district's weights row by district id (None: the default)."""
    return {row.district_id: row for row in session.scalars(select(AssessmentWeights))}


def _weights_for(rows: dict, district_id, kind: str) -> tuple[dict, int]:
    row = rows.get(district_id) or rows[None]
    return {name: getattr(row, name) for name in WEIGHTS_OF[kind]}, row.reports_target


def _period(month: datetime.date) -> dict:
    """The month's bounds: its first and last day, the last day that is over (yesterday in the
    current month), and its days that are over."""
    last = next_month(month) - datetime.timedelta(days=1)
    counted_last = min(last, local_today() - datetime.timedelta(days=1))
    return {"first": month, "last": last, "counted_last": counted_last, "until": next_month(month),
            "days": max(0, (counted_last - month).days + 1)}


# the month's bounds as instants: Beijing's midnights
SINCE = "(CAST(:first AS timestamp) AT TIME ZONE 'Asia/Shanghai')"
UNTIL = "(CAST(:until AS timestamp) AT TIME ZONE 'Asia/Shanghai')"

WORKERS = """
    WITH staff AS (
        SELECT w.id, w.name, w.grid_id, CAST(subpath(g.path, 0, 1) AS text)::int AS district_id
        FROM workers w JOIN grids g ON g.id = w.grid_id
        WHERE w.role = ANY(:roles) AND w.start_date <= :last {where}),
    rule AS (
        SELECT s.id AS worker_id, r.min_patrols, r.min_minutes, r.min_metres FROM staff s
        CROSS JOIN LATERAL (SELECT min_patrols, min_minutes, min_metres FROM patrol_rules pr
                            WHERE pr.district_id = s.district_id OR pr.district_id IS NULL
                            ORDER BY pr.district_id NULLS LAST LIMIT 1) r),
    walked AS (
        SELECT p.worker_id, p.day, min(r.min_patrols) AS needed,
               count(*) FILTER (WHERE p.duration_s >= r.min_minutes * 60 AND p.distance_m >= r.min_metres) AS counted
        FROM rule r JOIN patrols p ON p.worker_id = r.worker_id AND p.day BETWEEN :first AND :counted_last
        GROUP BY p.worker_id, p.day),
    patrolled AS (SELECT worker_id, count(*) FILTER (WHERE counted >= needed) AS days FROM walked GROUP BY worker_id),
    clocked AS (
        SELECT c.worker_id, count(*) AS days FROM staff s
        JOIN clock_ins c ON c.worker_id = s.id AND c.day BETWEEN :first AND :counted_last GROUP BY c.worker_id),
    reported AS (
        SELECT u.worker_id, count(*) AS n FROM incidents i JOIN ab_user u ON u.id = i.created_by_id
        WHERE u.worker_id IN (SELECT id FROM staff) AND i.created_at >= {since} AND i.created_at < {until}
        GROUP BY u.worker_id),
    handled AS (
        SELECT i.handler_worker_id AS worker_id,
               count(*) FILTER (WHERE i.status IN ('resolved', 'closed')) AS resolved,
               count(*) FILTER (WHERE i.status IN ('resolved', 'closed') AND i.resolved_at <= i.deadline) AS on_time,
               count(i.rating) AS rated, coalesce(sum(i.rating), 0) AS rating_sum
        FROM incidents i
        WHERE i.handler_worker_id IN (SELECT id FROM staff) AND i.created_at >= {since} AND i.created_at < {until}
        GROUP BY i.handler_worker_id),
    visited AS (
        SELECT u.worker_id, v.resident_id FROM visits v JOIN ab_user u ON u.id = v.visitor_id
        WHERE u.worker_id IN (SELECT id FROM staff) AND v.resident_id IS NOT NULL
          AND v.visited_at >= {since} AND v.visited_at < {until}
        GROUP BY u.worker_id, v.resident_id),
    due AS (  -- residents of each worker's grid (its whole subtree) still due for a visit
        SELECT s.id AS worker_id, r.id AS resident_id
        FROM residents r JOIN grids rg ON rg.id = r.grid_id
        CROSS JOIN LATERAL unnest(CAST(string_to_array(CAST(rg.path AS text), '.') AS int[])) AS above (grid_id)
        JOIN staff s ON s.grid_id = above.grid_id
        WHERE r.moved_out IS NULL AND r.next_visit_due <= :counted_last),
    visiting AS (
        SELECT coalesce(d.worker_id, v.worker_id) AS worker_id, count(*) AS due,
               count(v.resident_id) AS made
        FROM due d FULL JOIN visited v ON v.worker_id = d.worker_id AND v.resident_id = d.resident_id
        GROUP BY 1),
    trained AS (
        SELECT t.worker_id, sum(t.hours) AS hours FROM staff s
        JOIN training_records t ON t.worker_id = s.id AND t.date >= :year_first AND t.date <= :last
        GROUP BY t.worker_id)
    SELECT s.id, s.name, s.grid_id, s.district_id, coalesce(p.days, 0), coalesce(c.days, 0), coalesce(rep.n, 0),
           coalesce(h.resolved, 0), coalesce(h.on_time, 0), coalesce(h.rated, 0), coalesce(h.rating_sum, 0),
           coalesce(vs.made, 0), coalesce(vs.due, 0), coalesce(t.hours, 0)
    FROM staff s
    LEFT JOIN patrolled p ON p.worker_id = s.id
    LEFT JOIN clocked c ON c.worker_id = s.id
    LEFT JOIN reported rep ON rep.worker_id = s.id
    LEFT JOIN handled h ON h.worker_id = s.id
    LEFT JOIN visiting vs ON vs.worker_id = s.id
    LEFT JOIN trained t ON t.worker_id = s.id
    ORDER BY s.id
"""

AREAS = """
    WITH areas AS (
        SELECT g.id, g.name, CAST(subpath(g.path, 0, 1) AS text)::int AS district_id FROM grids g
        WHERE g.level = :level {where})
    SELECT a.id, a.name, a.district_id, count(s.incident_id),
           count(s.incident_id) FILTER (WHERE s.status IN ('resolved', 'closed')),
           count(s.incident_id) FILTER (WHERE s.status IN ('resolved', 'closed') AND s.on_time),
           count(s.rating), coalesce(sum(s.rating), 0)
    FROM areas a
    LEFT JOIN incident_scopes s ON s.grid_id = a.id AND s.created_at >= {since} AND s.created_at < {until}
    GROUP BY a.id, a.name, a.district_id
    ORDER BY a.id
"""

DEPARTMENTS = """
    WITH summoned AS (
        SELECT ws.department_id, ws.reported_at, ws.result_at, ws.rating, w.deadline AS report_by,
               coalesce((SELECT max(i.deadline) FROM whistle_incidents wi JOIN incidents i ON i.id = wi.incident_id
                         WHERE wi.whistle_id = w.id), w.deadline) AS result_by
        FROM whistle_summonses ws JOIN whistles w ON w.id = ws.whistle_id
        WHERE w.blown_at >= {since} AND w.blown_at < {until})
    SELECT d.id, d.name,
           count(s.department_id) FILTER (WHERE s.reported_at IS NOT NULL OR s.report_by < now()),
           count(s.department_id) FILTER (WHERE s.reported_at <= s.report_by),
           count(s.department_id) FILTER (WHERE s.result_at IS NOT NULL OR s.result_by < now()),
           count(s.department_id) FILTER (WHERE s.result_at <= s.result_by),
           count(s.rating), coalesce(sum(s.rating), 0)
    FROM departments d LEFT JOIN summoned s ON s.department_id = d.id
    WHERE d.kind = 'functional' {where}
    GROUP BY d.id, d.name
    ORDER BY d.id
"""


def compute(session: Session, kind: str, month: datetime.date, *, path: str | None = None,
            subject_id: int | None = None, required_hours=DEFAULT_REQUIRED_HOURS) -> list[Computed]:
    """The month's figures and scores of every subject of ``kind`` (within the grid ``path``, or
    the one ``subject_id``), in one statement."""
    if kind not in SUBJECT_KINDS:
        raise ValidationError(_l("Choose workers, communities, streets or departments."), field="kind")
    period = _period(month)
    params = {**period, "year_first": datetime.date(month.year, 1, 1), "roles": list(ASSESSED_ROLES),
              "level": kind, "path": path, "subject": subject_id}
    weights = _weights(session)
    conditions = []
    if kind == "department":
        if subject_id is not None:
            conditions.append("AND d.id = :subject")
        sql = DEPARTMENTS.format(since=SINCE, until=UNTIL, where=" ".join(conditions))
    else:
        subject_column = "w.id" if kind == "worker" else "g.id"
        if path is not None:
            conditions.append("AND g.path <@ CAST(:path AS ltree)")
        if subject_id is not None:
            conditions.append(f"AND {subject_column} = :subject")
        template = WORKERS if kind == "worker" else AREAS
        sql = template.format(since=SINCE, until=UNTIL, where=" ".join(conditions))
    rows = session.execute(text(sql), params).all()
    made = []
    for row in rows:
        if kind == "worker":
            made.append(_worker_score(row, period, month, weights, Decimal(required_hours)))
        elif kind == "department":
            made.append(_department_score(row, weights))
        else:
            made.append(_area_score(kind, row, weights))
    return made


def _worker_score(row, period: dict, month: datetime.date, weights: dict, required: Decimal) -> Computed:
    (worker_id, name, grid_id, district_id, patrol_days, clock_days, reported, resolved, on_time, rated, rating_sum,
     visits_made, visits_due, hours) = row
    used, target = _weights_for(weights, district_id, "worker")
    days = period["days"]
    required_so_far = (required * month.month / 12).quantize(CENT, ROUND_HALF_UP)
    figures = {
        "patrol": _figure(_rate(patrol_days, days), days_met=patrol_days, days=days),
        "reported": _figure(_rate(reported, target), incidents=reported, target=target),
        "on_time": _figure(_rate(on_time, resolved), on_time=on_time, resolved=resolved),
        "satisfaction": _figure(_rate(rating_sum, rated, Decimal(20)), rated=rated,
                                mean=float((Decimal(rating_sum) / rated).quantize(CENT)) if rated else None),
        "visits": _figure(_rate(visits_made, visits_due), made=visits_made, due=visits_due),
        "training": _figure(_rate(hours, required_so_far), hours=Decimal(hours), required=required_so_far),
        "clock_in": _figure(_rate(clock_days, days), days_clocked=clock_days, days=days),
    }
    return Computed("worker", worker_id, name, grid_id, figures, used, score_of(figures, used))


def _area_score(kind: str, row, weights: dict) -> Computed:
    grid_id, name, district_id, received, resolved, on_time, rated, rating_sum = row
    used, _target = _weights_for(weights, district_id, kind)
    figures = {
        "area_completion": _figure(_rate(resolved, received), resolved=resolved, received=received),
        "area_on_time": _figure(_rate(on_time, resolved), on_time=on_time, resolved=resolved),
        "area_satisfaction": _figure(_rate(rating_sum, rated, Decimal(20)), rated=rated,
                                     mean=float((Decimal(rating_sum) / rated).quantize(CENT)) if rated else None),
    }
    return Computed(kind, grid_id, name, grid_id, figures, used, score_of(figures, used))


def _department_score(row, weights: dict) -> Computed:
    department_id, name, report_due, reported, result_due, results, rated, rating_sum = row
    used, _target = _weights_for(weights, None, "department")
    figures = {
        "report_in": _figure(_rate(reported, report_due), on_time=reported, summoned=report_due),
        "result": _figure(_rate(results, result_due), on_time=results, summoned=result_due),
        "rating": _figure(_rate(rating_sum, rated, Decimal(20)), rated=rated,
                          mean=float((Decimal(rating_sum) / rated).quantize(CENT)) if rated else None),
    }
    return Computed("department", department_id, name, None, figures, used, score_of(figures, used))


# --- freezing -------------------------------------------------------------------------------
def _frozen_kinds(session: Session, month: datetime.date) -> set[str]:
    return set(session.scalars(select(AssessmentScore.kind).where(AssessmentScore.month == month).distinct()))


def first_month(session: Session) -> datetime.date | None:
    """The month of the first incident, patrol or visit on record (Beijing's calendar): the
    months before were not kept in gridgov, and are not assessed — frozen, they would stand as
    every worker's 0 for ever. None while nothing is recorded. (Each minimum reads an index.)"""
    first = session.scalar(select(func.least(select(func.min(Incident.created_at)).scalar_subquery(),
                                             select(func.min(Patrol.started_at)).scalar_subquery(),
                                             select(func.min(Visit.visited_at)).scalar_subquery())))
    return month_of(first.astimezone(TIMEZONE).date()) if first is not None else None


# The months of first..last with a kind that has no frozen score: one statement, a probe of the
# scores' key (month, kind, …) per month and kind, however many scores a month holds.
_NOT_FROZEN = text("""
    SELECT CAST(m AS date) FROM generate_series(CAST(:first AS date), CAST(:last AS date), interval '1 month') AS m
    WHERE EXISTS (SELECT FROM unnest(CAST(:kinds AS text[])) AS k (kind)
                  WHERE NOT EXISTS (SELECT FROM assessment_scores s WHERE s.month = CAST(m AS date) AND s.kind = k.kind))
    ORDER BY 1""")


def months_not_frozen(session: Session, first: datetime.date, last: datetime.date) -> list[datetime.date]:
    """The months from ``first`` to ``last`` (first days) that ``freeze`` still has a kind of
    subjects to freeze in: what the server's clock looks at every minute."""
    if last < first:
        return []
    return list(session.scalars(_NOT_FROZEN, {"first": first, "last": last, "kinds": list(SUBJECT_KINDS)}))


def freeze(session: Session, month: datetime.date, required_hours=DEFAULT_REQUIRED_HOURS) -> int:
    """Freeze a month that has ended (every kind not frozen yet): how many scores were written.
    Two callers at once: the second waits for the first's lock and finds the month frozen. A
    month before anything was recorded (``first_month``) is left unscored."""
    if month != month_of(month) or month >= current_month():
        raise ValidationError(_l("Only a month that has ended is frozen."), field="month")
    start = first_month(session)
    if start is None or month < start:
        return 0
    if _frozen_kinds(session, month) >= set(SUBJECT_KINDS):
        return 0
    written = 0
    with unit_of_work(session):
        session.execute(select(func.pg_advisory_xact_lock(LOCK_CLASS, month.year * 100 + month.month)))
        audit.bulk_load(session)  # a month's freeze is one entry of the audit trail, not one per score
        done = _frozen_kinds(session, month)
        for kind in SUBJECT_KINDS:
            if kind in done:
                continue
            rows = [{"month": month, "kind": c.kind, "subject_id": c.subject_id, "name": c.name[:100],
                     "grid_id": c.grid_id, "score": c.score, "figures": c.figures, "weights": c.weights}
                    for c in compute(session, kind, month, required_hours=required_hours)]
            if rows:
                session.execute(_insert_new(), rows)
                written += len(rows)
        audit.record_bulk_load(session, {"assessment_scores": written})
    return written


def _insert_new():
    """The scores' insert; a row already there (the unique key) is left as it was frozen."""
    return pg_insert(AssessmentScore).on_conflict_do_nothing(
        constraint="assessment_scores_month_kind_subject_key")


def freeze_through(session: Session, last: datetime.date, first: datetime.date | None = None,
                   required_hours=DEFAULT_REQUIRED_HOURS) -> None:
    """Freeze every ended month from ``first`` (default: January of ``last``'s year) to ``last``."""
    month = first or datetime.date(last.year, 1, 1)
    this_month = current_month()
    while month <= last and month < this_month:
        freeze(session, month, required_hours)
        month = next_month(month)


# --- who sees which scores ------------------------------------------------------------------
@dataclass(frozen=True)
class Viewer:
    """Who reads scores: their scope, the worker their login is, and whether they read their
    area's rankings (``ranks``) or only their own score."""

    scope: Scope
    worker_id: int | None = None
    ranks: bool = False


def _sees_departments(scope: Scope) -> bool:
    """The district's dispatch, its leaders and the administrator rank departments; a department
    reads its own."""
    return scope.is_all or scope.kind == "department" or (
        scope.kind == "grid" and scope.grid_path is not None and "." not in str(scope.grid_path))


def area_in_scope(session: Session, viewer: Viewer, area_id) -> Grid:
    """The area a ranking covers (the viewer's own grid by default), inside their scope."""
    scope = viewer.scope
    if not viewer.ranks or scope.kind not in ("all", "grid"):
        raise OutOfScope(_l("Record not found."))
    given = area_id not in (None, "")
    pk = as_key(area_id) if given else (scope.grid_id if scope.kind == "grid" else None)
    if pk is None and not given and scope.is_all:
        return session.scalar(select(Grid).where(Grid.parent_id.is_(None)).order_by(Grid.code))
    grid = session.get(Grid, pk) if pk is not None else None
    if grid is None or not (scope.is_all or is_under(grid.path, scope.grid_path)):
        raise OutOfScope(_l("Record not found."))
    return grid


def check_subject(session: Session, viewer: Viewer, kind: str, subject_id) -> tuple[int, str | None]:
    """(the subject's id, its grid's path) when the viewer may read its scores, else OutOfScope."""
    key = as_key(subject_id)
    scope = viewer.scope
    if kind not in SUBJECT_KINDS or key is None:
        raise OutOfScope(_l("Record not found."))
    if kind == "department":
        name = session.scalar(select(Department.name).where(Department.id == key))
        if name is not None and viewer.ranks and _sees_departments(scope) and (
                scope.kind != "department" or scope.department_id == key):
            return key, None
        raise OutOfScope(_l("Record not found."))
    if kind == "worker":
        path = session.scalar(select(Grid.path).join(Worker, Worker.grid_id == Grid.id).where(Worker.id == key))
        own = key == viewer.worker_id
    else:
        path = session.scalar(select(Grid.path).where(Grid.id == key, Grid.level == kind))
        own = False
    if path is not None and _sees(viewer, path, own):
        return key, str(path)
    raise OutOfScope(_l("Record not found."))


def _sees(viewer: Viewer, path, own: bool) -> bool:
    scope = viewer.scope
    return own or (viewer.ranks and (scope.is_all or (scope.kind == "grid" and is_under(path, scope.grid_path))))


def check_score(session: Session, viewer: Viewer, kind: str, subject_id: int, grid_id: int | None) -> None:
    """A frozen score is read (and adjusted) by who sees the grid it was scored in — a worker's
    grid of that month, not the one they moved to since — and by the worker themself; else
    OutOfScope."""
    if kind == "department":
        check_subject(session, viewer, kind, subject_id)
        return
    path = session.scalar(select(Grid.path).where(Grid.id == grid_id)) if grid_id is not None else None
    own = kind == "worker" and subject_id == viewer.worker_id
    if path is None or not _sees(viewer, path, own):
        raise OutOfScope(_l("Record not found."))


# --- reading scores -------------------------------------------------------------------------
@dataclass
class Ranked:
    rank: int | None
    kind: str
    subject_id: int
    name: str
    grid_id: int | None
    score: Decimal | None
    adjustment: Decimal
    score_id: int | None = None
    figures: dict = field(default_factory=dict)
    weights: dict = field(default_factory=dict)
    frozen_at: datetime.datetime | None = None

    @property
    def adjusted(self) -> Decimal | None:
        if self.score is None:
            return None
        return max(Decimal(0), min(HUNDRED, self.score + self.adjustment))


def _ranked(rows: list[Ranked]) -> list[Ranked]:
    """Highest adjusted score first, ranked 1, 2, 2, 4…; subjects with nothing to measure last."""
    rows.sort(key=lambda r: (r.adjusted is None, -(r.adjusted or 0), r.name, r.subject_id))
    previous, rank = None, 0
    for position, row in enumerate(rows, start=1):
        if row.adjusted is None:
            row.rank = None
            continue
        if row.adjusted != previous:
            rank, previous = position, row.adjusted
        row.rank = rank
    return rows


def _frozen(session: Session, month_from: datetime.date, month_to: datetime.date, kind: str, *,
            path: str | None = None, subject_id: int | None = None) -> list[tuple[datetime.date, Ranked]]:
    adjustment = (select(func.coalesce(func.sum(AssessmentAdjustment.delta), 0))
                  .where(AssessmentAdjustment.score_id == AssessmentScore.id).scalar_subquery())
    query = (select(AssessmentScore, adjustment)
             .where(AssessmentScore.kind == kind, AssessmentScore.month >= month_from, AssessmentScore.month <= month_to))
    if path is not None:
        query = query.join(Grid, Grid.id == AssessmentScore.grid_id).where(Grid.path.descendant_of(Ltree(path)))
    if subject_id is not None:
        query = query.where(AssessmentScore.subject_id == subject_id)
    return [(score.month, Ranked(None, kind, score.subject_id, score.name, score.grid_id, score.score,
                                 Decimal(adjusted), score.id, score.figures, score.weights, score.frozen_at))
            for score, adjusted in session.execute(query)]


def _live(computed: list[Computed]) -> list[Ranked]:
    return [Ranked(None, c.kind, c.subject_id, c.name, c.grid_id, c.score, Decimal(0), None, c.figures, c.weights)
            for c in computed]


def _department_filter(viewer: Viewer) -> int | None:
    return viewer.scope.department_id if viewer.scope.kind == "department" else None


@dataclass
class Ranking:
    kind: str
    month: datetime.date
    live: bool
    area: Grid | None
    rows: list[Ranked]


def ranking(session: Session, viewer: Viewer, kind: str, month: datetime.date, area_id=None,
            required_hours=DEFAULT_REQUIRED_HOURS) -> Ranking:
    """The month's scores of the subjects of ``kind`` in the area (departments: those the viewer
    sees), ranked. A past month is frozen first if it is not yet."""
    if kind not in SUBJECT_KINDS:
        raise ValidationError(_l("Choose workers, communities, streets or departments."), field="kind")
    area, path, subject = None, None, None
    if kind == "department":
        if not (viewer.ranks and _sees_departments(viewer.scope)):
            raise OutOfScope(_l("Record not found."))
        subject = _department_filter(viewer)
    else:
        area = area_in_scope(session, viewer, area_id)
        path = str(area.path)
    live = month >= current_month()
    if live:
        rows = _live(compute(session, kind, month, path=path, subject_id=subject, required_hours=required_hours))
    else:
        freeze(session, month, required_hours)
        rows = [row for _month, row in _frozen(session, month, month, kind, path=path, subject_id=subject)]
    return Ranking(kind, month, live, area, _ranked(rows))


@dataclass
class Detail:
    kind: str
    month: datetime.date
    live: bool
    row: Ranked | None
    adjustments: list
    rank: int | None = None
    of: int = 0


def detail(session: Session, viewer: Viewer, kind: str, subject_id, month: datetime.date,
           required_hours=DEFAULT_REQUIRED_HOURS) -> Detail:
    """How one subject's month score was made: its figures, weights, adjustments."""
    live = month >= current_month()
    if live:
        key, _path = check_subject(session, viewer, kind, subject_id)
        rows = _live(compute(session, kind, month, subject_id=key, required_hours=required_hours))
        row = rows[0] if rows else None
        adjustments = []
    else:
        key = as_key(subject_id)
        if kind not in SUBJECT_KINDS or key is None:
            raise OutOfScope(_l("Record not found."))
        freeze(session, month, required_hours)
        found = _frozen(session, month, month, kind, subject_id=key)
        row = found[0][1] if found else None
        if row is None:  # not scored that month: whether the subject is the viewer's to see now
            check_subject(session, viewer, kind, key)
        else:  # scored: whether the area it was scored in is the viewer's
            check_score(session, viewer, kind, row.subject_id, row.grid_id)
        adjustments = list(session.scalars(select(AssessmentAdjustment)
                                           .where(AssessmentAdjustment.score_id == row.score_id)
                                           .order_by(AssessmentAdjustment.id))) if row else []
    return Detail(kind, month, live, row, adjustments)


@dataclass
class YearRow:
    subject_id: int
    name: str
    months: dict  # month number → Ranked
    rank: int | None = None

    @property
    def average(self) -> Decimal | None:
        """The mean of the ended (frozen) months, as the honour roll's; the current month alone
        while no month of the year has ended."""
        scored = [row for row in self.months.values() if row.adjusted is not None]
        scores = [row.adjusted for row in scored if row.score_id is not None] or [row.adjusted for row in scored]
        return (sum(scores) / len(scores)).quantize(CENT, ROUND_HALF_UP) if scores else None


def year_summary(session: Session, viewer: Viewer, kind: str, year: int, area_id=None, subject_id=None,
                 required_hours=DEFAULT_REQUIRED_HOURS) -> dict:
    """Each subject's twelve months of ``year`` (the current one live) and the year's average,
    ranked by the average. With ``subject_id``: that subject alone (a worker's own year)."""
    if kind not in SUBJECT_KINDS:
        raise ValidationError(_l("Choose workers, communities, streets or departments."), field="kind")
    area, path, subject = None, None, None
    if subject_id is not None:
        subject, _path = check_subject(session, viewer, kind, subject_id)
    elif kind == "department":
        if not (viewer.ranks and _sees_departments(viewer.scope)):
            raise OutOfScope(_l("Record not found."))
        subject = _department_filter(viewer)
    else:
        area = area_in_scope(session, viewer, area_id)
        path = str(area.path)
    first, last = datetime.date(year, 1, 1), datetime.date(year, 12, 1)
    this_month = current_month()
    freeze_through(session, min(last, this_month), first, required_hours)
    by_subject: dict[int, YearRow] = {}
    for month, row in _frozen(session, first, last, kind, path=path, subject_id=subject):
        by_subject.setdefault(row.subject_id, YearRow(row.subject_id, row.name, {})).months[month.month] = row
    if first <= this_month <= last:
        for row in _live(compute(session, kind, this_month, path=path, subject_id=subject,
                                 required_hours=required_hours)):
            by_subject.setdefault(row.subject_id, YearRow(row.subject_id, row.name, {})).months[this_month.month] = row
    rows = sorted(by_subject.values(), key=lambda r: (r.average is None, -(r.average or 0), r.name, r.subject_id))
    previous, rank = None, 0
    for position, row in enumerate(rows, start=1):
        if row.average is not None and row.average != previous:
            rank, previous = position, row.average
        row.rank = rank if row.average is not None else None
    live_month = this_month.month if first <= this_month <= last else None
    return {"kind": kind, "year": year, "area": area, "rows": rows, "live_month": live_month}


# --- adjustments ----------------------------------------------------------------------------
MOST_DELTA = Decimal(100)


def parse_delta(value) -> Decimal:
    try:
        delta = Decimal(str(value).strip())
    except Exception:  # decimal.InvalidOperation and the like: not a number
        delta = None
    if delta is None or not delta.is_finite() or delta == 0 or abs(delta) > MOST_DELTA \
            or delta != delta.quantize(CENT):
        raise ValidationError(_l("An adjustment is a number of points from -100 to 100, not 0, with at most two "
                                 "decimals."), field="delta")
    return delta


def may_adjust(viewer: Viewer, kind: str, subject_id: int) -> bool:
    """Whether the viewer's area is not the subject itself: a street or community does not
    correct its own score (it would rank itself); the level above it does."""
    scope = viewer.scope
    return not (kind in AREA_LEVELS and scope.kind == "grid" and scope.grid_id == subject_id)


def _signed(value: Decimal) -> str:
    return f"{value:+.2f}" if value else "0"


def adjust(session: Session, viewer: Viewer, actor_id: int | None, actor_name: str, score_id, delta,
           reason) -> AssessmentAdjustment:
    """A correction of a frozen score: a new row, with its reason; the score itself is kept. The
    adjusted score stays within 0–100: the score's row is locked, so two corrections at once take
    turns and the second counts the first (migration 0031 holds the same in the database)."""
    with unit_of_work(session):
        key = as_key(score_id)
        score = session.scalar(select(AssessmentScore).where(AssessmentScore.id == key)
                               .with_for_update()) if key is not None else None
        if score is None:
            raise OutOfScope(_l("Record not found."))
        check_score(session, Viewer(viewer.scope, None, viewer.ranks), score.kind, score.subject_id, score.grid_id)
        if not may_adjust(viewer, score.kind, score.subject_id):
            raise ValidationError(_l("An area's own score is corrected by the level above it."))
        amount = parse_delta(delta)
        reason = (reason or "").strip()
        if not reason:
            raise ValidationError(_l("Say why the score is adjusted."), field="reason")
        if len(reason) > 200:
            raise ValidationError(_l("A reason has at most 200 characters."), field="reason")
        if score.score is None:
            raise ValidationError(_l("This month had nothing to score: there is no score to adjust."))
        now = score.score + session.scalar(select(func.coalesce(func.sum(AssessmentAdjustment.delta), 0))
                                           .where(AssessmentAdjustment.score_id == score.id))
        if not 0 <= now + amount <= HUNDRED:
            raise ValidationError(_l("The adjusted score stays between 0 and 100: it is %(now)s now, so an adjustment "
                                     "is from %(low)s to %(high)s.", now=f"{now:.2f}", low=_signed(-now),
                                     high=_signed(HUNDRED - now)), field="delta")
        entry = AssessmentAdjustment(score_id=score.id, delta=amount, reason=reason, actor_id=actor_id,
                                     actor_name=(actor_name or "gridgov")[:130])
        session.add(entry)
        session.flush()
        return entry


# --- the weights ----------------------------------------------------------------------------
def check_weights(session: Session, row: AssessmentWeights) -> None:
    """The weights' bounds (as migration 0029's CHECKs hold them), said next to the field."""
    from ..models.assessment import ALL_WEIGHTS, AREA_WEIGHTS, DEPARTMENT_WEIGHTS, WORKER_WEIGHTS

    with session.no_autoflush:
        district = district_of(session, row, _l("Weights belong to a district, or are the default (no district)."))
        for name in ALL_WEIGHTS:
            value = getattr(row, name)
            if value is None or not 0 <= value <= 100:
                raise ValidationError(_l("A weight is a whole number from 0 to 100."), field=name)
        if row.reports_target is None or not 1 <= row.reports_target <= 500:
            raise ValidationError(_l("Between 1 and 500 incidents a month."), field="reports_target")
        for names in (WORKER_WEIGHTS, AREA_WEIGHTS, DEPARTMENT_WEIGHTS):
            if not sum(getattr(row, name) for name in names):
                raise ValidationError(_l("At least one weight of each group is above 0."), field=names[0])
        check_one_per_district(
            session, row, district,
            default_stays=_l("The default weights stay the default: add a district's own weights instead."),
            taken=_l("This district already has its weights."))


def check_weights_delete(session: Session, row: AssessmentWeights) -> None:
    if row.district_id is None:
        raise ValidationError(_l("The default weights cannot be deleted: change them instead."))


# --- the grid workers' honour roll ----------------------------------------------------------
@dataclass
class WorkerHonour:
    rank: int
    worker_id: int
    name: str
    grid: str
    average: Decimal
    months: int


def worker_honour_roll(session: Session, scope: Scope, year: int, per_group: int = 10, street_id: int | None = None,
                       district_id: int | None = None, required_hours=DEFAULT_REQUIRED_HOURS) -> dict:
    """网格员光荣榜: the workers with the best average (adjusted) score over ``year``'s frozen
    months, per community, street and district the scope sees (of ``street_id`` / ``district_id``
    only, when given, as the volunteers' roll), best first. Ended months of the year not frozen
    yet are frozen first."""
    empty = {"communities": {}, "streets": {}, "districts": {}}
    if scope.kind not in ("all", "grid"):
        return empty
    freeze_through(session, min(datetime.date(year, 12, 1), current_month()), datetime.date(year, 1, 1),
                   required_hours)
    adjusted = (select(func.coalesce(func.sum(AssessmentAdjustment.delta), 0))
                .where(AssessmentAdjustment.score_id == AssessmentScore.id).correlate(AssessmentScore)
                .scalar_subquery())
    community, street, district = (select(Grid.id, Grid.name, Grid.level, Grid.path).subquery() for _ in range(3))
    value = func.greatest(0, func.least(100, AssessmentScore.score + adjusted))
    query = (select(AssessmentScore.subject_id, func.max(AssessmentScore.name), func.max(Grid.name),
                    community.c.id, community.c.name, street.c.id, street.c.name, district.c.id, district.c.name,
                    func.round(func.avg(value), 2), func.count())
             .join(Grid, Grid.id == AssessmentScore.grid_id)
             .join(community, (community.c.level == "community") & community.c.path.op("@>")(Grid.path))
             .outerjoin(street, (street.c.level == "street") & street.c.path.op("@>")(Grid.path))
             .outerjoin(district, (district.c.level == "district") & district.c.path.op("@>")(Grid.path))
             .where(AssessmentScore.kind == "worker", AssessmentScore.score.is_not(None),
                    AssessmentScore.month >= datetime.date(year, 1, 1),
                    AssessmentScore.month <= datetime.date(year, 12, 1))
             .group_by(AssessmentScore.subject_id, community.c.id, community.c.name, street.c.id, street.c.name,
                       district.c.id, district.c.name))
    if scope.kind == "grid":
        query = query.where(Grid.path.descendant_of(Ltree(scope.grid_path)))
    if street_id is not None:
        query = query.where(street.c.id == street_id)
    if district_id is not None:
        query = query.where(district.c.id == district_id)
    rows = session.execute(query).all()
    rows.sort(key=lambda r: (-r[9], r[1], r[0]))
    roll = {board: defaultdict(list) for board in empty}
    for worker_id, name, grid_name, c_id, c_name, s_id, s_name, d_id, d_name, average, months in rows:
        for board, key in (("communities", (c_id, c_name)), ("streets", (s_id, s_name)),
                           ("districts", (d_id, d_name))):
            if key[0] is None or len(roll[board][key]) >= per_group:
                continue
            roll[board][key].append(WorkerHonour(len(roll[board][key]) + 1, worker_id, name, grid_name,
                                                 Decimal(average), months))
    return {board: dict(groups) for board, groups in roll.items()}


def own_worker_id(session: Session, user_id) -> int | None:
    return session.scalar(select(GridgovUser.worker_id).where(GridgovUser.id == user_id)) if user_id else None
