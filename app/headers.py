"""The security headers every answer carries (pages, static files, JSON, error pages), and the
per-request nonce that lets the app's own inline scripts run under its Content-Security-Policy."""
from __future__ import annotations

import secrets
from urllib.parse import urlsplit

from flask import current_app, g

# Scripts: the app's files and the inline scripts that carry this request's nonce; no inline
# event handler or javascript: URL runs. Styles allow 'unsafe-inline': FAB's templates and
# Select2 set style attributes, which a nonce cannot cover (a style cannot run code).
# img-src has data: and blob: for the photo preview and the shrunk photo of the report form.
POLICY = ("default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self' 'unsafe-inline'; "
          "img-src 'self' data: blob:; object-src 'none'; base-uri 'self'; form-action 'self'; "
          "frame-ancestors 'none'")
POLICY_WITHOUT_INLINE = POLICY.replace(" 'nonce-{nonce}'", "")

HEADERS = {
    "X-Frame-Options": "DENY",  # no page in a frame (clickjacking), for browsers without CSP 2
    "X-Content-Type-Options": "nosniff",
    # Lists' URLs carry what was searched for (names, phone numbers): none of it leaves the app,
    # not even the host name, while the app's own pages still see where a request came from.
    "Referrer-Policy": "same-origin",
}


def csp_nonce() -> str:
    """This request's nonce (FAB's templates read it through the Jinja global ``csp_nonce``)."""
    nonce = g.get("gridgov_csp_nonce")
    if nonce is None:
        nonce = g.gridgov_csp_nonce = secrets.token_urlsafe(18)
    return nonce


def tile_source(template: str | None) -> str | None:
    """The origin the map's tiles come from (GRIDGOV_MAP_TILES), as a CSP source: ``{s}``
    sub-domains become ``*``; None when unset or on the app's own host."""
    parts = urlsplit((template or "").replace("{s}", "*"))
    if parts.scheme in ("http", "https") and parts.netloc and not any(c in parts.netloc for c in "{}; '"):
        return f"{parts.scheme}://{parts.netloc}"
    return None


def add_security_headers(response):
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    nonce = g.get("gridgov_csp_nonce")
    policy = POLICY.format(nonce=nonce) if nonce else POLICY_WITHOUT_INLINE
    tiles = tile_source(current_app.config.get("GRIDGOV_MAP_TILES"))
    if tiles:  # the intranet's tile server draws under the grid map
        policy = policy.replace("img-src 'self' data: blob:", f"img-src 'self' data: blob: {tiles}")
    response.headers.setdefault("Content-Security-Policy", policy)
    return response


def install(app) -> None:
    app.jinja_env.globals["csp_nonce"] = csp_nonce
    app.after_request(add_security_headers)
