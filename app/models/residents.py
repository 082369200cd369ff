"""一户一档 — the houses, households and residents (实有人口) of each building grid, the tags of
people who need care or attention (重点人群), and the visits made to them (走访).

Personal data (PIPL): a resident's phone and ID number and a house's room are masked for
roles that do not manage them; the sensitive tags are shown only with their own permission. The
database keeps what must always hold:

- a house lies in a building micro-grid, or in a block grid where there are none
  (``houses_in_building``, migration 0025); a household
  lies in its house's grid and a resident in its household's (composite foreign keys that follow
  a house moved to another grid);
- a resident lives in one household at a time (one column, ``household_id``), and every move in
  or out of a household is written to ``household_moves`` by a trigger, so the history is kept
  whatever path changed it;
- the head of a household is one of its current members (a composite foreign key, checked at
  commit);
- gender and birth date are derived from the ID number by the database (generated columns);
- a resident's next visit is due (``next_visit_due``) a tag's interval after the last visit
  (``last_visited_at``, kept by the visits' trigger): the overdue list reads one index;
  ``care_visit_due`` counts the tags without the sensitive ones, for who may not see them."""
from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Optional
from zoneinfo import ZoneInfo

from flask_appbuilder import Model
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Computed,
    Date,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .choices import (
    ATTENTION_TAGS,
    ETHNICITIES,
    HOUSE_OWNERSHIPS,
    HOUSE_USES,
    HOUSEHOLD_KINDS,
    RELATIONS,
    RESIDENCE_STATUSES,
    VISIT_METHODS,
    fk_index,
    sql_in,
)
from .people import MOBILE_CHECK, RESIDENT_ID_CHECK

# What the database derives from an 18-character ID number: the birth date (characters 7–14)
# and the gender (the 17th digit: odd for a man).
BIRTH_DATE_SQL = ("make_date(substr(id_number, 7, 4)::integer, substr(id_number, 11, 2)::integer, "
                  "substr(id_number, 13, 2)::integer)")
GENDER_SQL = "CASE WHEN mod(substr(id_number, 17, 1)::integer, 2) = 1 THEN 'male' ELSE 'female' END"


class AttentionTag(Model):
    """A tag of people who need care or attention (独居老人, 社区矫正…): whether it is sensitive
    (shown only with its own permission) and how often a person with it is visited. The tags
    are a closed list (``ATTENTION_TAGS``); an administrator sets each one's interval."""

    __tablename__ = "attention_tags"
    __table_args__ = (
        CheckConstraint(f"code IN {sql_in(ATTENTION_TAGS)}", name="attention_tags_code_valid"),
        CheckConstraint("visit_days IS NULL OR visit_days BETWEEN 1 AND 366", name="attention_tags_visit_days_range"),
        UniqueConstraint("code", name="attention_tags_code_key"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), nullable=False)
    sensitive: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    # a person with this tag is visited at least every this many days; none: no visits required
    visit_days: Mapped[Optional[int]] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)

    def __repr__(self) -> str:
        return self.code


class House(Model):
    """房屋 — a dwelling or premises in a building micro-grid (or a block grid): its unit and room, use, area,
    ownership and its owner or landlord (a resident)."""

    __tablename__ = "houses"
    __table_args__ = (
        CheckConstraint(f"use IN {sql_in(HOUSE_USES)}", name="houses_use_valid"),
        CheckConstraint(f"ownership IN {sql_in(HOUSE_OWNERSHIPS)}", name="houses_ownership_valid"),
        CheckConstraint("length(btrim(room)) > 0", name="houses_room_not_blank"),
        CheckConstraint("unit IS NULL OR length(btrim(unit)) > 0", name="houses_unit_not_blank"),
        CheckConstraint("area_m2 IS NULL OR (area_m2 > 0 AND area_m2 < 100000)", name="houses_area_range"),
        # one room of a unit of a building; a unit left empty is one unit (NULLS NOT DISTINCT)
        Index("houses_grid_id_unit_room_key", "grid_id", "unit", "room", unique=True,
              postgresql_nulls_not_distinct=True),
        UniqueConstraint("id", "grid_id", name="houses_id_grid_id_key"),  # its households refer to both
        fk_index("houses", "owner_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    grid_id: Mapped[int] = mapped_column(
        ForeignKey("grids.id", ondelete="RESTRICT", name="houses_grid_id_fkey"), nullable=False)
    unit: Mapped[Optional[str]] = mapped_column(String(20))
    room: Mapped[str] = mapped_column(String(20), nullable=False)
    use: Mapped[str] = mapped_column(String(16), nullable=False, default="residential")
    area_m2: Mapped[Optional[Decimal]] = mapped_column(Numeric(8, 2))
    ownership: Mapped[str] = mapped_column(String(16), nullable=False, default="owned")
    owner_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("residents.id", ondelete="SET NULL", name="houses_owner_id_fkey", use_alter=True))

    grid = relationship("Grid")
    owner = relationship("Resident", foreign_keys=[owner_id], post_update=True)
    households: Mapped[list["Household"]] = relationship(
        "Household", back_populates="house", order_by="Household.number", viewonly=True)

    @property
    def address(self) -> str:
        """单元 and room: 2单元501."""
        return f"{self.unit or ''}{self.room}"

    def __repr__(self) -> str:
        return self.address


