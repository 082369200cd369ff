"""The dashboard (一屏知全域) at a data set's size: p50/p95 of the whole page, served as ``gridgov run``
serves it, for the whole city's scope and the areas under it (a script that prints figures, not
a test).

Loads the data set as ``bench/lists.py`` does (the same instance under ``instance/bench-<dataset>``,
loaded once; ``gridgov setup`` brings its schema to the code's migrations, so the monthly tallies
of migration 0023 are filled from the loaded incidents), starts gunicorn (``app/server.py``), logs
the clients in and requests each scenario's page: warm-up requests, then ``--requests`` per
client, ``--clients`` at once. The administrator sees the whole city (every district: the
city-level dispatch centre's scope); the demo users are scoped to the first district. Then
requests each page once more in-process and prints its SQL statements' count and the slowest
ones' plans (``--explain``).

    .venv/bin/python bench/dashboard.py --dataset city [--scale 1.0] [--clients 1] [--requests 100]
    .venv/bin/python bench/dashboard.py --dataset district --explain
"""
from __future__ import annotations

import argparse
import glob
import os
import platform
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "bench"))

import psycopg2  # noqa: E402

from lists import (ADMIN_PASSWORD, DEMO_PASSWORD, Client, measure, open_dataset, pct, per_request,  # noqa: E402
                   record_statements, start_server, wait_until_listening, warm)
from app import server  # noqa: E402


def scenarios(url: str) -> list[tuple[str, str, str]]:
    """(name, user, path): the ids of the areas drilled into are read from the loaded data."""
    conn = psycopg2.connect(url)
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM grids WHERE parent_id IS NULL")
        roots = cur.fetchone()[0]
        cur.execute("SELECT u.grid_id FROM ab_user u WHERE u.username = 'leader'")
        district = cur.fetchone()[0]
        cur.execute("SELECT u.grid_id FROM ab_user u WHERE u.username = 'street'")
        street = cur.fetchone()[0]
        cur.execute("SELECT id FROM grids WHERE parent_id = %s ORDER BY code LIMIT 1", (street,))
        community = cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM incidents")
        incidents = cur.fetchone()[0]
    conn.close()
    print(f"{roots} districts at the top, {incidents:,} incidents")
    return [
        ("1 the whole city (administrator)", "admin", "/dashboard/"),
        ("2 a district, drilled into from the city", "admin", f"/dashboard/{district}"),
        ("3 a district (leader)", "leader", "/dashboard/"),
        ("4 a district (district dispatcher)", "dispatcher", "/dashboard/"),
        ("5 a street (street officer)", "street", "/dashboard/"),
        ("6 a community, drilled into", "street", f"/dashboard/{community}"),
        ("reference: the start page (administrator)", "admin", "/"),
        ("reference: incident figures of a street", "street", "/incidentmodelview/figures/?by=community"),
    ]


def tree_cpu(roots: list[int]) -> dict[str, float]:
    """CPU seconds used so far by these processes and their descendants (the app's gunicorn,
    this data set's PostgreSQL), from /proc: unlike latency, not inflated by other programs on a
    shared machine. Split by name into app and postgres."""
    tick = os.sysconf("SC_CLK_TCK")
    children: dict[int, list[int]] = {}
    stats: dict[int, tuple[str, float]] = {}
    for path in glob.glob("/proc/[0-9]*/stat"):
        try:
            with open(path) as fh:
                data = fh.read()
        except OSError:
            continue
        pid = int(data.split()[0])
        name = data[data.index("(") + 1:data.rindex(")")]
        fields = data[data.rindex(")") + 2:].split()
        children.setdefault(int(fields[1]), []).append(pid)
        stats[pid] = (name, (int(fields[11]) + int(fields[12])) / tick)
    used = {"app": 0.0, "postgres": 0.0}
    todo = list(roots)
    while todo:
        pid = todo.pop()
        todo.extend(children.get(pid, []))
        if pid in stats:
            name, seconds = stats[pid]
            used["postgres" if name.startswith("postgres") else "app"] += seconds
    return used


