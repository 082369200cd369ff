"""微心愿 as a state machine: 群众点单、社区派单、党员接单.

posted ──open──▶ open ──claim──▶ claimed ──done──▶ done ──rate──▶ rated
   └──dispatch──▶ dispatched ──claim──┘
posted, open, dispatched, claimed ──cancel──▶ cancelled

- a grid worker or the secretary posts a wish for a resident of their area;
- the secretary (the community) opens it for claiming or dispatches it to a volunteer of the
  community, naming the points rule (per event) its claimer will earn by; she may open a
  dispatched wish again (the volunteer did not take it up);
- a volunteer (or sunk party member) of the community claims an open wish, or takes up one
  dispatched to them; one claimer: the state check and the change are one conditional UPDATE;
- the claimer marks it done with a note and a photo;
- a grid worker or the secretary records the resident's satisfaction, and the claimer earns the
  rule's points in the same transaction, once (``points_entries_one_award_per_wish``);
- the secretary, or the worker who posted it while it waits for the community, cancels it.

Every step checks the state and the actor's right under a row lock, in one unit of work.
A wish not claimed by its claim deadline waits in the secretary's to-dos (``todos``)."""
from __future__ import annotations

import datetime
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, select, update
from sqlalchemy.orm import Session

from ..models import Grid, MicroWish, PointsAccount, PointsRule, Resident, Volunteer
from ..models.choices import WISH_KINDS, WISH_STATE_LABELS
from ..models.wishes import TEXT_MOST, TITLE_MOST
from . import points as points_service
from .errors import Conflict, ValidationError
from .incidents import Actor
from .scope import get_visible, is_under, visible
from .typed import as_key, clean
from .unit_of_work import change_once, unit_of_work
from .users import GRID_WORKER, SECRETARY

DEFAULT_CLAIM_DAYS = 7
# the district's rule (migration 0027) a wish earns by when the community names none
DEFAULT_RULE = "微心愿"
MAX_CLAIM_DAYS = 90
# a wish waiting for a claimer: what the claim deadline watches
UNCLAIMED = ("posted", "open", "dispatched")

ACTIONS = ("open", "dispatch", "claim", "done", "rate", "cancel")
FROM = {
    "open": {"posted", "dispatched"},
    "dispatch": {"posted", "open"},
    "claim": {"open", "dispatched"},
    "done": {"claimed"},
    "rate": {"done"},
    "cancel": {"posted", "open", "dispatched", "claimed"},
}


# --- who may ---------------------------------------------------------------------------------
def _community_staff(actor: Actor, wish: MicroWish) -> bool:
    """The secretary of the wish's community (or an administrator): she dispatches and cancels."""
    if actor.is_admin:
        return True
    return SECRETARY in actor.roles and actor.scope.kind == "grid" and is_under(
        _path(wish.grid), actor.scope.grid_path)


def _grid_staff(actor: Actor, wish: MicroWish) -> bool:
    """A grid worker or the secretary over the resident's grid (or an administrator)."""
    if actor.is_admin:
        return True
    return bool({SECRETARY, GRID_WORKER} & actor.roles) and actor.scope.kind == "grid" and is_under(
        _path(wish.grid), actor.scope.grid_path)


def _path(grid: Grid | None):
    return grid.path if grid is not None else None


def may(actor: Actor, wish: MicroWish, action: str) -> bool:
    """Whether the actor may take ``action`` on the wish now: the one answer for the buttons and
    for the step itself."""
    if wish.state not in FROM.get(action, ()):
        return False
    if action in ("open", "dispatch"):
        return _community_staff(actor, wish)
    if action == "claim":
        if actor.scope.kind != "volunteer":
            return False
        if wish.state == "dispatched":
            return wish.claimer_id == actor.scope.volunteer_id
        return True  # an open wish the volunteer sees is one of their community (scope.py)
    if action == "done":
        return actor.scope.kind == "volunteer" and wish.claimer_id == actor.scope.volunteer_id
    if action == "rate":
        return _grid_staff(actor, wish)
    if action == "cancel":
        if _community_staff(actor, wish):
            return True
        # the worker who posted it, while the community has not taken it up
        return wish.state == "posted" and actor.user_id is not None and wish.posted_by_id == actor.user_id \
            and _grid_staff(actor, wish)
    return False


def allowed_actions(actor: Actor, wish: MicroWish) -> list[str]:
    return [action for action in ACTIONS if may(actor, wish, action)]


def may_post(actor: Actor) -> bool:
    return actor.is_admin or (bool({SECRETARY, GRID_WORKER} & actor.roles) and actor.scope.kind == "grid")


# --- posting ---------------------------------------------------------------------------------
@dataclass
class WishPost:
    """What a grid worker or the secretary fills in for a resident."""

    resident_id: object
    title: str
    kind: str = "other"
    description: str | None = None


