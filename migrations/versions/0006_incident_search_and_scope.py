"""Incidents at city size: who may see an incident, and its words, kept in indexed columns.

``scope_grid_ids`` holds the grids whose users see the incident: every ancestor of its grid and
of the grid holding it now. A trigger derives it (nobody writes it by hand) and rewrites it when
a grid moves, so scoping a list to any grid is one GIN lookup (``@>``), at every level.

``search_grams`` holds every character and every pair of adjacent characters of the title and
description (lower case, no spaces). Chinese words are mostly two characters long, too short for a
trigram index, so a keyword search asks the GIN index for rows holding all the pairs of the
keyword and rechecks the rest with ILIKE.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

FUNCTIONS = r"""
CREATE FUNCTION gridgov_grams(body text) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(array_agg(DISTINCT gram), '{}')
    FROM (SELECT lower(coalesce(body, '')) AS t) s,
         LATERAL generate_series(1, char_length(s.t)) AS i,
         LATERAL (VALUES (substr(s.t, i, 1)), (substr(s.t, i, 2))) AS g(gram)
    WHERE gram !~ '\s'
$$;

CREATE FUNCTION gridgov_query_grams(keyword text) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    -- every pair of a word, or its single character
    SELECT coalesce(array_agg(DISTINCT gram), '{}')
    FROM regexp_split_to_table(lower(coalesce(keyword, '')), '\s+') AS w,
         LATERAL generate_series(1, greatest(char_length(w) - 1, 1)) AS i,
         LATERAL (VALUES (substr(w, i, CASE WHEN char_length(w) = 1 THEN 1 ELSE 2 END))) AS g(gram)
    WHERE w <> ''
$$;

CREATE FUNCTION gridgov_path_ids(path ltree) RETURNS int[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT string_to_array(ltree2text(path), '.')::int[]
$$;

CREATE FUNCTION incidents_scope() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    own int[];
    held int[];
BEGIN
    SELECT gridgov_path_ids(path) INTO own FROM grids WHERE id = NEW.grid_id;
    IF NEW.holder_grid_id IS NOT NULL AND NEW.holder_grid_id <> NEW.grid_id THEN
        SELECT gridgov_path_ids(path) INTO held FROM grids WHERE id = NEW.holder_grid_id;
    END IF;
    NEW.scope_grid_ids := ARRAY(SELECT DISTINCT x FROM unnest(coalesce(own, '{}') || coalesce(held, '{}')) AS x
                                ORDER BY x);
    RETURN NEW;
END
$$;

CREATE TRIGGER incidents_scope BEFORE INSERT OR UPDATE ON incidents
    FOR EACH ROW EXECUTE FUNCTION incidents_scope();

CREATE FUNCTION grids_incidents_scope() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    -- fires after grids_after_move (triggers run in name order): every path is final here
    UPDATE incidents SET grid_id = grid_id WHERE grid_id = NEW.id OR holder_grid_id = NEW.id;
    RETURN NULL;
END
$$;

CREATE TRIGGER grids_incidents_scope AFTER UPDATE ON grids
    FOR EACH ROW WHEN (NEW.path IS DISTINCT FROM OLD.path) EXECUTE FUNCTION grids_incidents_scope();
"""

DROP = """
DROP TRIGGER IF EXISTS grids_incidents_scope ON grids;
DROP FUNCTION IF EXISTS grids_incidents_scope();
DROP TRIGGER IF EXISTS incidents_scope ON incidents;
DROP FUNCTION IF EXISTS incidents_scope();
"""

DROP_FUNCTIONS = """
DROP FUNCTION IF EXISTS gridgov_path_ids(ltree);
DROP FUNCTION IF EXISTS gridgov_query_grams(text);
DROP FUNCTION IF EXISTS gridgov_grams(text);
"""


def upgrade():
    op.execute(FUNCTIONS)
    op.add_column('incidents', sa.Column('scope_grid_ids', postgresql.ARRAY(sa.Integer()), nullable=True))
    op.execute("UPDATE incidents SET grid_id = grid_id")
    op.alter_column('incidents', 'scope_grid_ids', nullable=False)
    op.add_column('incidents', sa.Column(
        'search_grams', postgresql.ARRAY(sa.Text()),
        sa.Computed("gridgov_grams(((title)::text || ' '::text) || (COALESCE(description, ''::character varying))::text)",
                    persisted=True),
        nullable=True))
    op.create_index('incidents_scope_grid_ids_gin', 'incidents', ['scope_grid_ids'], unique=False,
                    postgresql_using='gin')
    op.create_index('incidents_search_grams_gin', 'incidents', ['search_grams'], unique=False,
                    postgresql_using='gin')
    op.create_index('incidents_category_id_idx', 'incidents', ['category_id', 'id'], unique=False)


def downgrade():
    op.drop_index('incidents_category_id_idx', table_name='incidents')
    op.drop_index('incidents_search_grams_gin', table_name='incidents')
    op.drop_index('incidents_scope_grid_ids_gin', table_name='incidents')
    op.execute(DROP)
    op.drop_column('incidents', 'search_grams')
    op.drop_column('incidents', 'scope_grid_ids')
    op.execute(DROP_FUNCTIONS)
