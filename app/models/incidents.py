"""Incidents (诉求 / 事件) in a closed loop, with their timeline and the tables that configure
them: categories and deadlines.

The timeline is append-only in the database (migration 0003): every action of the loop is a
row, and nothing can edit or delete one."""
from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Optional

from flask_appbuilder import Model
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Computed,
    Date,
    DateTime,
    FetchedValue,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    SmallInteger,
    String,
    Text,
    Table,
    UniqueConstraint,
    func,
)
from sqlalchemy import Column, PrimaryKeyConstraint, and_, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, column_property, mapped_column, query_expression, relationship

from .choices import HANDLING_LEVELS, INCIDENT_SOURCES, INCIDENT_STATUSES, OPEN_STATUSES, PENDING_STATUSES, URGENCIES, fk_index, in_constants, sql_in

MOBILE_CHECK = "reporter_phone IS NULL OR reporter_phone ~ '^1[3-9][0-9]{9}$'"


class IncidentCategory(Model):
    """事件类别 — a configurable list (环境卫生, 矛盾纠纷, 安全隐患…)."""

    __tablename__ = "incident_categories"
    __table_args__ = (CheckConstraint("length(btrim(name)) > 0", name="incident_categories_name_not_blank"),
                      fk_index("incident_categories", "points_rule_id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(50), unique=True, nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    # A category whose satisfied closing earns the volunteer who reported it points.
    points_rule_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("points_rules.id", ondelete="SET NULL", name="incident_categories_points_rule_id_fkey")
    )

    points_rule = relationship("PointsRule")

    def __repr__(self) -> str:
        return self.name


class DeadlineRule(Model):
    """处置时限 — how many hours a level has to move an incident of a category and urgency."""

    __tablename__ = "incident_deadlines"
    __table_args__ = (
        CheckConstraint(f"urgency IN {sql_in(URGENCIES)}", name="incident_deadlines_urgency_valid"),
        CheckConstraint("hours > 0 AND hours <= 8760", name="incident_deadlines_hours_range"),
        UniqueConstraint("category_id", "urgency", name="incident_deadlines_one_per_pair"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    category_id: Mapped[int] = mapped_column(
        ForeignKey("incident_categories.id", ondelete="CASCADE", name="incident_deadlines_category_id_fkey"),
        nullable=False,
    )
    urgency: Mapped[str] = mapped_column(String(10), nullable=False)
    hours: Mapped[int] = mapped_column(Integer, nullable=False)

    category = relationship("IncidentCategory")


class Incident(Model):
    """诉求 / 事件 — a problem found in a grid, handled level by level until the resident rates it.

    A closed incident is final: its status, rating, category and reporter are frozen by the
    database (``incidents_closed_frozen``, migration 0020), since its figures and the reporter's
    points rest on them."""

    __tablename__ = "incidents"
    __table_args__ = (
        CheckConstraint(f"source IN {sql_in(INCIDENT_SOURCES)}", name="incidents_source_valid"),
        CheckConstraint(f"urgency IN {sql_in(URGENCIES)}", name="incidents_urgency_valid"),
        CheckConstraint(f"status IN {sql_in(INCIDENT_STATUSES)}", name="incidents_status_valid"),
        CheckConstraint(f"level IN {sql_in(HANDLING_LEVELS)}", name="incidents_level_valid"),
        CheckConstraint("length(btrim(title)) > 0", name="incidents_title_not_blank"),
        CheckConstraint(MOBILE_CHECK, name="incidents_reporter_phone_mobile"),
        CheckConstraint("rating IS NULL OR rating BETWEEN 1 AND 5", name="incidents_rating_range"),
        CheckConstraint("latitude IS NULL OR latitude BETWEEN -90 AND 90", name="incidents_latitude_range"),
        CheckConstraint("longitude IS NULL OR longitude BETWEEN -180 AND 180", name="incidents_longitude_range"),
        CheckConstraint("(level = 'department') = (department_id IS NOT NULL)", name="incidents_department_level"),
        CheckConstraint("status <> 'closed' OR rating >= 3", name="incidents_closed_when_satisfied"),
        Index("incidents_grid_id_idx", "grid_id"),
        Index("incidents_holder_grid_id_idx", "holder_grid_id"),
        Index("incidents_status_deadline_idx", "status", "deadline"),
        Index("incidents_department_id_idx", "department_id", "id"),
        # a volunteer's own reports (migration 0016)
        Index("incidents_reporter_volunteer_idx", "reporter_volunteer_id", "id",
              postgresql_where=text("reporter_volunteer_id IS NOT NULL")),
        Index("incidents_created_at_idx", "created_at"),
        Index("incidents_category_id_idx", "category_id", "id"),
        fk_index("incidents", "handler_worker_id"),
        fk_index("incidents", "created_by_id"),
        fk_index("incidents", "patrol_id"),
        # the open incidents, newest first (the whistle form's choice): 0.4 % of them at city size
        Index("incidents_open_idx", "id", postgresql_where=text(f"status IN {sql_in(OPEN_STATUSES)}")),
        # who sees it and its words in one index: a street's keyword search walks both together
        Index("incidents_scope_words_gin", "scope_grid_ids", "search_grams", postgresql_using="gin"),
        # the to-dos of the home pages read only the pending incidents (migration 0021)
        Index("incidents_pending_scope_gin", "scope_grid_ids", postgresql_using="gin",
              postgresql_where=text(f"status IN {sql_in(PENDING_STATUSES)}")),
        Index("incidents_department_open_idx", "department_id", "deadline",
              postgresql_where=text(f"level = 'department' AND status IN {sql_in(OPEN_STATUSES)}")),
        Index("incidents_supervised_idx", "id",
              postgresql_where=text(f"supervised_at IS NOT NULL AND status IN {sql_in(PENDING_STATUSES)}")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(10), nullable=False, default="patrol")
    category_id: Mapped[int] = mapped_column(
        ForeignKey("incident_categories.id", ondelete="RESTRICT", name="incidents_category_id_fkey"), nullable=False
    )
    urgency: Mapped[str] = mapped_column(String(10), nullable=False, default="normal")
    title: Mapped[str] = mapped_column(String(100), nullable=False)
    description: Mapped[Optional[str]] = mapped_column(String(2000))
    address: Mapped[Optional[str]] = mapped_column(String(200))
    grid_id: Mapped[int] = mapped_column(
        ForeignKey("grids.id", ondelete="RESTRICT", name="incidents_grid_id_fkey"), nullable=False
    )
    latitude: Mapped[Optional[Decimal]] = mapped_column(Numeric(9, 6))
    longitude: Mapped[Optional[Decimal]] = mapped_column(Numeric(9, 6))
    photo: Mapped[Optional[str]] = mapped_column(String(200))
    reporter_name: Mapped[Optional[str]] = mapped_column(String(50))
    reporter_phone: Mapped[Optional[str]] = mapped_column(String(11))
    reporter_volunteer_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("volunteers.id", ondelete="SET NULL", name="incidents_reporter_volunteer_id_fkey")
    )
    created_by_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("ab_user.id", ondelete="SET NULL", name="incidents_created_by_id_fkey")
    )
    # the patrol it was reported on (巡查日志), if its reporter had one under way
    patrol_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("patrols.id", ondelete="SET NULL", name="incidents_patrol_id_fkey"))
    status: Mapped[str] = mapped_column(String(12), nullable=False, default="reported")
    # Who holds it: the level, the grid of that level (none at department level), and, when
    # handed down or dispatched, the worker or the department doing the work.
    level: Mapped[str] = mapped_column(String(10), nullable=False, default="grid")
    holder_grid_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("grids.id", ondelete="RESTRICT", name="incidents_holder_grid_id_fkey")
    )
    handler_worker_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("workers.id", ondelete="SET NULL", name="incidents_handler_worker_id_fkey")
    )
    department_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("departments.id", ondelete="RESTRICT", name="incidents_department_id_fkey")
    )
    deadline: Mapped[Optional[datetime.datetime]] = mapped_column(DateTime(timezone=True))
    # when the current deadline started counting: past 80 % of the way, it is near
    deadline_from: Mapped[Optional[datetime.datetime]] = mapped_column(DateTime(timezone=True))
    # 催办: urged by a superior, until the holder next acts; 督办: supervised until closed
    urged_at: Mapped[Optional[datetime.datetime]] = mapped_column(DateTime(timezone=True))
    supervised_at: Mapped[Optional[datetime.datetime]] = mapped_column(DateTime(timezone=True))
    # 代评: staff recorded the resident's rating for them
    rated_on_behalf: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False,
                                                  server_default=text("false"))
    rating: Mapped[Optional[int]] = mapped_column(SmallInteger)
    rating_note: Mapped[Optional[str]] = mapped_column(String(200))
    created_at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True), nullable=False,
                                                          server_default=func.now())
    resolved_at: Mapped[Optional[datetime.datetime]] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[Optional[datetime.datetime]] = mapped_column(DateTime(timezone=True))
    # Derived in PostgreSQL (migration 0006), never written here: the grids whose users see the
    # incident (ancestors of its grid and of its holder grid), and the characters and pairs of
    # characters of its text, each behind a GIN index.
    scope_grid_ids = mapped_column(ARRAY(Integer), nullable=False, server_default=FetchedValue(),
                                   server_onupdate=FetchedValue(), deferred=True)
    search_grams = mapped_column(ARRAY(Text), Computed(
        "gridgov_grams(((title)::text || ' '::text) || (COALESCE(description, ''::character varying))::text)",
        persisted=True), deferred=True)

    # Open and past its deadline, computed in the same SELECT as the row.
    overdue = column_property(and_(in_constants(status, OPEN_STATUSES), deadline < func.now()))
    # The timeline as JSON, when a query asks for it with the row (services.incidents.with_timeline).
    timeline_data = query_expression()

    category = relationship("IncidentCategory")
    grid = relationship("Grid", foreign_keys=[grid_id])
    holder_grid = relationship("Grid", foreign_keys=[holder_grid_id])
    handler_worker = relationship("Worker")
    department = relationship("Department")
    reporter_volunteer = relationship("Volunteer")
    events: Mapped[list["IncidentEvent"]] = relationship("IncidentEvent", back_populates="incident",
                                                          order_by="IncidentEvent.id")

    def __repr__(self) -> str:
        return f"#{self.id} {self.title}"


