"""What gridgov's REST APIs add to FAB's ModelRestApi: a malformed ``q`` is a 400 like any
other, and a page number is taken as the lists take it."""
from __future__ import annotations

import prison
from flask import request
from flask_appbuilder.api import ModelRestApi
from flask_appbuilder.const import API_URI_RIS_KEY

from .interface import capped_page


class RestApi(ModelRestApi):
    def create_blueprint(self, appbuilder, *args, **kwargs):
        blueprint = super().create_blueprint(appbuilder, *args, **kwargs)
        blueprint.before_request(self._refuse_what_rison_cannot_read)
        return blueprint

    def _refuse_what_rison_cannot_read(self):
        """FAB answers 400 to the rison it cannot parse, but prison raises ValueError or
        IndexError instead of its ParserException on some ("0-", "!", "1e"): those were a 500."""
        value = request.args.get(API_URI_RIS_KEY)
        if not value:
            return None
        try:
            prison.loads(value)
        except prison.decoder.ParserException:
            return None  # FAB's: it answers 400, or reads the value as JSON
        except Exception:  # noqa: BLE001 - whatever else the decoder raises on a malformed value
            return self.response_400(message="Not a valid rison/json argument")
        return None

    def _sanitize_page_args(self, page, page_size):
        """FAB's page and page size, the page as the lists take it: a negative page is the first
        and none lies beyond ``COUNT_CAP`` rows (``page:-1`` and a 20-digit page were a 500)."""
        page, page_size = super()._sanitize_page_args(page, page_size)
        return capped_page(page, page_size), page_size
