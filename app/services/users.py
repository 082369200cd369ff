"""Logins: the roles gridgov defines, the scope each role needs, and the first administrator."""
from __future__ import annotations

import secrets
import string

from flask_babel import lazy_gettext as _l

from .errors import ValidationError

ADMIN = "Admin"
DISPATCHER = "District dispatcher"
STREET_OFFICER = "Street officer"
SECRETARY = "Community secretary"
GRID_WORKER = "Grid worker"
DEPARTMENT_OFFICER = "Department officer"
VOLUNTEER = "Volunteer"
LEADER = "Leader"

ROLE_LABELS = {
    ADMIN: _l("Administrator"),
    DISPATCHER: _l("District dispatcher"),
    STREET_OFFICER: _l("Street officer"),
    SECRETARY: _l("Community secretary"),
    GRID_WORKER: _l("Grid worker"),
    DEPARTMENT_OFFICER: _l("Department officer"),
    VOLUNTEER: _l("Volunteer"),
    LEADER: _l("Leader (read-only)"),
}

# role -> (scope kind, grid levels allowed when the scope is a grid)
ROLE_SCOPES = {
    DISPATCHER: ("grid", {"district"}),
    STREET_OFFICER: ("grid", {"street"}),
    SECRETARY: ("grid", {"community"}),
    GRID_WORKER: ("grid", {"community", "block", "building"}),
    DEPARTMENT_OFFICER: ("department", None),
    VOLUNTEER: ("volunteer", None),
    LEADER: ("grid", {"district", "street", "community", "block", "building"}),
}

SCOPE_MESSAGES = {
    DISPATCHER: _l("A district dispatcher needs a district grid as scope."),
    STREET_OFFICER: _l("A street officer needs a street grid as scope."),
    SECRETARY: _l("A community secretary needs a community grid as scope."),
    GRID_WORKER: _l("A grid worker needs a community, block or building grid as scope."),
    DEPARTMENT_OFFICER: _l("A department officer needs a department as scope."),
    VOLUNTEER: _l("A volunteer login needs its volunteer record as scope."),
    LEADER: _l("A leader needs a grid as scope."),
}


def check_user_scope(role_names: set[str], grid=None, department=None, volunteer=None) -> None:
    """Every role of the user must accept the one scope given. Raises ``ValidationError``."""
    given = [kind for kind, value in (("grid", grid), ("department", department), ("volunteer", volunteer)) if value is not None]
    if len(given) > 1:
        raise ValidationError(_l("A login has one scope: a grid, a department or a volunteer."), field="grid")
    if not role_names:
        raise ValidationError(_l("Choose at least one role."), field="roles")
    if ADMIN in role_names:
        return
    for role in sorted(role_names):
        if role not in ROLE_SCOPES:
            continue
        kind, levels = ROLE_SCOPES[role]
        ok = given == [kind] and (levels is None or grid.level in levels)
        if not ok:
            raise ValidationError(SCOPE_MESSAGES[role], field=kind)


def check_user_worker(grid=None, worker=None) -> None:
    """The worker a login is (whose patrols and clock-ins it records) works inside the login's grid."""
    from .scope import is_under

    if worker is None:
        return
    if grid is None or worker.grid is None or not is_under(worker.grid.path, grid.path):
        raise ValidationError(_l("Choose a worker of the login's own grid."), field="worker")


def generate_password(length: int = 16) -> str:
    """A random password that passes FAB's complexity rule (2 upper, 2 digits, 1 special…)."""
    alphabet = string.ascii_letters + string.digits
    core = [secrets.choice(alphabet) for _ in range(length - 8)]
    core += [secrets.choice(string.ascii_uppercase) for _ in range(2)]
    core += [secrets.choice(string.digits) for _ in range(2)]
    core += [secrets.choice(string.ascii_lowercase) for _ in range(3)]
    core += [secrets.choice("!@#%^*-_=+")]
    secrets.SystemRandom().shuffle(core)
    return "".join(core)
