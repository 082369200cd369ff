"""One GIN index over an incident's scope and its words, in place of one index for each.

A keyword search inside a street asked two indexes: the scope's (the street's ~7,000 incidents)
and the words' (漏水 is in 75,000 incidents of the city), and PostgreSQL built a bitmap of all
75,000 before keeping the 505 in both — 20 ms each time. With both columns in one GIN index it
walks the two lists together and skips ahead in the long one (≈ 1–2 ms). The same index serves a
search by scope alone or by words alone as well as the two indexes did, so they go.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22
"""
from alembic import op


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    op.execute("SET LOCAL maintenance_work_mem = '256MB'")  # a city's million incidents: minutes less
    op.create_index('incidents_scope_words_gin', 'incidents', ['scope_grid_ids', 'search_grams'], unique=False,
                    postgresql_using='gin')
    op.drop_index('incidents_search_grams_gin', table_name='incidents')
    op.drop_index('incidents_scope_grid_ids_gin', table_name='incidents')


def downgrade():
    op.execute("SET LOCAL maintenance_work_mem = '256MB'")
    op.create_index('incidents_scope_grid_ids_gin', 'incidents', ['scope_grid_ids'], unique=False,
                    postgresql_using='gin')
    op.create_index('incidents_search_grams_gin', 'incidents', ['search_grams'], unique=False,
                    postgresql_using='gin')
    op.drop_index('incidents_scope_words_gin', table_name='incidents')
