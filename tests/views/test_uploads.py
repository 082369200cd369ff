"""Uploaded pictures are decoded and written again: stored upright, without EXIF (no GPS of a
resident's home) or other metadata; what does not decode as a JPEG, PNG or WebP picture, or
would decode to too many pixels, is refused with a message and leaves no file and no record."""
from __future__ import annotations

import io
import os

import pytest
from PIL import ExifTags, Image
from sqlalchemy import func, select

from app.models import Incident, IncidentCategory, RewardItem

from .helpers import PNG, XIANGJIANG, grid_id, pixels

BLOCK = XIANGJIANG + "-01"
NOT_A_PICTURE = "请上传 JPG、PNG 或 WebP 图片"


def jpeg_with_gps() -> bytes:
    """A 40×20 phone photo taken sideways (EXIF orientation 6) with the GPS of where it was taken."""
    image = Image.new("RGB", (40, 20), "red")
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    exif[ExifTags.Base.Make] = "Phone"
    exif[ExifTags.IFD.GPSInfo] = {ExifTags.GPS.GPSLatitudeRef: "N", ExifTags.GPS.GPSLatitude: (35.0, 44.0, 51.0),
                                  ExifTags.GPS.GPSLongitudeRef: "E", ExifTags.GPS.GPSLongitude: (114.0, 17.0, 5.0)}
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def stored(app, folder) -> dict:
    directory = os.path.join(app.config["INSTANCE_DIR"], "uploads", folder)
    if not os.path.isdir(directory):
        return {}
    return {name: open(os.path.join(directory, name), "rb").read() for name in os.listdir(directory)}


def report(browser, session, title, photo):
    category = session.scalar(select(IncidentCategory.id).where(IncidentCategory.name == "安全隐患"))
    return browser.post("/incidentmodelview/report", {
        "category": category, "grid": grid_id(session, BLOCK), "urgency": "normal", "title": title, "photo": photo,
    }, content_type="multipart/form-data")


def test_a_photo_is_stored_upright_without_its_gps(login, session, app):
    original = jpeg_with_gps()
    with Image.open(io.BytesIO(original)) as sent:  # what the phone sent carries the position
        assert sent.getexif().get_ifd(ExifTags.IFD.GPSInfo)
    response = report(login("worker"), session, "测试照片路灯", (io.BytesIO(original), "IMG_0001.JPG"))
    assert response.status_code == 302
    incident = session.scalar(select(Incident).where(Incident.title == "测试照片路灯"))
    data = stored(app, "incidents")[incident.photo]
    assert incident.photo.endswith(".jpg")
    assert b"Exif" not in data and b"Phone" not in data
    with Image.open(io.BytesIO(data)) as kept:
        assert kept.format == "JPEG" and kept.size == (20, 40)  # turned upright by its orientation
        assert not kept.getexif() and "exif" not in kept.info


@pytest.mark.parametrize("name,data", [
    ("shell.jpg", b"\xff\xd8\xff\xe0<?php system($_GET['c']); ?>"),  # JPEG magic bytes, then PHP
    ("shell.png", b"\x89PNG\r\n\x1a\n<?php system($_GET['c']); ?>"),
    ("cut.png", PNG[:40]),  # a picture cut short
    ("a.gif", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;"),  # a picture of another kind
])
def test_what_is_no_picture_is_refused(login, session, app, name, data):
    before = stored(app, "incidents")
    html = report(login("worker"), session, "假图片", (io.BytesIO(data), name)).get_data(as_text=True)
    assert NOT_A_PICTURE in html
    assert session.scalar(select(func.count()).select_from(Incident).where(Incident.title == "假图片")) == 0
    assert stored(app, "incidents") == before


def test_a_decompression_bomb_is_refused(login, session, app):
    out = io.BytesIO()
    Image.new("1", (10_000, 10_000)).save(out, "PNG")  # 100 million pixels in 12 KB
    before = stored(app, "rewards")
    html = login("secretary").post("/rewarditemmodelview/add", {
        "community": grid_id(session, XIANGJIANG), "name": "炸弹", "price": "90",
        "picture_file": (io.BytesIO(out.getvalue()), "bomb.png"),
    }, content_type="multipart/form-data").get_data(as_text=True)
    assert "图片过大" in html
    assert session.scalar(select(func.count()).select_from(RewardItem).where(RewardItem.name == "炸弹")) == 0
    assert stored(app, "rewards") == before


def test_a_png_is_stored_as_a_png_and_a_nul_in_its_name_is_harmless(login, session, app):
    response = login("secretary").post("/rewarditemmodelview/add", {
        "community": grid_id(session, XIANGJIANG), "name": "水壶", "price": "90",
        "picture_file": (io.BytesIO(PNG), "ke\x00ttle.png"),
    }, content_type="multipart/form-data")
    assert response.status_code == 302
    kettle = session.scalar(select(RewardItem).where(RewardItem.name == "水壶"))
    assert kettle.picture.endswith(".png")
    assert pixels(stored(app, "rewards")[kettle.picture]) == pixels(PNG)
