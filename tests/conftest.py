"""Test fixtures: one throwaway embedded PostgreSQL server for the whole run, a template
database migrated and loaded with the demo data once, and a fresh copy of it for every test."""
from __future__ import annotations

import os
import re
import shutil
import tempfile

import psycopg2
import pytest
from psycopg2 import sql

ADMIN_PASSWORD = "Admin@Test2026"
DEMO_PASSWORD = "Demo@Grid2026"
TEST_DB = "gridgov_test"
TEMPLATE_DB = "gridgov_template"
# The suite's own settings, kept from the caller's environment (tests/e2e/conftest.py).
SUITE_SETTINGS = ("GRIDGOV_CHROMIUM",)


def _settle_environment() -> None:
    """The app reads GRIDGOV_* and DATABASE_URL from the environment (config.py, at import): the
    caller's values are dropped before anything imports it, and the suite sets its own, so
    the tests see the same app whatever the shell that runs them exports."""
    for name in list(os.environ):
        if (name.startswith("GRIDGOV_") and name not in SUITE_SETTINGS) or name == "DATABASE_URL":
            del os.environ[name]
    os.environ.update(GRIDGOV_ADMIN_PASSWORD=ADMIN_PASSWORD, GRIDGOV_DEMO_PASSWORD=DEMO_PASSWORD)


_settle_environment()


def environment(**values: str | None) -> dict[str, str]:
    """The environment for a process a test starts: the suite's, with ``values`` set (None
    removes a variable)."""
    env = dict(os.environ)
    for name, value in values.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


from app.database import normalise_url, start_embedded_server  # noqa: E402  (the app comes after)


def _admin_exec(admin_uri: str, *statements) -> None:
    conn = psycopg2.connect(admin_uri)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            for statement in statements:
                cur.execute(statement)
    finally:
        conn.close()


@pytest.fixture(scope="session")
def pg_server():
    root = tempfile.mkdtemp(prefix="gridgov-pg-")
    server = start_embedded_server(os.path.join(root, "pgdata"), cleanup_mode="delete")
    # A throwaway server: durability buys nothing here, and every test copies a database.
    _admin_exec(server.get_uri(), "ALTER SYSTEM SET fsync = off", "ALTER SYSTEM SET synchronous_commit = off",
                "ALTER SYSTEM SET full_page_writes = off", "SELECT pg_reload_conf()")
    yield server
    server.cleanup()
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def admin_uri(pg_server):
    return pg_server.get_uri()


@pytest.fixture(scope="session")
def database_url(pg_server):
    """A URL for a new empty database on the test server (used by migration tests)."""
    counter = iter(range(1000))

    def make(name_prefix="scratch"):
        name = f"{name_prefix}_{next(counter)}"
        _admin_exec(pg_server.get_uri(), sql.SQL("CREATE DATABASE {} ENCODING 'UTF8' TEMPLATE template0").format(sql.Identifier(name)))
        return normalise_url(pg_server.get_uri(name))

    return make


@pytest.fixture(scope="session")
def app(pg_server, tmp_path_factory):
    from app import create_app
    from app.cli import prepare_database
    from app.extensions import db

    admin = pg_server.get_uri()
    _admin_exec(admin, sql.SQL("CREATE DATABASE {} ENCODING 'UTF8' TEMPLATE template0").format(sql.Identifier(TEST_DB)))
    instance = tmp_path_factory.mktemp("instance")
    app = create_app({
        "DATABASE_URL": pg_server.get_uri(TEST_DB),
        "INSTANCE_DIR": str(instance),
        "SECRET_KEY": "test-secret-key",
        "GRIDGOV_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "GRIDGOV_DEMO_PASSWORD": DEMO_PASSWORD,
        "TESTING": True,
    })
    prepare_database(app, load_demo=True, echo=lambda *a, **k: None)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    _admin_exec(admin, sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(TEMPLATE_DB), sql.Identifier(TEST_DB)))
    yield app


@pytest.fixture(autouse=True)
def fresh_database(request, pg_server):
    """Every test that uses the app starts from the demo data, whatever earlier tests did."""
    if "app" not in request.fixturenames:
        yield
        return
    app = request.getfixturevalue("app")
    from app.extensions import appbuilder, db

    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    _admin_exec(
        pg_server.get_uri(),
        sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(TEST_DB)),
        sql.SQL("CREATE DATABASE {} TEMPLATE {} STRATEGY WAL_LOG").format(sql.Identifier(TEST_DB), sql.Identifier(TEMPLATE_DB)),
    )
    appbuilder.sm.limiter.reset()
    # what the app keeps by version number: the new database starts again from the template's
    from app.extensions import cache

    cache.clear()
    yield
    with app.app_context():
        db.session.remove()


@pytest.fixture
def session(app, pg_server):
    """A plain SQLAlchemy session on the test database, for services and for checking what
    the HTTP tests changed. It holds no app context: requests made meanwhile get their own."""
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session
    from sqlalchemy.pool import NullPool

    engine = create_engine(normalise_url(pg_server.get_uri(TEST_DB)), poolclass=NullPool)
    with Session(engine) as db_session:
        yield db_session
        db_session.rollback()
    engine.dispose()


CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


def csrf_token(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "no CSRF token in the page"
    return match.group(1) or match.group(2)


class Browser:
    """The Flask test client with a logged-in user and CSRF tokens taken from the pages."""

    def __init__(self, client, username=None):
        self.client = client
        self.username = username

    def get(self, url, **kwargs):
        return self.client.get(url, **kwargs)

    def token(self, url="/login/"):
        match = CSRF_RE.search(self.client.get(url).get_data(as_text=True))
        if match is None and self.username:  # a page without a form: any logged-in user has this one
            return csrf_token(self.client.get("/resetmypassword/form").get_data(as_text=True))
        assert match, "no CSRF token in the page"
        return match.group(1) or match.group(2)

    def post(self, url, data=None, token_from=None, **kwargs):
        data = dict(data or {})
        data.setdefault("csrf_token", self.token(token_from or url))
        return self.client.post(url, data=data, **kwargs)

    def login(self, username, password):
        response = self.post("/login/", {"username": username, "password": password}, token_from="/login/")
        self.username = username
        return response


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def login(app):
    """login('secretary') → a Browser logged in as that demo user (language: zh by default)."""

    def make(username, password=None, lang=None):
        browser = Browser(app.test_client())
        if lang:
            browser.get(f"/lang/{lang}")
        password = password or (ADMIN_PASSWORD if username == "admin" else DEMO_PASSWORD)
        response = browser.login(username, password)
        assert response.status_code == 302, f"login of {username} failed"
        assert "/login" not in response.headers["Location"], f"login of {username} refused"
        return browser

    return make
