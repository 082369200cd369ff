"""Plausible grid outlines for the demo and generated data: a parent's rectangle cut into a lattice
of rows and columns, one cell per child, each cell drawn a little inside its own (children stay
inside their parent and never touch a sibling). Rectangles are (west, south, east, north) in
degrees, WGS 84, around Hebi (鹤壁)."""
from __future__ import annotations

import math
import random

Box = tuple[float, float, float, float]

# 淇滨区 (about 35.74° N, 114.29° E; 335 km²): a rectangle of about 15 × 22 km
QIBIN: Box = (114.205, 35.650, 114.370, 35.830)
# the generated city's districts: the country around Hebi, about 70 × 80 km
HEBI_CITY: Box = (113.900, 35.400, 114.700, 36.100)
# the share of a cell left between it and its neighbours
MARGIN = 0.04
# 1° of longitude at Hebi's latitude is this many degrees of latitude long
LONGITUDE_SCALE = math.cos(math.radians(35.74))


def split(box: Box, parts: int) -> list[Box]:
    """``box`` cut into ``parts`` cells of nearly equal size, row by row from the north-west: as
    many columns as keep the cells close to square, every row as wide as the box."""
    if parts <= 0:
        return []
    west, south, east, north = box
    wide = (east - west) * LONGITUDE_SCALE / (north - south)
    columns = max(1, min(parts, round(math.sqrt(parts * wide))))
    rows = math.ceil(parts / columns)
    cells = []
    height = (north - south) / rows
    for row in range(rows):
        in_row = min(columns, parts - row * columns)
        width = (east - west) / in_row
        top = north - row * height
        for column in range(in_row):
            left = west + column * width
            cells.append(_inside((left, top - height, left + width, top)))
    return cells


def _inside(cell: Box) -> Box:
    west, south, east, north = cell
    dx, dy = (east - west) * MARGIN, (north - south) * MARGIN
    return (west + dx, south + dy, east - dx, north - dy)


def polygon(box: Box) -> dict:
    """The rectangle as a GeoJSON Polygon (longitude first, the ring closed, counter-clockwise)."""
    west, south, east, north = (round(value, 6) for value in box)
    return {"type": "Polygon",
            "coordinates": [[[west, south], [east, south], [east, north], [west, north], [west, south]]]}


def point_in(box: Box, rng: random.Random) -> tuple[float, float]:
    """(latitude, longitude) of a point well inside ``box``."""
    west, south, east, north = box
    return (round(south + (north - south) * (0.1 + 0.8 * rng.random()), 6),
            round(west + (east - west) * (0.1 + 0.8 * rng.random()), 6))


def box_of(geometry: dict) -> Box:
    """The rectangle around a GeoJSON Polygon's outer ring."""
    ring = geometry["coordinates"][0]
    longitudes, latitudes = [p[0] for p in ring], [p[1] for p in ring]
    return (min(longitudes), min(latitudes), max(longitudes), max(latitudes))
