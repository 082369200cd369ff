"""An index of the incidents a volunteer reported, and a department's incidents newest first.

A volunteer sees the incidents they reported (随手拍). Nothing indexed the reporter: at city size
the volunteer's incident list read all 1,000,000 incidents (760 ms) and their timeline list 500 ms.
The partial index holds only the incidents a volunteer reported.

A department's incidents are read through ``department_id`` together with the incidents it was
summoned to (a BitmapOr, app/services/scope.py); with ``id`` in the index its holdings are also in
their list order.

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-22
"""
import sqlalchemy as sa
from alembic import op


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('incidents_reporter_volunteer_idx', 'incidents', ['reporter_volunteer_id', 'id'], unique=False,
                    postgresql_where=sa.text('reporter_volunteer_id IS NOT NULL'))
    op.drop_index('incidents_department_id_idx', table_name='incidents')
    op.create_index('incidents_department_id_idx', 'incidents', ['department_id', 'id'], unique=False)


def downgrade():
    op.drop_index('incidents_department_id_idx', table_name='incidents')
    op.create_index('incidents_department_id_idx', 'incidents', ['department_id'], unique=False)
    op.drop_index('incidents_reporter_volunteer_idx', table_name='incidents')
