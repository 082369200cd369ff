"""The points bank (积分银行 / 道德银行): accounts, an append-only ledger, the reward catalog,
stock movements and redemptions.

What must hold is enforced by PostgreSQL (migration 0002), not by Python:
- ``points_entries`` and ``stock_movements`` refuse UPDATE, DELETE and TRUNCATE; a mistake is
  corrected by a new compensating row;
- a balance (a stock) changes only through an entry (a movement): an AFTER INSERT trigger adds
  the amount with one ``UPDATE … SET balance = balance + amount`` (a row lock, no
  read-then-write), and a guard trigger refuses any other change of the column;
- ``CHECK (balance >= 0)`` and ``CHECK (stock >= 0)``: a redemption that would overspend or
  oversell fails as a whole;
- one ``earn`` entry per service record and per micro-wish, one ``redeem`` and at most one ``refund`` entry per
  redemption (partial unique indexes): a double click, a retry or two secretaries at once
  award or refund once;
- a worker's awards (migration 0030): one patrol award per account and month, one award per visit,
  each naming its rule and paid into a worker's account (a trigger); an account is not deleted
  while its holder exists.
"""
from __future__ import annotations

import datetime
from typing import Optional

from flask_appbuilder import Model
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    FetchedValue,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Table,
    UniqueConstraint,
    func,
    select,
    text,
)
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, column_property, mapped_column, relationship

from .choices import ENTRY_KINDS, REDEMPTION_STATUSES, RULE_UNITS, STOCK_KINDS, fk_index, sql_in
from .people import ServiceRecord


# Bounds no real use exceeds (migration 0020): points a rule earns an hour or an event, points one
# adjustment moves, items one restock or stock correction moves.
MAX_RULE_POINTS = 1000
MAX_ADJUSTMENT = 10_000
MAX_STOCK_CHANGE = 10_000


