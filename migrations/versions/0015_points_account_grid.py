"""The holder's grid on each points account: ``points_accounts.grid_id``, kept by foreign keys.

A grid scope sees the accounts whose volunteer serves, or whose worker works in, a grid of its
subtree. Found through the holders (a union of two joins), a district's accounts list at city
size (18,435 of 181,400 accounts) built the whole set and sorted it: 150 ms for the page and its
capped count. The account now carries its holder's grid, and ``(grid_id, balance, id)`` indexes
it: a scope's accounts are read from that index.

The column cannot drift from the holder: two composite foreign keys, ``(volunteer_id, grid_id)``
to ``volunteers (id, community_id)`` and ``(worker_id, grid_id)`` to ``workers (id, grid_id)``,
refuse a wrong grid and carry a volunteer's or worker's move to the account (ON UPDATE CASCADE).
Exactly one holder is set (0002's check), so exactly one of them applies. The trigger that opens
an account with its holder (0002) now writes the grid too.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-22
"""
import sqlalchemy as sa
from alembic import op


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

OPEN_ACCOUNT = """
CREATE OR REPLACE FUNCTION points_open_account() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'volunteers' THEN
        INSERT INTO points_accounts (volunteer_id{grid_column}) VALUES (NEW.id{volunteer_grid});
    ELSE
        INSERT INTO points_accounts (worker_id{grid_column}) VALUES (NEW.id{worker_grid});
    END IF;
    RETURN NULL;
END
$$;
"""


def upgrade():
    op.create_unique_constraint('volunteers_id_community_id_key', 'volunteers', ['id', 'community_id'])
    op.create_unique_constraint('workers_id_grid_id_key', 'workers', ['id', 'grid_id'])
    op.add_column('points_accounts', sa.Column('grid_id', sa.Integer(), nullable=True))
    op.execute("UPDATE points_accounts a SET grid_id = v.community_id FROM volunteers v WHERE v.id = a.volunteer_id")
    op.execute("UPDATE points_accounts a SET grid_id = w.grid_id FROM workers w WHERE w.id = a.worker_id")
    op.alter_column('points_accounts', 'grid_id', nullable=False)
    op.create_foreign_key('points_accounts_volunteer_grid_fkey', 'points_accounts', 'volunteers',
                          ['volunteer_id', 'grid_id'], ['id', 'community_id'], onupdate='CASCADE', ondelete='CASCADE')
    op.create_foreign_key('points_accounts_worker_grid_fkey', 'points_accounts', 'workers',
                          ['worker_id', 'grid_id'], ['id', 'grid_id'], onupdate='CASCADE', ondelete='CASCADE')
    op.create_index('points_accounts_grid_id_idx', 'points_accounts', ['grid_id', 'balance', 'id'], unique=False)
    op.execute(OPEN_ACCOUNT.format(grid_column=", grid_id", volunteer_grid=", NEW.community_id",
                                   worker_grid=", NEW.grid_id"))


def downgrade():
    op.execute(OPEN_ACCOUNT.format(grid_column="", volunteer_grid="", worker_grid=""))
    op.drop_index('points_accounts_grid_id_idx', table_name='points_accounts')
    op.drop_constraint('points_accounts_worker_grid_fkey', 'points_accounts', type_='foreignkey')
    op.drop_constraint('points_accounts_volunteer_grid_fkey', 'points_accounts', type_='foreignkey')
    op.drop_column('points_accounts', 'grid_id')
    op.drop_constraint('workers_id_grid_id_key', 'workers', type_='unique')
    op.drop_constraint('volunteers_id_community_id_key', 'volunteers', type_='unique')
