"""Initial schema: FAB's ab_* tables, the grid tree (ltree), workers, volunteers, departments.

Revision ID: 0001
Revises:
Create Date: 2026-11-22

Besides the tables, this revision installs what the database itself must guarantee:
- ``gridgov_valid_resident_id``: the 18-character resident ID with its GB 11643 check digit;
- ``grids_before_write`` / ``grids_after_move``: the ltree path, level below the parent's,
  no cycles, a leader who works in the grid, and moving a subtree's paths with its root;
- ``gridgov_require_grid_level``: home communities and paired communities are communities.
"""
from alembic import op
import sqlalchemy as sa
import sqlalchemy_utils

FUNCTIONS = r"""
CREATE FUNCTION gridgov_valid_resident_id(id_number text) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE STRICT AS $$
DECLARE
    weights int[] := ARRAY[7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    total int := 0;
    birth date;
BEGIN
    IF id_number !~ '^[0-9]{17}[0-9X]$' THEN
        RETURN false;
    END IF;
    BEGIN
        birth := to_date(substr(id_number, 7, 8), 'YYYYMMDD');
    EXCEPTION WHEN others THEN
        RETURN false;
    END;
    -- to_date is lenient (20230231 becomes March 3rd): require the date to round-trip.
    IF to_char(birth, 'YYYYMMDD') <> substr(id_number, 7, 8) OR birth < DATE '1900-01-01' THEN
        RETURN false;
    END IF;
    FOR i IN 1..17 LOOP
        total := total + substr(id_number, i, 1)::int * weights[i];
    END LOOP;
    RETURN substr('10X98765432', total % 11 + 1, 1) = substr(id_number, 18, 1);
END
$$;

CREATE FUNCTION gridgov_level_rank(level text) RETURNS int
LANGUAGE sql IMMUTABLE STRICT AS $$
    SELECT array_position(ARRAY['district', 'street', 'community', 'block', 'building'], level)
$$;
"""

