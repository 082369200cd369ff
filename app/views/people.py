"""Screens for workers, volunteers and their service records."""
from __future__ import annotations


from flask import current_app, request
from flask_appbuilder import expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from wtforms.validators import Length, ValidationError

from ..extensions import db
from ..models import ServiceRecord, TrainingRecord, Volunteer, Worker
from ..models.choices import EMPLOYMENT_TYPE_LABELS, VOLUNTEER_KIND_LABELS, WORKER_ROLE_LABELS
from ..services import people as people_service
from ..services import training as training_service
from ..services.local_time import local_today
from ..services.personal_data import (
    is_valid_mobile,
    is_valid_resident_id,
    mask_address,
    mask_mobile,
    mask_resident_id,
    normalise_mobile,
    normalise_resident_id,
)
from ..fab.fields import choice_field, flag_field
from ..fab.filters import current_scope
from ..fab.interface import EagerInterface
from ..fab.model_view import ScopedModelView
from ..fab.rendering import label_of, yes_no
from ..fab.pickers import COMMUNITIES
from .imports import Importable
from .points import ServiceRecordAwardMixin

PERSON_LABELS = {
    "name": lazy_pgettext("a person's", "Name"),
    "phone": _l("Mobile phone"),
    "id_number": _l("Resident ID number"),
    "party_member": _l("Party member"),
}
PERSONAL_DATA = {"phone": mask_mobile, "id_number": mask_resident_id}


class Checked:
    """A form validator running the services' rule for a phone or ID number, so its message shows
    beside the other fields' errors at once (the service checks again before saving)."""

    def __init__(self, normalise, valid, message):
        self.normalise, self.valid, self.message = normalise, valid, message

    def __call__(self, form, field):
        value = self.normalise(field.data)
        if value and not self.valid(value):
            raise ValidationError(str(self.message))


PERSONAL_DATA_VALIDATORS = {
    "phone": [Length(max=20), Checked(normalise_mobile, is_valid_mobile, people_service.MOBILE_MESSAGE)],
    "id_number": [Length(max=20), Checked(normalise_resident_id, is_valid_resident_id,
                                          people_service.RESIDENT_ID_MESSAGE)],
}


class TrainingRecordModelView(ScopedModelView):
    """培训记录 — a worker's courses; also the related list of a worker's page. Its "under the
    required hours" page lists, per community, the workers who trained less than a year asks."""

    datamodel = EagerInterface(TrainingRecord)
    list_title = _l("Training records")
    show_title = _l("Training record")
    add_title = _l("Add training record")
    edit_title = _l("Edit training record")
    label_columns = {"worker": _l("Worker"), "date": _l("Date"), "course": _l("Course"), "hours": _l("Hours"),
                     "organiser": _l("Organiser")}
    list_columns = ["date", "worker", "course", "hours", "organiser"]
    show_columns = add_columns = edit_columns = ["worker", "date", "course", "hours", "organiser"]
    search_columns = ["worker", "date", "course", "organiser"]
    order_columns = ["date", "hours"]
    base_order = ("date", "desc")
    description_columns = {"hours": _l("More than 0 and at most 200 hours for one course.")}
    validators_columns = {"course": [Length(max=100)], "organiser": [Length(max=100)]}
    # the "under the required hours" page: who may read it
    method_permission_name = {"muldelete": "delete", "under": "under"}

    def check(self, item, *, is_new, original):
        training_service.check_record(db.session, current_scope(), item)

    @expose("/under/")
    @has_access
    def under(self):
        """The workers under the hours a year asks (70 unless set), per community."""
        year = request.args.get("year", "")
        year = int(year) if year.isdigit() and 2000 <= int(year) <= 2100 else local_today().year
        required = training_service.required_hours(current_app.config)
        rows = training_service.under_required(db.session, current_scope(), year, required)
        groups: dict = {}
        for row in rows:
            groups.setdefault((row.community_id, row.community), []).append(row)
        return self.render_template("gridgov/training_under.html", groups=groups, year=year, required=required,
                                    role_labels=WORKER_ROLE_LABELS, count=len(rows))


