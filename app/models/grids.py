"""The territory tree: districts, streets, communities, blocks and buildings."""
from __future__ import annotations

from decimal import Decimal
from typing import Optional

from flask_appbuilder import Model
from sqlalchemy import (
    CheckConstraint,
    FetchedValue,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import base as pg_base
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy_utils import LtreeType

from .choices import GRID_KINDS, GRID_LEVELS, fk_index, sql_in

# Let reflection (Alembic autogenerate, the schema test) recognise the ltree type.
pg_base.ischema_names.setdefault("ltree", LtreeType)


class Grid(Model):
    """网格 — a node of the territory tree.

    ``path`` is a PostgreSQL ``ltree`` of ids from the root (``1.4.27``), kept by the
    ``grids_before_write`` trigger (migration 0001). We chose ``ltree`` over a text
    materialised path because its ``<@`` / ``@>`` operators are served by a GiST index for
    any depth, so "everything under grid X" is one index scan whatever X is, and the
    extension ships with every PostgreSQL contrib build. The same trigger refuses a parent
    whose level is not above the grid's own and a parent inside the grid's own subtree
    (a cycle), and moves the subtree's paths when a grid changes parent.
    """

    __tablename__ = "grids"
    __table_args__ = (
        CheckConstraint(f"level IN {sql_in(GRID_LEVELS)}", name="grids_level_valid"),
        CheckConstraint(f"kind IN {sql_in(GRID_KINDS)}", name="grids_kind_valid"),
        CheckConstraint("code ~ '^[0-9A-Za-z-]{1,32}$'", name="grids_code_format"),
        CheckConstraint("length(btrim(name)) > 0", name="grids_name_not_blank"),
        CheckConstraint("households >= 0", name="grids_households_nonnegative"),
        CheckConstraint("population >= 0", name="grids_population_nonnegative"),
        CheckConstraint("area_km2 IS NULL OR area_km2 >= 0", name="grids_area_nonnegative"),
        CheckConstraint(
            "parent_id IS NOT NULL OR level = 'district'", name="grids_only_district_is_root"
        ),
        CheckConstraint("parent_id IS NULL OR parent_id <> id", name="grids_not_own_parent"),
        CheckConstraint("boundary IS NULL OR (jsonb_typeof(boundary) = 'object' "
                        "AND boundary->>'type' IN ('Polygon', 'MultiPolygon') "
                        "AND jsonb_typeof(boundary->'coordinates') = 'array')", name="grids_boundary_geometry"),
        Index("grids_path_gist", "path", postgresql_using="gist"),
        Index("grids_parent_id_idx", "parent_id"),
        fk_index("grids", "leader_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    level: Mapped[str] = mapped_column(String(16), nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False, default="comprehensive")
    parent_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("grids.id", ondelete="RESTRICT", name="grids_parent_id_fkey")
    )
    path = mapped_column(LtreeType, nullable=False, server_default=FetchedValue())
    households: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    population: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    area_km2: Mapped[Optional[Decimal]] = mapped_column(Numeric(10, 3))
    party_branch: Mapped[Optional[str]] = mapped_column(String(100))
    # the outline as a GeoJSON geometry (migration 0021); read only by the map, not by every list
    boundary: Mapped[Optional[dict]] = mapped_column(JSONB, deferred=True)
    leader_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey(
            "workers.id", ondelete="SET NULL", use_alter=True, name="grids_leader_id_fkey"
        )
    )

    parent: Mapped[Optional["Grid"]] = relationship(
        "Grid", remote_side=[id], back_populates="children"
    )
    children: Mapped[list["Grid"]] = relationship("Grid", back_populates="parent")
    leader = relationship("Worker", foreign_keys=[leader_id], post_update=True)

    @property
    def depth(self) -> int:
        return len(self.path) if self.path is not None else 0

    def __repr__(self) -> str:
        return f"{self.name}（{self.code}）"
