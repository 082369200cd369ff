"""Facts that points and figures rest on are frozen once used; points rules belong to a scope; bounds
no real use exceeds.

- A service record priced into points keeps its volunteer, date, hours and activity type
  (``service_records_awarded_frozen``): a correction is a compensating ledger entry.
- A closed incident keeps its status, rating, category and reporter (``incidents_closed_frozen``);
  a closed whistle's summonses keep their report-in, result and rating
  (``whistle_summonses_closed_frozen``); an ended response takes no more check-ins
  (``response_tasks_ended_frozen``). The last two read the whistle's (response's) row with a
  shared lock, so the check holds against a close (an end) running at the same moment.
- A points rule is the whole district's (``community_id`` empty: the district's staff and the
  administrator keep it) or one community's; a service record uses a rule of the whole district or
  of its volunteer's community, an incident category one of the whole district; a rule in use keeps
  its owner (``points_rules_owner_in_use``).
- Bounds: a rule earns 1–1,000 points an hour or event, one adjustment moves at most 10,000
  points, one restock or stock correction at most 10,000 items.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-03
"""
import sqlalchemy as sa
from alembic import op


revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None

TRIGGERS = r"""
CREATE FUNCTION service_records_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND (NEW.volunteer_id, NEW.date, NEW.hours, NEW.rule_id) IS DISTINCT FROM
           (OLD.volunteer_id, OLD.date, OLD.hours, OLD.rule_id)
       AND EXISTS (SELECT 1 FROM points_entries WHERE service_record_id = OLD.id AND kind = 'earn') THEN
        RAISE EXCEPTION 'service record % has been priced into points', OLD.id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'service_records_awarded_frozen';
    END IF;
    IF NEW.rule_id IS NOT NULL AND (TG_OP = 'INSERT' OR (NEW.rule_id, NEW.volunteer_id)
                                    IS DISTINCT FROM (OLD.rule_id, OLD.volunteer_id))
       AND NOT EXISTS (SELECT 1 FROM points_rules r JOIN volunteers v ON v.id = NEW.volunteer_id
                       WHERE r.id = NEW.rule_id AND (r.community_id IS NULL OR r.community_id = v.community_id)) THEN
        RAISE EXCEPTION 'rule % is not offered in the volunteer''s community', NEW.rule_id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'service_records_rule_in_community';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER service_records_guard BEFORE INSERT OR UPDATE ON service_records
    FOR EACH ROW EXECUTE FUNCTION service_records_guard();

CREATE FUNCTION incident_categories_rule_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.points_rule_id IS NOT NULL
       AND EXISTS (SELECT 1 FROM points_rules WHERE id = NEW.points_rule_id AND community_id IS NOT NULL) THEN
        RAISE EXCEPTION 'a category earns by a rule of the whole district'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'incident_categories_rule_district_wide';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER incident_categories_rule_guard BEFORE INSERT OR UPDATE OF points_rule_id ON incident_categories
    FOR EACH ROW EXECUTE FUNCTION incident_categories_rule_guard();

CREATE TRIGGER points_rules_community_is_community BEFORE INSERT OR UPDATE OF community_id
    ON points_rules FOR EACH ROW EXECUTE FUNCTION gridgov_require_grid_level('community_id', 'community');

CREATE FUNCTION points_rules_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.community_id IS DISTINCT FROM OLD.community_id
       AND (EXISTS (SELECT 1 FROM service_records WHERE rule_id = OLD.id)
            OR EXISTS (SELECT 1 FROM incident_categories WHERE points_rule_id = OLD.id)) THEN
        RAISE EXCEPTION 'rule % is in use: it keeps its owner', OLD.id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'points_rules_owner_in_use';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER points_rules_guard BEFORE UPDATE OF community_id ON points_rules
    FOR EACH ROW EXECUTE FUNCTION points_rules_guard();

CREATE FUNCTION incidents_closed_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.status = 'closed'
       AND (NEW.status, NEW.rating, NEW.rating_note, NEW.closed_at, NEW.reporter_volunteer_id, NEW.category_id)
           IS DISTINCT FROM
           (OLD.status, OLD.rating, OLD.rating_note, OLD.closed_at, OLD.reporter_volunteer_id, OLD.category_id) THEN
        RAISE EXCEPTION 'incident % is closed', OLD.id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'incidents_closed_frozen';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER incidents_closed_guard BEFORE UPDATE ON incidents
    FOR EACH ROW EXECUTE FUNCTION incidents_closed_guard();

CREATE FUNCTION whistle_summonses_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF (NEW.reported_at, NEW.reported_by_id, NEW.result, NEW.result_at, NEW.rating, NEW.department_id,
        NEW.whistle_id) IS DISTINCT FROM
       (OLD.reported_at, OLD.reported_by_id, OLD.result, OLD.result_at, OLD.rating, OLD.department_id,
        OLD.whistle_id)
       AND (SELECT status FROM whistles WHERE id = OLD.whistle_id FOR SHARE) = 'closed' THEN
        RAISE EXCEPTION 'whistle % is closed', OLD.whistle_id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'whistle_summonses_closed_frozen';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER whistle_summonses_guard BEFORE UPDATE ON whistle_summonses
    FOR EACH ROW EXECUTE FUNCTION whistle_summonses_guard();

CREATE FUNCTION response_tasks_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF (NEW.checked_in_at, NEW.note) IS DISTINCT FROM (OLD.checked_in_at, OLD.note)
       AND (SELECT status FROM emergency_responses WHERE id = OLD.response_id FOR SHARE) <> 'active' THEN
        RAISE EXCEPTION 'response % has ended', OLD.response_id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'response_tasks_ended_frozen';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER response_tasks_guard BEFORE UPDATE ON response_tasks
    FOR EACH ROW EXECUTE FUNCTION response_tasks_guard();
"""

