"""Login accounts: FAB's ``ab_user`` with the user's scope.

A scope is a grid (and so its whole subtree), a department, or one volunteer record. At most
one is set (a CHECK constraint); which one a role needs is checked by services/users.py."""
from __future__ import annotations

from typing import Optional

from flask_appbuilder import Model
from flask_appbuilder.security.sqla.models import User
from sqlalchemy import BigInteger, Boolean, CheckConstraint, Column, ForeignKey, Integer, Table, text
from sqlalchemy.orm import Mapped, mapped_column, relationship


class GridgovUser(User):
    """A login with its scope (管辖范围)."""

    __tablename__ = "ab_user"
    __table_args__ = (
        CheckConstraint(
            "num_nonnulls(grid_id, department_id, volunteer_id) <= 1",
            name="ab_user_one_scope",
        ),
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

    grid = relationship("Grid")
    department = relationship("Department")
    volunteer = relationship("Volunteer")


# One number that triggers move before any change to accounts, roles, permissions or a grid's
# path (migration 0009): the app keeps each user's account, permissions and scope between
# requests and reloads them when the number has moved.
auth_version = Table(
    "auth_version",
    Model.metadata,
    Column("id", Boolean, primary_key=True, server_default=text("true")),
    Column("version", BigInteger, nullable=False, server_default=text("1")),
    CheckConstraint("id", name="auth_version_one_row"),
)
