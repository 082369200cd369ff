"""The grid map's data at a data set's size: how long the generator takes to load it, then how long
``services/maps.grid_map`` takes (and how many statements it runs) for the map of each level, as an
administrator and as the scope of the grid itself.

Runs on a throwaway embedded PostgreSQL server of its own (nothing is kept):

    .venv/bin/python bench/map.py --dataset district            # Qibin's size, 70,000 incidents
    .venv/bin/python bench/map.py --dataset city --scale 0.1    # a tenth of the city
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import psycopg2  # noqa: E402
from alembic import command  # noqa: E402
from sqlalchemy import create_engine, event, select, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from app.database import normalise_url, start_embedded_server  # noqa: E402
from app.models import Grid  # noqa: E402
from app.services import maps  # noqa: E402
from app.services.scope import EVERYTHING, grid_scope  # noqa: E402
from seed.generate import load_city, load_district  # noqa: E402
from tests.migrations.test_migrations import alembic_config  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", choices=("district", "city"), default="district")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    root = tempfile.mkdtemp(prefix="gridgov-map-bench-")
    server = start_embedded_server(os.path.join(root, "pgdata"), cleanup_mode="delete")
    try:
        conn = psycopg2.connect(server.get_uri())
        conn.autocommit = True
        conn.cursor().execute("CREATE DATABASE bench")
        conn.close()
        url = normalise_url(server.get_uri("bench"))
        command.upgrade(alembic_config(url), "head")
        engine = create_engine(url)
        loader = load_district if args.dataset == "district" else load_city
        with Session(engine) as session:
            started = time.perf_counter()
            loader(session, scale=args.scale, echo=lambda *a: None)
            print(f"loaded the {args.dataset} data set (scale {args.scale}) in {time.perf_counter() - started:.1f} s")
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
        statements: list[str] = []
        event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
        with Session(engine) as session:
            first = {level: session.scalar(select(Grid.id).where(Grid.level == level).order_by(Grid.code))
                     for level in ("district", "street", "community")}
            cases = [("administrator, the top", EVERYTHING, None)]
            for level, grid_id in first.items():
                cases.append((f"administrator, a {level}", EVERYTHING, grid_id))
                cases.append((f"the {level}'s own scope", grid_scope(session, grid_id), grid_id))
            print(f"{'map':34} {'p50 ms':>7} {'best':>6} {'statements':>10} {'children':>8} {'pins':>5}")
            for label, scope, grid_id in cases:
                times = []
                for _ in range(args.runs):
                    statements.clear()
                    started = time.perf_counter()
                    data = maps.grid_map(session, scope, grid_id)
                    times.append((time.perf_counter() - started) * 1000)
                    session.rollback()
                print(f"{label:34} {statistics.median(times):7.1f} {min(times):6.1f} {len(statements):10d} "
                      f"{len(data['children']['features']):8d} {len(data['pins']['features']):5d}"
                      f"{' (capped)' if data['capped'] else ''}")
        engine.dispose()
    finally:
        server.cleanup()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
