"""What the calendar asks of gridgov without anyone asking: incidents past their deadline go one
level up, an ended month's assessment is frozen, and its workers' points are paid.

Each was done by the first person who needed it (the first view of a month's ranking froze it,
some seconds at district size, each month of a year a view needed; the first "my points" after
a month's end paid the whole month's awards, about 6 s) or by cron (``gridgov tick``, ``gridgov
assess freeze``, ``gridgov points award-month``), which an intranet server may never be given.
``app.clock`` now runs ``catch_up`` in the server, once a minute: the first pass after a month
ends does the month's work, and the views find it done. Each step keeps its own guarantees
(escalation under a skipped row lock, a month frozen and awarded once under its advisory lock),
so two servers on one database, or a cron job beside the clock, do the work once."""
from __future__ import annotations

import datetime
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from . import assessment, worker_points
from .incidents import escalate_overdue
from .unit_of_work import NOT_REFUSALS

log = logging.getLogger(__name__)


@dataclass
class Caught:
    """What one pass did."""

    escalated: list[int] = field(default_factory=list)
    scores_frozen: int = 0
    months_frozen: list[datetime.date] = field(default_factory=list)
    points_paid_for: datetime.date | None = None
    # the steps that failed (logged, and tried again by the next pass): one failing step, or one
    # month that cannot be frozen, does not hold up the others
    failed: list[str] = field(default_factory=list)

    @property
    def anything(self) -> bool:
        return bool(self.escalated or self.scores_frozen or self.points_paid_for)


def catch_up(session: Session, *, required_hours=assessment.DEFAULT_REQUIRED_HOURS,
             today: datetime.date | None = None) -> Caught:
    """Escalate what is overdue; freeze the last ended month (and any ended month of this year
    and the last not frozen yet, from the first month on record); pay the last month's workers'
    points. Cheap when there is nothing to do: five reads of small indexes, whatever the number
    of months."""
    caught = Caught()
    caught.escalated = _step(session, caught, "escalation", lambda: escalate_overdue(session)) or []
    this_month = assessment.current_month()
    start = _step(session, caught, "first month", lambda: assessment.first_month(session))
    if start is not None:
        first = max(start, datetime.date(this_month.year - 1, 1, 1))
        last = assessment.month_of(this_month - datetime.timedelta(days=1))
        for month in _step(session, caught, "months to freeze",
                           lambda: assessment.months_not_frozen(session, first, last)) or ():
            written = _step(session, caught, f"freeze {month:%Y-%m}",
                            lambda month=month: assessment.freeze(session, month, required_hours))
            if written:
                caught.scores_frozen += written
                caught.months_frozen.append(month)
    award = _step(session, caught, "workers' points",
                  lambda: worker_points.award_last_month_once(session, today))
    if award is not None:
        caught.points_paid_for = worker_points.last_month(today)
    return caught


def _step(session: Session, caught: Caught, name: str, work: Callable):
    """``work()``, or None when it failed: the failure logged (the engine hides the statements'
    values), its transaction rolled back, and the pass going on with the next step. A database
    that cannot be reached ends the pass (the clock logs it once and tries again later)."""
    try:
        return work()
    except NOT_REFUSALS:
        raise
    except Exception:  # noqa: BLE001 (logged; the next pass tries again)
        session.rollback()
        log.exception("housekeeping: %s failed; the next pass tries again", name)
        caught.failed.append(name)
        return None
