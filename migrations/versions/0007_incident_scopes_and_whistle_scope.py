"""Lists of a grid's incidents read from an index alone; whistles scoped like incidents.

``incident_scopes`` holds one row per incident and grid that sees it (the grids of
``incidents.scope_grid_ids``), with the columns a list page, its status and category filters, its
count and the figures need, all in the primary key's index: the newest incidents of a street,
the page 200 of them, the closed ones of a category, their capped count and their completion
figures are index-only scans over that street's entries, where the incidents table would be
visited row by row on thousands of pages. Triggers keep it: nobody
writes it by hand.

``whistles.scope_grid_ids``, like the incidents', holds the grids whose users see a whistle: the
ancestors of the grid that blew it and every grid that sees one of its incidents. Kept by triggers
on whistles, whistle_incidents and incidents (a moved grid rewrites its incidents, which rewrite
their whistles).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

INCIDENT_SCOPES = r"""
CREATE FUNCTION incidents_sync_scopes() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        IF TG_OP = 'UPDATE' AND NEW.scope_grid_ids = OLD.scope_grid_ids
           AND NEW.grid_id = OLD.grid_id AND NEW.status = OLD.status AND NEW.category_id = OLD.category_id
           AND NEW.resolved_at IS NOT DISTINCT FROM OLD.resolved_at
           AND NEW.deadline IS NOT DISTINCT FROM OLD.deadline
           AND NEW.rating IS NOT DISTINCT FROM OLD.rating
           AND NEW.created_at = OLD.created_at THEN
            RETURN NULL;
        END IF;
        DELETE FROM incident_scopes WHERE grid_id = ANY (OLD.scope_grid_ids) AND incident_id = OLD.id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO incident_scopes (grid_id, incident_id, base_grid_id, status, category_id, on_time, rating,
                                     created_at)
        SELECT g, NEW.id, NEW.grid_id, NEW.status, NEW.category_id, NEW.resolved_at <= NEW.deadline, NEW.rating,
               NEW.created_at
        FROM unnest(NEW.scope_grid_ids) AS g;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER incidents_sync_scopes AFTER INSERT OR UPDATE OR DELETE ON incidents
    FOR EACH ROW EXECUTE FUNCTION incidents_sync_scopes();
"""

WHISTLE_SCOPE = r"""
CREATE FUNCTION gridgov_whistle_scope(whistle int, blower_grid int) RETURNS int[]
LANGUAGE sql STABLE AS $$
    SELECT ARRAY(
        SELECT x FROM unnest((SELECT gridgov_path_ids(path) FROM grids WHERE id = blower_grid)) AS x
        UNION
        SELECT unnest(i.scope_grid_ids)
        FROM whistle_incidents wi JOIN incidents i ON i.id = wi.incident_id
        WHERE wi.whistle_id = whistle
        ORDER BY 1)
$$;

CREATE FUNCTION whistles_scope() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.scope_grid_ids := gridgov_whistle_scope(NEW.id, NEW.grid_id);
    RETURN NEW;
END
$$;

CREATE TRIGGER whistles_scope BEFORE INSERT OR UPDATE ON whistles
    FOR EACH ROW EXECUTE FUNCTION whistles_scope();

CREATE FUNCTION whistle_incidents_scope() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE whistles SET grid_id = grid_id
    WHERE id = CASE WHEN TG_OP = 'DELETE' THEN OLD.whistle_id ELSE NEW.whistle_id END;
    RETURN NULL;
END
$$;

CREATE TRIGGER whistle_incidents_scope AFTER INSERT OR UPDATE OR DELETE ON whistle_incidents
    FOR EACH ROW EXECUTE FUNCTION whistle_incidents_scope();

CREATE FUNCTION incidents_whistles_scope() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE whistles SET grid_id = grid_id
    WHERE id IN (SELECT whistle_id FROM whistle_incidents WHERE incident_id = NEW.id);
    RETURN NULL;
END
$$;

CREATE TRIGGER incidents_whistles_scope AFTER UPDATE ON incidents
    FOR EACH ROW WHEN (NEW.scope_grid_ids IS DISTINCT FROM OLD.scope_grid_ids)
    EXECUTE FUNCTION incidents_whistles_scope();

CREATE FUNCTION grids_whistles_scope() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE whistles SET grid_id = grid_id WHERE grid_id = NEW.id;
    RETURN NULL;
END
$$;

CREATE TRIGGER grids_whistles_scope AFTER UPDATE ON grids
    FOR EACH ROW WHEN (NEW.path IS DISTINCT FROM OLD.path) EXECUTE FUNCTION grids_whistles_scope();
"""

DROP = """
DROP TRIGGER IF EXISTS grids_whistles_scope ON grids;
DROP FUNCTION IF EXISTS grids_whistles_scope();
DROP TRIGGER IF EXISTS incidents_whistles_scope ON incidents;
DROP FUNCTION IF EXISTS incidents_whistles_scope();
DROP TRIGGER IF EXISTS whistle_incidents_scope ON whistle_incidents;
DROP FUNCTION IF EXISTS whistle_incidents_scope();
DROP TRIGGER IF EXISTS whistles_scope ON whistles;
DROP FUNCTION IF EXISTS whistles_scope();
DROP FUNCTION IF EXISTS gridgov_whistle_scope(int, int);
DROP TRIGGER IF EXISTS incidents_sync_scopes ON incidents;
DROP FUNCTION IF EXISTS incidents_sync_scopes();
"""


def upgrade():
    op.create_table(
        'incident_scopes',
        sa.Column('grid_id', sa.Integer(), nullable=False),
        sa.Column('incident_id', sa.Integer(), nullable=False),
        sa.Column('base_grid_id', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('category_id', sa.Integer(), nullable=False),
        sa.Column('on_time', sa.Boolean(), nullable=True),
        sa.Column('rating', sa.SmallInteger(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    )
    op.execute("""
        INSERT INTO incident_scopes (grid_id, incident_id, base_grid_id, status, category_id, on_time, rating,
                                     created_at)
        SELECT g, i.id, i.grid_id, i.status, i.category_id, i.resolved_at <= i.deadline, i.rating, i.created_at
        FROM incidents i, unnest(i.scope_grid_ids) AS g
    """)
    op.execute("""
        ALTER TABLE incident_scopes ADD CONSTRAINT incident_scopes_pkey PRIMARY KEY (grid_id, incident_id)
        INCLUDE (base_grid_id, status, category_id, on_time, rating, created_at)
    """)
    op.execute(INCIDENT_SCOPES)
    op.add_column('whistles', sa.Column('scope_grid_ids', postgresql.ARRAY(sa.Integer()), nullable=True))
    op.execute(WHISTLE_SCOPE)
    op.execute("UPDATE whistles SET grid_id = grid_id")
    op.alter_column('whistles', 'scope_grid_ids', nullable=False)
    op.create_index('whistles_scope_grid_ids_gin', 'whistles', ['scope_grid_ids'], unique=False,
                    postgresql_using='gin')


def downgrade():
    op.drop_index('whistles_scope_grid_ids_gin', table_name='whistles')
    op.execute(DROP)
    op.drop_column('whistles', 'scope_grid_ids')
    op.drop_table('incident_scopes')
