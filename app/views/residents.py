"""Screens of 一户一档: houses, households, residents, their visits and moves, and the tags'
visit intervals. Phones, ID numbers and rooms are masked for who does not manage the rows; the
sensitive tags are shown only with ``can_sensitive`` (the residents' view)."""
from __future__ import annotations

import datetime

from flask import abort, flash, g, has_request_context, redirect, request, url_for
from flask_appbuilder import expose
from flask_appbuilder.security.decorators import has_access
from flask_appbuilder.fieldwidgets import (BS3TextAreaFieldWidget, BS3TextFieldWidget, DateTimePickerWidget,
                                           Select2ManyWidget, Select2Widget)
from flask_appbuilder.models.sqla.filters import BaseFilter
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import false
from wtforms import DateTimeField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from ..extensions import db
from ..security import sees_sensitive_tags
from ..fab import urltools
from ..fab.fields import choice_field, flag_field
from ..fab.filters import current_scope, row_key
from ..fab.interface import EagerInterface
from ..fab.model_view import ScopedModelView
from ..fab.rendering import label_of, translated, yes_no
from ..models import Grid
from ..models import AttentionTag, House, Household, HouseholdMove, Resident, Visit
from ..models.choices import (ATTENTION_TAG_LABELS, ETHNICITY_LABELS, GENDER_LABELS, HOUSE_OWNERSHIP_LABELS,
                              HOUSE_USE_LABELS, HOUSEHOLD_KIND_LABELS, RELATION_LABELS, RESIDENCE_STATUS_LABELS,
                              SENSITIVE_TAGS, URGENCY_LABELS, VISIT_METHOD_LABELS)
from ..services import incidents as incident_service
from ..services import residents as resident_service
from ..services import search as search_service
from ..services.errors import DomainError, OutOfScope
from ..services.local_time import TIMEZONE, local_today
from ..services.personal_data import mask_mobile, mask_resident_id
from .formats import local_time
from .imports import Importable
from .incidents import current_actor
from .people import PERSON_LABELS, PERSONAL_DATA_VALIDATORS


# the grids a house is kept in
HOUSE_GRIDS = (Grid.level.in_(("building", "block")),)
# the grids a resident outside a household is kept in
RESIDENT_GRIDS = (Grid.level.in_(("community", "block", "building")),)


def may_see_sensitive() -> bool:
    """Whether the user is shown the sensitive tags (社区矫正, 刑满释放…), within their scope."""
    return sees_sensitive_tags()


def tag_labels(tags) -> str:
    """The tags the user may see, by their labels."""
    return _tag_words(tags, may_see_sensitive())


def mask_tags(tags) -> str:
    """The tags without the sensitive ones (what a user without the permission is shown)."""
    return _tag_words(tags, False)


def _tag_words(tags, sensitive: bool) -> str:
    # the labels translated once per language (a list prints them in every row)
    labels = translated(ATTENTION_TAG_LABELS)
    return "、".join(str(labels[tag]) for tag in resident_service.shown_tags(tags, sensitive))


def mask_room(room) -> str:
    """A room number masked: its first character (the floor, often) and stars."""
    return f"{room[:1]}{'*' * min(max(len(room) - 1, 1), 4)}" if room else ""


def tag_choices():
    return [(tag, label) for tag, label in ATTENTION_TAG_LABELS.items()
            if tag not in SENSITIVE_TAGS or may_see_sensitive()]


class TagSearchField(SelectField):
    """The tags' search drop-down: the sensitive tags only for who may see them (the search
    widget keeps one copy of the field for each answer)."""

    @property
    def cache_variant(self) -> bool:
        return may_see_sensitive()


class FilterFindPerson(BaseFilter):
    """名字、拼音首字母、证件号或手机号后四位 — one box finds a person (services/residents.py)."""

    name = _l("Name, initials or last 4 digits")
    arg_name = "find"

    def apply(self, query, value):
        condition = search_service.find_condition(value)
        return query if condition is None else query.filter(condition)


class FilterHasTag(BaseFilter):
    """Residents carrying a tag; a sensitive tag only for who may see it."""

    name = _l("Has the tag")
    arg_name = "tag"

    def apply(self, query, value):
        if value not in ATTENTION_TAG_LABELS:
            return query
        if value in SENSITIVE_TAGS and not may_see_sensitive():
            return query.filter(false())
        return query.filter(Resident.tags.contains([value]))


class FilterVisitDue(BaseFilter):
    """Residents due a visit today or before (``overdue``: before today)."""

    name = _l("Visit due")
    arg_name = "due"

    def apply(self, query, value):
        # the due date the user may be shown (a hidden tag's visit due tells of the tag), most
        # overdue first
        column = resident_service.due_column(may_see_sensitive())
        return query.filter(column.is_not(None), resident_service.due_condition(
            column, overdue_only=value == "overdue")).order_by(column)


