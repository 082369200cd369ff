"""What the cheapest Flask-AppBuilder pages cost, beside the incident page of scenario 6 (a script
that prints figures, not a test).

In-process (Flask's test client, no HTTP, no concurrency), signed in as the street officer of a
loaded data set, it times: an authenticated view answering two bytes, an authenticated view
rendering FAB's empty page (the menu bar and the page frame every page has), gridgov's incident
page and the stock incident view of ``bench/baseline.py`` inside gridgov's app, for the incident
scenario 6 uses (``bench/lists.py`` also measures that view in a stock FAB app).
No page FAB renders can cost less than the empty one, which bounds how much faster than the
stock incident page any FAB incident page can be.

    .venv/bin/python bench/floor.py --dataset city
"""
from __future__ import annotations

import argparse
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "bench"))

from flask_appbuilder import BaseView, expose  # noqa: E402
from flask_appbuilder.security.decorators import has_access  # noqa: E402

import lists  # noqa: E402
from app.extensions import db  # noqa: E402


class FloorView(BaseView):
    route_base = "/benchfloor"
    default_view = "page"

    @expose("/text/")
    @has_access
    def text(self):
        return "ok"

    @expose("/page/")
    @has_access
    def page(self):
        return self.render_template("appbuilder/base.html")


def timed(client, path: str, n: int) -> tuple[float, float, int]:
    for _ in range(10):
        response = client.get(path)
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(n):
        response = client.get(path)
    if response.status_code != 200:
        raise SystemExit(f"GET {path}: {response.status_code}")
    return ((time.perf_counter() - wall) / n * 1000, (time.process_time() - cpu) / n * 1000, len(response.data))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", choices=("district", "city"), default="district")
    parser.add_argument("--requests", type=int, default=100)
    args = parser.parse_args()
    url, env = lists.open_dataset(args.dataset)
    os.environ.update(env)
    import baseline

    app = baseline.create_app()
    baseline.grant(app)
    app.config["WTF_CSRF_ENABLED"] = False
    sm = app.appbuilder.sm
    role = "Street officer"
    with app.app_context():
        app.appbuilder.add_view_no_menu(FloorView)
        pvms = [sm.add_permission_view_menu(name, "FloorView") for name in ("can_text", "can_page")]
        for pvm in pvms:
            sm.add_permission_role(sm.find_role(role), pvm)
    incident = next(page for page in lists.scenarios(url) if page[0].startswith("6"))
    try:
        client = app.test_client()
        client.post("/login/", data={"username": "street", "password": lists.DEMO_PASSWORD})
        print(f"data set: {args.dataset}; in-process, street officer, {args.requests} requests each after 10\n")
        print("| page | wall ms | CPU ms | bytes |")
        print("|---|---:|---:|---:|")
        for name, path in (("authenticated view, two bytes of text", "/benchfloor/text/"),
                           ("authenticated view, FAB's empty page", "/benchfloor/page/"),
                           ("gridgov incident page (scenario 6)", incident[2]),
                           ("stock views' incident page, in gridgov's app", incident[3])):
            wall, cpu, size = timed(client, path, args.requests)
            print(f"| {name} | {wall:.1f} | {cpu:.1f} | {size:,} |")
    finally:
        with app.app_context():
            pvms = [sm.find_permission_view_menu(name, "FloorView") for name in ("can_text", "can_page")]
            for pvm in pvms:  # from every role that holds them (the administrator's too)
                for holder in sm.get_all_roles():
                    if pvm in holder.permissions:
                        sm.del_permission_role(holder, pvm)
            for name in ("can_text", "can_page"):
                sm.del_permission_view_menu(name, "FloorView", cascade=True)
            sm.del_view_menu("FloorView")
            db.session.commit()


if __name__ == "__main__":
    main()
