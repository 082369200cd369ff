"""Points for grid workers and building leaders (Beipiao's 楼栋长 earn as volunteers do): the
monthly award, the workers' earning rules, and what a worker's "my points" page shows.

A worker earns by the rules of ``worker_points_rules`` (migration 0030), for a past month only:

- 巡查达标奖励 (``patrol_month``): the rule's points when the worker met the district's patrol rule
  (services/patrols.py: enough patrols of the minutes and metres asked, as ``worker_days`` counts
  them) on at least ``min_share`` % of the month's days since they started;
- 走访积分 (``visit_due``): the rule's points per visit the worker's login recorded to a resident
  needing attention when it was due — the resident's first visit, or one at least the shortest
  interval of their tags after the one before — at most ``monthly_cap`` visits a month.

Visits are paid in the monthly award, not when recorded: a visit typed in but never made can be
deleted by the community until the month is over (a paid visit is kept by its award's foreign key,
its correction is an adjustment); a visit counts only when due, so a second visit to the same
resident the next day earns nothing; and the cap is counted in one place.

A community's own active rule of an award replaces the district's for the workers under it. Each
award is paid once: one patrol award per account and month, one per visit (partial unique
indexes, INSERT … ON CONFLICT DO NOTHING); runs of one month take turns (an advisory lock), so
the cap holds however many run at once. The entries go into the one ledger, whose triggers move
the balances (migration 0002): the bank's invariants hold as for volunteers.

The last month is awarded by the server's clock (``services.housekeeping``) in the first minute
after it ends, or the first time it is needed before that (a worker's "my points", the accounts
list), or by ``gridgov points award-month``."""
from __future__ import annotations

import datetime
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select, text
from sqlalchemy.orm import Session

from ..models import Grid, LedgerEntry, PointsAccount, Worker, WorkerPointsRule, worker_points_months
from ..models.points import MAX_RULE_POINTS, WORKER_AWARDS
from . import patrols
from . import points as points_service
from .errors import ValidationError
from .local_time import TIMEZONE_NAME, local_today
from .scope import Scope
from .unit_of_work import unit_of_work

EARLIEST_MONTH = datetime.date(2000, 1, 1)
# pg_advisory_xact_lock's first key: the award of one month (the second key: the month's number)
AWARD_LOCK = 30_001


