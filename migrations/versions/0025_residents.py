"""一户一档: houses, households, residents, the tags of people who need care or attention, and the visits made to them.

What must always hold is kept here, whatever path writes the rows (a form, an import, psql):

- a house lies in a building micro-grid, or in a block grid that has none (``gridgov_house_in_building``);
- a household lies in its house's grid and a resident in its household's: composite foreign keys
  that follow a house moved to another grid (ON UPDATE CASCADE);
- a resident lives in one household at a time (one column), and each move in or out is written to
  ``household_moves`` by ``gridgov_household_move`` (joined on the move-in date or today, left on
  the move-out date or today);
- the head of a household is one of its current members (a composite foreign key, deferred to
  commit);
- gender and birth date are generated from the ID number;
- ``last_visited_at`` is the latest visit to the resident or to their household
  (``gridgov_visits_touch``), and ``next_visit_due`` the tags' shortest interval after it
  (``gridgov_resident_visit_due``, before every write of a resident; a tag's new interval
  recomputes its residents). A tagged resident never visited is due from the day tagged.
  ``care_visit_due`` is the same without the sensitive tags: what a role that may not see them is
  shown, so that no due date tells of a hidden tag;
- a visit is dated from 2000 on, a move in or out from 1900 on.

Every table is audited (migration 0024): phone and ID number masked, the tags and what a visit
found written only as "changed" (sensitive), the derived columns left out.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-03
"""
import json

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None


TAGS = ("elderly_alone", "disabled", "low_income", "left_behind_child", "special_care",
        "community_correction", "released_prisoner", "severe_mental_disorder", "drug_user")
SENSITIVE = ("community_correction", "released_prisoner", "severe_mental_disorder", "drug_user")

FUNCTIONS = r"""
-- today where the people are (the app's times are Beijing's)
CREATE FUNCTION gridgov_local_today() RETURNS date LANGUAGE sql STABLE AS $$
    SELECT (now() AT TIME ZONE 'Asia/Shanghai')::date
$$;

CREATE FUNCTION gridgov_house_in_building() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (SELECT level FROM grids WHERE id = NEW.grid_id) NOT IN ('block', 'building') THEN
        RAISE EXCEPTION 'a house lies in a block grid or a building micro-grid'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'houses_grid_is_building';
    END IF;
    RETURN NEW;
END
$$;

-- when a resident with these tags is next due a visit: the tags' shortest interval after the last
-- visit; never visited, from ``since`` (the due date already set) or today; none without a tag
-- that asks for visits, or once moved out
-- (``with_sensitive``: counting the sensitive tags too; without them, the due date a role that may not
-- see them is shown: a date the visible tags do not explain would tell of a hidden one)
CREATE FUNCTION gridgov_visit_due(tags varchar[], last_visited timestamptz, moved_out date, since date,
                                  with_sensitive boolean DEFAULT true)
RETURNS date LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN moved_out IS NOT NULL OR min(visit_days) IS NULL THEN NULL
                WHEN last_visited IS NULL THEN coalesce(since, gridgov_local_today())
                ELSE (last_visited AT TIME ZONE 'Asia/Shanghai')::date + min(visit_days) END
    FROM attention_tags WHERE code = ANY(tags) AND (with_sensitive OR NOT attention_tags.sensitive)
$$;

CREATE FUNCTION gridgov_resident_visit_due() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.next_visit_due := gridgov_visit_due(
        NEW.tags, NEW.last_visited_at, NEW.moved_out,
        CASE WHEN TG_OP = 'UPDATE' AND NEW.last_visited_at IS NULL THEN OLD.next_visit_due END);
    NEW.care_visit_due := gridgov_visit_due(
        NEW.tags, NEW.last_visited_at, NEW.moved_out,
        CASE WHEN TG_OP = 'UPDATE' AND NEW.last_visited_at IS NULL THEN OLD.care_visit_due END, false);
    RETURN NEW;
END
$$;

CREATE FUNCTION gridgov_household_move() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.household_id IS NOT DISTINCT FROM NEW.household_id THEN
        UPDATE household_moves SET relation = NEW.relation WHERE resident_id = NEW.id AND left_on IS NULL;
        RETURN NULL;
    END IF;
    IF TG_OP = 'UPDATE' AND OLD.household_id IS NOT NULL THEN
        UPDATE household_moves SET left_on = greatest(joined_on, coalesce(NEW.moved_out, gridgov_local_today()))
        WHERE resident_id = NEW.id AND left_on IS NULL;
    END IF;
    IF NEW.household_id IS NOT NULL THEN
        INSERT INTO household_moves (resident_id, household_id, relation, joined_on)
        VALUES (NEW.id, NEW.household_id, NEW.relation,
                CASE WHEN TG_OP = 'INSERT' THEN coalesce(NEW.moved_in, gridgov_local_today())
                     ELSE gridgov_local_today() END);
    END IF;
    RETURN NULL;
END
$$;

-- a visit (added, moved or deleted) sets the last visit of whom it visited: the resident, or
-- every current member of the household
CREATE FUNCTION gridgov_visits_touch() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    visit record;
BEGIN
    FOR visit IN SELECT * FROM (SELECT NEW.resident_id, NEW.household_id WHERE TG_OP <> 'DELETE'
                                UNION SELECT OLD.resident_id, OLD.household_id WHERE TG_OP <> 'INSERT')
                               AS touched (resident_id, household_id) LOOP
        UPDATE residents r SET last_visited_at = (
                SELECT max(v.visited_at) FROM visits v
                WHERE v.resident_id = r.id OR (r.household_id IS NOT NULL AND v.household_id = r.household_id))
        WHERE r.id = visit.resident_id OR r.household_id = visit.household_id;
    END LOOP;
    RETURN NULL;
END
$$;

-- a tag's new interval moves the due dates of the residents carrying it
CREATE FUNCTION gridgov_attention_interval() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE residents SET next_visit_due = next_visit_due WHERE tags @> ARRAY[NEW.code]::varchar[];
    RETURN NULL;
END
$$;
"""

