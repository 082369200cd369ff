"""The grid tree's rules, in the service and in the database itself."""
from __future__ import annotations

import pytest
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.exc import IntegrityError

from app.models import Grid, GridRecords, Household, Resident, Worker
from app.services import grids as grid_service
from app.services.db_errors import explain
from app.services.errors import ValidationError
from app.services.scope import EVERYTHING, grid_scope

XIANGJIANG = "410611001001"  # 湘江社区
JINSHAN = "410611002001"  # 金山社区


def by_code(session, code) -> Grid:
    return session.scalar(select(Grid).where(Grid.code == code))


def constraint_of(session, statement, **params):
    with pytest.raises(IntegrityError) as info:
        session.execute(text(statement), params)
        session.flush()
    session.rollback()
    return info.value.orig.diag.constraint_name


def test_paths_follow_the_tree(session):
    building = by_code(session, XIANGJIANG + "-01-01")
    labels = str(building.path).split(".")
    assert len(labels) == 5 and int(labels[-1]) == building.id
    assert int(labels[-2]) == building.parent_id


def test_database_refuses_level_not_below_parent(session):
    building = by_code(session, XIANGJIANG + "-01-01")
    name = constraint_of(
        session,
        "INSERT INTO grids (code, name, level, kind, parent_id, households, population) "
        "VALUES ('X1', 'x', 'block', 'comprehensive', :p, 0, 0)",
        p=building.id,
    )
    assert name == "grids_level_below_parent"


def test_database_allows_skipping_a_level(session):
    street = by_code(session, "410611001")
    session.execute(text(
        "INSERT INTO grids (code, name, level, kind, parent_id, households, population) "
        "VALUES ('SKIP1', '村直属楼栋', 'building', 'comprehensive', :p, 10, 20)"), {"p": street.id})
    session.flush()
    assert by_code(session, "SKIP1").level == "building"


def test_database_refuses_duplicate_code_and_cycle(session):
    community = by_code(session, XIANGJIANG)
    assert constraint_of(
        session,
        "INSERT INTO grids (code, name, level, kind, parent_id, households, population) "
        "VALUES (:c, 'x', 'block', 'comprehensive', :p, 0, 0)",
        c=XIANGJIANG + "-01", p=community.id,
    ) == "grids_code_key"
    community = by_code(session, XIANGJIANG)
    block = by_code(session, XIANGJIANG + "-01")
    # A community under its own block: refused (the level rule catches it before the cycle rule).
    assert constraint_of(session, "UPDATE grids SET parent_id = :b WHERE id = :c", b=block.id, c=community.id) in {
        "grids_level_below_parent", "grids_no_cycle"}


def test_path_is_derived_not_writable(session):
    block = by_code(session, XIANGJIANG + "-01")
    before = str(block.path)
    session.execute(text("UPDATE grids SET path = '999' WHERE id = :id"), {"id": block.id})
    session.expire_all()
    assert str(by_code(session, XIANGJIANG + "-01").path) == before


def test_moving_a_block_moves_its_buildings(session):
    block = by_code(session, XIANGJIANG + "-01")
    target = by_code(session, JINSHAN)
    block.parent = target
    session.commit()
    session.expire_all()
    for building in session.scalars(select(Grid).where(Grid.parent_id == block.id)):
        assert str(building.path).startswith(str(target.path) + "." + str(block.id) + ".")


def test_service_refuses_bad_parents(session):
    community = by_code(session, XIANGJIANG)
    block = by_code(session, XIANGJIANG + "-01")
    grid = Grid(code="NEW-1", name="新楼", level="community", kind="comprehensive", parent=block)
    with pytest.raises(ValidationError) as info:
        grid_service.check_grid(session, EVERYTHING, grid, is_new=True)
    assert info.value.field == "parent"
    session.rollback()
    community = by_code(session, XIANGJIANG)
    block = by_code(session, XIANGJIANG + "-01")
    community.parent = block
    with pytest.raises(ValidationError):
        grid_service.check_grid(session, EVERYTHING, community, original_parent_id=community.parent_id, is_new=False)
    session.rollback()
    dup = Grid(code=XIANGJIANG.lower(), name="重复", level="block", kind="comprehensive", parent_id=community.id)
    with pytest.raises(ValidationError) as info:
        grid_service.check_grid(session, EVERYTHING, dup, is_new=True)
    assert info.value.field == "code"


