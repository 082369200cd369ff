"""Rules of 一户一档: houses, households, residents and visits — what a record must be, where the
user may put it, who sees the sensitive tags, how a person is found, who is due a visit, and a
visit that raises an incident in the same step.

The database keeps what must always hold (migration 0025); these checks say it first, in the
user's language, next to the field."""
from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from ..models import Grid, House, Household, Resident, Visit
from ..models.choices import (ATTENTION_TAGS, ETHNICITIES, HOUSE_OWNERSHIPS, HOUSE_USES, HOUSEHOLD_KINDS, RELATIONS,
                              RESIDENCE_STATUSES, SENSITIVE_TAGS, VISIT_METHODS)
from . import incidents as incident_service
from . import patrols
from .errors import OutOfScope, ValidationError
from .local_time import local_today
from .people import MOBILE_MESSAGE, RESIDENT_ID_MESSAGE
from .personal_data import (is_valid_mobile, is_valid_resident_id, normalise_mobile, normalise_resident_id)
from .pinyin import initials_of
from .scope import Scope, can_write_under, is_visible, visible
from .unit_of_work import unit_of_work

HOUSEHOLD_NUMBER_RE = re.compile(r"^[0-9A-Za-z-]{1,32}$")
TEXT_MOST = 2000
# as the CHECKs of migration 0025: no visit before 2000, no move before 1900
EARLIEST_VISIT = datetime.datetime(2000, 1, 1, tzinfo=datetime.timezone(datetime.timedelta(hours=8)))
EARLIEST_MOVE = datetime.date(1900, 1, 1)


# --- the sensitive tags ---------------------------------------------------------------------
def shown_tags(tags, may_see_sensitive: bool) -> list[str]:
    """The tags a user is shown: the sensitive ones only with their permission."""
    return [tag for tag in (tags or ()) if may_see_sensitive or tag not in SENSITIVE_TAGS]


def merged_tags(submitted, previous, may_see_sensitive: bool) -> list[str]:
    """The tags a form saves: what the user chose of the tags they see, and the sensitive tags
    they are not shown kept as they were (a form never offers what it hides, so it cannot
    remove it either)."""
    chosen = [tag for tag in ATTENTION_TAGS if tag in set(submitted or ())
              and (may_see_sensitive or tag not in SENSITIVE_TAGS)]
    kept = [] if may_see_sensitive else [tag for tag in (previous or ()) if tag in SENSITIVE_TAGS]
    return [tag for tag in ATTENTION_TAGS if tag in set(chosen) | set(kept)]


# --- houses ---------------------------------------------------------------------------------
def _required(value, field):
    text = (value or "").strip()
    if not text:
        raise ValidationError(_l("This field is required."), field=field)
    return text


def check_house(session: Session, scope: Scope, house: House) -> None:
    with session.no_autoflush:
        grid = house.grid or (session.get(Grid, house.grid_id) if house.grid_id else None)
        if grid is None:
            raise ValidationError(_l("Choose the grid."), field="grid")
        if grid.level not in ("building", "block"):
            raise ValidationError(_l("A house lies in a building micro-grid, or in a block grid without them."),
                                  field="grid")
        if not can_write_under(scope, grid):
            raise ValidationError(_l("You can only keep houses inside your own area."), field="grid")
        house.unit = (house.unit or "").strip() or None
        house.room = _required(house.room, "room")
        if house.use not in HOUSE_USES:
            raise ValidationError(_l("Choose what the house is used for."), field="use")
        if house.ownership not in HOUSE_OWNERSHIPS:
            raise ValidationError(_l("Choose the ownership."), field="ownership")
        if house.area_m2 is not None and not (0 < house.area_m2 < 100000):
            raise ValidationError(_l("The area is more than 0 and less than 100,000 m²."), field="area_m2")
        clash = select(House.id).where(House.grid_id == grid.id, House.room == house.room,
                                       House.unit.is_not_distinct_from(house.unit), House.id != (house.id or 0))
        if session.scalar(clash):
            raise ValidationError(_l("This unit and room is already recorded in this grid."), field="room")
        owner_id = house.owner.id if house.owner is not None else house.owner_id
        if owner_id is not None and not is_visible(session, scope, Resident, owner_id):
            raise ValidationError(_l("Choose an owner among the residents of your area."), field="owner")


