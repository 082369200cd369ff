"""Every foreign key of ours has an index led by its column (migration 0018): deleting the row it
refers to finds the referring rows through it, not by reading the table whole (a user at city
size: 0.5–1.1 s)."""
from __future__ import annotations

from sqlalchemy import text

# Flask-AppBuilder's own columns, on its own small tables
FAB_KEYS = {("ab_user", "created_by_fk"), ("ab_user", "changed_by_fk"), ("ab_user_role", "role_id")}

UNINDEXED = text("""
    SELECT c.conrelid::regclass::text, a.attname
    FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
    WHERE c.contype = 'f' AND NOT EXISTS (
        SELECT 1 FROM pg_index i WHERE i.indrelid = c.conrelid AND i.indkey[0] = c.conkey[1])
""")


def test_every_foreign_key_has_an_index(session):
    missing = {tuple(row) for row in session.execute(UNINDEXED)} - FAB_KEYS
    assert missing == set()


def test_a_deleted_user_is_found_through_the_index(session):
    """What the foreign key's trigger runs when a user is deleted: an index scan."""
    session.execute(text("SET LOCAL enable_seqscan = off"))  # a small test table would be read whole anyway
    for table, column in (("incident_events", "actor_id"), ("points_entries", "created_by_id"),
                          ("incidents", "created_by_id")):
        plan = "\n".join(session.execute(text(
            f"EXPLAIN UPDATE {table} SET {column} = NULL WHERE {column} = :user"), {"user": 1}).scalars())
        assert f"{table}_{column}_idx" in plan, plan
    session.rollback()