def post(session: Session, actor: Actor, data: WishPost, claim_days: int = DEFAULT_CLAIM_DAYS) -> MicroWish:
    """A new wish for a resident of the actor's area, to be claimed within ``claim_days``."""
    with unit_of_work(session):
        if not may_post(actor):
            raise ValidationError(_l("Only grid workers and community secretaries post micro-wishes."))
        title = clean(data.title)
        if not title:
            raise ValidationError(_l("Give the wish a short title."), field="title")
        if len(title) > TITLE_MOST:
            raise ValidationError(_l("The title has at most 100 characters."), field="title")
        if data.kind not in WISH_KINDS:
            raise ValidationError(_l("Choose what kind of wish it is."), field="kind")
        description = _text(data.description, "description") or None
        resident_id = as_key(data.resident_id)
        resident = session.scalar(select(Resident).where(Resident.id == resident_id, visible(actor.scope, Resident))) \
            if resident_id is not None else None
        if resident is None:
            raise ValidationError(_l("Choose a resident of your area."), field="resident")
        if resident.moved_out is not None:
            raise ValidationError(_l("This resident has moved out."), field="resident")
        if not isinstance(claim_days, int) or not (1 <= claim_days <= MAX_CLAIM_DAYS):
            raise ValidationError(_l("A wish is claimed within 1 to 90 days."))
        grid = session.get(Grid, resident.grid_id)
        community = session.scalar(select(Grid).where(Grid.level == "community", Grid.path.ancestor_of(grid.path)))
        if community is None:
            raise ValidationError(_l("The resident's grid lies in no community."), field="resident")
        now = session.scalar(select(func.now()))
        wish = MicroWish(resident_id=resident.id, grid_id=grid.id, community_id=community.id, title=title,
                         kind=data.kind, description=description, state="posted", posted_by_id=actor.user_id,
                         posted_at=now, claim_deadline=now + datetime.timedelta(days=claim_days))
        session.add(wish)
        session.flush()
        return wish


def _text(value: str | None, field: str) -> str:
    value = clean(value)
    if len(value) > TEXT_MOST:
        raise ValidationError(_l("At most 1000 characters."), field=field)
    return value


# --- the steps -------------------------------------------------------------------------------
def act(session: Session, actor: Actor, wish_id, action: str, *, volunteer_id=None, rule_id=None, note=None,
        photo: str | None = None, satisfaction=None) -> MicroWish:
    """Take ``action`` on the wish, or refuse with a clear message and change nothing. The row is
    locked first: two people acting on one wish act one after the other, and the second finds the
    state the first left."""
    with unit_of_work(session):
        if action not in ACTIONS:
            raise ValidationError(_l("Unknown action."))
        wish = get_visible(session, actor.scope, MicroWish, wish_id)
        session.execute(select(MicroWish.id).where(MicroWish.id == wish.id).with_for_update())
        session.refresh(wish)
        if wish.state not in FROM[action]:
            raise Conflict(_l("This is not possible while the wish is %(state)s.",
                              state=WISH_STATE_LABELS.get(wish.state, wish.state)))
        if not may(actor, wish, action):
            raise ValidationError(_l("You cannot do this with this wish."))
        now = session.scalar(select(func.now()))
        step = getattr(_Steps, "do_" + action)
        step(session, actor, wish, now, volunteer_id=volunteer_id, rule_id=rule_id, note=note, photo=photo,
             satisfaction=satisfaction)
        session.flush()
        return wish


class _Steps:
    @staticmethod
    def do_open(session, actor, wish, now, *, rule_id, **_):
        _set_rule(session, actor, wish, rule_id)
        wish.state, wish.claimer_id = "open", None

    @staticmethod
    def do_dispatch(session, actor, wish, now, *, volunteer_id, rule_id, **_):
        key = as_key(volunteer_id)
        volunteer = session.get(Volunteer, key) if key is not None else None
        if volunteer is None or volunteer.community_id != wish.community_id:
            raise ValidationError(_l("Choose a volunteer of the wish's community."), field="volunteer")
        _set_rule(session, actor, wish, rule_id)
        wish.state, wish.claimer_id = "dispatched", volunteer.id

    @staticmethod
    def do_claim(session, actor, wish, now, **_):
        # one conditional UPDATE: of two volunteers claiming one open wish, exactly one wins
        expected = wish.claimer_id if wish.state == "dispatched" else None
        change_once(session, update(MicroWish)
                    .where(MicroWish.id == wish.id, MicroWish.state == wish.state,
                           MicroWish.claimer_id.is_(None) if expected is None else MicroWish.claimer_id == expected)
                    .values(state="claimed", claimer_id=actor.scope.volunteer_id, claimed_at=now)
                    .returning(MicroWish.id),
                    _l("Someone else has claimed this wish."))
        session.refresh(wish)

    @staticmethod
    def do_done(session, actor, wish, now, *, note, photo, **_):
        note = _text(note, "note")
        if not note:
            raise ValidationError(_l("Say in a note what was done."), field="note")
        if not photo:
            raise ValidationError(_l("Add a photo of the wish fulfilled."), field="photo")
        wish.state, wish.done_at, wish.done_note, wish.photo = "done", now, note, photo

    @staticmethod
    def do_rate(session, actor, wish, now, *, satisfaction, **_):
        rating = as_key(satisfaction)
        if rating is None or not (1 <= rating <= 5):
            raise ValidationError(_l("Choose the resident's satisfaction from 1 to 5."), field="satisfaction")
        wish.state, wish.satisfaction, wish.rated_at, wish.rated_by_id = "rated", rating, now, actor.user_id
        session.flush()
        _award(session, actor, wish)

    @staticmethod
    def do_cancel(session, actor, wish, now, **_):
        wish.state, wish.cancelled_at = "cancelled", now


