"""吹哨报到 — the street or district "blows the whistle" on incidents a community cannot handle;
the summoned departments report in, act, and submit what they did; the blower closes it and
rates each department. The database refuses a deadline before the whistle and closing it while
a department's result is missing (migration 0004)."""
from __future__ import annotations

import datetime
from typing import Optional

from flask_appbuilder import Model
from sqlalchemy import (
    CheckConstraint,
    Column,
    DateTime,
    FetchedValue,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Table,
    UniqueConstraint,
    and_,
    exists,
    func,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, column_property, mapped_column, relationship

from .choices import fk_index

whistle_incidents = Table(
    "whistle_incidents",
    Model.metadata,
    Column("whistle_id", Integer, ForeignKey("whistles.id", ondelete="CASCADE",
                                             name="whistle_incidents_whistle_id_fkey"), primary_key=True),
    Column("incident_id", Integer, ForeignKey("incidents.id", ondelete="RESTRICT",
                                              name="whistle_incidents_incident_id_fkey"), primary_key=True),
    Index("whistle_incidents_incident_id_idx", "incident_id"),
)


class WhistleSummons(Model):
    """报到 — one summoned department of a whistle: when it reported in, what it did, its rating.

    Frozen once its whistle is closed (``whistle_summonses_closed_frozen``, migration 0020)."""

    __tablename__ = "whistle_summonses"
    __table_args__ = (
        UniqueConstraint("whistle_id", "department_id", name="whistle_summonses_one_per_department"),
        CheckConstraint("result_at IS NULL OR reported_at IS NOT NULL", name="whistle_summonses_report_before_result"),
        CheckConstraint("(result IS NULL) = (result_at IS NULL)", name="whistle_summonses_result_with_time"),
        CheckConstraint("rating IS NULL OR (rating BETWEEN 1 AND 5 AND result_at IS NOT NULL)",
                        name="whistle_summonses_rating_after_result"),
        Index("whistle_summonses_department_id_idx", "department_id"),
        fk_index("whistle_summonses", "reported_by_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    whistle_id: Mapped[int] = mapped_column(
        ForeignKey("whistles.id", ondelete="CASCADE", name="whistle_summonses_whistle_id_fkey"), nullable=False
    )
    department_id: Mapped[int] = mapped_column(
        ForeignKey("departments.id", ondelete="RESTRICT", name="whistle_summonses_department_id_fkey"), nullable=False
    )
    reported_at: Mapped[Optional[datetime.datetime]] = mapped_column(DateTime(timezone=True))
    reported_by_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("ab_user.id", ondelete="SET NULL", name="whistle_summonses_reported_by_id_fkey")
    )
    result: Mapped[Optional[str]] = mapped_column(String(1000))
    result_at: Mapped[Optional[datetime.datetime]] = mapped_column(DateTime(timezone=True))
    rating: Mapped[Optional[int]] = mapped_column(SmallInteger)

    whistle = relationship("Whistle", back_populates="summonses")
    department = relationship("Department")

    def __repr__(self) -> str:
        return str(self.department)


class Whistle(Model):
    """吹哨 — a summons of departments to one or more incidents, with a deadline to report in."""

    __tablename__ = "whistles"
    __table_args__ = (
        CheckConstraint("level IN ('street', 'district')", name="whistles_level_valid"),
        CheckConstraint("status IN ('open', 'closed')", name="whistles_status_valid"),
        CheckConstraint("length(btrim(reason)) > 0", name="whistles_reason_not_blank"),
        CheckConstraint("deadline > blown_at", name="whistles_deadline_after_blowing"),
        CheckConstraint("(status = 'closed') = (closed_at IS NOT NULL)", name="whistles_closed_at_when_closed"),
        Index("whistles_grid_id_idx", "grid_id"),
        fk_index("whistles", "blown_by_id"),
        Index("whistles_status_deadline_idx", "status", "deadline"),
        Index("whistles_scope_grid_ids_gin", "scope_grid_ids", postgresql_using="gin"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    level: Mapped[str] = mapped_column(String(10), nullable=False)
    grid_id: Mapped[int] = mapped_column(
        ForeignKey("grids.id", ondelete="RESTRICT", name="whistles_grid_id_fkey"), nullable=False
    )
    reason: Mapped[str] = mapped_column(String(500), nullable=False)
    deadline: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    status: Mapped[str] = mapped_column(String(8), nullable=False, default="open")
    blown_by_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("ab_user.id", ondelete="SET NULL", name="whistles_blown_by_id_fkey")
    )
    blown_by_name: Mapped[str] = mapped_column(String(130), nullable=False)
    blown_at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True), nullable=False,
                                                        server_default=func.now())
    closed_at: Mapped[Optional[datetime.datetime]] = mapped_column(DateTime(timezone=True))
    # Derived in PostgreSQL (migration 0007), never written here: the grids whose users see the
    # whistle (ancestors of the blowing grid, and every grid seeing one of its incidents).
    scope_grid_ids = mapped_column(ARRAY(Integer), nullable=False, server_default=FetchedValue(),
                                   server_onupdate=FetchedValue(), deferred=True)

    grid = relationship("Grid")
    summonses: Mapped[list[WhistleSummons]] = relationship(
        WhistleSummons, back_populates="whistle", cascade="all, delete-orphan", order_by=WhistleSummons.id
    )
    incidents = relationship("Incident", secondary=whistle_incidents, order_by="Incident.id")
    departments = relationship("Department", secondary="whistle_summonses", viewonly=True)

    def __repr__(self) -> str:
        return f"#{self.id}"


# Open, and a summoned department has not submitted its result by the deadline.
Whistle.overdue = column_property(
    and_(
        Whistle.status == "open",
        Whistle.deadline < func.now(),
        exists(select(WhistleSummons.id).where(WhistleSummons.whistle_id == Whistle.id,
                                                WhistleSummons.result_at.is_(None))),
    )
)
