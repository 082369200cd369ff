"""The points bank's rules: awarding service, redeeming rewards, handing over and cancelling,
and the invariant check. Balances and stock are moved only by inserting ledger entries and
stock movements; the database applies them (migration 0002), so nothing here reads a balance
and writes it back."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, or_, select, true, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session, aliased

from ..models import (
    Grid,
    LedgerEntry,
    PointsAccount,
    PointsRule,
    Redemption,
    RedemptionLine,
    RewardItem,
    ServiceRecord,
    StockMovement,
    Volunteer,
    Worker,
    points_earned,
)
from ..models.points import MAX_ADJUSTMENT, MAX_RULE_POINTS, MAX_STOCK_CHANGE
from .errors import DomainError, OutOfScope, ValidationError
from .scope import Scope, can_write_under, get_visible, grid_scope, visible
from .unit_of_work import change_once, unit_of_work
from .local_time import TIMEZONE

MAX_QUANTITY = 99


# --- accounts --------------------------------------------------------------------------------
def account_of_volunteer(session: Session, volunteer_id: int) -> PointsAccount:
    return session.scalar(select(PointsAccount).where(PointsAccount.volunteer_id == volunteer_id))


def holder_community_id(session: Session, account: PointsAccount) -> int | None:
    """The community a holder belongs to: a volunteer's home, or the community above a worker."""
    if account.volunteer_id is not None:
        return session.scalar(select(Volunteer.community_id).where(Volunteer.id == account.volunteer_id))
    grid_path = session.scalar(
        select(Grid.path).join(Worker, Worker.grid_id == Grid.id).where(Worker.id == account.worker_id)
    )
    if grid_path is None:
        return None
    return session.scalar(select(Grid.id).where(Grid.level == "community", Grid.path.ancestor_of(grid_path)))


def visible_account(session: Session, scope: Scope, account_id) -> PointsAccount:
    """The account, if the scope may see its holder; else ``OutOfScope`` (a 404)."""
    return get_visible(session, scope, PointsAccount, account_id)


@dataclass
class LedgerLine:
    entry: LedgerEntry
    balance_after: int


def ledger(session: Session, account_id: int, limit: int | None = None) -> list[LedgerLine]:
    """The account's entries, newest first, with the balance after each (a window sum)."""
    running = func.sum(LedgerEntry.amount).over(order_by=LedgerEntry.id)
    rows = session.execute(
        select(LedgerEntry, running).where(LedgerEntry.account_id == account_id).order_by(LedgerEntry.id.desc())
        .limit(limit)
    ).all()
    return [LedgerLine(entry, int(balance)) for entry, balance in rows]


