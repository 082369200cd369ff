"""巡查日志 and 打卡: grid workers' patrols with their tracks (one row each), the daily clock-in, each district's patrol rule, and the patrol an incident or a visit was made on.

What must always hold is kept here, whatever path writes the rows:

- a worker has at most one patrol under way (``patrols_open_key``, a partial unique index), and
  clocks in at most once a local day (``clock_ins_worker_id_day_key``);
- a track's three arrays (latitudes, longitudes, seconds since the start) have one entry per
  point, its coordinates are coordinates and a patrol ends after it starts;
- a patrol rule belongs to a district (``gridgov_patrol_rule_district``); the row without a
  district is the default, Beipiao's: at least 2 patrols a day of at least 60 minutes and 1,000
  metres each, and a stretch faster than 12 m/s (43 km/h: beyond a person on foot or on an
  electric bike, which China limits to 25 km/h, with room for the phones' location error) is an
  impossible jump;
- a login is at most one worker (``ab_user.worker_id``).

Every table is audited (migration 0024): the track and the derived figures are left out (a track
is personal data, and it grows every few seconds), a clock-in's place is only "changed".

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-03
"""
import json

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None

FUNCTIONS = r"""
CREATE FUNCTION gridgov_patrol_rule_district() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.district_id IS NOT NULL AND (SELECT level FROM grids WHERE id = NEW.district_id) <> 'district' THEN
        RAISE EXCEPTION 'a patrol rule belongs to a district'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'patrol_rules_district_is_district';
    END IF;
    RETURN NEW;
END
$$;
"""

TRACK = ["latitudes", "longitudes", "seconds", "distance_m", "duration_s", "jumps", "fastest_jump", "day"]
# table: (whose history, its id column, the row's grid, options), as in migration 0024
AUDITED = {
    "patrols": ("", "id", "grid_id", {"ignored": TRACK}),
    "clock_ins": ("", "id", "grid_id", {"hidden": ["latitude", "longitude", "accuracy_m"], "ignored": ["day"]}),
    "patrol_rules": ("", "id", "district_id", {}),
}


