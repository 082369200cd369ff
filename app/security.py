"""gridgov's security manager: the scoped user model, its admin screens, and the roles.

``ROLE_PERMISSIONS`` is the one place that says what each role may do; ``sync_roles`` writes it
to FAB's permission tables (``gridgov run`` and ``gridgov sync-roles`` call it). Which rows a
role sees is decided by the user's scope (services/scope.py), not here."""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, g, has_request_context, request
from flask import session as signed_session
from flask_appbuilder.security.api import SecurityApi
from flask_appbuilder.security.sqla.manager import SecurityManager
from flask_appbuilder.security.sqla.models import (Group, Permission, PermissionView, ViewMenu,
                                                   assoc_permissionview_role)
from flask_login import login_user
from sqlalchemy import select
from werkzeug.security import check_password_hash
from sqlalchemy.orm import Session, joinedload

from .extensions import cache
from .models import GridgovUser, auth_version, reference_version
from .services import logins
from .services import scope as scope_service
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
from .views.users import (GridgovAuthDBView, GridgovGroupModelView, GridgovResetMyPasswordView,
                          GridgovRoleModelView, GridgovUserDBModelView)

# Whoever reads a list may take it out as a file (the role editor can withdraw can_export).
READ = ("can_list", "can_show", "can_export")
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
        ("can_read", "GridMap"),  # the grid map's data (app/views/maps.py)
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


def _residents(*, write: bool, sensitive: bool):
    """一户一档: who keeps the houses, households and residents of their area and records visits
    (``write``), and who is shown the sensitive tags (``sensitive``). The tags' intervals are
    the administrator's."""
    perms = WRITE if write else READ
    pairs = [("menu_access", "Residents"), ("menu_access", "Visits due")]
    pairs += _view("ResidentModelView", perms, "Residents")
    pairs += _view("HouseholdModelView", perms, "Households")
    pairs += _view("HouseModelView", perms, "Houses")
    pairs += _view("VisitModelView", perms, "Visits")
    pairs += _view("HouseholdMoveModelView", READ)
    if sensitive:
        pairs += [("can_sensitive", "ResidentModelView")]
    return pairs


def sees_sensitive_tags() -> bool:
    """Whether the signed-in user is shown the residents' sensitive tags (社区矫正, 刑满释放…) and
    what they would tell (a visit due because of one): ``can_sensitive``, given by ``_residents``."""
    from .extensions import appbuilder

    return appbuilder.sm.has_access("can_sensitive", "ResidentModelView")


def _training(*, write: bool, under: bool = True):
    """培训记录: who keeps the workers' training records (those who keep the workers), and who reads
    the list of workers under the required hours."""
    pairs = _view("TrainingRecordModelView", WRITE if write else READ, "Training records")
    if under:
        pairs += [("can_under", "TrainingRecordModelView"), ("menu_access", "Training below the required hours")]
    return pairs


def _wishes(*, post=False, act=False, claim=False):
    """微心愿: grid workers and secretaries post and move them, volunteers claim and do them, the
    street, the district and leaders read them."""
    pairs = [("menu_access", "Wishes")] + _view("MicroWishModelView", READ + ("can_photo",), "Micro-wishes")
    if post:
        pairs += [("can_post", "MicroWishModelView"), ("menu_access", "Post a micro-wish")]
    if act or claim:
        pairs += [("can_act", "MicroWishModelView")]
    if claim:
        pairs += [("can_mine", "MicroWishModelView"), ("menu_access", "Wishes to claim")]
    return pairs


def _departments(write: bool):
    return _view("DepartmentModelView", WRITE if write else READ, "Departments") + [
        ("menu_access", "Territory")
    ]