def _set_rule(session: Session, actor: Actor, wish: MicroWish, rule_id) -> None:
    """The points rule the claimer will earn by: active, per event, of the whole district or the
    wish's community; none given keeps the wish's, or takes the district's ``DEFAULT_RULE``."""
    if rule_id in (None, ""):
        if wish.rule_id is None:
            wish.rule_id = session.scalar(select(PointsRule.id).where(
                PointsRule.name == DEFAULT_RULE, PointsRule.active.is_(True), PointsRule.unit == "event",
                PointsRule.community_id.is_(None)))
        return
    key = as_key(rule_id)
    rule = session.get(PointsRule, key) if key is not None else None
    if rule is None or not rule.active or rule.unit != "event" or rule.community_id not in (None, wish.community_id):
        raise ValidationError(_l("Choose an active per-event points rule of the district or of the wish's community."),
                              field="rule")
    wish.rule_id = rule.id


def points_of(wish: MicroWish) -> int:
    """The points the claimer earns: the wish's rule, per event; none without a rule."""
    rule = wish.rule
    return rule.points if rule is not None and rule.unit == "event" else 0


def _award(session: Session, actor: Actor, wish: MicroWish) -> int | None:
    """The claimer's points, in the step's transaction, once (a partial unique index)."""
    points = points_of(wish)
    if points <= 0 or wish.claimer_id is None:
        return None
    account_id = session.scalar(select(PointsAccount.id).where(PointsAccount.volunteer_id == wish.claimer_id))
    if account_id is None:  # every volunteer keeps the account their trigger opened (migration 0030)
        raise Conflict(_l("The volunteer who did this wish has no points account: ask the administrator. "
                          "Nothing was recorded."))
    return points_service.earn(session, account_id, points, f"微心愿 #{wish.id} {wish.title}",
                               micro_wish_id=wish.id, actor_id=actor.user_id)


def award_again(session: Session, actor: Actor, wish_id) -> int | None:
    """Make the award of a rated wish again (a retry after a lost answer): it is paid once, so a
    second call pays nothing and returns None."""
    with unit_of_work(session):
        wish = get_visible(session, actor.scope, MicroWish, wish_id)
        if wish.state != "rated" or not _grid_staff(actor, wish):
            raise ValidationError(_l("You cannot do this with this wish."))
        return _award(session, actor, wish)


# --- for the pages ---------------------------------------------------------------------------
def dispatchable_volunteers(session: Session, wish: MicroWish) -> list[Volunteer]:
    """The volunteers a wish may be dispatched to: those of its community, by name."""
    return list(session.scalars(select(Volunteer).where(Volunteer.community_id == wish.community_id)
                                .order_by(Volunteer.name, Volunteer.id)))


def wish_rules(session: Session, wish: MicroWish) -> list[PointsRule]:
    """The points rules a wish may earn by: active, per event, the district's or its community's."""
    return list(session.scalars(select(PointsRule).where(
        PointsRule.active.is_(True), PointsRule.unit == "event",
        (PointsRule.community_id.is_(None)) | (PointsRule.community_id == wish.community_id))
        .order_by(PointsRule.name)))


def postable_residents(session: Session, actor: Actor, most: int = 500) -> list[Resident]:
    """The residents the post form offers: living in the actor's area, by name (at most ``most``)."""
    return list(session.scalars(select(Resident).where(visible(actor.scope, Resident), Resident.moved_out.is_(None))
                                .order_by(Resident.name, Resident.id).limit(most)))


def volunteer_wishes(session: Session, scope, most: int = 100) -> list[MicroWish]:
    """A volunteer's wishes: the open ones of their community and those dispatched to or claimed by
    them (not cancelled), the open and the newest first."""
    return list(session.scalars(select(MicroWish).where(visible(scope, MicroWish), MicroWish.state != "cancelled")
                                .order_by((MicroWish.state != "open"), MicroWish.id.desc()).limit(most)))


def unclaimed_condition(now):
    """Wishes no one has claimed by their claim deadline (the secretary's to-do)."""
    return and_(MicroWish.state.in_(UNCLAIMED), MicroWish.claim_deadline < now)


def awarded_points(session: Session, wish_id: int) -> int | None:
    from ..models import LedgerEntry

    return session.scalar(select(LedgerEntry.amount).where(LedgerEntry.micro_wish_id == wish_id,
                                                           LedgerEntry.kind == "earn"))