def check_attention_tag(tag) -> None:
    if tag.visit_days is not None and not (1 <= tag.visit_days <= 366):
        raise ValidationError(_l("Between 1 and 366 days, or empty."), field="visit_days")


# --- households -----------------------------------------------------------------------------
def check_household(session: Session, scope: Scope, household: Household) -> None:
    with session.no_autoflush:
        household.number = (household.number or "").strip()
        if not household.number:
            raise ValidationError(_l("This field is required."), field="number")
        if not HOUSEHOLD_NUMBER_RE.match(household.number):
            raise ValidationError(_l("A household number has 1 to 32 letters, digits or dashes."), field="number")
        if session.scalar(select(Household.id).where(Household.number == household.number,
                                                     Household.id != (household.id or 0))):
            raise ValidationError(_l("A household with this number already exists."), field="number")
        if household.kind not in HOUSEHOLD_KINDS:
            raise ValidationError(_l("Choose the kind of household."), field="kind")
        house = household.house or (session.get(House, household.house_id) if household.house_id else None)
        if house is None:
            raise ValidationError(_l("Choose the house."), field="house")
        if not can_write_under(scope, house.grid or session.get(Grid, house.grid_id)):
            raise ValidationError(_l("You can only keep households inside your own area."), field="house")
        household.house_id, household.grid_id = house.id, house.grid_id
        head = household.head
        head_id = head.id if head is not None else household.head_id
        if head_id is not None:
            household_of_head = head.household_id if head is not None else session.scalar(
                select(Resident.household_id).where(Resident.id == head_id))
            if household.id is None or household_of_head != household.id:
                raise ValidationError(_l("The head of a household is one of its members."), field="head")


# --- residents ------------------------------------------------------------------------------
def check_resident(session: Session, scope: Scope, resident: Resident, *, previous_household_id=None) -> None:
    """Normalise and check a resident; place them in their household's grid; a resident moved
    out leaves their household (and stops heading it)."""
    with session.no_autoflush:
        resident.name = _required(resident.name, "name")
        if len(resident.name) > 50:
            raise ValidationError(_l("A name has at most 50 characters."), field="name")
        resident.name_initials = initials_of(resident.name)
        if resident.residence_status not in RESIDENCE_STATUSES:
            raise ValidationError(_l("Choose the residence status."), field="residence_status")
        resident.id_number = normalise_resident_id(resident.id_number)
        if resident.id_number is None and resident.residence_status != "overseas":
            raise ValidationError(_l("Enter the resident ID number (only a person from abroad may have none)."),
                                  field="id_number")
        if resident.id_number is not None and not is_valid_resident_id(resident.id_number):
            raise ValidationError(RESIDENT_ID_MESSAGE, field="id_number")
        if resident.id_number is not None and session.scalar(select(Resident.id).where(
                Resident.id_number == resident.id_number, Resident.id != (resident.id or 0))):
            raise ValidationError(_l("A resident with this ID number is already recorded."), field="id_number")
        resident.phone = normalise_mobile(resident.phone) or None
        if resident.phone is not None and not is_valid_mobile(resident.phone):
            raise ValidationError(MOBILE_MESSAGE, field="phone")
        resident.ethnicity = resident.ethnicity or None
        if resident.ethnicity is not None and resident.ethnicity not in ETHNICITIES:
            raise ValidationError(_l("Choose an ethnic group."), field="ethnicity")
        resident.workplace = (resident.workplace or "").strip() or None
        if resident.workplace and len(resident.workplace) > 100:
            raise ValidationError(_l("The workplace has at most 100 characters."), field="workplace")
        today = local_today()
        for field in ("moved_in", "moved_out"):
            if getattr(resident, field) is not None and getattr(resident, field) < EARLIEST_MOVE:
                raise ValidationError(_l("A date from 1900 on."), field=field)
        if resident.moved_in and resident.moved_in > today:
            raise ValidationError(_l("The move-in date cannot be in the future."), field="moved_in")
        if resident.moved_out and resident.moved_out > today:
            raise ValidationError(_l("The move-out date cannot be in the future."), field="moved_out")
        if resident.moved_out and resident.moved_in and resident.moved_out < resident.moved_in:
            raise ValidationError(_l("The move-out date is on or after the move-in date."), field="moved_out")
        unknown = set(resident.tags or ()) - set(ATTENTION_TAGS)
        if unknown:
            raise ValidationError(_l("Choose tags from the list."), field="tags")

        household = resident.household or (session.get(Household, resident.household_id)
                                           if resident.household_id else None)
        if resident.moved_out is not None:
            household = None  # moving out closes the membership (the trigger dates it)
            resident.household, resident.household_id, resident.relation = None, None, None
        if household is not None:
            if resident.relation not in RELATIONS:
                raise ValidationError(_l("Choose the relation to the head of the household."), field="relation")
            resident.grid_id = household.grid_id
            resident.grid = household.grid
        else:
            resident.relation = None
        grid = resident.grid or (session.get(Grid, resident.grid_id) if resident.grid_id else None)
        if grid is None:
            raise ValidationError(_l("Choose the grid, or the household."), field="grid")
        if not can_write_under(scope, grid):
            raise ValidationError(_l("You can only keep residents inside your own area."),
                                  field="household" if household is not None else "grid")
        if grid.level not in ("community", "block", "building"):
            raise ValidationError(_l("A resident lives in a community or a grid below it."), field="grid")