COUNTS = r"""
-- each grid's recorded households and residents living there (moved out: no longer counted),
-- kept by the rows' triggers: a grid's figures read one row per grid, not its residents
CREATE FUNCTION gridgov_count_records() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    column_name text := CASE WHEN TG_TABLE_NAME = 'households' THEN 'households' ELSE 'residents' END;
    old_grid integer;
    new_grid integer;
BEGIN
    IF TG_OP <> 'INSERT' AND (to_jsonb(OLD)->>'moved_out') IS NULL THEN
        old_grid := OLD.grid_id;
    END IF;
    IF TG_OP <> 'DELETE' AND (to_jsonb(NEW)->>'moved_out') IS NULL THEN
        new_grid := NEW.grid_id;
    END IF;
    IF old_grid IS NOT DISTINCT FROM new_grid THEN
        RETURN NULL;
    END IF;
    IF old_grid IS NOT NULL THEN
        EXECUTE format('UPDATE grid_records SET %I = %I - 1 WHERE grid_id = $1', column_name, column_name)
            USING old_grid;
    END IF;
    IF new_grid IS NOT NULL THEN
        EXECUTE format('INSERT INTO grid_records (grid_id, %I) VALUES ($1, 1) '
                       'ON CONFLICT (grid_id) DO UPDATE SET %I = grid_records.%I + 1', column_name, column_name,
                       column_name) USING new_grid;
    END IF;
    RETURN NULL;
END
$$;

-- the counts made again from the rows (a bulk loader that loaded with the triggers off calls it)
CREATE FUNCTION gridgov_recount_records() RETURNS void LANGUAGE sql AS $$
    DELETE FROM grid_records;
    INSERT INTO grid_records (grid_id, households, residents)
    SELECT grid_id, sum(households), sum(residents) FROM (
        SELECT grid_id, count(*) AS households, 0 AS residents FROM households GROUP BY grid_id
        UNION ALL
        SELECT grid_id, 0, count(*) FROM residents WHERE moved_out IS NULL GROUP BY grid_id) AS counted
    GROUP BY grid_id;
$$;
"""

