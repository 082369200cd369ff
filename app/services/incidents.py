"""The incident loop as a state machine: reported → accepted → dispatched → in progress →
resolved → rated/closed, with returned, rejected and reopened, handled level by level
(grid → community → street → district centre → department).

Every action checks that it is allowed from the current status and for the actor's role at the
incident's current level, changes the incident and appends one timeline row, in one transaction.
"""
from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass
from typing import NamedTuple

from flask_babel import lazy_gettext as _l
from sqlalchemy import Text, and_, bindparam, false, func, literal_column, or_, select, true
from sqlalchemy.dialects.postgresql import ARRAY, aggregate_order_by
from sqlalchemy.orm import Session, with_expression

from ..models import DeadlineRule, Department, Grid, Incident, IncidentCategory, IncidentEvent, Worker
from ..models.choices import (
    INCIDENT_SOURCES,
    OPEN_STATUSES,
    PENDING_STATUSES,
    URGENCIES,
)
from ..models.users import person_name
from . import patrols
from .departments import FUNCTIONAL
from .errors import Conflict, DomainError, ValidationError
from .people import community_of
from .personal_data import is_valid_mobile, normalise_mobile
from .scope import Scope, can_write_under, get_visible, is_under, visible
from .search import contains_pattern
from .typed import as_key, clean
from .unit_of_work import unit_of_work
from .users import ADMIN, DEPARTMENT_OFFICER, DISPATCHER, GRID_WORKER, LEADER, SECRETARY, STREET_OFFICER

log = logging.getLogger(__name__)

# Which levels each role acts at (inside its scope).
ROLE_LEVELS = {
    GRID_WORKER: {"grid"},
    SECRETARY: {"grid", "community"},
    STREET_OFFICER: {"street"},
    DISPATCHER: {"district"},
    DEPARTMENT_OFFICER: {"department"},
}
GRID_LEVEL_TO_HANDLING = {"building": "grid", "block": "grid", "community": "community", "street": "street",
                          "district": "district"}
UP = {"grid": "community", "community": "street", "street": "district"}
DOWN = {"community": "grid", "street": "community", "district": "street"}
DEFAULT_HOURS = 72
NOTE_MOST = 500  # a timeline note, as incident_events.note holds it


# --- who acts --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Actor:
    """Who acts: the login, its name and roles, and its scope. ``user_id`` None is the system.
    ``sees_sensitive``: whether they are shown the residents' sensitive tags (their permission)."""

    user_id: int | None
    name: str
    roles: frozenset[str]
    scope: Scope
    sees_sensitive: bool = False

    @property
    def role_label(self) -> str:
        from .users import ROLE_LABELS

        if not self.roles:
            return "system"
        return "、".join(str(ROLE_LABELS.get(r, r)) for r in sorted(self.roles))

    @property
    def is_admin(self) -> bool:
        return ADMIN in self.roles


SYSTEM = Actor(None, "gridgov", frozenset(), Scope("all"))


def actor_from_user(session: Session, user, scope: Scope | None = None) -> Actor:
    """The Actor of a login (a GridgovUser); its scope is read unless given."""
    from .scope import scope_for_user

    name = person_name(user.first_name, user.last_name) if user is not None else "gridgov"
    return Actor(user.id, name, frozenset(role.name for role in user.roles),
                 scope if scope is not None else scope_for_user(session, user))


# --- levels and holders ----------------------------------------------------------------------
def _level_grid(session: Session, grid: Grid, level: str) -> Grid | None:
    """The grid that holds ``level`` for an incident in ``grid``: the ancestor of that level
    (the incident's own grid at level 'grid')."""
    if level == "grid":
        return grid
    return session.scalar(select(Grid).where(Grid.level == level, Grid.path.ancestor_of(grid.path)))


def _next_level_up(session: Session, incident: Incident) -> tuple[str, Grid] | None:
    level = incident.level
    while level in UP:
        level = UP[level]
        holder = _level_grid(session, incident.grid, level)
        if holder is not None:  # a level may be missing (a village straight under a town)
            return level, holder
    return None


