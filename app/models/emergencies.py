"""平急结合 / 一键下达 — a district-level response (level III, II or I) to a flood, an epidemic…:
one directive pushed at once to every grid of an area (a subtree), each grid checking in."""
from __future__ import annotations

import datetime
from typing import Optional

from flask_appbuilder import Model
from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, Integer, String, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .choices import fk_index

RESPONSE_LEVELS = ("III", "II", "I")


class EmergencyResponse(Model):
    """三级响应 — a declared response level for an area, with its one directive."""

    __tablename__ = "emergency_responses"
    __table_args__ = (
        CheckConstraint("level IN ('III', 'II', 'I')", name="emergency_responses_level_valid"),
        CheckConstraint("status IN ('active', 'ended')", name="emergency_responses_status_valid"),
        CheckConstraint("length(btrim(directive)) > 0", name="emergency_responses_directive_not_blank"),
        CheckConstraint("(status = 'ended') = (ended_at IS NOT NULL)", name="emergency_responses_ended_at"),
        Index("emergency_responses_area_id_idx", "area_id"),
        fk_index("emergency_responses", "declared_by_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    level: Mapped[str] = mapped_column(String(3), nullable=False)
    area_id: Mapped[int] = mapped_column(
        ForeignKey("grids.id", ondelete="RESTRICT", name="emergency_responses_area_id_fkey"), nullable=False
    )
    title: Mapped[str] = mapped_column(String(100), nullable=False)
    directive: Mapped[str] = mapped_column(String(1000), nullable=False)
    status: Mapped[str] = mapped_column(String(8), nullable=False, default="active")
    declared_by_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("ab_user.id", ondelete="SET NULL", name="emergency_responses_declared_by_id_fkey")
    )
    declared_by_name: Mapped[str] = mapped_column(String(130), nullable=False)
    declared_at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True), nullable=False,
                                                           server_default=func.now())
    ended_at: Mapped[Optional[datetime.datetime]] = mapped_column(DateTime(timezone=True))

    area = relationship("Grid")
    tasks = relationship("ResponseTask", back_populates="response", order_by="ResponseTask.id")

    def __repr__(self) -> str:
        return f"{self.level} {self.title}"


class ResponseTask(Model):
    """One grid's task in a response: checked in (done, with a note) or still waiting. An ended
    response takes no more check-ins (``response_tasks_ended_frozen``, migration 0020)."""

    __tablename__ = "response_tasks"
    __table_args__ = (
        UniqueConstraint("response_id", "grid_id", name="response_tasks_one_per_grid"),
        CheckConstraint("(checked_in_at IS NULL) = (checked_in_by_name IS NULL)", name="response_tasks_check_in_by"),
        Index("response_tasks_grid_id_idx", "grid_id"),
        fk_index("response_tasks", "checked_in_by_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    response_id: Mapped[int] = mapped_column(
        ForeignKey("emergency_responses.id", ondelete="CASCADE", name="response_tasks_response_id_fkey"), nullable=False
    )
    grid_id: Mapped[int] = mapped_column(
        ForeignKey("grids.id", ondelete="RESTRICT", name="response_tasks_grid_id_fkey"), nullable=False
    )
    checked_in_at: Mapped[Optional[datetime.datetime]] = mapped_column(DateTime(timezone=True))
    checked_in_by_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("ab_user.id", ondelete="SET NULL", name="response_tasks_checked_in_by_id_fkey")
    )
    checked_in_by_name: Mapped[Optional[str]] = mapped_column(String(130))
    note: Mapped[Optional[str]] = mapped_column(String(500))

    response = relationship("EmergencyResponse", back_populates="tasks")
    grid = relationship("Grid")
