"""Incident figures kept per grid that sees them and base grid: ``incident_tallies``.

The totals line above every incident list and the figures page of a street added up all the
street's entries in ``incident_scopes`` on every request (55,000 at city size: ~2 ms for the
totals, ~10 ms for the figures). ``incident_tallies`` holds, for each grid that sees incidents and
each base grid they were reported in, the numbers the figures are made of: received, resolved,
resolved on time, rated and the sum of the ratings. A street's totals are then the sum of one row
per base grid under it, its figures per community the same rows grouped, whatever the number of
incidents. Triggers on incidents keep it on every insert, delete and change of status,
deadline, rating, grid or scope (a moved grid rewrites its incidents' scope, so their tallies
move too): nobody writes it by hand. Figures over a period (since/until) still count entries.

Each statement adds its +1/-1 to the rows of its grids in one upsert, in key order, so concurrent
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

# Adds the rows of ``change`` (grid_id, base_grid_id, sign, status, on_time, rating: one per incident
# and grid that sees it, -1 for a row that went, +1 for one that came) to the tallies, in key order.
ADD = """
        INSERT INTO incident_tallies AS t (grid_id, base_grid_id, received, resolved, on_time, rated, rating_sum)
        SELECT grid_id, base_grid_id, sum(sign),
               coalesce(sum(sign) FILTER (WHERE status IN ('resolved', 'closed')), 0),
               coalesce(sum(sign) FILTER (WHERE status IN ('resolved', 'closed') AND on_time), 0),
               coalesce(sum(sign) FILTER (WHERE rating IS NOT NULL), 0), coalesce(sum(sign * rating), 0)
        FROM ({change}) AS change (grid_id, base_grid_id, sign, status, on_time, rating)
        GROUP BY grid_id, base_grid_id
        ORDER BY grid_id, base_grid_id
        ON CONFLICT (grid_id, base_grid_id) DO UPDATE
        SET received = t.received + EXCLUDED.received, resolved = t.resolved + EXCLUDED.resolved,
            on_time = t.on_time + EXCLUDED.on_time, rated = t.rated + EXCLUDED.rated,
            rating_sum = t.rating_sum + EXCLUDED.rating_sum;"""
ROWS = "SELECT g, {r}.grid_id, {sign}, {r}.status, {r}.resolved_at <= {r}.deadline, {r}.rating"
CHANGED = ("(o.scope_grid_ids, o.grid_id, o.status, o.resolved_at, o.deadline, o.rating) IS DISTINCT FROM "
           "(n.scope_grid_ids, n.grid_id, n.status, n.resolved_at, n.deadline, n.rating)")
INSERTED = ROWS.format(r="n", sign=1) + " FROM new_rows n, unnest(n.scope_grid_ids) AS g"
DELETED = ROWS.format(r="o", sign=-1) + " FROM old_rows o, unnest(o.scope_grid_ids) AS g"
UPDATED = (ROWS.format(r="o", sign=-1) + " FROM old_rows o JOIN new_rows n ON n.id = o.id, unnest(o.scope_grid_ids) AS g"
           f" WHERE {CHANGED} UNION ALL "
           + ROWS.format(r="n", sign=1) + " FROM old_rows o JOIN new_rows n ON n.id = o.id, unnest(n.scope_grid_ids) AS g"
           f" WHERE {CHANGED}")

# Statement triggers with transition tables: a COPY of thousands of incidents (the seed) is added
# up once; each of the app's one-row changes costs one statement.
TALLY = f"""
CREATE FUNCTION incidents_tally() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN{ADD.format(change=INSERTED)}
    ELSIF TG_OP = 'DELETE' THEN{ADD.format(change=DELETED)}
    ELSE{ADD.format(change=UPDATED)}
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER incidents_tally_insert AFTER INSERT ON incidents REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION incidents_tally();
CREATE TRIGGER incidents_tally_update AFTER UPDATE ON incidents REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION incidents_tally();
CREATE TRIGGER incidents_tally_delete AFTER DELETE ON incidents REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION incidents_tally();
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
    for event in ('insert', 'update', 'delete'):
        op.execute(f"DROP TRIGGER incidents_tally_{event} ON incidents")
    op.execute("DROP FUNCTION incidents_tally()")
    op.drop_table('incident_tallies')
