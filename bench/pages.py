"""Every page of the app, opened at a data set's size as each kind of user, slowest first.

Loads the data set as ``bench/lists.py`` does (the same instance), then, in this process with
Flask's test client (no HTTP server, no concurrency: the cost of one page alone), logs in as each
user and requests every GET page that takes no argument (lists, add forms, custom pages), and the
show and edit pages of the first row each list shows: a warm-up request, then the best of two.
Prints the pages slower than ``--over`` ms per user. Finds the page that draws a whole table
(a search form's or an add form's drop-down, a list that sorts every row) before a user does.

With ``--scans`` it also records every statement each page runs, with its parameters, and prints
those whose plan (EXPLAIN, not run) reads a large table (over ``--rows`` rows) from end to end: a
query no index covers, found on every page and for every role, not only the eight scenarios.

    .venv/bin/python bench/pages.py --dataset city               # every demo role; --users admin,street
    .venv/bin/python bench/pages.py --dataset city --scans       # and the sequential scans of large tables
"""
from __future__ import annotations

import argparse
import os
import re
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "bench"))

from lists import ADMIN_PASSWORD, DEMO_PASSWORD, open_dataset  # noqa: E402

SKIPPED = ("logout", "/lang", "download", "/pick/", "/api/", "/swagger", "/static")


def pages(app) -> list[str]:
    rules = []
    for rule in app.url_map.iter_rules():
        if "GET" in rule.methods and not rule.arguments and not any(s in rule.rule for s in SKIPPED):
            rules.append(rule.rule)
    return sorted(set(rules))


def best(client, path: str) -> tuple[int, float]:
    client.get(path)
    times, status = [], 0
    for _ in range(2):
        started = time.perf_counter()
        status = client.get(path).status_code
        times.append((time.perf_counter() - started) * 1000)
    return status, min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", choices=("district", "city"), default="district")
    parser.add_argument("--users", default="admin,dispatcher,leader,street,secretary,department,worker,volunteer")
    parser.add_argument("--over", type=float, default=50.0, help="print pages slower than this (ms)")
    parser.add_argument("--scans", action="store_true", help="print statements that read a large table whole")
    parser.add_argument("--rows", type=int, default=20000, help="a table this large is large (--scans)")
    args = parser.parse_args()

    _, env = open_dataset(args.dataset)
    os.environ.update(env)

    from werkzeug.security import generate_password_hash

    from app import create_app
    from app.extensions import db

    app = create_app()
    app.config["WTF_CSRF_ENABLED"] = False
    with app.app_context():  # the data set's administrator was made with another password
        admin = app.appbuilder.sm.find_user(username="admin")
        admin.password = generate_password_hash(ADMIN_PASSWORD)
        db.session.commit()
    scans = Scans(app, args.rows) if args.scans else None
    plain = pages(app)
    record_rules = {rule.rule for rule in app.url_map.iter_rules() if rule.arguments == {"pk"}}
    print(f"data set: {args.dataset}; {len(plain)} pages without arguments, plus each list's first row")
    for user in args.users.split(","):
        client = app.test_client()
        password = ADMIN_PASSWORD if user == "admin" else DEMO_PASSWORD
        if client.post("/login/", data={"username": user, "password": password}).status_code != 302:
            raise SystemExit(f"login as {user} failed")
        measured = []

        def visit(path):
            status, ms = best(client, path)
            measured.append((ms, status, path))
            if scans is not None and status == 200:
                scans.record(user, path, client)
            return status

        for path in plain:
            if visit(path) == 200 and path.endswith("/list/"):
                base = path[:-len("/list/")]
                found = re.search(re.escape(base) + r"/show/(\d+)", client.get(path).get_data(as_text=True))
                for kind in ("show", "edit"):
                    if found and f"{base}/{kind}/<pk>" in record_rules:
                        visit(f"{base}/{kind}/{found.group(1)}")
        shown = [(ms, status, path) for ms, status, path in sorted(measured, reverse=True)
                 if status == 200 and ms > args.over]
        print(f"\n{user}: {sum(1 for m in measured if m[1] == 200)} pages answered 200; "
              f"slowest {max((m[0] for m in measured if m[1] == 200), default=0):.1f} ms")
        for ms, _, path in shown:
            print(f"  {ms:9.1f} ms  {path}")
    if scans is not None:
        scans.report()


class Scans:
    """The statements pages run whose plan reads a large table whole (a Seq Scan)."""

    def __init__(self, app, rows: int):
        from sqlalchemy import event

        from app.extensions import db

        self.app, self.ran, self.found, self.checked = app, [], {}, 0
        with app.app_context():
            self.engine = db.engine
            with self.engine.connect() as conn:
                self.large = dict(conn.exec_driver_sql(
                    "SELECT relname, reltuples::bigint FROM pg_class WHERE relkind = 'r' AND reltuples > %s",
                    (rows,)).all())
        event.listen(self.engine, "before_cursor_execute", self._ran)

    def _ran(self, conn, cursor, statement, parameters, context, executemany):
        self.ran.append(cursor.mogrify(statement, parameters).decode() if parameters else statement)

    def record(self, user: str, path: str, client) -> None:
        self.ran.clear()
        client.get(path)
        statements = [s for s in self.ran if s.lstrip().upper().startswith(("SELECT", "WITH"))]
        with self.app.app_context(), self.engine.connect() as conn:
            for statement in statements:
                self.checked += 1
                plan = [line for (line,) in conn.exec_driver_sql("EXPLAIN " + statement.replace("%", "%%")).all()]
                for at, line in enumerate(plan):
                    table = re.search(r"Seq Scan on (\w+)", line)
                    if not table or table.group(1) not in self.large:
                        continue
                    # a scan with no condition under a LIMIT stops after that many rows (a capped count)
                    filtered = at + 1 < len(plan) and "Filter:" in plan[at + 1]
                    bounded = not filtered and any("Limit" in above for above in plan[:at])
                    key = (table.group(1), bounded, " ".join(statement.split())[:160])
                    self.found.setdefault(key, []).append(f"{user} {path}")

    def report(self) -> None:
        print(f"\n{self.checked} statements explained; large tables: "
              + ", ".join(f"{name} ({rows:,})" for name, rows in sorted(self.large.items())))
        for bounded, title in ((False, "read a large table whole"),
                               (True, "scan a large table with no condition under a LIMIT (they stop there)")):
            found = sorted((key, where) for key, where in self.found.items() if key[1] == bounded)
            print(f"{len(found)} statements {title}" + (":" if found else ""))
            for (table, _, statement), where in found:
                print(f"  Seq Scan on {table}: {statement}")
                print(f"    on {len(where)} pages, e.g. {'; '.join(sorted(set(where))[:3])}")


if __name__ == "__main__":
    main()
