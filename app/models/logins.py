"""Failed logins, counted in the database so that every worker process and instance shares one
count and a restart forgets nothing (migration 0019; the rules: services/logins.py)."""
from __future__ import annotations

from flask_appbuilder import Model
from sqlalchemy import CheckConstraint, Column, DateTime, Index, Integer, String, Table, text

# One row per account name ('account') and per client address ('address'): the failures of the
# current window and, once the limit is reached, until when that name or address is refused.
login_failures = Table(
    "login_failures",
    Model.metadata,
    Column("kind", String(10), primary_key=True),
    Column("key", String(256), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("window_start", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    Column("locked_until", DateTime(timezone=True)),
    # when the row no longer matters (its window and its lock have passed): pruned by this
    Column("stale_after", DateTime(timezone=True), nullable=False),
    CheckConstraint("kind IN ('account', 'address')", name="login_failures_kind"),
    CheckConstraint("failures >= 0", name="login_failures_not_negative"),
    Index("login_failures_stale_after_idx", "stale_after"),
)