DROP_TRIGGERS = """
DROP TRIGGER IF EXISTS response_tasks_guard ON response_tasks;
DROP FUNCTION IF EXISTS response_tasks_guard();
DROP TRIGGER IF EXISTS whistle_summonses_guard ON whistle_summonses;
DROP FUNCTION IF EXISTS whistle_summonses_guard();
DROP TRIGGER IF EXISTS incidents_closed_guard ON incidents;
DROP FUNCTION IF EXISTS incidents_closed_guard();
DROP TRIGGER IF EXISTS points_rules_guard ON points_rules;
DROP FUNCTION IF EXISTS points_rules_guard();
DROP TRIGGER IF EXISTS points_rules_community_is_community ON points_rules;
DROP TRIGGER IF EXISTS incident_categories_rule_guard ON incident_categories;
DROP FUNCTION IF EXISTS incident_categories_rule_guard();
DROP TRIGGER IF EXISTS service_records_guard ON service_records;
DROP FUNCTION IF EXISTS service_records_guard();
"""


def upgrade():
    op.add_column('points_rules', sa.Column('community_id', sa.Integer(), nullable=True))
    op.create_foreign_key('points_rules_community_id_fkey', 'points_rules', 'grids', ['community_id'], ['id'],
                          ondelete='RESTRICT')
    op.create_index('points_rules_community_id_idx', 'points_rules', ['community_id'], unique=False,
                    postgresql_where=sa.text('community_id IS NOT NULL'))
    op.drop_constraint('points_rules_points_range', 'points_rules', type_='check')
    op.create_check_constraint('points_rules_points_range', 'points_rules', 'points > 0 AND points <= 1000')
    op.create_check_constraint('points_entries_adjust_bound', 'points_entries',
                               "kind <> 'adjust' OR abs(amount) <= 10000")
    op.create_check_constraint('stock_movements_change_bound', 'stock_movements',
                               "kind NOT IN ('restock', 'adjust') OR abs(change) <= 10000")
    op.execute(TRIGGERS)


def downgrade():
    op.execute(DROP_TRIGGERS)
    op.drop_constraint('stock_movements_change_bound', 'stock_movements', type_='check')
    op.drop_constraint('points_entries_adjust_bound', 'points_entries', type_='check')
    op.drop_constraint('points_rules_points_range', 'points_rules', type_='check')
    op.create_check_constraint('points_rules_points_range', 'points_rules', 'points > 0 AND points <= 10000')
    op.drop_index('points_rules_community_id_idx', table_name='points_rules',
                  postgresql_where=sa.text('community_id IS NOT NULL'))
    op.drop_constraint('points_rules_community_id_fkey', 'points_rules', type_='foreignkey')
    op.drop_column('points_rules', 'community_id')
