"""The error pages: 400 (a refused form token too), 403, 404 (a record outside the user's area
as well), 405, 413, 429 and 500 in the app's frame and the user's language, with a way home and
a way back; under /api/ the same status with a JSON ``{"message": ...}``."""
from __future__ import annotations

import logging

from flask import current_app, g, jsonify, render_template, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from markupsafe import escape
from werkzeug.exceptions import HTTPException, InternalServerError

from ..extensions import db
from ..services.errors import DomainError

log = logging.getLogger(__name__)

PAGES = {
    400: (_l("Bad request"), _l("The request could not be understood. Go back and try again.")),
    403: (_l("Access denied"), _l("You are not allowed to open this page.")),
    404: (_l("Page not found"), _l("This page does not exist, or it is outside your area.")),
    405: (_l("Not allowed this way"), _l("This page cannot be opened this way. Go back and use the page's buttons.")),
    413: (_l("Too large to send"), _l("What you sent is larger than %(size)s MB. Go back and choose a smaller photo or file: what you typed is usually still there.")),
    429: (_l("Too many attempts"), _l("There were too many attempts in a short time. Wait a minute and try again.")),
    500: (_l("Something went wrong"), _l("The server could not finish this request. It has been noted; try again later.")),
}
CSRF_TEXT = _l("The form had expired or did not come from this site. Go back, reload the page and send it again.")
STATUSES = tuple(PAGES)


def _texts(error: HTTPException) -> tuple[str, str]:
    title, text = PAGES[error.code]
    if isinstance(error, CSRFError):
        text = CSRF_TEXT
    text = str(text)
    if error.code == 413:
        text = text % {"size": (current_app.config.get("MAX_CONTENT_LENGTH") or 0) // (1024 * 1024)}
    return str(title), text


def _headers(error: HTTPException):
    """What the answer says besides its body (405's Allow, 429's Retry-After)."""
    return [(name, value) for name, value in error.get_headers() if name.lower() != "content-type"]


def _page(error: HTTPException, title: str, text: str):
    appbuilder = current_app.appbuilder
    if not hasattr(g, "user"):  # refused before FAB's before_request (a too-large body, a bad token)
        g.user = current_user
    try:
        return render_template("gridgov/error.html", appbuilder=appbuilder, base_template=appbuilder.base_template,
                               code=error.code, title=title, text=text)
    except Exception:  # the frame needs the database (the menu): when it fails too, a bare page
        log.exception("the error page of a %s could not be drawn", error.code)
        db.session.rollback()
        return (f'<!DOCTYPE html><meta charset="utf-8"><title>{escape(title)}</title><h1>{escape(title)}</h1>'
                f'<p>{escape(text)}</p><p><a href="{escape(request.script_root or "")}/">{escape(_l("Home"))}</a></p>')


def handle(error: HTTPException):
    if not isinstance(error, HTTPException):  # an uncaught exception: Flask passes it as a 500
        error = InternalServerError(original_exception=error)
    if error.code == 500:
        db.session.rollback()  # whatever failed may have left the transaction unusable
    title, text = _texts(error)
    if request.path.startswith("/api/"):
        return jsonify(message=text), error.code, _headers(error)
    return _page(error, title, text), error.code, _headers(error)


def refused(error: DomainError):
    """A service's refusal that no view turned into a message (FAB's own JSON login meeting the
    login limit): its message and status, never a 500."""
    db.session.rollback()
    status = error.status if error.status in PAGES else 400
    if request.path.startswith("/api/"):
        return jsonify(message=str(error)), status
    page = HTTPException()
    page.code = status
    return _page(page, str(PAGES[status][0]), str(error)), status


def register_error_pages(app) -> None:
    for code in STATUSES:
        app.register_error_handler(code, handle)
    app.register_error_handler(DomainError, refused)