class PointsRule(Model):
    """积分规则 — an activity type and what it earns: points per hour or per event.

    A rule belongs to a scope (migration 0020): ``community_id`` empty, it is the whole district's,
    kept by the district's staff and the administrator; else it is that community's own, kept by
    its secretary. A service record is priced by a rule of the whole district or of its
    volunteer's community; an incident category earns by a rule of the whole district. A rule in
    use keeps its owner (``points_rules_owner_in_use``)."""

    __tablename__ = "points_rules"
    __table_args__ = (
        CheckConstraint(f"unit IN {sql_in(RULE_UNITS)}", name="points_rules_unit_valid"),
        CheckConstraint(f"points > 0 AND points <= {MAX_RULE_POINTS}", name="points_rules_points_range"),
        CheckConstraint("length(btrim(name)) > 0", name="points_rules_name_not_blank"),
        fk_index("points_rules", "community_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(50), unique=True, nullable=False)
    unit: Mapped[str] = mapped_column(String(8), nullable=False, default="hour")
    points: Mapped[int] = mapped_column(Integer, nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    description: Mapped[Optional[str]] = mapped_column(String(200))
    community_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("grids.id", ondelete="RESTRICT", name="points_rules_community_id_fkey"))

    community = relationship("Grid", foreign_keys=[community_id])

    def __repr__(self) -> str:
        return self.name


# What a worker earns by (migration 0030): a month's patrols met, a visit made when due.
WORKER_AWARDS = ("patrol_month", "visit_due")
WORKER_AWARD_LABELS = {"patrol_month": _l("Patrols met for a month"), "visit_due": _l("Visit made when due")}


class WorkerPointsRule(Model):
    """工作积分规则 — what grid workers and building leaders earn (巡查达标奖励, 走访积分).

    ``patrol_month``: ``points`` when the worker met the district's patrol rule on at least
    ``min_share`` % of a past month's days; ``visit_due``: ``points`` per visit made when due to a
    resident needing attention, at most ``monthly_cap`` visits a month (none: no cap). Scoped as
    the volunteers' rules: no community, the whole district's; else that community's own, which
    replaces the district's for the workers under it. One active rule per award and scope."""

    __tablename__ = "worker_points_rules"
    __table_args__ = (
        CheckConstraint(f"award IN {sql_in(WORKER_AWARDS)}", name="worker_points_rules_award_valid"),
        CheckConstraint(f"points > 0 AND points <= {MAX_RULE_POINTS}", name="worker_points_rules_points_range"),
        CheckConstraint("length(btrim(name)) > 0", name="worker_points_rules_name_not_blank"),
        CheckConstraint("(award = 'patrol_month') = (min_share IS NOT NULL)", name="worker_points_rules_share_of_patrols"),
        CheckConstraint("min_share IS NULL OR min_share BETWEEN 1 AND 100", name="worker_points_rules_share_range"),
        CheckConstraint("monthly_cap IS NULL OR (award = 'visit_due' AND monthly_cap BETWEEN 1 AND 100)",
                        name="worker_points_rules_cap_of_visits"),
        fk_index("worker_points_rules", "community_id"),
        Index("worker_points_rules_one_active", "award", text("coalesce(community_id, 0)"), unique=True,
              postgresql_where=text("active")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(50), unique=True, nullable=False)
    award: Mapped[str] = mapped_column(String(16), nullable=False, default="patrol_month")
    points: Mapped[int] = mapped_column(Integer, nullable=False)
    min_share: Mapped[Optional[int]] = mapped_column(SmallInteger)
    monthly_cap: Mapped[Optional[int]] = mapped_column(SmallInteger)
    community_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("grids.id", ondelete="RESTRICT", name="worker_points_rules_community_id_fkey"))
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    description: Mapped[Optional[str]] = mapped_column(String(200))

    community = relationship("Grid", foreign_keys=[community_id])

    def __repr__(self) -> str:
        return self.name


# The months whose workers' awards were made (migration 0030): the award runs once a month is past.
worker_points_months = Table(
    "worker_points_months",
    Model.metadata,
    Column("month", Date, nullable=False),
    Column("awarded_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("entries", Integer, nullable=False),
    CheckConstraint("extract(day FROM month) = 1", name="worker_points_months_first_day"),
    CheckConstraint("entries >= 0", name="worker_points_months_entries_nonnegative"),
    PrimaryKeyConstraint("month", name="worker_points_months_pkey"),
)


class PointsAccount(Model):
    """积分账户 — one per holder (a volunteer or a worker), made by a trigger with the holder.

    ``grid_id`` is the holder's grid (a volunteer's community, a worker's grid), held equal to it
    by two composite foreign keys that also carry a move to the account (migration 0015): a grid
    scope's accounts are read from ``(grid_id, balance, id)``."""

    __tablename__ = "points_accounts"
    __table_args__ = (
        CheckConstraint("balance >= 0", name="points_accounts_balance_nonnegative"),
        CheckConstraint("num_nonnulls(volunteer_id, worker_id) = 1", name="points_accounts_one_holder"),
        Index("points_accounts_balance_idx", "balance", "id"),  # the list's order, highest first
        ForeignKeyConstraint(["volunteer_id", "grid_id"], ["volunteers.id", "volunteers.community_id"],
                             name="points_accounts_volunteer_grid_fkey", onupdate="CASCADE", ondelete="CASCADE"),
        ForeignKeyConstraint(["worker_id", "grid_id"], ["workers.id", "workers.grid_id"],
                             name="points_accounts_worker_grid_fkey", onupdate="CASCADE", ondelete="CASCADE"),
        Index("points_accounts_grid_id_idx", "grid_id", "balance", "id"),  # a grid scope's accounts, in order
        UniqueConstraint("id", "grid_id", name="points_accounts_id_grid_id_key"),  # points_earned's key
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    volunteer_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("volunteers.id", ondelete="CASCADE", name="points_accounts_volunteer_id_fkey"), unique=True
    )
    worker_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("workers.id", ondelete="CASCADE", name="points_accounts_worker_id_fkey"), unique=True
    )
    grid_id: Mapped[int] = mapped_column(Integer, nullable=False)
    balance: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default=text("0"),
                                         server_onupdate=FetchedValue())
    created_at: Mapped[datetime.datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )

    volunteer = relationship("Volunteer", foreign_keys=[volunteer_id])
    worker = relationship("Worker", foreign_keys=[worker_id])
    # What its name is made of: list pages load these together with the account.
    __repr_relations__ = ("volunteer", "worker")

    @property
    def holder(self):
        return self.volunteer or self.worker

    def __repr__(self) -> str:
        holder = self.holder
        return holder.name if holder is not None else f"#{self.id}"


class LedgerEntry(Model):
    """积分流水 — one change of one account, never edited or deleted."""

    __tablename__ = "points_entries"
    __table_args__ = (
        CheckConstraint(f"kind IN {sql_in(ENTRY_KINDS)}", name="points_entries_kind_valid"),
        CheckConstraint(
            "(kind IN ('earn', 'refund') AND amount > 0) OR (kind IN ('redeem', 'expire') AND amount < 0)"
            " OR (kind = 'adjust' AND amount <> 0)",
            name="points_entries_amount_sign",
        ),
        CheckConstraint("length(btrim(reason)) > 0", name="points_entries_reason_not_blank"),
        CheckConstraint("kind <> 'earn' OR service_record_id IS NOT NULL OR incident_ref IS NOT NULL"
                        " OR micro_wish_id IS NOT NULL OR worker_rule_id IS NOT NULL",
                        name="points_entries_earn_has_reference"),
        CheckConstraint("worker_rule_id IS NULL OR (kind = 'earn' AND award_month IS NOT NULL"
                        " AND extract(day FROM award_month) = 1)", name="points_entries_worker_award"),
        CheckConstraint("(award_month IS NULL AND visit_id IS NULL) OR worker_rule_id IS NOT NULL",
                        name="points_entries_award_month_of_rule"),
        CheckConstraint(f"kind <> 'adjust' OR abs(amount) <= {MAX_ADJUSTMENT}", name="points_entries_adjust_bound"),
        CheckConstraint("kind NOT IN ('redeem', 'refund') OR redemption_id IS NOT NULL",
                        name="points_entries_redemption_reference"),
        Index("points_entries_account_id_idx", "account_id", "id"),
        fk_index("points_entries", "created_by_id"),
        Index("points_entries_kind_created_at_idx", "kind", "created_at"),
        Index("points_entries_one_award_per_record", "service_record_id", unique=True,
              postgresql_where=text("kind = 'earn'")),
        Index("points_entries_one_award_per_incident", "incident_ref", unique=True,
              postgresql_where=text("kind = 'earn' AND incident_ref IS NOT NULL")),
        Index("points_entries_one_award_per_wish", "micro_wish_id", unique=True,
              postgresql_where=text("kind = 'earn'")),
        fk_index("points_entries", "worker_rule_id"),
        Index("points_entries_one_patrol_award_per_month", "account_id", "award_month", unique=True,
              postgresql_where=text("worker_rule_id IS NOT NULL AND visit_id IS NULL")),
        Index("points_entries_one_award_per_visit", "visit_id", unique=True, postgresql_where=text("visit_id IS NOT NULL")),
        Index("points_entries_one_redeem_per_redemption", "redemption_id", unique=True,
              postgresql_where=text("kind = 'redeem'")),
        Index("points_entries_one_refund_per_redemption", "redemption_id", unique=True,
              postgresql_where=text("kind = 'refund'")),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("points_accounts.id", ondelete="RESTRICT", name="points_entries_account_id_fkey"), nullable=False
    )
    kind: Mapped[str] = mapped_column(String(8), nullable=False)
    amount: Mapped[int] = mapped_column(BigInteger, nullable=False)
    reason: Mapped[str] = mapped_column(String(200), nullable=False)
    service_record_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("service_records.id", ondelete="RESTRICT", name="points_entries_service_record_id_fkey")
    )
    redemption_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("redemptions.id", ondelete="RESTRICT", name="points_entries_redemption_id_fkey")
    )
    # Incidents arrive with a later issue; until then a free reference such as "incident:123".
    incident_ref: Mapped[Optional[str]] = mapped_column(String(40))
    # the micro-wish (微心愿) whose claimer earned it (migration 0027)
    micro_wish_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("micro_wishes.id", ondelete="RESTRICT", name="points_entries_micro_wish_id_fkey")
    )
    # a worker's award (migration 0030): its rule, the month it pays for, the visit it pays for
    worker_rule_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("worker_points_rules.id", ondelete="RESTRICT", name="points_entries_worker_rule_id_fkey"))
    award_month: Mapped[Optional[datetime.date]] = mapped_column(Date)
    visit_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("visits.id", ondelete="RESTRICT", name="points_entries_visit_id_fkey"))
    created_by_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("ab_user.id", ondelete="SET NULL", name="points_entries_created_by_id_fkey")
    )
    created_at: Mapped[datetime.datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )

    account = relationship("PointsAccount")
    service_record = relationship("ServiceRecord")
    redemption = relationship("Redemption", back_populates="entries")
    created_by = relationship("GridgovUser")
    worker_rule = relationship("WorkerPointsRule")


