"""A counter that moves whenever who-may-see-what changes, so the app can keep each signed-in
user's account, permissions and scope between requests and ask only "has anything changed?".

Every page needs the user with roles and groups, the (permission, view) pairs of those roles and
the path of the user's grid: three queries and ~5 ms of Python per request at city size, for data
that changes a few times a day. ``auth_version`` holds one number; a statement trigger adds one
to it before any insert, update, delete or truncate of the account and permission tables, and
before a grid's path changes or a grid goes (a scope is a subtree). The app compares the number
with the one it cached the user under and reloads when they differ, in every process.

The trigger runs BEFORE the statement, so a transaction takes the counter's row lock before any
row lock of those tables: two transactions editing accounts queue on it instead of deadlocking.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-22
"""
import sqlalchemy as sa
from alembic import op


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

ACCOUNT_TABLES = ('ab_user', 'ab_role', 'ab_user_role', 'ab_group', 'ab_user_group', 'ab_group_role',
                  'ab_permission', 'ab_view_menu', 'ab_permission_view', 'ab_permission_view_role')


def upgrade():
    op.create_table(
        'auth_version',
        sa.Column('id', sa.Boolean(), server_default=sa.text('true'), nullable=False),
        sa.Column('version', sa.BigInteger(), server_default=sa.text('1'), nullable=False),
        sa.CheckConstraint('id', name='auth_version_one_row'),
        sa.PrimaryKeyConstraint('id', name='auth_version_pkey'),
    )
    op.execute("INSERT INTO auth_version DEFAULT VALUES")
    op.execute("""
        CREATE FUNCTION gridgov_bump_auth_version() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE auth_version SET version = version + 1;
            RETURN NULL;
        END $$""")
    for table in ACCOUNT_TABLES:
        op.execute(f"""CREATE TRIGGER {table}_bump_auth_version
                       BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table}
                       FOR EACH STATEMENT EXECUTE FUNCTION gridgov_bump_auth_version()""")
    op.execute("""CREATE TRIGGER grids_bump_auth_version
                  BEFORE UPDATE OF path OR DELETE OR TRUNCATE ON grids
                  FOR EACH STATEMENT EXECUTE FUNCTION gridgov_bump_auth_version()""")


def downgrade():
    op.execute("DROP TRIGGER grids_bump_auth_version ON grids")
    for table in ACCOUNT_TABLES:
        op.execute(f"DROP TRIGGER {table}_bump_auth_version ON {table}")
    op.execute("DROP FUNCTION gridgov_bump_auth_version()")
    op.drop_table('auth_version')
