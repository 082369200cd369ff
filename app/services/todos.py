"""待办: what each person must act on, most urgent first — the sections of their home page (工作台)
and the number on the menu bar's badge.

Who sees what comes from their roles and scope:
- a grid worker: the incidents held at grid level by the grids under them, their emergency tasks,
  the residents of their area due a visit (一户一档), the micro-wishes done and waiting for the
  resident's satisfaction;
- a community secretary: the incidents her community holds (at grid or community level), those
  resolved and waiting for the resident's rating, redemptions to hand over, service records not
  yet awarded, her emergency tasks, the residents of her community due a visit, the micro-wishes
  (微心愿) no one claimed by their claim deadline and those done, waiting for the resident's
  satisfaction;
- a street officer or the district dispatcher (and an administrator): the incidents escalated to
  their level, the overdue ones anywhere under them, open whistles (late ones first), emergency
  tasks;
- a department officer: whistles to report in to, results due, incidents dispatched to it.
An incident past 80 % of its deadline is "near", past it "overdue" (``incidents.deadline_state``);
an urged one (催办) is marked until its holder acts.

Every count reads the pending incidents only (a partial GIN index of who sees them, migration
0021: a few thousand rows of a million at city size), the open whistles, pending redemptions or
the community's records: the home page costs what a list page costs, the badge one statement.
"""
from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from functools import reduce

from sqlalchemy import and_, exists, false, func, or_, select, true
from sqlalchemy.orm import Session, aliased, selectinload
from sqlalchemy_utils import Ltree

from ..models import (EmergencyResponse, Grid, Incident, LedgerEntry, MicroWish, PointsAccount, Redemption,
                      Resident, ResponseTask, ServiceRecord, Whistle, WhistleSummons)
from ..models.choices import OPEN_STATUSES
from .local_time import TIMEZONE_NAME
from .residents import due_column
from .incidents import ROLE_LEVELS, Actor, deadline_state, near_deadline_condition, overdue_condition, resolver_of
from .scope import visible
from .wishes import unclaimed_condition
from .users import DEPARTMENT_OFFICER, DISPATCHER, GRID_WORKER, SECRETARY, STREET_OFFICER

SHOWN = 8  # items a section lists; its count says how many there are in all


@dataclass
class Item:
    """One thing to do: what it is (``kind`` and ``id`` make its link), its state, when it is due."""

    kind: str  # incident, task, whistle, summons, redemption, record, resident (due a visit), wish
    id: int
    title: str
    state: str  # a key of the view's state labels
    where: str | None = None
    due: datetime.datetime | None = None
    deadline: str | None = None  # 'near' or 'overdue'
    urged: bool = False
    supervised: bool = False
    points: int | None = None  # a redemption's points

    @property
    def urgent(self) -> bool:
        return self.deadline == "overdue" or self.urged


@dataclass
class Section:
    key: str  # held, to_rate, overdue_below, tasks, visits, whistles, summonses, department, redemptions, records,
    # wishes, wishes_done
    count: int
    items: list[Item] = field(default_factory=list)
    late: int = 0  # of ``count``: overdue (incidents), past the deadline (whistles, summonses)
    # incidents held: how many wait to be accepted, are in hand, near their deadline, urged
    states: dict[str, int] = field(default_factory=dict)


@dataclass
class Workbench:
    sections: list[Section]

    @property
    def waiting(self) -> int:
        return sum(section.count for section in self.sections)

    def section(self, key: str) -> Section | None:
        return next((section for section in self.sections if section.key == key), None)


# --- who holds what ---------------------------------------------------------------------------
def _levels(actor: Actor) -> set[str]:
    return set().union(*(ROLE_LEVELS.get(role, set()) for role in actor.roles)) if actor.roles else set()


def _pending(actor: Actor, statuses=OPEN_STATUSES):
    """The pending incidents the actor sees (through the partial GIN index of 0021: the status
    condition is the index's own)."""
    return and_(Incident.status.in_(statuses), visible(actor.scope, Incident))


