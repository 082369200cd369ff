"""A stock Flask-AppBuilder application over gridgov's tables, the second baseline of
``bench/lists.py`` (a benchmark app, never part of gridgov).

``bench/baseline.py``'s views registered inside gridgov's app are stock views on gridgov's
machinery: its security manager (a user's account and permissions kept between requests), its
cached menu bar, translations and templates. This app is Flask-AppBuilder as it comes: FAB's own
``SecurityManager`` (a query per permission check, the user read on every request), its
templates, its translations, Flask-SQLAlchemy's default engine. It registers the same views,
each with a menu entry, and reads ``DATABASE_URL`` (a loaded data set) without changing its
schema; its logins are the data set's users and passwords.

    serve(stock_app.create_app(), host, port)   # as bench/lists.py does, through app.server
"""
from __future__ import annotations

import os
import secrets
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from flask import Flask  # noqa: E402
from flask_appbuilder import AppBuilder  # noqa: E402

import baseline  # noqa: E402
from app import models  # noqa: E402,F401  (gridgov's tables, mapped as they are)
from app.database import normalise_url  # noqa: E402  (the psycopg2 driver's URL)
from app.extensions import db  # noqa: E402  (Flask-SQLAlchemy; gridgov's app is not made here)


def create_app() -> Flask:
    app = Flask(__name__)  # no template folder of its own: FAB's templates
    app.config.update(
        SECRET_KEY=secrets.token_urlsafe(32),
        SQLALCHEMY_DATABASE_URI=normalise_url(os.environ["DATABASE_URL"]),
        SQLALCHEMY_TRACK_MODIFICATIONS=False,
        APP_NAME="stock Flask-AppBuilder",
        BABEL_DEFAULT_LOCALE="zh",
        LANGUAGES={"zh": {"flag": "cn", "name": "简体中文"}, "en": {"flag": "gb", "name": "English"}},
        FAB_CREATE_DB=False,  # the data set's schema is gridgov's migrations'
        FAB_UPDATE_PERMS=False,  # baseline.grant() writes the permissions it needs
    )
    with app.app_context():
        db.init_app(app)
        appbuilder = AppBuilder()
        appbuilder.init_app(app, db.session)
        baseline.register(appbuilder, menu=True)
    return app
