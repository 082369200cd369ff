"""Static files as a slow phone wants them: each URL carries the file's content hash
(``/static/v/<hash>/gridgov/gridgov.css``, ``/static/appbuilder/v/<hash>/css/bootstrap.min.css``)
and is cached for a year without asking again; text files and pages are compressed (Flask-Compress,
gzip or brotli as the browser accepts).

Every ``url_for('static', …)`` and ``url_for('appbuilder.static', …)`` of every template gets its
hash without the template saying so: a second URL rule of the same endpoint takes the hash, and
Werkzeug builds with the rule that has the most arguments. The plain URLs still answer, with
Flask's revalidated answers. A file a stylesheet names relatively (a font, a sprite) is asked for
under the stylesheet's hash and cached for a year too: a library's files change together.
Pages are never kept by the browser (they carry per-user data and a CSRF token)."""
from __future__ import annotations

import hashlib
import os

from flask import current_app, request, url_for
from flask.sessions import SecureCookieSessionInterface
from flask_compress import Compress
from werkzeug.security import safe_join

YEAR = 365 * 24 * 3600
IMMUTABLE = f"public, max-age={YEAR}, immutable"
# (endpoint, the folder's URL) of the two static folders: the app's and Flask-AppBuilder's
ENDPOINTS = ("static", "appbuilder.static")
COMPRESS_SETTINGS = {
    # brotli for browsers that take it (all of today's), gzip for the rest; no zstd: brotli is
    # smaller for text, and one algorithm fewer to reason about
    "COMPRESS_ALGORITHM": ["br", "gzip"],
    "COMPRESS_BR_LEVEL": 5,
    "COMPRESS_LEVEL": 6,
}

_hashes: dict[tuple[str, str], str | None] = {}
compress = Compress()


def content_hash(folder: str, filename: str) -> str | None:
    """The first 12 hex digits of the file's SHA-256, read once per process (None: no such file)."""
    key = (folder, filename)
    if key not in _hashes:
        path = safe_join(folder, filename)
        if path is None or not os.path.isfile(path):
            return None
        with open(path, "rb") as fh:
            _hashes[key] = hashlib.sha256(fh.read()).hexdigest()[:12]
    return _hashes[key]


def _folder(endpoint: str) -> str:
    app = current_app
    return app.static_folder if endpoint == "static" else app.blueprints["appbuilder"].static_folder


def add_version(endpoint: str, values: dict) -> None:
    """``url_for`` of a static file: its content hash joins the URL (the versioned rule)."""
    if endpoint in ENDPOINTS and "version" not in values and "filename" in values:
        version = content_hash(_folder(endpoint), values["filename"])
        if version:
            values["version"] = version


def beside(endpoint: str, stylesheet: str, filename: str) -> str:
    """The URL of ``filename`` as ``stylesheet`` names it (under the stylesheet's hash), for a
    preload that the stylesheet's own request then finds in the cache."""
    from flask import url_for

    return url_for(endpoint, filename=filename, version=content_hash(_folder(endpoint), stylesheet))


def _versioned(view):
    def serve(filename, version=None):
        response = view(filename=filename)
        if response.status_code != 200:
            return response
        if version is not None:
            response.cache_control.public = True
            response.cache_control.max_age = YEAR
            response.cache_control.immutable = True
            response.cache_control.no_cache = None
        # read whole (a few hundred KB at most), so that it is compressed in one piece with its
        # Content-Length (Flask-Compress compresses a streamed answer with brotli alone)
        response.make_sequence()
        return response

    return serve


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, not saved with a static file's answer: the file is the same
    for every user, and "Vary: Cookie" there (Flask adds it once anything read the session, as
    the look-up of the signed-in user does on every request) would make a browser whose session
    cookie was renewed fetch its cached copy again."""

    def save_session(self, app, session, response):
        if request.endpoint in ENDPOINTS:
            return
        super().save_session(app, session, response)


def uncached_pages(response):
    """A page (HTML) is never kept by the browser or a proxy: it carries the user's data and a
    CSRF token; Back still shows it from the browser's history."""
    if response.mimetype == "text/html" and "Cache-Control" not in response.headers:
        response.headers["Cache-Control"] = "no-cache, private"
    return response


def install(app) -> None:
    """The versioned rules of both static folders (after Flask-AppBuilder registered its
    blueprint), their hashes in ``url_for``, and compression of every answer."""
    for endpoint in ENDPOINTS:
        rule = next(r for r in app.url_map.iter_rules(endpoint) if "<path:filename>" in r.rule)
        view = app.view_functions[endpoint] = _versioned(app.view_functions[endpoint])
        prefix = rule.rule.replace("/<path:filename>", "")
        app.add_url_rule(f"{prefix}/v/<version>/<path:filename>", endpoint=endpoint, view_func=view)
    app.url_defaults(add_version)
    app.jinja_env.globals["gridgov_static_beside"] = beside
    app.session_interface = SessionInterface()
    app.after_request(uncached_pages)
    for name, value in COMPRESS_SETTINGS.items():
        app.config.setdefault(name, value)
    compress.init_app(app)
