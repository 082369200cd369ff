"""The gridgov command: `run` really serves (on the embedded PostgreSQL, stopped cleanly on
exit) and `seed demo` refuses a database that already holds data."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

from app.cli import seed_demo


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_run_serves_on_the_embedded_database_and_stops_it(tmp_path):
    port = free_port()
    env = {**os.environ, "GRIDGOV_INSTANCE_DIR": str(tmp_path), "GRIDGOV_ADMIN_PASSWORD": "Admin@Test2026"}
    env.pop("DATABASE_URL", None)
    gridgov = os.path.join(os.path.dirname(sys.executable), "gridgov")
    proc = subprocess.Popen([gridgov, "run", "--port", str(port)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.time() + 120
        body = None
        while time.time() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=2) as response:
                    body = response.read().decode("utf-8")
                    break
            except OSError:
                time.sleep(0.5)
        assert body is not None, "gridgov run did not answer"
        assert "登录" in body
        assert (tmp_path / "pgdata" / "PG_VERSION").exists()
        assert (tmp_path / "pgdata" / "postmaster.pid").exists()
    finally:
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, output[-2000:]
    assert "Demo logins" in output and "Admin@Test2026" not in output
    assert not (tmp_path / "pgdata" / "postmaster.pid").exists(), "the embedded server was left running"


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