class WorkerModelView(Importable, ScopedModelView):
    """网格员 and the other grid roles."""

    import_kind = "workers"

    datamodel = EagerInterface(Worker)
    list_title = _l("Workers")
    show_title = _l("Worker")
    add_title = _l("Add worker")
    edit_title = _l("Edit worker")
    label_columns = {
        **PERSON_LABELS,
        "role": _l("Role"),
        "grid": _l("Grid"),
        "employment": _l("Employment type"),
        "start_date": _l("Start date"),
        "training_hours": _l("Training hours this year"),
        "department": _l("Department or unit"),
    }
    list_columns = ["name", "role", "grid", "phone", "employment", "party_member", "training_hours"]
    show_columns = ["name", "role", "grid", "phone", "id_number", "employment", "party_member",
                    "start_date", "training_hours", "department"]
    # the file holds the whole record, so that it can be imported back as it is (the grid as
    # 名称（code）, which the import reads)
    export_columns = show_columns
    add_columns = ["grid", "name", "role", "phone", "id_number", "employment", "party_member",
                   "start_date", "department"]
    edit_columns = add_columns
    search_columns = ["name", "role", "grid", "employment", "party_member"]
    order_columns = ["name", "role", "phone", "start_date"]
    base_order = ("name", "asc")
    masked_columns = PERSONAL_DATA
    formatters_columns = {
        "role": label_of(WORKER_ROLE_LABELS),
        "employment": label_of(EMPLOYMENT_TYPE_LABELS),
        "party_member": yes_no,
    }
    description_columns = {
        "phone": _l("11-digit mainland mobile number."),
        "id_number": _l("18 characters; the last may be X."),
        "training_hours": _l("The sum of this year's training records; Qibin requires at least 70 hours a year."),
    }
    validators_columns = {"name": [Length(max=50)], **{column: list(checks) for column, checks in PERSONAL_DATA_VALIDATORS.items()}}
    add_form_extra_fields = {
        "role": choice_field(_l("Role"), WORKER_ROLE_LABELS),
        "employment": choice_field(_l("Employment type"), EMPLOYMENT_TYPE_LABELS),
        "party_member": flag_field(_l("Party member")),
    }
    edit_form_extra_fields = add_form_extra_fields
    search_form_extra_fields = {
        "role": choice_field(_l("Role"), WORKER_ROLE_LABELS, required=False),
        "employment": choice_field(_l("Employment type"), EMPLOYMENT_TYPE_LABELS, required=False),
    }

    related_views = [TrainingRecordModelView]
    show_template = "gridgov/worker_show.html"  # with the training hours of each year

    def check(self, item, *, is_new, original):
        people_service.check_worker(db.session, current_scope(), item)


def training_years(worker_id) -> list:
    """(year, hours) of the worker's training, the latest year first; none outside the scope."""
    from ..services.errors import OutOfScope

    try:
        return training_service.yearly_totals(db.session, current_scope(), worker_id)
    except OutOfScope:
        return []


class ServiceRecordModelView(ServiceRecordAwardMixin, Importable, ScopedModelView):
    """志愿服务记录 — also shown as the related list of a volunteer; secretaries award points."""

    import_kind = "service_records"

    datamodel = EagerInterface(ServiceRecord)
    method_permission_name = {"muldelete": "delete", "award": "award"}
    list_title = _l("Service records")
    show_title = _l("Service record")
    add_title = _l("Add service record")
    edit_title = _l("Edit service record")
    label_columns = {
        "volunteer": _l("Volunteer"),
        "date": _l("Date"),
        "hours": _l("Hours"),
        "activity": _l("Activity"),
        "rule": _l("Activity type"),
        "points_awarded": _l("Points awarded"),
    }
    list_columns = ["date", "volunteer", "hours", "activity", "rule", "points_awarded"]
    show_columns = list_columns
    add_columns = ["volunteer", "date", "hours", "rule", "activity"]
    edit_columns = add_columns
    search_columns = ["volunteer", "date", "activity", "rule"]
    description_columns = {"rule": _l("Its points rule prices the service when points are awarded.")}
    order_columns = ["date", "hours"]
    base_order = ("date", "desc")
    validators_columns = {"activity": [Length(max=200)]}

    def check(self, item, *, is_new, original):
        people_service.check_service_record(db.session, current_scope(), item)


class VolunteerModelView(Importable, ScopedModelView):
    """志愿者 — with their service records as a related list."""

    import_kind = "volunteers"

    datamodel = EagerInterface(Volunteer)
    pick_where = {"community": COMMUNITIES}
    list_title = _l("Volunteers")
    show_title = _l("Volunteer")
    add_title = _l("Add volunteer")
    edit_title = _l("Edit volunteer")
    label_columns = {
        **PERSON_LABELS,
        "kind": _l("Volunteer type"),
        "community": _l("Home community"),
        "unit": _l("Unit (sunk party members)"),
        "skills": _l("Skills"),
        "address": _l("Address"),
    }
    list_columns = ["name", "kind", "community", "unit", "phone", "skills"]
    show_columns = ["name", "kind", "community", "unit", "phone", "id_number", "address",
                    "party_member", "skills"]
    export_columns = show_columns  # the whole record, to be imported back as it is
    add_columns = ["community", "name", "kind", "unit", "phone", "id_number", "address",
                   "party_member", "skills"]
    edit_columns = add_columns
    search_columns = ["name", "kind", "community", "unit", "skills"]
    order_columns = ["name", "phone"]
    base_order = ("name", "asc")
    masked_columns = {**PERSONAL_DATA, "address": mask_address}
    formatters_columns = {"kind": label_of(VOLUNTEER_KIND_LABELS), "party_member": yes_no}
    description_columns = {
        "phone": _l("11-digit mainland mobile number."),
        "unit": _l("Required for sunk party members: the unit they come from."),
    }
    validators_columns = {
        "name": [Length(max=50)], **{column: list(checks) for column, checks in PERSONAL_DATA_VALIDATORS.items()},
        "address": [Length(max=200)], "skills": [Length(max=200)],
    }
    add_form_extra_fields = {
        "kind": choice_field(_l("Volunteer type"), VOLUNTEER_KIND_LABELS),
        "party_member": flag_field(_l("Party member")),
    }
    edit_form_extra_fields = add_form_extra_fields
    search_form_extra_fields = {"kind": choice_field(_l("Volunteer type"), VOLUNTEER_KIND_LABELS, required=False)}
    related_views = [ServiceRecordModelView]

    def check(self, item, *, is_new, original):
        people_service.check_volunteer(db.session, current_scope(), item)
