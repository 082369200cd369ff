"""Functional departments (职能部门) and paired units (下沉单位 / 驻区单位)."""
from __future__ import annotations

from typing import Optional

from flask_appbuilder import Model
from sqlalchemy import CheckConstraint, Column, ForeignKey, Index, Integer, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .choices import DEPARTMENT_KINDS, sql_in

# Contact numbers of offices may be landlines (0392-3312345) as well as mobiles.
CONTACT_PHONE_CHECK = "contact_phone IS NULL OR contact_phone ~ '^(1[3-9][0-9]{9}|0[0-9]{2,3}-?[0-9]{7,8})$'"

department_communities = Table(
    "department_communities",
    Model.metadata,
    Column(
        "department_id",
        Integer,
        ForeignKey(
            "departments.id", ondelete="CASCADE", name="department_communities_department_id_fkey"
        ),
        primary_key=True,
    ),
    Column(
        "grid_id",
        Integer,
        ForeignKey("grids.id", ondelete="CASCADE", name="department_communities_grid_id_fkey"),
        primary_key=True,
    ),
    Index("department_communities_grid_id_idx", "grid_id"),
)


class Department(Model):
    """职能部门 or 下沉单位 — answers whistles; paired units send staff into communities."""

    __tablename__ = "departments"
    __table_args__ = (
        CheckConstraint(f"kind IN {sql_in(DEPARTMENT_KINDS)}", name="departments_kind_valid"),
        CheckConstraint(CONTACT_PHONE_CHECK, name="departments_contact_phone_valid"),
        CheckConstraint("length(btrim(name)) > 0", name="departments_name_not_blank"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True, nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False, default="functional")
    contact_name: Mapped[Optional[str]] = mapped_column(String(50))
    contact_phone: Mapped[Optional[str]] = mapped_column(String(16))
    description: Mapped[Optional[str]] = mapped_column(String(500))

    communities = relationship(
        "Grid", secondary=department_communities, order_by="Grid.code"
    )

    def __repr__(self) -> str:
        return self.name
