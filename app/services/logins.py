"""The login limit: failed logins counted per account name and per client address in
``login_failures`` (migration 0019), so every worker process and instance shares one count and a
restart forgets nothing.

Each attempt first takes a numbered turn on its account name and on its address, each in one
conditional ``INSERT … ON CONFLICT DO UPDATE`` (the row is locked for that statement alone, so
concurrent attempts get distinct numbers). A turn past the limit is refused before the password
is looked at; the turn that reaches the limit locks the row for ``lock`` and is the last one
checked. A wrong password keeps its turns; a right one hands back its own turn on the address
(the address counts failures only) and, on the account, its turn and those before it (a correct
login forgives the account's earlier failures). An unknown name is counted like an account, so it
gets the same refusal and, when refused, the same time (no password is checked)."""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from flask_babel import lazy_gettext as _l
from sqlalchemy import text, update
from sqlalchemy.orm import Session

from ..models import GridgovUser
from .errors import DomainError
from .unit_of_work import unit_of_work

log = logging.getLogger(__name__)

ACCOUNT, ADDRESS = "account", "address"
KEY_LENGTH = 256  # login_failures.key


@dataclass(frozen=True)
class LoginLimits:
    """``account_failures`` failed logins of one account name, or ``address_failures`` from one
    address, within ``window`` lock it for ``lock``."""

    account_failures: int
    address_failures: int
    window: timedelta
    lock: timedelta

    @classmethod
    def from_config(cls, config) -> "LoginLimits":
        return cls(int(config["GRIDGOV_LOGIN_ACCOUNT_FAILURES"]), int(config["GRIDGOV_LOGIN_ADDRESS_FAILURES"]),
                   timedelta(minutes=float(config["GRIDGOV_LOGIN_WINDOW_MINUTES"])),
                   timedelta(minutes=float(config["GRIDGOV_LOGIN_LOCK_MINUTES"])))

    def limit(self, kind: str) -> int:
        return self.account_failures if kind == ACCOUNT else self.address_failures


class LoginPaused(DomainError):
    """Too many failed logins for this account name or from this address."""

    status = 429

    def __init__(self, minutes: int):
        super().__init__(_l("Too many failed logins: signing in is paused. Please try again in %(minutes)s minutes.",
                            minutes=minutes))


@dataclass(frozen=True)
class Turn:
    kind: str
    key: str
    number: int  # the failures counted in the window, this attempt included
    locked_until: datetime | None


@dataclass(frozen=True)
class Attempt:
    turns: tuple[Turn, ...]
    allowed: bool


# A row starts over once its window and lock have passed or its lock has run out.
_FRESH = "(f.stale_after <= now() OR f.locked_until <= now())"
_FAILURES = f"CASE WHEN {_FRESH} THEN 1 ELSE f.failures + 1 END"
_START = f"CASE WHEN {_FRESH} THEN now() ELSE f.window_start END"
_LOCK = f"CASE WHEN f.locked_until > now() THEN f.locked_until WHEN {_FAILURES} >= :limit THEN now() + :lock END"
TAKE_TURN = text(f"""
    INSERT INTO login_failures AS f (kind, key, failures, window_start, locked_until, stale_after)
    VALUES (:kind, :key, 1, now(), CASE WHEN :limit <= 1 THEN now() + :lock END,
            now() + CASE WHEN :limit <= 1 THEN greatest(:window, :lock) ELSE :window END)
    ON CONFLICT (kind, key) DO UPDATE SET
        failures = {_FAILURES},
        window_start = {_START},
        locked_until = {_LOCK},
        stale_after = greatest(({_START}) + :window, {_LOCK})
    RETURNING failures, locked_until""")

# Hand back ``turns`` failures; the lock goes with them unless enough failures remain.
HAND_BACK = text("""
    UPDATE login_failures SET failures = greatest(failures - :turns, 0),
                              locked_until = CASE WHEN failures - :turns >= :limit THEN locked_until END
    WHERE kind = :kind AND key = :key""")

# Rows whose window and lock have passed, through the index on stale_after; a row another attempt
# holds is left for the next time (no waiting, so two prunes never deadlock).
PRUNE = text("""
    DELETE FROM login_failures WHERE (kind, key) IN (
        SELECT kind, key FROM login_failures WHERE stale_after < now() FOR UPDATE SKIP LOCKED)""")

# The account a name signs in to (by user name or e-mail, as FAB's login accepts both): one
# count per account whichever the attacker types.
# Lower-cased by PostgreSQL alone, as the login's own lookup does: Python lowers "İ" to "i̇", the
# database to "i", and two spellings of one account must not count apart.
ACCOUNT_NAME = text("""
    SELECT coalesce((SELECT lower(username) FROM ab_user
                     WHERE lower(username) = lower(:name) OR lower(email) = lower(:name)
                     ORDER BY lower(username) = lower(:name) DESC LIMIT 1), lower(:name))""")


def account_key(session: Session, name: str) -> str:
    return session.execute(ACCOUNT_NAME, {"name": (name or "").strip()[:KEY_LENGTH]}).scalar()[:KEY_LENGTH]


def take_turn(session: Session, name: str, address: str | None, limits: LoginLimits) -> Attempt:
    """Count this attempt on its account name and its address (committed before any password is
    checked, so concurrent attempts see it) and say whether it may go on."""
    with unit_of_work(session):
        session.execute(PRUNE)
    with unit_of_work(session):
        keys = ((ADDRESS, (address or "unknown")[:KEY_LENGTH]), (ACCOUNT, account_key(session, name)))
        turns = []
        for kind, key in keys:  # always the address first: two attempts lock rows in the same order
            row = session.execute(TAKE_TURN, {"kind": kind, "key": key, "limit": limits.limit(kind),
                                              "window": limits.window, "lock": limits.lock}).one()
            turns.append(Turn(kind, key, row.failures, row.locked_until))
    return Attempt(tuple(turns), all(turn.number <= limits.limit(turn.kind) for turn in turns))


def settle(session: Session, attempt: Attempt, succeeded: bool, limits: LoginLimits) -> None:
    """After the attempt: a success hands its turns back; a failure that reached a limit is the
    lockout, logged once (the account name or address, never the password)."""
    if not succeeded:
        for turn in attempt.turns:
            if turn.number == limits.limit(turn.kind):
                log.warning("login locked for %d minutes after %d failed logins within %d minutes: %s %s",
                            limits.lock.total_seconds() // 60, turn.number, limits.window.total_seconds() // 60,
                            turn.kind, turn.key)
        return
    with unit_of_work(session):
        for turn in attempt.turns:
            session.execute(HAND_BACK, {"kind": turn.kind, "key": turn.key, "limit": limits.limit(turn.kind),
                                        "turns": turn.number if turn.kind == ACCOUNT else 1})


def refusal(attempt: Attempt, limits: LoginLimits) -> LoginPaused:
    """The refusal of an attempt that may not go on: the same words for any name, with the time
    left on the longest lock that refused it."""
    now = datetime.now(timezone.utc)
    until = max((turn.locked_until for turn in attempt.turns
                 if turn.number > limits.limit(turn.kind) and turn.locked_until is not None), default=now + limits.lock)
    return LoginPaused(max(1, math.ceil((until - now).total_seconds() / 60)))


def end_sessions(session: Session, user_id: int) -> None:
    """End every session of the user, in every process: each holds the old session number
    (migration 0019), which no longer matches the account's."""
    with unit_of_work(session):
        session.execute(update(GridgovUser).where(GridgovUser.id == user_id)
                        .values(session_version=GridgovUser.session_version + 1))
