"""The transaction of a user action. Every service action runs in ``unit_of_work(session)``: the
outermost block commits when it ends, and any error rolls everything back. A service called from
inside another's block (or from a form's save) joins that transaction instead of committing its
part alone. A refusal by the database (a constraint, a trigger) becomes the DomainError that
``db_errors.explain`` makes; a failure of the database (a lost connection) stays what it is.

The guarded state change lives here too: one conditional UPDATE that only one of two concurrent
callers can win."""
from __future__ import annotations

import logging
from contextlib import contextmanager

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.orm import Session

from .db_errors import constraint_name, explain
from .errors import Conflict

log = logging.getLogger(__name__)

# session.info key: how many unit_of_work blocks are open on the session
_DEPTH = "gridgov_unit_of_work_depth"
# A lost connection, a restarted server, a deadlock: the database failed, it did not refuse.
NOT_REFUSALS = (OperationalError, InterfaceError)


@contextmanager
def unit_of_work(session: Session):
    """Run the block in the session's transaction: commit when the outermost block ends; on an
    error roll back (the outermost block) and raise it again, a database refusal as a DomainError."""
    depth = session.info.get(_DEPTH, 0)
    session.info[_DEPTH] = depth + 1
    try:
        yield
        if depth == 0:
            session.commit()
    except BaseException as error:
        if depth == 0:
            session.rollback()
        if isinstance(error, DBAPIError) and not isinstance(error, NOT_REFUSALS):
            # the constraint's name only: the statement's values may be personal data
            log.warning("the database refused a change: %s", constraint_name(error))
            raise explain(error) from None
        raise
    finally:
        session.info[_DEPTH] = depth


def change_once(session: Session, statement, refusal) -> None:
    """Run ``UPDATE … WHERE <still in the expected state> RETURNING id``; when no row comes back
    someone else changed it first: refuse with ``refusal`` (the unit of work rolls back)."""
    if session.execute(statement).scalar() is None:
        raise Conflict(refusal)
