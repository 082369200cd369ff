"""An index for every foreign key that had none.

PostgreSQL indexes the key a foreign key refers to, not the column that refers to it. Deleting a
row that such columns refer to made PostgreSQL read each referring table whole to find the rows to
empty (ON DELETE SET NULL) or to refuse the delete (RESTRICT): at city size deleting a user read
5,290,000 timeline events, 2,000,000 ledger entries and 1,000,000 incidents (0.7–1.1 s), deleting a
points rule 2,000,000 service records, a worker 1,000,000 incidents. The indexes are partial: only
the rows that have a key, so the columns most rows leave empty cost nothing. A department's
workers are also its worker list, in the list's order (name, id): it read all 81,400 workers.

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-23
"""
import sqlalchemy as sa
from alembic import op


revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

# (table, foreign key column, more columns of the index)
KEYS = [
    ('incident_events', 'actor_id', ()),
    ('points_entries', 'created_by_id', ()),
    ('service_records', 'rule_id', ()),
    ('incidents', 'handler_worker_id', ()),
    ('incidents', 'created_by_id', ()),
    ('workers', 'department_id', ('name', 'id')),
    ('grids', 'leader_id', ()),
    ('whistle_summonses', 'reported_by_id', ()),
    ('whistles', 'blown_by_id', ()),
    ('ab_user', 'grid_id', ()),
    ('ab_user', 'department_id', ()),
    ('incident_categories', 'points_rule_id', ()),
    ('response_tasks', 'checked_in_by_id', ()),
    ('redemptions', 'created_by_id', ()),
    ('redemptions', 'handled_by_id', ()),
    ('stock_movements', 'created_by_id', ()),
    ('emergency_responses', 'declared_by_id', ()),
]


def upgrade():
    for table, column, more in KEYS:
        op.create_index(f'{table}_{column}_idx', table, [column, *more], unique=False,
                        postgresql_where=sa.text(f'{column} IS NOT NULL'))


def downgrade():
    for table, column, _ in reversed(KEYS):
        op.drop_index(f'{table}_{column}_idx', table_name=table)
