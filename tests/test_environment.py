"""The suite passes whatever the shell that runs it exports: a part of it, run with other values
of every variable the app reads, still passes (tests/conftest.py sets them for the suite)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from .conftest import environment

ROOT = Path(__file__).resolve().parent.parent
# a command of the CLI on the demo database, and two tests of the app (settings the app reads at start)
PART = ["tests/test_cli.py::test_seed_demo_refuses_a_database_with_data",
        "tests/views/test_login_limit.py::test_five_failures_lock_the_account_and_its_right_password",
        "tests/views/test_security.py::test_session_cookie_flags"]


def test_the_suite_ignores_the_callers_gridgov_variables(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    env = environment(
        GRIDGOV_ADMIN_PASSWORD="Other@Admin7722", GRIDGOV_DEMO_PASSWORD="Other@Pass9911",
        GRIDGOV_SECRET_KEY="another-key", GRIDGOV_INSTANCE_DIR=str(elsewhere),
        GRIDGOV_LOGIN_RATE_LIMIT="1000 per minute", GRIDGOV_RATELIMIT_STORAGE_URI="redis://127.0.0.1:1",
        GRIDGOV_LOGIN_ACCOUNT_FAILURES="50", GRIDGOV_LOGIN_ADDRESS_FAILURES="1", GRIDGOV_LOGIN_WINDOW_MINUTES="0",
        GRIDGOV_LOGIN_LOCK_MINUTES="0",
        GRIDGOV_SECURE_COOKIES="1", DATABASE_URL="postgresql://nobody@127.0.0.1:1/nowhere")
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                             f"--basetemp={tmp_path / 'run'}", *PART],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            timeout=900)
    assert result.returncode == 0 and f"{len(PART)} passed" in result.stdout, result.stdout[-4000:]
    assert not elsewhere.exists()
