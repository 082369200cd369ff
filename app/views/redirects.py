"""Where a redirect may lead when the target comes from the request (a form's ``next``, a login's
``next=``): only to a path of this app, never to another site."""
from __future__ import annotations

import unicodedata
from urllib.parse import urlsplit


def safe_redirect_target(target, fallback: str) -> str:
    """``target`` when it is a path of this app (one leading "/", no scheme, no host), else
    ``fallback``. Browsers read "//host", "/\\host" and a path with a tab or newline in it
    ("/\\t/host") as another site, so those are refused too."""
    if not isinstance(target, str) or not target.startswith("/") or target[1:2] in ("/", "\\"):
        return fallback
    if any(unicodedata.category(char).startswith("C") for char in target):
        return fallback
    try:
        parts = urlsplit(target)
    except ValueError:
        return fallback
    if parts.scheme or parts.netloc:
        return fallback
    return target
