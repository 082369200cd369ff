"""Sessions end on logout and password change; failed logins are counted per account and address.

``ab_user.session_version`` is written into the signed session at login and compared on every
request: a session whose number differs is signed out. The app adds one on logout; a trigger adds
one whenever the password changes or the account is deactivated, whoever writes it (FAB's screens,
a CLI, psql). Every change to ab_user already moves auth_version (migration 0009), so each process
reloads the kept account and sees the new number on the next request.

``login_failures`` holds one row per account name and per client address: the failures of the
current window and, once the limit is reached, until when the row refuses logins. Every process
and instance counts in the same row with one conditional INSERT … ON CONFLICT DO UPDATE
(app/services/logins.py); rows whose window and lock have passed are deleted through the index on
their end.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-03
"""
import sqlalchemy as sa
from alembic import op


revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('ab_user', sa.Column('session_version', sa.Integer(), server_default=sa.text('1'),
                                       nullable=False))
    op.execute("""
        CREATE FUNCTION gridgov_end_sessions() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.password IS DISTINCT FROM OLD.password
               OR (OLD.active IS TRUE AND NEW.active IS NOT TRUE) THEN
                NEW.session_version := OLD.session_version + 1;
            END IF;
            RETURN NEW;
        END $$""")
    op.execute("""CREATE TRIGGER ab_user_end_sessions
                  BEFORE UPDATE OF password, active ON ab_user
                  FOR EACH ROW EXECUTE FUNCTION gridgov_end_sessions()""")

    op.create_table(
        'login_failures',
        sa.Column('kind', sa.String(length=10), nullable=False),
        sa.Column('key', sa.String(length=256), nullable=False),
        sa.Column('failures', sa.Integer(), nullable=False),
        sa.Column('window_start', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
        sa.Column('stale_after', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('account', 'address')", name='login_failures_kind'),
        sa.CheckConstraint('failures >= 0', name='login_failures_not_negative'),
        sa.PrimaryKeyConstraint('kind', 'key', name='login_failures_pkey'),
    )
    op.create_index('login_failures_stale_after_idx', 'login_failures', ['stale_after'], unique=False)


def downgrade():
    op.drop_index('login_failures_stale_after_idx', table_name='login_failures')
    op.drop_table('login_failures')
    op.execute("DROP TRIGGER ab_user_end_sessions ON ab_user")
    op.execute("DROP FUNCTION gridgov_end_sessions()")
    op.drop_column('ab_user', 'session_version')