def _held(actor: Actor):
    """The open incidents the actor holds now: at one of the levels of their roles, held by a grid
    under their scope (``incidents.acts_at_level``, as SQL); an administrator holds none."""
    levels = _levels(actor) - {"department"}
    if actor.scope.kind != "grid" or not levels:
        return None
    holder = aliased(Grid)
    return and_(_pending(actor), Incident.level.in_(sorted(levels)),
                Incident.holder_grid_id.in_(select(holder.id).where(holder.path.descendant_of(Ltree(actor.scope.grid_path)))))


def _department_held(actor: Actor):
    if DEPARTMENT_OFFICER not in actor.roles or actor.scope.kind != "department":
        return None
    return and_(Incident.level == "department", Incident.department_id == actor.scope.department_id,
                Incident.status.in_(OPEN_STATUSES))


def _oversees_below(actor: Actor) -> bool:
    return actor.is_admin or bool({STREET_OFFICER, DISPATCHER} & actor.roles) and actor.scope.kind == "grid"


def _to_rate(actor: Actor):
    """Resolved incidents under a secretary or grid worker, waiting for the resident's rating that
    they may record (``incidents.can_rate``: not the ones they resolved themselves)."""
    if not ({SECRETARY, GRID_WORKER} & actor.roles) or actor.scope.kind != "grid":
        return None
    return and_(_pending(actor, ("resolved",)), Incident.status == "resolved",
                resolver_of(Incident.id).is_distinct_from(actor.user_id))


# --- counting ---------------------------------------------------------------------------------
def _incident_conditions(actor: Actor, now) -> dict[str, object]:
    conditions = {"held": _held(actor), "department": _department_held(actor), "to_rate": _to_rate(actor)}
    if _oversees_below(actor):
        below = and_(_pending(actor), overdue_condition(now))
        held = conditions["held"]
        conditions["overdue_below"] = and_(below, ~held) if held is not None else below
    return {key: value for key, value in conditions.items() if value is not None}


def _whistles(actor: Actor):
    return and_(Whistle.status == "open", visible(actor.scope, Whistle)) if _oversees_below(actor) else None


def _summonses(actor: Actor):
    """A department's summonses on open whistles it has not yet answered with a result."""
    if DEPARTMENT_OFFICER not in actor.roles or actor.scope.kind != "department":
        return None
    return and_(WhistleSummons.department_id == actor.scope.department_id, WhistleSummons.result.is_(None),
                WhistleSummons.whistle_id.in_(select(Whistle.id).where(Whistle.status == "open").correlate(None)))


def _tasks(actor: Actor):
    """Unanswered tasks of active responses for the user's own grid and those right under it
    (``emergencies.own_tasks``' rule), for the roles that check in (the district centre follows
    the progress instead)."""
    if not ({GRID_WORKER, SECRETARY, STREET_OFFICER} & actor.roles) or actor.scope.kind != "grid":
        return None
    own = select(Grid.id).where(or_(Grid.id == actor.scope.grid_id, Grid.parent_id == actor.scope.grid_id))
    return and_(ResponseTask.checked_in_at.is_(None), ResponseTask.grid_id.in_(own),
                ResponseTask.response_id.in_(select(EmergencyResponse.id).where(EmergencyResponse.status == "active")))


def _redemptions(actor: Actor):
    if SECRETARY not in actor.roles or actor.scope.kind != "grid":
        return None
    return and_(Redemption.status == "pending", visible(actor.scope, Redemption))


def _records(actor: Actor):
    """Service records of the secretary's community that have not earned their points."""
    if SECRETARY not in actor.roles or actor.scope.kind != "grid":
        return None
    earned = exists().where(LedgerEntry.service_record_id == ServiceRecord.id, LedgerEntry.kind == "earn")
    return and_(visible(actor.scope, ServiceRecord), ~earned, ServiceRecord.rule_id.is_not(None))


def _visits(actor: Actor, now):
    """Residents of the grid worker's or secretary's area due a visit (一户一档): their tags ask
    for one and the last was longer ago than the interval (the due date the database keeps)."""
    if not ({SECRETARY, GRID_WORKER} & actor.roles) or actor.scope.kind != "grid":
        return None
    due = due_column(actor.sees_sensitive)  # a visit due for a hidden tag is not theirs to see
    return and_(due <= _local_day(now), visible(actor.scope, Resident))


