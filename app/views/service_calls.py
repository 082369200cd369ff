"""A custom view's call of a service action, as its user sees the outcome."""
from __future__ import annotations

from flask import abort, flash

from ..services.errors import DomainError, OutOfScope


def call_service(call):
    """Run a service call for a custom view: a row outside the scope is a 404, a refusal is a
    flashed message (the service's unit of work wrote nothing); returns the call's result, or None
    when refused."""
    try:
        return call()
    except OutOfScope:
        abort(404)
    except DomainError as error:
        flash(str(error), "danger")
        return None