# --- houses ---------------------------------------------------------------------------------
class HouseModelView(Importable, ScopedModelView):
    """房屋 — with the households living in each."""

    datamodel = EagerInterface(House)
    import_kind = "houses"
    list_title = _l("Houses")
    show_title = _l("House")
    add_title = _l("Add house")
    edit_title = _l("Edit house")
    label_columns = {
        "grid": _l("Grid"), "unit": _l("Unit (单元)"), "room": _l("Room"), "use": _l("Use"),
        "area_m2": _l("Area (m²)"), "ownership": _l("Ownership"), "owner": _l("Owner or landlord"),
    }
    list_columns = ["grid", "unit", "room", "use", "area_m2", "ownership", "owner"]
    show_columns = list_columns
    add_columns = edit_columns = ["grid", "unit", "room", "use", "area_m2", "ownership", "owner"]
    search_columns = ["grid", "use", "ownership"]
    order_columns = ["area_m2"]
    base_order = ("id", "asc")
    masked_columns = {"room": mask_room}
    formatters_columns = {"use": label_of(HOUSE_USE_LABELS), "ownership": label_of(HOUSE_OWNERSHIP_LABELS)}
    description_columns = {"grid": _l("The building micro-grid (or the block grid where there are none).")}
    validators_columns = {"unit": [Length(max=20)], "room": [Length(max=20)]}
    add_form_extra_fields = {
        "use": choice_field(_l("Use"), HOUSE_USE_LABELS),
        "ownership": choice_field(_l("Ownership"), HOUSE_OWNERSHIP_LABELS),
    }
    edit_form_extra_fields = add_form_extra_fields
    search_form_extra_fields = {
        "use": choice_field(_l("Use"), HOUSE_USE_LABELS, required=False),
        "ownership": choice_field(_l("Ownership"), HOUSE_OWNERSHIP_LABELS, required=False),
    }
    pick_where = {"grid": HOUSE_GRIDS}

    def check(self, item, *, is_new, original):
        resident_service.check_house(db.session, current_scope(), item)


# --- residents and their moves ---------------------------------------------------------------
class HouseholdMoveModelView(ScopedModelView):
    """A household's or a resident's moves in and out (written by the database)."""

    datamodel = EagerInterface(HouseholdMove)
    list_title = _l("Moves in and out")
    show_title = _l("Move")
    label_columns = {"resident": _l("Resident"), "household": _l("Household"), "relation": _l("Relation to the head"),
                     "joined_on": _l("Moved in"), "left_on": _l("Moved out")}
    list_columns = ["resident", "household", "relation", "joined_on", "left_on"]
    show_columns = list_columns
    search_columns = ["joined_on", "left_on"]
    order_columns = ["joined_on"]
    base_order = ("joined_on", "desc")
    formatters_columns = {"relation": label_of(RELATION_LABELS)}
    include_route_methods = {"list", "show"}
    bulk_actions = False


