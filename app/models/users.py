"""Login accounts: FAB's ``ab_user`` with the user's scope.

A scope is a grid (and so its whole subtree), a department, or one volunteer record. At most
one is set (a CHECK constraint); which one a role needs is checked by services/users.py."""
from __future__ import annotations

import re
from typing import Optional

from flask_appbuilder.security.sqla.models import User
from sqlalchemy import CheckConstraint, ForeignKey, Integer, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .choices import fk_index


_LATIN_ONLY = re.compile(r"[\x00-\u024f]*")


def person_name(first_name: str | None, last_name: str | None) -> str:
    """A person's name as it is written: a Chinese name family name first and without a space
    (姓 张, 名 伟: 张伟), a name in Latin letters given name first (Wei Zhang)."""
    first, last = (first_name or "").strip(), (last_name or "").strip()
    if _LATIN_ONLY.fullmatch(first + last):
        return f"{first} {last}".strip()
    return f"{last}{first}"


class GridgovUser(User):
    """A login with its scope (管辖范围)."""

    __tablename__ = "ab_user"
    __table_args__ = (
        CheckConstraint(
            "num_nonnulls(grid_id, department_id, volunteer_id) <= 1",
            name="ab_user_one_scope",
        ),
        fk_index("ab_user", "grid_id"),
        fk_index("ab_user", "department_id"),
        UniqueConstraint("worker_id", name="ab_user_worker_id_key"),
        {"extend_existing": True},
    )

    grid_id: Mapped[Optional[int]] = mapped_column(
        Integer, ForeignKey("grids.id", ondelete="RESTRICT", name="ab_user_grid_id_fkey")
    )
    department_id: Mapped[Optional[int]] = mapped_column(
        Integer,
        ForeignKey("departments.id", ondelete="RESTRICT", name="ab_user_department_id_fkey"),
    )
    volunteer_id: Mapped[Optional[int]] = mapped_column(
        Integer,
        ForeignKey("volunteers.id", ondelete="RESTRICT", name="ab_user_volunteer_id_fkey"),
        unique=True,
    )

    # The worker this login is (一人一号): whose patrols and clock-ins it records (巡查日志).
    worker_id: Mapped[Optional[int]] = mapped_column(
        Integer, ForeignKey("workers.id", ondelete="SET NULL", name="ab_user_worker_id_fkey"))

    # Written into the signed session at login; a session holding another number is signed out.
    # The app adds one on logout, a trigger on a password change or a deactivation (migration 0019).
    session_version: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("1"))

    grid = relationship("Grid")
    department = relationship("Department")
    volunteer = relationship("Volunteer")
    worker = relationship("Worker")

    def get_full_name(self) -> str:
        """The name the menu bar, the lists and the records' "by" columns print."""
        return person_name(self.first_name, self.last_name)