def postmaster(instance: str) -> int:
    with open(os.path.join(instance, "pgdata", "postmaster.pid")) as fh:
        return int(fh.readline())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", choices=("district", "city"), default="city")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--clients", type=int, default=1)
    parser.add_argument("--requests", type=int, default=100, help="requests per client and scenario")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--worker-class", default=server.WORKER_CLASS, help="gunicorn worker class (gridgov run's)")
    parser.add_argument("--threads", type=int, default=server.THREADS, help="threads per worker (gridgov run's)")
    parser.add_argument("--explain", action="store_true", help="print each page's SQL statements and slowest plans")
    parser.add_argument("--explain-slowest", type=int, default=2, help="how many plans a page (--explain)")
    args = parser.parse_args()

    url, env = open_dataset(args.dataset, args.scale)
    os.environ.update(env)
    from werkzeug.security import generate_password_hash

    conn = psycopg2.connect(url)  # the data set's administrator may have been made with another password
    with conn, conn.cursor() as cur:
        cur.execute("UPDATE ab_user SET password = %s WHERE username = 'admin'", (generate_password_hash(ADMIN_PASSWORD),))
    conn.close()
    pages = scenarios(url)
    process, port = start_server("app.create_app()", env, args)
    try:
        wait_until_listening(process, port)
        print(f"data set: {args.dataset} (scale {args.scale:g}); {args.clients} client(s) x {args.requests} requests "
              f"a page; gunicorn {args.workers} workers; {platform.node()}, {os.cpu_count()} CPUs")
        print(f"load average before: {os.getloadavg()[0]:.1f}")
        print("\n| page | p50 ms | p95 ms | max ms | requests/s | server CPU ms/req: app | PostgreSQL |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        servers = [process.pid, postmaster(env["GRIDGOV_INSTANCE_DIR"])]
        sessions: dict[str, list[Client]] = {}
        for name, user, path in pages:
            if user not in sessions:
                password = ADMIN_PASSWORD if user == "admin" else DEMO_PASSWORD
                sessions[user] = [Client(port, user, password) for _ in range(args.clients)]
            status, body = sessions[user][0].get(path)
            if status != 200 or (path.startswith("/dashboard/") and b"dashboard-data" not in body):
                raise SystemExit(f"{path} as {user}: {status}")
            warm(sessions[user], path)
            before = tree_cpu(servers)
            latencies, used = measure(sessions[user], path, args.requests)
            after = tree_cpu(servers)
            rates = per_request([used])
            cpu = {kind: (after[kind] - before[kind]) / used["n"] * 1000 for kind in after}
            print(f"| {name} | {pct(latencies, 50):.1f} | {pct(latencies, 95):.1f} | {max(latencies):.1f} | "
                  f"{rates['rps']:.1f} | {cpu['app']:.1f} | {cpu['postgres']:.1f} |")
        print(f"load average after: {os.getloadavg()[0]:.1f}")
    finally:
        process.terminate()
        process.wait(timeout=30)
    if args.explain:
        statements(pages, args.explain_slowest)


def statements(pages: list[tuple[str, str, str]], slowest: int) -> None:
    """Each page once more in this process: its SQL statements, their time, and the plans
    (EXPLAIN ANALYZE) of the slowest."""
    from app import create_app
    from app.extensions import db

    app = create_app()
    app.config["WTF_CSRF_ENABLED"] = False
    ran = record_statements(app)

    clients = {}
    for name, user, path in pages:
        if user not in clients:
            clients[user] = app.test_client()
            clients[user].post("/login/", data={"username": user,
                                                "password": ADMIN_PASSWORD if user == "admin" else DEMO_PASSWORD})
        clients[user].get(path)  # warm
        ran.clear()
        clients[user].get(path)
        print(f"\n-- {name}: {len(ran)} statements, {sum(t for t, _ in ran):.1f} ms in SQL; the slowest:")
        for ms, statement in sorted(ran, reverse=True)[:slowest]:
            print(f"   {ms:7.1f} ms  " + " ".join(statement.split())[:400])
            with app.app_context(), db.engine.connect() as conn:
                plan = conn.exec_driver_sql("EXPLAIN (ANALYZE, COSTS OFF, SUMMARY ON) " + statement.replace("%", "%%")).all()
            for (line,) in plan:
                if "Buffers:" not in line:
                    print("       " + line)

if __name__ == "__main__":
    main()
