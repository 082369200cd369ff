"""Functional departments and paired units."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from wtforms.validators import Length

from ..extensions import db
from ..models import Department, Grid
from ..models.choices import DEPARTMENT_KIND_LABELS
from ..services import people as people_service
from ..services.scope import seen_among
from ..fab.fields import choice_field
from ..fab.filters import current_scope
from ..fab.interface import EagerInterface
from ..fab.model_view import ScopedModelView
from ..fab.rendering import label_of
from ..fab.pickers import COMMUNITIES
from .imports import Importable


def communities_seen(communities) -> str:
    """The communities a department serves that the viewer sees, and how many others."""
    seen = seen_among(db.session, current_scope(), Grid, [c.id for c in communities])
    names = "、".join(str(c) for c in communities if c.id in seen)
    others = len(communities) - len(seen)
    if others:
        names = " ".join(filter(None, [names, ngettext("(and %(num)s community outside your area)",
                                                       "(and %(num)s communities outside your area)", others)]))
    return names


class DepartmentModelView(Importable, ScopedModelView):
    """职能部门 / 下沉单位."""

    import_kind = "departments"

    datamodel = EagerInterface(Department)
    pick_where = {"communities": COMMUNITIES}
    list_title = _l("Departments and paired units")
    show_title = _l("Department")
    add_title = _l("Add department")
    edit_title = _l("Edit department")
    label_columns = {
        "name": _l("Name"),
        "kind": _l("Type"),
        "contact_name": _l("Contact person"),
        "contact_phone": _l("Contact phone"),
        "description": _l("Description"),
        "communities": _l("Communities served"),
    }
    list_columns = ["name", "kind", "contact_name", "contact_phone"]
    show_columns = ["name", "kind", "contact_name", "contact_phone", "description", "communities"]
    add_columns = ["name", "kind", "contact_name", "contact_phone", "description", "communities"]
    edit_columns = add_columns
    search_columns = ["name", "kind", "contact_name"]
    order_columns = ["name", "kind"]
    base_order = ("name", "asc")
    formatters_columns = {"kind": label_of(DEPARTMENT_KIND_LABELS), "communities": communities_seen}
    description_columns = {
        "communities": _l("Leave empty for a department that serves the whole district."),
        "contact_phone": _l("A mobile number or a landline such as 0392-3312345."),
    }
    validators_columns = {
        "name": [Length(max=100)], "contact_name": [Length(max=50)],
        "contact_phone": [Length(max=16)], "description": [Length(max=500)],
    }
    add_form_extra_fields = {"kind": choice_field(_l("Type"), DEPARTMENT_KIND_LABELS)}
    edit_form_extra_fields = add_form_extra_fields
    search_form_extra_fields = {"kind": choice_field(_l("Type"), DEPARTMENT_KIND_LABELS, required=False)}

    def check(self, item, *, is_new, original):
        people_service.check_department(db.session, current_scope(), item)
