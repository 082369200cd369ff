"""Who may see which rows: one mechanism for every list, form, action and API.

A user's scope is a grid (its whole subtree), a department, or one volunteer record;
administrators see everything, a user with no scope sees nothing. ``visible(scope, Model)``
gives the SQL condition that selects the rows of ``Model`` the scope may see; every view
and endpoint applies it through ``app.fab.filters.ScopeFilter``."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from sqlalchemy import and_, any_, exists, false, func, or_, select, true, union_all
from sqlalchemy.orm import Session, aliased
from sqlalchemy_utils import Ltree

from ..models import (
    AttentionTag,
    AuditEntry,
    Department,
    EmergencyResponse,
    Grid,
    GridgovUser,
    House,
    Household,
    HouseholdMove,
    Incident,
    IncidentCategory,
    IncidentEvent,
    DeadlineRule,
    LedgerEntry,
    MicroWish,
    PointsAccount,
    PatrolRule,
    PointsRule,
    Redemption,
    RedemptionLine,
    Resident,
    ResponseTask,
    RewardItem,
    ServiceRecord,
    StockMovement,
    TrainingRecord,
    Visit,
    Volunteer,
    Whistle,
    WhistleSummons,
    whistle_incidents,
    Worker,
    WorkerPointsRule,
    department_communities,
    incident_scopes,
)
from .errors import OutOfScope
from .typed import as_key

ADMIN_ROLE = "Admin"


@dataclass(frozen=True)
class Scope:
    """What one user may see. ``kind`` is all, grid, department, volunteer or none."""

    kind: str
    grid_id: int | None = None
    grid_path: str | None = None
    department_id: int | None = None
    volunteer_id: int | None = None

    @property
    def is_all(self) -> bool:
        return self.kind == "all"


NOTHING = Scope("none")
EVERYTHING = Scope("all")


def scope_for_user(session: Session, user) -> Scope:
    """The scope of a logged-in user (a ``GridgovUser``); anonymous users see nothing."""
    if user is None or not getattr(user, "id", None):
        return NOTHING
    if any(role.name == ADMIN_ROLE for role in user.roles):
        return EVERYTHING
    if user.grid_id is not None:
        path = session.scalar(select(Grid.path).where(Grid.id == user.grid_id))
        return Scope("grid", grid_id=user.grid_id, grid_path=str(path))
    if user.department_id is not None:
        return Scope("department", department_id=user.department_id)
    if user.volunteer_id is not None:
        return Scope("volunteer", volunteer_id=user.volunteer_id)
    return NOTHING


def grid_scope(session: Session, grid_id: int) -> Scope:
    """The scope of a grid's subtree (used by services and tests)."""
    path = session.scalar(select(Grid.path).where(Grid.id == grid_id))
    return Scope("grid", grid_id=grid_id, grid_path=str(path))


def _subtree(grid_path: str):
    return Grid.path.descendant_of(Ltree(grid_path))


def _grids_in_subtree(grid_path: str):
    return select(Grid.id).where(_subtree(grid_path))


def _served_communities(department_id: int):
    return select(department_communities.c.grid_id).where(
        department_communities.c.department_id == department_id
    )


def _grid_rule(scope: Scope):
    if scope.kind == "grid":
        return _subtree(scope.grid_path)
    if scope.kind == "department":
        # A department sees the communities it is paired with and everything under them.
        community = aliased(Grid)
        return exists(
            select(community.id).where(
                community.id.in_(_served_communities(scope.department_id)),
                Grid.path.descendant_of(community.path),
            )
        )
    return false()


def _worker_rule(scope: Scope):
    if scope.kind == "grid":
        return Worker.grid_id.in_(_grids_in_subtree(scope.grid_path))
    if scope.kind == "department":
        return Worker.department_id == scope.department_id
    return false()


def _volunteer_rule(scope: Scope):
    if scope.kind == "grid":
        return Volunteer.community_id.in_(_grids_in_subtree(scope.grid_path))
    if scope.kind == "department":
        return Volunteer.unit_id == scope.department_id
    if scope.kind == "volunteer":
        return Volunteer.id == scope.volunteer_id
    return false()


def _service_record_rule(scope: Scope):
    if scope.kind == "volunteer":
        return ServiceRecord.volunteer_id == scope.volunteer_id
    return ServiceRecord.volunteer_id.in_(select(Volunteer.id).where(_volunteer_rule(scope)))


