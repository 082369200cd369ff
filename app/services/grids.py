"""Rules of the grid tree: where a grid may hang, who may put it there, and rolled-up figures."""
from __future__ import annotations

import re
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session, aliased

from ..models import Grid, GridRecords, Worker
from ..models.choices import GRID_LEVEL_RANK, GRID_LEVELS
from .errors import OutOfScope, ValidationError
from .scope import Scope, can_write_under, is_under, visible


# as the grids_code_format constraint (migration 0001)
CODE_RE = re.compile(r"^[0-9A-Za-z-]{1,32}$")


def check_grid(session: Session, scope: Scope, grid: Grid, *, original_parent_id=None, is_new: bool) -> None:
    """Refuse a grid that breaks the tree or the user's scope. Raises ``ValidationError``."""
    # The grid may already be pending in the session: it must not be flushed before it passes.
    with session.no_autoflush:
        _check_grid(session, scope, grid, original_parent_id, is_new)


def _check_grid(session: Session, scope: Scope, grid: Grid, original_parent_id, is_new: bool) -> None:
    if grid.level not in GRID_LEVELS:
        raise ValidationError(_l("Choose a level."), field="level")
    code = grid.code = (grid.code or "").strip()
    if not code:
        raise ValidationError(_l("This field is required."), field="code")
    if not CODE_RE.match(code):
        raise ValidationError(_l("A grid code has 1 to 32 letters, digits or dashes."), field="code")
    for figure in ("households", "population", "area_km2"):
        if (getattr(grid, figure) or 0) < 0:
            raise ValidationError(_l("Enter a number of 0 or more."), field=figure)
    clash = session.scalar(select(Grid.id).where(func.lower(Grid.code) == code.lower(), Grid.id != (grid.id or 0)))
    if clash:
        raise ValidationError(_l("A grid with this code already exists."), field="code")

    parent = grid.parent
    if parent is None and grid.parent_id is not None:
        parent = session.get(Grid, grid.parent_id)
    if parent is None:
        if grid.level != "district":
            raise ValidationError(_l("Choose the parent grid."), field="parent")
        if not scope.is_all:
            raise ValidationError(_l("Only an administrator can create a district."), field="parent")
    else:
        if GRID_LEVEL_RANK[parent.level] >= GRID_LEVEL_RANK[grid.level]:
            raise ValidationError(
                _l("A grid's level must be below the level of its parent grid."), field="parent"
            )
        if not is_new and grid.id is not None and parent.path is not None:
            own_path = session.scalar(select(Grid.path).where(Grid.id == grid.id))
            if own_path is not None and is_under(parent.path, own_path):
                raise ValidationError(
                    _l("A grid cannot be moved under itself or one of its sub-grids."), field="parent"
                )

    moving = is_new or (parent.id if parent else None) != original_parent_id
    if moving and not scope.is_all:
        if not can_write_under(scope, parent):
            raise ValidationError(_l("You can only place grids inside your own area."), field="parent")
        if not is_new:
            own = session.get(Grid, grid.id)
            if own is None or not can_write_under(scope, own, strict=True):
                raise ValidationError(_l("You cannot move the grid at the top of your own area."), field="parent")

    if grid.leader_id is not None or grid.leader is not None:
        leader = grid.leader or session.get(Worker, grid.leader_id)
        if is_new or leader is None or leader.grid_id != grid.id:
            raise ValidationError(_l("The grid leader must be a worker of this grid."), field="leader")


def check_can_delete(session: Session, scope: Scope, grid: Grid) -> None:
    if not scope.is_all and not can_write_under(scope, grid, strict=True):
        raise ValidationError(_l("You cannot delete the grid at the top of your own area."))
    if session.scalar(select(func.count()).select_from(Grid).where(Grid.parent_id == grid.id)):
        raise ValidationError(_l("This grid still has sub-grids: move or delete them first."))
    if session.scalar(select(func.count()).select_from(Worker).where(Worker.grid_id == grid.id)):
        raise ValidationError(_l("This grid still has workers: move or delete them first."))


@dataclass
class Rollup:
    """Figures of a grid summed over its whole subtree."""

    grid: Grid
    sub_grids: int
    households: int
    population: int
    workers: int


def _is_base_grid(grid):
    """A base grid has no sub-grids: its households and population are the ones typed on it."""
    child = aliased(Grid)
    return ~select(child.id).where(child.parent_id == grid.id).exists()


def _has_records():
    """A grid with households or residents recorded (a row of zeros: all moved out, none now)."""
    return func.coalesce(GridRecords.households, 0) + func.coalesce(GridRecords.residents, 0) > 0