# --- earning and adjusting -------------------------------------------------------------------
def points_for(record: ServiceRecord) -> int:
    """Points a service record earns by its activity type's rule (hours rounded half up)."""
    rule = record.rule
    if rule is None:
        return 0
    if rule.unit == "event":
        return rule.points
    return int((Decimal(rule.points) * Decimal(record.hours)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def earn(session: Session, account_id: int, amount: int, reason: str, *, service_record_id: int | None = None,
         incident_ref: str | None = None, micro_wish_id: int | None = None, actor_id: int | None = None) -> int | None:
    """Credit ``amount`` earned points for one service record, one incident or one micro-wish, at
    most once each (partial unique indexes: a double click, a retry or two people at once earn
    once). Writes in the caller's transaction; returns the entry's id, or None when it had been
    earned before."""
    if service_record_id is not None:
        once = {"index_elements": ["service_record_id"], "index_where": LedgerEntry.kind == "earn"}
    elif micro_wish_id is not None:
        once = {"index_elements": ["micro_wish_id"], "index_where": LedgerEntry.kind == "earn"}
    else:
        once = {"index_elements": ["incident_ref"],
                "index_where": and_(LedgerEntry.kind == "earn", LedgerEntry.incident_ref.is_not(None))}
    return session.execute(
        insert(LedgerEntry)
        .values(account_id=account_id, kind="earn", amount=amount, reason=reason[:200],
                service_record_id=service_record_id, incident_ref=incident_ref, micro_wish_id=micro_wish_id,
                created_by_id=actor_id)
        .on_conflict_do_nothing(**once)
        .returning(LedgerEntry.id)
    ).scalar()


@dataclass
class AwardResult:
    awarded: list[tuple[ServiceRecord, int]] = field(default_factory=list)
    already: list[ServiceRecord] = field(default_factory=list)
    no_rule: list[ServiceRecord] = field(default_factory=list)
    # records whose activity type is another community's (their volunteer has moved since)
    elsewhere: list[ServiceRecord] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(points for _, points in self.awarded)


def award(session: Session, scope: Scope, record_ids, actor_id: int | None) -> AwardResult:
    """Award the points of these service records, once each, in one transaction.

    A record already rewarded is skipped, not rewarded again: the partial unique index on
    ``points_entries(service_record_id) WHERE kind = 'earn'`` makes that hold under double
    clicks, retries and concurrent secretaries (INSERT … ON CONFLICT DO NOTHING)."""
    with unit_of_work(session):
        ids = sorted({int(i) for i in record_ids})
        # Shared locks on the records, in id order: the facts priced here (volunteer, hours, activity
        # type) cannot change between pricing and the ledger entry (after it, the database freezes them).
        records = session.scalars(
            select(ServiceRecord).where(ServiceRecord.id.in_(ids), visible(scope, ServiceRecord))
            .order_by(ServiceRecord.id).with_for_update(read=True, of=ServiceRecord)
            .execution_options(populate_existing=True)
        ).all()
        if len(records) != len(ids):
            raise OutOfScope(_l("Record not found."))
        if scope.kind == "volunteer":
            raise ValidationError(_l("Volunteers cannot award points."))
        accounts = dict(
            session.execute(
                select(PointsAccount.volunteer_id, PointsAccount.id).where(
                    PointsAccount.volunteer_id.in_({r.volunteer_id for r in records})
                )
            ).all()
        )
        homes = dict(session.execute(select(Volunteer.id, Volunteer.community_id)
                                     .where(Volunteer.id.in_({r.volunteer_id for r in records}))).all())
        result = AwardResult()
        # Lock accounts in id order so that two bulk awards cannot deadlock.
        for record in sorted(records, key=lambda r: (accounts[r.volunteer_id], r.id)):
            points = points_for(record)
            if points <= 0:
                result.no_rule.append(record)
                continue
            if record.rule.community_id not in (None, homes[record.volunteer_id]):
                result.elsewhere.append(record)
                continue
            reason = f"{record.rule.name} {record.date.isoformat()} {record.hours}h"
            inserted = earn(session, accounts[record.volunteer_id], points, reason, service_record_id=record.id,
                            actor_id=actor_id)
            if inserted is None:
                result.already.append(record)
            else:
                result.awarded.append((record, points))
        return result


def service_records(session: Session, volunteer_id: int) -> list[ServiceRecord]:
    """The volunteer's service records, the latest first."""
    return list(session.scalars(select(ServiceRecord).where(ServiceRecord.volunteer_id == volunteer_id)
                                .order_by(ServiceRecord.date.desc())))


def awarded_record_ids(session: Session, record_ids) -> set[int]:
    return set(session.scalars(
        select(LedgerEntry.service_record_id).where(
            LedgerEntry.kind == "earn", LedgerEntry.service_record_id.in_(list(record_ids))
        )
    ))


def adjust(session: Session, scope: Scope, account_id, amount: int, reason: str, actor_id: int | None) -> LedgerEntry:
    """A compensating entry written by a person, with the reason."""
    with unit_of_work(session):
        account = visible_account(session, scope, account_id)
        if not isinstance(amount, int) or amount == 0 or abs(amount) > MAX_ADJUSTMENT:
            raise ValidationError(_l("An adjustment is a whole number of points other than 0, at most %(most)s either way.",
                                     most=f"{MAX_ADJUSTMENT:,}"), field="amount")
        reason = _reason(reason, required=True)
        entry = LedgerEntry(account_id=account.id, kind="adjust", amount=amount, reason=reason, created_by_id=actor_id)
        session.add(entry)
        return entry


# --- the catalog -----------------------------------------------------------------------------
def offered_items(session: Session, account: PointsAccount, *, include_inactive: bool = False) -> list[RewardItem]:
    """What this holder may redeem: the district's items and those of their own community."""
    community_id = holder_community_id(session, account)
    query = select(RewardItem).where(or_(RewardItem.community_id.is_(None), RewardItem.community_id == community_id))
    if not include_inactive:
        query = query.where(RewardItem.active.is_(True))
    return list(session.scalars(query.order_by(RewardItem.price, RewardItem.id)))


def restock(session: Session, scope: Scope, item_id, change: int, reason: str | None,
            actor_id: int | None) -> StockMovement:
    """Add (or, with a negative change, correct) an item's stock. Called from the item's form, it
    joins the form's unit of work: the item and its stock are saved together."""
    with unit_of_work(session):
        item = get_visible(session, scope, RewardItem, item_id)
        if not isinstance(change, int) or change == 0 or abs(change) > MAX_STOCK_CHANGE:
            raise ValidationError(_l("A stock change is a whole number other than 0, at most %(most)s either way.",
                                     most=f"{MAX_STOCK_CHANGE:,}"), field="restock")
        movement = StockMovement(item_id=item.id, kind="restock" if change > 0 else "adjust", change=change,
                                 reason=_reason(reason) or None, created_by_id=actor_id)
        session.add(movement)
        session.flush()
        return movement


def picture_visible(session: Session, scope: Scope, filename: str) -> bool:
    """Whether the picture belongs to a reward item the scope may see: a picture is served only
    where its item is."""
    return session.scalar(
        select(RewardItem.id).where(RewardItem.picture == filename, visible(scope, RewardItem)).limit(1)
    ) is not None


REASON_MOST = 200


def _reason(reason: str | None, *, required: bool = False) -> str:
    """A reason as typed, trimmed; refused when required and empty or longer than the ledger keeps
    (never cut short)."""
    reason = (reason or "").strip()
    if required and not reason:
        raise ValidationError(_l("Give the reason for the adjustment."), field="reason")
    if len(reason) > REASON_MOST:
        raise ValidationError(_l("A reason has at most %(most)s characters.", most=REASON_MOST), field="reason")
    return reason


# --- who keeps rules and items ---------------------------------------------------------------
NEW = object()  # a record being added: it has no present owner to check


def check_rule(session: Session, scope: Scope, rule: PointsRule, *, present_community_id=NEW) -> None:
    """Who keeps which points rule: the whole district's rules the district's staff and the
    administrator, a community's own rules its secretary. An edit must be allowed for the rule as
    it was (``present_community_id``) and as it will be: a secretary cannot take a district rule
    into her community. A rule earns 1 to MAX_RULE_POINTS."""
    if present_community_id is not NEW:
        check_rule_delete(session, scope, rule, present_community_id)
    rule.name = (rule.name or "").strip()
    if not rule.name:
        raise ValidationError(_l("This field is required."), field="name")
    if rule.points is None or not (0 < rule.points <= MAX_RULE_POINTS):
        raise ValidationError(_l("A rule earns a whole number of points from 1 to %(most)s.", most=f"{MAX_RULE_POINTS:,}"),
                              field="points")
    check_offered_by(session, scope, rule.community or (session.get(Grid, rule.community_id) if rule.community_id else None),
                      _l("Only the district keeps the rules of the whole district."),
                      _l("You can only keep the rules of your own community."), field="community")


def check_rule_delete(session: Session, scope: Scope, rule: PointsRule, community_id=NEW) -> None:
    """Whether the scope keeps the rule as it is (``community_id``: its owner before an edit)."""
    if community_id is NEW:
        community_id = rule.community_id
    check_offered_by(session, scope, session.get(Grid, community_id) if community_id else None,
                      _l("Only the district keeps the rules of the whole district."),
                      _l("You can only keep the rules of your own community."))


def check_offered_by(session: Session, scope: Scope, community: Grid | None, district_message, community_message,
                      field: str | None = None) -> None:
    """Refuse a scope that may not keep what ``community`` offers (None: the whole district)."""
    if community is None:
        if not scope.is_all and not (scope.kind == "grid" and _is_district_scope(session, scope)):
            raise ValidationError(district_message, field=field)
        return
    if community.level != "community":
        raise ValidationError(_l("Choose a community, or leave it empty for the whole district."), field=field)
    if not can_write_under(scope, community):
        raise ValidationError(community_message, field=field)


def check_item(session: Session, scope: Scope, item: RewardItem, *, present_community_id=NEW) -> None:
    """Who may offer what: an administrator anything, a secretary her community's items."""
    item.name = (item.name or "").strip()
    if not item.name:
        raise ValidationError(_l("This field is required."), field="name")
    if item.price is None or not (0 < item.price <= 1_000_000):
        raise ValidationError(_l("The price is a whole number of points from 1 to 1,000,000."), field="price")
    if present_community_id is not NEW:  # an edit: allowed for the item as it was, too
        check_item_delete(session, scope, item, present_community_id)
    community = item.community or (session.get(Grid, item.community_id) if item.community_id else None)
    check_offered_by(session, scope, community, _l("Only the district can offer items to every community."),
                      _l("You can only offer items in your own community."), field="community")


def check_item_delete(session: Session, scope: Scope, item: RewardItem, community_id=NEW) -> None:
    """Only who may offer an item may withdraw it; an item with history is deactivated instead
    (the foreign keys of its movements and redemption lines refuse the delete)."""
    if community_id is NEW:
        community_id = item.community_id
    check_offered_by(session, scope, session.get(Grid, community_id) if community_id else None,
                      _l("Only the district can offer items to every community."),
                      _l("You can only offer items in your own community."))


def _is_district_scope(session: Session, scope: Scope) -> bool:
    return session.scalar(select(Grid.level).where(Grid.id == scope.grid_id)) == "district"


# --- redeeming -------------------------------------------------------------------------------
def parse_quantities(raw: dict) -> dict[int, int]:
    """{'item id': 'quantity', …} from a form into whole numbers; blanks and zeros left out."""
    quantities: dict[int, int] = {}
    for key, value in raw.items():
        value = (str(value) if value is not None else "").strip()
        if value in ("", "0"):
            continue
        try:
            item_id, quantity = int(key), int(value)
        except (TypeError, ValueError):
            raise ValidationError(_l("Quantities are whole numbers from 1 to 99.")) from None
        if not 1 <= quantity <= MAX_QUANTITY:
            raise ValidationError(_l("Quantities are whole numbers from 1 to 99."))
        quantities[item_id] = quantity
    if not quantities:
        raise ValidationError(_l("Choose at least one item."))
    return quantities


@dataclass
class Quote:
    """What a redemption takes: the items with their quantities, and the points in all."""

    account: PointsAccount
    lines: list[tuple[RewardItem, int]]
    total: int

    @property
    def balance_after(self) -> int:
        return self.account.balance - self.total


def preview(session: Session, scope: Scope, account_id, quantities: dict[int, int]) -> Quote:
    """The quote a holder confirms before redeeming (nothing is written): the account, if the
    scope sees it, and these quantities of items it may have."""
    return quote(session, visible_account(session, scope, account_id), quantities)


def quote(session: Session, account: PointsAccount, quantities: dict[int, int]) -> Quote:
    """The items and the total; refuses items the holder may not have (inactive, elsewhere)."""
    items = {i.id: i for i in session.scalars(select(RewardItem).where(RewardItem.id.in_(list(quantities))))}
    community_id = holder_community_id(session, account)
    lines = []
    for item_id in sorted(quantities):
        item = items.get(item_id)
        if item is None:
            raise ValidationError(_l("One of the items does not exist."))
        if item.community_id is not None and item.community_id != community_id:
            raise ValidationError(_l("「%(item)s」 is not offered in this community.", item=item.name))
        if not item.active:
            raise ValidationError(_l("「%(item)s」 is no longer offered.", item=item.name))
        lines.append((item, quantities[item_id]))
    return Quote(account, lines, sum(item.price * quantity for item, quantity in lines))


def redeem(session: Session, scope: Scope, account_id, quantities: dict[int, int], actor_id: int | None,
           request_key: str | None = None) -> Redemption:
    """Debit points and stock and open a redemption (waiting for pick-up), all or nothing.

    ``request_key`` identifies the confirmation form: submitting it twice returns the
    redemption the first submit made instead of redeeming again."""
    try:
        with unit_of_work(session):
            account = visible_account(session, scope, account_id)
            earlier = _redemption_of_request(session, request_key)
            if earlier is not None:
                if earlier.account_id != account.id:
                    raise OutOfScope(_l("Record not found."))
                return earlier
            # The items' rows locked first, in id order (the order every writer of stock takes): what
            # ``quote`` checks (offered, active, in stock) holds until the redemption is written.
            session.execute(select(RewardItem.id).where(RewardItem.id.in_(list(quantities))).order_by(RewardItem.id)
                            .with_for_update())
            session.expire_all()
            offer = quote(session, account, quantities)
            if offer.balance_after < 0:
                raise ValidationError(_l("Not enough points: this needs %(total)s, the balance is %(balance)s.",
                                         total=offer.total, balance=account.balance))
            for item, quantity in offer.lines:
                if quantity > item.stock:
                    raise ValidationError(_l("Only %(stock)s of 「%(item)s」 left.", stock=item.stock, item=item.name))
            return _write_redemption(session, offer, actor_id, request_key)
    except DomainError as refusal:
        if refusal.constraint == "redemptions_request_key_key":  # the same form, twice at once: the other's
            earlier = _redemption_of_request(session, request_key)  # read after the unit of work's rollback
            if earlier is not None and earlier.account_id == account.id:
                return earlier
        raise


def redemptions(session: Session, account_id: int) -> list[Redemption]:
    """The account's redemptions, newest first."""
    return list(session.scalars(select(Redemption).where(Redemption.account_id == account_id)
                                .order_by(Redemption.id.desc())))


def _redemption_of_request(session: Session, request_key: str | None) -> Redemption | None:
    """The redemption a confirmation form made, if it was submitted before."""
    if not request_key:
        return None
    return session.scalar(select(Redemption).where(Redemption.request_key == request_key))


def _write_redemption(session: Session, offer: Quote, actor_id: int | None, request_key: str | None) -> Redemption:
    account, lines, total = offer.account, offer.lines, offer.total
    redemption = Redemption(account_id=account.id, status="pending", total_points=total, created_by_id=actor_id,
                            request_key=request_key or None)
    redemption.lines = [RedemptionLine(item_id=item.id, quantity=q, unit_price=item.price) for item, q in lines]
    session.add(redemption)
    session.flush()
    # Stock first, items in id order, then the account: every writer takes locks in that order.
    for item, quantity in lines:
        session.add(StockMovement(item_id=item.id, kind="redeem", change=-quantity, redemption_id=redemption.id,
                                  reason=f"#{redemption.id}", created_by_id=actor_id))
        session.flush()
    names = "、".join(f"{item.name}×{quantity}" for item, quantity in lines)
    session.add(LedgerEntry(account_id=account.id, kind="redeem", amount=-total, redemption_id=redemption.id,
                            reason=f"#{redemption.id} {names}"[:200], created_by_id=actor_id))
    session.flush()
    return redemption


def _close(session: Session, scope: Scope, redemption_id, status: str, actor_id: int | None) -> Redemption:
    redemption = get_visible(session, scope, Redemption, redemption_id)
    if scope.kind == "volunteer":
        raise ValidationError(_l("Only community staff hand over or cancel a redemption."))
    # One conditional UPDATE: of two people closing the same redemption, exactly one wins.
    change_once(session, update(Redemption)
                .where(Redemption.id == redemption.id, Redemption.status == "pending")
                .values(status=status, handled_by_id=actor_id, handled_at=func.now()).returning(Redemption.id),
                _l("This redemption has already been handed over or cancelled."))
    return redemption


def hand_over(session: Session, scope: Scope, redemption_id, actor_id: int | None) -> Redemption:
    with unit_of_work(session):
        redemption = _close(session, scope, redemption_id, "handed_over", actor_id)
    session.refresh(redemption)
    return redemption


def cancel(session: Session, scope: Scope, redemption_id, actor_id: int | None, reason: str | None = None) -> Redemption:
    """Cancel a pending redemption: stock and points come back through compensating rows."""
    with unit_of_work(session):
        redemption = _close(session, scope, redemption_id, "cancelled", actor_id)
        note = f"#{redemption.id} " + ((reason or "").strip() or str(_l("cancelled")))
        for line in sorted(redemption.lines, key=lambda line: line.item_id):
            session.add(StockMovement(item_id=line.item_id, kind="cancel", change=line.quantity,
                                      redemption_id=redemption.id, reason=note[:200], created_by_id=actor_id))
            session.flush()
        session.add(LedgerEntry(account_id=redemption.account_id, kind="refund", amount=redemption.total_points,
                                redemption_id=redemption.id, reason=note[:200], created_by_id=actor_id))
    session.refresh(redemption)
    return redemption


# --- the honour roll -------------------------------------------------------------------------
@dataclass
class HonourRow:
    rank: int
    volunteer_id: int
    name: str
    community: str
    points: int


ROLL_BOARDS = {  # the level a roll ranks down to: the boards it shows
    "district": ("districts",),
    "street": ("districts", "streets"),
    "community": ("streets", "communities"),
}


def honour_roll(session: Session, scope: Scope, year: int, per_group: int = 10, street_id: int | None = None,
                district_id: int | None = None) -> dict:
    """Top volunteers by points earned (not balance) in ``year``, per district, street and
    community, among the volunteers the scope may see; with ``street_id`` / ``district_id``, of
    that street / district only. A roll ranks one level below what it covers: a city's roll ranks
    its districts, a district's roll the district and its streets, a street's roll the street and
    its communities. 1,640 community boards at city size made a 16,000-row page, 150
    street boards a 1,500-row one. Read from ``points_earned`` (migrations 0013, 0017) and ranked
    in SQL: only the rows on the roll leave the database. Ties go to the account opened first.
    ``level`` in the result is the lowest level ranked: its boards are in ``ROLL_BOARDS``."""
    level = roll_level(session, scope, street_id, district_id)
    boards = ROLL_BOARDS[level]
    earners = _earners(scope, year, per_group, street_id, district_id).subquery()
    order = (earners.c.earned.desc(), earners.c.account_id)
    ranked = select(
        earners,
        *(func.row_number().over(partition_by=earners.c[f"{kind}_id"], order_by=order).label(f"in_{kind}")
          for kind in ("community", "street", "district")),
    ).subquery()
    on_a_board = {"communities": ranked.c.in_community <= per_group, "streets": ranked.c.in_street <= per_group,
                  "districts": ranked.c.in_district <= per_group}
    # the volunteer of each account on the roll, looked up row by row: joined, PostgreSQL expected
    # all the ranked rows on the roll, not a tenth, and merged every volunteer with their account.
    # The LIMIT keeps the lateral from being flattened into that join.
    holder = (select(Volunteer.id, Volunteer.name).join(PointsAccount, PointsAccount.volunteer_id == Volunteer.id)
              .where(PointsAccount.id == ranked.c.account_id).limit(1).lateral())
    rows = session.execute(
        select(holder.c.id, holder.c.name, ranked.c.community_id, ranked.c.community_name,
               ranked.c.street_id, ranked.c.street_name, ranked.c.district_id, ranked.c.district_name, ranked.c.earned)
        .select_from(ranked).join(holder, true())
        .where(or_(*(on_a_board[kind] for kind in boards)))
        .order_by(ranked.c.earned.desc(), ranked.c.account_id)
    ).all()
    roll: dict = {kind: defaultdict(list) for kind in ("districts", "streets", "communities")}
    for volunteer_id, name, community_id, community_name, street, street_name, district, district_name, points in rows:
        keys = {"communities": (community_id, community_name), "streets": (street, street_name),
                "districts": (district, district_name)}
        for kind in boards:
            groups, key = roll[kind], keys[kind]
            if key[0] is None or len(groups[key]) >= per_group:
                continue
            groups[key].append(HonourRow(len(groups[key]) + 1, volunteer_id, name, community_name, int(points)))
    return {**{kind: dict(groups) for kind, groups in roll.items()}, "level": level,
            "district": _district_of(session, scope, street_id)}


def roll_scope(session: Session, scope: Scope) -> Scope:
    """The area whose honour roll a user is shown: the public roll of the community they belong
    to when their own scope is narrower (a volunteer's home community; a grid worker's
    community, above a block or building), else their own scope."""
    community_id = None
    if scope.kind == "volunteer":
        community_id = session.scalar(select(Volunteer.community_id).where(Volunteer.id == scope.volunteer_id))
    elif scope.kind == "grid" and scope.grid_path:
        path = [int(label) for label in scope.grid_path.split(".")]
        if len(path) > 1:
            community_id = session.scalar(select(Grid.id).where(Grid.id.in_(path), Grid.level == "community"))
        if community_id == scope.grid_id:
            return scope
    return grid_scope(session, community_id) if community_id is not None else scope


def roll_level(session: Session, scope: Scope, street_id: int | None = None, district_id: int | None = None) -> str:
    """The level a roll ranks down to: communities for a street (or a scope of one street at
    most), streets for a district (or a scope of one district at most), else districts."""
    if street_id is not None or _at_most_one(session, scope, "street"):
        return "community"
    if district_id is not None or _at_most_one(session, scope, "district"):
        return "street"
    return "district"


def _district_of(session: Session, scope: Scope, street_id: int | None) -> tuple[int, str] | None:
    """(id, name) of a street's district, when the scope sees both: a street's roll links back
    to its district's."""
    if street_id is None:
        return None
    parent_id = session.scalar(select(Grid.parent_id).where(Grid.id == street_id, Grid.level == "street",
                                                             visible(scope, Grid)))
    row = parent_id and session.execute(select(Grid.id, Grid.name).where(
        Grid.id == parent_id, Grid.level == "district", visible(scope, Grid))).first()
    return tuple(row) if row else None


def _at_most_one(session: Session, scope: Scope, level: str) -> bool:
    """Whether the scope sees one grid of ``level`` or none."""
    return session.scalar(select(func.count()).select_from(
        select(Grid.id).where(Grid.level == level, visible(scope, Grid)).limit(2).subquery())) <= 1


def _earners(scope: Scope, year: int, per_group: int, street_id: int | None, district_id: int | None):
    """The rows the honour roll ranks: (community, its street and district, account, earned), of
    the volunteers' accounts (the only ones ``points_earned`` holds).

    For the administrator and a grid scope, each community's best ``per_group`` earners, read
    from the top of its part of ``points_earned_grid_year_idx``: a street's or district's best are
    among its communities' best, so at city size 16,400 rows are ranked, not 100,000. A
    department or a volunteer sees few volunteers, found through the volunteers' own rule."""
    street, district = aliased(Grid), aliased(Grid)
    # A grid's parent is of a higher level (migration 0001): a community's parent is a street or
    # the district, a street's the district.
    district_key = func.coalesce(street.parent_id, Grid.parent_id)
    homes = (select(Grid.id.label("community_id"), Grid.name.label("community_name"),
                    street.id.label("street_id"), street.name.label("street_name"),
                    district.id.label("district_id"), district.name.label("district_name"))
             .outerjoin(street, and_(street.id == Grid.parent_id, street.level == "street"))
             .outerjoin(district, and_(district.id == district_key, district.level == "district"))
             .where(Grid.level == "community",
                    *([street.id == street_id] if street_id is not None else []),
                    *([district.id == district_id] if district_id is not None else [])))
    earned, account_id = points_earned.c.earned, points_earned.c.account_id
    if scope.kind in ("all", "grid"):  # a grid scope's volunteers are those of its communities
        homes = homes.where(visible(scope, Grid)).subquery()
        best = (select(account_id, earned)
                .where(points_earned.c.grid_id == homes.c.community_id, points_earned.c.year == year)
                .order_by(earned.desc(), account_id).limit(per_group).lateral())
        return select(homes, best).join(best, true())
    homes = homes.subquery()
    return (select(homes, account_id, earned)
            .select_from(points_earned)
            .join(PointsAccount, PointsAccount.id == account_id)
            .join(Volunteer, Volunteer.id == PointsAccount.volunteer_id)
            .join(homes, homes.c.community_id == points_earned.c.grid_id)
            .where(points_earned.c.year == year, visible(scope, Volunteer)))


# --- the invariant check ---------------------------------------------------------------------
def check_invariants(session: Session) -> list[str]:
    """Everything that must hold in the bank; an empty list when all is well."""
    problems = []
    entry_sum = func.coalesce(func.sum(LedgerEntry.amount), 0)
    for account_id, balance, total in session.execute(
        select(PointsAccount.id, PointsAccount.balance, entry_sum)
        .outerjoin(LedgerEntry, LedgerEntry.account_id == PointsAccount.id)
        .group_by(PointsAccount.id).having(PointsAccount.balance != entry_sum)
    ):
        problems.append(f"account {account_id}: balance {balance} but its entries sum to {total}")
    movement_sum = func.coalesce(func.sum(StockMovement.change), 0)
    for item_id, stock, total in session.execute(
        select(RewardItem.id, RewardItem.stock, movement_sum)
        .outerjoin(StockMovement, StockMovement.item_id == RewardItem.id)
        .group_by(RewardItem.id).having(RewardItem.stock != movement_sum)
    ):
        problems.append(f"item {item_id}: stock {stock} but its movements sum to {total}")
    for account_id, balance in session.execute(select(PointsAccount.id, PointsAccount.balance).where(PointsAccount.balance < 0)):
        problems.append(f"account {account_id}: negative balance {balance}")
    for item_id, stock in session.execute(select(RewardItem.id, RewardItem.stock).where(RewardItem.stock < 0)):
        problems.append(f"item {item_id}: negative stock {stock}")

    lines = defaultdict(dict)
    for redemption_id, item_id, quantity, price in session.execute(
        select(RedemptionLine.redemption_id, RedemptionLine.item_id, RedemptionLine.quantity, RedemptionLine.unit_price)
    ):
        lines[redemption_id][item_id] = (quantity, price)
    moves = defaultdict(lambda: defaultdict(int))
    for redemption_id, item_id, kind, change in session.execute(
        select(StockMovement.redemption_id, StockMovement.item_id, StockMovement.kind, StockMovement.change)
        .where(StockMovement.redemption_id.is_not(None))
    ):
        moves[redemption_id][(item_id, kind)] += change
    points = defaultdict(lambda: defaultdict(int))
    for redemption_id, kind, amount in session.execute(
        select(LedgerEntry.redemption_id, LedgerEntry.kind, LedgerEntry.amount).where(LedgerEntry.redemption_id.is_not(None))
    ):
        points[redemption_id][kind] += amount
    for redemption_id, status, total in session.execute(select(Redemption.id, Redemption.status, Redemption.total_points)):
        its_lines = lines.get(redemption_id, {})
        if sum(q * p for q, p in its_lines.values()) != total:
            problems.append(f"redemption {redemption_id}: lines do not add up to {total} points")
        if points[redemption_id]["redeem"] != -total:
            problems.append(f"redemption {redemption_id}: debited {-points[redemption_id]['redeem']} points, not {total}")
        refunded = points[redemption_id]["refund"]
        if refunded != (total if status == "cancelled" else 0):
            problems.append(f"redemption {redemption_id} ({status}): refunded {refunded} points")
        for item_id, (quantity, _price) in its_lines.items():
            if moves[redemption_id][(item_id, "redeem")] != -quantity:
                problems.append(f"redemption {redemption_id}: stock of item {item_id} not taken as {quantity}")
            returned = moves[redemption_id][(item_id, "cancel")]
            if returned != (quantity if status == "cancelled" else 0):
                problems.append(f"redemption {redemption_id} ({status}): {returned} of item {item_id} returned")
    return problems