class VisitModelView(ScopedModelView):
    """走访 — a visit to a resident or a household, which can raise an incident in the same step."""

    datamodel = EagerInterface(Visit)
    list_title = _l("Visits")
    show_title = _l("Visit")
    add_title = _l("Record a visit")
    edit_title = _l("Edit visit")
    label_columns = {
        "visited_at": _l("Visited at"), "resident": _l("Resident"), "household": _l("Household"),
        "grid": _l("Grid"), "visitor": _l("Visited by"), "method": _l("How"), "found": _l("What was found"),
        "follow_up": _l("Follow-up"), "incident": _l("Incident raised"),
        "incident_category": _l("Raise an incident of the category"), "incident_title": _l("Incident title"),
        "incident_urgency": _l("Urgency"),
    }
    list_columns = ["visited_at", "resident", "household", "method", "visitor", "grid", "incident"]
    show_columns = ["visited_at", "resident", "household", "grid", "method", "visitor", "found", "follow_up",
                    "incident"]
    add_columns = ["resident", "household", "visited_at", "method", "found", "follow_up", "incident_category",
                   "incident_title", "incident_urgency"]
    edit_columns = ["visited_at", "method", "found", "follow_up"]
    search_columns = ["resident", "grid", "method", "visited_at"]
    order_columns = ["visited_at"]
    base_order = ("visited_at", "desc")
    formatters_columns = {"visited_at": local_time, "method": label_of(VISIT_METHOD_LABELS)}
    description_columns = {
        "resident": _l("Type a name, its pinyin initials or the last 4 digits of a phone or ID number."),
        "household": _l("Or the household visited (leave the resident empty)."),
        "incident_category": _l("Leave empty when the visit found nothing to handle."),
    }
    add_form_extra_fields = {
        "visited_at": DateTimeField(_l("Visited at"), format="%Y-%m-%d %H:%M", widget=DateTimePickerWidget(),
                                    validators=[Optional()], description=_l("Empty: now.")),
        "method": choice_field(_l("How"), VISIT_METHOD_LABELS),
        "found": TextAreaField(_l("What was found"), validators=[InputRequired(_l("Write what the visit found.")),
                                                                  Length(max=2000)], widget=BS3TextAreaFieldWidget()),
        "follow_up": TextAreaField(_l("Follow-up"), validators=[Optional(), Length(max=2000)],
                                   widget=BS3TextAreaFieldWidget()),
        "incident_category": SelectField(_l("Raise an incident of the category"), choices=lambda: [
            ("", _l("(none)"))] + [(str(c.id), c.name) for c in incident_service.report_categories(db.session)],
            validators=[Optional()], widget=Select2Widget()),
        "incident_title": StringField(_l("Incident title"), validators=[Optional(), Length(max=100)],
                                      description=_l("Empty: the start of what was found."), widget=BS3TextFieldWidget()),
        "incident_urgency": choice_field(_l("Urgency"), URGENCY_LABELS, required=False),
    }
    edit_form_extra_fields = {key: field for key, field in add_form_extra_fields.items()
                              if key in ("visited_at", "method", "found", "follow_up")}
    search_form_extra_fields = {"method": choice_field(_l("How"), VISIT_METHOD_LABELS, required=False)}
    bulk_actions = False

    def _get_add_widget(self, form, exclude_cols=None, widgets=None):
        # opened from a resident's or a household's page: whom it visits is filled in
        if request.method == "GET":
            for column, model in (("resident", Resident), ("household", Household)):
                key = row_key(request.args.get(column))
                if key is not None and hasattr(form, column):
                    found = search_service.picked(db.session, current_scope(), model, [key])
                    if found and getattr(found[0], "moved_out", None) is None:  # the picker's rule too
                        getattr(form, column).data = found[0]
        return super()._get_add_widget(form=form, exclude_cols=exclude_cols, widgets=widgets)

    def check(self, item, *, is_new, original):
        if item.visited_at is not None and item.visited_at.tzinfo is None:
            item.visited_at = item.visited_at.replace(tzinfo=TIMEZONE)  # typed in Beijing time
        if is_new:
            item.visitor_id = g.user.id
        resident_service.check_visit(db.session, current_scope(), item)

    def process_form(self, form, is_created):
        # the incident the visit raises: read here, written by ``apply`` (the fields stay on the
        # form, drawn again with its message when the visit is refused)
        g.gridgov_visit_incident = None
        if is_created and getattr(form, "incident_category", None) is not None and form.incident_category.data:
            g.gridgov_visit_incident = (int(form.incident_category.data), form.incident_title.data,
                                        form.incident_urgency.data or "normal")

    def apply(self, item, *, is_new, original):
        incident = g.get("gridgov_visit_incident")
        if is_new and incident is not None:
            category_id, title, urgency = incident
            resident_service.raise_incident(db.session, current_actor(), item, category_id, title, urgency)


