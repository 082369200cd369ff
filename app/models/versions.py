"""Numbers the app keeps caches by: a statement trigger moves each one before any change to the
tables it follows, so every process can ask one small query "has anything changed?" and
reload only when it has."""
from __future__ import annotations

from flask_appbuilder import Model
from sqlalchemy import BigInteger, Boolean, CheckConstraint, Column, Table, text


def _one_number(name: str) -> Table:
    """A table of exactly one row (its key can only be true) holding one number."""
    return Table(
        name,
        Model.metadata,
        Column("id", Boolean, primary_key=True, server_default=text("true")),
        Column("version", BigInteger, nullable=False, server_default=text("1")),
        CheckConstraint("id", name=f"{name}_one_row"),
    )


# Moves before any change to accounts, roles, permissions or a grid's path (migration 0009): the
# app keeps each user's account, permissions and scope between requests until it moves.
auth_version = _one_number("auth_version")

# Moves before any change to incident categories, departments (and the communities they serve)
# and points rules (migration 0012): the search forms' drop-downs of these rows are kept until
# it (or auth_version) moves.
reference_version = _one_number("reference_version")
