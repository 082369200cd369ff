"""巡查日志 and 打卡 — a grid worker's patrols with their tracks, the daily clock-in, and the patrol
rule of each district (how many patrols a day, how long and how far each).

A patrol's track is one row: three parallel arrays (latitudes, longitudes, and seconds since the
patrol started), not a row per point. Its counted distance and duration are derived from the
track by the service (services/patrols.py); a stretch faster than the district's bound is an
impossible jump, left out of the distance and counted in ``jumps``. Tracks and clock-in places
are personal data: the audit trail leaves them out (migration 0026)."""
from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Optional

from flask_appbuilder import Model
from sqlalchemy import (
    CheckConstraint,
    Computed,
    DateTime,
    Date,
    Double,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    SmallInteger,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column, relationship

# A patrol's and a clock-in's day: the local day it started (Beijing time), as the rule counts days.
LOCAL_DAY_OF_START = "((started_at AT TIME ZONE 'Asia/Shanghai'::text))::date"
LOCAL_DAY_OF_CLOCK_IN = "((clocked_at AT TIME ZONE 'Asia/Shanghai'::text))::date"


class Patrol(Model):
    """巡查 — one patrol of a grid worker: when it started and ended, its track, and what was
    counted of it (distance, duration, impossible jumps left out)."""

    __tablename__ = "patrols"
    __table_args__ = (
        CheckConstraint("ended_at IS NULL OR ended_at >= started_at", name="patrols_ended_after_started"),
        CheckConstraint("cardinality(latitudes) = cardinality(longitudes) AND cardinality(latitudes) = cardinality(seconds)",
                        name="patrols_track_lengths"),
        CheckConstraint("-90 <= ALL (latitudes) AND 90 >= ALL (latitudes)", name="patrols_latitudes_range"),
        CheckConstraint("-180 <= ALL (longitudes) AND 180 >= ALL (longitudes)", name="patrols_longitudes_range"),
        CheckConstraint("0 <= ALL (seconds)", name="patrols_seconds_range"),
        CheckConstraint("distance_m >= 0 AND duration_s >= 0 AND jumps >= 0", name="patrols_figures_range"),
        CheckConstraint("started_at >= TIMESTAMPTZ '2000-01-01 00:00+08'", name="patrols_started_at_range"),
        # one patrol under way per worker: two phones (or two taps) cannot start a second
        Index("patrols_open_key", "worker_id", unique=True, postgresql_where=text("ended_at IS NULL")),
        # a worker's days, read by the compliance list without visiting the rows
        Index("patrols_worker_id_day_idx", "worker_id", "day", postgresql_include=["duration_s", "distance_m", "jumps"]),
        Index("patrols_grid_id_idx", "grid_id", "started_at"),
        Index("patrols_started_at_idx", "started_at", "id"),  # the list's order, newest first
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    worker_id: Mapped[int] = mapped_column(
        ForeignKey("workers.id", ondelete="RESTRICT", name="patrols_worker_id_fkey"), nullable=False)
    grid_id: Mapped[int] = mapped_column(
        ForeignKey("grids.id", ondelete="RESTRICT", name="patrols_grid_id_fkey"), nullable=False)
    started_at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True), nullable=False,
                                                          server_default=func.now())
    ended_at: Mapped[Optional[datetime.datetime]] = mapped_column(DateTime(timezone=True))
    day: Mapped[datetime.date] = mapped_column(Date, Computed(LOCAL_DAY_OF_START, persisted=True))
    latitudes: Mapped[list[float]] = mapped_column(ARRAY(Double), nullable=False, server_default=text("'{}'"))
    longitudes: Mapped[list[float]] = mapped_column(ARRAY(Double), nullable=False, server_default=text("'{}'"))
    seconds: Mapped[list[int]] = mapped_column(ARRAY(Integer), nullable=False, server_default=text("'{}'"))
    distance_m: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))
    duration_s: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))
    jumps: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))
    fastest_jump: Mapped[Optional[Decimal]] = mapped_column(Numeric(7, 1))  # m/s of the fastest jump left out

    worker = relationship("Worker")
    grid = relationship("Grid")

    @property
    def flagged(self) -> bool:
        return bool(self.jumps)

    @property
    def points(self) -> int:
        return len(self.seconds or ())

    def __repr__(self) -> str:
        return f"{self.started_at:%Y-%m-%d %H:%M}" if self.started_at else "patrol"


class ClockIn(Model):
    """打卡 — a grid worker's clock-in of the day, with where it was made."""

    __tablename__ = "clock_ins"
    __table_args__ = (
        CheckConstraint("latitude BETWEEN -90 AND 90 AND longitude BETWEEN -180 AND 180", name="clock_ins_location_range"),
        CheckConstraint("accuracy_m IS NULL OR accuracy_m >= 0", name="clock_ins_accuracy_range"),
        UniqueConstraint("worker_id", "day", name="clock_ins_worker_id_day_key"),  # once a day
        Index("clock_ins_grid_id_idx", "grid_id", "day"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    worker_id: Mapped[int] = mapped_column(
        ForeignKey("workers.id", ondelete="RESTRICT", name="clock_ins_worker_id_fkey"), nullable=False)
    grid_id: Mapped[int] = mapped_column(
        ForeignKey("grids.id", ondelete="RESTRICT", name="clock_ins_grid_id_fkey"), nullable=False)
    clocked_at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True), nullable=False,
                                                          server_default=func.now())
    day: Mapped[datetime.date] = mapped_column(Date, Computed(LOCAL_DAY_OF_CLOCK_IN, persisted=True))
    latitude: Mapped[float] = mapped_column(Double, nullable=False)
    longitude: Mapped[float] = mapped_column(Double, nullable=False)
    accuracy_m: Mapped[Optional[int]] = mapped_column(Integer)

    worker = relationship("Worker")
    grid = relationship("Grid")

    def __repr__(self) -> str:
        return f"{self.day}"


class PatrolRule(Model):
    """巡查要求 — what a district asks of each grid worker a day: at least ``min_patrols`` patrols of
    at least ``min_minutes`` and ``min_metres`` each; a stretch faster than ``max_speed`` (m/s) is an
    impossible jump. The row without a district is the default (Beipiao's: 2 a day, 1 h, 1 km)."""

    __tablename__ = "patrol_rules"
    __table_args__ = (
        CheckConstraint("min_patrols BETWEEN 1 AND 12", name="patrol_rules_min_patrols_range"),
        CheckConstraint("min_minutes BETWEEN 1 AND 720", name="patrol_rules_min_minutes_range"),
        CheckConstraint("min_metres BETWEEN 0 AND 100000", name="patrol_rules_min_metres_range"),
        CheckConstraint("max_speed >= 2 AND max_speed <= 50", name="patrol_rules_max_speed_range"),
        Index("patrol_rules_district_id_key", "district_id", unique=True, postgresql_nulls_not_distinct=True),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    district_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("grids.id", ondelete="CASCADE", name="patrol_rules_district_id_fkey"))
    min_patrols: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    min_minutes: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    min_metres: Mapped[int] = mapped_column(Integer, nullable=False)
    max_speed: Mapped[Decimal] = mapped_column(Numeric(4, 1), nullable=False)

    district = relationship("Grid")

    def __repr__(self) -> str:
        return f"{self.min_patrols} × {self.min_minutes} min / {self.min_metres} m"