class ResidentModelView(Importable, ScopedModelView):
    """实有人口 — with their visits and their moves."""

    datamodel = EagerInterface(Resident)
    import_kind = "residents"
    show_title = _l("Resident")
    add_title = _l("Add resident")
    edit_title = _l("Edit resident")
    label_columns = {
        **PERSON_LABELS, "gender": _l("Gender"), "birth_date": _l("Birth date"), "age": _l("Age"),
        "ethnicity": _l("Ethnic group"), "residence_status": _l("Residence status"), "moved_in": _l("Moved in"),
        "moved_out": _l("Moved out"), "workplace": _l("Workplace or school"), "tags": _l("Care and attention"),
        "grid": _l("Grid"), "household": _l("Household"), "relation": _l("Relation to the head"),
        "last_visited_at": _l("Last visited"), "next_visit_due": _l("Next visit due"),
        "visit_due": _l("Next visit due"),
    }
    list_columns = ["name", "gender", "age", "residence_status", "grid", "household", "phone", "id_number", "tags"]
    show_columns = ["name", "gender", "birth_date", "age", "ethnicity", "id_number", "phone", "residence_status",
                    "grid", "household", "relation", "moved_in", "moved_out", "workplace", "party_member", "tags",
                    "last_visited_at", "visit_due"]
    export_columns = ["name", "gender", "birth_date", "ethnicity", "id_number", "phone", "residence_status", "grid",
                      "household", "relation", "moved_in", "moved_out", "workplace", "party_member", "tags",
                      "last_visited_at", "visit_due"]
    add_columns = ["grid", "household", "relation", "name", "id_number", "phone", "ethnicity", "residence_status",
                   "moved_in", "moved_out", "workplace", "party_member", "tags"]
    edit_columns = add_columns
    search_columns = ["name", "grid", "household", "residence_status", "tags", "next_visit_due", "party_member"]
    order_columns = ["name", "moved_in"]
    base_order = ("name", "asc")
    # the tags and the visit due date: their sensitive part only with can_sensitive
    masked_columns = {"phone": mask_mobile, "id_number": mask_resident_id, "tags": mask_tags,
                      "visit_due": lambda dues: dues[1]}
    formatters_columns = {
        "gender": label_of(GENDER_LABELS), "ethnicity": label_of(ETHNICITY_LABELS),
        "residence_status": label_of(RESIDENCE_STATUS_LABELS), "relation": label_of(RELATION_LABELS),
        "party_member": yes_no, "last_visited_at": local_time,
    }
    description_columns = {
        "household": _l("The household they live in: its grid is theirs."),
        "grid": _l("Where they live, when they are in no household."),
        "id_number": _l("18 characters; gender and birth date are read from it. Only a person from abroad may "
                        "have none."),
        "moved_out": _l("Moving out closes their household membership; the record and its history stay."),
        "tags": _l("Residents with a tag are visited at least once a month (its interval is set per tag)."),
    }
    # lists of their own: FAB adds each view's "required" or "optional" to the list it is given
    validators_columns = {"name": [Length(max=50)], "workplace": [Length(max=100)],
                          **{column: list(checks) for column, checks in PERSONAL_DATA_VALIDATORS.items()}}
    add_form_extra_fields = {
        "relation": choice_field(_l("Relation to the head"), RELATION_LABELS, required=False),
        "ethnicity": choice_field(_l("Ethnic group"), ETHNICITY_LABELS, required=False),
        "residence_status": choice_field(_l("Residence status"), RESIDENCE_STATUS_LABELS),
        "party_member": flag_field(_l("Party member")),
        "tags": SelectMultipleField(_l("Care and attention"), choices=tag_choices, widget=Select2ManyWidget(),
                                    validators=[Optional()]),
    }
    edit_form_extra_fields = add_form_extra_fields
    search_form_extra_fields = {
        "residence_status": choice_field(_l("Residence status"), RESIDENCE_STATUS_LABELS, required=False),
        "tags": TagSearchField(_l("Care and attention"), choices=lambda: [("", "")] + tag_choices(),
                            validators=[Optional()], widget=Select2Widget()),
        "next_visit_due": SelectField(_l("Visit due"), choices=[
            ("due", _l("Due today or before")), ("overdue", _l("Overdue"))], widget=Select2Widget()),
    }
    related_views = [VisitModelView, HouseholdMoveModelView]
    pick_where = {"grid": RESIDENT_GRIDS}
    show_template = "gridgov/resident_show.html"

    @property
    def list_title(self):
        """"Visits due" when the list is the menu's residents due a visit."""
        if has_request_context() and request.args.get("_flt_0_next_visit_due"):
            return _l("Visits due")
        return _l("Residents")

    list_template = "gridgov/resident_list.html"
    method_permission_name = {"muldelete": "delete", "move_out": "edit"}

    @expose("/show/<pk>", methods=["GET"])
    @has_access
    def show(self, pk):
        widgets = self._show(pk)
        resident = self.record_shown(pk)
        return self.render_template(
            self.show_template, pk=pk, title=self.show_title, widgets=widgets, related_views=self._related_views,
            moved_out=resident.moved_out is not None, today=local_today().isoformat())

    @expose("/move_out/<pk>", methods=["POST"])
    @has_access
    def move_out(self, pk):
        """迁出: the resident leaves their household and the grid on the date given."""
        try:
            on = datetime.date.fromisoformat(request.form.get("on", ""))
        except ValueError:
            flash(gettext("Enter the move-out date."), "danger")
            return redirect(url_for(".show", pk=pk))
        try:
            resident_service.move_out(db.session, current_scope(), row_key(pk), on)
        except OutOfScope:
            abort(404)
        except DomainError as error:
            flash(str(error), "danger")
        else:
            flash(gettext("Moved out: the household membership is closed."), "success")
        return redirect(url_for(".show", pk=pk))

    def _init_properties(self):
        super()._init_properties()
        self.replace_search_filters("name", FilterFindPerson)
        self.replace_search_filters("tags", FilterHasTag)
        self.replace_search_filters("next_visit_due", FilterVisitDue)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.formatters_columns["tags"] = self._masking("tags", mask_tags)
        self.formatters_columns["visit_due"] = self._masking("visit_due", self.masked_columns["visit_due"])
        # who is shown the sensitive tags: a permission of its own, given to roles in security.py
        self.base_permissions = [*self.base_permissions, "can_sensitive"]

    def _may_see_sensitive(self) -> bool:
        return may_see_sensitive()  # what an import may set and show of the tags

    def sees_in_clear(self, column: str) -> bool:
        if column in ("tags", "visit_due"):
            return may_see_sensitive()
        return super().sees_in_clear(column)

    def _masking(self, column, masker):
        if column == "tags":
            return lambda tags: tag_labels(tags) if self.cell_in_clear("tags") else masker(tags)
        if column == "visit_due":  # (all tags', visible tags') due dates: the one the user may see
            return lambda dues: dues[0] if self.cell_in_clear("visit_due") else masker(dues)
        return super()._masking(column, masker)

    def _read_filter_args(self, searched_only: bool = True) -> None:
        # a masked column is never searched, but the tags' filter keeps the sensitive ones to who
        # may see them (FilterHasTag): the others stay searchable by everyone
        urltools.get_filter_args(self._filters, disallow_if_not_in_search=searched_only,
                                 hidden=self.hidden_columns() - {"tags"})

    def _original(self, item) -> dict:
        return {"tags": list(item.tags or ()), "household_id": item.household_id}

    def check(self, item, *, is_new, original):
        item.tags = resident_service.merged_tags(item.tags, original.get("tags"), may_see_sensitive())
        resident_service.check_resident(db.session, current_scope(), item)

    def apply(self, item, *, is_new, original):
        resident_service.settle_household(db.session, item, original.get("household_id"))


