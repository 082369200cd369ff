"""Keep personal data out of logs: mobile and resident ID numbers are masked in every record."""
from __future__ import annotations

import logging

from .services.personal_data import redact_text


class RedactPersonalData(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact_text(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


_installed = False


def install_log_redaction() -> None:
    """Attach the filter to the root logger's handlers and to werkzeug's request log."""
    global _installed
    if _installed:
        return
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    redactor = RedactPersonalData()
    for handler in logging.getLogger().handlers:
        handler.addFilter(redactor)
    logging.getLogger("werkzeug").addFilter(redactor)
    # FAB warns on every form that names the ltree column it cannot filter on: not actionable.
    logging.getLogger("flask_appbuilder.models.filters").setLevel(logging.ERROR)
    _installed = True
