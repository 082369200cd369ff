"""Who changes what: the signed-in user is told to PostgreSQL as ``gridgov.actor_id`` in each
transaction that writes, and the audit trigger (migration 0024) records it with every changed row.

It is set once per transaction, just before its first write: before the ORM flushes, and before a
statement the session executes that is not a SELECT (a service's ``insert()``, ``update()`` or
``text()``). A read-only request (every list and record page) sends nothing more; a request that
writes pays one ``set_config`` on its connection, transaction-local (``is_local``), so a pooled
connection never carries one user's id into another's transaction. Without a signed-in user
(a CLI, the loaders, a migration) nothing is set and the trigger records the system."""
from __future__ import annotations

from flask import has_request_context
from flask_login import current_user
from sqlalchemy import event
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import TextClause

_SET_IN = "gridgov_actor_set_in"  # session.info: the root transaction the id was set in
SET_ACTOR = "SELECT set_config('gridgov.actor_id', %(actor)s, true)"


def _actor_id() -> int | None:
    if not has_request_context():
        return None
    user = current_user
    return getattr(user, "id", None) if getattr(user, "is_authenticated", False) else None


def _tell(session: Session) -> None:
    root = session.get_transaction()
    if root is not None and session.info.get(_SET_IN) is root:
        return
    actor = _actor_id()
    if actor is None:
        return
    connection = session.connection()  # begins the transaction if need be
    session.info[_SET_IN] = session.get_transaction()
    connection.exec_driver_sql(SET_ACTOR, {"actor": str(actor)})


def _before_flush(session, flush_context, instances) -> None:
    if session.new or session.dirty or session.deleted:
        _tell(session)


def _writes(state) -> bool:
    if state.is_insert or state.is_update or state.is_delete:
        return True
    statement = state.statement
    return isinstance(statement, TextClause) and not statement.text.lstrip().upper().startswith("SELECT")


def _before_execute(state) -> None:
    if _writes(state):
        _tell(state.session)


def install(scoped_session) -> None:
    """Listen on the app's session (``db.session``) once."""
    if not event.contains(scoped_session, "before_flush", _before_flush):
        event.listen(scoped_session, "before_flush", _before_flush)
        event.listen(scoped_session, "do_orm_execute", _before_execute)