class HouseholdModelView(Importable, ScopedModelView):
    """户 — with its members and its moves."""

    datamodel = EagerInterface(Household)
    import_kind = "households"
    list_title = _l("Households")
    show_title = _l("Household")
    add_title = _l("Add household")
    edit_title = _l("Edit household")
    label_columns = {"number": _l("Household number"), "house": _l("House"), "grid": _l("Grid"),
                     "kind": _l("Kind of household"), "head": _l("Head of household")}
    list_columns = ["number", "grid", "house", "kind", "head"]
    show_columns = list_columns
    add_columns = ["house", "number", "kind"]
    edit_columns = ["house", "number", "kind", "head"]
    search_columns = ["number", "grid", "kind"]
    order_columns = ["number"]
    base_order = ("number", "asc")
    formatters_columns = {"kind": label_of(HOUSEHOLD_KIND_LABELS)}
    masked_columns = {"house": lambda house: mask_room(str(house))}
    description_columns = {"head": _l("One of its members.")}
    validators_columns = {"number": [Length(max=32)]}
    add_form_extra_fields = {"kind": choice_field(_l("Kind of household"), HOUSEHOLD_KIND_LABELS)}
    edit_form_extra_fields = add_form_extra_fields
    search_form_extra_fields = {"kind": choice_field(_l("Kind of household"), HOUSEHOLD_KIND_LABELS,
                                                     required=False)}
    related_views = [ResidentModelView, VisitModelView, HouseholdMoveModelView]

    def check(self, item, *, is_new, original):
        resident_service.check_household(db.session, current_scope(), item)


# a house's page lists the households living in it
HouseModelView.related_views = [HouseholdModelView]


class AttentionTagModelView(ScopedModelView):
    """The tags of people who need care or attention: how often each is visited (administrators)."""

    datamodel = EagerInterface(AttentionTag)
    list_title = _l("Care and attention tags")
    show_title = edit_title = _l("Care and attention tag")
    label_columns = {"code": _l("Tag"), "sensitive": _l("Sensitive"), "visit_days": _l("Visit at least every (days)")}
    list_columns = ["code", "sensitive", "visit_days"]
    show_columns = list_columns
    edit_columns = ["visit_days"]
    search_columns = ["sensitive"]
    order_columns = ["position"]
    base_order = ("position", "asc")
    formatters_columns = {"code": label_of(ATTENTION_TAG_LABELS), "sensitive": yes_no}
    description_columns = {"visit_days": _l("Empty: people with this tag need no regular visits.")}
    include_route_methods = {"list", "show", "edit"}
    bulk_actions = False

    def check(self, item, *, is_new, original):
        resident_service.check_attention_tag(item)