PERSON = {"mobile": ["phone"], "resident_id": ["id_number"]}
# table: (whose history, its id column, the row's grid, options), as in migration 0024
AUDITED = {
    "attention_tags": ("", "id", "", {}),
    "houses": ("", "id", "grid_id", {"address": ["room"]}),
    "households": ("", "id", "grid_id", {}),
    "residents": ("", "id", "grid_id", {**PERSON, "hidden": ["tags"],
                                        "ignored": ["name_initials", "gender", "birth_date", "last_visited_at",
                                                    "next_visit_due", "care_visit_due"]}),
    "visits": ("", "id", "grid_id", {"hidden": ["found", "follow_up"]}),
}


def _quoted(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def upgrade():
    op.create_table('attention_tags',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('sensitive', sa.Boolean(), nullable=False),
    sa.Column('visit_days', sa.Integer(), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.CheckConstraint("code IN ('elderly_alone', 'disabled', 'low_income', 'left_behind_child', 'special_care', 'community_correction', 'released_prisoner', 'severe_mental_disorder', 'drug_user')", name='attention_tags_code_valid'),
    sa.CheckConstraint('visit_days IS NULL OR visit_days BETWEEN 1 AND 366', name='attention_tags_visit_days_range'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code', name='attention_tags_code_key')
    )
    op.create_table('houses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('grid_id', sa.Integer(), nullable=False),
    sa.Column('unit', sa.String(length=20), nullable=True),
    sa.Column('room', sa.String(length=20), nullable=False),
    sa.Column('use', sa.String(length=16), nullable=False),
    sa.Column('area_m2', sa.Numeric(precision=8, scale=2), nullable=True),
    sa.Column('ownership', sa.String(length=16), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("ownership IN ('owned', 'rented', 'public', 'other')", name='houses_ownership_valid'),
    sa.CheckConstraint("use IN ('residential', 'commercial', 'mixed', 'office', 'other')", name='houses_use_valid'),
    sa.CheckConstraint('area_m2 IS NULL OR (area_m2 > 0 AND area_m2 < 100000)', name='houses_area_range'),
    sa.CheckConstraint('length(btrim(room)) > 0', name='houses_room_not_blank'),
    sa.CheckConstraint('unit IS NULL OR length(btrim(unit)) > 0', name='houses_unit_not_blank'),
    sa.ForeignKeyConstraint(['grid_id'], ['grids.id'], name='houses_grid_id_fkey', ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('id', 'grid_id', name='houses_id_grid_id_key')
    )
    op.create_index('houses_grid_id_unit_room_key', 'houses', ['grid_id', 'unit', 'room'], unique=True, postgresql_nulls_not_distinct=True)
    op.create_index('houses_owner_id_idx', 'houses', ['owner_id'], unique=False, postgresql_where=sa.text('owner_id IS NOT NULL'))
    op.create_table('households',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=32), nullable=False),
    sa.Column('house_id', sa.Integer(), nullable=False),
    sa.Column('grid_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('head_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("kind IN ('registered', 'floating', 'collective', 'separated')", name='households_kind_valid'),
    sa.CheckConstraint("number ~ '^[0-9A-Za-z-]{1,32}$'", name='households_number_format'),
    sa.ForeignKeyConstraint(['grid_id'], ['grids.id'], name='households_grid_id_fkey', ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['house_id', 'grid_id'], ['houses.id', 'houses.grid_id'], name='households_house_id_grid_id_fkey', onupdate='CASCADE', ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('id', 'grid_id', name='households_id_grid_id_key'),
    sa.UniqueConstraint('number', name='households_number_key')
    )
    op.create_index('households_grid_id_idx', 'households', ['grid_id', 'number'], unique=False)
    op.create_index('households_head_id_idx', 'households', ['head_id'], unique=False, postgresql_where=sa.text('head_id IS NOT NULL'))
    op.create_index('households_house_id_idx', 'households', ['house_id'], unique=False)
    op.create_table('residents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('name_initials', sa.String(length=50), server_default=sa.text("''"), nullable=False),
    sa.Column('id_number', sa.String(length=18), nullable=True),
    sa.Column('gender', sa.String(length=6), sa.Computed("CASE WHEN mod(substr(id_number, 17, 1)::integer, 2) = 1 THEN 'male' ELSE 'female' END", persisted=True), nullable=True),
    sa.Column('birth_date', sa.Date(), sa.Computed('make_date(substr(id_number, 7, 4)::integer, substr(id_number, 11, 2)::integer, substr(id_number, 13, 2)::integer)', persisted=True), nullable=True),
    sa.Column('phone', sa.String(length=11), nullable=True),
    sa.Column('ethnicity', sa.String(length=2), nullable=True),
    sa.Column('residence_status', sa.String(length=16), nullable=False),
    sa.Column('moved_in', sa.Date(), nullable=True),
    sa.Column('moved_out', sa.Date(), nullable=True),
    sa.Column('workplace', sa.String(length=100), nullable=True),
    sa.Column('party_member', sa.Boolean(), nullable=False),
    sa.Column('tags', postgresql.ARRAY(sa.String(length=32)), server_default=sa.text("'{}'"), nullable=False),
    sa.Column('grid_id', sa.Integer(), nullable=False),
    sa.Column('household_id', sa.Integer(), nullable=True),
    sa.Column('relation', sa.String(length=16), nullable=True),
    sa.Column('last_visited_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('next_visit_due', sa.Date(), nullable=True),
    sa.Column('care_visit_due', sa.Date(), nullable=True),
    sa.CheckConstraint("moved_in IS NULL OR moved_in >= DATE '1900-01-01'", name='residents_moved_in_range'),
    sa.CheckConstraint("moved_out IS NULL OR moved_out >= DATE '1900-01-01'", name='residents_moved_out_range'),
    sa.CheckConstraint("ethnicity IS NULL OR ethnicity IN ('01', '02', '03', '04', '05', '06', '07', '08', '09', '10', '11', '12', '13', '14', '15', '16', '17', '18', '19', '20', '21', '22', '23', '24', '25', '26', '27', '28', '29', '30', '31', '32', '33', '34', '35', '36', '37', '38', '39', '40', '41', '42', '43', '44', '45', '46', '47', '48', '49', '50', '51', '52', '53', '54', '55', '56', '97', '98')", name='residents_ethnicity_valid'),
    sa.CheckConstraint("id_number IS NOT NULL OR residence_status = 'overseas'", name='residents_id_number_required'),
    sa.CheckConstraint("phone IS NULL OR phone ~ '^1[3-9][0-9]{9}$'", name='residents_phone_mobile'),
    sa.CheckConstraint("relation IS NULL OR relation IN ('head', 'spouse', 'child', 'parent', 'grandchild', 'grandparent', 'sibling', 'in_law', 'tenant', 'other')", name='residents_relation_valid'),
    sa.CheckConstraint("residence_status IN ('registered', 'resident', 'floating', 'overseas')", name='residents_residence_status_valid'),
    sa.CheckConstraint("tags <@ ARRAY['elderly_alone', 'disabled', 'low_income', 'left_behind_child', 'special_care', 'community_correction', 'released_prisoner', 'severe_mental_disorder', 'drug_user']::varchar[]", name='residents_tags_valid'),
    sa.CheckConstraint('(household_id IS NULL) = (relation IS NULL)', name='residents_relation_with_household'),
    sa.CheckConstraint('id_number IS NULL OR gridgov_valid_resident_id(id_number)', name='residents_id_number_valid'),
    sa.CheckConstraint('length(btrim(name)) > 0', name='residents_name_not_blank'),
    sa.CheckConstraint('moved_out IS NULL OR household_id IS NULL', name='residents_moved_out_has_no_household'),
    sa.CheckConstraint('moved_out IS NULL OR moved_in IS NULL OR moved_out >= moved_in', name='residents_moved_out_after_in'),
    sa.ForeignKeyConstraint(['grid_id'], ['grids.id'], name='residents_grid_id_fkey', ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['household_id', 'grid_id'], ['households.id', 'households.grid_id'], name='residents_household_id_grid_id_fkey', onupdate='CASCADE', ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('id', 'household_id', name='residents_id_household_id_key'),
    sa.UniqueConstraint('id_number', name='residents_id_number_key')
    )
    # the two keys that close the circle houses → residents → households → residents
    op.create_foreign_key('houses_owner_id_fkey', 'houses', 'residents', ['owner_id'], ['id'], ondelete='SET NULL')
    op.create_foreign_key('households_head_is_member_fkey', 'households', 'residents', ['head_id', 'id'],
                          ['id', 'household_id'], deferrable=True, initially='DEFERRED')
    op.create_index('residents_grid_id_name_idx', 'residents', ['grid_id', 'name', 'id'], unique=False)
    op.create_index('residents_household_id_idx', 'residents', ['household_id'], unique=False)
    op.create_index('residents_id_number_last4_idx', 'residents', [sa.literal_column('right(id_number, 4)')], unique=False)
    op.create_index('residents_name_idx', 'residents', [sa.literal_column('name varchar_pattern_ops'), 'id'], unique=False)
    op.create_index('residents_name_initials_idx', 'residents', [sa.literal_column('name_initials varchar_pattern_ops')], unique=False)
    op.create_index('residents_phone_idx', 'residents', ['phone'], unique=False)
    op.create_index('residents_phone_last4_idx', 'residents', [sa.literal_column('right(phone, 4)')], unique=False)
    op.create_index('residents_tags_idx', 'residents', ['tags'], unique=False, postgresql_using='gin')
    op.create_index('residents_visit_due_idx', 'residents', ['next_visit_due', 'grid_id'], unique=False, postgresql_where=sa.text('next_visit_due IS NOT NULL'))
    op.create_index('residents_care_visit_due_idx', 'residents', ['care_visit_due', 'grid_id'], unique=False, postgresql_where=sa.text('care_visit_due IS NOT NULL'))
    op.create_table('household_moves',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('resident_id', sa.Integer(), nullable=False),
    sa.Column('household_id', sa.Integer(), nullable=False),
    sa.Column('relation', sa.String(length=16), nullable=True),
    sa.Column('joined_on', sa.Date(), nullable=False),
    sa.Column('left_on', sa.Date(), nullable=True),
    sa.CheckConstraint('left_on IS NULL OR left_on >= joined_on', name='household_moves_left_after_joined'),
    sa.ForeignKeyConstraint(['household_id'], ['households.id'], name='household_moves_household_id_fkey', ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['resident_id'], ['residents.id'], name='household_moves_resident_id_fkey', ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('household_moves_household_id_idx', 'household_moves', ['household_id', 'joined_on'], unique=False)
    op.create_index('household_moves_open_key', 'household_moves', ['resident_id'], unique=True, postgresql_where=sa.text('left_on IS NULL'))
    op.create_index('household_moves_resident_id_idx', 'household_moves', ['resident_id', 'joined_on'], unique=False)
    op.create_table('visits',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('resident_id', sa.Integer(), nullable=True),
    sa.Column('household_id', sa.Integer(), nullable=True),
    sa.Column('grid_id', sa.Integer(), nullable=False),
    sa.Column('visitor_id', sa.Integer(), nullable=False),
    sa.Column('visited_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('method', sa.String(length=16), nullable=False),
    sa.Column('found', sa.Text(), nullable=False),
    sa.Column('follow_up', sa.Text(), nullable=True),
    sa.Column('incident_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("method IN ('home', 'phone', 'video', 'encounter', 'other')", name='visits_method_valid'),
    sa.CheckConstraint('follow_up IS NULL OR length(follow_up) <= 2000', name='visits_follow_up_length'),
    sa.CheckConstraint('length(btrim(found)) > 0 AND length(found) <= 2000', name='visits_found_length'),
    sa.CheckConstraint('num_nonnulls(resident_id, household_id) = 1', name='visits_one_visited'),
    sa.CheckConstraint("visited_at >= TIMESTAMPTZ '2000-01-01 00:00+08'", name='visits_visited_at_range'),
    sa.ForeignKeyConstraint(['grid_id'], ['grids.id'], name='visits_grid_id_fkey', ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['household_id'], ['households.id'], name='visits_household_id_fkey', ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name='visits_incident_id_fkey', ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['resident_id'], ['residents.id'], name='visits_resident_id_fkey', ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['visitor_id'], ['ab_user.id'], name='visits_visitor_id_fkey', ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('visits_grid_id_idx', 'visits', ['grid_id', 'visited_at', 'id'], unique=False)
    op.create_index('visits_household_id_idx', 'visits', ['household_id', 'visited_at'], unique=False, postgresql_where=sa.text('household_id IS NOT NULL'))
    op.create_index('visits_incident_id_idx', 'visits', ['incident_id'], unique=False, postgresql_where=sa.text('incident_id IS NOT NULL'))
    op.create_index('visits_resident_id_idx', 'visits', ['resident_id', 'visited_at'], unique=False, postgresql_where=sa.text('resident_id IS NOT NULL'))
    op.create_index('visits_visited_at_idx', 'visits', ['visited_at', 'id'], unique=False)
    op.create_index('visits_visitor_id_idx', 'visits', ['visitor_id', 'visited_at'], unique=False)
    op.create_table('grid_records',
    sa.Column('grid_id', sa.Integer(), nullable=False),
    sa.Column('households', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('residents', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.ForeignKeyConstraint(['grid_id'], ['grids.id'], name='grid_records_grid_id_fkey', ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('grid_id', name='grid_records_pkey')
    )
    op.bulk_insert(sa.table('attention_tags', sa.column('code', sa.String), sa.column('sensitive', sa.Boolean),
                            sa.column('visit_days', sa.Integer), sa.column('position', sa.Integer)),
                   [{"code": code, "sensitive": code in SENSITIVE, "visit_days": 30, "position": position}
                    for position, code in enumerate(TAGS, start=1)])
    op.execute(FUNCTIONS)
    op.execute(COUNTS)
    op.execute("CREATE TRIGGER houses_in_building BEFORE INSERT OR UPDATE OF grid_id ON houses "
               "FOR EACH ROW EXECUTE FUNCTION gridgov_house_in_building()")
    op.execute("CREATE TRIGGER residents_visit_due BEFORE INSERT OR UPDATE ON residents "
               "FOR EACH ROW EXECUTE FUNCTION gridgov_resident_visit_due()")
    op.execute("CREATE TRIGGER residents_household_move AFTER INSERT OR UPDATE OF household_id, relation ON residents "
               "FOR EACH ROW EXECUTE FUNCTION gridgov_household_move()")
    op.execute("CREATE TRIGGER visits_touch AFTER INSERT OR UPDATE OR DELETE ON visits "
               "FOR EACH ROW EXECUTE FUNCTION gridgov_visits_touch()")
    op.execute("CREATE TRIGGER attention_tags_interval AFTER UPDATE OF visit_days ON attention_tags "
               "FOR EACH ROW EXECUTE FUNCTION gridgov_attention_interval()")
    op.execute("CREATE TRIGGER residents_count AFTER INSERT OR UPDATE OF grid_id, moved_out OR DELETE ON residents "
               "FOR EACH ROW EXECUTE FUNCTION gridgov_count_records()")
    op.execute("CREATE TRIGGER households_count AFTER INSERT OR UPDATE OF grid_id OR DELETE ON households "
               "FOR EACH ROW EXECUTE FUNCTION gridgov_count_records()")
    for table, (record_table, id_column, grid, options) in AUDITED.items():
        arguments = ", ".join(_quoted(value) for value in (record_table, id_column, grid, json.dumps(options)))
        op.execute(f"CREATE TRIGGER {table}_audit AFTER INSERT OR UPDATE OR DELETE ON {table} "
                   f"FOR EACH ROW EXECUTE FUNCTION gridgov_audit({arguments})")


def downgrade():
    for table in AUDITED:
        op.execute(f"DROP TRIGGER {table}_audit ON {table}")
    op.execute("DROP TRIGGER households_count ON households")
    op.execute("DROP TRIGGER residents_count ON residents")
    op.execute("DROP TRIGGER attention_tags_interval ON attention_tags")
    op.execute("DROP TRIGGER visits_touch ON visits")
    op.execute("DROP TRIGGER residents_household_move ON residents")
    op.execute("DROP TRIGGER residents_visit_due ON residents")
    op.execute("DROP TRIGGER houses_in_building ON houses")
    for function in ("gridgov_recount_records()", "gridgov_count_records()", "gridgov_attention_interval()", "gridgov_visits_touch()", "gridgov_household_move()",
                     "gridgov_resident_visit_due()", "gridgov_visit_due(varchar[], timestamptz, date, date, boolean)",
                     "gridgov_house_in_building()", "gridgov_local_today()"):
        op.execute(f"DROP FUNCTION {function}")
    op.drop_constraint('households_head_is_member_fkey', 'households', type_='foreignkey')
    op.drop_constraint('houses_owner_id_fkey', 'houses', type_='foreignkey')
    op.drop_index('visits_visitor_id_idx', table_name='visits')
    op.drop_index('visits_visited_at_idx', table_name='visits')
    op.drop_index('visits_resident_id_idx', table_name='visits', postgresql_where=sa.text('resident_id IS NOT NULL'))
    op.drop_index('visits_incident_id_idx', table_name='visits', postgresql_where=sa.text('incident_id IS NOT NULL'))
    op.drop_index('visits_household_id_idx', table_name='visits', postgresql_where=sa.text('household_id IS NOT NULL'))
    op.drop_index('visits_grid_id_idx', table_name='visits')
    op.drop_table('visits')
    op.drop_index('household_moves_resident_id_idx', table_name='household_moves')
    op.drop_index('household_moves_open_key', table_name='household_moves', postgresql_where=sa.text('left_on IS NULL'))
    op.drop_index('household_moves_household_id_idx', table_name='household_moves')
    op.drop_table('household_moves')
    op.drop_index('residents_visit_due_idx', table_name='residents', postgresql_where=sa.text('next_visit_due IS NOT NULL'))
    op.drop_index('residents_tags_idx', table_name='residents', postgresql_using='gin')
    op.drop_index('residents_phone_last4_idx', table_name='residents')
    op.drop_index('residents_phone_idx', table_name='residents')
    op.drop_index('residents_name_initials_idx', table_name='residents')
    op.drop_index('residents_name_idx', table_name='residents')
    op.drop_index('residents_id_number_last4_idx', table_name='residents')
    op.drop_index('residents_household_id_idx', table_name='residents')
    op.drop_index('residents_grid_id_name_idx', table_name='residents')
    op.drop_table('residents')
    op.drop_index('households_house_id_idx', table_name='households')
    op.drop_index('households_head_id_idx', table_name='households', postgresql_where=sa.text('head_id IS NOT NULL'))
    op.drop_index('households_grid_id_idx', table_name='households')
    op.drop_table('households')
    op.drop_index('houses_owner_id_idx', table_name='houses', postgresql_where=sa.text('owner_id IS NOT NULL'))
    op.drop_index('houses_grid_id_unit_room_key', table_name='houses', postgresql_nulls_not_distinct=True)
    op.drop_table('houses')
    op.drop_table('grid_records')
    op.drop_table('attention_tags')
