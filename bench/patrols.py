"""Benchmark of 巡查日志 at district size (a script that prints figures, not a test).

Opens (or loads) the district data set as bench/lists.py does (``instance/bench-district``; a data
set loaded before migration 0026 gets its year of patrols added), then measures, in-process:

- the week's compliance of every street (``services/patrols.compliance``: one statement: how many
  fell short, each community's figures, the first page of those short), and of a community and a
  block, p50/p95 over the rounds;
- a worker's days of a week (``worker_days``);
- the compliance page itself for the street officer (``/patrolmodelview/compliance/``), through the
  Flask test client (no network, one process);

and prints EXPLAIN (ANALYZE, BUFFERS) of a street's list.

    .venv/bin/python bench/patrols.py [--rounds 30] [--reload-patrols]
"""
from __future__ import annotations

import argparse
import datetime
import os
import re
import statistics
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from sqlalchemy import create_engine, select, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from lists import CSRF_RE, DEMO_PASSWORD, open_dataset  # noqa: E402


def pct(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def timed(call, rounds):
    call()  # warm
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return times


def report(name, times):
    print(f"  {name:<46} p50 {statistics.median(times):7.1f} ms   p95 {pct(times, 95):7.1f} ms   (n={len(times)})")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--reload-patrols", action="store_true", help="make the year of patrols again (the generator changed)")
    args = parser.parse_args()
    url, env = open_dataset("district")
    from app.database import normalise_url
    from app.models import Grid, Worker
    from app.services import patrols
    from seed.generate import DISTRICT, load_patrols

    engine = create_engine(normalise_url(url))
    with Session(engine) as session:
        if args.reload_patrols:
            # the incidents and visits refer to patrols (none of the generated ones): a TRUNCATE would
            # have to take them along; the rows go without their triggers, then the tables are rewritten
            session.execute(text("SET LOCAL session_replication_role = replica"))
            session.execute(text("DELETE FROM clock_ins; DELETE FROM patrols"))
            session.commit()
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM FULL patrols, clock_ins"))
        if not session.scalar(text("SELECT EXISTS (SELECT 1 FROM patrols)")):
            started = time.perf_counter()
            load_patrols(session, DISTRICT, seed=20261122)
            session.commit()
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE patrols, clock_ins"))
            print(f"added a year of patrols in {time.perf_counter() - started:.1f} s")
        figures = session.execute(text(
            "SELECT (SELECT count(*) FROM workers), (SELECT count(*) FROM patrols), (SELECT count(*) FROM clock_ins), "
            "pg_size_pretty(pg_total_relation_size('patrols'))")).one()
        print(f"district: {figures[0]:,} workers, {figures[1]:,} patrols, {figures[2]:,} clock-ins; "
              f"patrols take {figures[3]} with their indexes")
        monday, sunday = patrols.week_of(datetime.date.today() - datetime.timedelta(days=7))
        streets = session.scalars(select(Grid).where(Grid.level == "street").order_by(Grid.code)).all()
        community = session.scalar(select(Grid).where(Grid.level == "community").order_by(Grid.code))
        block = session.scalar(select(Grid).where(Grid.level == "block").order_by(Grid.code))
        print(f"the week {monday} – {sunday}:")
        street_times = []
        for street in streets:
            week = patrols.compliance(session, street, monday, sunday)
            workers = session.scalar(text("SELECT count(*) FROM workers w JOIN grids g ON g.id = w.grid_id "
                                          "WHERE g.path <@ :p"), {"p": str(street.path)})
            times = timed(lambda: patrols.compliance(session, street, monday, sunday), args.rounds)
            street_times += times
            report(f"street {street.name} ({workers} workers, {week.total} short)", times)
        report("every street", street_times)
        report(f"community {community.name}", timed(lambda: patrols.compliance(session, community, monday, sunday),
                                                    args.rounds))
        report(f"block {block.name}", timed(lambda: patrols.compliance(session, block, monday, sunday), args.rounds))
        worker = session.scalar(select(Worker).order_by(Worker.id).limit(1))
        report("a worker's days of the week", timed(lambda: patrols.worker_days(session, worker, monday, sunday),
                                                     args.rounds))
        street_path = str(streets[0].path)
        plan = session.execute(text("EXPLAIN (ANALYZE, BUFFERS) " + patrols.COMPLIANCE.text), {
            "district": int(street_path.split(".")[0]), "path": street_path, "depth": street_path.count(".") + 1,
            "roles": list(patrols.PATROLLING_ROLES), "first": monday, "last": sunday, "days": 7, "offset": 0,
            "limit": patrols.COMPLIANCE_PAGE}).scalars().all()
        print("\nEXPLAIN ANALYZE of the first street's list:\n  " + "\n  ".join(plan))

    from app import create_app

    app = create_app({"DATABASE_URL": url, "INSTANCE_DIR": env["GRIDGOV_INSTANCE_DIR"], "SECRET_KEY": "bench",
                      "TESTING": True})
    client = app.test_client()
    page = client.get("/login/").get_data(as_text=True)
    match = CSRF_RE.search(page)
    client.post("/login/", data={"username": "street", "password": DEMO_PASSWORD,
                                 "csrf_token": match.group(1) or match.group(2)})
    path = f"/patrolmodelview/compliance/?week={monday.isoformat()}"
    answer = client.get(path)
    assert answer.status_code == 200, answer.status_code
    shown = len(re.findall(r"/patrolmodelview/days/", answer.get_data(as_text=True)))
    print()
    report(f"the street officer's compliance page ({shown} rows shown)", timed(lambda: client.get(path), args.rounds))


if __name__ == "__main__":
    main()