def _level_below(session: Session, incident: Incident) -> tuple[str, Grid] | None:
    level = incident.level
    if level == "department":
        # back to whoever dispatched it
        holder = incident.holder_grid or incident.grid
        return GRID_LEVEL_TO_HANDLING.get(holder.level, "grid"), holder
    while level in DOWN:
        level = DOWN[level]
        holder = _level_grid(session, incident.grid, level)
        if holder is not None:
            return level, holder
    return None


# Who may be given an incident to handle on the spot.
ASSIGNABLE_ROLES = ("grid_worker", "grid_leader")


def assignable_workers(session: Session, incident: Incident) -> list[Worker]:
    """The workers the incident may be assigned to (the incident page lists them)."""
    return list(session.scalars(_assignable(incident)))


def _assignable(incident: Incident):
    """Grid workers and leaders of a grid under the one holding the incident, by grid and name
    (``assign`` accepts only them)."""
    holder = incident.holder_grid
    if holder is None:
        return select(Worker).where(false())
    return (select(Worker).join(Grid, Worker.grid_id == Grid.id)
            .where(Grid.path.descendant_of(holder.path), Worker.role.in_(ASSIGNABLE_ROLES))
            .order_by(Grid.code, Worker.name))


def acts_at_level(actor: Actor, incident: Incident) -> bool:
    """Whether the actor holds the incident now: a role of that level, over the holder's grid."""
    if actor.is_admin:
        return True
    levels = set().union(*(ROLE_LEVELS.get(role, set()) for role in actor.roles)) if actor.roles else set()
    if incident.level not in levels:
        return False
    if incident.level == "department":
        return actor.scope.kind == "department" and actor.scope.department_id == incident.department_id
    return can_write_under(actor.scope, incident.holder_grid)


# --- reporting -------------------------------------------------------------------------------
@dataclass
class Report:
    """What a reporter fills in; validated by ``report``."""

    grid_id: int | None
    category_id: int | None
    title: str
    source: str = "patrol"
    urgency: str = "normal"
    description: str | None = None
    address: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    reporter_name: str | None = None
    reporter_phone: str | None = None
    photo: str | None = None


def report(session: Session, actor: Actor, data: Report) -> Incident:
    """A new incident, held by the level of its grid, with its first timeline row."""
    with unit_of_work(session):
        title = (data.title or "").strip()
        if not title:
            raise ValidationError(_l("Give the incident a short title."), field="title")
        if len(title) > 100:
            raise ValidationError(_l("The title has at most 100 characters."), field="title")
        if data.description and len(data.description) > 2000:
            raise ValidationError(_l("The description has at most 2000 characters."), field="description")
        if data.address and len(data.address) > 200:
            raise ValidationError(_l("The address has at most 200 characters."), field="address")
        if data.source not in INCIDENT_SOURCES:
            raise ValidationError(_l("Choose where the incident comes from."), field="source")
        if data.urgency not in URGENCIES:
            raise ValidationError(_l("Choose the urgency."), field="urgency")
        category = session.get(IncidentCategory, data.category_id) if data.category_id else None
        if category is None or not category.active:
            raise ValidationError(_l("Choose a category."), field="category")
        grid = session.get(Grid, data.grid_id) if data.grid_id else None
        if grid is None:
            raise ValidationError(_l("Choose the grid where it happened."), field="grid")
        volunteer_id = None
        if actor.scope.kind == "volunteer":
            home = community_of(session, actor.scope.volunteer_id)
            if home is None or not is_under(grid.path, home.path):
                raise ValidationError(_l("You can report incidents in your own community."), field="grid")
            volunteer_id = actor.scope.volunteer_id
        elif not can_write_under(actor.scope, grid):
            raise ValidationError(_l("You can report incidents in your own area."), field="grid")
        reporter_name = (data.reporter_name or "").strip()
        if len(reporter_name) > 50:
            raise ValidationError(_l("The reporter's name has at most 50 characters."), field="reporter_name")
        phone = normalise_mobile(data.reporter_phone) or None
        if phone is not None and not is_valid_mobile(phone):
            raise ValidationError(_l("Enter a valid mainland mobile number: 11 digits starting with 13–19."),
                                  field="reporter_phone")
        for value, low, high, name in ((data.latitude, -90, 90, "latitude"), (data.longitude, -180, 180, "longitude")):
            if value is not None and not (low <= value <= high):
                raise ValidationError(_l("The coordinates are out of range."), field=name)
        level = GRID_LEVEL_TO_HANDLING[grid.level]
        incident = Incident(
            source=data.source, category_id=category.id, urgency=data.urgency, title=title,
            description=(data.description or "").strip() or None, address=(data.address or "").strip() or None,
            grid_id=grid.id, latitude=data.latitude, longitude=data.longitude, photo=data.photo,
            reporter_name=reporter_name or None, reporter_phone=phone,
            reporter_volunteer_id=volunteer_id, created_by_id=actor.user_id, status="reported", level=level,
            holder_grid_id=grid.id, patrol_id=patrols.open_patrol_id(session, actor.user_id),
        )
        incident.grid = grid
        incident.holder_grid = grid
        session.add(incident)
        _reset_deadline(session, incident)
        session.flush()
        _record(session, incident, actor, "report", (None, None))
        return incident


