"""Benchmark of the points bank (a script that prints figures, not a test).

Starts a throwaway embedded PostgreSQL, migrates it, loads the demo district, funds the
accounts, then runs a fixed number of redemptions from concurrent clients and prints redemptions
per second, latency, refusals, retries and the result of the same invariant check as `gridgov
points check`. Each client is a process of its own with its own connection: threads of one
Python waited for each other's interpreter, and that, not the bank, bounded the figure.

    .venv/bin/python bench/points.py [--clients 16] [--operations 4000] [--hot 0.5]

``--hot`` is the share of operations that go to one shared account, to measure contention.
"""
from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import sys
import tempfile
import multiprocessing
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from alembic import command  # noqa: E402
from alembic.config import Config  # noqa: E402
from sqlalchemy import create_engine, select  # noqa: E402
from sqlalchemy.exc import OperationalError  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402
from sqlalchemy.pool import NullPool  # noqa: E402

from app.database import ensure_database, normalise_url, start_embedded_server  # noqa: E402
from app.models import PointsAccount, RewardItem  # noqa: E402
from app.services import points  # noqa: E402
from app.services.errors import DomainError  # noqa: E402
from app.services.scope import EVERYTHING  # noqa: E402
from app.models.points import MAX_ADJUSTMENT, MAX_STOCK_CHANGE  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# 1,000,000 points per account, 30,000 of each district-wide item: more than 4,000 redemptions of
# up to 3 items take
FUNDING_STEPS = 100
STOCK_STEPS = 3


def prepare(url: str, clients: int) -> tuple[list[int], list[int]]:
    cfg = Config(os.path.join(ROOT, "migrations", "alembic.ini"))
    cfg.set_main_option("script_location", os.path.join(ROOT, "migrations"))
    cfg.set_main_option("sqlalchemy.url", url)
    command.upgrade(cfg, "head")
    from seed.demo import load_demo, load_points_demo

    engine = create_engine(url)
    with Session(engine) as session:
        load_demo(session)
        session.commit()
        load_points_demo(session)
        accounts = session.scalars(
            select(PointsAccount.id).where(PointsAccount.volunteer_id.is_not(None)).order_by(PointsAccount.id).limit(clients)
        ).all()
        # funds and stock through the same bounded actions as the screens (10,000 a step)
        for account_id in accounts:
            for _ in range(FUNDING_STEPS):
                points.adjust(session, EVERYTHING, account_id, MAX_ADJUSTMENT, "benchmark funds", None)
        items = session.scalars(select(RewardItem.id).where(RewardItem.community_id.is_(None))).all()
        for item_id in items:
            for _ in range(STOCK_STEPS):
                points.restock(session, EVERYTHING, item_id, MAX_STOCK_CHANGE, "benchmark stock", None)
    engine.dispose()
    return list(accounts), list(items)


def client(url: str, index: int, accounts: list[int], items: list[int], per_client: int, hot: float,
           start, results) -> None:
    """One client process: its own engine and connection, released with the others at once."""
    engine = create_engine(url, poolclass=NullPool)
    rng = random.Random(index)
    latencies: list[float] = []
    refused = retries = 0
    with Session(engine) as session:
        session.execute(select(1))  # connected before the start
        start.wait()
        for _ in range(per_client):
            account = accounts[0] if rng.random() < hot else accounts[index % len(accounts)]
            order = {rng.choice(items): rng.randint(1, 3)}
            started = time.perf_counter()
            for _attempt in range(5):
                try:
                    points.redeem(session, EVERYTHING, account, order, None)
                    break
                except DomainError:
                    refused += 1
                    break
                except OperationalError:  # deadlock or serialization failure: try again
                    session.rollback()
                    retries += 1
            latencies.append(time.perf_counter() - started)
    engine.dispose()
    results.put((latencies, refused, retries))


def run(url: str, accounts: list[int], items: list[int], clients: int, operations: int, hot: float) -> dict:
    context = multiprocessing.get_context("fork")
    start = context.Barrier(clients + 1)
    results = context.Queue()
    per_client = operations // clients
    processes = [context.Process(target=client, args=(url, i, accounts, items, per_client, hot, start, results))
                 for i in range(clients)]
    for process in processes:
        process.start()
    start.wait()
    started = time.perf_counter()
    gathered = [results.get() for _ in processes]
    elapsed = time.perf_counter() - started
    for process in processes:
        process.join()
    latencies = sorted(latency for mine, _, _ in gathered for latency in mine)
    engine = create_engine(url, poolclass=NullPool)
    with Session(engine) as session:
        problems = points.check_invariants(session)
    engine.dispose()
    return {
        "operations": len(latencies),
        "seconds": elapsed,
        "per_second": len(latencies) / elapsed,
        "p50_ms": statistics.median(latencies) * 1000,
        "p95_ms": latencies[int(len(latencies) * 0.95) - 1] * 1000,
        "refused": sum(refused for _, refused, _ in gathered),
        "retries": sum(retries for _, _, retries in gathered),
        "problems": problems,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--operations", type=int, default=4000)
    parser.add_argument("--hot", type=float, default=0.5)
    args = parser.parse_args()
    root = tempfile.mkdtemp(prefix="gridgov-bench-")
    server = start_embedded_server(os.path.join(root, "pgdata"), cleanup_mode="delete")
    try:
        ensure_database(server.get_uri(), "bench")
        url = normalise_url(server.get_uri("bench"))
        accounts, items = prepare(url, args.clients)
        result = run(url, accounts, items, args.clients, args.operations, args.hot)
    finally:
        server.cleanup()
        shutil.rmtree(root, ignore_errors=True)
    print(f"clients                 {args.clients} (processes, one connection each)")
    print(f"redemptions             {result['operations']} ({args.hot:.0%} on one shared account)")
    print(f"elapsed                 {result['seconds']:.2f} s")
    print(f"redemptions per second  {result['per_second']:.0f}")
    print(f"latency p50 / p95       {result['p50_ms']:.1f} ms / {result['p95_ms']:.1f} ms")
    print(f"refused (points/stock)  {result['refused']}")
    print(f"conflicts retried       {result['retries']}")
    print(f"invariant check         {'OK' if not result['problems'] else str(len(result['problems'])) + ' problem(s)'}")
    for problem in result["problems"]:
        print("  " + problem)
    return 1 if result["problems"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
