"""平急结合 / 一键下达: a district dispatcher declares a response level for an area with one
directive; every grid of the area gets its task in the same statement; grids check in; the
progress is counted per street and community."""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, insert, literal, or_, select, true, update
from sqlalchemy.orm import Session, aliased

from ..models import EmergencyResponse, Grid, ResponseTask
from ..models.emergencies import RESPONSE_LEVELS
from .errors import Conflict, ValidationError
from .incidents import Actor
from .scope import EVERYTHING, Scope, can_write_under, get_visible, visible
from .typed import as_key
from .unit_of_work import change_once, unit_of_work
from .users import DISPATCHER, GRID_WORKER, SECRETARY, STREET_OFFICER

CHECK_IN_ROLES = {GRID_WORKER, SECRETARY, STREET_OFFICER, DISPATCHER}


AREA_LEVELS = ("district", "street", "community")


def areas(session: Session, scope: Scope) -> list[Grid]:
    """The areas the declare form offers: the districts, streets and communities the scope sees,
    in code order."""
    return list(session.scalars(select(Grid).where(visible(scope, Grid), Grid.level.in_(AREA_LEVELS))
                                .order_by(Grid.code)))


def declare(session: Session, actor: Actor, area_id, level: str, title: str, directive: str) -> EmergencyResponse:
    """Declare a response: one directive to every grid of the area, at once."""
    with unit_of_work(session):
        if not actor.is_admin and DISPATCHER not in actor.roles:
            raise ValidationError(_l("Only a district dispatcher declares an emergency response."))
        if level not in RESPONSE_LEVELS:
            raise ValidationError(_l("Choose the response level: III, II or I."), field="level")
        title, directive = (title or "").strip(), (directive or "").strip()
        if not title or len(title) > 100:
            raise ValidationError(_l("Give the response a title of at most 100 characters."), field="title")
        if not directive or len(directive) > 1000:
            raise ValidationError(_l("Write the directive (at most 1000 characters)."), field="directive")
        area = session.get(Grid, as_key(area_id)) if as_key(area_id) else None
        if area is None or not can_write_under(actor.scope, area):
            raise ValidationError(_l("Choose an area inside your own."), field="area")
        response = EmergencyResponse(level=level, area_id=area.id, title=title, directive=directive, status="active",
                                     declared_by_id=actor.user_id, declared_by_name=actor.name[:130])
        session.add(response)
        session.flush()
        # 一键下达: every grid of the subtree gets its task in one statement.
        session.execute(
            insert(ResponseTask).from_select(
                ["response_id", "grid_id"],
                select(literal(response.id), Grid.id).where(Grid.path.descendant_of(area.path)),
            )
        )
        return response


def check_in(session: Session, actor: Actor, task_id, note: str | None) -> ResponseTask:
    """A grid reports its task done, with a note (once)."""
    with unit_of_work(session):
        task = get_visible(session, actor.scope, ResponseTask, task_id)
        if not actor.is_admin and not (CHECK_IN_ROLES & actor.roles and can_write_under(actor.scope, task.grid)):
            raise ValidationError(_l("Only the staff of this grid check in for it."))
        # A shared lock on the response: grids check in side by side, but not while it is being ended.
        status = session.scalar(select(EmergencyResponse.status).where(EmergencyResponse.id == task.response_id)
                                .with_for_update(read=True))
        if status != "active":
            raise Conflict(_l("This response has ended."))
        note = (note or "").strip()
        if len(note) > 500:
            raise ValidationError(_l("A note has at most 500 characters."), field="note")
        change_once(session, update(ResponseTask).where(ResponseTask.id == task.id, ResponseTask.checked_in_at.is_(None))
                    .values(checked_in_at=func.statement_timestamp(), checked_in_by_id=actor.user_id, checked_in_by_name=actor.name[:130],
                            note=note or None).returning(ResponseTask.id),
                    _l("This grid has already checked in."))
    session.refresh(task)
    return task


def end(session: Session, actor: Actor, response_id) -> EmergencyResponse:
    with unit_of_work(session):
        response = get_visible(session, actor.scope, EmergencyResponse, response_id)
        if not actor.is_admin and (DISPATCHER not in actor.roles or not can_write_under(actor.scope, response.area)):
            raise ValidationError(_l("Only a district dispatcher ends an emergency response."))
        change_once(session, update(EmergencyResponse)
                    .where(EmergencyResponse.id == response.id, EmergencyResponse.status == "active")
                    .values(status="ended", ended_at=func.statement_timestamp()).returning(EmergencyResponse.id),
                    _l("This response has ended."))
    session.refresh(response)
    return response


@dataclass
class Progress:
    grid_id: int | None
    name: str
    total: int
    done: int

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 100


def progress(session: Session, response_id: int, level: str, scope: Scope = EVERYTHING) -> list[Progress]:
    """Check-ins per street (``level='street'``) or community, in one grouped query: the streets
    (communities) the scope sees, each over the tasks of its grids the scope sees."""
    grid = aliased(Grid)
    group = aliased(Grid)
    done = func.count(ResponseTask.checked_in_at)
    rows = session.execute(
        select(group.id, group.name, func.count(ResponseTask.id), done)
        .select_from(ResponseTask)
        .join(grid, grid.id == ResponseTask.grid_id)
        .join(group, group.path.ancestor_of(grid.path))
        .where(ResponseTask.response_id == response_id, group.level == level, visible(scope, ResponseTask),
               group.id.in_(select(Grid.id).where(visible(scope, Grid))))
        .group_by(group.id, group.name, group.code)
        .order_by(group.code)
    ).all()
    return [Progress(row[0], row[1], int(row[2]), int(row[3])) for row in rows]


def totals(session: Session, response_id: int, scope: Scope = EVERYTHING) -> Progress:
    """How many of the response's grids the scope sees, and how many of them checked in."""
    total, done = session.execute(
        select(func.count(ResponseTask.id), func.count(ResponseTask.checked_in_at))
        .where(ResponseTask.response_id == response_id, visible(scope, ResponseTask))
    ).one()
    return Progress(None, "", int(total), int(done))


def own_tasks(session: Session, scope: Scope, response_id: int | None = None) -> list[ResponseTask]:
    """The tasks a user answers for, of one response or else of every active one: their own grid's
    and those of the grids right under it (a street officer: the street and its communities; a grid
    worker: the block and its buildings), unanswered first, in code order, at most 200."""
    own = or_(Grid.id == scope.grid_id, Grid.parent_id == scope.grid_id) if scope.kind == "grid" else true()
    query = select(ResponseTask).join(Grid, ResponseTask.grid_id == Grid.id).where(visible(scope, ResponseTask), own)
    if response_id is not None:
        query = query.where(ResponseTask.response_id == response_id)
    else:
        query = (query.join(EmergencyResponse, EmergencyResponse.id == ResponseTask.response_id)
                 .where(EmergencyResponse.status == "active"))
    return list(session.scalars(query.order_by(ResponseTask.checked_in_at.is_not(None), Grid.code).limit(200)))


def pending(session: Session, response_id: int, scope: Scope = EVERYTHING, limit: int = 500) -> list[Grid]:
    """The grids the scope sees that have not answered, in code order."""
    return list(session.scalars(
        select(Grid).join(ResponseTask, ResponseTask.grid_id == Grid.id)
        .where(ResponseTask.response_id == response_id, ResponseTask.checked_in_at.is_(None),
               visible(scope, ResponseTask))
        .order_by(Grid.code).limit(limit)
    ))