def report_grids(session: Session, scope: Scope, most: int) -> list[Grid]:
    """The grids the report form offers, in code order: a volunteer's own community and the grids
    under it; anyone else's grids in scope, up to ``most`` + 1 (past ``most`` the grid is typed)."""
    if scope.kind == "volunteer":
        community = community_of(session, scope.volunteer_id)
        return list(session.scalars(select(Grid).where(Grid.path.descendant_of(community.path)).order_by(Grid.code)))
    return list(session.scalars(select(Grid).where(visible(scope, Grid)).order_by(Grid.code).limit(most + 1)))


def report_categories(session: Session) -> list[IncidentCategory]:
    """The categories an incident is reported under: the active ones."""
    return list(session.scalars(select(IncidentCategory).where(IncidentCategory.active.is_(True))
                                .order_by(IncidentCategory.id)))


# --- the loop --------------------------------------------------------------------------------
ACTIONS = ("accept", "reject", "handle", "assign", "dispatch", "start", "escalate", "return", "resolve", "rate")
FROM = {
    "accept": {"reported", "returned", "reopened"},
    "reject": {"reported", "accepted", "returned"},
    "handle": {"accepted"},
    "assign": {"accepted", "reopened"},
    "dispatch": {"reported", "accepted", "reopened"},
    "start": {"dispatched"},
    "escalate": {"reported", "accepted", "in_progress", "returned", "reopened"},
    "return": {"reported", "accepted", "dispatched"},
    "resolve": {"in_progress"},
    "rate": {"resolved"},
}


def allowed_actions(session: Session, actor: Actor, incident: Incident) -> list[str]:
    """The actions this actor may take now (for the buttons on the incident page)."""
    names = []
    for name in ACTIONS:
        if incident.status not in FROM[name]:
            continue
        if name == "rate":
            if can_rate(session, actor, incident):
                names.append(name)
            continue
        if not acts_at_level(actor, incident):
            continue
        if name == "escalate" and _next_level_up(session, incident) is None:
            continue
        if name == "return" and (incident.level == "grid" or _level_below(session, incident) is None):
            continue
        if name in ("assign", "dispatch") and incident.level == "department":
            continue
        names.append(name)
    return names


# --- the timeline ----------------------------------------------------------------------------
class TimelineEvent(NamedTuple):
    """What an incident's page prints of one event of its timeline."""

    id: int
    incident_id: int
    action: str
    actor_name: str
    actor_role: str
    from_status: str | None
    to_status: str
    to_level: str
    handler: str | None
    note: str | None
    created_at: datetime.datetime


def _timeline_json(incident_id):
    """The events of ``incident_id`` as one JSON array of arrays (the fields of ``TimelineEvent``),
    oldest first."""
    events = IncidentEvent.__table__
    fields = func.json_build_array(*(events.c[name] for name in TimelineEvent._fields))
    return (select(func.coalesce(func.json_agg(aggregate_order_by(fields, events.c.id)), literal_column("'[]'::json")))
            .where(events.c.incident_id == incident_id).scalar_subquery())


# Made once: building a statement costs about as much CPU as running a small one.
_TIMELINE = select(_timeline_json(bindparam("incident_id")))


