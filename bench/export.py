"""Export of a list at a data set's size: the time to download the incidents as .xlsx and .csv,
and the serving process's peak memory, for a small export and for a district's 70,000 incidents
(a script that prints figures, not a test).

Loads the data set as ``bench/lists.py`` does (``instance/bench-<dataset>``, loaded once), starts
gunicorn with ONE worker (``app/server.py``: every export runs in the same process, so its peak
resident memory, ``VmHWM``, is the most any of them took), signs in and downloads each export in
turn, smallest first. Memory that does not grow with the rows shows as the same peak after the
small export and after the large one.

    .venv/bin/python bench/export.py --dataset district [--runs 2]
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "bench"))

import psycopg2  # noqa: E402

from lists import ADMIN_PASSWORD, DEMO_PASSWORD, Client, open_dataset, start_server, wait_until_listening  # noqa: E402
from app import server  # noqa: E402

# (what, user, list URL's arguments): smallest first
EXPORTS = [
    ("a community's incidents", "secretary", ""),
    ("a street's incidents", "street", ""),
    ("the district's incidents", "admin", ""),
]


def peak_kib(pid: int) -> tuple[int, int]:
    """(resident now, peak resident) of process ``pid``, in KiB."""
    found = {}
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            name, _, value = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                found[name] = int(value.split()[0])
    return found["VmRSS"], found["VmHWM"]


def cpu_seconds(pid: int) -> float:
    """User and system CPU time process ``pid`` has used (a figure that waits for no other process)."""
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def worker_pid(master: int) -> int:
    with open(f"/proc/{master}/task/{master}/children") as fh:
        children = [int(pid) for pid in fh.read().split()]
    if len(children) != 1:
        raise SystemExit(f"expected one gunicorn worker, found {children}")
    return children[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", choices=("district", "city"), default="district")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--runs", type=int, default=2, help="downloads of each export (the best is printed)")
    args = parser.parse_args()
    args.workers, args.threads, args.worker_class = 1, server.THREADS, server.WORKER_CLASS

    url, env = open_dataset(args.dataset, args.scale)
    from werkzeug.security import generate_password_hash

    conn = psycopg2.connect(url)  # the data set's administrator may have been made with another password
    with conn, conn.cursor() as cur:
        cur.execute("UPDATE ab_user SET password = %s WHERE username = 'admin'", (generate_password_hash(ADMIN_PASSWORD),))
    conn.close()
    process, port = start_server("app.create_app()", env, args)
    try:
        wait_until_listening(process, port)
        print(f"data set: {args.dataset} (scale {args.scale:g}); gunicorn 1 worker; best of {args.runs}; "
              f"{platform.node()}, {os.cpu_count()} CPUs; load average before: {os.getloadavg()[0]:.1f}")
        clients = {}
        worker = None
        print("\n| export | rows | format | seconds | worker CPU s | MB | worker RSS after, MiB | worker peak RSS, MiB |")
        print("|---|---:|---|---:|---:|---:|---:|---:|")
        for what, user, query in EXPORTS:
            if user not in clients:
                clients[user] = Client(port, user, ADMIN_PASSWORD if user == "admin" else DEMO_PASSWORD)
                clients[user].get("/incidentmodelview/list/")  # warm the worker
            worker = worker or worker_pid(process.pid)
            for fmt in ("csv", "xlsx"):
                best, best_cpu, size = None, None, 0
                for _ in range(args.runs):
                    cpu_before = cpu_seconds(worker)
                    started = time.perf_counter()
                    status, body = clients[user].get(f"/incidentmodelview/export/{fmt}{query}")
                    elapsed = time.perf_counter() - started
                    cpu = cpu_seconds(worker) - cpu_before
                    if status != 200:
                        raise SystemExit(f"{what} as {fmt}: {status}")
                    best, size = min(best or elapsed, elapsed), len(body)
                    best_cpu = min(best_cpu or cpu, cpu)
                rows = body.count(b"\n") - 1 if fmt == "csv" else rows
                resident, peak = peak_kib(worker)
                print(f"| {what} | {rows:,} | {fmt} | {best:.2f} | {best_cpu:.2f} | {size / 1e6:.1f} | {resident / 1024:.0f} | "
                      f"{peak / 1024:.0f} |")
        print(f"\nload average after: {os.getloadavg()[0]:.1f}")
    finally:
        process.terminate()
        process.wait(timeout=30)


if __name__ == "__main__":
    main()
