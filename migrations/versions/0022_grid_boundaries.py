"""Grid boundaries: a grid's outline as a GeoJSON geometry (Polygon or MultiPolygon), for the map.

The column holds the geometry alone (``{"type": "Polygon", "coordinates": [...]}``, longitude
before latitude, WGS 84), or nothing for a grid whose outline is not drawn yet. The check keeps
anything else out, so the map never meets a value it cannot draw.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-03
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql


revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None

GEOMETRY = ("boundary IS NULL OR (jsonb_typeof(boundary) = 'object' "
            "AND boundary->>'type' IN ('Polygon', 'MultiPolygon') "
            "AND jsonb_typeof(boundary->'coordinates') = 'array')")


def upgrade():
    op.add_column('grids', sa.Column('boundary', postgresql.JSONB(astext_type=sa.Text()), nullable=True))
    op.create_check_constraint('grids_boundary_geometry', 'grids', GEOMETRY)


def downgrade():
    op.drop_constraint('grids_boundary_geometry', 'grids', type_='check')
    op.drop_column('grids', 'boundary')