def with_timeline():
    """A loader option reading an incident's timeline in the incident's own query: a record's page
    runs no query of its own for it."""
    return with_expression(Incident.timeline_data, _timeline_json(Incident.id))


def timeline(session: Session, incident: Incident) -> list[TimelineEvent]:
    """The incident's events, oldest first, as plain rows: as the incident's query read them when
    it had ``with_timeline`` (a page that changes the incident reads it again), else now."""
    data = incident.timeline_data
    if data is None:
        data = session.execute(_TIMELINE, {"incident_id": incident.id}).scalar_one()
    return [TimelineEvent(*event[:-1], datetime.datetime.fromisoformat(event[-1])) for event in data]


def _record(session: Session, incident: Incident, actor: Actor, action: str, before: tuple[str, str],
            note: str | None = None) -> IncidentEvent:
    handler = None
    if incident.level == "department" and incident.department is not None:
        handler = incident.department.name
    elif incident.handler_worker is not None:
        handler = incident.handler_worker.name
    elif incident.holder_grid is not None:
        handler = incident.holder_grid.name
    event = IncidentEvent(
        incident_id=incident.id, action=action, actor_id=actor.user_id, actor_name=actor.name[:130],
        actor_role=actor.role_label[:64], from_status=before[0], to_status=incident.status,
        from_level=before[1], to_level=incident.level, handler=(handler or "")[:130] or None,
        note=(note or "").strip() or None,
    )
    session.add(event)
    return event


# --- acting on an incident -------------------------------------------------------------------
def can_rate(session: Session, actor: Actor, incident: Incident) -> bool:
    """The reporting volunteer rates; grid staff (or an administrator) record the resident's rating
    on their behalf (a hotline caller, an elderly resident), but never whoever resolved it: nobody
    rates their own work."""
    if actor.scope.kind == "volunteer":
        return incident.reporter_volunteer_id == actor.scope.volunteer_id
    if not actor.is_admin and not ({GRID_WORKER, SECRETARY} & actor.roles
                                   and can_write_under(actor.scope, incident.grid)):
        return False
    return actor.user_id is None or actor.user_id != resolver_id(session, incident)


def resolver_of(incident_id):
    """The login that last resolved an incident (its latest ``resolve`` timeline row), as a
    scalar subquery of ``incident_id`` (a value, or ``Incident.id`` in a query of incidents)."""
    return (select(IncidentEvent.actor_id).where(IncidentEvent.incident_id == incident_id,
                                                 IncidentEvent.action == "resolve")
            .order_by(IncidentEvent.id.desc()).limit(1).scalar_subquery())


def resolver_id(session: Session, incident: Incident) -> int | None:
    return session.scalar(select(resolver_of(incident.id)))


def act(session: Session, actor: Actor, incident_id, action: str, *, note: str | None = None,
        worker_id=None, department_id=None, rating=None) -> Incident:
    """Take ``action`` on the incident, or refuse with a clear message and change nothing: the
    action, its timeline row and the reporter's points are one unit of work."""
    with unit_of_work(session):
        incident = get_visible(session, actor.scope, Incident, incident_id)
        if action not in ACTIONS:
            raise ValidationError(_l("Unknown action."))
        if len((note or "").strip()) > NOTE_MOST:
            raise ValidationError(_l("A note has at most 500 characters."), field="note")
        # Lock the row: two people acting on one incident at once act one after the other.
        session.execute(select(Incident.id).where(Incident.id == incident.id).with_for_update())
        session.refresh(incident)
        if incident.status not in FROM[action]:
            raise Conflict(_l("This action is not possible while the incident is %(status)s.",
                              status=_status_label(incident.status)))
        if action == "rate":
            if not can_rate(session, actor, incident):
                raise ValidationError(_l("Only the reporter, or grid staff other than whoever resolved it, "
                                         "can rate this incident."))
        elif not acts_at_level(actor, incident):
            raise ValidationError(_l("The incident is held at another level: you cannot act on it now."))
        before = (incident.status, incident.level)
        getattr(_Transitions, "do_" + action)(session, actor, incident, note=note, worker_id=worker_id,
                                              department_id=department_id, rating=rating)
        incident.urged_at = None  # the holder acted: an urging is answered
        _record(session, incident, actor, action, before, note)
        if incident.status == "closed":
            _award_reporter(session, incident, actor)
        return incident


