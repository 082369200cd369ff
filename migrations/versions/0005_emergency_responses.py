"""Emergency responses (平急结合, 一键下达): a level and a directive for an area, a task per grid.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('emergency_responses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('level', sa.String(length=3), nullable=False),
    sa.Column('area_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=100), nullable=False),
    sa.Column('directive', sa.String(length=1000), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('declared_by_id', sa.Integer(), nullable=True),
    sa.Column('declared_by_name', sa.String(length=130), nullable=False),
    sa.Column('declared_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("(status = 'ended') = (ended_at IS NOT NULL)", name='emergency_responses_ended_at'),
    sa.CheckConstraint("level IN ('III', 'II', 'I')", name='emergency_responses_level_valid'),
    sa.CheckConstraint("status IN ('active', 'ended')", name='emergency_responses_status_valid'),
    sa.CheckConstraint('length(btrim(directive)) > 0', name='emergency_responses_directive_not_blank'),
    sa.ForeignKeyConstraint(['area_id'], ['grids.id'], name='emergency_responses_area_id_fkey', ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['declared_by_id'], ['ab_user.id'], name='emergency_responses_declared_by_id_fkey', ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('emergency_responses_area_id_idx', 'emergency_responses', ['area_id'], unique=False)
    op.create_table('response_tasks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('response_id', sa.Integer(), nullable=False),
    sa.Column('grid_id', sa.Integer(), nullable=False),
    sa.Column('checked_in_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('checked_in_by_id', sa.Integer(), nullable=True),
    sa.Column('checked_in_by_name', sa.String(length=130), nullable=True),
    sa.Column('note', sa.String(length=500), nullable=True),
    sa.CheckConstraint('(checked_in_at IS NULL) = (checked_in_by_name IS NULL)', name='response_tasks_check_in_by'),
    sa.ForeignKeyConstraint(['checked_in_by_id'], ['ab_user.id'], name='response_tasks_checked_in_by_id_fkey', ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['grid_id'], ['grids.id'], name='response_tasks_grid_id_fkey', ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['response_id'], ['emergency_responses.id'], name='response_tasks_response_id_fkey', ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('response_id', 'grid_id', name='response_tasks_one_per_grid')
    )
    op.create_index('response_tasks_grid_id_idx', 'response_tasks', ['grid_id'], unique=False)



def downgrade():
    op.drop_index('response_tasks_grid_id_idx', table_name='response_tasks')
    op.drop_table('response_tasks')
    op.drop_index('emergency_responses_area_id_idx', table_name='emergency_responses')
    op.drop_table('emergency_responses')