def _department_rule(scope: Scope):
    if scope.kind == "department":
        return Department.id == scope.department_id
    if scope.kind == "grid":
        # District-wide departments (paired with no community) and those paired with a
        # community inside the scope, or with the community the scope lies in.
        dc = department_communities
        paired = exists(select(dc.c.grid_id).where(dc.c.department_id == Department.id))
        community = aliased(Grid)
        overlapping = exists(
            select(dc.c.grid_id)
            .join(community, community.id == dc.c.grid_id)
            .where(
                dc.c.department_id == Department.id,
                or_(
                    community.path.descendant_of(Ltree(scope.grid_path)),
                    community.path.ancestor_of(Ltree(scope.grid_path)),
                ),
            )
        )
        return or_(~paired, overlapping)
    return false()


def _account_rule(scope: Scope):
    if scope.kind == "volunteer":
        return PointsAccount.volunteer_id == scope.volunteer_id
    if scope.kind == "grid":
        return PointsAccount.grid_id.in_(_grids_in_subtree(scope.grid_path))
    return PointsAccount.id.in_(_accounts(scope))


def _accounts(scope: Scope):
    """The ids of the accounts whose volunteer or worker the scope sees. A grid scope reads them
    by the holder's grid kept on the account (its index ``(grid_id, balance, id)``); a department
    through its holders: two joins through their unique keys, not an OR of two IN lists (which
    made PostgreSQL read every account, and every ledger entry newest first)."""
    if scope.kind == "volunteer":
        return select(PointsAccount.id).where(PointsAccount.volunteer_id == scope.volunteer_id)
    if scope.kind == "grid":
        return select(PointsAccount.id).where(_account_rule(scope))
    return union_all(
        select(PointsAccount.id).join(Volunteer, Volunteer.id == PointsAccount.volunteer_id)
        .where(_volunteer_rule(scope)),
        select(PointsAccount.id).join(Worker, Worker.id == PointsAccount.worker_id).where(_worker_rule(scope)),
    )


def accounts_seen(scope: Scope):
    """A SELECT of the ids of the points accounts ``scope`` sees (their holder is seen)."""
    if scope.kind in ("all", "none"):
        return select(PointsAccount.id).where(visible(scope, PointsAccount))
    return _accounts(scope)


def _ledger_rule(scope: Scope):
    return LedgerEntry.account_id.in_(_accounts(scope))


def _redemption_rule(scope: Scope):
    return Redemption.account_id.in_(_accounts(scope))


def _redemption_line_rule(scope: Scope):
    return RedemptionLine.redemption_id.in_(select(Redemption.id).where(_redemption_rule(scope)))


def _district_or_community(scope: Scope, community_id):
    """Rows of the whole district (``community_id`` empty) or of a community the scope reaches:
    the communities inside a grid scope and the one a block or building scope lies in, a
    volunteer's home community. Reward items and points rules are offered this way."""
    district_wide = community_id.is_(None)
    if scope.kind == "grid":
        community = aliased(Grid)
        return or_(
            district_wide,
            community_id.in_(
                select(community.id).where(
                    community.level == "community",
                    or_(community.path.descendant_of(Ltree(scope.grid_path)),
                        community.path.ancestor_of(Ltree(scope.grid_path))),
                )
            ),
        )
    if scope.kind == "volunteer":
        return or_(
            district_wide,
            community_id == select(Volunteer.community_id).where(Volunteer.id == scope.volunteer_id).scalar_subquery(),
        )
    return district_wide


def _reward_item_rule(scope: Scope):
    return _district_or_community(scope, RewardItem.community_id)


def _points_rule_rule(scope: Scope):
    return _district_or_community(scope, PointsRule.community_id)


def _stock_movement_rule(scope: Scope):
    return StockMovement.item_id.in_(select(RewardItem.id).where(_reward_item_rule(scope)))


def _summoned_select(department_id: int):
    """The ids of the incidents of the whistles that summoned the department (a SELECT)."""
    return (select(whistle_incidents.c.incident_id)
            .join(WhistleSummons, WhistleSummons.whistle_id == whistle_incidents.c.whistle_id)
            .where(WhistleSummons.department_id == department_id))


