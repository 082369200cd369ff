"""The time zone of gridgov's days, months and years (a day's figures, a year's honour roll, a
time shown on a page): China Standard Time, the same in Python and in PostgreSQL."""
from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

TIMEZONE_NAME = "Asia/Shanghai"
TIMEZONE = ZoneInfo(TIMEZONE_NAME)


def local_today() -> datetime.date:
    """Today in China Standard Time (a resident's visit is due by the local day)."""
    return datetime.datetime.now(TIMEZONE).date()