class Household(Model):
    """户 — the people living together in a house: its number (户号), kind and head."""

    __tablename__ = "households"
    __table_args__ = (
        CheckConstraint(f"kind IN {sql_in(HOUSEHOLD_KINDS)}", name="households_kind_valid"),
        CheckConstraint("number ~ '^[0-9A-Za-z-]{1,32}$'", name="households_number_format"),
        UniqueConstraint("number", name="households_number_key"),
        UniqueConstraint("id", "grid_id", name="households_id_grid_id_key"),  # its residents refer to both
        # in its house's grid, following the house when it moves
        ForeignKeyConstraint(["house_id", "grid_id"], ["houses.id", "houses.grid_id"], onupdate="CASCADE",
                             ondelete="RESTRICT", name="households_house_id_grid_id_fkey"),
        # the head is one of its current members (checked at commit: a household and its head are
        # written together)
        ForeignKeyConstraint(["head_id", "id"], ["residents.id", "residents.household_id"], deferrable=True,
                             initially="DEFERRED", name="households_head_is_member_fkey", use_alter=True),
        Index("households_house_id_idx", "house_id"),
        Index("households_grid_id_idx", "grid_id", "number"),
        fk_index("households", "head_id"),
    )

    # generated although the head's key names it (SQLAlchemy takes a key in a foreign key for a given one)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    number: Mapped[str] = mapped_column(String(32), nullable=False)
    house_id: Mapped[int] = mapped_column(Integer, nullable=False)
    grid_id: Mapped[int] = mapped_column(
        ForeignKey("grids.id", ondelete="RESTRICT", name="households_grid_id_fkey"), nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False, default="registered")
    head_id: Mapped[Optional[int]] = mapped_column(Integer)

    house = relationship("House", foreign_keys=[house_id], primaryjoin="Household.house_id == House.id",
                         back_populates="households")
    grid = relationship("Grid", foreign_keys=[grid_id])
    head = relationship("Resident", foreign_keys=[head_id], primaryjoin="Household.head_id == Resident.id",
                        post_update=True)
    members: Mapped[list["Resident"]] = relationship(
        "Resident", primaryjoin="Household.id == Resident.household_id", foreign_keys="Resident.household_id",
        order_by="Resident.id", viewonly=True)

    def __repr__(self) -> str:
        return self.number


