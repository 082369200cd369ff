"""Flask-Babel's message domain for FAB's babel manager, its catalogue looked up once per
request and locale: a list page translates some 300 strings, and each lookup would walk Flask's
context objects again."""
from __future__ import annotations

from flask import g, has_app_context
from flask_babel import Domain

from ..extensions import cache


class RequestTranslations(Domain):
    def get_translations(self):
        if not has_app_context():
            return super().get_translations()
        locale = getattr(g.get("_flask_babel"), "babel_locale", None)
        if locale is None:
            return super().get_translations()
        return cache.per_request(("translations", locale), super().get_translations)


def install(appbuilder) -> None:
    appbuilder.bm.babel.domain_instance = RequestTranslations(domain=appbuilder.bm.babel.domain)
