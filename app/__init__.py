"""gridgov: grid-based community governance on Flask-AppBuilder and PostgreSQL."""
from __future__ import annotations

import os
import secrets

from flask import Flask, abort, request
from werkzeug.datastructures import ImmutableMultiDict

from . import statics
from .fab import actor
from .database import MIGRATIONS_DIR, check_server_version, ping_after_idle, resolve_database_url
from .extensions import appbuilder, csrf, db, migrate

def _secret_key(instance_dir: str) -> str:
    """A random key generated on first start and kept in instance/secret_key."""
    path = os.path.join(instance_dir, "secret_key")
    if os.path.exists(path):
        with open(path, encoding="ascii") as fh:
            return fh.read().strip()
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(key)
    return key


def _drop_nul_characters() -> None:
    """No text column holds a NUL character and the driver refuses one in a query (a 500 from
    any filter, form or URL that passes it on): typed ones are dropped before a view reads them,
    and a path with one names no page of the app."""
    if "\x00" in request.path:
        abort(404)
    for name in ("args", "form"):
        values = getattr(request, name)
        if any("\x00" in value for _, value in values.items(multi=True) if isinstance(value, str)):
            setattr(request, name, ImmutableMultiDict(
                [(key, value.replace("\x00", "") if isinstance(value, str) else value)
                 for key, value in values.items(multi=True)]))


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__)
    app.config.from_object("config")
    if config:
        app.config.update(config)
    instance_dir = app.config["INSTANCE_DIR"]
    os.makedirs(instance_dir, exist_ok=True)
    app.config["SECRET_KEY"] = app.config.get("SECRET_KEY") or _secret_key(instance_dir)
    app.config["SQLALCHEMY_DATABASE_URI"] = resolve_database_url(app.config)

    from . import models  # noqa: F401  (registers every table on the metadata)
    from .logging import install_log_redaction

    install_log_redaction()
    csrf.init_app(app)
    app.before_request(_drop_nul_characters)
    with app.app_context():
        db.init_app(app)
        ping_after_idle(db.engine)
        actor.install(db.session)
        check_server_version(db.engine)
        migrate.init_app(app, db, directory=MIGRATIONS_DIR)
        appbuilder.init_app(app, db.session)
        statics.install(app)
        from .fab import translations
        from .views import register_views

        translations.install(appbuilder)
        register_views(appbuilder)
    return app
