"""Pictures uploaded with a form (an incident's photo, a reward item's picture), stored under the
instance directory with a random name.

Every picture is decoded and written again by Pillow: what is stored is its pixels alone, in the
format it came in (JPEG, PNG or WebP), turned upright by its EXIF orientation and without EXIF
(a resident's photo must not carry the GPS position of their home) or any other metadata. A
file Pillow cannot decode as one of those formats (a script behind JPEG magic bytes) is refused.

A picture is written before its record is committed; it stays only if the request keeps it
(``keep_uploads`` after the commit). A refused form, a failed commit or an error leaves no file
behind, and a picture replaced by a new one is removed once the new one is committed."""
from __future__ import annotations

import os
import uuid

from flask import g
from flask_babel import lazy_gettext as _l
from PIL import Image, ImageOps

from .services.errors import ValidationError

PICTURE_TYPES = ("jpg", "jpeg", "png", "webp")

# Pillow's format -> the stored file's extension.
_FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}
# A picture of more pixels is refused before it is decoded (a 48-megapixel phone photo passes;
# a few KB of PNG that would decode to gigabytes does not).
MAX_PIXELS = 50_000_000
# Pillow itself refuses twice its own limit while opening a file: the same bound.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS

NOT_A_PICTURE = _l("Upload a JPG, PNG or WebP picture.")


def _decoded(stream, field: str) -> tuple[Image.Image, str]:
    """(the picture's pixels, upright and without metadata, its format) or a ValidationError."""
    try:
        with Image.open(stream, formats=tuple(_FORMATS)) as image:
            if image.width * image.height > MAX_PIXELS:
                raise ValidationError(_l("The picture is too large: at most %(megapixels)s million pixels.",
                                         megapixels=MAX_PIXELS // 1_000_000), field=field)
            kind = image.format
            image.load()
            upright = ImageOps.exif_transpose(image)
    except Image.DecompressionBombError:
        raise ValidationError(_l("The picture is too large: at most %(megapixels)s million pixels.",
                                 megapixels=MAX_PIXELS // 1_000_000), field=field) from None
    except (OSError, ValueError, SyntaxError, EOFError):  # what Pillow raises on what it cannot decode
        raise ValidationError(NOT_A_PICTURE, field=field) from None
    if kind == "JPEG" and upright.mode not in ("RGB", "L"):
        upright = upright.convert("RGB")
    elif upright.mode == "P":  # a palette's transparency lives in the metadata that goes
        upright = upright.convert("RGBA")
    upright.info = {}
    return upright, kind


def save_picture(upload, directory: str, field: str) -> str | None:
    """Store the uploaded picture (a werkzeug ``FileStorage``, or None) under ``directory`` and
    return its file name; None when nothing was uploaded. Anything but a JPG, PNG or WebP
    picture is refused with a ValidationError on ``field``."""
    if not upload or not upload.filename:  # the form's file input left empty
        return None
    image, kind = _decoded(upload.stream, field)
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, f"{uuid.uuid4().hex}.{_FORMATS[kind]}")
    g.setdefault("gridgov_new_uploads", []).append(path)
    if kind == "JPEG":
        image.save(path, "JPEG", quality=90)
    elif kind == "WEBP":
        image.save(path, "WEBP", quality=90)
    else:
        image.save(path, "PNG", optimize=True)
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