def _bank(*, rules_write=False, items_write=False, handle=False, award=False, ledgers=True, redeem=False,
          me=False):
    """The points bank: what a role reads, writes and may do at the counter."""
    pairs = [("menu_access", "Points bank"), ("can_honour", "PointsView"), ("menu_access", "Honour roll")]
    pairs += _view("PointsRuleModelView", WRITE if rules_write else READ, "Points rules")
    pairs += _view("WorkerPointsRuleModelView", WRITE if rules_write else READ, "Workers' points rules")
    pairs += _view("RewardItemModelView", WRITE if items_write else READ, "Reward catalog")
    pairs += [("can_picture", "PointsView")]
    if ledgers:
        pairs += _view("PointsAccountModelView", READ, "Points accounts")
        pairs += _view("LedgerEntryModelView", READ, "Points ledger")
        pairs += _view("RedemptionModelView", READ, "Redemptions")
        pairs += _view("RedemptionLineModelView", READ)
    if handle:
        pairs += [("can_handle", "RedemptionModelView")]
    if award:
        pairs += [("can_award", "ServiceRecordModelView")]
    if redeem:
        pairs += [("can_redeem", "PointsView")]
    if award:  # who awards also corrects, with a compensating entry
        pairs += [("can_adjust", "PointsView")]
    if me:
        pairs += [("can_me", "PointsView"), ("menu_access", "My points"), ("menu_access", "Redeem rewards")]
    return pairs


def _incidents(*, act=True, report=True, configure=False, whistles=True, blow=False, answer=False,
               emergencies=True, declare=False, check_in=False, oversee=False):
    """The incident loop: who reads, acts and reports; who blows and answers whistles; who
    configures categories and deadlines."""
    pairs = [("menu_access", "Incidents")]
    if whistles:
        pairs += _view("WhistleModelView", READ, "Whistles")
    if blow:
        pairs += [("can_blow", "WhistleModelView")]
    if answer:
        pairs += [("can_answer", "WhistleModelView")]
    if emergencies:
        pairs += _view("EmergencyResponseModelView", READ, "Emergency responses")
    if declare:
        pairs += [("can_declare", "EmergencyResponseModelView"), ("menu_access", "Declare a response")]
    if check_in:
        pairs += [("can_check_in", "EmergencyResponseModelView"), ("menu_access", "Emergency tasks")]
    pairs += _view("IncidentModelView", READ + ("can_photo",), "Incidents")
    if whistles:  # staff, leaders and departments read the figures; volunteers do not
        pairs += [("can_figures", "IncidentModelView")]
    pairs += _view("IncidentEventModelView", READ)
    if act:
        pairs += [("can_act", "IncidentModelView")]
    if oversee:  # 催办 and 督办 of the incidents below them
        pairs += [("can_oversee", "IncidentModelView")]
    if report:
        pairs += [("can_report", "IncidentModelView"), ("menu_access", "Report an incident")]
    if configure:
        pairs += _view("IncidentCategoryModelView", WRITE, "Incident categories")
        pairs += _view("DeadlineRuleModelView", WRITE, "Deadlines")
    return pairs


def _patrols(*, patrol=False, lead=False, rules=False):
    """巡查日志: who patrols and clocks in (their own patrols), who leads an area's patrols (its
    workers' patrols and tracks, and who fell short of the rule), who keeps the districts' rules."""
    pairs = [("menu_access", "Patrols")] + _view("PatrolModelView", READ, "Patrol log")
    if patrol:
        pairs += [("can_patrol", "PatrolModelView"), ("menu_access", "Patrol")]
    if lead:
        pairs += [("can_lead", "PatrolModelView"), ("menu_access", "Patrol compliance")]
    if rules:
        pairs += _view("PatrolRuleModelView", WRITE, "Patrol rules")
    return pairs


def _assessment(*, rank=False, adjust=False, mine=False):
    """考核: who reads their area's rankings and year (``rank``), who corrects a frozen score
    (``adjust``: the street and the district), who reads their own scores (``mine``: grid workers).
    The weights are the administrator's."""
    pairs = [("can_read", "AssessmentView"), ("menu_access", "Assessment")]
    if rank:
        pairs += [("can_rank", "AssessmentView"), ("menu_access", "Assessment scores"),
                  ("menu_access", "Assessment year summary")]
    if adjust:
        pairs += [("can_adjust", "AssessmentView")]
    if mine:
        pairs += [("menu_access", "My assessment")]
    return pairs