# One row per incident and grid that sees it, with what a list page, its status and category
# filters, its count and the figures read, all inside the primary key's index (migration 0007):
# a grid's incidents in id order and their figures are index-only scans. Kept by a trigger on
# incidents, never written here.
incident_scopes = Table(
    "incident_scopes",
    Model.metadata,
    Column("grid_id", Integer, nullable=False),
    Column("incident_id", Integer, nullable=False),
    Column("base_grid_id", Integer, nullable=False),
    Column("status", String(12), nullable=False),
    Column("category_id", Integer, nullable=False),
    Column("on_time", Boolean),
    Column("rating", SmallInteger),
    Column("created_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("grid_id", "incident_id", name="incident_scopes_pkey",
                         postgresql_include=["base_grid_id", "status", "category_id", "on_time", "rating",
                                                            "created_at"]),
)


# The figures' numbers for each grid that sees incidents and each base grid they were reported
# in (migration 0010): a street's totals are one row per base grid under it, whatever the number
# of incidents. Kept by statement triggers on incidents, never written here.
incident_tallies = Table(
    "incident_tallies",
    Model.metadata,
    Column("grid_id", Integer, nullable=False),
    Column("base_grid_id", Integer, nullable=False),
    Column("received", Integer, nullable=False),
    Column("resolved", Integer, nullable=False),
    Column("on_time", Integer, nullable=False),
    Column("rated", Integer, nullable=False),
    Column("rating_sum", Integer, nullable=False),
    PrimaryKeyConstraint("grid_id", "base_grid_id", name="incident_tallies_pkey"),
)