def _wishes(actor: Actor, now):
    """Micro-wishes of the secretary's community that no one claimed by their claim deadline."""
    if SECRETARY not in actor.roles or actor.scope.kind != "grid":
        return None
    return and_(unclaimed_condition(now), visible(actor.scope, MicroWish))


def _wishes_done(actor: Actor):
    """Micro-wishes of the worker's or secretary's area done by their volunteer, waiting for the
    resident's satisfaction (which pays the volunteer's points)."""
    if not ({SECRETARY, GRID_WORKER} & actor.roles) or actor.scope.kind != "grid":
        return None
    return and_(MicroWish.state == "done", visible(actor.scope, MicroWish))


def _local_day(now):
    return func.date(func.timezone(TIMEZONE_NAME, now))


def _counts(actor: Actor, now) -> dict[str, object]:
    """Each section's statement of (count, late)."""
    columns = {}
    for key, condition in _incident_conditions(actor, now).items():
        late = func.count().filter(Incident.deadline < now) if key != "to_rate" else func.count().filter(false())
        columns[key] = select(func.count().label("count"), late.label("late")).where(condition)
    for key, model, condition, deadline in (
            ("whistles", Whistle, _whistles(actor), Whistle.deadline),
            ("summonses", WhistleSummons, _summonses(actor), None),
            ("tasks", ResponseTask, _tasks(actor), None),
            ("redemptions", Redemption, _redemptions(actor), None),
            ("records", ServiceRecord, _records(actor), None),
            ("visits", Resident, _visits(actor, now), None),
            ("wishes", MicroWish, _wishes(actor, now), MicroWish.claim_deadline),
            ("wishes_done", MicroWish, _wishes_done(actor), None)):
        if condition is None:
            continue
        if key == "visits":  # overdue: due before today
            late = func.count().filter(due_column(actor.sees_sensitive) < _local_day(now))
        else:
            late = func.count().filter(deadline < now) if deadline is not None else func.count().filter(false())
        columns[key] = select(func.count().label("count"), late.label("late")).select_from(model).where(condition)
    return columns


def waiting(session: Session, actor: Actor) -> int:
    """How many to-dos wait for the actor (the menu bar's badge), in one statement."""
    now = session.scalar(select(func.now()))
    counts = _counts(actor, now)
    if not counts:
        return 0
    return sum(count for count, _ in _figures(session, counts).values())


def _figures(session: Session, queries: dict[str, object]) -> dict[str, tuple[int, int]]:
    """Each section's (count, late), in one round trip: the one-row statements side by side."""
    subqueries = {key: query.subquery() for key, query in queries.items()}
    joined = reduce(lambda left, right: left.join(right, true()), subqueries.values())
    row = session.execute(select(*(column for subquery in subqueries.values() for column in subquery.c))
                          .select_from(joined)).one()
    return {key: (int(count), int(late or 0)) for key, count, late in zip(subqueries, row[::2], row[1::2])}


ORDER = ("held", "department", "summonses", "tasks", "overdue_below", "to_rate", "visits", "wishes", "wishes_done",
         "whistles", "redemptions", "records")


def workbench(session: Session, actor: Actor) -> Workbench:
    """Every section of the actor's to-dos, each with its count and its first ``SHOWN`` items, the
    most urgent first (urged, overdue, nearest deadline)."""
    now = session.scalar(select(func.now()))
    queries = _counts(actor, now)
    if not queries:
        return Workbench([])
    figures = _figures(session, queries)
    incident_conditions = _incident_conditions(actor, now)
    sections = []
    for key in ORDER:
        if key not in queries:
            continue
        count, late = figures[key]
        section = Section(key, count, late=late)
        if section.count and key == "held":
            section.states = _held_states(session, incident_conditions[key], now)
        if section.count:
            if key in incident_conditions:
                section.items = _incident_items(session, incident_conditions[key], key, now, 0, SHOWN)
            else:
                section.items = _ITEMS[key](session, actor, now, 0, SHOWN)
        sections.append(section)
    return Workbench(sections)


