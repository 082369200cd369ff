"""Every page of the app, opened at a data set's size as each kind of user, slowest first.

Loads the data set as ``bench/lists.py`` does (the same instance), then, in this process with
Flask's test client (no HTTP server, no concurrency: the cost of one page alone), logs in as each
user and requests every GET page that takes no argument (lists, add forms, custom pages), and the
show and edit pages of the first row each list shows: a warm-up request, then the best of two.
Prints the pages slower than ``--over`` ms per user. Finds the page that draws a whole table
(a search form's or an add form's drop-down, a list that sorts every row) before a user does.

    .venv/bin/python bench/pages.py --dataset city               # every demo role; --users admin,street
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
    plain = pages(app)
    record_rules = {rule.rule for rule in app.url_map.iter_rules() if rule.arguments == {"pk"}}
    print(f"data set: {args.dataset}; {len(plain)} pages without arguments, plus each list's first row")
    for user in args.users.split(","):
        client = app.test_client()
        password = ADMIN_PASSWORD if user == "admin" else DEMO_PASSWORD
        if client.post("/login/", data={"username": user, "password": password}).status_code != 302:
            raise SystemExit(f"login as {user} failed")
        measured = []
        for path in plain:
            status, ms = best(client, path)
            measured.append((ms, status, path))
            if status == 200 and path.endswith("/list/"):
                base = path[:-len("/list/")]
                found = re.search(re.escape(base) + r"/show/(\d+)", client.get(path).get_data(as_text=True))
                for kind in ("show", "edit"):
                    if found and f"{base}/{kind}/<pk>" in record_rules:
                        record = f"{base}/{kind}/{found.group(1)}"
                        measured.append((*best(client, record)[::-1], record))
        shown = [(ms, status, path) for ms, status, path in sorted(measured, reverse=True)
                 if status == 200 and ms > args.over]
        print(f"\n{user}: {sum(1 for m in measured if m[1] == 200)} pages answered 200; "
              f"slowest {max((m[0] for m in measured if m[1] == 200), default=0):.1f} ms")
        for ms, _, path in shown:
            print(f"  {ms:9.1f} ms  {path}")


if __name__ == "__main__":
    main()
