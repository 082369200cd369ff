"""The audit trail's costs (migration 0024), on a throwaway embedded server with a generated district:
what the trigger adds to an insert of many rows (row by row, and in a bulk load's summary mode), how
long a scoped audit list's page and capped count take over 300,000 entries, and what logging a
page of 20 people in the personal-data access log costs.

    .venv/bin/python bench/audit.py [--scale 0.2] [--entries 300000]
"""
from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import psycopg2  # noqa: E402
from alembic import command  # noqa: E402
from sqlalchemy import create_engine, select, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from app.database import normalise_url, start_embedded_server  # noqa: E402
from app.models import Worker  # noqa: E402
from app.services import audit  # noqa: E402
from seed.generate import load_district  # noqa: E402
from tests.migrations.test_migrations import alembic_config  # noqa: E402

VOLUNTEERS = ("INSERT INTO volunteers (name, kind, phone, address, community_id, party_member) "
              "SELECT '测试' || g, 'resident', '138' || lpad(g::text, 8, '0'), '淇滨区九州路街道湘江社区' || g || '号', "
              "(SELECT id FROM grids WHERE level = 'community' ORDER BY id LIMIT 1), false FROM generate_series(1, 20000) g")
ENTRIES = """INSERT INTO audit_entries (at, actor_id, table_name, record_table, record_id, action, changes, grid_ids)
    SELECT now() - g * interval '1 minute', 1 + g % 50, t, t, g % 5000, 'update', '{"name": ["a", "b"]}',
           string_to_array((SELECT path::text FROM grids ORDER BY id OFFSET (g::bigint * 7919) % :grids LIMIT 1), '.')::int[]
    FROM generate_series(1, :entries) g, LATERAL (SELECT (ARRAY['workers','volunteers','grids','service_records'])[1 + g % 4] AS t) x"""


def executed_ms(conn, sql: str) -> float:
    plan = "\n".join(row[0] for row in conn.execute(text("EXPLAIN (ANALYZE, TIMING OFF) " + sql)))
    return float(re.search(r"Execution Time: ([\d.]+)", plan).group(1))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=0.2)
    parser.add_argument("--entries", type=int, default=300_000)
    args = parser.parse_args()
    root = tempfile.mkdtemp(prefix="gridgov-audit-bench-")
    server = start_embedded_server(os.path.join(root, "pgdata"), cleanup_mode="delete")
    try:
        conn = psycopg2.connect(server.get_uri())
        conn.autocommit = True
        conn.cursor().execute("CREATE DATABASE bench TEMPLATE template0 ENCODING 'UTF8'")
        conn.close()
        url = normalise_url(server.get_uri("bench"))
        command.upgrade(alembic_config(url), "head")
        engine = create_engine(url)
        with Session(engine) as session:
            counts = load_district(session, scale=args.scale, echo=lambda *a: None)
        print(f"district at scale {args.scale}: {counts['grids']} grids, {counts['workers']} workers")

        for mode in ("row by row", "bulk load", "row by row", "bulk load"):
            with engine.connect() as conn:
                transaction = conn.begin()
                if mode == "bulk load":
                    conn.execute(text("SELECT set_config('gridgov.audit', 'summary', true)"))
                took = executed_ms(conn, VOLUNTEERS)
                transaction.rollback()
            print(f"insert 20,000 volunteers, audit {mode}: {took:,.0f} ms")

        with engine.begin() as conn:
            conn.execute(text(ENTRIES), {"entries": args.entries, "grids": counts["grids"]})
            conn.execute(text("ANALYZE audit_entries"))
            scopes = conn.execute(text("SELECT level, min(id) FROM grids WHERE level IN ('district', 'street', 'community') "
                                       "GROUP BY level")).all()
        with engine.connect() as conn:
            for level, grid in scopes:
                scope = f"grid_ids @> ARRAY[{grid}]"
                page = executed_ms(conn, f"SELECT * FROM audit_entries WHERE {scope} ORDER BY id DESC LIMIT 20")
                count = executed_ms(conn, f"SELECT count(*) FROM (SELECT 1 FROM audit_entries WHERE {scope} LIMIT 10001) x")
                print(f"{args.entries:,} entries, a {level}'s scope: first page {page:.2f} ms, capped count {count:.2f} ms")

        with Session(engine) as session:
            ids = list(session.scalars(select(Worker.id).limit(20)))
        times = []
        for _ in range(300):
            started = time.perf_counter()
            with Session(engine) as session:
                audit.log_looks(session, [audit.Look(1, "workers", ids, ["phone"], "/workermodelview/list/")])
            times.append((time.perf_counter() - started) * 1000)
        times.sort()
        print(f"access log of a page of 20 people (own session, one INSERT, commit): median "
              f"{statistics.median(times):.2f} ms, p90 {times[int(len(times) * 0.9)]:.2f} ms")
        engine.dispose()
    finally:
        server.cleanup()


if __name__ == "__main__":
    main()