class Resident(Model):
    """实有人口 — a person living in a grid: who they are, how they live here, and the tags of
    care or attention they carry."""

    __tablename__ = "residents"
    __table_args__ = (
        CheckConstraint("length(btrim(name)) > 0", name="residents_name_not_blank"),
        CheckConstraint(f"id_number {RESIDENT_ID_CHECK}", name="residents_id_number_valid"),
        CheckConstraint("id_number IS NOT NULL OR residence_status = 'overseas'", name="residents_id_number_required"),
        CheckConstraint(f"phone IS NULL OR phone {MOBILE_CHECK}", name="residents_phone_mobile"),
        CheckConstraint(f"residence_status IN {sql_in(RESIDENCE_STATUSES)}", name="residents_residence_status_valid"),
        CheckConstraint(f"ethnicity IS NULL OR ethnicity IN {sql_in(ETHNICITIES)}", name="residents_ethnicity_valid"),
        CheckConstraint(f"relation IS NULL OR relation IN {sql_in(RELATIONS)}", name="residents_relation_valid"),
        CheckConstraint(f"tags <@ ARRAY{list(ATTENTION_TAGS)}::varchar[]", name="residents_tags_valid"),
        CheckConstraint("moved_out IS NULL OR moved_in IS NULL OR moved_out >= moved_in", name="residents_moved_out_after_in"),
        CheckConstraint("(household_id IS NULL) = (relation IS NULL)", name="residents_relation_with_household"),
        CheckConstraint("moved_out IS NULL OR household_id IS NULL", name="residents_moved_out_has_no_household"),
        CheckConstraint("moved_in IS NULL OR moved_in >= DATE '1900-01-01'", name="residents_moved_in_range"),
        CheckConstraint("moved_out IS NULL OR moved_out >= DATE '1900-01-01'", name="residents_moved_out_range"),
        UniqueConstraint("id_number", name="residents_id_number_key"),
        UniqueConstraint("id", "household_id", name="residents_id_household_id_key"),  # a head is a member
        ForeignKeyConstraint(["household_id", "grid_id"], ["households.id", "households.grid_id"],
                             onupdate="CASCADE", ondelete="RESTRICT", name="residents_household_id_grid_id_fkey"),
        # a grid's residents in the list's order, and the lookups of a search
        Index("residents_grid_id_name_idx", "grid_id", "name", "id"),
        Index("residents_name_idx", text("name varchar_pattern_ops"), "id"),
        Index("residents_name_initials_idx", text("name_initials varchar_pattern_ops")),
        Index("residents_phone_idx", "phone"),
        Index("residents_phone_last4_idx", text("right(phone, 4)")),
        Index("residents_id_number_last4_idx", text("right(id_number, 4)")),
        Index("residents_tags_idx", "tags", postgresql_using="gin"),
        Index("residents_household_id_idx", "household_id"),
        Index("residents_visit_due_idx", "next_visit_due", "grid_id", postgresql_where=text("next_visit_due IS NOT NULL")),
        Index("residents_care_visit_due_idx", "care_visit_due", "grid_id",
              postgresql_where=text("care_visit_due IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(50), nullable=False)
    # the pinyin initials of the name (张三 → zs), for a search typed on a phone's keyboard
    name_initials: Mapped[str] = mapped_column(String(50), nullable=False, server_default=text("''"))
    id_number: Mapped[Optional[str]] = mapped_column(String(18))
    gender: Mapped[Optional[str]] = mapped_column(String(6), Computed(GENDER_SQL, persisted=True))
    birth_date: Mapped[Optional[datetime.date]] = mapped_column(Date, Computed(BIRTH_DATE_SQL, persisted=True))
    phone: Mapped[Optional[str]] = mapped_column(String(11))
    ethnicity: Mapped[Optional[str]] = mapped_column(String(2))
    residence_status: Mapped[str] = mapped_column(String(16), nullable=False, default="registered")
    moved_in: Mapped[Optional[datetime.date]] = mapped_column(Date)
    moved_out: Mapped[Optional[datetime.date]] = mapped_column(Date)
    workplace: Mapped[Optional[str]] = mapped_column(String(100))
    party_member: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    tags: Mapped[list[str]] = mapped_column(ARRAY(String(32)), nullable=False, server_default=text("'{}'"), default=list)
    grid_id: Mapped[int] = mapped_column(
        ForeignKey("grids.id", ondelete="RESTRICT", name="residents_grid_id_fkey"), nullable=False)
    household_id: Mapped[Optional[int]] = mapped_column(Integer)
    relation: Mapped[Optional[str]] = mapped_column(String(16))  # to the head of the household
    # kept by the database: the last visit (the visits' trigger) and when the next is due
    last_visited_at: Mapped[Optional[datetime.datetime]] = mapped_column(DateTime(timezone=True))
    next_visit_due: Mapped[Optional[datetime.date]] = mapped_column(Date)
    # the same without the sensitive tags: what a role that may not see them is shown
    care_visit_due: Mapped[Optional[datetime.date]] = mapped_column(Date)

    grid = relationship("Grid", foreign_keys=[grid_id])
    household = relationship("Household", foreign_keys=[household_id],
                             primaryjoin="Resident.household_id == Household.id")

    @property
    def visit_due(self) -> tuple:
        """(when the next visit is due by all the tags, by the tags without the sensitive ones)."""
        return self.next_visit_due, self.care_visit_due

    @property
    def age(self) -> int | None:
        """Whole years since the birth date, today in China Standard Time."""
        if self.birth_date is None:
            return None
        today = datetime.datetime.now(ZoneInfo("Asia/Shanghai")).date()
        born = self.birth_date
        return today.year - born.year - ((today.month, today.day) < (born.month, born.day))

    def __repr__(self) -> str:
        return self.name


class HouseholdMove(Model):
    """A stretch of a resident's life in a household, written by the residents' trigger when
    they join or leave one (migration 0025): the household's history and the resident's."""

    __tablename__ = "household_moves"
    __table_args__ = (
        CheckConstraint("left_on IS NULL OR left_on >= joined_on", name="household_moves_left_after_joined"),
        # one open stretch per resident: one household at a time
        Index("household_moves_open_key", "resident_id", unique=True, postgresql_where=text("left_on IS NULL")),
        Index("household_moves_resident_id_idx", "resident_id", "joined_on"),
        Index("household_moves_household_id_idx", "household_id", "joined_on"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resident_id: Mapped[int] = mapped_column(
        ForeignKey("residents.id", ondelete="CASCADE", name="household_moves_resident_id_fkey"), nullable=False)
    household_id: Mapped[int] = mapped_column(
        ForeignKey("households.id", ondelete="CASCADE", name="household_moves_household_id_fkey"), nullable=False)
    relation: Mapped[Optional[str]] = mapped_column(String(16))
    joined_on: Mapped[datetime.date] = mapped_column(Date, nullable=False)
    left_on: Mapped[Optional[datetime.date]] = mapped_column(Date)

    resident = relationship("Resident")
    household = relationship("Household")


class Visit(Model):
    """走访 — a visit to a resident or a household: who went, when, how, what was found and what
    follows; the incident it raised, if any."""

    __tablename__ = "visits"
    __table_args__ = (
        CheckConstraint("num_nonnulls(resident_id, household_id) = 1", name="visits_one_visited"),
        CheckConstraint("visited_at >= TIMESTAMPTZ '2000-01-01 00:00+08'", name="visits_visited_at_range"),
        CheckConstraint(f"method IN {sql_in(VISIT_METHODS)}", name="visits_method_valid"),
        CheckConstraint("length(btrim(found)) > 0 AND length(found) <= 2000", name="visits_found_length"),
        CheckConstraint("follow_up IS NULL OR length(follow_up) <= 2000", name="visits_follow_up_length"),
        Index("visits_grid_id_idx", "grid_id", "visited_at", "id"),
        Index("visits_visited_at_idx", "visited_at", "id"),  # the list's order, newest first
        fk_index("visits", "resident_id", "visited_at"),
        fk_index("visits", "household_id", "visited_at"),
        Index("visits_visitor_id_idx", "visitor_id", "visited_at"),
        fk_index("visits", "incident_id"),
        fk_index("visits", "patrol_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resident_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("residents.id", ondelete="CASCADE", name="visits_resident_id_fkey"))
    household_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("households.id", ondelete="CASCADE", name="visits_household_id_fkey"))
    grid_id: Mapped[int] = mapped_column(
        ForeignKey("grids.id", ondelete="RESTRICT", name="visits_grid_id_fkey"), nullable=False)
    visitor_id: Mapped[int] = mapped_column(
        ForeignKey("ab_user.id", ondelete="RESTRICT", name="visits_visitor_id_fkey"), nullable=False)
    visited_at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True), nullable=False,
                                                          server_default=func.now())
    method: Mapped[str] = mapped_column(String(16), nullable=False, default="home")
    found: Mapped[str] = mapped_column(Text, nullable=False)
    follow_up: Mapped[Optional[str]] = mapped_column(Text)
    incident_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("incidents.id", ondelete="SET NULL", name="visits_incident_id_fkey"))
    # the patrol it was made on (巡查日志), if the visitor had one under way
    patrol_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("patrols.id", ondelete="SET NULL", name="visits_patrol_id_fkey"))

    resident = relationship("Resident")
    household = relationship("Household")
    grid = relationship("Grid")
    visitor = relationship("GridgovUser")
    incident = relationship("Incident")

    def __repr__(self) -> str:
        return f"{self.visited_at:%Y-%m-%d}"


class GridRecords(Model):
    """What 一户一档 counts in one grid: its households and the residents living there now, kept
    by the rows' triggers (migration 0025). A grid's household and population figures come from
    here once it has records (services/grids.py ``counted_figures``)."""

    __tablename__ = "grid_records"

    grid_id: Mapped[int] = mapped_column(
        ForeignKey("grids.id", ondelete="CASCADE", name="grid_records_grid_id_fkey"), primary_key=True)
    households: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))
    residents: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))
