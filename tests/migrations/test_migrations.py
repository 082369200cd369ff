"""The schema comes only from Alembic: an empty database upgrades to head, matches the models
exactly, and downgrades back to nothing."""
from __future__ import annotations

import os

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

import app.models as models

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def alembic_config(url: str) -> Config:
    cfg = Config(os.path.join(ROOT, "migrations", "alembic.ini"))
    cfg.set_main_option("script_location", os.path.join(ROOT, "migrations"))
    cfg.set_main_option("sqlalchemy.url", url)
    return cfg


@pytest.fixture
def empty_db(database_url):
    url = database_url("migrations")
    engine = create_engine(url)
    yield url, engine
    engine.dispose()


def test_upgrade_matches_models_and_downgrades_to_base(empty_db):
    url, engine = empty_db
    cfg = alembic_config(url)
    command.upgrade(cfg, "head")

    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, models.metadata) == []
        tables = set(inspect(conn).get_table_names())
    assert {"grids", "workers", "volunteers", "service_records", "departments", "ab_user", "ab_role"} <= tables

    command.downgrade(cfg, "base")
    with engine.connect() as conn:
        assert set(inspect(conn).get_table_names()) == {"alembic_version"}
        # every function of ours is gone (those of the ltree extension stay with it)
        functions = conn.execute(text(
            "SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
            "WHERE n.nspname = 'public' AND NOT EXISTS "
            "(SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')"
        )).scalars().all()
    assert functions == []

    # and up again: the revisions are repeatable
    command.upgrade(cfg, "head")


def test_every_revision_states_its_purpose():
    versions = os.path.join(ROOT, "migrations", "versions")
    for name in os.listdir(versions):
        if name.endswith(".py"):
            with open(os.path.join(versions, name), encoding="utf-8") as fh:
                first = fh.readline()
            assert first.startswith('"""') and len(first.strip('"\n ')) > 10, name
