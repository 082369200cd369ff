"""gridgov's security manager: the scoped user model, its admin screens, and the roles.

``ROLE_PERMISSIONS`` is the one place that says what each role may do; ``sync_roles`` writes it
to FAB's permission tables (``gridgov run`` and ``gridgov sync-roles`` call it). Which rows a
role sees is decided by the user's scope (services/scope.py), not here."""
from __future__ import annotations

from flask_appbuilder.security.sqla.manager import SecurityManager

from .models import GridgovUser
from .services.users import (
    ADMIN,
    DEPARTMENT_OFFICER,
    DISPATCHER,
    GRID_WORKER,
    LEADER,
    SECRETARY,
    STREET_OFFICER,
    VOLUNTEER,
)
from .views.users import GridgovUserDBModelView

READ = ("can_list", "can_show")
WRITE = READ + ("can_add", "can_edit", "can_delete")

# What every login may do with its own account.
SELF_SERVICE = [
    ("can_userinfo", "GridgovUserDBModelView"),
    ("can_this_form_get", "ResetMyPasswordView"),
    ("can_this_form_post", "ResetMyPasswordView"),
    ("can_this_form_get", "UserInfoEditView"),
    ("can_this_form_post", "UserInfoEditView"),
]


def _view(view: str, permissions, menu: str | None = None):
    pairs = [(perm, view) for perm in permissions]
    if menu:
        pairs.append(("menu_access", menu))
    return pairs


def _grids(write: bool):
    return _view("GridModelView", (WRITE if write else READ) + ("can_tree",), "Grids") + [
        ("menu_access", "Grid tree"),
        ("menu_access", "Territory"),
        ("can_get", "GridApi"),
        ("can_info", "GridApi"),
    ]


def _people(worker_perms, volunteer_perms, record_perms):
    pairs = []
    if worker_perms:
        pairs += _view("WorkerModelView", worker_perms, "Workers")
    if volunteer_perms:
        pairs += _view("VolunteerModelView", volunteer_perms, "Volunteers")
    if record_perms:
        pairs += _view("ServiceRecordModelView", record_perms, "Service records")
    return pairs + [("menu_access", "People")]


def _departments(write: bool):
    return _view("DepartmentModelView", WRITE if write else READ, "Departments") + [
        ("menu_access", "Territory")
    ]


ROLE_PERMISSIONS = {
    DISPATCHER: _grids(False) + _people(READ, READ, READ) + _departments(True),
    STREET_OFFICER: _grids(True) + _people(WRITE, READ, READ) + _departments(False),
    SECRETARY: _grids(True) + _people(WRITE, WRITE, WRITE) + _departments(False),
    GRID_WORKER: _grids(False) + _people(READ, READ, READ) + _departments(False),
    DEPARTMENT_OFFICER: _grids(False) + _people(READ, READ, READ) + _departments(False),
    # Volunteers read their own record here; self-service (points, redemptions) has its own screens.
    VOLUNTEER: _people(None, READ, READ),
    LEADER: _grids(False) + _people(READ, READ, READ) + _departments(False),
}
ROLES = [ADMIN, *ROLE_PERMISSIONS]


class GridgovSecurityManager(SecurityManager):
    user_model = GridgovUser
    userdbmodelview = GridgovUserDBModelView
    # FAB's user statistics chart loads Google Charts from the internet: not on an intranet.
    userstatschartview = None

    def sync_roles(self) -> None:
        """Create every view's permissions, then the roles with exactly the permissions of
        ROLE_PERMISSIONS. The Admin role holds every permission."""
        admin = self.add_role(ADMIN)
        self.add_role(self.auth_role_public)
        self.appbuilder.add_permissions(update_perms=True)
        all_pvms = self.session.query(self.permissionview_model).all()
        admin.permissions = all_pvms
        for name, pairs in ROLE_PERMISSIONS.items():
            role = self.find_role(name) or self.add_role(name)
            wanted = []
            missing = []
            for permission, view in pairs + SELF_SERVICE:
                pvm = self.find_permission_view_menu(permission, view)
                if pvm is None:
                    missing.append(f"{permission} on {view}")
                elif pvm not in wanted:
                    wanted.append(pvm)
            if missing:
                raise RuntimeError(f"role {name!r} names unknown permissions: {', '.join(missing)}")
            role.permissions = wanted
        self.session.commit()
