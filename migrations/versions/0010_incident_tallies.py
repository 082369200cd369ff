"""Incident figures kept per grid that sees them and base grid: ``incident_tallies``.

The totals line above every incident list and the figures page of a street added up all the
street's entries in ``incident_scopes`` on every request (55,000 at city size: ~2 ms for the
totals, ~10 ms for the figures). ``incident_tallies`` holds, for each grid that sees incidents and
each base grid they were reported in, the numbers the figures are made of: received, resolved,
resolved on time, rated and the sum of the ratings. A street's totals are then the sum of one row
per base grid under it, its figures per community the same rows grouped, whatever the number of
incidents. A trigger on incidents keeps it on every insert, delete and change of status,
deadline, rating, grid or scope (a moved grid rewrites its incidents' scope, so their tallies
move too): nobody writes it by hand. Figures over a period (since/until) still count entries.

Each change adds its +1/-1 to the rows of its grids in one upsert, in key order, so concurrent
changes queue on a row rather than deadlock within one statement. (No CHECK on the numbers:
PostgreSQL checks the proposed row of an upsert — here a -1 — before it finds the conflict; the
tests compare the tallies with the incidents after every kind of change instead.)

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-22
"""
import sqlalchemy as sa
from alembic import op


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

TALLY = r"""
CREATE FUNCTION incidents_tally() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.scope_grid_ids = OLD.scope_grid_ids AND NEW.grid_id = OLD.grid_id
       AND NEW.status = OLD.status AND NEW.rating IS NOT DISTINCT FROM OLD.rating
       AND NEW.resolved_at IS NOT DISTINCT FROM OLD.resolved_at
       AND NEW.deadline IS NOT DISTINCT FROM OLD.deadline THEN
        RETURN NULL;
    END IF;
    INSERT INTO incident_tallies AS t (grid_id, base_grid_id, received, resolved, on_time, rated, rating_sum)
    SELECT grid_id, base_grid_id, sum(received), sum(resolved), sum(on_time), sum(rated), sum(rating_sum)
    FROM (
        SELECT g AS grid_id, OLD.grid_id AS base_grid_id, -1 AS received,
               -(OLD.status IN ('resolved', 'closed'))::int AS resolved,
               -(OLD.status IN ('resolved', 'closed') AND coalesce(OLD.resolved_at <= OLD.deadline, false))::int AS on_time,
               -(OLD.rating IS NOT NULL)::int AS rated, -coalesce(OLD.rating, 0) AS rating_sum
        FROM unnest(CASE WHEN TG_OP <> 'INSERT' THEN OLD.scope_grid_ids END) AS g
        UNION ALL
        SELECT g, NEW.grid_id, 1, (NEW.status IN ('resolved', 'closed'))::int,
               (NEW.status IN ('resolved', 'closed') AND coalesce(NEW.resolved_at <= NEW.deadline, false))::int,
               (NEW.rating IS NOT NULL)::int, coalesce(NEW.rating, 0)
        FROM unnest(CASE WHEN TG_OP <> 'DELETE' THEN NEW.scope_grid_ids END) AS g
    ) AS change
    GROUP BY grid_id, base_grid_id
    ORDER BY grid_id, base_grid_id
    ON CONFLICT (grid_id, base_grid_id) DO UPDATE
    SET received = t.received + EXCLUDED.received, resolved = t.resolved + EXCLUDED.resolved,
        on_time = t.on_time + EXCLUDED.on_time, rated = t.rated + EXCLUDED.rated,
        rating_sum = t.rating_sum + EXCLUDED.rating_sum;
    RETURN NULL;
END
$$;

CREATE TRIGGER incidents_tally AFTER INSERT OR UPDATE OR DELETE ON incidents
    FOR EACH ROW EXECUTE FUNCTION incidents_tally();
"""


def upgrade():
    op.create_table(
        'incident_tallies',
        sa.Column('grid_id', sa.Integer(), nullable=False),
        sa.Column('base_grid_id', sa.Integer(), nullable=False),
        sa.Column('received', sa.Integer(), nullable=False),
        sa.Column('resolved', sa.Integer(), nullable=False),
        sa.Column('on_time', sa.Integer(), nullable=False),
        sa.Column('rated', sa.Integer(), nullable=False),
        sa.Column('rating_sum', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('grid_id', 'base_grid_id', name='incident_tallies_pkey'),
    )
    op.execute("""
        INSERT INTO incident_tallies (grid_id, base_grid_id, received, resolved, on_time, rated, rating_sum)
        SELECT grid_id, base_grid_id, count(*), count(*) FILTER (WHERE status IN ('resolved', 'closed')),
               count(*) FILTER (WHERE status IN ('resolved', 'closed') AND on_time), count(rating),
               coalesce(sum(rating), 0)
        FROM incident_scopes GROUP BY grid_id, base_grid_id
    """)
    op.execute(TALLY)


def downgrade():
    op.execute("DROP TRIGGER incidents_tally ON incidents")
    op.execute("DROP FUNCTION incidents_tally()")
    op.drop_table('incident_tallies')
