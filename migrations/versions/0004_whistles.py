"""Whistles (吹哨报到): summonses of departments to incidents; closing needs every result.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""
from alembic import op
import sqlalchemy as sa

CLOSE_GUARD = r"""
CREATE FUNCTION whistles_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.status = 'closed' AND NEW.status <> 'closed' THEN
        RAISE EXCEPTION 'whistle % is closed', OLD.id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'whistles_closed_for_good';
    END IF;
    IF NEW.status = 'closed' AND OLD.status = 'open' AND EXISTS (
        SELECT 1 FROM whistle_summonses s WHERE s.whistle_id = NEW.id AND s.result_at IS NULL
    ) THEN
        RAISE EXCEPTION 'whistle % has departments without a result', NEW.id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'whistles_close_with_all_results';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER whistles_guard BEFORE UPDATE ON whistles
    FOR EACH ROW EXECUTE FUNCTION whistles_guard();
"""


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('whistles',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('level', sa.String(length=10), nullable=False),
    sa.Column('grid_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('deadline', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('blown_by_id', sa.Integer(), nullable=True),
    sa.Column('blown_by_name', sa.String(length=130), nullable=False),
    sa.Column('blown_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("(status = 'closed') = (closed_at IS NOT NULL)", name='whistles_closed_at_when_closed'),
    sa.CheckConstraint("level IN ('street', 'district')", name='whistles_level_valid'),
    sa.CheckConstraint("status IN ('open', 'closed')", name='whistles_status_valid'),
    sa.CheckConstraint('deadline > blown_at', name='whistles_deadline_after_blowing'),
    sa.CheckConstraint('length(btrim(reason)) > 0', name='whistles_reason_not_blank'),
    sa.ForeignKeyConstraint(['blown_by_id'], ['ab_user.id'], name='whistles_blown_by_id_fkey', ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['grid_id'], ['grids.id'], name='whistles_grid_id_fkey', ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('whistles_grid_id_idx', 'whistles', ['grid_id'], unique=False)
    op.create_index('whistles_status_deadline_idx', 'whistles', ['status', 'deadline'], unique=False)
    op.create_table('whistle_incidents',
    sa.Column('whistle_id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name='whistle_incidents_incident_id_fkey', ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['whistle_id'], ['whistles.id'], name='whistle_incidents_whistle_id_fkey', ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('whistle_id', 'incident_id')
    )
    op.create_index('whistle_incidents_incident_id_idx', 'whistle_incidents', ['incident_id'], unique=False)
    op.create_table('whistle_summonses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('whistle_id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('reported_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reported_by_id', sa.Integer(), nullable=True),
    sa.Column('result', sa.String(length=1000), nullable=True),
    sa.Column('result_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('rating', sa.SmallInteger(), nullable=True),
    sa.CheckConstraint('(result IS NULL) = (result_at IS NULL)', name='whistle_summonses_result_with_time'),
    sa.CheckConstraint('rating IS NULL OR (rating BETWEEN 1 AND 5 AND result_at IS NOT NULL)', name='whistle_summonses_rating_after_result'),
    sa.CheckConstraint('result_at IS NULL OR reported_at IS NOT NULL', name='whistle_summonses_report_before_result'),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name='whistle_summonses_department_id_fkey', ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['reported_by_id'], ['ab_user.id'], name='whistle_summonses_reported_by_id_fkey', ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['whistle_id'], ['whistles.id'], name='whistle_summonses_whistle_id_fkey', ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('whistle_id', 'department_id', name='whistle_summonses_one_per_department')
    )
    op.create_index('whistle_summonses_department_id_idx', 'whistle_summonses', ['department_id'], unique=False)
    op.execute(CLOSE_GUARD)


def downgrade():
    op.drop_index('whistle_summonses_department_id_idx', table_name='whistle_summonses')
    op.drop_table('whistle_summonses')
    op.drop_index('whistle_incidents_incident_id_idx', table_name='whistle_incidents')
    op.drop_table('whistle_incidents')
    op.drop_index('whistles_status_deadline_idx', table_name='whistles')
    op.drop_index('whistles_grid_id_idx', table_name='whistles')
    op.drop_table('whistles')
    op.execute("DROP FUNCTION IF EXISTS whistles_guard()")