# Incidents received and resolved per grid that sees them, local month and category (migration
# 0023): the dashboard's trend and category mix over a year are a few rows of a grid. Kept by
# statement triggers on incidents, never written here.
incident_month_tallies = Table(
    "incident_month_tallies",
    Model.metadata,
    Column("grid_id", Integer, nullable=False),
    Column("month", Date, nullable=False),
    Column("category_id", Integer, nullable=False),
    Column("received", Integer, nullable=False),
    Column("resolved", Integer, nullable=False),
    PrimaryKeyConstraint("grid_id", "month", "category_id", name="incident_month_tallies_pkey"),
)


class IncidentEvent(Model):
    """时间线 — one action on an incident: who, in which role, from → to, level, handler, note."""

    __tablename__ = "incident_events"
    __table_args__ = (Index("incident_events_incident_id_idx", "incident_id", "id"),
                      fk_index("incident_events", "actor_id"))

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="RESTRICT", name="incident_events_incident_id_fkey"), nullable=False
    )
    action: Mapped[str] = mapped_column(String(20), nullable=False)
    actor_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("ab_user.id", ondelete="SET NULL", name="incident_events_actor_id_fkey")
    )
    actor_name: Mapped[str] = mapped_column(String(130), nullable=False)
    actor_role: Mapped[str] = mapped_column(String(64), nullable=False)
    from_status: Mapped[Optional[str]] = mapped_column(String(12))
    to_status: Mapped[str] = mapped_column(String(12), nullable=False)
    from_level: Mapped[Optional[str]] = mapped_column(String(10))
    to_level: Mapped[str] = mapped_column(String(10), nullable=False)
    handler: Mapped[Optional[str]] = mapped_column(String(130))
    note: Mapped[Optional[str]] = mapped_column(String(500))
    created_at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True), nullable=False,
                                                          server_default=func.now())

    incident = relationship("Incident", back_populates="events")