# --- months ---------------------------------------------------------------------------------
def month_of(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def next_month(month: datetime.date) -> datetime.date:
    return (month.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)


def last_month(today: datetime.date | None = None) -> datetime.date:
    """The first day of the last month that is over (Beijing's calendar)."""
    return month_of(month_of(today or local_today()) - datetime.timedelta(days=1))


def parse_month(value: str | None, today: datetime.date | None = None) -> datetime.date:
    """'YYYY-MM' of a month that is over (none: the last one); else a clear refusal."""
    if value in (None, ""):
        return last_month(today)
    try:
        month = datetime.datetime.strptime(str(value).strip(), "%Y-%m").date()
    except ValueError:
        raise ValidationError(_l("Give the month as YYYY-MM, e.g. 2026-11.")) from None
    check_month(month, today)
    return month


def check_month(month: datetime.date, today: datetime.date | None = None) -> None:
    if month.day != 1 or month < EARLIEST_MONTH:
        raise ValidationError(_l("Give the month as YYYY-MM, e.g. 2026-11."))
    if next_month(month) > month_of(today or local_today()):
        raise ValidationError(_l("Only a month that is over can be awarded."))


# --- the award ------------------------------------------------------------------------------
# Each worker with a login or patrols, and the rule of each award that applies to them: their
# community's own active rule, else the district's. (A worker's community: the community grid
# among their grid's ancestors, itself included.)
APPLICABLE = """
    SELECT DISTINCT ON (w.id) w.id AS worker_id, a.id AS account_id, g.path, w.start_date,
           r.id AS rule_id, r.name AS rule_name, r.points, r.min_share, r.monthly_cap
    FROM workers w
    JOIN grids g ON g.id = w.grid_id
    JOIN points_accounts a ON a.worker_id = w.id
    JOIN worker_points_rules r ON r.award = :award AND r.active
    LEFT JOIN grids c ON c.id = r.community_id
    WHERE w.start_date <= :last AND (r.community_id IS NULL OR c.path @> g.path)
    ORDER BY w.id, r.community_id IS NULL
"""

# 巡查达标奖励: per worker, the days of the month since they started, and those on which the
# patrols the district's rule counts (minutes and metres met) were as many as it asks.
PATROL_AWARDS = text(f"""
    WITH staff AS ({APPLICABLE}),
    rule AS (
        SELECT d.district_id, pr.min_patrols, pr.min_minutes, pr.min_metres
        FROM (SELECT DISTINCT CAST(subpath(path, 0, 1) AS text)::integer AS district_id FROM staff) d
        CROSS JOIN LATERAL (
            SELECT min_patrols, min_minutes, min_metres FROM patrol_rules
            WHERE district_id = d.district_id OR district_id IS NULL
            ORDER BY district_id NULLS LAST LIMIT 1) pr),
    met AS (
        SELECT p.worker_id, p.day
        FROM staff s
        JOIN rule ON rule.district_id = CAST(subpath(s.path, 0, 1) AS text)::integer
        JOIN patrols p ON p.worker_id = s.worker_id AND p.day BETWEEN greatest(:first, s.start_date) AND :last
        GROUP BY p.worker_id, p.day, rule.min_patrols
        HAVING count(*) FILTER (WHERE p.duration_s >= rule.min_minutes * 60
                                  AND p.distance_m >= rule.min_metres) >= rule.min_patrols),
    met_days AS (SELECT worker_id, count(*) AS days FROM met GROUP BY worker_id),
    earned AS (
        SELECT s.account_id, s.rule_id, s.rule_name, s.points, coalesce(m.days, 0) AS met_days,
               CAST(:last AS date) - greatest(:first, s.start_date) + 1 AS days, s.min_share
        FROM staff s LEFT JOIN met_days m ON m.worker_id = s.worker_id)
    INSERT INTO points_entries (account_id, kind, amount, reason, worker_rule_id, award_month)
    SELECT account_id, 'earn', points, left(rule_name || ' ' || :label || ' ' || met_days || '/' || days, 200),
           rule_id, :first
    FROM earned
    WHERE met_days * 100 >= min_share * days
    ORDER BY account_id
    ON CONFLICT (account_id, award_month) WHERE worker_rule_id IS NOT NULL AND visit_id IS NULL DO NOTHING
    RETURNING account_id
""")

# 走访积分: the month's visits to a resident with a tag that asks for visits, recorded by a worker's
# login, made when due (the resident's first visit, or one the shortest interval of their tags
# after the one before); per worker, the earliest up to the cap less those paid already.
VISIT_AWARDS = text(f"""
    WITH staff AS ({APPLICABLE}),
    due AS (
        SELECT s.account_id, s.rule_id, s.rule_name, s.points, s.monthly_cap, v.id AS visit_id, v.visited_at,
               (v.visited_at AT TIME ZONE '{TIMEZONE_NAME}')::date AS visit_day
        FROM staff s
        JOIN ab_user u ON u.worker_id = s.worker_id
        JOIN visits v ON v.visitor_id = u.id AND v.resident_id IS NOT NULL
             AND v.visited_at >= CAST(:first AS timestamp) AT TIME ZONE '{TIMEZONE_NAME}'
             AND v.visited_at < CAST(:after AS timestamp) AT TIME ZONE '{TIMEZONE_NAME}'
        JOIN residents r ON r.id = v.resident_id
        CROSS JOIN LATERAL (SELECT min(t.visit_days) AS days FROM attention_tags t
                            WHERE t.code = ANY(r.tags) AND t.visit_days IS NOT NULL) interval
        LEFT JOIN LATERAL (SELECT max(b.visited_at) AS at FROM visits b
                           WHERE b.resident_id = v.resident_id
                             AND (b.visited_at < v.visited_at OR (b.visited_at = v.visited_at AND b.id < v.id))) before
             ON true
        WHERE interval.days IS NOT NULL
          AND (before.at IS NULL OR (v.visited_at AT TIME ZONE '{TIMEZONE_NAME}')::date
                                    >= (before.at AT TIME ZONE '{TIMEZONE_NAME}')::date + interval.days)),
    paid AS (
        SELECT e.account_id, count(*) AS visits FROM points_entries e
        WHERE e.award_month = :first AND e.visit_id IS NOT NULL
          AND e.account_id IN (SELECT account_id FROM due)
        GROUP BY e.account_id),
    ranked AS (
        SELECT due.*, row_number() OVER (PARTITION BY due.account_id ORDER BY due.visited_at, due.visit_id) AS n
        FROM due
        WHERE NOT EXISTS (SELECT 1 FROM points_entries e WHERE e.visit_id = due.visit_id))
    INSERT INTO points_entries (account_id, kind, amount, reason, worker_rule_id, award_month, visit_id)
    SELECT ranked.account_id, 'earn', ranked.points,
           left(ranked.rule_name || ' ' || to_char(ranked.visit_day, 'YYYY-MM-DD') || ' #' || ranked.visit_id, 200),
           ranked.rule_id, :first, ranked.visit_id
    FROM ranked LEFT JOIN paid ON paid.account_id = ranked.account_id
    WHERE ranked.monthly_cap IS NULL OR ranked.n <= ranked.monthly_cap - coalesce(paid.visits, 0)
    ORDER BY ranked.account_id, ranked.visit_id
    ON CONFLICT (visit_id) WHERE visit_id IS NOT NULL DO NOTHING
    RETURNING account_id
""")


@dataclass(frozen=True)
class MonthAward:
    month: datetime.date
    patrol_awards: int
    visit_awards: int

    @property
    def entries(self) -> int:
        return self.patrol_awards + self.visit_awards


def award_month(session: Session, month: datetime.date, today: datetime.date | None = None) -> MonthAward:
    """Pay the workers' awards of ``month`` (its first day; a month that is over), once each, in
    one transaction: two statements over every worker at once, not a query per worker. Run again
    (a retry, a later visit typed in late, two first views at once) it pays only what is not yet
    paid, and never past a visit cap."""
    check_month(month, today)
    after = next_month(month)
    last = after - datetime.timedelta(days=1)
    with unit_of_work(session):
        # runs of the same month take turns: the cap is counted against what the other paid
        session.execute(select(func.pg_advisory_xact_lock(AWARD_LOCK, month.year * 100 + month.month)))
        values = {"first": month, "last": last, "after": after, "label": f"{month:%Y-%m}"}
        patrols = len(session.execute(PATROL_AWARDS, {**values, "award": "patrol_month"}).all())
        visits = len(session.execute(VISIT_AWARDS, {**values, "award": "visit_due"}).all())
        total = patrols + visits
        stmt = text("""INSERT INTO worker_points_months (month, entries) VALUES (:month, :entries)
                       ON CONFLICT (month) DO UPDATE SET entries = worker_points_months.entries + EXCLUDED.entries,
                       awarded_at = now()""")
        session.execute(stmt, {"month": month, "entries": total})
    return MonthAward(month, patrols, visits)


def is_awarded(session: Session, month: datetime.date) -> bool:
    return session.scalar(select(worker_points_months.c.month).where(worker_points_months.c.month == month)) \
        is not None


def award_last_month_once(session: Session, today: datetime.date | None = None) -> MonthAward | None:
    """The last month's awards, the first time they are needed (one small read when they are
    made); two first views at once pay once (the month's lock, then the record of the run)."""
    month = last_month(today)
    if is_awarded(session, month):
        return None
    with unit_of_work(session):
        session.execute(select(func.pg_advisory_xact_lock(AWARD_LOCK, month.year * 100 + month.month)))
        if is_awarded(session, month):  # the other view made it while this one waited
            return None
        return award_month(session, month, today)


# --- a worker's account ---------------------------------------------------------------------
def account_of_worker(session: Session, worker_id: int) -> PointsAccount | None:
    return session.scalar(select(PointsAccount).where(PointsAccount.worker_id == worker_id))


def own_account(session: Session, scope: Scope, worker_id: int | None) -> PointsAccount | None:
    """The account of the person signed in: a volunteer's, or the worker's their login is."""
    if scope.kind == "volunteer":
        return points_service.account_of_volunteer(session, scope.volunteer_id)
    if worker_id is not None:
        return account_of_worker(session, worker_id)
    return None


def may_redeem_from(account_id: int, own: PointsAccount | None, at_counter: bool) -> bool:
    """A holder redeems from their own account; the counter's staff (who hand redemptions over)
    also from the accounts of their scope — the scope itself is checked by ``points.redeem``."""
    return at_counter or (own is not None and own.id == account_id)


@dataclass(frozen=True)
class MonthSoFar:
    """This month's days over (since the worker started) and those on which the patrol rule was met."""

    month: datetime.date
    days: int
    met: int


def month_so_far(session: Session, worker: Worker, today: datetime.date | None = None) -> MonthSoFar:
    today = today or local_today()
    first, last = patrols.counted_days(max(month_of(today), worker.start_date), today, today)
    days = patrols.worker_days(session, worker, first, last)
    return MonthSoFar(month_of(today), len(days), sum(1 for day in days if day.met))


def rules_for(session: Session, worker: Worker) -> list[WorkerPointsRule]:
    """The rules a worker earns by, one per award: their community's own, else the district's."""
    community = community_of(session, worker)
    rows = session.scalars(select(WorkerPointsRule).where(
        WorkerPointsRule.active.is_(True),
        or_(WorkerPointsRule.community_id.is_(None), WorkerPointsRule.community_id == community))
        .order_by(WorkerPointsRule.award, WorkerPointsRule.community_id.is_(None))).all()
    chosen: dict[str, WorkerPointsRule] = {}
    for rule in rows:
        chosen.setdefault(rule.award, rule)
    return [chosen[award] for award in WORKER_AWARDS if award in chosen]


def community_of(session: Session, worker: Worker) -> int | None:
    """The community a worker's grid lies in (itself, if it is one)."""
    path = session.scalar(select(Grid.path).where(Grid.id == worker.grid_id))
    if path is None:
        return None
    return session.scalar(select(Grid.id).where(Grid.level == "community", Grid.path.ancestor_of(path)))


# --- who keeps the rules --------------------------------------------------------------------
def check_rule(session: Session, scope: Scope, rule: WorkerPointsRule, *, present_community_id=points_service.NEW,
               present_award=None) -> None:
    """A worker's rule as the volunteers' are kept (the district's by district staff, a
    community's by its secretary), with the figures its award needs. A rule that paid points
    keeps what it rewards (its entries are read by it; migration 0031)."""
    if present_community_id is not points_service.NEW:
        check_rule_delete(session, scope, rule, present_community_id)
    if rule.id is not None and present_award is not None and rule.award != present_award:
        with session.no_autoflush:
            paid = session.scalar(select(LedgerEntry.id).where(LedgerEntry.worker_rule_id == rule.id).limit(1))
        if paid is not None:
            raise ValidationError(_l("This rule has paid points: it keeps what it rewards. Deactivate it and make a "
                                     "new rule instead."), field="award")
    rule.name = (rule.name or "").strip()
    if not rule.name:
        raise ValidationError(_l("This field is required."), field="name")
    if rule.award not in WORKER_AWARDS:
        raise ValidationError(_l("Choose what the rule rewards."), field="award")
    if rule.points is None or not (0 < rule.points <= MAX_RULE_POINTS):
        raise ValidationError(_l("A rule earns a whole number of points from 1 to %(most)s.", most=f"{MAX_RULE_POINTS:,}"),
                              field="points")
    if rule.award == "patrol_month":
        if rule.min_share is None or not (1 <= rule.min_share <= 100):
            raise ValidationError(_l("The share of the month's days is a whole number from 1 to 100 (%)."),
                                  field="min_share")
        rule.monthly_cap = None
    else:
        rule.min_share = None
        if rule.monthly_cap is not None and not (1 <= rule.monthly_cap <= 100):
            raise ValidationError(_l("At most 1 to 100 visits a month, or empty for no cap."), field="monthly_cap")
    community = rule.community or (session.get(Grid, rule.community_id) if rule.community_id else None)
    points_service.check_offered_by(session, scope, community,
                                    _l("Only the district keeps the rules of the whole district."),
                                    _l("You can only keep the rules of your own community."), field="community")
    if rule.active:
        clash = select(WorkerPointsRule.id).where(
            WorkerPointsRule.award == rule.award, WorkerPointsRule.active.is_(True),
            WorkerPointsRule.community_id.is_not_distinct_from(community.id if community is not None else None),
            WorkerPointsRule.id != (rule.id or 0))
        if session.scalar(clash) is not None:
            raise ValidationError(_l("An active rule of this kind already exists here: deactivate it first."),
                                  field="award")


def check_rule_delete(session: Session, scope: Scope, rule: WorkerPointsRule,
                      community_id=points_service.NEW) -> None:
    """Only who keeps a rule deletes it (one that paid points is kept by the ledger's foreign key:
    deactivate it instead)."""
    if community_id is points_service.NEW:
        community_id = rule.community_id
    points_service.check_offered_by(session, scope, session.get(Grid, community_id) if community_id else None,
                                    _l("Only the district keeps the rules of the whole district."),
                                    _l("You can only keep the rules of your own community."))


def awards_of(session: Session, account_id: int) -> dict[int, str]:
    """The award kind of each of the account's worker-award entries (for the ledger's words)."""
    return dict(session.execute(
        select(LedgerEntry.id, WorkerPointsRule.award).join(WorkerPointsRule, WorkerPointsRule.id == LedgerEntry.worker_rule_id)
        .where(LedgerEntry.account_id == account_id)).all())

