"""Rules for workers, volunteers, service records and departments: valid personal data,
consistent links, and nothing placed outside the user's scope."""
from __future__ import annotations


from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Department, Grid, PointsRule, ServiceRecord, Volunteer, Worker
from .errors import ValidationError
from .local_time import local_today
from .personal_data import (
    is_valid_contact_phone,
    is_valid_mobile,
    is_valid_resident_id,
    normalise_contact_phone,
    normalise_mobile,
    normalise_resident_id,
)
from .scope import Scope, can_write_under, is_visible


def community_of(session: Session, volunteer_id: int) -> Grid | None:
    """The volunteer's home community."""
    return session.scalar(select(Grid).join(Volunteer, Volunteer.community_id == Grid.id)
                          .where(Volunteer.id == volunteer_id))


def _unflushed(check):
    """Run a check without flushing the (possibly pending, not yet valid) record."""

    def run(session: Session, *args, **kwargs):
        with session.no_autoflush:
            return check(session, *args, **kwargs)

    run.__doc__ = check.__doc__
    run.__name__ = check.__name__
    return run


MOBILE_MESSAGE = _l("Enter a valid mainland mobile number: 11 digits starting with 13–19.")
RESIDENT_ID_MESSAGE = _l("Enter a valid 18-character resident ID number.")
CONTACT_PHONE_MESSAGE = _l("Enter a valid mobile number or a landline such as 0392-3312345.")


def clean_personal_data(person) -> None:
    """Normalise and validate the phone and ID number of a worker or volunteer."""
    person.phone = normalise_mobile(person.phone)
    if not is_valid_mobile(person.phone):
        raise ValidationError(MOBILE_MESSAGE, field="phone")
    person.id_number = normalise_resident_id(person.id_number)
    if person.id_number is not None and not is_valid_resident_id(person.id_number):
        raise ValidationError(RESIDENT_ID_MESSAGE, field="id_number")
    if person.name is not None:
        person.name = person.name.strip()
    if not person.name:
        raise ValidationError(_l("This field is required."), field="name")


def _grid_of(session: Session, obj, attr: str) -> Grid | None:
    grid = getattr(obj, attr)
    if grid is None and getattr(obj, attr + "_id", None) is not None:
        grid = session.get(Grid, getattr(obj, attr + "_id"))
    return grid


@_unflushed
def check_worker(session: Session, scope: Scope, worker: Worker) -> None:
    clean_personal_data(worker)
    grid = _grid_of(session, worker, "grid")
    if grid is None:
        raise ValidationError(_l("Choose the grid."), field="grid")
    if not can_write_under(scope, grid):
        raise ValidationError(_l("You can only place workers inside your own area."), field="grid")
    if worker.start_date and worker.start_date > local_today():
        raise ValidationError(_l("The start date cannot be in the future."), field="start_date")


@_unflushed
def check_volunteer(session: Session, scope: Scope, volunteer: Volunteer) -> None:
    clean_personal_data(volunteer)
    community = _grid_of(session, volunteer, "community")
    if community is None:
        raise ValidationError(_l("Choose the home community."), field="community")
    if community.level != "community":
        raise ValidationError(_l("The home community must be a grid of community level."), field="community")
    if scope.kind == "volunteer":
        if volunteer.id != scope.volunteer_id:
            raise ValidationError(_l("You can only change your own record."))
    elif not can_write_under(scope, community):
        raise ValidationError(_l("You can only place volunteers inside your own area."), field="community")
    if volunteer.kind == "sunk_party_member" and volunteer.unit is None and volunteer.unit_id is None:
        raise ValidationError(_l("A sunk party member needs the unit they come from."), field="unit")


@_unflushed
def check_service_record(session: Session, scope: Scope, record: ServiceRecord) -> None:
    volunteer_id = record.volunteer.id if record.volunteer is not None else record.volunteer_id
    if volunteer_id is None:
        raise ValidationError(_l("Choose the volunteer."), field="volunteer")
    if scope.kind == "volunteer" or not is_visible(session, scope, Volunteer, volunteer_id):
        raise ValidationError(_l("You can only record service of volunteers in your own area."), field="volunteer")
    if record.hours is None or not (0 < record.hours <= 24):
        raise ValidationError(_l("Service hours must be more than 0 and at most 24."), field="hours")
    if record.date and record.date > local_today():
        raise ValidationError(_l("The service date cannot be in the future."), field="date")
    record.activity = (record.activity or "").strip()
    if not record.activity:
        raise ValidationError(_l("This field is required."), field="activity")
    rule = record.rule or (session.get(PointsRule, record.rule_id) if record.rule_id else None)
    if rule is not None and rule.community_id is not None and \
            rule.community_id != session.get(Volunteer, volunteer_id).community_id:
        raise ValidationError(_l("Choose an activity type of the whole district or of the volunteer's community."),
                              field="rule")


@_unflushed
def check_department(session: Session, scope: Scope, department: Department) -> None:
    department.name = (department.name or "").strip()
    if not department.name:
        raise ValidationError(_l("This field is required."), field="name")
    department.contact_phone = normalise_contact_phone(department.contact_phone)
    if department.contact_phone is not None and not is_valid_contact_phone(department.contact_phone):
        raise ValidationError(CONTACT_PHONE_MESSAGE, field="contact_phone")
    for community in department.communities:
        if community.level != "community":
            raise ValidationError(_l("Departments are paired with grids of community level."), field="communities")
        if not can_write_under(scope, community):
            raise ValidationError(_l("You can only pair communities inside your own area."), field="communities")