def _status_label(status: str):
    from ..models.choices import INCIDENT_STATUS_LABELS

    return INCIDENT_STATUS_LABELS.get(status, status)


def _require_note(note: str | None, message) -> str:
    note = (note or "").strip()
    if not note:
        raise ValidationError(message, field="note")
    if len(note) > NOTE_MOST:
        raise ValidationError(_l("A note has at most 500 characters."), field="note")
    return note


class _Transitions:
    """One method per action: check its own arguments, change the incident (not committed)."""

    @staticmethod
    def do_accept(session, actor, incident, **_):
        incident.status = "accepted"

    @staticmethod
    def do_reject(session, actor, incident, note=None, **_):
        _require_note(note, _l("Say why this is not a governance matter."))
        incident.status = "rejected"

    @staticmethod
    def do_handle(session, actor, incident, **_):
        incident.status = "in_progress"
        incident.handler_worker_id = None

    @staticmethod
    def do_assign(session, actor, incident, worker_id=None, **_):
        key = as_key(worker_id)
        worker = session.scalar(_assignable(incident).where(Worker.id == key)) if key else None
        if worker is None:
            raise ValidationError(_l("Choose a worker of a grid under the one holding the incident."), field="worker")
        incident.status = "dispatched"
        incident.level = "grid"
        incident.holder_grid_id = worker.grid_id
        incident.holder_grid = worker.grid
        incident.handler_worker_id = worker.id
        incident.handler_worker = worker
        _reset_deadline(session, incident)

    @staticmethod
    def do_dispatch(session, actor, incident, department_id=None, **_):
        key = as_key(department_id)
        department = session.scalar(select(Department).where(Department.id == key, FUNCTIONAL)) if key else None
        if department is None:
            raise ValidationError(_l("Choose one of the functional departments."), field="department")
        incident.status = "dispatched"
        incident.level = "department"
        incident.department_id = department.id
        incident.department = department
        incident.handler_worker_id = None
        _reset_deadline(session, incident)

    @staticmethod
    def do_start(session, actor, incident, **_):
        incident.status = "in_progress"

    @staticmethod
    def do_escalate(session, actor, incident, note=None, **_):
        _require_note(note, _l("Say why it goes one level up."))
        _escalate(session, incident)

    @staticmethod
    def do_return(session, actor, incident, note=None, **_):
        _require_note(note, _l("Say why it goes back to the level below."))
        below = _level_below(session, incident)
        if below is None:
            raise ValidationError(_l("There is no level below to return it to."))
        incident.level, holder = below
        incident.holder_grid_id = holder.id
        incident.holder_grid = holder
        incident.department_id = None
        incident.department = None
        incident.handler_worker_id = None
        incident.status = "returned"
        _reset_deadline(session, incident)

    @staticmethod
    def do_resolve(session, actor, incident, note=None, **_):
        _require_note(note, _l("Say what was done."))
        incident.status = "resolved"
        incident.resolved_at = _now(session)

    @staticmethod
    def do_rate(session, actor, incident, rating=None, note=None, **_):
        try:
            rating = int(rating)
        except (TypeError, ValueError):
            rating = 0
        if not 1 <= rating <= 5:
            raise ValidationError(_l("A rating is a whole number from 1 to 5."), field="rating")
        rating_note = (note or "").strip()
        if len(rating_note) > 200:
            raise ValidationError(_l("A rating note has at most 200 characters."), field="note")
        now = _now(session)  # read before the changes: a closed incident accepts no later change
        incident.rating = rating
        incident.rating_note = rating_note or None
        incident.rated_on_behalf = actor.scope.kind != "volunteer"
        if rating >= 3:
            incident.closed_at = now
            incident.status = "closed"
        else:  # 不满意重办: back to whoever resolved it, with a new deadline
            incident.status = "reopened"
            incident.resolved_at = None
            _reset_deadline(session, incident)


def _escalate(session: Session, incident: Incident) -> None:
    up = _next_level_up(session, incident)
    if up is None:
        raise ValidationError(_l("The district centre is the top level: dispatch it to a department instead."))
    incident.level, holder = up
    incident.holder_grid_id = holder.id
    incident.holder_grid = holder
    incident.handler_worker_id = None
    incident.status = "reported"
    incident.urged_at = None  # a new holder: the urging was for the one below
    _reset_deadline(session, incident)


