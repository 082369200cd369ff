"""The volunteer's community on each row of ``points_earned``, kept by a foreign key, for the
honour roll; the rows of workers' accounts dropped.

The honour roll ranks the volunteers of each community and street by the points they earned in a
year. ``points_earned`` (0013) had no grid: every roll joined all the year's rows to their accounts
and volunteers and sorted them all. A city administrator's roll (100,000 volunteers, 150 streets)
took 180 ms of SQL. With the community on the row and ``(grid_id, year, earned DESC, account_id)``
indexing it, a community's best earners are the first entries of its part of the index: the roll
reads ten entries a community and ranks the streets over those.

- The column cannot drift from the account: the composite foreign key ``(account_id, grid_id)`` to
  ``points_accounts (id, grid_id)`` refuses a wrong grid and carries a move to the row (ON UPDATE
  CASCADE), as 0015 carries a volunteer's move to the account.
- The table holds volunteers' accounts only: the roll is of volunteers, and a worker's account
  (whose grid may be a community) would otherwise have to be looked up for every entry read. The
  trigger that adds a statement's earnings (0013) is its only writer; it now skips workers'
  accounts and writes the account's grid. The ledger keeps every account's earnings.
- ``points_earned_year_idx`` served the old roll's scan of a year; nothing else reads by year alone.

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-22
"""
import sqlalchemy as sa
from alembic import op


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

TRIGGER = """
CREATE OR REPLACE FUNCTION points_entries_tally_earned() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    {add};
    RETURN NULL;
END
$$;
"""

# The earnings of the ledger rows in ``entries`` added to their volunteers' accounts' years.
ADD_VOLUNTEERS = """
    INSERT INTO points_earned AS t (account_id, year, earned, grid_id)
    SELECT e.account_id, extract(year FROM e.created_at AT TIME ZONE 'Asia/Shanghai')::smallint, sum(e.amount),
           a.grid_id
    FROM {entries} e JOIN points_accounts a ON a.id = e.account_id AND a.volunteer_id IS NOT NULL
    WHERE e.kind = 'earn'
    GROUP BY 1, 2, 4 ORDER BY 1, 2
    ON CONFLICT (account_id, year) DO UPDATE SET earned = t.earned + EXCLUDED.earned"""

# 0013's: every account's earnings.
ADD_ALL = """
    INSERT INTO points_earned AS t (account_id, year, earned)
    SELECT account_id, extract(year FROM created_at AT TIME ZONE 'Asia/Shanghai')::smallint, sum(amount)
    FROM {entries} WHERE kind = 'earn'{only}
    GROUP BY 1, 2 ORDER BY 1, 2
    ON CONFLICT (account_id, year) DO UPDATE SET earned = t.earned + EXCLUDED.earned"""


def upgrade():
    op.execute("DELETE FROM points_earned e USING points_accounts a WHERE a.id = e.account_id AND a.volunteer_id IS NULL")
    op.create_unique_constraint('points_accounts_id_grid_id_key', 'points_accounts', ['id', 'grid_id'])
    op.add_column('points_earned', sa.Column('grid_id', sa.Integer(), nullable=True))
    op.execute("UPDATE points_earned e SET grid_id = a.grid_id FROM points_accounts a WHERE a.id = e.account_id")
    op.alter_column('points_earned', 'grid_id', nullable=False)
    op.create_foreign_key('points_earned_account_grid_fkey', 'points_earned', 'points_accounts',
                          ['account_id', 'grid_id'], ['id', 'grid_id'], onupdate='CASCADE', ondelete='CASCADE')
    op.drop_index('points_earned_year_idx', table_name='points_earned')
    op.create_index('points_earned_grid_year_idx', 'points_earned',
                    ['grid_id', 'year', sa.text('earned DESC'), 'account_id'], unique=False)
    op.execute(TRIGGER.format(add=ADD_VOLUNTEERS.format(entries='added')))


def downgrade():
    op.execute(TRIGGER.format(add=ADD_ALL.format(entries='added', only='')))
    op.drop_index('points_earned_grid_year_idx', table_name='points_earned')
    op.create_index('points_earned_year_idx', 'points_earned', ['year', 'account_id', 'earned'], unique=False)
    op.drop_constraint('points_earned_account_grid_fkey', 'points_earned', type_='foreignkey')
    op.drop_column('points_earned', 'grid_id')
    op.drop_constraint('points_accounts_id_grid_id_key', 'points_accounts', type_='unique')
    op.execute(ADD_ALL.format(entries='points_entries', only=(
        " AND account_id IN (SELECT id FROM points_accounts WHERE worker_id IS NOT NULL)")))