TO_ACCEPT = ("reported", "returned", "reopened")
IN_HAND = ("accepted", "dispatched", "in_progress")


def section(session: Session, actor: Actor, key: str, offset: int, limit: int) -> Section | None:
    """One section of the actor's to-dos in full, a page at a time (its "see all"): its count and
    the ``limit`` items from ``offset``, in the work bench's order; None when the actor has no
    such section."""
    now = session.scalar(select(func.now()))
    queries = _counts(actor, now)
    if key not in queries:
        return None
    count, late = _figures(session, {key: queries[key]})[key]
    found = Section(key, count, late=late)
    incident_conditions = _incident_conditions(actor, now)
    if key == "held" and count:
        found.states = _held_states(session, incident_conditions[key], now)
    if key in incident_conditions:
        found.items = _incident_items(session, incident_conditions[key], key, now, offset, limit)
    else:
        found.items = _ITEMS[key](session, actor, now, offset, limit)
    return found


def _held_states(session: Session, condition, now) -> dict[str, int]:
    """The incidents held, by what they wait for: to be accepted, in hand, near the deadline,
    overdue, urged (one statement over the same rows)."""
    row = session.execute(select(
        func.count().filter(Incident.status.in_(TO_ACCEPT)), func.count().filter(Incident.status.in_(IN_HAND)),
        func.count().filter(near_deadline_condition(now)), func.count().filter(Incident.deadline < now),
        func.count().filter(Incident.urged_at.is_not(None))).where(condition)).one()
    return {state: int(count) for state, count in zip(("to_accept", "in_hand", "near", "overdue", "urged"), row)
            if count}


def _incident_items(session: Session, condition, key: str, now, offset: int, limit: int) -> list[Item]:
    urgent_first = (Incident.urged_at.is_(None), Incident.deadline.nulls_last(), Incident.id.desc())
    if key == "to_rate":
        urgent_first = (Incident.resolved_at.desc(), Incident.id.desc())
    incidents = session.scalars(select(Incident).where(condition)
                                .options(selectinload(Incident.holder_grid), selectinload(Incident.department))
                                .order_by(*urgent_first).offset(offset).limit(limit)).all()
    items = []
    for incident in incidents:
        where = incident.department.name if incident.level == "department" and incident.department else (
            incident.holder_grid.name if incident.holder_grid else None)
        items.append(Item("incident", incident.id, incident.title, incident.status, where, incident.deadline,
                          deadline_state(incident, now), incident.urged_at is not None,
                          incident.supervised_at is not None))
    return items


def _whistle_items(session: Session, actor: Actor, now, offset: int, limit: int) -> list[Item]:
    whistles = session.scalars(select(Whistle).where(_whistles(actor)).options(selectinload(Whistle.grid))
                               .order_by(Whistle.deadline, Whistle.id).offset(offset).limit(limit)).all()
    return [Item("whistle", w.id, w.reason, "open", w.grid.name if w.grid else None, w.deadline,
                 "overdue" if w.deadline < now else None) for w in whistles]


def _summons_items(session: Session, actor: Actor, now, offset: int, limit: int) -> list[Item]:
    # columns, not entities: Whistle's ``overdue`` property reads the summonses and would
    # correlate with this query's own
    rows = session.execute(select(WhistleSummons.reported_at, Whistle.id, Whistle.reason, Whistle.deadline, Grid.name)
                           .join(Whistle, Whistle.id == WhistleSummons.whistle_id)
                           .outerjoin(Grid, Grid.id == Whistle.grid_id)
                           .where(_summonses(actor))
                           .order_by(WhistleSummons.reported_at.is_not(None), Whistle.deadline, Whistle.id)
                           .offset(offset).limit(limit)).all()
    return [Item("summons", whistle_id, reason, "to_report_in" if reported_at is None else "result_due", grid,
                 deadline, "overdue" if reported_at is None and deadline < now else None)
            for reported_at, whistle_id, reason, deadline, grid in rows]