def settle_household(session: Session, resident: Resident, previous_household_id) -> None:
    """After a resident's save (flushed): the household they left no longer names them its head;
    a household without a head takes a member who says they are its head."""
    if previous_household_id is not None and previous_household_id != resident.household_id:
        left = session.get(Household, previous_household_id)
        if left is not None and left.head_id == resident.id:
            left.head_id = None
    if resident.household_id is not None and resident.relation == "head":
        household = session.get(Household, resident.household_id)
        if household.head_id is None:
            household.head_id = resident.id
    session.flush()


def move_out(session: Session, scope: Scope, resident_id, on: datetime.date | None = None) -> Resident:
    """迁出: the resident leaves their household and the grid on ``on`` (today by default); their
    record and its history stay."""
    with unit_of_work(session):
        resident = session.scalar(select(Resident).where(Resident.id == resident_id, visible(scope, Resident))
                                  .with_for_update())
        if resident is None:
            raise OutOfScope(_l("Record not found."))
        if resident.moved_out is not None:
            raise ValidationError(_l("This resident has already moved out."))
        previous = resident.household_id
        resident.moved_out = on or local_today()
        check_resident(session, scope, resident)
        session.flush()
        settle_household(session, resident, previous)
        return resident


# --- visits ---------------------------------------------------------------------------------
@dataclass
class VisitData:
    """What a visitor fills in; ``incident_*``: the incident the visit raises, if any."""

    resident_id: int | None = None
    household_id: int | None = None
    visited_at: datetime.datetime | None = None
    method: str = "home"
    found: str = ""
    follow_up: str | None = None
    incident_category_id: int | None = None
    incident_title: str | None = None
    incident_urgency: str = "normal"