def _imports(*views):
    """台账导入: the lists whose records the role may bring in from Excel (it may add and edit them)."""
    return [("can_import", view) for view in views]


# The menu: each category and its entries (app/views/__init__.py registers them; a test holds
# the two the same).
MENU = {
    "Territory": ("Grids", "Grid tree", "Departments"),
    "People": ("Workers", "Volunteers", "Service records", "Training records", "Training below the required hours"),
    "Wishes": ("Micro-wishes", "Post a micro-wish", "Wishes to claim"),
    "Incidents": ("Incidents", "Report an incident", "Whistles", "Emergency responses", "Declare a response",
                  "Emergency tasks",
                  "Incident categories", "Deadlines"),
    "Points bank": ("My points", "Redeem rewards", "Honour roll", "Reward catalog", "Redemptions",
                    "Points accounts", "Points ledger", "Points rules", "Workers' points rules"),
    "Residents": ("Residents", "Visits due", "Visits", "Households", "Houses", "Care and attention tags"),
    "Patrols": ("Patrol", "Patrol log", "Patrol compliance", "Patrol rules"),
    "Audit": ("Audit trail", "Personal data access"),
    "Assessment": ("Assessment scores", "Assessment year summary", "My assessment", "Assessment weights"),
}


def _menu_without(pairs, *entries):
    """``pairs`` less the menu entries that give the role nothing (the pages stay reachable from
    the workflows that need them), and less a category left without entries."""
    pairs = [pair for pair in pairs if not (pair[0] == "menu_access" and pair[1] in entries)]
    shown = {view for permission, view in pairs if permission == "menu_access"}
    return [pair for pair in pairs if not (pair[0] == "menu_access" and pair[1] in MENU
                                           and not shown.intersection(MENU[pair[1]]))]


# What the menu leaves out, per role: lists that are empty in the role's scope (a grid worker's
# block has no volunteers, no service records, no ledger; a department's scope has no grids or
# people), the points bank's counter for whoever does not keep it, and what another entry already
# shows (a volunteer's Redeem rewards is the catalog).
HIDDEN_MENUS = {
    GRID_WORKER: ("Grid tree", "Departments", "Volunteers", "Service records", "Whistles", "Emergency responses",
                  "Reward catalog", "Redemptions", "Points accounts", "Points ledger", "Points rules",
                  "Workers' points rules"),
    DEPARTMENT_OFFICER: ("Grids", "Grid tree", "Workers", "Volunteers", "Service records", "Honour roll",
                         "Reward catalog", "Points rules", "Workers' points rules"),
    VOLUNTEER: ("Reward catalog", "Micro-wishes", "Workers' points rules"),
    LEADER: ("Reward catalog", "Redemptions", "Points accounts", "Points ledger", "Points rules",
             "Workers' points rules"),
}
# The administrator holds every permission but has no points account and no grid to check in.
ADMIN_HIDDEN_MENUS = ("My points", "Redeem rewards", "Emergency tasks", "Wishes to claim", "Patrol",
                      "My assessment")

# The audit trail (审计日志) of the user's area, in the Audit menu: secretaries, street officers and
# dispatch centres, who change the base records. The access log is the administrator's alone.
AUDIT = _view("AuditEntryModelView", READ, "Audit trail") + [("menu_access", "Audit")]

# The dashboard (一屏知全域) of the user's area: leaders, dispatch centres and street officers.
DASHBOARD = [("can_show", "DashboardView"), ("menu_access", "Dashboard")]