# Points earned per volunteer's account and year (Beijing time), for the honour roll (migrations
# 0013, 0017): kept by a statement trigger on the append-only ledger, never written here.
# ``grid_id`` is the account's (the volunteer's community), held equal to it by a composite foreign
# key that carries a move: a community's best earners of a year are the first rows of its part of
# the grid index.
points_earned = Table(
    "points_earned",
    Model.metadata,
    Column("account_id", Integer, ForeignKey("points_accounts.id", ondelete="CASCADE",
                                             name="points_earned_account_id_fkey"), nullable=False),
    Column("year", SmallInteger, nullable=False),
    Column("earned", BigInteger, nullable=False),
    Column("grid_id", Integer, nullable=False),
    CheckConstraint("earned > 0", name="points_earned_positive"),
    PrimaryKeyConstraint("account_id", "year", name="points_earned_pkey"),
    ForeignKeyConstraint(["account_id", "grid_id"], ["points_accounts.id", "points_accounts.grid_id"],
                         name="points_earned_account_grid_fkey", onupdate="CASCADE", ondelete="CASCADE"),
    Index("points_earned_grid_year_idx", "grid_id", "year", text("earned DESC"), "account_id"),
)


class RewardItem(Model):
    """奖励物品 — what points buy, offered by one community or (no community) the whole district."""

    __tablename__ = "reward_items"
    __table_args__ = (
        CheckConstraint("price > 0 AND price <= 1000000", name="reward_items_price_range"),
        CheckConstraint("stock >= 0", name="reward_items_stock_nonnegative"),
        CheckConstraint("length(btrim(name)) > 0", name="reward_items_name_not_blank"),
        Index("reward_items_community_id_idx", "community_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(60), nullable=False)
    description: Mapped[Optional[str]] = mapped_column(String(300))
    picture: Mapped[Optional[str]] = mapped_column(String(200))
    price: Mapped[int] = mapped_column(Integer, nullable=False)
    stock: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"),
                                       server_onupdate=FetchedValue())
    community_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("grids.id", ondelete="RESTRICT", name="reward_items_community_id_fkey")
    )
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)

    community = relationship("Grid")

    def __repr__(self) -> str:
        return self.name


