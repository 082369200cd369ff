"""Typed errors raised by the services; views turn them into a flashed message or a 4xx."""
from __future__ import annotations


class DomainError(Exception):
    """A user-caused refusal. ``message`` is a lazy-translated string, shown as is."""

    status = 400
    constraint: str | None = None  # the database constraint that refused the change, if it was one

    def __init__(self, message, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return str(self.message)


class ValidationError(DomainError):
    """The input is malformed or breaks a rule of the record."""


class OutOfScope(DomainError):
    """The row is outside the user's scope: callers answer 404, as if it did not exist."""

    status = 404


class Conflict(DomainError):
    """The change conflicts with the current state of the database (duplicate, in use…)."""

    status = 409