def _task_items(session: Session, actor: Actor, now, offset: int, limit: int) -> list[Item]:
    rows = session.execute(select(ResponseTask, EmergencyResponse, Grid)
                           .join(EmergencyResponse, EmergencyResponse.id == ResponseTask.response_id)
                           .join(Grid, Grid.id == ResponseTask.grid_id)
                           .where(_tasks(actor)).order_by(EmergencyResponse.declared_at.desc(), Grid.code, ResponseTask.id)
                           .offset(offset).limit(limit)).all()
    return [Item("task", task.id, response.title, "to_check_in", grid.name)
            for task, response, grid in rows]


def _redemption_items(session: Session, actor: Actor, now, offset: int, limit: int) -> list[Item]:
    redemptions = session.scalars(select(Redemption).where(_redemptions(actor))
                                  .options(selectinload(Redemption.account).selectinload(PointsAccount.volunteer))
                                  .order_by(Redemption.id).offset(offset).limit(limit)).all()
    return [Item("redemption", r.id, r.account.volunteer.name if r.account and r.account.volunteer else f"#{r.id}",
                 "pending", None, r.created_at, points=r.total_points) for r in redemptions]


def _record_items(session: Session, actor: Actor, now, offset: int, limit: int) -> list[Item]:
    records = session.scalars(select(ServiceRecord).where(_records(actor))
                              .options(selectinload(ServiceRecord.volunteer))
                              .order_by(ServiceRecord.date.desc(), ServiceRecord.id.desc()).offset(offset).limit(limit)).all()
    return [Item("record", r.id, r.activity, "to_award", r.volunteer.name if r.volunteer else None)
            for r in records]


def _visit_items(session: Session, actor: Actor, now, offset: int, limit: int) -> list[Item]:
    column = due_column(actor.sees_sensitive)
    due = session.execute(select(Resident.id, Resident.name, Grid.name, column)
                          .join(Grid, Grid.id == Resident.grid_id).where(_visits(actor, now))
                          .order_by(column, Resident.id).offset(offset).limit(limit)).all()
    today = session.scalar(select(_local_day(now)))
    return [Item("resident", key, name, "overdue_visit" if day < today else "visit_due", where,
                 deadline="overdue" if day < today else None) for key, name, where, day in due]


def _wish_items(session: Session, actor: Actor, now, offset: int, limit: int) -> list[Item]:
    rows = session.execute(select(MicroWish.id, MicroWish.title, MicroWish.state, Grid.name, MicroWish.claim_deadline)
                           .join(Grid, Grid.id == MicroWish.grid_id).where(_wishes(actor, now))
                           .order_by(MicroWish.claim_deadline, MicroWish.id).offset(offset).limit(limit)).all()
    return [Item("wish", key, title, "unclaimed", where, deadline, "overdue")
            for key, title, state, where, deadline in rows]


def _done_wish_items(session: Session, actor: Actor, now, offset: int, limit: int) -> list[Item]:
    rows = session.execute(select(MicroWish.id, MicroWish.title, Grid.name, MicroWish.done_at)
                           .join(Grid, Grid.id == MicroWish.grid_id).where(_wishes_done(actor))
                           .order_by(MicroWish.done_at, MicroWish.id).offset(offset).limit(limit)).all()
    return [Item("wish", key, title, "to_rate_wish", where, done_at) for key, title, where, done_at in rows]


_ITEMS = {"wishes": _wish_items, "wishes_done": _done_wish_items, "whistles": _whistle_items, "summonses": _summons_items, "tasks": _task_items,
          "redemptions": _redemption_items, "records": _record_items, "visits": _visit_items}


def active_responses(session: Session, actor: Actor) -> list[EmergencyResponse]:
    """The active emergency responses the user sees, newest first (their progress is
    ``emergencies.totals``)."""
    return list(session.scalars(select(EmergencyResponse).where(EmergencyResponse.status == "active",
                                                                visible(actor.scope, EmergencyResponse))
                                .order_by(EmergencyResponse.declared_at.desc()).limit(5)))

