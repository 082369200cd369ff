"""Keyword search in incident titles and descriptions, and the derived columns behind the fast
lists (migration 0006): who sees an incident, kept by PostgreSQL whatever writes the row."""
from __future__ import annotations

from sqlalchemy import select, text

from app.models import Grid, Incident, Worker
from app.services import incidents
from app.services.scope import grid_scope, visible

from .test_incidents import BLOCK, actor, grid, new_incident


def found(session, keywords):
    return set(session.scalars(select(Incident.id).where(incidents.keyword_condition(keywords))))


def test_two_character_chinese_words_are_found_in_title_or_description(session):
    leak = new_incident(session, title="楼顶漏水")
    stall = new_incident(session, title="门口摆摊", description="早市占道经营，堵住消防通道")
    other = new_incident(session, title="路灯不亮", description="晚上很黑")
    assert leak.id in found(session, "漏水") and stall.id not in found(session, "漏水")
    assert stall.id in found(session, "占道经营") and leak.id not in found(session, "占道经营")
    assert stall.id in found(session, "占道") and stall.id in found(session, "消防")
    assert other.id in found(session, "灯")  # one character
    assert other.id not in found(session, "漏")


def test_every_word_must_match_and_case_does_not_matter(session):
    both = new_incident(session, title="Water leak 漏水", description="三楼 Kitchen")
    only_one = new_incident(session, title="漏水", description="一楼")
    assert both.id in found(session, "漏水 kitchen") and only_one.id not in found(session, "漏水 kitchen")
    assert both.id in found(session, "WATER LEAK")
    assert both.id in found(session, "  ") and only_one.id in found(session, "")  # no words: no condition


def test_wildcards_in_a_keyword_are_plain_characters(session):
    percent = new_incident(session, title="费用上涨50%")
    plain = new_incident(session, title="费用上涨500元")
    assert found(session, "50%") >= {percent.id} and plain.id not in found(session, "50%")
    assert plain.id not in found(session, "涨_0")


def test_the_search_uses_the_gin_index(session):
    session.execute(text("SET LOCAL enable_seqscan = off"))  # the demo table is tiny
    plan = "\n".join(session.execute(text(
        "EXPLAIN SELECT id FROM incidents WHERE search_grams @> gridgov_query_grams('漏水')")).scalars())
    assert "incidents_scope_words_gin" in plan
    # inside a scope, one scan of the same index answers both conditions
    plan = "\n".join(session.execute(text(
        "EXPLAIN SELECT id FROM incidents WHERE scope_grid_ids @> ARRAY[1] "
        "AND search_grams @> gridgov_query_grams('漏水')")).scalars())
    assert plan.count("Index Scan") == 1 and "incidents_scope_words_gin" in plan, plan


def test_the_scope_column_holds_the_ancestors_of_grid_and_holder(session):
    incident = new_incident(session)
    building = grid(session, BLOCK + "-01")
    ids = session.scalar(select(Incident.scope_grid_ids).where(Incident.id == incident.id))
    assert sorted(ids) == sorted(int(label) for label in str(building.path).split("."))
    # a hand-written value is replaced by the derived one
    session.execute(text("UPDATE incidents SET scope_grid_ids = '{}' WHERE id = :id"), {"id": incident.id})
    assert session.scalar(select(Incident.scope_grid_ids).where(Incident.id == incident.id)) == ids


def test_assigning_to_a_worker_of_another_branch_shows_it_there(session):
    # reported on one block of the community, handed to a worker of another block
    incident = new_incident(session, code=BLOCK + "-01")
    incidents.act(session, actor(session, "worker"), incident.id, "escalate", note="需社区协调")
    secretary = actor(session, "secretary")
    incidents.act(session, secretary, incident.id, "accept")
    community = incident.holder_grid
    other_block = session.scalar(select(Grid).where(Grid.parent_id == community.id, Grid.code != BLOCK).order_by(Grid.code))
    worker = session.scalar(select(Worker).where(Worker.grid_id == other_block.id))

    def seen_by_other_block():
        return session.scalar(select(Incident.id).where(
            Incident.id == incident.id, visible(grid_scope(session, other_block.id), Incident))) is not None

    assert not seen_by_other_block()
    incidents.act(session, secretary, incident.id, "assign", worker_id=worker.id)
    assert seen_by_other_block()


def test_moving_a_grid_moves_who_sees_its_incidents(session):
    incident = new_incident(session)
    block = grid(session, BLOCK)
    old_community = session.get(Grid, block.parent_id)
    new_community = session.scalar(select(Grid).where(Grid.level == "community", Grid.id != old_community.id)
                                   .order_by(Grid.code))

    def sees(grid_id):
        return session.scalar(select(Incident.id).where(
            Incident.id == incident.id, visible(grid_scope(session, grid_id), Incident))) is not None

    assert sees(old_community.id) and not sees(new_community.id)
    block.parent_id = new_community.id
    session.flush()
    session.expire_all()
    assert sees(new_community.id) and not sees(old_community.id)
    assert sees(block.id)
