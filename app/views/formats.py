"""How the screens print stored values."""
from __future__ import annotations

from ..services.local_time import TIMEZONE


def local_time(moment) -> str:
    """A stored timestamp in the deployment's time zone (Asia/Shanghai)."""
    return moment.astimezone(TIMEZONE).strftime("%Y-%m-%d %H:%M") if moment else ""