class StockMovement(Model):
    """库存变动 — one change of an item's stock, never edited or deleted."""

    __tablename__ = "stock_movements"
    __table_args__ = (
        CheckConstraint(f"kind IN {sql_in(STOCK_KINDS)}", name="stock_movements_kind_valid"),
        CheckConstraint(
            "(kind IN ('restock', 'cancel') AND change > 0) OR (kind = 'redeem' AND change < 0)"
            " OR (kind = 'adjust' AND change <> 0)",
            name="stock_movements_change_sign",
        ),
        CheckConstraint("kind NOT IN ('redeem', 'cancel') OR redemption_id IS NOT NULL",
                        name="stock_movements_redemption_reference"),
        CheckConstraint(f"kind NOT IN ('restock', 'adjust') OR abs(change) <= {MAX_STOCK_CHANGE}",
                        name="stock_movements_change_bound"),
        Index("stock_movements_item_id_idx", "item_id", "id"),
        fk_index("stock_movements", "created_by_id"),
        Index("stock_movements_one_per_redemption_item", "redemption_id", "item_id", "kind", unique=True,
              postgresql_where=text("redemption_id IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    item_id: Mapped[int] = mapped_column(
        ForeignKey("reward_items.id", ondelete="RESTRICT", name="stock_movements_item_id_fkey"), nullable=False
    )
    kind: Mapped[str] = mapped_column(String(8), nullable=False)
    change: Mapped[int] = mapped_column(Integer, nullable=False)
    reason: Mapped[Optional[str]] = mapped_column(String(200))
    redemption_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("redemptions.id", ondelete="RESTRICT", name="stock_movements_redemption_id_fkey")
    )
    created_by_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("ab_user.id", ondelete="SET NULL", name="stock_movements_created_by_id_fkey")
    )
    created_at: Mapped[datetime.datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )

    item = relationship("RewardItem")


