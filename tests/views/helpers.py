from __future__ import annotations

import io
import re

from PIL import Image
from sqlalchemy import event, select

from app.models import Grid, Volunteer, Worker

XIANGJIANG = "410611001001"  # 湘江社区: secretary's community
JINSHAN = "410611002001"  # 金山社区: secretary2's community, in another street
WORKER_BLOCK = XIANGJIANG + "-01"  # the demo grid worker's block

# the smallest PNG: one transparent pixel
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c6360f8cfc0f01f0005"
    "0001ff5cc8b2a10000000049454e44ae426082")



def pixels(data: bytes) -> tuple:
    """(format, size, RGBA pixels) of a picture: a stored picture is written again, not copied."""
    with Image.open(io.BytesIO(data)) as image:
        return image.format, image.size, image.convert("RGBA").tobytes()


COUNT_RE = re.compile(r"(?:记录数目|Record Count):(?:</strong>)?\s*(\d+)")
FULL_MOBILE_RE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")


def search_fields_html(html: str) -> str:
    """The page with the search form's fields readable: FAB writes them into a script as JSON
    (``\\u003coption …``)."""
    return re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), html).replace('\\"', '"')


def record_count(html: str) -> int:
    match = COUNT_RE.search(html)
    return int(match.group(1)) if match else 0


def grid_id(session, code: str) -> int:
    return session.scalar(select(Grid.id).where(Grid.code == code))


def worker_in(session, code: str) -> Worker:
    return session.scalar(select(Worker).join(Grid, Worker.grid_id == Grid.id).where(Grid.code == code).order_by(Worker.id))


def volunteer_in(session, code: str) -> Volunteer:
    return session.scalar(select(Volunteer).join(Grid, Volunteer.community_id == Grid.id).where(Grid.code == code).order_by(Volunteer.id))


def statements_of(app, browser, url):
    """(response, the SQL statements the request ran)."""
    from app.extensions import db

    with app.app_context():
        engine = db.engine
    seen = []

    def before(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", before)
    try:
        response = browser.get(url)
    finally:
        event.remove(engine, "before_cursor_execute", before)
    return response, seen
