"""巡查日志 and 打卡: a grid worker starts a patrol, the phone sends the track in batches, the worker
stops it; the daily clock-in; each district's patrol rule and who met it.

A track is measured here, once, from its points: the great-circle (haversine) length of every
stretch between two points, less the stretches faster than the rule's ``max_speed`` (impossible
jumps: a location error, or a ride), which are counted and flag the patrol instead; its duration
is the time from its first point to its last. The phone resends what it could not deliver: only
points later than the last one stored are kept, under the patrol's row lock, so a batch sent twice
is stored once.

Who sees a patrol: the worker who walked it, and those who lead the area it lies in (a
permission, ``can_lead`` on the patrols, given in app/security.py), inside their scope; nobody
else. The database keeps one patrol under way per worker and one clock-in a day (migration 0026)."""
from __future__ import annotations

import datetime
import math
from dataclasses import dataclass
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import false, or_, select, text, true
from sqlalchemy.orm import Session
from sqlalchemy_utils import Ltree

from ..models import ClockIn, Grid, GridgovUser, Incident, Patrol, PatrolRule, Visit, Worker
from ..models.choices import WORKER_ROLES
from .district_rows import check_one_per_district, district_of
from .errors import Conflict, OutOfScope, ValidationError
from .local_time import local_today
from .scope import Scope, is_under, visible
from .typed import as_key
from .unit_of_work import unit_of_work

EARTH_RADIUS_M = 6_371_000  # the mean radius; the haversine's error against the ellipsoid is under 0.5 %
# the roles the rule asks patrols of: every worker of a grid (the district's 8,400 patrol, as
# Beipiao asks of its 网格员); a district that exempts a role (a cleaner) changes this one list
PATROLLING_ROLES = WORKER_ROLES
# a point the phone places worse than this is not stored: it would draw a track the worker never walked
WORST_ACCURACY_M = 100
MOST_POINTS_PER_BATCH = 2000
# a phone's clock may run a little ahead of the server's
CLOCK_MARGIN = datetime.timedelta(minutes=5)
# a stopped patrol takes the points its phone could not send this long after it stopped; later,
# its track is closed (a past day's patrol is not filled in after the week was looked at)
LATE_POINTS = datetime.timedelta(hours=24)