def _summoned_incidents(department_id: int):
    """The same ids as one array, read once (an InitPlan; empty when no whistle summoned it):
    ``id = ANY(array)`` is an index condition, so PostgreSQL reads the department's incidents
    through two indexes at once (a BitmapOr). Written ``id IN (subquery)`` beside
    ``department_id = d``, the OR made it read every incident."""
    return func.array(_summoned_select(department_id).scalar_subquery())


def department_incidents(department_id: int):
    """The ids of the incidents a department sees (it holds them, or a whistle over them summoned
    it), each once, from two indexes alone: a department's list counts and pages these without
    reading the incidents' rows."""
    held = select(Incident.id.label("id")).where(Incident.department_id == department_id)
    return held.union(_summoned_select(department_id)).subquery()


def _incident_rule(scope: Scope):
    if scope.kind == "grid":
        # Seen by the scopes of its grid's ancestors and by whoever holds it now: the database
        # keeps both sets of grids in one GIN-indexed array (migration 0006).
        return Incident.scope_grid_ids.contains([scope.grid_id])
    if scope.kind == "department":
        # the department holding it, or summoned to it by a whistle
        return or_(Incident.department_id == scope.department_id,
                   Incident.id == any_(_summoned_incidents(scope.department_id)))
    if scope.kind == "volunteer":
        return Incident.reporter_volunteer_id == scope.volunteer_id
    return false()


def _incident_event_rule(scope: Scope):
    if scope.kind == "grid":
        # Through incident_scopes (the same rows as scope_grid_ids, one per incident and grid):
        # PostgreSQL knows how many incidents a grid sees there and starts from them when they are
        # few. From the array it walked the whole timeline.
        return IncidentEvent.incident_id.in_(
            select(incident_scopes.c.incident_id).where(incident_scopes.c.grid_id == scope.grid_id))
    return IncidentEvent.incident_id.in_(select(Incident.id).where(_incident_rule(scope)))


def _whistle_rule(scope: Scope):
    if scope.kind == "grid":
        # the blower's area, and whoever sees one of its incidents: the database keeps those
        # grids in one GIN-indexed array (migration 0007)
        return Whistle.scope_grid_ids.contains([scope.grid_id])
    if scope.kind == "department":
        return Whistle.id.in_(select(WhistleSummons.whistle_id).where(WhistleSummons.department_id == scope.department_id))
    return false()


def _summons_rule(scope: Scope):
    return WhistleSummons.whistle_id.in_(select(Whistle.id).where(_whistle_rule(scope)))


def _response_rule(scope: Scope):
    if scope.kind == "grid":
        # a response over the user's area, or over an area the user's grid lies in
        area = aliased(Grid)
        return EmergencyResponse.area_id.in_(select(area.id).where(or_(
            area.path.descendant_of(Ltree(scope.grid_path)), area.path.ancestor_of(Ltree(scope.grid_path)))))
    return false()


def _response_task_rule(scope: Scope):
    if scope.kind == "grid":
        return ResponseTask.grid_id.in_(_grids_in_subtree(scope.grid_path))
    return false()


def _audit_rule(scope: Scope):
    # The changes of rows in the grid scope, before or after (a worker moved out stays in the
    # history of both grids): each entry keeps its row's grids and those above them, GIN-indexed
    # (migration 0024). The tree as it was then: a grid moved since keeps its old entries' scope.
    if scope.kind == "grid":
        return AuditEntry.grid_ids.contains([scope.grid_id])
    return false()


def _in_grid_subtree(grid_id):
    """一户一档 rows by their grid: a grid scope's subtree. Departments and volunteers see none."""
    def rule(scope: Scope):
        if scope.kind == "grid":
            return grid_id.in_(_grids_in_subtree(scope.grid_path))
        return false()
    return rule


def _household_move_rule(scope: Scope):
    return HouseholdMove.resident_id.in_(select(Resident.id).where(_in_grid_subtree(Resident.grid_id)(scope)))


def _training_record_rule(scope: Scope):
    """A worker's training records: seen where the worker is."""
    return TrainingRecord.worker_id.in_(select(Worker.id).where(_worker_rule(scope)))


def _wish_rule(scope: Scope):
    """微心愿: a grid scope sees the wishes of the residents under it; a volunteer the open wishes
    of their home community and those dispatched to or claimed by them; departments none."""
    if scope.kind == "grid":
        return MicroWish.grid_id.in_(_grids_in_subtree(scope.grid_path))
    if scope.kind == "volunteer":
        home = select(Volunteer.community_id).where(Volunteer.id == scope.volunteer_id).scalar_subquery()
        return or_(MicroWish.claimer_id == scope.volunteer_id,
                   and_(MicroWish.state == "open", MicroWish.community_id == home))
    return false()


