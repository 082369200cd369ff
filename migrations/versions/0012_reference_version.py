"""A counter that moves whenever incident categories, departments (with the communities they
serve) or points rules change, so a search form's drop-down of those rows can be kept.

Every incident list draws a drop-down of the categories, every whistle list one of the
departments the user may see, every service-record list one of the points rules: an ORM query
and an option per row on each request (the departments' ~5 ms of a whistle page's ~20 at city
size), for rows that change a few times a year. ``reference_version`` holds one number; a
statement trigger adds one to it before any insert, update, delete or truncate of those tables,
as ``auth_version`` (0009) does for accounts. The app keeps each drop-down under the number (and
the user's scope and ``auth_version``, which moves with grid paths) and draws it again once the
number has moved, in every process.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-22
"""
import sqlalchemy as sa
from alembic import op


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

REFERENCE_TABLES = ('incident_categories', 'departments', 'department_communities', 'points_rules')


def upgrade():
    op.create_table(
        'reference_version',
        sa.Column('id', sa.Boolean(), server_default=sa.text('true'), nullable=False),
        sa.Column('version', sa.BigInteger(), server_default=sa.text('1'), nullable=False),
        sa.CheckConstraint('id', name='reference_version_one_row'),
        sa.PrimaryKeyConstraint('id', name='reference_version_pkey'),
    )
    op.execute("INSERT INTO reference_version DEFAULT VALUES")
    op.execute("""
        CREATE FUNCTION gridgov_bump_reference_version() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE reference_version SET version = version + 1;
            RETURN NULL;
        END $$""")
    for table in REFERENCE_TABLES:
        op.execute(f"""CREATE TRIGGER {table}_bump_reference_version
                       BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table}
                       FOR EACH STATEMENT EXECUTE FUNCTION gridgov_bump_reference_version()""")


def downgrade():
    for table in REFERENCE_TABLES:
        op.execute(f"DROP TRIGGER {table}_bump_reference_version ON {table}")
    op.execute("DROP FUNCTION gridgov_bump_reference_version()")
    op.drop_table('reference_version')
