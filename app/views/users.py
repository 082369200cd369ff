"""The administrator's user screens: FAB's, plus the user's scope (grid, department or
volunteer record), checked against the user's roles before anything is saved."""
from __future__ import annotations

from flask_appbuilder.security.views import RoleModelView, UserDBModelView, UserGroupModelView
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload
from wtforms.validators import DataRequired

from ..services.users import ROLE_LABELS, check_user_scope
from .base import EagerInterface, ListArguments, type_searched_relations
from .pickers import PickerMixin

SCOPE_FIELDS = ["grid", "department", "volunteer"]


def role_names(roles) -> str:
    return "、".join(str(ROLE_LABELS.get(role.name, role.name)) for role in roles or [])


class GridgovUserDBModelView(ListArguments, PickerMixin, UserDBModelView):
    # family name (姓) before given name (名), as Chinese names are written
    list_columns = ["last_name", "first_name", "username", "email", "active", "roles", "grid", "department"]
    add_columns = ["last_name", "first_name", "username", "active", "email", "roles",
                   *SCOPE_FIELDS, "password", "conf_password"]
    edit_columns = ["last_name", "first_name", "username", "active", "email", "roles", *SCOPE_FIELDS]
    search_columns = ["last_name", "first_name", "username", "email", "active", "roles", "grid", "department"]
    show_fieldsets = [
        (_l("User info"), {"fields": ["username", "active", "roles", "login_count"]}),
        (_l("Scope"), {"fields": SCOPE_FIELDS, "expanded": True}),
        (_l("Personal Info"), {"fields": ["last_name", "first_name", "email"], "expanded": True}),
        (_l("Audit Info"), {"fields": ["last_login", "fail_login_count", "created_on", "changed_on"],
                            "expanded": False}),
    ]
    label_columns = {
        **UserDBModelView.label_columns,
        "grid": _l("Scope: grid"),
        "department": _l("Scope: department"),
        "volunteer": _l("Scope: volunteer record"),
        "roles": _l("Role"),
    }
    description_columns = {
        **UserDBModelView.description_columns,
        "grid": _l("Dispatchers, street officers, secretaries, grid workers and leaders see this grid and everything under it."),
        "department": _l("Department officers see their department's records."),
        "volunteer": _l("A volunteer login sees only this volunteer record."),
    }
    formatters_columns = {"roles": role_names}
    validators_columns = {"roles": [DataRequired()]}

    def __init__(self, *args, **kwargs):
        # FAB's user list prints every user's roles and scope: load them with the page.
        model = self.datamodel.obj
        self.datamodel = EagerInterface(model)
        self.datamodel.eager_options = (selectinload(model.roles), selectinload(model.grid),
                                        selectinload(model.department), selectinload(model.groups))
        super().__init__(*args, **kwargs)

    def _init_properties(self):
        super()._init_properties()
        type_searched_relations(self)

    def _init_forms(self):
        super()._init_forms()
        # roles by their label in the user's language; the empty scope choice labelled
        for form in (self.add_form, self.edit_form):
            form.roles.kwargs["get_label"] = lambda role: str(ROLE_LABELS.get(role.name, role.name))
            for name in SCOPE_FIELDS:
                getattr(form, name).kwargs["blank_text"] = _l("(none)")

    def _check_scope(self, item) -> None:
        check_user_scope(
            {role.name for role in item.roles or []},
            grid=item.grid, department=item.department, volunteer=item.volunteer,
        )

    def pre_add(self, item):
        self._check_scope(item)
        super().pre_add(item)

    def pre_update(self, item):
        self._check_scope(item)
        super().pre_update(item)


class GridgovRoleModelView(ListArguments, RoleModelView):
    # FAB searches every column, the role's users among them: a drop-down of every login.
    search_columns = ["name", "permissions"]
    class_permission_name = "RoleModelView"  # FAB's own name: the roles' permissions stay as they are

    def __init__(self, *args, **kwargs):
        # FAB's role list prints each role's permissions: one query per role; loaded with the page.
        model = self.datamodel.obj
        self.datamodel = EagerInterface(model)
        self.datamodel.eager_options = (selectinload(model.permissions),)
        super().__init__(*args, **kwargs)


class GridgovGroupModelView(ListArguments, PickerMixin, UserGroupModelView):
    search_columns = ["name", "label", "roles"]
    class_permission_name = "UserGroupModelView"

    def __init__(self, *args, **kwargs):
        model = self.datamodel.obj  # a group's roles, loaded with the page
        self.datamodel = EagerInterface(model)
        self.datamodel.eager_options = (selectinload(model.roles),)
        super().__init__(*args, **kwargs)