# --- search ----------------------------------------------------------------------------------
def keyword_condition(keywords: str):
    """Incidents whose title or description contains every word of ``keywords`` (a substring,
    case-insensitive, Chinese words of any length). The GIN index on the characters and pairs of
    characters finds the candidates; ILIKE confirms each word."""
    words = [word for word in clean(keywords).split() if word]
    if not words:
        return true()
    checks = []
    for word in words:
        pattern = contains_pattern(word)
        checks.append(or_(Incident.title.ilike(pattern), Incident.description.ilike(pattern)))
    grams = func.gridgov_query_grams(" ".join(words), type_=ARRAY(Text))
    return and_(Incident.search_grams.contains(grams), *checks)


# --- deadlines -------------------------------------------------------------------------------
def deadline_hours(session: Session, category_id: int, urgency: str) -> int:
    hours = session.scalar(select(DeadlineRule.hours).where(DeadlineRule.category_id == category_id,
                                                            DeadlineRule.urgency == urgency))
    return hours or DEFAULT_HOURS


def _now(session: Session) -> datetime.datetime:
    return session.scalar(select(func.now()))


def _reset_deadline(session: Session, incident: Incident) -> None:
    hours = deadline_hours(session, incident.category_id, incident.urgency)
    incident.deadline_from = _now(session)
    incident.deadline = incident.deadline_from + datetime.timedelta(hours=hours)


def overdue_condition(now):
    return and_(Incident.status.in_(OPEN_STATUSES), Incident.deadline < now)


NEAR_SHARE = 0.8  # past 80 % of the time its deadline gave, an incident is near its deadline


def near_deadline_condition(now):
    """Open, not yet overdue, but past ``NEAR_SHARE`` of the time from ``deadline_from`` (its
    creation for rows made before that was kept) to ``deadline``."""
    start = func.coalesce(Incident.deadline_from, Incident.created_at)
    return and_(Incident.status.in_(OPEN_STATUSES), Incident.deadline >= now,
                now >= Incident.deadline - (Incident.deadline - start) * (1 - NEAR_SHARE))


def deadline_state(incident: Incident, now: datetime.datetime) -> str | None:
    """'overdue', 'near' or None for an incident in hand (the same rule as the conditions above)."""
    if incident.status not in OPEN_STATUSES or incident.deadline is None:
        return None
    if incident.deadline < now:
        return "overdue"
    start = incident.deadline_from or incident.created_at
    if start is not None and now >= incident.deadline - (incident.deadline - start) * (1 - NEAR_SHARE):
        return "near"
    return None


# --- oversight: 催办 (urging) and 督办 (supervision) -------------------------------------------
OVERSIGHT = ("urge", "supervise")
OVERSIGHT_ROLES = {SECRETARY, STREET_OFFICER, DISPATCHER, LEADER}
# how high a handling level stands, and how high a user whose scope is a grid of each level
HANDLING_RANK = {"grid": 0, "community": 1, "department": 1.5, "street": 2, "district": 3}
SCOPE_RANK = {"building": 0, "block": 0, "community": 1, "street": 2, "district": 3}


def oversees(session: Session, actor: Actor, incident: Incident) -> bool:
    """Whether the actor stands above the level holding the incident, over its area: a secretary
    over her grids' incidents, a street over its communities', the district centre (and leaders of
    a level) over everything below them, street and district over the departments summoned."""
    if actor.is_admin:
        return True
    if not OVERSIGHT_ROLES & actor.roles or actor.scope.kind != "grid":
        return False
    level = session.scalar(select(Grid.level).where(Grid.id == actor.scope.grid_id))
    if SCOPE_RANK.get(level, -1) <= HANDLING_RANK.get(incident.level, 9):
        return False
    area = incident.grid if incident.level == "department" else (incident.holder_grid or incident.grid)
    return can_write_under(actor.scope, area)