def test_scope_limits_where_grids_go(session):
    secretary = grid_scope(session, by_code(session, XIANGJIANG).id)
    outside = Grid(code="OUT-1", name="外区小区", level="block", kind="comprehensive", parent_id=by_code(session, JINSHAN).id)
    with pytest.raises(ValidationError):
        grid_service.check_grid(session, secretary, outside, is_new=True)
    inside = Grid(code="IN-1", name="新小区", level="block", kind="comprehensive", parent_id=by_code(session, XIANGJIANG).id)
    grid_service.check_grid(session, secretary, inside, is_new=True)
    # she cannot move her own community, nor delete it
    community = by_code(session, XIANGJIANG)
    with pytest.raises(ValidationError):
        grid_service.check_can_delete(session, secretary, community)


def test_rollups_sum_the_subtree(session):
    community = by_code(session, XIANGJIANG)
    buildings = session.scalars(select(Grid).where(Grid.path.descendant_of(community.path), Grid.level == "building")).all()
    # the demo records households and residents in every building: they count, not the typed figures
    recorded = {grid_id: (households, residents) for grid_id, households, residents in session.execute(
        select(GridRecords.grid_id, GridRecords.households, GridRecords.residents))}
    assert all(b.id in recorded for b in buildings)
    (rollup,) = grid_service.rollups(session, [community])
    assert rollup.households == sum(recorded[b.id][0] for b in buildings) > 0
    assert rollup.population == sum(recorded[b.id][1] for b in buildings)
    # a building whose residents all left is counted by its typed figures again
    emptied = buildings[0]
    session.execute(update(Resident).where(Resident.grid_id == emptied.id).values(moved_out=func.current_date(),
                                                                               household_id=None, relation=None))
    session.execute(delete(Household).where(Household.grid_id == emptied.id))
    session.commit()
    assert session.get(GridRecords, emptied.id).residents == 0
    (rollup,) = grid_service.rollups(session, [community])
    assert rollup.households == sum(recorded[b.id][0] for b in buildings[1:]) + emptied.households
    assert rollup.population == sum(recorded[b.id][1] for b in buildings[1:]) + emptied.population
    assert grid_service.figures_source(session, community.id) == (len(buildings) - 1, len(buildings))
    assert rollup.sub_grids == session.scalar(
        select(func.count()).select_from(Grid).where(Grid.path.descendant_of(community.path))) - 1
    assert rollup.workers == session.scalar(
        select(func.count()).select_from(Worker).join(Grid, Worker.grid_id == Grid.id)
        .where(Grid.path.descendant_of(community.path)))


def test_tree_node_hides_what_is_outside_the_scope(session):
    community = by_code(session, XIANGJIANG)
    secretary = grid_scope(session, community.id)
    node = grid_service.tree_node(session, secretary, community.id)
    assert [a.code for a, can_open in node.ancestors] == ["410611", "410611001"]
    assert not any(can_open for _, can_open in node.ancestors)
    assert {c.grid.code for c in node.children} == {XIANGJIANG + "-01", XIANGJIANG + "-02"}


def test_database_errors_become_messages(session):
    block = by_code(session, XIANGJIANG + "-01-01")
    try:
        session.execute(text(
            "INSERT INTO grids (code, name, level, kind, parent_id, households, population) "
            "VALUES ('X2', 'x', 'block', 'comprehensive', :p, 0, 0)"), {"p": block.id})
    except IntegrityError as exc:
        error = explain(exc)
    session.rollback()
    assert "parent" in str(error.message) or "上级" in str(error.message)
