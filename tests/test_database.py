"""Pooled connections: one idle for a while is checked before use, and replaced when broken."""
from __future__ import annotations

import pytest
from sqlalchemy import create_engine
from sqlalchemy.exc import DBAPIError

from app.database import ping_after_idle


def _break_pooled_connection(engine, admin) -> int:
    """Use a pooled connection, give it back, then end its server process (as a server restart
    or a firewall would): the pool still holds it."""
    with engine.connect() as conn:
        pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
    with admin.connect() as conn:
        assert conn.exec_driver_sql(f"SELECT pg_terminate_backend({pid}, 5000)").scalar() is True
    return pid


@pytest.fixture
def engines(app):
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    made = []

    def make(**kwargs):
        engine = create_engine(url, pool_size=1, max_overflow=0, **kwargs)
        made.append(engine)
        return engine

    yield make
    for engine in made:
        engine.dispose()


def test_a_broken_connection_idle_for_a_while_is_replaced_before_use(engines):
    engine, admin = engines(), engines()
    ping_after_idle(engine, seconds=0)
    broken = _break_pooled_connection(engine, admin)
    with engine.connect() as conn:  # pinged, found broken, replaced: the query runs
        assert conn.exec_driver_sql("SELECT pg_backend_pid()").scalar() != broken
    # the pool made again (as gunicorn's workers do after the fork) keeps the check
    engine.dispose(close=False)
    broken = _break_pooled_connection(engine, admin)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT pg_backend_pid()").scalar() != broken


def test_a_connection_used_moments_ago_is_not_pinged(engines):
    """Within the idle time the connection is used as it is: broken, its query fails (and the
    pool replaces it for the next one). This is what the check above spares users."""
    engine, admin = engines(), engines()
    ping_after_idle(engine, seconds=3600)
    _break_pooled_connection(engine, admin)
    with pytest.raises(DBAPIError), engine.connect() as conn:
        conn.exec_driver_sql("SELECT 1")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT 1").scalar() == 1


def test_the_apps_engine_checks_idle_connections(app):
    from sqlalchemy import event

    from app.extensions import db

    with app.app_context():
        assert event.contains(db.engine, "checkout", _listener(db.engine, "checkout"))
        assert event.contains(db.engine, "checkin", _listener(db.engine, "checkin"))


def _listener(engine, name):
    """The app's own listener for a pool event (the one ``ping_after_idle`` added)."""
    listeners = [fn for fn in getattr(engine.pool.dispatch, name) if fn.__module__ == "app.database"]
    assert len(listeners) == 1, listeners
    return listeners[0]
