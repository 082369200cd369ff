"""The people of the grid: workers and volunteers, and volunteers' service records.

Phone and ID numbers are personal data (PIPL): their formats are CHECK constraints here, the
ID check digit is verified by the SQL function ``gridgov_valid_resident_id`` (migration 0001)
and the views mask them for roles that do not manage the person."""
from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Optional

from flask_appbuilder import Model
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
    func,
    select,
)
from sqlalchemy.orm import Mapped, column_property, mapped_column, relationship

from .choices import EMPLOYMENT_TYPES, VOLUNTEER_KINDS, WORKER_ROLES, fk_index, sql_in

MOBILE_CHECK = "~ '^1[3-9][0-9]{9}$'"
RESIDENT_ID_CHECK = "IS NULL OR gridgov_valid_resident_id(id_number)"


class Worker(Model):
    """网格员 and the other grid roles (网格长, 楼栋长, 两长四员, 信息员…): a person in one grid."""

    __tablename__ = "workers"
    __table_args__ = (
        CheckConstraint(f"role IN {sql_in(WORKER_ROLES)}", name="workers_role_valid"),
        CheckConstraint(
            f"employment IN {sql_in(EMPLOYMENT_TYPES)}", name="workers_employment_valid"
        ),
        CheckConstraint(f"phone {MOBILE_CHECK}", name="workers_phone_mobile"),
        CheckConstraint(f"id_number {RESIDENT_ID_CHECK}", name="workers_id_number_valid"),
        CheckConstraint("length(btrim(name)) > 0", name="workers_name_not_blank"),
        Index("workers_grid_id_idx", "grid_id"),
        UniqueConstraint("id", "grid_id", name="workers_id_grid_id_key"),  # its account's grid refers to it
        Index("workers_name_idx", "name", "id"),  # the list's order
        fk_index("workers", "department_id", "name", "id"),  # a department's workers, in the list's order
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(50), nullable=False)
    role: Mapped[str] = mapped_column(String(32), nullable=False, default="grid_worker")
    grid_id: Mapped[int] = mapped_column(
        ForeignKey("grids.id", ondelete="RESTRICT", name="workers_grid_id_fkey"), nullable=False
    )
    phone: Mapped[str] = mapped_column(String(11), nullable=False)
    id_number: Mapped[Optional[str]] = mapped_column(String(18))
    employment: Mapped[str] = mapped_column(String(16), nullable=False, default="full_time")
    party_member: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    start_date: Mapped[datetime.date] = mapped_column(Date, nullable=False)
    department_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("departments.id", ondelete="SET NULL", name="workers_department_id_fkey")
    )

    grid = relationship("Grid", foreign_keys=[grid_id])
    department = relationship("Department")

    def __repr__(self) -> str:
        return self.name


class Volunteer(Model):
    """志愿者 — a resident or a sunk party member (下沉党员) who serves a community."""

    __tablename__ = "volunteers"
    __table_args__ = (
        CheckConstraint(f"kind IN {sql_in(VOLUNTEER_KINDS)}", name="volunteers_kind_valid"),
        CheckConstraint(f"phone {MOBILE_CHECK}", name="volunteers_phone_mobile"),
        CheckConstraint(f"id_number {RESIDENT_ID_CHECK}", name="volunteers_id_number_valid"),
        CheckConstraint("length(btrim(name)) > 0", name="volunteers_name_not_blank"),
        CheckConstraint(
            "kind <> 'sunk_party_member' OR unit_id IS NOT NULL",
            name="volunteers_sunk_member_has_unit",
        ),
        Index("volunteers_community_id_idx", "community_id"),
        UniqueConstraint("id", "community_id", name="volunteers_id_community_id_key"),  # its account's grid refers to it
        Index("volunteers_unit_id_idx", "unit_id"),
        Index("volunteers_name_idx", "name", "id"),  # the list's order
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(50), nullable=False)
    kind: Mapped[str] = mapped_column(String(24), nullable=False, default="resident")
    phone: Mapped[str] = mapped_column(String(11), nullable=False)
    id_number: Mapped[Optional[str]] = mapped_column(String(18))
    address: Mapped[Optional[str]] = mapped_column(String(200))
    community_id: Mapped[int] = mapped_column(
        ForeignKey("grids.id", ondelete="RESTRICT", name="volunteers_community_id_fkey"),
        nullable=False,
    )
    unit_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("departments.id", ondelete="RESTRICT", name="volunteers_unit_id_fkey")
    )
    skills: Mapped[Optional[str]] = mapped_column(String(200))
    party_member: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)

    community = relationship("Grid")
    unit = relationship("Department")
    service_records: Mapped[list["ServiceRecord"]] = relationship(
        "ServiceRecord",
        back_populates="volunteer",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="ServiceRecord.date.desc()",
    )

    def __repr__(self) -> str:
        return self.name


