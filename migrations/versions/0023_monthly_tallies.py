"""Incidents received and resolved per grid that sees them, local month and category:
``incident_month_tallies``, for the dashboard's trend and category mix.

The dashboard (一屏知全域) draws the last twelve months of what a grid sees, received and
resolved, and the mix of categories over them. Counted from ``incident_scopes`` that is every
entry of the grid (a million for a city administrator, 100,000 for a district): hundreds of
milliseconds. Kept here per grid, month (Asia/Shanghai, the first day of the month) and category,
a grid's year is at most twelve times its number of categories rows, whatever the number of
incidents. As in ``incident_tallies`` (0010), statement triggers on incidents add each statement's
+1/-1 in one upsert, in key order, on every insert, delete and change of status, category,
creation time or scope (a moved grid rewrites its incidents' scope): nobody writes it by hand.
"Resolved" counts the incidents received in that month that are now resolved or closed, as the
figures page's months do.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-03
"""
import sqlalchemy as sa
from alembic import op


revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None

MONTH = "date_trunc('month', {r}.created_at AT TIME ZONE 'Asia/Shanghai')::date"

# Adds the rows of ``change`` (grid_id, month, category_id, sign, status: one per incident and grid
# that sees it, -1 for a row that went, +1 for one that came) to the tallies, in key order.
ADD = """
        INSERT INTO incident_month_tallies AS t (grid_id, month, category_id, received, resolved)
        SELECT grid_id, month, category_id, sum(sign),
               coalesce(sum(sign) FILTER (WHERE status IN ('resolved', 'closed')), 0)
        FROM ({change}) AS change (grid_id, month, category_id, sign, status)
        GROUP BY grid_id, month, category_id
        ORDER BY grid_id, month, category_id
        ON CONFLICT (grid_id, month, category_id) DO UPDATE
        SET received = t.received + EXCLUDED.received, resolved = t.resolved + EXCLUDED.resolved;"""
ROWS = "SELECT g, " + MONTH + ", {r}.category_id, {sign}, {r}.status"
CHANGED = ("(o.scope_grid_ids, o.status, o.category_id, o.created_at) IS DISTINCT FROM "
           "(n.scope_grid_ids, n.status, n.category_id, n.created_at)")
INSERTED = ROWS.format(r="n", sign=1) + " FROM new_rows n, unnest(n.scope_grid_ids) AS g"
DELETED = ROWS.format(r="o", sign=-1) + " FROM old_rows o, unnest(o.scope_grid_ids) AS g"
UPDATED = (ROWS.format(r="o", sign=-1) + " FROM old_rows o JOIN new_rows n ON n.id = o.id, unnest(o.scope_grid_ids) AS g"
           f" WHERE {CHANGED} UNION ALL "
           + ROWS.format(r="n", sign=1) + " FROM old_rows o JOIN new_rows n ON n.id = o.id, unnest(n.scope_grid_ids) AS g"
           f" WHERE {CHANGED}")

TALLY = f"""
CREATE FUNCTION incidents_tally_months() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN{ADD.format(change=INSERTED)}
    ELSIF TG_OP = 'DELETE' THEN{ADD.format(change=DELETED)}
    ELSE{ADD.format(change=UPDATED)}
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER incidents_tally_months_insert AFTER INSERT ON incidents REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION incidents_tally_months();
CREATE TRIGGER incidents_tally_months_update AFTER UPDATE ON incidents
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION incidents_tally_months();
CREATE TRIGGER incidents_tally_months_delete AFTER DELETE ON incidents REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION incidents_tally_months();
"""


def upgrade():
    op.create_table(
        'incident_month_tallies',
        sa.Column('grid_id', sa.Integer(), nullable=False),
        sa.Column('month', sa.Date(), nullable=False),
        sa.Column('category_id', sa.Integer(), nullable=False),
        sa.Column('received', sa.Integer(), nullable=False),
        sa.Column('resolved', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('grid_id', 'month', 'category_id', name='incident_month_tallies_pkey'),
    )
    op.execute(f"""
        INSERT INTO incident_month_tallies (grid_id, month, category_id, received, resolved)
        SELECT s.grid_id, {MONTH.format(r='s')}, s.category_id, count(*),
               count(*) FILTER (WHERE s.status IN ('resolved', 'closed'))
        FROM incident_scopes s GROUP BY 1, 2, 3
    """)
    op.execute(TALLY)


def downgrade():
    for event in ('insert', 'update', 'delete'):
        op.execute(f"DROP TRIGGER incidents_tally_months_{event} ON incidents")
    op.execute("DROP FUNCTION incidents_tally_months()")
    op.drop_table('incident_month_tallies')