ROLE_PERMISSIONS = {
    DISPATCHER: _grids(False) + _people(READ, READ, READ) + _departments(True) + _bank(rules_write=True, items_write=True)
    + _incidents(configure=True, blow=True, declare=True, oversee=True) + DASHBOARD + AUDIT
    + _residents(write=False, sensitive=False) + _imports("DepartmentModelView")
    + _training(write=False) + _wishes() + _patrols(lead=True, rules=True) + _assessment(rank=True, adjust=True),
    STREET_OFFICER: _grids(True) + _people(WRITE, READ, READ) + _departments(False) + _bank(handle=True)
    + _incidents(blow=True, check_in=True, oversee=True) + DASHBOARD + AUDIT
    + _residents(write=False, sensitive=True) + _imports("GridModelView", "WorkerModelView")
    + _training(write=True) + _wishes() + _patrols(lead=True) + _assessment(rank=True, adjust=True),
    SECRETARY: _grids(True) + _people(WRITE, WRITE, WRITE) + _departments(False)
    + _bank(rules_write=True, items_write=True, handle=True, award=True, redeem=True)
    + _incidents(check_in=True, oversee=True) + AUDIT + _residents(write=True, sensitive=True)
    + _imports("GridModelView", "WorkerModelView", "VolunteerModelView", "ServiceRecordModelView")
    + _imports("HouseModelView", "HouseholdModelView", "ResidentModelView")
    + _training(write=True) + _wishes(post=True, act=True) + _patrols(lead=True) + _assessment(rank=True),
    # a worker's points are their own (my points, redeem): no one else's account or ledger
    GRID_WORKER: _grids(False) + _people(READ, READ, READ) + _departments(False)
    + _bank(ledgers=False, redeem=True, me=True) + _incidents(check_in=True)
    + _residents(write=True, sensitive=False)
    + _imports("HouseModelView", "HouseholdModelView", "ResidentModelView")
    + _training(write=False, under=False) + _wishes(post=True, act=True) + _patrols(patrol=True)
    + _assessment(mine=True),
    DEPARTMENT_OFFICER: _grids(False) + _people(READ, READ, READ) + _departments(False) + _bank(ledgers=False)
    + _incidents(report=False, answer=True, emergencies=False) + _assessment(rank=True),
    # Volunteers read their own record; their points and redemptions have their own screens; they
    # report incidents (随手拍) and rate the ones they reported.
    VOLUNTEER: _people(None, READ, READ) + _bank(ledgers=False, redeem=True, me=True) + _incidents(whistles=False, emergencies=False)
    + _wishes(claim=True),
    LEADER: _grids(False) + _people(READ, READ, READ) + _departments(False) + _bank()
    + _incidents(act=False, report=False, oversee=True) + DASHBOARD + _residents(write=False, sensitive=False)
    + _training(write=False) + _wishes() + _patrols(lead=True) + _assessment(rank=True),
}
ROLE_PERMISSIONS = {role: _menu_without(pairs, *HIDDEN_MENUS.get(role, ())) for role, pairs in ROLE_PERMISSIONS.items()}
ROLES = [ADMIN, *ROLE_PERMISSIONS]


@dataclass(frozen=True)
class SignedIn:
    """What every request needs to know about its user, kept between requests: the account with
    its roles and groups (detached: each request works on its own copy), the (permission, view)
    pairs of those roles and the user's scope."""

    user: GridgovUser
    permissions: frozenset[tuple[str, str]]
    scope: scope_service.Scope


# The signed-in users seen since ``auth_version`` last moved (past this many the least recently
# seen are read again when they return), and the permissions of each set of roles.
_SIGNED_IN = cache.region("signed-in users", 5000, follows=("auth",))
_PERMISSIONS = cache.region("permissions of roles", 1000, follows=("auth",))

# The signed session's copy of ab_user.session_version, written at login (migration 0019).
SESSION_VERSION = "gridgov_session_version"

# What every signed-in request reads first (made once, not on each request).
_VERSIONS = select(select(auth_version.c.version).scalar_subquery(),
                   select(reference_version.c.version).scalar_subquery())


class SignedInOnlyApi(SecurityApi):
    """FAB's token API (``/api/v1/security/login``, ``/refresh``) registered with no routes: the
    API is used with the login session, whose sign-in goes through the login limit and the session
    version; a token issued beside them would skip both."""

    include_route_methods: set = set()