# --- the track ------------------------------------------------------------------------------
def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """The great-circle distance in metres between two points given in degrees."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlambda = phi2 - phi1, math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


@dataclass(frozen=True)
class Measure:
    """What a track counts: metres walked (jumps left out), seconds from first to last point, the
    impossible jumps and the speed of the fastest (m/s)."""

    distance_m: float
    duration_s: int
    jumps: int
    fastest_jump: float | None


def measure(latitudes, longitudes, seconds, max_speed: float) -> Measure:
    """Measure a track: each stretch between two successive points counts its great-circle length,
    unless it was covered faster than ``max_speed`` m/s (a stretch of no time that moved counts
    as a second's)."""
    distance, jumps, fastest = 0.0, 0, None
    for i in range(1, len(seconds)):
        stretch = haversine_m(latitudes[i - 1], longitudes[i - 1], latitudes[i], longitudes[i])
        speed = stretch / max(seconds[i] - seconds[i - 1], 1)
        if speed > max_speed:
            jumps += 1
            fastest = speed if fastest is None else max(fastest, speed)
        else:
            distance += stretch
    duration = seconds[-1] - seconds[0] if seconds else 0
    return Measure(distance, duration, jumps, fastest)


# --- the rule -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Rule:
    min_patrols: int
    min_minutes: int
    min_metres: int
    max_speed: float


def _district_id(path) -> int:
    """A grid's district: the root of its path (a path is its ancestors' ids and its own)."""
    return int(str(path).split(".")[0])


def rule_for(session: Session, grid_or_path) -> Rule:
    """The patrol rule of the district ``grid_or_path`` (a Grid or a path) lies in: its own row, or
    the default row."""
    path = grid_or_path.path if isinstance(grid_or_path, Grid) else grid_or_path
    row = session.scalar(select(PatrolRule).where(or_(PatrolRule.district_id == _district_id(path),
                                                      PatrolRule.district_id.is_(None)))
                         .order_by(PatrolRule.district_id.is_(None)).limit(1))
    return Rule(row.min_patrols, row.min_minutes, row.min_metres, float(row.max_speed))


def check_rule(session: Session, rule: PatrolRule) -> None:
    """A rule's bounds (as the CHECKs of migration 0026 hold them), said next to the field."""
    with session.no_autoflush:
        district = district_of(session, rule, _l("A patrol rule belongs to a district, or is the default (no district)."))
        bounds = (("min_patrols", 1, 12, _l("Between 1 and 12 patrols a day.")),
                  ("min_minutes", 1, 720, _l("Between 1 and 720 minutes.")),
                  ("min_metres", 0, 100000, _l("Between 0 and 100,000 metres.")),
                  ("max_speed", 2, 50, _l("Between 2 and 50 m/s.")))
        for field, low, high, message in bounds:
            value = getattr(rule, field)
            if value is None or not (low <= value <= high):
                raise ValidationError(message, field=field)
        check_one_per_district(
            session, rule, district,
            default_stays=_l("The default patrol rule stays the default: add a district's own rule instead."),
            taken=_l("This district already has its patrol rule."))


def check_rule_delete(session: Session, rule: PatrolRule) -> None:
    """The default rule is kept: every district without its own is measured by it."""
    if rule.district_id is None:
        raise ValidationError(_l("The default patrol rule cannot be deleted: change its figures instead."))


# --- who walks, who sees ----------------------------------------------------------------------
def worker_of(session: Session, user_id) -> Worker:
    """The worker a login is; a login that is no worker cannot patrol or clock in."""
    worker = session.scalar(select(Worker).join(GridgovUser, GridgovUser.worker_id == Worker.id)
                            .where(GridgovUser.id == user_id)) if user_id else None
    if worker is None:
        raise ValidationError(_l("Your login is not linked to a worker record: ask the administrator to link it."))
    return worker


def worker_id_of(session: Session, user_id) -> int | None:
    return session.scalar(select(GridgovUser.worker_id).where(GridgovUser.id == user_id)) if user_id else None


def seen(scope: Scope, own_worker_id: int | None, leads: bool, model=Patrol):
    """The patrols (or clock-ins) a user sees: their own, and with ``leads`` those of their area."""
    if scope.is_all:
        return true()
    own = model.worker_id == own_worker_id if own_worker_id is not None else false()
    if leads and scope.kind == "grid":
        area = model.grid_id.in_(select(Grid.id).where(Grid.path.descendant_of(Ltree(scope.grid_path))))
        return or_(own, area)
    return own


def shows_track(scope: Scope, own_worker_id: int | None, leads: bool, patrol: Patrol) -> bool:
    """Whether the track itself is shown: to the worker who walked it and to who leads its area, not
    to the administrator (who manages the system, not the people)."""
    if patrol.worker_id == own_worker_id:
        return True
    return leads and scope.kind == "grid" and patrol.grid is not None and is_under(patrol.grid.path, scope.grid_path)


def made_on(session: Session, scope: Scope, patrol_id: int) -> tuple[list, list]:
    """(the incidents, the visits) made on a patrol that the scope sees, in time order."""
    incidents = list(session.scalars(select(Incident).where(Incident.patrol_id == patrol_id, visible(scope, Incident))
                                     .order_by(Incident.id)))
    visits = list(session.scalars(select(Visit).where(Visit.patrol_id == patrol_id, visible(scope, Visit))
                                  .order_by(Visit.visited_at, Visit.id)))
    return incidents, visits


def worker_seen(session: Session, scope: Scope, own_worker_id: int | None, leads: bool, worker_id) -> Worker:
    """A worker whose days the user may read: their own, or one of the area they lead."""
    pk = as_key(worker_id)
    worker = session.get(Worker, pk) if pk is not None else None
    if worker is None or not (worker.id == own_worker_id or scope.is_all or (
            leads and scope.kind == "grid" and is_under(worker.grid.path, scope.grid_path))):
        raise OutOfScope(_l("Record not found."))
    return worker


def open_patrol_id(session: Session, user_id) -> int | None:
    """The patrol under way of the worker a login is (an incident reported or a visit recorded
    meanwhile is linked to it)."""
    if not user_id:
        return None
    return session.scalar(select(Patrol.id).join(GridgovUser, GridgovUser.worker_id == Patrol.worker_id)
                          .where(GridgovUser.id == user_id, Patrol.ended_at.is_(None)))


def open_patrol(session: Session, worker_id: int) -> Patrol | None:
    return session.scalar(select(Patrol).where(Patrol.worker_id == worker_id, Patrol.ended_at.is_(None)))


# --- patrolling -----------------------------------------------------------------------------
def _now(session: Session) -> datetime.datetime:
    return session.scalar(select(text("now()")))


def start(session: Session, actor) -> Patrol:
    """A new patrol of the actor's worker, from now. A second one while one is under way is refused
    (the database's ``patrols_open_key`` decides between two taps at once)."""
    with unit_of_work(session):
        worker = worker_of(session, actor.user_id)
        if open_patrol(session, worker.id) is not None:
            raise Conflict(_l("You have a patrol under way: stop it before starting another."))
        patrol = Patrol(worker_id=worker.id, grid_id=worker.grid_id, started_at=_now(session),
                        latitudes=[], longitudes=[], seconds=[])
        session.add(patrol)
        session.flush()
        return patrol


def _own_patrol_locked(session: Session, actor, patrol_id) -> Patrol:
    worker_id = worker_id_of(session, actor.user_id)
    pk = as_key(patrol_id)
    patrol = session.scalar(select(Patrol).where(Patrol.id == pk, Patrol.worker_id == worker_id)
                            .with_for_update()) if pk is not None and worker_id is not None else None
    if patrol is None:
        raise OutOfScope(_l("Record not found."))
    return patrol


def _number(value, low: float, high: float) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        number = float(value)
    except (ValueError, OverflowError):  # an integer too large for a float (JSON has no bound)
        return None
    return number if math.isfinite(number) and low <= number <= high else None


def _points(points, started_at: datetime.datetime, until: datetime.datetime):
    """The valid points of a batch as (seconds since the start, latitude, longitude), in time order:
    each a dict with ``lat``, ``lon``, ``t`` (epoch milliseconds, as a browser gives it) and optionally
    ``acc`` (metres). A point that is not one is refused; one too imprecise, before the start or
    after ``until`` is left out."""
    if not isinstance(points, list):
        raise ValidationError(_l("The track could not be read."))
    if len(points) > MOST_POINTS_PER_BATCH:
        raise ValidationError(_l("Too many points at once: at most %(most)s.", most=MOST_POINTS_PER_BATCH))
    start_ms, until_ms = started_at.timestamp() * 1000, until.timestamp() * 1000
    kept = {}
    for point in points:
        if not isinstance(point, dict):
            raise ValidationError(_l("The track could not be read."))
        latitude, longitude = _number(point.get("lat"), -90, 90), _number(point.get("lon"), -180, 180)
        moment = _number(point.get("t"), 0, 1e14)
        if latitude is None or longitude is None or moment is None:
            raise ValidationError(_l("The track could not be read."))
        accuracy = _number(point.get("acc"), 0, 1e7) if point.get("acc") is not None else 0
        if accuracy is None or accuracy > WORST_ACCURACY_M or not (start_ms <= moment <= until_ms):
            continue
        kept.setdefault(int((moment - start_ms) // 1000), (latitude, longitude))
    return [(second, *kept[second]) for second in sorted(kept)]


def _append(session: Session, patrol: Patrol, points, until: datetime.datetime) -> int:
    """Add to the locked patrol the points later than its last; measure the track again."""
    last = patrol.seconds[-1] if patrol.seconds else -1
    new = [point for point in _points(points, patrol.started_at, until) if point[0] > last]
    if new:
        patrol.seconds = list(patrol.seconds) + [point[0] for point in new]
        patrol.latitudes = list(patrol.latitudes) + [point[1] for point in new]
        patrol.longitudes = list(patrol.longitudes) + [point[2] for point in new]
        rule = rule_for(session, patrol.grid.path)
        found = measure(patrol.latitudes, patrol.longitudes, patrol.seconds, rule.max_speed)
        patrol.distance_m = int(round(found.distance_m))
        patrol.duration_s = found.duration_s
        patrol.jumps = found.jumps
        patrol.fastest_jump = Decimal(f"{found.fastest_jump:.1f}") if found.fastest_jump is not None else None
    return len(new)


def add_points(session: Session, actor, patrol_id, points) -> tuple[Patrol, int]:
    """Points of the actor's patrol (a batch the phone sends, perhaps again): (the patrol, how many
    were new). A patrol already stopped takes the points made before it stopped (sent late, after
    the signal came back), for a day (``LATE_POINTS``)."""
    with unit_of_work(session):
        patrol = _own_patrol_locked(session, actor, patrol_id)
        now = _now(session)
        if patrol.ended_at is not None and now > patrol.ended_at + LATE_POINTS:
            raise Conflict(_l("This patrol was stopped more than a day ago: its track can no longer be added to."))
        until = patrol.ended_at or now + CLOCK_MARGIN
        added = _append(session, patrol, points, until)
        session.flush()
        return patrol, added


def stop(session: Session, actor, patrol_id, points=None) -> Patrol:
    """Stop the actor's patrol now, with the last points the phone holds."""
    with unit_of_work(session):
        patrol = _own_patrol_locked(session, actor, patrol_id)
        if patrol.ended_at is not None:
            raise Conflict(_l("This patrol has already been stopped."))
        now = _now(session)
        _append(session, patrol, points or [], now + CLOCK_MARGIN)
        patrol.ended_at = max(now, patrol.started_at)
        session.flush()
        return patrol


# --- clocking in ----------------------------------------------------------------------------
def clock_in(session: Session, actor, latitude, longitude, accuracy=None) -> ClockIn:
    """打卡: once a local day, where the phone is (a place is required)."""
    with unit_of_work(session):
        worker = worker_of(session, actor.user_id)
        lat, lon = _number(latitude, -90, 90), _number(longitude, -180, 180)
        if lat is None or lon is None:
            raise ValidationError(_l("Your location is needed to clock in: allow the page to use it and try again."))
        accuracy_m = _number(accuracy, 0, 1e7) if accuracy not in (None, "") else None
        today = local_today()
        if session.scalar(select(ClockIn.id).where(ClockIn.worker_id == worker.id, ClockIn.day == today)):
            raise Conflict(_l("You have already clocked in today."))
        entry = ClockIn(worker_id=worker.id, grid_id=worker.grid_id, clocked_at=_now(session), latitude=lat,
                        longitude=lon, accuracy_m=int(accuracy_m) if accuracy_m is not None else None)
        session.add(entry)
        session.flush()
        return entry


def clocked_in_today(session: Session, worker_id: int) -> ClockIn | None:
    return session.scalar(select(ClockIn).where(ClockIn.worker_id == worker_id, ClockIn.day == local_today()))


# --- compliance -----------------------------------------------------------------------------
def week_of(day: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The Monday and Sunday of ``day``'s week."""
    monday = day - datetime.timedelta(days=day.weekday())
    return monday, monday + datetime.timedelta(days=6)


def counted_days(first: datetime.date, last: datetime.date, today: datetime.date | None = None):
    """The days of ``first``..``last`` that are over (a day counts once it has ended)."""
    today = today or local_today()
    return first, min(last, today - datetime.timedelta(days=1))


@dataclass(frozen=True)
class Day:
    day: datetime.date
    patrols: int
    counted: int  # patrols that met the minutes and metres
    flagged: int
    metres: int
    minutes: int
    clocked_in: bool
    met: bool


WORKER_DAYS = text("""
    WITH rule AS (
        SELECT min_patrols, min_minutes, min_metres FROM patrol_rules
        WHERE district_id = :district OR district_id IS NULL ORDER BY district_id NULLS LAST LIMIT 1)
    SELECT d.day::date, count(p.day), count(p.day) FILTER (WHERE p.duration_s >= rule.min_minutes * 60
                                                            AND p.distance_m >= rule.min_metres),
           count(p.day) FILTER (WHERE p.jumps > 0), coalesce(sum(p.distance_m), 0),
           coalesce(sum(p.duration_s), 0) / 60,
           EXISTS (SELECT 1 FROM clock_ins c WHERE c.worker_id = :worker AND c.day = d.day::date), rule.min_patrols
    FROM generate_series(CAST(:first AS date), CAST(:last AS date), interval '1 day') AS d (day)
    CROSS JOIN rule
    LEFT JOIN patrols p ON p.worker_id = :worker AND p.day = d.day::date
    GROUP BY d.day, rule.min_patrols, rule.min_minutes, rule.min_metres
    ORDER BY d.day
""")


def worker_days(session: Session, worker: Worker, first: datetime.date, last: datetime.date) -> list[Day]:
    """Per day of ``first``..``last``: the worker's patrols, those the rule counts, and whether the
    day met the rule (patrols counted ≥ the rule's number)."""
    if last < first:
        return []
    rows = session.execute(WORKER_DAYS, {"district": _district_id(worker.grid.path), "worker": worker.id,
                                         "first": first, "last": last})
    return [Day(day, patrols, counted, flagged, int(metres), int(minutes), clocked, counted >= needed)
            for day, patrols, counted, flagged, metres, minutes, clocked, needed in rows]


@dataclass(frozen=True)
class Shortfall:
    worker_id: int
    name: str
    grid_id: int
    grid_name: str
    days: int
    days_short: int
    patrols: int
    counted: int
    flagged: int
    clock_ins: int


@dataclass(frozen=True)
class AreaFigures:
    """One sub-area of the area asked about (a street's community, a community's block), or the
    area's own staff (workers of the area itself): its patrolling workers and how many fell short."""

    path: str
    workers: int
    short: int

    @property
    def share_met(self) -> int:
        """The share of the workers who met the rule, in whole percent: 100 only when every one
        did and 0 only when none did (1 short of 300 is 99%, not a rounded 100%)."""
        met = self.workers - self.short
        if self.workers <= 0:
            return 0
        return min(max(round(met * 100 / self.workers), 1 if met else 0), 99 if self.short else 100)


@dataclass(frozen=True)
class Compliance:
    """The week of an area: how many of its patrolling workers fell short (``total``, of
    ``workers``), the page of them asked for, and the figures of each sub-area."""

    workers: int
    total: int
    rows: list[Shortfall]
    by_area: dict[str, AreaFigures]


COMPLIANCE_PAGE = 100

# One statement: the patrolling workers of the area's subtree; their patrols of the days asked
# read from the index (worker_id, day) with the figures it includes, summed per day, then per
# worker (a day is met when enough of its patrols count; the other days are short); the whole
# result once (MATERIALIZED) for three answers as one row: how many fell short, each sub-area's
# workers and shortfalls, and the page of the short ones, most days short first. The figures come
# as JSON: psycopg2 reads a page of rows in one call.
COMPLIANCE = text("""
    WITH rule AS (
        SELECT min_patrols, min_minutes, min_metres FROM patrol_rules
        WHERE district_id = :district OR district_id IS NULL ORDER BY district_id NULLS LAST LIMIT 1),
    staff AS (
        SELECT w.id, w.name, w.grid_id, g.name AS grid_name,
               CASE WHEN nlevel(g.path) > :depth THEN subpath(g.path, 0, :depth + 1) ELSE g.path END::text AS under
        FROM workers w JOIN grids g ON g.id = w.grid_id
        WHERE g.path <@ CAST(:path AS ltree) AND w.role = ANY(:roles)),
    walked AS (
        SELECT p.worker_id, p.day, count(*) AS patrols,
               count(*) FILTER (WHERE p.duration_s >= rule.min_minutes * 60 AND p.distance_m >= rule.min_metres)
                   AS counted,
               count(*) FILTER (WHERE p.jumps > 0) AS flagged
        FROM staff JOIN patrols p ON p.worker_id = staff.id AND p.day BETWEEN :first AND :last
        CROSS JOIN rule
        GROUP BY p.worker_id, p.day),
    per_worker AS (
        SELECT worker_id, sum(patrols) AS patrols, sum(counted) AS counted, sum(flagged) AS flagged,
               count(*) FILTER (WHERE counted >= rule.min_patrols) AS days_met
        FROM walked CROSS JOIN rule GROUP BY worker_id),
    clocked AS (
        SELECT c.worker_id, count(*) AS days FROM staff JOIN clock_ins c ON c.worker_id = staff.id
        AND c.day BETWEEN :first AND :last GROUP BY c.worker_id),
    result AS MATERIALIZED (
        SELECT s.id, s.name, s.grid_id, s.grid_name, s.under, :days - coalesce(p.days_met, 0) AS days_short,
               coalesce(p.patrols, 0) AS patrols, coalesce(p.counted, 0) AS counted,
               coalesce(p.flagged, 0) AS flagged, coalesce(c.days, 0) AS clock_ins
        FROM staff s LEFT JOIN per_worker p ON p.worker_id = s.id LEFT JOIN clocked c ON c.worker_id = s.id)
    SELECT (SELECT count(*) FROM result),
           (SELECT count(*) FROM result WHERE days_short > 0),
           (SELECT json_agg(json_build_array(under, workers, short)) FROM (
                SELECT under, count(*) AS workers, count(*) FILTER (WHERE days_short > 0) AS short
                FROM result GROUP BY under) AS areas),
           (SELECT json_agg(json_build_array(id, name, grid_id, grid_name, days_short, patrols, counted, flagged,
                                             clock_ins) ORDER BY days_short DESC, grid_name, name, id) FROM (
                SELECT * FROM result WHERE days_short > 0
                ORDER BY days_short DESC, grid_name, name, id LIMIT :limit OFFSET :offset) AS page)
""")


def compliance(session: Session, area: Grid, first: datetime.date, last: datetime.date, *, offset: int = 0,
               limit: int = COMPLIANCE_PAGE) -> Compliance:
    """The patrolling workers of ``area`` (its whole subtree) who fell short of the rule on at
    least one day of ``first``..``last``: how many, the page at ``offset`` (most days short
    first), and each sub-area's figures by its path (the area's own staff under the area's)."""
    if last < first:
        return Compliance(0, 0, [], {})
    days = (last - first).days + 1
    path = str(area.path)
    workers, total, areas, page = session.execute(COMPLIANCE, {
        "district": _district_id(path), "path": path, "depth": path.count(".") + 1,
        "roles": list(PATROLLING_ROLES), "first": first, "last": last, "days": days,
        "offset": max(0, offset), "limit": limit}).one()
    return Compliance(workers, total, [Shortfall(row[0], row[1], row[2], row[3], days, *row[4:]) for row in page or ()],
                      {under: AreaFigures(under, count, short) for under, count, short in areas or ()})


def shortfalls(session: Session, area: Grid, first: datetime.date, last: datetime.date,
               most: int = 1000) -> list[Shortfall]:
    """The first ``most`` of ``compliance``'s workers who fell short, most days short first."""
    return compliance(session, area, first, last, limit=most).rows


def areas(session: Session, scope: Scope, area: Grid) -> dict:
    """For the compliance page: the area's sub-areas (streets, communities, blocks) and the areas
    above it that the scope reaches, to move through the tree."""
    children = list(session.scalars(select(Grid).where(Grid.parent_id == area.id, Grid.level != "building")
                                    .order_by(Grid.code)))
    above = []
    if area.parent_id is not None:
        above = [grid for grid in session.scalars(select(Grid).where(Grid.path.ancestor_of(area.path),
                                                                     Grid.id != area.id).order_by(Grid.path))
                 if scope.is_all or (scope.kind == "grid" and is_under(grid.path, scope.grid_path))]
    return {"children": children, "above": above}


def area_in_scope(session: Session, scope: Scope, area_id) -> Grid:
    """The area a user asks about (their own scope's grid by default), inside their scope."""
    given = area_id not in (None, "")
    pk = as_key(area_id) if given else None
    if not given:
        if scope.kind == "grid":
            pk = scope.grid_id
        elif scope.is_all:
            return session.scalar(select(Grid).where(Grid.parent_id.is_(None)).order_by(Grid.code))
    grid = session.get(Grid, pk) if pk is not None else None
    if grid is None or not (scope.is_all or (scope.kind == "grid" and is_under(grid.path, scope.grid_path))):
        raise OutOfScope(_l("Record not found."))
    return grid
