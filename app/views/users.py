"""The administrator's user screens: FAB's, plus the user's scope (grid, department or
volunteer record), checked against the user's roles before anything is saved; the login form
behind the login limit; changing one's own password asks for the current one."""
from __future__ import annotations

from flask import current_app, flash, g, redirect, request
from flask_appbuilder.fieldwidgets import BS3PasswordFieldWidget
from flask_appbuilder.widgets import ListWidget, ShowWidget
from flask_appbuilder.forms import DynamicForm
from flask_appbuilder.security.decorators import has_access, no_cache
from flask_appbuilder.security.forms import LoginForm_db
from flask_appbuilder.security.views import (AuthDBView, ResetMyPasswordView, RoleModelView, UserDBModelView,
                                             UserGroupModelView)
from flask_appbuilder.utils.base import get_safe_redirect
from flask_appbuilder.validators import PasswordComplexityValidator
from flask_appbuilder.views import expose
from flask_babel import gettext, pgettext
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import ImmutableMultiDict
from sqlalchemy.orm import joinedload, selectinload
from wtforms import PasswordField
from wtforms.validators import DataRequired, EqualTo, ValidationError

from ..services.errors import DomainError
from ..services.users import ROLE_LABELS, check_user_scope, check_user_worker
from ..fab.export import ExportMixin
from ..fab.filters import type_searched_relations
from ..fab.interface import EagerInterface
from ..fab.lists import ListArguments
from ..fab.pickers import PickerMixin
from ..fab.rendering import readable_cells, translated
from .redirects import safe_redirect_target

SCOPE_FIELDS = ["grid", "department", "volunteer"]


def role_names(roles) -> str:
    return "、".join(str(ROLE_LABELS.get(role.name, role.name)) for role in roles or [])


def role_label(name) -> str:
    return str(ROLE_LABELS.get(name, name)) if name is not None else ""


# What a permission lets a role do, and the screen or menu entry it is on, in the user's language:
# the role editor lists some 250 of them, "can list on GridModelView" to an administrator.
PERMISSION_LABELS = {
    "can_list": _l("List"), "can_show": _l("View a record"), "can_add": _l("Add"), "can_edit": _l("Edit"),
    "can_delete": _l("Delete"), "muldelete": _l("Delete several"), "can_download": _l("Download"),
    "menu_access": _l("Menu entry"), "can_this_form_get": _l("Open the form"),
    "can_this_form_post": _l("Submit the form"), "can_userinfo": _l("Own user info"),
    "can_get": _l("Read"), "can_info": _l("Describe"),
    "can_act": _l("Handle incidents"), "can_report": _l("Report incidents"), "can_figures": _l("Read the figures"),
    "can_photo": _l("See photos"), "can_blow": _l("Blow and close whistles"),
    "can_answer": _l("Report in and submit results"), "can_declare": _l("Declare and end responses"),
    "can_check_in": _l("Check in"), "can_honour": _l("Honour roll"), "can_picture": _l("See pictures"),
    "can_redeem": _l("Redeem rewards"), "can_me": _l("My points"), "can_handle": _l("Hand over or cancel"),
    "can_award": _l("Award points"), "can_adjust": _l("Adjust points"), "can_tree": _l("Grid tree"),
    "resetmypassword": _l("Change my password"), "resetpasswords": _l("Reset passwords"),
    "userinfoedit": _l("Edit own user info"), "copyrole": _l("Copy roles"),
    "can_oversee": _l("Urge and supervise"), "can_read": _l("Read"), "can_import": _l("Import from Excel"),
    "can_export": _l("Export to Excel and CSV"),
}
VIEW_LABELS = {
    "GridModelView": _l("Grids"), "GridApi": _l("Grids (API)"), "WorkerModelView": _l("Workers"),
    "VolunteerModelView": _l("Volunteers"), "ServiceRecordModelView": _l("Service records"),
    "DepartmentModelView": _l("Departments"), "IncidentModelView": _l("Incidents"),
    "IncidentEventModelView": _l("Timeline"), "IncidentCategoryModelView": _l("Incident categories"),
    "DeadlineRuleModelView": _l("Deadlines"), "WhistleModelView": _l("Whistles"),
    "EmergencyResponseModelView": _l("Emergency responses"), "PointsView": _l("Points bank"),
    "PointsRuleModelView": _l("Points rules"), "RewardItemModelView": _l("Reward catalog"),
    "PointsAccountModelView": _l("Points accounts"), "LedgerEntryModelView": _l("Points ledger"),
    "RedemptionModelView": _l("Redemptions"), "RedemptionLineModelView": _l("Redeemed items"),
    "GridgovUserDBModelView": _l("Users"), "RoleModelView": _l("Roles"), "UserGroupModelView": _l("Groups"),
    "ResetMyPasswordView": _l("Change my password"), "ResetPasswordView": _l("Reset passwords"),
    "UserInfoEditView": _l("Edit own user info"), "PermissionModelView": _l("Permissions"),
    "ViewMenuModelView": _l("Views and menus"), "PermissionViewModelView": _l("Permissions on views and menus"),
    "List Users": _l("Users"), "List Roles": _l("Roles"), "List Groups": _l("Groups"),
    "Permission on Views/Menus": _l("Permissions on views and menus"), "Views/Menus": _l("Views and menus"),
    "Base Permissions": _l("Permissions"), "DashboardView": _l("Dashboard"), "GridMap": _l("Grid map"),
}