class ServiceRecord(Model):
    """志愿服务记录 — one stretch of a volunteer's service: date, hours, activity.

    Once priced into points (an ``earn`` entry names it), its volunteer, date, hours and activity
    type are frozen by the database (``service_records_awarded_frozen``, migration 0020): the
    ledger and the record always tell the same story, and a mistake is corrected by a
    compensating adjustment on the ledger. Its activity type is one of the whole district or of
    its volunteer's community (``service_records_rule_in_community``)."""

    __tablename__ = "service_records"
    __table_args__ = (
        CheckConstraint("hours > 0 AND hours <= 24", name="service_records_hours_range"),
        CheckConstraint("length(btrim(activity)) > 0", name="service_records_activity_not_blank"),
        Index("service_records_volunteer_id_date_idx", "volunteer_id", "date"),
        Index("service_records_date_idx", "date", "id"),  # the list's order, newest first
        fk_index("service_records", "rule_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    volunteer_id: Mapped[int] = mapped_column(
        ForeignKey(
            "volunteers.id", ondelete="CASCADE", name="service_records_volunteer_id_fkey"
        ),
        nullable=False,
    )
    date: Mapped[datetime.date] = mapped_column(Date, nullable=False)
    hours: Mapped[Decimal] = mapped_column(Numeric(4, 1), nullable=False)
    activity: Mapped[str] = mapped_column(String(200), nullable=False)
    # The activity type whose points rule prices this service (积分规则).
    rule_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("points_rules.id", ondelete="RESTRICT", name="service_records_rule_id_fkey")
    )

    volunteer = relationship("Volunteer", back_populates="service_records")
    rule = relationship("PointsRule")

    def __repr__(self) -> str:
        return f"{self.date} {self.activity}"


# Bounds of one training record (migration 0027): a course of several days, not a year's total.
MAX_TRAINING_HOURS = 200


class TrainingRecord(Model):
    """培训记录 — one course a worker attended: date, course, hours, organiser. A worker's yearly
    training hours (Qibin asks for 70) are the sum of their records of that year."""

    __tablename__ = "training_records"
    __table_args__ = (
        CheckConstraint(f"hours > 0 AND hours <= {MAX_TRAINING_HOURS}", name="training_records_hours_range"),
        CheckConstraint("length(btrim(course)) > 0", name="training_records_course_not_blank"),
        CheckConstraint("organiser IS NULL OR length(btrim(organiser)) > 0",
                        name="training_records_organiser_not_blank"),
        CheckConstraint("date >= DATE '2000-01-01'", name="training_records_date_range"),
        # a worker's records in the list's order, and a year's sum of them
        Index("training_records_worker_id_date_idx", "worker_id", "date"),
        Index("training_records_date_idx", "date", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    worker_id: Mapped[int] = mapped_column(
        ForeignKey("workers.id", ondelete="CASCADE", name="training_records_worker_id_fkey"), nullable=False
    )
    date: Mapped[datetime.date] = mapped_column(Date, nullable=False)
    course: Mapped[str] = mapped_column(String(100), nullable=False)
    hours: Mapped[Decimal] = mapped_column(Numeric(4, 1), nullable=False)
    organiser: Mapped[Optional[str]] = mapped_column(String(100))

    worker = relationship("Worker")

    def __repr__(self) -> str:
        return f"{self.date} {self.course}"


# The worker's training hours this year (Beijing time), the sum of their records: read with the
# worker in one query. It replaced the bare number workers.training_hours (migration 0027).
Worker.training_hours = column_property(
    select(func.coalesce(func.sum(TrainingRecord.hours), 0))
    .where(TrainingRecord.worker_id == Worker.id,
           func.extract("year", TrainingRecord.date) == func.extract("year", func.gridgov_local_today()))
    .correlate_except(TrainingRecord)
    .scalar_subquery(),
    deferred=True,  # read where it is shown (the workers' pages), not beside every row naming a worker
)