class GridgovSecurityManager(SecurityManager):
    user_model = GridgovUser
    userdbmodelview = GridgovUserDBModelView
    rolemodelview = GridgovRoleModelView
    groupmodelview = GridgovGroupModelView
    authdbview = GridgovAuthDBView
    resetmypasswordview = GridgovResetMyPasswordView
    security_api = SignedInOnlyApi
    # FAB's user statistics chart loads Google Charts from the internet: not on an intranet.
    userstatschartview = None

    def get_user_by_id(self, pk):
        """A user with roles and groups in the same query."""
        return self._get_user(self.session, pk)

    def _get_user(self, session, pk):
        return session.get(self.user_model, pk, options=[
            joinedload(self.user_model.roles), joinedload(self.user_model.groups).joinedload(Group.roles)])

    def load_user(self, pk):
        """The signed-in user of a request. The account, its permissions and its scope are read
        once and kept until ``auth_version`` moves (any change to accounts, roles, permissions or a
        grid's path, in any process: migration 0009); a request then costs one small query."""
        if not has_request_context():
            return super().load_user(pk)
        signed_in = self.signed_in(int(pk))
        if signed_in is None or not signed_in.user.is_active:
            return None
        # a session from before a logout or a password change: signed out, in every process
        if signed_session.get(SESSION_VERSION) != signed_in.user.session_version:
            return None
        cache.keep_in_request("signed in", signed_in)
        return self.session.merge(signed_in.user, load=False)

    # --- signing in and out ---------------------------------------------------------------------

    @property
    def is_auth_limited(self) -> bool:
        """Flask-Limiter's per-address limit on the login form only where its counts are shared
        (GRIDGOV_RATELIMIT_STORAGE_URI): in one process's memory each worker counted alone, and
        it refused every account of an office behind one address. The database's limit
        (services/logins.py) holds either way."""
        config = current_app.config
        shared = not str(config.get("RATELIMIT_STORAGE_URI") or "memory://").startswith("memory://")
        return bool(config["AUTH_RATE_LIMITED"]) and shared

    def auth_user_db(self, username, password):
        """FAB's password check behind the login limit: an attempt past it raises
        ``LoginPaused`` without the password being looked at."""
        if not username or not has_request_context():
            return super().auth_user_db(username, password)
        limits = logins.LoginLimits.from_config(current_app.config)
        attempt = logins.take_turn(self.session, username, request.remote_addr, limits)
        if not attempt.allowed:
            logins.settle(self.session, attempt, False, limits)
            raise logins.refusal(attempt, limits)
        user = super().auth_user_db(username, password)
        logins.settle(self.session, attempt, user is not None, limits)
        return user

    def own_password_matches(self, user, password: str) -> bool:
        """Whether ``password`` is the signed-in ``user``'s own (the change-password form), checked
        behind the same login limit as signing in: a session left open does not let anyone guess
        the password without limit."""
        limits = logins.LoginLimits.from_config(current_app.config)
        attempt = logins.take_turn(self.session, user.username, request.remote_addr, limits)
        if not attempt.allowed:
            logins.settle(self.session, attempt, False, limits)
            raise logins.refusal(attempt, limits)
        stored = self.session.scalar(select(self.user_model.password).where(self.user_model.id == user.id))
        matches = bool(stored) and check_password_hash(stored, password)
        logins.settle(self.session, attempt, matches, limits)
        return matches

    def sign_in(self, user) -> None:
        """Start the user's session, holding the account's session number."""
        login_user(user, remember=False)
        signed_session[SESSION_VERSION] = user.session_version

    def end_sessions(self, user_id: int) -> None:
        logins.end_sessions(self.session, user_id)

    def on_user_logout(self, user) -> None:
        self.end_sessions(user.id)

    def reset_password(self, userid, password):
        """FAB's password change; the trigger of migration 0019 ends the user's sessions. Who
        changed their own password stays signed in in the session they changed it from."""
        super().reset_password(userid, password)
        if has_request_context() and getattr(g.get("user"), "id", None) == int(userid):
            model = self.user_model
            signed_session[SESSION_VERSION] = self.session.scalar(
                select(model.session_version).where(model.id == int(userid)))

    # --- the signed-in user ---------------------------------------------------------------------

    def signed_in(self, pk: int) -> SignedIn | None:
        """The user ``pk`` as every request needs it, kept until ``auth_version`` moves."""
        version, reference = self.session.execute(_VERSIONS).one()
        # the numbers the request's other kept things (a search form's drop-downs) go by
        cache.set_versions(version, reference)
        return cache.get_at(_SIGNED_IN, (version,), pk, lambda: self._read_signed_in(pk, version))

    def _read_signed_in(self, pk: int, version: int) -> SignedIn | None:
        # Read in a session of its own, closed before use: the kept objects belong to no
        # request. Read after the version, so they are at least as new as the number says.
        with Session(self.session.get_bind()) as session:
            user = self._get_user(session, pk)
            if user is None:
                return None
            role_ids = frozenset(role.id for role in self.get_user_roles(user))
            permissions = cache.get_at(_PERMISSIONS, (version,), role_ids,
                                       lambda: frozenset(self._permission_pairs(user, session)))
            return SignedIn(user, permissions, scope_service.scope_for_user(session, user))

    def has_access(self, permission_name: str, view_name: str) -> bool:
        """FAB's answer, kept for the rest of the request per signed-in user: a list page asks
        about a hundred times (menu entries, buttons, and each masked cell asks whether the user
        manages the rows), and each of FAB's answers walks Flask-Login's proxies first. The user
        is Flask-Login's own object (``g._login_user``), read without the proxies."""
        user = g.get("_login_user") if has_request_context() else None
        if user is None or not user.is_authenticated or g.get("_api_key_user"):
            return super().has_access(permission_name, view_name)
        memo = g.get("gridgov_access")
        if memo is None or memo[0] is not user:  # first question, or another user signed in since
            memo = g.gridgov_access = (user, {})
        answers = memo[1]
        key = (permission_name, view_name)
        if key not in answers:
            answers[key] = super().has_access(permission_name, view_name)
        return answers[key]

    def _has_view_access(self, user, permission_name, view_name):
        """Answer from the user's whole permission set, read once per request: a page asks
        dozens of questions (every menu entry and button), FAB would run a query for each."""
        if not has_request_context() or self.builtin_roles:
            return super()._has_view_access(user, permission_name, view_name)
        return (permission_name, view_name) in self.permission_set(user)

    def permission_set(self, user) -> set[tuple[str, str]] | frozenset[tuple[str, str]]:
        """The user's (permission, view) pairs: the signed-in user's from ``load_user``, another
        user's read once per request."""
        signed_in = cache.in_request("signed in")
        if signed_in is not None and signed_in.user.id == getattr(user, "id", None):
            return signed_in.permissions
        return cache.per_request(("permissions", getattr(user, "id", None)), lambda: self._permission_pairs(user))

    def _permission_pairs(self, user, session=None) -> set[tuple[str, str]]:
        """The user's (permission, view) pairs in one query of names: FAB's get_user_permissions
        builds an ORM object per pair and role, a third of a list page's time."""
        role_ids = [role.id for role in self.get_user_roles(user)]
        if not role_ids:
            return set()
        pairs = (select(Permission.name, ViewMenu.name)
                 .join(PermissionView, PermissionView.permission_id == Permission.id)
                 .join(ViewMenu, ViewMenu.id == PermissionView.view_menu_id)
                 .join(assoc_permissionview_role, assoc_permissionview_role.c.permission_view_id == PermissionView.id)
                 .where(assoc_permissionview_role.c.role_id.in_(role_ids)))
        return set((session or self.session).execute(pairs).tuples())

    def sync_roles(self) -> None:
        """Create every view's permissions, then the roles with exactly the permissions of
        ROLE_PERMISSIONS. The Admin role holds every permission (less a few menu entries)."""
        admin = self.add_role(ADMIN)
        self.add_role(self.auth_role_public)
        self.appbuilder.add_permissions(update_perms=True)
        all_pvms = self.session.query(self.permissionview_model).all()
        admin.permissions = [pvm for pvm in all_pvms if not (pvm.permission.name == "menu_access"
                                                             and pvm.view_menu.name in ADMIN_HIDDEN_MENUS)]
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
