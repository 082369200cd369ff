"""Pictures uploaded with a form (an incident's photo, a reward item's picture), stored under the
instance directory with a random name.

A picture is written before its record is committed; it stays only if the request keeps it
(``keep_uploads`` after the commit). A refused form, a failed commit or an error leaves no file
behind, and a picture replaced by a new one is removed once the new one is committed."""
from __future__ import annotations

import os
import uuid

from flask import g
from flask_babel import lazy_gettext as _l

from ..services.errors import ValidationError

PICTURE_TYPES = ("jpg", "jpeg", "png", "webp")

# What the files begin with: an upload named .png must be a PNG.
_SIGNATURES = {
    "jpg": (b"\xff\xd8\xff",),
    "jpeg": (b"\xff\xd8\xff",),
    "png": (b"\x89PNG\r\n\x1a\n",),
}


def _looks_like(extension: str, head: bytes) -> bool:
    if extension == "webp":
        return head[:4] == b"RIFF" and head[8:12] == b"WEBP"
    return head.startswith(_SIGNATURES[extension])


def save_picture(upload, directory: str, field: str) -> str | None:
    """Store the uploaded picture (a werkzeug ``FileStorage``, or None) under ``directory`` and
    return its file name; None when nothing was uploaded. Anything but a JPG, PNG or WebP
    picture is refused with a ValidationError on ``field``."""
    if not upload or not upload.filename:
        return None
    extension = upload.filename.rsplit(".", 1)[-1].lower()
    head = upload.stream.read(12)
    upload.stream.seek(0)
    if extension not in PICTURE_TYPES or not _looks_like(extension, head):
        raise ValidationError(_l("Upload a JPG, PNG or WebP picture."), field=field)
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, f"{uuid.uuid4().hex}.{extension}")
    upload.save(path)
    g.setdefault("gridgov_new_uploads", []).append(path)
    return os.path.basename(path)


def replace_later(directory: str, filename: str | None) -> None:
    """Remove ``filename`` once this request's uploads are kept (the record now names another)."""
    if filename:
        g.setdefault("gridgov_replaced_uploads", []).append(os.path.join(directory, filename))


def keep_uploads() -> None:
    """The records naming this request's pictures are committed: keep the pictures and remove
    the ones they replace."""
    g.pop("gridgov_new_uploads", None)
    for path in g.pop("gridgov_replaced_uploads", []):
        _remove(path)


def discard_uploads(_error=None) -> None:
    """Remove the pictures this request wrote and did not keep (run when every request ends)."""
    g.pop("gridgov_replaced_uploads", None)
    for path in g.pop("gridgov_new_uploads", []):
        _remove(path)


def _remove(path: str) -> None:
    try:
        os.remove(path)
    except FileNotFoundError:
        pass