GRID_TRIGGERS = r"""
CREATE FUNCTION grids_before_write() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    parent grids%ROWTYPE;
    moving boolean := TG_OP = 'UPDATE' AND NEW.parent_id IS DISTINCT FROM OLD.parent_id;
    new_path ltree;
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.id <> OLD.id THEN
        RAISE EXCEPTION 'a grid id never changes'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'grids_id_immutable';
    END IF;
    -- Moves are serialised so that two concurrent moves cannot build a cycle between them,
    -- and an insert never reads a parent path that a concurrent move is rewriting.
    IF moving THEN
        PERFORM pg_advisory_xact_lock(hashtext('gridgov.grids.tree'));
    ELSIF TG_OP = 'INSERT' THEN
        PERFORM pg_advisory_xact_lock_shared(hashtext('gridgov.grids.tree'));
    END IF;

    IF NEW.parent_id IS NULL THEN
        new_path := text2ltree(NEW.id::text);
    ELSE
        SELECT * INTO parent FROM grids WHERE id = NEW.parent_id;
        IF NOT FOUND THEN
            -- Let the foreign key report the missing parent.
            NEW.path := text2ltree(NEW.id::text);
            RETURN NEW;
        END IF;
        IF gridgov_level_rank(parent.level) >= gridgov_level_rank(NEW.level) THEN
            RAISE EXCEPTION 'grid level % must be below its parent''s level %', NEW.level, parent.level
                USING ERRCODE = 'check_violation', CONSTRAINT = 'grids_level_below_parent';
        END IF;
        IF TG_OP = 'UPDATE' AND parent.path <@ OLD.path THEN
            RAISE EXCEPTION 'grid % cannot move under its own subtree', NEW.id
                USING ERRCODE = 'check_violation', CONSTRAINT = 'grids_no_cycle';
        END IF;
        new_path := parent.path || text2ltree(NEW.id::text);
    END IF;

    -- The path is derived, never written by hand: only the subtree rewrite below (a nested
    -- trigger) may set it directly.
    IF TG_OP = 'INSERT' OR pg_trigger_depth() <= 1 THEN
        NEW.path := new_path;
    END IF;

    IF TG_OP = 'UPDATE' AND NEW.level <> OLD.level AND EXISTS (
        SELECT 1 FROM grids c
        WHERE c.parent_id = NEW.id AND gridgov_level_rank(c.level) <= gridgov_level_rank(NEW.level)
    ) THEN
        RAISE EXCEPTION 'grid % has sub-grids at or above level %', NEW.id, NEW.level
            USING ERRCODE = 'check_violation', CONSTRAINT = 'grids_level_below_parent';
    END IF;

    IF NEW.leader_id IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM workers w WHERE w.id = NEW.leader_id AND w.grid_id = NEW.id
    ) THEN
        RAISE EXCEPTION 'the leader of grid % must work in that grid', NEW.id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'grids_leader_in_grid';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER grids_before_write BEFORE INSERT OR UPDATE ON grids
    FOR EACH ROW EXECUTE FUNCTION grids_before_write();

CREATE FUNCTION grids_after_move() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.path IS DISTINCT FROM OLD.path THEN
        UPDATE grids SET path = NEW.path || subpath(path, nlevel(OLD.path))
        WHERE path <@ OLD.path AND id <> NEW.id;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER grids_after_move AFTER UPDATE OF parent_id ON grids
    FOR EACH ROW EXECUTE FUNCTION grids_after_move();

CREATE FUNCTION gridgov_require_grid_level() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    grid_id int := (to_jsonb(NEW) ->> TG_ARGV[0])::int;
    grid_level text;
BEGIN
    IF grid_id IS NULL THEN
        RETURN NEW;
    END IF;
    SELECT level INTO grid_level FROM grids WHERE id = grid_id;
    IF FOUND AND NOT grid_level = ANY (TG_ARGV[1:TG_NARGS - 1]) THEN
        RAISE EXCEPTION '% must be a grid of level %', TG_ARGV[0], TG_ARGV[1:TG_NARGS - 1]
            USING ERRCODE = 'check_violation', CONSTRAINT = TG_NAME;
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER volunteers_community_is_community BEFORE INSERT OR UPDATE OF community_id
    ON volunteers FOR EACH ROW EXECUTE FUNCTION gridgov_require_grid_level('community_id', 'community');

CREATE TRIGGER department_communities_grid_is_community BEFORE INSERT OR UPDATE
    ON department_communities FOR EACH ROW EXECUTE FUNCTION gridgov_require_grid_level('grid_id', 'community');
"""

