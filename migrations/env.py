"""Alembic environment. Inside the app (``gridgov db …``) it uses the app's engine; outside
(the migration tests) it uses the ``sqlalchemy.url`` set on the Alembic config."""
from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

import app.models as models

config = context.config
target_metadata = models.metadata


def include_object(obj, name, type_, reflected, compare_to):
    # Objects made by extensions (ltree, pg_trgm) are not ours to compare.
    return not (type_ == "table" and reflected and compare_to is None and name.startswith("pg_"))


def _engine():
    url = config.get_main_option("sqlalchemy.url")
    if url:
        return create_engine(url, poolclass=pool.NullPool)
    from flask import current_app

    return current_app.extensions["migrate"].db.engine


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        include_object=include_object,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = _engine()
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            include_object=include_object,
            compare_type=True,
            transaction_per_migration=True,
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
