"""微心愿 — a resident's small wish (a visit, a repair, a school bag), posted for them by a grid
worker or the secretary, dispatched by the community or opened for claiming, claimed by a
volunteer or a sunk party member, done, and rated by the resident (群众点单、社区派单、党员接单).

The states and who moves them are ``services/wishes.py``; the database keeps each state's facts
consistent whatever path writes the row (migration 0027): a wish with a volunteer named is
dispatched or further, a claimed one has its claim time, a done one its time and note, a rated one
its satisfaction, a cancelled one its time. The points its claimer earns are one ledger entry
naming the wish (``points_entries_one_award_per_wish``)."""
from __future__ import annotations

import datetime
from typing import Optional

from flask_appbuilder import Model
from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, Integer, SmallInteger, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .choices import WISH_CLAIMED_STATES, WISH_KINDS, WISH_STATES, fk_index, sql_in

TITLE_MOST = 100
TEXT_MOST = 1000


class MicroWish(Model):
    """微心愿 — one resident's small wish and who fulfils it."""

    __tablename__ = "micro_wishes"
    __table_args__ = (
        CheckConstraint(f"kind IN {sql_in(WISH_KINDS)}", name="micro_wishes_kind_valid"),
        CheckConstraint(f"state IN {sql_in(WISH_STATES)}", name="micro_wishes_state_valid"),
        CheckConstraint("length(btrim(title)) > 0", name="micro_wishes_title_not_blank"),
        CheckConstraint(f"description IS NULL OR length(description) <= {TEXT_MOST}",
                        name="micro_wishes_description_length"),
        # a volunteer is named from dispatch on; a wish waiting for one names none
        CheckConstraint(f"state NOT IN {sql_in(WISH_CLAIMED_STATES)} OR claimer_id IS NOT NULL",
                        name="micro_wishes_claimer_when_claimed"),
        CheckConstraint("state NOT IN ('posted', 'open') OR claimer_id IS NULL",
                        name="micro_wishes_no_claimer_when_waiting"),
        CheckConstraint("state NOT IN ('claimed', 'done', 'rated') OR claimed_at IS NOT NULL",
                        name="micro_wishes_claimed_at_when_claimed"),
        CheckConstraint("state NOT IN ('done', 'rated') OR (done_at IS NOT NULL AND length(btrim(done_note)) > 0)",
                        name="micro_wishes_done_with_note"),
        CheckConstraint(f"done_note IS NULL OR length(done_note) <= {TEXT_MOST}", name="micro_wishes_done_note_length"),
        CheckConstraint("(state = 'rated') = (satisfaction IS NOT NULL AND rated_at IS NOT NULL)",
                        name="micro_wishes_rated_with_satisfaction"),
        CheckConstraint("satisfaction IS NULL OR satisfaction BETWEEN 1 AND 5", name="micro_wishes_satisfaction_range"),
        CheckConstraint("(state = 'cancelled') = (cancelled_at IS NOT NULL)", name="micro_wishes_cancelled_at"),
        CheckConstraint("claim_deadline > posted_at", name="micro_wishes_deadline_after_posting"),
        # the secretary's to-dos (unclaimed past the deadline) and a community's list
        Index("micro_wishes_community_id_idx", "community_id", "state", "claim_deadline"),
        Index("micro_wishes_grid_id_idx", "grid_id", "id"),
        Index("micro_wishes_resident_id_idx", "resident_id"),
        Index("micro_wishes_posted_at_idx", "posted_at", "id"),  # the list's order, newest first
        fk_index("micro_wishes", "claimer_id", "state"),
        fk_index("micro_wishes", "posted_by_id"),
        fk_index("micro_wishes", "rated_by_id"),
        fk_index("micro_wishes", "rule_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resident_id: Mapped[int] = mapped_column(
        ForeignKey("residents.id", ondelete="RESTRICT", name="micro_wishes_resident_id_fkey"), nullable=False)
    # where the resident lived when it was posted: whose scope it is in
    grid_id: Mapped[int] = mapped_column(
        ForeignKey("grids.id", ondelete="RESTRICT", name="micro_wishes_grid_id_fkey"), nullable=False)
    community_id: Mapped[int] = mapped_column(
        ForeignKey("grids.id", ondelete="RESTRICT", name="micro_wishes_community_id_fkey"), nullable=False)
    title: Mapped[str] = mapped_column(String(TITLE_MOST), nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False, default="other")
    description: Mapped[Optional[str]] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(12), nullable=False, default="posted")
    posted_by_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("ab_user.id", ondelete="SET NULL", name="micro_wishes_posted_by_id_fkey"))
    posted_at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True), nullable=False,
                                                         server_default=func.now())
    # unclaimed past it, the wish shows in the secretary's to-dos
    claim_deadline: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    # the points rule (per event) its claimer earns by, chosen by the community
    rule_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("points_rules.id", ondelete="RESTRICT", name="micro_wishes_rule_id_fkey"))
    claimer_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("volunteers.id", ondelete="RESTRICT", name="micro_wishes_claimer_id_fkey"))
    claimed_at: Mapped[Optional[datetime.datetime]] = mapped_column(DateTime(timezone=True))
    done_at: Mapped[Optional[datetime.datetime]] = mapped_column(DateTime(timezone=True))
    done_note: Mapped[Optional[str]] = mapped_column(Text)
    photo: Mapped[Optional[str]] = mapped_column(String(200))
    satisfaction: Mapped[Optional[int]] = mapped_column(SmallInteger)
    rated_at: Mapped[Optional[datetime.datetime]] = mapped_column(DateTime(timezone=True))
    rated_by_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("ab_user.id", ondelete="SET NULL", name="micro_wishes_rated_by_id_fkey"))
    cancelled_at: Mapped[Optional[datetime.datetime]] = mapped_column(DateTime(timezone=True))

    resident = relationship("Resident")
    grid = relationship("Grid", foreign_keys=[grid_id])
    community = relationship("Grid", foreign_keys=[community_id])
    claimer = relationship("Volunteer")
    rule = relationship("PointsRule")
    posted_by = relationship("GridgovUser", foreign_keys=[posted_by_id])
    rated_by = relationship("GridgovUser", foreign_keys=[rated_by_id])

    def __repr__(self) -> str:
        return self.title