def _user_rule(scope: Scope):
    # Only administrators manage logins.
    return false()


RULES: dict[type, Callable[[Scope], object]] = {
    Grid: _grid_rule,
    Worker: _worker_rule,
    Volunteer: _volunteer_rule,
    ServiceRecord: _service_record_rule,
    Department: _department_rule,
    GridgovUser: _user_rule,
    PointsAccount: _account_rule,
    LedgerEntry: _ledger_rule,
    Redemption: _redemption_rule,
    RedemptionLine: _redemption_line_rule,
    RewardItem: _reward_item_rule,
    StockMovement: _stock_movement_rule,
    Incident: _incident_rule,
    IncidentEvent: _incident_event_rule,
    Whistle: _whistle_rule,
    EmergencyResponse: _response_rule,
    ResponseTask: _response_task_rule,
    WhistleSummons: _summons_rule,
    PointsRule: _points_rule_rule,
    WorkerPointsRule: lambda scope: _district_or_community(scope, WorkerPointsRule.community_id),
    AuditEntry: _audit_rule,
    House: _in_grid_subtree(House.grid_id),
    Household: _in_grid_subtree(Household.grid_id),
    Resident: _in_grid_subtree(Resident.grid_id),
    Visit: _in_grid_subtree(Visit.grid_id),
    HouseholdMove: _household_move_rule,
    TrainingRecord: _training_record_rule,
    MicroWish: _wish_rule,
    AttentionTag: lambda scope: true(),
    # Configuration lists are public to every logged-in user.
    IncidentCategory: lambda scope: true(),
    DeadlineRule: lambda scope: true(),
    PatrolRule: lambda scope: true(),
    # Patrol and ClockIn are not here: a worker sees their own, who leads an area its workers'
    # (services/patrols.py ``seen``); anything else reaching them sees none (administrators all).
}


def visible(scope: Scope, model: type):
    """SQL condition selecting the rows of ``model`` that ``scope`` may see."""
    if scope.is_all:
        return true()
    if scope.kind == "none":
        return false()
    try:
        rule = RULES[model]
    except KeyError:  # a model nobody registered is visible to administrators only
        return false()
    return rule(scope)


def get_visible(session: Session, scope: Scope, model: type, pk):
    """The row, or ``OutOfScope`` when it does not exist or is outside the scope."""
    pk = as_key(pk)
    if pk is None:
        raise OutOfScope(_not_found())
    row = session.scalar(select(model).where(model.id == pk, visible(scope, model)))
    if row is None:
        raise OutOfScope(_not_found())
    return row


def is_visible(session: Session, scope: Scope, model: type, pk) -> bool:
    if pk is None:
        return False
    return bool(session.scalar(select(exists().where(and_(model.id == pk, visible(scope, model))))))


def seen_among(session: Session, scope: Scope, model: type, ids) -> set:
    """Which of these rows' ids the scope sees (a page that gathers rows shows only those)."""
    ids = [i for i in ids if i is not None]
    if not ids:
        return set()
    if scope.is_all:
        return set(ids)
    return set(session.scalars(select(model.id).where(model.id.in_(ids), visible(scope, model))))


def _not_found():
    from flask_babel import lazy_gettext

    return lazy_gettext("Record not found.")


def is_under(path, ancestor_path) -> bool:
    """Whether the grid at ``path`` lies in the subtree of the grid at ``ancestor_path`` (itself
    included): label by label, as ltree's ``<@`` compares. The one answer to "is grid A under grid
    B" in Python; a text prefix would put ``1.24`` under ``1.2``."""
    if path is None or ancestor_path is None:
        return False
    labels, ancestor = str(path).split("."), str(ancestor_path).split(".")
    return labels[:len(ancestor)] == ancestor


def can_write_under(scope: Scope, grid: Grid | None, *, strict: bool = False) -> bool:
    """Whether the scope may place records in ``grid``.

    ``strict`` excludes the scope's own root: a secretary may add grids under her community
    but not move or delete the community itself."""
    if scope.is_all:
        return True
    if scope.kind != "grid" or grid is None or grid.path is None:
        return False
    inside = is_under(grid.path, scope.grid_path)
    if strict:
        return inside and str(grid.path) != scope.grid_path
    return inside
