"""考核: the weights each district gives the assessment's indicators, the monthly scores frozen at
month end and the adjustments made to them since (migration 0029)."""
from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Optional

from flask_appbuilder import Model
from sqlalchemy import (CheckConstraint, Date, DateTime, ForeignKey, Index, Integer, Numeric, SmallInteger, String,
                        UniqueConstraint, func)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .choices import fk_index

WORKER_WEIGHTS = ("patrol", "reported", "on_time", "satisfaction", "visits", "training", "clock_in")
AREA_WEIGHTS = ("area_completion", "area_on_time", "area_satisfaction")
DEPARTMENT_WEIGHTS = ("report_in", "result", "rating")
ALL_WEIGHTS = WORKER_WEIGHTS + AREA_WEIGHTS + DEPARTMENT_WEIGHTS
# what is assessed: the kind of subject and the weights it is scored by
SUBJECT_KINDS = ("worker", "community", "street", "department")
WEIGHTS_OF = {"worker": WORKER_WEIGHTS, "community": AREA_WEIGHTS, "street": AREA_WEIGHTS,
              "department": DEPARTMENT_WEIGHTS}


class AssessmentWeights(Model):
    """考核权重 — how much each indicator counts in a district's scores (0–100 each); the row
    without a district is the default of every district without its own."""

    __tablename__ = "assessment_weights"
    __table_args__ = (
        *[CheckConstraint(f"{name} BETWEEN 0 AND 100", name=f"assessment_weights_{name}_range")
          for name in ALL_WEIGHTS],
        CheckConstraint("reports_target BETWEEN 1 AND 500", name="assessment_weights_reports_target_range"),
        CheckConstraint(" + ".join(WORKER_WEIGHTS) + " > 0", name="assessment_weights_worker_some"),
        CheckConstraint(" + ".join(AREA_WEIGHTS) + " > 0", name="assessment_weights_area_some"),
        CheckConstraint(" + ".join(DEPARTMENT_WEIGHTS) + " > 0", name="assessment_weights_department_some"),
        Index("assessment_weights_district_id_key", "district_id", unique=True, postgresql_nulls_not_distinct=True),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    district_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("grids.id", ondelete="CASCADE", name="assessment_weights_district_id_fkey"))
    patrol: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    reported: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    on_time: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    satisfaction: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    visits: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    training: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    clock_in: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    area_completion: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    area_on_time: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    area_satisfaction: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    report_in: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    result: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    rating: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    # the incidents a month that count as the full 100 of "incidents reported"
    reports_target: Mapped[int] = mapped_column(SmallInteger, nullable=False)

    district = relationship("Grid")

    def __repr__(self) -> str:
        return str(self.district) if self.district is not None else "—"


class AssessmentScore(Model):
    """考核得分 — a subject's score of one month, frozen the first time it was needed after the
    month ended, with the figures and weights that made it. Never changed: see the adjustments."""

    __tablename__ = "assessment_scores"
    __table_args__ = (
        CheckConstraint("extract(day FROM month) = 1", name="assessment_scores_month_first_day"),
        CheckConstraint("kind IN ('worker', 'community', 'street', 'department')", name="assessment_scores_kind_valid"),
        CheckConstraint("score IS NULL OR score BETWEEN 0 AND 100", name="assessment_scores_score_range"),
        CheckConstraint("(kind = 'department') = (grid_id IS NULL)", name="assessment_scores_grid_unless_department"),
        UniqueConstraint("month", "kind", "subject_id", name="assessment_scores_month_kind_subject_key"),
        fk_index("assessment_scores", "grid_id", "month"),
        Index("assessment_scores_subject_idx", "kind", "subject_id", "month"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    month: Mapped[datetime.date] = mapped_column(Date, nullable=False)
    kind: Mapped[str] = mapped_column(String(12), nullable=False)
    subject_id: Mapped[int] = mapped_column(Integer, nullable=False)  # a worker, grid or department
    name: Mapped[str] = mapped_column(String(100), nullable=False)  # the subject's name that month
    # the worker's grid, the community or street itself; none for a department
    grid_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("grids.id", ondelete="RESTRICT", name="assessment_scores_grid_id_fkey"))
    score: Mapped[Optional[Decimal]] = mapped_column(Numeric(5, 2))
    figures: Mapped[dict] = mapped_column(JSONB, nullable=False)
    weights: Mapped[dict] = mapped_column(JSONB, nullable=False)
    frozen_at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True), nullable=False,
                                                         server_default=func.now())

    grid = relationship("Grid")
    adjustments: Mapped[list["AssessmentAdjustment"]] = relationship(
        "AssessmentAdjustment", back_populates="score", order_by="AssessmentAdjustment.id")


class AssessmentAdjustment(Model):
    """考核调整 — a later correction of a frozen score: a delta, its reason, who and when."""

    __tablename__ = "assessment_adjustments"
    __table_args__ = (
        CheckConstraint("delta <> 0 AND delta BETWEEN -100 AND 100", name="assessment_adjustments_delta_range"),
        CheckConstraint("length(btrim(reason)) > 0", name="assessment_adjustments_reason_not_blank"),
        Index("assessment_adjustments_score_id_idx", "score_id", "id"),
        fk_index("assessment_adjustments", "actor_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    score_id: Mapped[int] = mapped_column(
        ForeignKey("assessment_scores.id", ondelete="RESTRICT", name="assessment_adjustments_score_id_fkey"),
        nullable=False)
    delta: Mapped[Decimal] = mapped_column(Numeric(5, 2), nullable=False)
    reason: Mapped[str] = mapped_column(String(200), nullable=False)
    actor_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("ab_user.id", ondelete="RESTRICT", name="assessment_adjustments_actor_id_fkey"))
    actor_name: Mapped[str] = mapped_column(String(130), nullable=False)
    created_at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True), nullable=False,
                                                          server_default=func.now())

    score = relationship("AssessmentScore", back_populates="adjustments")
