"""Transaction helpers every service uses: commit or turn the database's refusal into a
DomainError (rolling back), and the guarded state change — one conditional UPDATE that only
one of two concurrent callers can win."""
from __future__ import annotations

from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from .db_errors import explain
from .errors import Conflict


def commit(session: Session) -> None:
    try:
        session.commit()
    except DBAPIError as exc:
        session.rollback()
        raise explain(exc) from None


def flush(session: Session) -> None:
    try:
        session.flush()
    except DBAPIError as exc:
        session.rollback()
        raise explain(exc) from None


def change_once(session: Session, statement, refusal) -> None:
    """Run ``UPDATE … WHERE <still in the expected state> RETURNING id``; when no row comes back
    someone else changed it first: roll back and refuse with ``refusal``."""
    if session.execute(statement).scalar() is None:
        session.rollback()
        raise Conflict(refusal)