class Redemption(Model):
    """兑换单 — items taken for points: pending pick-up, then handed over or cancelled."""

    __tablename__ = "redemptions"
    __table_args__ = (
        CheckConstraint(f"status IN {sql_in(REDEMPTION_STATUSES)}", name="redemptions_status_valid"),
        CheckConstraint("total_points > 0", name="redemptions_total_positive"),
        CheckConstraint("(status = 'pending') = (handled_at IS NULL)", name="redemptions_handled_when_closed"),
        Index("redemptions_account_id_idx", "account_id", "id"),
        Index("redemptions_status_idx", "status", "id"),
        fk_index("redemptions", "created_by_id"),
        fk_index("redemptions", "handled_by_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("points_accounts.id", ondelete="RESTRICT", name="redemptions_account_id_fkey"), nullable=False
    )
    status: Mapped[str] = mapped_column(String(12), nullable=False, default="pending")
    total_points: Mapped[int] = mapped_column(Integer, nullable=False)
    note: Mapped[Optional[str]] = mapped_column(String(200))
    # The key of the confirmation form that made it: a double submit cannot redeem twice.
    request_key: Mapped[Optional[str]] = mapped_column(String(64), unique=True)
    created_by_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("ab_user.id", ondelete="SET NULL", name="redemptions_created_by_id_fkey")
    )
    created_at: Mapped[datetime.datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )
    handled_by_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("ab_user.id", ondelete="SET NULL", name="redemptions_handled_by_id_fkey")
    )
    handled_at: Mapped[Optional[datetime.datetime]] = mapped_column(DateTime(timezone=True))

    account = relationship("PointsAccount")
    lines: Mapped[list["RedemptionLine"]] = relationship(
        "RedemptionLine", back_populates="redemption", cascade="all, delete-orphan", order_by="RedemptionLine.id"
    )
    entries = relationship("LedgerEntry", back_populates="redemption", order_by="LedgerEntry.id")
    created_by = relationship("GridgovUser", foreign_keys=[created_by_id])
    handled_by = relationship("GridgovUser", foreign_keys=[handled_by_id])

    def __repr__(self) -> str:
        return f"#{self.id}"


class RedemptionLine(Model):
    """One item of a redemption: quantity at the price of the day."""

    __tablename__ = "redemption_lines"
    __table_args__ = (
        CheckConstraint("quantity > 0 AND quantity <= 99", name="redemption_lines_quantity_range"),
        CheckConstraint("unit_price > 0", name="redemption_lines_price_positive"),
        UniqueConstraint("redemption_id", "item_id", name="redemption_lines_one_per_item"),
        Index("redemption_lines_item_id_idx", "item_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    redemption_id: Mapped[int] = mapped_column(
        ForeignKey("redemptions.id", ondelete="CASCADE", name="redemption_lines_redemption_id_fkey"), nullable=False
    )
    item_id: Mapped[int] = mapped_column(
        ForeignKey("reward_items.id", ondelete="RESTRICT", name="redemption_lines_item_id_fkey"), nullable=False
    )
    quantity: Mapped[int] = mapped_column(Integer, nullable=False)
    unit_price: Mapped[int] = mapped_column(Integer, nullable=False)

    redemption = relationship("Redemption", back_populates="lines")
    item = relationship("RewardItem")


# The points a service record earned, read with the record in one query (no query per row).
ServiceRecord.points_awarded = column_property(
    select(LedgerEntry.amount)
    .where(LedgerEntry.service_record_id == ServiceRecord.id, LedgerEntry.kind == "earn")
    .correlate_except(LedgerEntry)
    .scalar_subquery(),
)