def _quoted(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def upgrade():
    op.create_table('patrols',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('worker_id', sa.Integer(), nullable=False),
    sa.Column('grid_id', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('day', sa.Date(), sa.Computed("((started_at AT TIME ZONE 'Asia/Shanghai'::text))::date", persisted=True), nullable=True),
    sa.Column('latitudes', postgresql.ARRAY(sa.Double()), server_default=sa.text("'{}'"), nullable=False),
    sa.Column('longitudes', postgresql.ARRAY(sa.Double()), server_default=sa.text("'{}'"), nullable=False),
    sa.Column('seconds', postgresql.ARRAY(sa.Integer()), server_default=sa.text("'{}'"), nullable=False),
    sa.Column('distance_m', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('duration_s', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('jumps', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('fastest_jump', sa.Numeric(precision=7, scale=1), nullable=True),
    sa.CheckConstraint('ended_at IS NULL OR ended_at >= started_at', name='patrols_ended_after_started'),
    sa.CheckConstraint('cardinality(latitudes) = cardinality(longitudes) AND cardinality(latitudes) = cardinality(seconds)', name='patrols_track_lengths'),
    sa.CheckConstraint('-90 <= ALL (latitudes) AND 90 >= ALL (latitudes)', name='patrols_latitudes_range'),
    sa.CheckConstraint('-180 <= ALL (longitudes) AND 180 >= ALL (longitudes)', name='patrols_longitudes_range'),
    sa.CheckConstraint('0 <= ALL (seconds)', name='patrols_seconds_range'),
    sa.CheckConstraint('distance_m >= 0 AND duration_s >= 0 AND jumps >= 0', name='patrols_figures_range'),
    sa.CheckConstraint("started_at >= TIMESTAMPTZ '2000-01-01 00:00+08'", name='patrols_started_at_range'),
    sa.ForeignKeyConstraint(['grid_id'], ['grids.id'], name='patrols_grid_id_fkey', ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['worker_id'], ['workers.id'], name='patrols_worker_id_fkey', ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('patrols_open_key', 'patrols', ['worker_id'], unique=True, postgresql_where=sa.text('ended_at IS NULL'))
    op.create_index('patrols_worker_id_day_idx', 'patrols', ['worker_id', 'day'], unique=False,
                    postgresql_include=['duration_s', 'distance_m', 'jumps'])
    op.create_index('patrols_grid_id_idx', 'patrols', ['grid_id', 'started_at'], unique=False)
    op.create_index('patrols_started_at_idx', 'patrols', ['started_at', 'id'], unique=False)
    op.create_table('clock_ins',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('worker_id', sa.Integer(), nullable=False),
    sa.Column('grid_id', sa.Integer(), nullable=False),
    sa.Column('clocked_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('day', sa.Date(), sa.Computed("((clocked_at AT TIME ZONE 'Asia/Shanghai'::text))::date", persisted=True), nullable=True),
    sa.Column('latitude', sa.Double(), nullable=False),
    sa.Column('longitude', sa.Double(), nullable=False),
    sa.Column('accuracy_m', sa.Integer(), nullable=True),
    sa.CheckConstraint('latitude BETWEEN -90 AND 90 AND longitude BETWEEN -180 AND 180', name='clock_ins_location_range'),
    sa.CheckConstraint('accuracy_m IS NULL OR accuracy_m >= 0', name='clock_ins_accuracy_range'),
    sa.ForeignKeyConstraint(['grid_id'], ['grids.id'], name='clock_ins_grid_id_fkey', ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['worker_id'], ['workers.id'], name='clock_ins_worker_id_fkey', ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('worker_id', 'day', name='clock_ins_worker_id_day_key')
    )
    op.create_index('clock_ins_grid_id_idx', 'clock_ins', ['grid_id', 'day'], unique=False)
    op.create_table('patrol_rules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('district_id', sa.Integer(), nullable=True),
    sa.Column('min_patrols', sa.SmallInteger(), nullable=False),
    sa.Column('min_minutes', sa.SmallInteger(), nullable=False),
    sa.Column('min_metres', sa.Integer(), nullable=False),
    sa.Column('max_speed', sa.Numeric(precision=4, scale=1), nullable=False),
    sa.CheckConstraint('min_patrols BETWEEN 1 AND 12', name='patrol_rules_min_patrols_range'),
    sa.CheckConstraint('min_minutes BETWEEN 1 AND 720', name='patrol_rules_min_minutes_range'),
    sa.CheckConstraint('min_metres BETWEEN 0 AND 100000', name='patrol_rules_min_metres_range'),
    sa.CheckConstraint('max_speed >= 2 AND max_speed <= 50', name='patrol_rules_max_speed_range'),
    sa.ForeignKeyConstraint(['district_id'], ['grids.id'], name='patrol_rules_district_id_fkey', ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('patrol_rules_district_id_key', 'patrol_rules', ['district_id'], unique=True,
                    postgresql_nulls_not_distinct=True)
    op.bulk_insert(sa.table('patrol_rules', sa.column('district_id', sa.Integer), sa.column('min_patrols', sa.SmallInteger),
                            sa.column('min_minutes', sa.SmallInteger), sa.column('min_metres', sa.Integer),
                            sa.column('max_speed', sa.Numeric)),
                   [{"district_id": None, "min_patrols": 2, "min_minutes": 60, "min_metres": 1000, "max_speed": 12}])
    op.add_column('incidents', sa.Column('patrol_id', sa.Integer(), nullable=True))
    op.create_foreign_key('incidents_patrol_id_fkey', 'incidents', 'patrols', ['patrol_id'], ['id'], ondelete='SET NULL')
    op.create_index('incidents_patrol_id_idx', 'incidents', ['patrol_id'], unique=False,
                    postgresql_where=sa.text('patrol_id IS NOT NULL'))
    op.add_column('visits', sa.Column('patrol_id', sa.Integer(), nullable=True))
    op.create_foreign_key('visits_patrol_id_fkey', 'visits', 'patrols', ['patrol_id'], ['id'], ondelete='SET NULL')
    op.create_index('visits_patrol_id_idx', 'visits', ['patrol_id'], unique=False,
                    postgresql_where=sa.text('patrol_id IS NOT NULL'))
    op.add_column('ab_user', sa.Column('worker_id', sa.Integer(), nullable=True))
    op.create_foreign_key('ab_user_worker_id_fkey', 'ab_user', 'workers', ['worker_id'], ['id'], ondelete='SET NULL')
    op.create_unique_constraint('ab_user_worker_id_key', 'ab_user', ['worker_id'])
    op.execute(FUNCTIONS)
    op.execute("CREATE TRIGGER patrol_rules_district BEFORE INSERT OR UPDATE OF district_id ON patrol_rules "
               "FOR EACH ROW EXECUTE FUNCTION gridgov_patrol_rule_district()")
    for table, (record_table, id_column, grid, options) in AUDITED.items():
        arguments = ", ".join(_quoted(value) for value in (record_table, id_column, grid, json.dumps(options)))
        op.execute(f"CREATE TRIGGER {table}_audit AFTER INSERT OR UPDATE OR DELETE ON {table} "
                   f"FOR EACH ROW EXECUTE FUNCTION gridgov_audit({arguments})")


def downgrade():
    for table in AUDITED:
        op.execute(f"DROP TRIGGER {table}_audit ON {table}")
    op.execute("DROP TRIGGER patrol_rules_district ON patrol_rules")
    op.execute("DROP FUNCTION gridgov_patrol_rule_district()")
    op.drop_constraint('ab_user_worker_id_key', 'ab_user', type_='unique')
    op.drop_constraint('ab_user_worker_id_fkey', 'ab_user', type_='foreignkey')
    op.drop_column('ab_user', 'worker_id')
    op.drop_index('visits_patrol_id_idx', table_name='visits', postgresql_where=sa.text('patrol_id IS NOT NULL'))
    op.drop_constraint('visits_patrol_id_fkey', 'visits', type_='foreignkey')
    op.drop_column('visits', 'patrol_id')
    op.drop_index('incidents_patrol_id_idx', table_name='incidents', postgresql_where=sa.text('patrol_id IS NOT NULL'))
    op.drop_constraint('incidents_patrol_id_fkey', 'incidents', type_='foreignkey')
    op.drop_column('incidents', 'patrol_id')
    op.drop_index('patrol_rules_district_id_key', table_name='patrol_rules', postgresql_nulls_not_distinct=True)
    op.drop_table('patrol_rules')
    op.drop_index('clock_ins_grid_id_idx', table_name='clock_ins')
    op.drop_table('clock_ins')
    op.drop_index('patrols_started_at_idx', table_name='patrols')
    op.drop_index('patrols_grid_id_idx', table_name='patrols')
    op.drop_index('patrols_worker_id_day_idx', table_name='patrols')
    op.drop_index('patrols_open_key', table_name='patrols', postgresql_where=sa.text('ended_at IS NULL'))
    op.drop_table('patrols')