def counted_figures(session: Session, grid_ids) -> dict[int, tuple[int, int, int]]:
    """(sub-grids, households, population) of each grid: what 一户一档 records in its subtree
    (``grid_records``), and the typed figures of its base grids that have no records yet (what a
    community or street types itself would count twice or stay 0). The one rule behind the tree,
    the list and the record: one grouped query for all ``grid_ids``, served by the ltree GiST
    index and the parent_id index."""
    ids = [int(i) for i in dict.fromkeys(grid_ids) if i is not None]
    if not ids:
        return {}
    top = aliased(Grid)
    below = aliased(Grid)
    typed = and_(_is_base_grid(below), ~_has_records())  # a base grid without records
    rows = session.execute(
        select(
            top.id,
            func.count(below.id) - 1,
            func.coalesce(func.sum(GridRecords.households), 0)
            + func.coalesce(func.sum(below.households).filter(typed), 0),
            func.coalesce(func.sum(GridRecords.residents), 0)
            + func.coalesce(func.sum(below.population).filter(typed), 0),
        )
        .join(below, below.path.descendant_of(top.path))
        .outerjoin(GridRecords, GridRecords.grid_id == below.id)
        .where(top.id.in_(ids))
        .group_by(top.id)
    ).all()
    return {row[0]: (int(row[1]), int(row[2]), int(row[3])) for row in rows}


def figures_source(session: Session, grid_id: int) -> tuple[int, int]:
    """(base grids whose figures come from 一户一档, base grids) of a grid's subtree: what its page
    says of where its households and population come from."""
    below = aliased(Grid)
    base = _is_base_grid(below)
    grid = select(Grid.path).where(Grid.id == grid_id).scalar_subquery()
    recorded, total = session.execute(
        select(func.count().filter(_has_records()), func.count())
        .select_from(below).outerjoin(GridRecords, GridRecords.grid_id == below.id)
        .where(below.path.descendant_of(grid), base)).one()
    return int(recorded), int(total)


def rollups(session: Session, grids: list[Grid]) -> list[Rollup]:
    """Sub-grid counts, households, population (``counted_figures``) and workers of each
    grid's subtree, in two grouped queries whatever the number of grids."""
    if not grids:
        return []
    top = aliased(Grid)
    below = aliased(Grid)
    ids = [g.id for g in grids]
    figures = counted_figures(session, ids)
    worker_rows = session.execute(
        select(top.id, func.count(Worker.id))
        .join(below, below.path.descendant_of(top.path))
        .join(Worker, Worker.grid_id == below.id)
        .where(top.id.in_(ids))
        .group_by(top.id)
    ).all()
    workers = dict(worker_rows)
    return [Rollup(g, *figures.get(g.id, (0, 0, 0)), int(workers.get(g.id, 0))) for g in grids]


@dataclass
class TreeNode:
    """One page of tree navigation: a grid, its ancestors and its children with figures."""

    grid: Grid
    ancestors: list[tuple[Grid, bool]]  # (grid, visible to the user)
    own: Rollup
    children: list[Rollup]


def tree_roots(session: Session, scope: Scope) -> list[Grid]:
    """The grids a user starts browsing from: the roots, or the user's own scope grid."""
    if scope.is_all:
        return list(session.scalars(select(Grid).where(Grid.parent_id.is_(None)).order_by(Grid.code)))
    if scope.kind == "grid":
        return list(session.scalars(select(Grid).where(Grid.id == scope.grid_id)))
    # Department officers start from the communities they serve.
    return list(
        session.scalars(
            select(Grid).where(visible(scope, Grid), Grid.level == "community").order_by(Grid.code)
        )
    )


def tree_node(session: Session, scope: Scope, grid_id) -> TreeNode:
    try:
        grid_id = int(grid_id)
    except (TypeError, ValueError):
        raise OutOfScope(_l("Record not found.")) from None
    grid = session.scalar(select(Grid).where(Grid.id == grid_id, visible(scope, Grid)))
    if grid is None:
        raise OutOfScope(_l("Record not found."))
    ancestor_ids = [int(label) for label in str(grid.path).split(".")[:-1]]
    ancestors = []
    if ancestor_ids:
        found = {g.id: g for g in session.scalars(select(Grid).where(Grid.id.in_(ancestor_ids)))}
        seen = set(
            session.scalars(select(Grid.id).where(Grid.id.in_(ancestor_ids), visible(scope, Grid)))
        )
        ancestors = [(found[i], i in seen) for i in ancestor_ids if i in found]
    children = list(
        session.scalars(
            select(Grid).where(Grid.parent_id == grid.id, visible(scope, Grid)).order_by(Grid.code)
        )
    )
    figures = rollups(session, [grid, *children])
    return TreeNode(grid=grid, ancestors=ancestors, own=figures[0], children=figures[1:])