def oversight_actions(session: Session, actor: Actor, incident: Incident) -> list[str]:
    """What a superior may do now: urge an overdue incident, flag a pending one supervised."""
    if incident.status not in PENDING_STATUSES or not oversees(session, actor, incident):
        return []
    names = []
    if incident.status in OPEN_STATUSES and incident.deadline is not None and incident.deadline < _now(session) \
            and incident.urged_at is None:  # once until the holder acts
        names.append("urge")
    if incident.supervised_at is None:
        names.append("supervise")
    return names


def oversee(session: Session, actor: Actor, incident_id, action: str, note: str | None) -> Incident:
    """催办 (``urge``): an overdue incident, with a note, becomes an item of its holder's to-dos
    until the holder acts. 督办 (``supervise``): a pending incident shows as supervised on the
    dashboard until closed. Each writes a timeline row; neither changes who holds it."""
    with unit_of_work(session):
        incident = get_visible(session, actor.scope, Incident, incident_id)
        if action not in OVERSIGHT:
            raise ValidationError(_l("Unknown action."))
        note = _require_note(note, _l("Say what you ask of the holder."))
        session.execute(select(Incident.id).where(Incident.id == incident.id).with_for_update())
        session.refresh(incident)
        if not oversees(session, actor, incident):
            raise ValidationError(_l("Only a level above the one holding the incident can urge or supervise it."))
        now = _now(session)
        if action == "urge":
            if incident.status not in OPEN_STATUSES or incident.deadline is None or incident.deadline >= now:
                raise Conflict(_l("Only an open incident past its deadline can be urged."))
            if incident.urged_at is not None:
                raise Conflict(_l("It has been urged already: the holder has not acted since."))
            incident.urged_at = now
        else:
            if incident.status not in PENDING_STATUSES:
                raise Conflict(_l("This action is not possible while the incident is %(status)s.",
                                  status=_status_label(incident.status)))
            if incident.supervised_at is not None:
                raise Conflict(_l("This incident is already supervised."))
            incident.supervised_at = now
        _record(session, incident, actor, action, (incident.status, incident.level), note)
        return incident


def escalate_overdue(session: Session, now: datetime.datetime | None = None) -> list[int]:
    """Escalate every open incident past its deadline one level up (idempotent: an escalated
    incident has a new deadline). Returns the ids escalated. One the database refuses to move is
    logged and left for the next run: the others are escalated still."""
    now = now or _now(session)
    ids = session.scalars(
        select(Incident.id).where(overdue_condition(now), Incident.level.in_(tuple(UP))).order_by(Incident.id)
    ).all()
    escalated = []
    for incident_id in ids:
        try:
            if _escalate_if_overdue(session, incident_id, now):
                escalated.append(incident_id)
        except DomainError as refusal:
            log.warning("incident %s could not be escalated: %s", incident_id, refusal)
    return escalated


def _escalate_if_overdue(session: Session, incident_id: int, now: datetime.datetime) -> bool:
    """Escalate one incident still past its deadline, in a unit of work of its own; False when it
    no longer is, has no level above, or someone holds its row now."""
    with unit_of_work(session):
        incident = session.scalar(select(Incident).where(Incident.id == incident_id).with_for_update(skip_locked=True))
        if incident is None or incident.status not in OPEN_STATUSES or incident.deadline >= now:
            return False
        if _next_level_up(session, incident) is None:
            return False
        before = (incident.status, incident.level)
        _escalate(session, incident)
        _record(session, incident, SYSTEM, "overdue", before, str(_l("Past its deadline: escalated one level up.")))
        return True


# --- points for volunteer reporters ----------------------------------------------------------
def _award_reporter(session: Session, incident: Incident, actor: Actor) -> None:
    """A volunteer's report closed with a satisfied rating earns points by the category's rule,
    exactly once, in the rating's own transaction (``points.earn``)."""
    if incident.reporter_volunteer_id is None or incident.category.points_rule is None:
        return
    from ..models import PointsAccount
    from .points import earn

    rule = incident.category.points_rule
    account_id = session.scalar(select(PointsAccount.id).where(PointsAccount.volunteer_id == incident.reporter_volunteer_id))
    earn(session, account_id, rule.points, f"{rule.name} #{incident.id} {incident.title}",
         incident_ref=f"incident:{incident.id}", actor_id=actor.user_id)