def _permission_parts(permission_view) -> tuple[str, str]:
    """(the screen or menu entry, what may be done there), in the user's language."""
    permissions, views = translated(PERMISSION_LABELS), translated(VIEW_LABELS)
    action = permission_view.permission.name if permission_view.permission else ""
    view = permission_view.view_menu.name if permission_view.view_menu else ""
    view_text = views.get(view) or gettext(view)  # a menu entry is named by its (translated) label
    return str(view_text), str(permissions.get(action, action))


def permission_label(permission_view) -> str:
    """"网格 · 查看列表" for ``can_list`` on GridModelView."""
    return " · ".join(_permission_parts(permission_view))


def permission_names(permissions) -> str:
    """A role's permissions grouped by screen: "网格（查看列表、查看详情）；事件（…）", "Grids (List, View a
    record); Incidents (…)"."""
    grouped: dict = {}
    for view, action in sorted(_permission_parts(p) for p in permissions or []):
        grouped.setdefault(view, []).append(action)
    between_actions, between_screens = pgettext("between items", ", "), pgettext("between groups", "; ")
    return between_screens.join(gettext("%(screen)s (%(actions)s)", screen=view, actions=between_actions.join(actions))
                                for view, actions in grouped.items())


class GridgovUserDBModelView(ExportMixin, ListArguments, PickerMixin, UserDBModelView):
    # family name (姓) before given name (名), as Chinese names are written
    list_columns = ["last_name", "first_name", "username", "email", "active", "roles", "grid", "department"]
    add_columns = ["last_name", "first_name", "username", "active", "email", "roles",
                   *SCOPE_FIELDS, "worker", "password", "conf_password"]
    edit_columns = ["last_name", "first_name", "username", "active", "email", "roles", *SCOPE_FIELDS, "worker"]
    search_columns = ["last_name", "first_name", "username", "email", "active", "roles", "grid", "department"]
    show_fieldsets = [
        (_l("User info"), {"fields": ["username", "active", "roles", "login_count"]}),
        (_l("Scope"), {"fields": [*SCOPE_FIELDS, "worker"], "expanded": True}),
        (_l("Personal Info"), {"fields": ["last_name", "first_name", "email"], "expanded": True}),
        (_l("Audit Info"), {"fields": ["last_login", "fail_login_count", "created_on", "changed_on"],
                            "expanded": False}),
    ]
    label_columns = {
        **UserDBModelView.label_columns,
        "grid": _l("Scope: grid"),
        "department": _l("Scope: department"),
        "volunteer": _l("Scope: volunteer record"),
        "worker": _l("The worker this login is"),
        "roles": _l("Role"),
    }
    description_columns = {
        **UserDBModelView.description_columns,
        "grid": _l("Dispatchers, street officers, secretaries, grid workers and leaders see this grid and everything under it."),
        "department": _l("Department officers see their department's records."),
        "volunteer": _l("A volunteer login sees only this volunteer record."),
        "worker": _l("A grid worker's login records this worker's patrols and clock-ins (巡查日志). A worker of the "
                     "login's grid."),
    }
    formatters_columns = {"roles": role_names}
    validators_columns = {"roles": [DataRequired()]}
    userinfo_template = "gridgov/user_info.html"

    def __init__(self, *args, **kwargs):
        # FAB's user list prints every user's roles and scope: load them with the page.
        model = self.datamodel.obj
        self.datamodel = EagerInterface(model)
        self.datamodel.eager_options = (selectinload(model.roles), selectinload(model.grid),
                                        selectinload(model.department), selectinload(model.groups))
        # FAB prints True/False and None: 是/否 and a blank
        columns = [*self.list_columns, *(field for _, fieldset in self.show_fieldsets for field in fieldset["fields"]),
                   *(field for _, fieldset in self.user_show_fieldsets for field in fieldset["fields"])]
        self.formatters_columns = readable_cells(self.formatters_columns, self.datamodel, columns)
        super().__init__(*args, **kwargs)

    @expose("/userinfo/")
    @has_access
    def userinfo(self):
        """FAB's page of one's own account, with a link to change one's password for every role
        (FAB shows its button only to who may reset others' passwords)."""
        item = self.datamodel.get(g.user.id, self._base_filters)
        actions = {"userinfoedit": self.actions["userinfoedit"]} if "userinfoedit" in self.actions else {}
        widgets = self._get_show_widget(g.user.id, item, actions=actions, show_fieldsets=self.user_show_fieldsets)
        self.update_redirect()
        return self.render_template(self.userinfo_template, title=self.user_info_title, widgets=widgets,
                                    appbuilder=self.appbuilder)

    def _init_properties(self):
        super()._init_properties()
        type_searched_relations(self)

    def _init_forms(self):
        super()._init_forms()
        # roles by their label in the user's language; the empty scope choice labelled
        for form in (self.add_form, self.edit_form):
            form.roles.kwargs["get_label"] = lambda role: str(ROLE_LABELS.get(role.name, role.name))
            for name in [*SCOPE_FIELDS, "worker"]:
                if hasattr(getattr(form, name), "kwargs"):
                    getattr(form, name).kwargs["blank_text"] = _l("(none)")

    def _check_scope(self, item) -> None:
        check_user_scope(
            {role.name for role in item.roles or []},
            grid=item.grid, department=item.department, volunteer=item.volunteer,
        )
        with self.datamodel.session.no_autoflush:  # the new login is not in the session yet
            check_user_worker(item.grid, item.worker)

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
    # FAB's role widgets print the permissions' English names as a Python list, unformatted
    list_widget = ListWidget
    show_widget = ShowWidget
    formatters_columns = {"name": role_label, "permissions": permission_names}

    def _init_forms(self):
        super()._init_forms()
        for form in (self.add_form, self.edit_form, self.search_form):
            if hasattr(form, "permissions"):
                form.permissions.kwargs["get_label"] = permission_label

    def __init__(self, *args, **kwargs):
        # FAB's role list prints each role's permissions: one query per role; loaded with the page.
        model = self.datamodel.obj
        self.datamodel = EagerInterface(model)
        permission_view = model.permissions.property.mapper.class_
        self.datamodel.eager_options = (selectinload(model.permissions).options(
            joinedload(permission_view.permission), joinedload(permission_view.view_menu)),)
        self.formatters_columns = readable_cells(self.formatters_columns, self.datamodel, self.list_columns)
        super().__init__(*args, **kwargs)