DROP_FUNCTIONS = """
DROP FUNCTION IF EXISTS gridgov_require_grid_level();
DROP FUNCTION IF EXISTS grids_after_move();
DROP FUNCTION IF EXISTS grids_before_write();
DROP FUNCTION IF EXISTS gridgov_level_rank(text);
DROP FUNCTION IF EXISTS gridgov_valid_resident_id(text);
"""


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.execute("CREATE EXTENSION IF NOT EXISTS ltree")
    op.execute(FUNCTIONS)
    op.create_table('ab_group',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('label', sa.String(length=150), nullable=True),
    sa.Column('description', sa.String(length=512), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    op.create_table('ab_permission',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    op.create_table('ab_register_user',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('first_name', sa.String(length=64), nullable=False),
    sa.Column('last_name', sa.String(length=64), nullable=False),
    sa.Column('username', sa.String(length=128), nullable=False),
    sa.Column('password', sa.String(length=256), nullable=True),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('registration_date', sa.DateTime(), nullable=True),
    sa.Column('registration_hash', sa.String(length=256), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('email'),
    sa.UniqueConstraint('username')
    )
    op.create_table('ab_role',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    op.create_table('ab_view_menu',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=250), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    op.create_table('departments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('contact_name', sa.String(length=50), nullable=True),
    sa.Column('contact_phone', sa.String(length=16), nullable=True),
    sa.Column('description', sa.String(length=500), nullable=True),
    sa.CheckConstraint("contact_phone IS NULL OR contact_phone ~ '^(1[3-9][0-9]{9}|0[0-9]{2,3}-?[0-9]{7,8})$'", name='departments_contact_phone_valid'),
    sa.CheckConstraint("kind IN ('functional', 'paired_unit')", name='departments_kind_valid'),
    sa.CheckConstraint('length(btrim(name)) > 0', name='departments_name_not_blank'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    op.create_table('grids',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('level', sa.String(length=16), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('path', sqlalchemy_utils.types.ltree.LtreeType(), server_default=sa.FetchedValue(), nullable=False),
    sa.Column('households', sa.Integer(), nullable=False),
    sa.Column('population', sa.Integer(), nullable=False),
    sa.Column('area_km2', sa.Numeric(precision=10, scale=3), nullable=True),
    sa.Column('party_branch', sa.String(length=100), nullable=True),
    sa.Column('leader_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("code ~ '^[0-9A-Za-z-]{1,32}$'", name='grids_code_format'),
    sa.CheckConstraint("kind IN ('comprehensive', 'dedicated')", name='grids_kind_valid'),
    sa.CheckConstraint("level IN ('district', 'street', 'community', 'block', 'building')", name='grids_level_valid'),
    sa.CheckConstraint("parent_id IS NOT NULL OR level = 'district'", name='grids_only_district_is_root'),
    sa.CheckConstraint('area_km2 IS NULL OR area_km2 >= 0', name='grids_area_nonnegative'),
    sa.CheckConstraint('households >= 0', name='grids_households_nonnegative'),
    sa.CheckConstraint('length(btrim(name)) > 0', name='grids_name_not_blank'),
    sa.CheckConstraint('parent_id IS NULL OR parent_id <> id', name='grids_not_own_parent'),
    sa.CheckConstraint('population >= 0', name='grids_population_nonnegative'),
    sa.ForeignKeyConstraint(['parent_id'], ['grids.id'], name='grids_parent_id_fkey', ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code')
    )
    op.create_index('grids_parent_id_idx', 'grids', ['parent_id'], unique=False)
    op.create_index('grids_path_gist', 'grids', ['path'], unique=False, postgresql_using='gist')
    op.create_table('ab_group_role',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=True),
    sa.Column('role_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['group_id'], ['ab_group.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['role_id'], ['ab_role.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('group_id', 'role_id')
    )
    op.create_index('idx_group_id', 'ab_group_role', ['group_id'], unique=False)
    op.create_index('idx_group_role_id', 'ab_group_role', ['role_id'], unique=False)
    op.create_table('ab_permission_view',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('permission_id', sa.Integer(), nullable=False),
    sa.Column('view_menu_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['permission_id'], ['ab_permission.id'], ),
    sa.ForeignKeyConstraint(['view_menu_id'], ['ab_view_menu.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('permission_id', 'view_menu_id')
    )
    op.create_index('idx_permission_id', 'ab_permission_view', ['permission_id'], unique=False)
    op.create_index('idx_view_menu_id', 'ab_permission_view', ['view_menu_id'], unique=False)
    op.create_table('department_communities',
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('grid_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name='department_communities_department_id_fkey', ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['grid_id'], ['grids.id'], name='department_communities_grid_id_fkey', ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('department_id', 'grid_id')
    )
    op.create_index('department_communities_grid_id_idx', 'department_communities', ['grid_id'], unique=False)
    op.create_table('volunteers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('phone', sa.String(length=11), nullable=False),
    sa.Column('id_number', sa.String(length=18), nullable=True),
    sa.Column('address', sa.String(length=200), nullable=True),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('skills', sa.String(length=200), nullable=True),
    sa.Column('party_member', sa.Boolean(), nullable=False),
    sa.CheckConstraint("kind <> 'sunk_party_member' OR unit_id IS NOT NULL", name='volunteers_sunk_member_has_unit'),
    sa.CheckConstraint("kind IN ('resident', 'sunk_party_member')", name='volunteers_kind_valid'),
    sa.CheckConstraint("phone ~ '^1[3-9][0-9]{9}$'", name='volunteers_phone_mobile'),
    sa.CheckConstraint('id_number IS NULL OR gridgov_valid_resident_id(id_number)', name='volunteers_id_number_valid'),
    sa.CheckConstraint('length(btrim(name)) > 0', name='volunteers_name_not_blank'),
    sa.ForeignKeyConstraint(['community_id'], ['grids.id'], name='volunteers_community_id_fkey', ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['unit_id'], ['departments.id'], name='volunteers_unit_id_fkey', ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('volunteers_community_id_idx', 'volunteers', ['community_id'], unique=False)
    op.create_index('volunteers_unit_id_idx', 'volunteers', ['unit_id'], unique=False)
    op.create_table('workers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('role', sa.String(length=32), nullable=False),
    sa.Column('grid_id', sa.Integer(), nullable=False),
    sa.Column('phone', sa.String(length=11), nullable=False),
    sa.Column('id_number', sa.String(length=18), nullable=True),
    sa.Column('employment', sa.String(length=16), nullable=False),
    sa.Column('party_member', sa.Boolean(), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('training_hours', sa.Numeric(precision=6, scale=1), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("employment IN ('full_time', 'part_time')", name='workers_employment_valid'),
    sa.CheckConstraint("phone ~ '^1[3-9][0-9]{9}$'", name='workers_phone_mobile'),
    sa.CheckConstraint("role IN ('chief_grid_leader', 'grid_leader', 'grid_worker', 'building_leader', 'stairwell_leader', 'party_group_leader', 'cleaner', 'security_officer', 'property_officer', 'mediator', 'informant', 'assistant', 'instructor')", name='workers_role_valid'),
    sa.CheckConstraint('id_number IS NULL OR gridgov_valid_resident_id(id_number)', name='workers_id_number_valid'),
    sa.CheckConstraint('length(btrim(name)) > 0', name='workers_name_not_blank'),
    sa.CheckConstraint('training_hours >= 0 AND training_hours <= 2000', name='workers_training_hours_range'),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name='workers_department_id_fkey', ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['grid_id'], ['grids.id'], name='workers_grid_id_fkey', ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('workers_grid_id_idx', 'workers', ['grid_id'], unique=False)
    op.create_foreign_key(
        'grids_leader_id_fkey', 'grids', 'workers', ['leader_id'], ['id'], ondelete='SET NULL'
    )
    op.create_table('ab_permission_view_role',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('permission_view_id', sa.Integer(), nullable=True),
    sa.Column('role_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['permission_view_id'], ['ab_permission_view.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['role_id'], ['ab_role.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('permission_view_id', 'role_id')
    )
    op.create_index('idx_permission_view_id', 'ab_permission_view_role', ['permission_view_id'], unique=False)
    op.create_index('idx_role_id', 'ab_permission_view_role', ['role_id'], unique=False)
    op.create_table('ab_user',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('first_name', sa.String(length=64), nullable=False),
    sa.Column('last_name', sa.String(length=64), nullable=False),
    sa.Column('username', sa.String(length=128), nullable=False),
    sa.Column('password', sa.String(length=256), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=True),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('last_login', sa.DateTime(), nullable=True),
    sa.Column('login_count', sa.Integer(), nullable=True),
    sa.Column('fail_login_count', sa.Integer(), nullable=True),
    sa.Column('created_on', sa.DateTime(), nullable=True),
    sa.Column('changed_on', sa.DateTime(), nullable=True),
    sa.Column('created_by_fk', sa.Integer(), nullable=True),
    sa.Column('changed_by_fk', sa.Integer(), nullable=True),
    sa.Column('grid_id', sa.Integer(), nullable=True),
    sa.Column('department_id', sa.Integer(), nullable=True),
    sa.Column('volunteer_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('num_nonnulls(grid_id, department_id, volunteer_id) <= 1', name='ab_user_one_scope'),
    sa.ForeignKeyConstraint(['changed_by_fk'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['created_by_fk'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name='ab_user_department_id_fkey', ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['grid_id'], ['grids.id'], name='ab_user_grid_id_fkey', ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['volunteer_id'], ['volunteers.id'], name='ab_user_volunteer_id_fkey', ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('email'),
    sa.UniqueConstraint('username'),
    sa.UniqueConstraint('volunteer_id')
    )
    op.create_table('service_records',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('volunteer_id', sa.Integer(), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('hours', sa.Numeric(precision=4, scale=1), nullable=False),
    sa.Column('activity', sa.String(length=200), nullable=False),
    sa.CheckConstraint('hours > 0 AND hours <= 24', name='service_records_hours_range'),
    sa.CheckConstraint('length(btrim(activity)) > 0', name='service_records_activity_not_blank'),
    sa.ForeignKeyConstraint(['volunteer_id'], ['volunteers.id'], name='service_records_volunteer_id_fkey', ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('service_records_volunteer_id_date_idx', 'service_records', ['volunteer_id', 'date'], unique=False)
    op.create_table('ab_api_key',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=256), nullable=False),
    sa.Column('key_hash', sa.String(length=256), nullable=False),
    sa.Column('lookup_hash', sa.String(length=256), nullable=True),
    sa.Column('key_prefix', sa.String(length=16), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('scopes', sa.Text(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_on', sa.DateTime(), nullable=True),
    sa.Column('expires_on', sa.DateTime(), nullable=True),
    sa.Column('revoked_on', sa.DateTime(), nullable=True),
    sa.Column('last_used_on', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['ab_user.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('lookup_hash'),
    sa.UniqueConstraint('uuid')
    )
    op.create_index('idx_api_key_lookup_hash', 'ab_api_key', ['lookup_hash'], unique=True)
    op.create_index('idx_api_key_prefix', 'ab_api_key', ['key_prefix'], unique=False)
    op.create_index('idx_api_key_user_id', 'ab_api_key', ['user_id'], unique=False)
    op.create_table('ab_user_group',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('group_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['group_id'], ['ab_group.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['ab_user.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('user_id', 'group_id')
    )
    op.create_index('idx_user_group_id', 'ab_user_group', ['group_id'], unique=False)
    op.create_index('idx_user_id', 'ab_user_group', ['user_id'], unique=False)
    op.create_table('ab_user_role',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('role_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['role_id'], ['ab_role.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['ab_user.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('user_id', 'role_id')
    )
    op.execute(GRID_TRIGGERS)


def downgrade():
    op.drop_table('ab_user_role')
    op.drop_index('idx_user_id', table_name='ab_user_group')
    op.drop_index('idx_user_group_id', table_name='ab_user_group')
    op.drop_table('ab_user_group')
    op.drop_index('idx_api_key_user_id', table_name='ab_api_key')
    op.drop_index('idx_api_key_prefix', table_name='ab_api_key')
    op.drop_index('idx_api_key_lookup_hash', table_name='ab_api_key')
    op.drop_table('ab_api_key')
    op.drop_index('service_records_volunteer_id_date_idx', table_name='service_records')
    op.drop_table('service_records')
    op.drop_table('ab_user')
    op.drop_index('idx_role_id', table_name='ab_permission_view_role')
    op.drop_index('idx_permission_view_id', table_name='ab_permission_view_role')
    op.drop_table('ab_permission_view_role')
    op.drop_constraint('grids_leader_id_fkey', 'grids', type_='foreignkey')
    op.drop_index('workers_grid_id_idx', table_name='workers')
    op.drop_table('workers')
    op.drop_index('volunteers_unit_id_idx', table_name='volunteers')
    op.drop_index('volunteers_community_id_idx', table_name='volunteers')
    op.drop_table('volunteers')
    op.drop_index('department_communities_grid_id_idx', table_name='department_communities')
    op.drop_table('department_communities')
    op.drop_index('idx_view_menu_id', table_name='ab_permission_view')
    op.drop_index('idx_permission_id', table_name='ab_permission_view')
    op.drop_table('ab_permission_view')
    op.drop_index('idx_group_role_id', table_name='ab_group_role')
    op.drop_index('idx_group_id', table_name='ab_group_role')
    op.drop_table('ab_group_role')
    op.drop_index('grids_path_gist', table_name='grids', postgresql_using='gist')
    op.drop_index('grids_parent_id_idx', table_name='grids')
    op.drop_table('grids')
    op.drop_table('departments')
    op.drop_table('ab_view_menu')
    op.drop_table('ab_role')
    op.drop_table('ab_register_user')
    op.drop_table('ab_permission')
    op.drop_table('ab_group')
    op.execute(DROP_FUNCTIONS)
    # The ltree extension stays: other objects of the database may use it.