def check_visit(session: Session, scope: Scope, visit: Visit) -> None:
    """Whom it visited (one resident or one household of the user's area), when (not in the
    future), how, and what was found; its grid is theirs."""
    with session.no_autoflush:
        resident_id = visit.resident.id if visit.resident is not None else visit.resident_id
        household_id = visit.household.id if visit.household is not None else visit.household_id
        if (resident_id is None) == (household_id is None):
            raise ValidationError(_l("Choose the resident or the household visited, one of them."), field="resident")
        if resident_id is not None:
            visited = session.scalar(select(Resident).where(Resident.id == resident_id, visible(scope, Resident)))
            if visited is None:
                raise ValidationError(_l("Choose a resident of your area."), field="resident")
            if visited.moved_out is not None:
                raise ValidationError(_l("This resident has moved out."), field="resident")
        else:
            visited = session.scalar(select(Household).where(Household.id == household_id, visible(scope, Household)))
            if visited is None:
                raise ValidationError(_l("Choose a household of your area."), field="household")
        if scope.kind != "all" and not can_write_under(scope, session.get(Grid, visited.grid_id)):
            raise ValidationError(_l("You can only record visits inside your own area."), field="resident")
        visit.grid_id = visited.grid_id
        now = datetime.datetime.now(datetime.timezone.utc)
        if visit.visited_at is None:
            visit.visited_at = now
        if visit.visited_at.tzinfo is None:
            raise ValidationError(_l("Enter when the visit was made."), field="visited_at")
        if visit.visited_at > now + datetime.timedelta(minutes=5):
            raise ValidationError(_l("A visit cannot be in the future."), field="visited_at")
        if visit.visited_at < EARLIEST_VISIT:
            raise ValidationError(_l("A visit is dated from 2000 on."), field="visited_at")
        if visit.method not in VISIT_METHODS:
            raise ValidationError(_l("Choose how the visit was made."), field="method")
        visit.found = (visit.found or "").strip()
        if not visit.found:
            raise ValidationError(_l("Write what the visit found."), field="found")
        if len(visit.found) > TEXT_MOST:
            raise ValidationError(_l("At most 2,000 characters."), field="found")
        visit.follow_up = (visit.follow_up or "").strip() or None
        if visit.follow_up and len(visit.follow_up) > TEXT_MOST:
            raise ValidationError(_l("At most 2,000 characters."), field="follow_up")


def raise_incident(session: Session, actor: incident_service.Actor, visit: Visit, category_id, title: str | None,
                   urgency: str = "normal") -> None:
    """The incident a visit found, reported in the same transaction as the visit, in the visited
    person's grid: its description is what the visit found (no name, no phone: the incident is
    seen by more people than the resident's record)."""
    title = (title or "").strip() or visit.found[:30]
    incident = incident_service.report(session, actor, incident_service.Report(
        grid_id=visit.grid_id, category_id=category_id, title=title, source="patrol", urgency=urgency,
        description=visit.found))
    visit.incident_id = incident.id
    session.flush()


def record_visit(session: Session, actor: incident_service.Actor, data: VisitData) -> Visit:
    """A visit, and the incident it raises when ``data`` names a category: both or neither."""
    with unit_of_work(session):
        visit = Visit(resident_id=data.resident_id, household_id=data.household_id, visited_at=data.visited_at,
                      method=data.method, found=data.found, follow_up=data.follow_up, visitor_id=actor.user_id,
                      patrol_id=patrols.open_patrol_id(session, actor.user_id))
        check_visit(session, actor.scope, visit)
        session.add(visit)
        session.flush()
        if data.incident_category_id is not None:
            raise_incident(session, actor, visit, data.incident_category_id, data.incident_title, data.incident_urgency)
        return visit


# --- visits due -----------------------------------------------------------------------------
def due_column(sees_sensitive: bool):
    """The due date a user is shown and listed by: the one the sensitive tags count in only for who
    may see them (a date the visible tags do not explain would tell of a hidden tag)."""
    return Resident.next_visit_due if sees_sensitive else Resident.care_visit_due


def due_condition(column=Resident.next_visit_due, today: datetime.date | None = None, *, overdue_only: bool = False):
    """Residents due a visit by ``column`` today (or overdue: due before today)."""
    today = today or local_today()
    return column < today if overdue_only else column <= today


def due_visits(session: Session, scope: Scope, *, sees_sensitive: bool = True, limit: int = 50,
               today: datetime.date | None = None):
    """(count, the residents most overdue first) of the scope who are due a visit."""
    column = due_column(sees_sensitive)
    condition = and_(column.is_not(None), due_condition(column, today), visible(scope, Resident))
    count = session.scalar(select(func.count()).select_from(Resident).where(condition))
    rows = list(session.scalars(select(Resident).where(condition).order_by(column, Resident.id).limit(limit)))
    return count, rows
