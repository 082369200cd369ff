"""``gridgov run`` serves the app with gunicorn: the server ``bench/lists.py`` measures.

The app is made once in the main process (which migrated the database and, without
``DATABASE_URL``, started the embedded PostgreSQL) and forked into ``workers`` processes, one per
core by default: each runs one request at a time, and the requests of a busy moment wait their
turn in order: threads in one process would wait for each other's Python (bench/RESULTS.md
compares the two). Each worker opens its own database connections (the
ones the main process used are not shared) and keeps the clock (app/clock.py). No access log: a URL may carry a searched phone
number. A site whose clients upload photos over slow links puts a buffering proxy (nginx) in
front, as for any gunicorn of this kind, or raises ``--workers``. Where gunicorn cannot run
(Windows), Werkzeug's threaded server serves instead.
"""
from __future__ import annotations

import gc
import os

# What bench/lists.py gives gunicorn too, so that it measures what users run.
WORKER_CLASS = "sync"
THREADS = 1


def default_workers() -> int:
    """One process per core, at least two (one slow page does not hold up every other)."""
    return max(2, os.cpu_count() or 1)


def compile_templates(app) -> None:
    """Compile every page template once, before the workers are forked: each worker would
    otherwise compile them again on its first requests, and its first pages would be slow."""
    for name in app.jinja_env.list_templates(extensions=("html",)):
        app.jinja_env.get_template(name)


# Python's collector looks for reference cycles after this many new objects (700 by default): a
# page makes tens of thousands (SQLAlchemy's rows and states), so it ran ~300 times a page.
YOUNG_OBJECTS = 7000


def settle_memory() -> None:
    """Before the workers are forked: what the app is made of (~200,000 objects: mappers, views,
    templates) is set aside from the collector, which no longer walks it on every full
    collection (a long pause now and then) and no longer writes to its pages, so the workers
    keep sharing them with the main process (Python's documentation of ``gc.freeze``); and the
    collector runs less often."""
    gc.collect()
    gc.set_threshold(YOUNG_OBJECTS, *gc.get_threshold()[1:])
    gc.freeze()


def serve(app, host: str, port: int, workers: int | None = None, threads: int = THREADS,
          worker_class: str = WORKER_CLASS) -> None:
    """Serve ``app`` until SIGTERM or Ctrl-C. Called outside any application context (see
    ``gridgov run``): a request pushes its own only when none is active."""
    from flask import has_app_context

    if has_app_context():
        raise RuntimeError("serve() inside an application context: requests would share its g")
    try:
        from gunicorn.app.base import BaseApplication
    except ImportError:  # no fork, no fcntl: not a POSIX system
        from werkzeug.serving import run_simple

        from . import clock

        clock.start(app)
        run_simple(host, port, app, use_reloader=False, use_debugger=False, threaded=True)
        return

    from . import clock
    from .extensions import db

    compile_templates(app)
    settle_memory()

    def post_fork(server, worker):
        with app.app_context():
            db.engine.dispose(close=False)  # the parent's connections stay the parent's
        # each worker keeps the clock (app/clock.py): a thread in the main process would be
        # forked with the locks it holds whenever gunicorn starts a worker; the work is done
        # once whoever runs it first
        clock.start(app)

    class Server(BaseApplication):
        def load_config(self):
            for key, value in {"bind": f"{host}:{port}", "workers": workers or default_workers(),
                               "worker_class": worker_class, "threads": threads, "post_fork": post_fork,
                               "timeout": 120, "graceful_timeout": 20}.items():
                self.cfg.set(key, value)

        def load(self):
            return app

    Server().run()
