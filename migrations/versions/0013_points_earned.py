"""Points earned per account and year: ``points_earned``, for the honour roll.

The honour roll ranks volunteers by the points they earned in a year, per community and per
street. It added up every ``earn`` entry of the year on each request: at city size (2,000,000
entries) 1 s of SQL and 3 s in all for an administrator, 0.4 s for a district. ``points_earned``
holds one row per account and year (the year of Beijing time, as the page's); a statement trigger
on ``points_entries`` adds each statement's earnings to it in key order. The ledger is
append-only (0002: no update, delete or truncate), so inserts are the only change to follow;
nobody writes this table by hand.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-22
"""
import sqlalchemy as sa
from alembic import op


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

# The earnings of ``entries`` (a table of ledger rows) added to their accounts' years.
ADD = """
    INSERT INTO points_earned AS t (account_id, year, earned)
    SELECT account_id, extract(year FROM created_at AT TIME ZONE 'Asia/Shanghai')::smallint, sum(amount)
    FROM {entries} WHERE kind = 'earn'
    GROUP BY 1, 2 ORDER BY 1, 2
    ON CONFLICT (account_id, year) DO UPDATE SET earned = t.earned + EXCLUDED.earned"""


def upgrade():
    op.create_table(
        'points_earned',
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('year', sa.SmallInteger(), nullable=False),
        sa.Column('earned', sa.BigInteger(), nullable=False),
        sa.CheckConstraint('earned > 0', name='points_earned_positive'),
        sa.ForeignKeyConstraint(['account_id'], ['points_accounts.id'], name='points_earned_account_id_fkey',
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('account_id', 'year', name='points_earned_pkey'),
    )
    op.create_index('points_earned_year_idx', 'points_earned', ['year', 'account_id', 'earned'], unique=False)
    op.execute(f"""
        CREATE FUNCTION points_entries_tally_earned() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN{ADD.format(entries='added')};
            RETURN NULL;
        END
        $$;
        CREATE TRIGGER points_entries_tally_earned AFTER INSERT ON points_entries REFERENCING NEW TABLE AS added
            FOR EACH STATEMENT EXECUTE FUNCTION points_entries_tally_earned();
    """)
    op.execute(ADD.format(entries='points_entries'))


def downgrade():
    op.execute("DROP TRIGGER points_entries_tally_earned ON points_entries")
    op.execute("DROP FUNCTION points_entries_tally_earned()")
    op.drop_index('points_earned_year_idx', table_name='points_earned')
    op.drop_table('points_earned')
