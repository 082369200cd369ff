"""Incidents in a closed loop: categories, deadlines, incidents and their append-only timeline.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""
from alembic import op
import sqlalchemy as sa

TIMELINE_APPEND_ONLY = """
CREATE TRIGGER incident_events_append_only BEFORE UPDATE OR DELETE ON incident_events
    FOR EACH ROW EXECUTE FUNCTION gridgov_append_only();
CREATE TRIGGER incident_events_no_truncate BEFORE TRUNCATE ON incident_events
    FOR EACH STATEMENT EXECUTE FUNCTION gridgov_append_only();
"""

CATEGORIES = {
    # name: (normal, urgent, critical) hours
    "环境卫生": (72, 24, 4),
    "矛盾纠纷": (72, 24, 4),
    "安全隐患": (48, 12, 2),
    "城市管理": (72, 24, 4),
    "公共服务": (120, 48, 8),
    "防汛应急": (24, 6, 2),
}


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('incident_categories',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('points_rule_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('length(btrim(name)) > 0', name='incident_categories_name_not_blank'),
    sa.ForeignKeyConstraint(['points_rule_id'], ['points_rules.id'], name='incident_categories_points_rule_id_fkey', ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    op.create_table('incident_deadlines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=False),
    sa.Column('urgency', sa.String(length=10), nullable=False),
    sa.Column('hours', sa.Integer(), nullable=False),
    sa.CheckConstraint("urgency IN ('normal', 'urgent', 'critical')", name='incident_deadlines_urgency_valid'),
    sa.CheckConstraint('hours > 0 AND hours <= 8760', name='incident_deadlines_hours_range'),
    sa.ForeignKeyConstraint(['category_id'], ['incident_categories.id'], name='incident_deadlines_category_id_fkey', ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('category_id', 'urgency', name='incident_deadlines_one_per_pair')
    )
    op.create_table('incidents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=10), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=False),
    sa.Column('urgency', sa.String(length=10), nullable=False),
    sa.Column('title', sa.String(length=100), nullable=False),
    sa.Column('description', sa.String(length=2000), nullable=True),
    sa.Column('address', sa.String(length=200), nullable=True),
    sa.Column('grid_id', sa.Integer(), nullable=False),
    sa.Column('latitude', sa.Numeric(precision=9, scale=6), nullable=True),
    sa.Column('longitude', sa.Numeric(precision=9, scale=6), nullable=True),
    sa.Column('photo', sa.String(length=200), nullable=True),
    sa.Column('reporter_name', sa.String(length=50), nullable=True),
    sa.Column('reporter_phone', sa.String(length=11), nullable=True),
    sa.Column('reporter_volunteer_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('level', sa.String(length=10), nullable=False),
    sa.Column('holder_grid_id', sa.Integer(), nullable=True),
    sa.Column('handler_worker_id', sa.Integer(), nullable=True),
    sa.Column('department_id', sa.Integer(), nullable=True),
    sa.Column('deadline', sa.DateTime(timezone=True), nullable=True),
    sa.Column('rating', sa.SmallInteger(), nullable=True),
    sa.Column('rating_note', sa.String(length=200), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("(level = 'department') = (department_id IS NOT NULL)", name='incidents_department_level'),
    sa.CheckConstraint("level IN ('grid', 'community', 'street', 'district', 'department')", name='incidents_level_valid'),
    sa.CheckConstraint("reporter_phone IS NULL OR reporter_phone ~ '^1[3-9][0-9]{9}$'", name='incidents_reporter_phone_mobile'),
    sa.CheckConstraint("source IN ('patrol', 'photo', 'qr', 'hotline', 'iot')", name='incidents_source_valid'),
    sa.CheckConstraint("status <> 'closed' OR rating >= 3", name='incidents_closed_when_satisfied'),
    sa.CheckConstraint("status IN ('reported', 'accepted', 'dispatched', 'in_progress', 'resolved', 'closed', 'returned', 'rejected', 'reopened')", name='incidents_status_valid'),
    sa.CheckConstraint("urgency IN ('normal', 'urgent', 'critical')", name='incidents_urgency_valid'),
    sa.CheckConstraint('latitude IS NULL OR latitude BETWEEN -90 AND 90', name='incidents_latitude_range'),
    sa.CheckConstraint('length(btrim(title)) > 0', name='incidents_title_not_blank'),
    sa.CheckConstraint('longitude IS NULL OR longitude BETWEEN -180 AND 180', name='incidents_longitude_range'),
    sa.CheckConstraint('rating IS NULL OR rating BETWEEN 1 AND 5', name='incidents_rating_range'),
    sa.ForeignKeyConstraint(['category_id'], ['incident_categories.id'], name='incidents_category_id_fkey', ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['created_by_id'], ['ab_user.id'], name='incidents_created_by_id_fkey', ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name='incidents_department_id_fkey', ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['grid_id'], ['grids.id'], name='incidents_grid_id_fkey', ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['handler_worker_id'], ['workers.id'], name='incidents_handler_worker_id_fkey', ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['holder_grid_id'], ['grids.id'], name='incidents_holder_grid_id_fkey', ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['reporter_volunteer_id'], ['volunteers.id'], name='incidents_reporter_volunteer_id_fkey', ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('incidents_created_at_idx', 'incidents', ['created_at'], unique=False)
    op.create_index('incidents_department_id_idx', 'incidents', ['department_id'], unique=False)
    op.create_index('incidents_grid_id_idx', 'incidents', ['grid_id'], unique=False)
    op.create_index('incidents_holder_grid_id_idx', 'incidents', ['holder_grid_id'], unique=False)
    op.create_index('incidents_status_deadline_idx', 'incidents', ['status', 'deadline'], unique=False)
    op.create_table('incident_events',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_name', sa.String(length=130), nullable=False),
    sa.Column('actor_role', sa.String(length=64), nullable=False),
    sa.Column('from_status', sa.String(length=12), nullable=True),
    sa.Column('to_status', sa.String(length=12), nullable=False),
    sa.Column('from_level', sa.String(length=10), nullable=True),
    sa.Column('to_level', sa.String(length=10), nullable=False),
    sa.Column('handler', sa.String(length=130), nullable=True),
    sa.Column('note', sa.String(length=500), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['ab_user.id'], name='incident_events_actor_id_fkey', ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name='incident_events_incident_id_fkey', ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('incident_events_incident_id_idx', 'incident_events', ['incident_id', 'id'], unique=False)
    op.execute(TIMELINE_APPEND_ONLY)
    # A volunteer's report earns points once (services/incidents.py awards with ON CONFLICT).
    op.create_index('points_entries_one_award_per_incident', 'points_entries', ['incident_ref'], unique=True,
                    postgresql_where=sa.text("kind = 'earn' AND incident_ref IS NOT NULL"))
    categories = sa.table("incident_categories", sa.column("id", sa.Integer), sa.column("name", sa.String),
                          sa.column("active", sa.Boolean))
    deadlines = sa.table("incident_deadlines", sa.column("category_id", sa.Integer),
                         sa.column("urgency", sa.String), sa.column("hours", sa.Integer))
    connection = op.get_bind()
    for name, hours in CATEGORIES.items():
        category_id = connection.execute(
            sa.insert(categories).values(name=name, active=True).returning(categories.c.id)).scalar()
        op.bulk_insert(deadlines, [{"category_id": category_id, "urgency": urgency, "hours": h}
                                   for urgency, h in zip(("normal", "urgent", "critical"), hours)])


def downgrade():
    op.drop_index('points_entries_one_award_per_incident', table_name='points_entries')
    op.drop_index('incident_events_incident_id_idx', table_name='incident_events')
    op.drop_table('incident_events')
    op.drop_index('incidents_status_deadline_idx', table_name='incidents')
    op.drop_index('incidents_holder_grid_id_idx', table_name='incidents')
    op.drop_index('incidents_grid_id_idx', table_name='incidents')
    op.drop_index('incidents_department_id_idx', table_name='incidents')
    op.drop_index('incidents_created_at_idx', table_name='incidents')
    op.drop_table('incidents')
    op.drop_table('incident_deadlines')
    op.drop_table('incident_categories')