class GridgovGroupModelView(ListArguments, PickerMixin, UserGroupModelView):
    search_columns = ["name", "label", "roles"]
    class_permission_name = "UserGroupModelView"

    def __init__(self, *args, **kwargs):
        model = self.datamodel.obj  # a group's roles, loaded with the page
        self.datamodel = EagerInterface(model)
        self.datamodel.eager_options = (selectinload(model.roles),)
        super().__init__(*args, **kwargs)


class GridgovAuthDBView(AuthDBView):
    """FAB's login form; an attempt the login limit refuses (services/logins.py) says so, and its
    ``next=`` is held to a path of this app first: FAB's own check lets "/\\host" through, which
    browsers open as another site."""

    @expose("/login/", methods=["GET", "POST"])
    @no_cache
    def login(self):
        if "next" in request.args:
            args = request.args.copy()
            target = args["next"]
            if target.startswith(request.host_url):  # FAB's own "sign in first" links: a full URL of this app
                target = "/" + target[len(request.host_url):]
            args["next"] = safe_redirect_target(target, self.appbuilder.get_url_for_index)
            request.args = ImmutableMultiDict(args)
        if g.user is not None and g.user.is_authenticated:
            return redirect(self._get_safe_next_url())
        form = LoginForm_db()
        if form.validate_on_submit():
            next_url = get_safe_redirect(request.args.get("next", ""))
            try:
                user = self.appbuilder.sm.auth_user_db(form.username.data, form.password.data)
            except DomainError as refusal:
                flash(str(refusal), "warning")
                return redirect(self.appbuilder.get_url_for_login_with(next_url))
            if not user:
                flash(str(self.invalid_login_message), "warning")
                return redirect(self.appbuilder.get_url_for_login_with(next_url))
            self.appbuilder.sm.sign_in(user)
            return redirect(next_url)
        return self.render_template(self.login_template, title=self.title, form=form, appbuilder=self.appbuilder)


class ChangeMyPasswordForm(DynamicForm):
    """FAB's password form with the current password first: a session left open is not enough to
    take the account."""

    current_password = PasswordField(_l("Current password"), validators=[DataRequired()],
                                     widget=BS3PasswordFieldWidget())
    password = PasswordField(_l("New password"), validators=[DataRequired(), PasswordComplexityValidator()],
                             widget=BS3PasswordFieldWidget())
    conf_password = PasswordField(_l("Confirm Password"), description=_l("Please rewrite the password to confirm"),
                                  validators=[EqualTo("password", message=_l("Passwords must match"))],
                                  widget=BS3PasswordFieldWidget())

    def validate_current_password(self, field):
        try:
            matches = current_app.appbuilder.sm.own_password_matches(g.user, field.data or "")
        except DomainError as refusal:  # the login limit: this form guesses passwords too
            raise ValidationError(str(refusal)) from None
        if not matches:
            raise ValidationError(_l("The current password is wrong."))


class GridgovResetMyPasswordView(ResetMyPasswordView):
    form = ChangeMyPasswordForm
    class_permission_name = "ResetMyPasswordView"  # FAB's own name: every role's permission stays
