"""To-dos, urging (催办) and supervision (督办) of incidents, and ratings given on a resident's behalf.

- ``deadline_from``: when the incident's current deadline started counting (each step that sets a
  new deadline sets it too). An incident past 80 % of the time from ``deadline_from`` to
  ``deadline`` is "near its deadline" in its holder's to-dos. Existing rows take the time of
  their latest timeline row (or their creation).
- ``urged_at``: a superior urged the incident (a timeline row ``urge`` holds who and why); it is an
  item of the holder's to-dos until the holder next acts on it, which clears it.
- ``supervised_at``: a superior flagged it supervised (督办, timeline row ``supervise``); it shows
  on the dashboard until closed.
- ``rated_on_behalf``: the rating was recorded by staff for the resident (代评), not given by the
  reporter; a closed incident keeps it (``incidents_closed_frozen``).

Each home page reads its to-dos from the pending incidents only (open or awaiting a rating: a few
thousand of a million at city size): a GIN index of who sees them, and a department's open
holdings by deadline; the dashboard counts the supervised ones from an index of them alone.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-03
"""
import sqlalchemy as sa
from alembic import op


revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None

PENDING = "status IN ('reported', 'accepted', 'dispatched', 'in_progress', 'returned', 'reopened', 'resolved')"
OPEN = "status IN ('reported', 'accepted', 'dispatched', 'in_progress', 'returned', 'reopened')"

GUARD = r"""
CREATE OR REPLACE FUNCTION incidents_closed_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.status = 'closed'
       AND (NEW.status, NEW.rating, NEW.rating_note, NEW.closed_at, NEW.reporter_volunteer_id, NEW.category_id{extra})
           IS DISTINCT FROM
           (OLD.status, OLD.rating, OLD.rating_note, OLD.closed_at, OLD.reporter_volunteer_id, OLD.category_id{old_extra}) THEN
        RAISE EXCEPTION 'incident % is closed', OLD.id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'incidents_closed_frozen';
    END IF;
    RETURN NEW;
END
$$;
"""


def upgrade():
    op.add_column('incidents', sa.Column('deadline_from', sa.DateTime(timezone=True), nullable=True))
    op.add_column('incidents', sa.Column('urged_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('incidents', sa.Column('supervised_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('incidents', sa.Column('rated_on_behalf', sa.Boolean(), nullable=False,
                                         server_default=sa.text('false')))
    op.execute("""
        UPDATE incidents SET deadline_from = coalesce(
            (SELECT max(e.created_at) FROM incident_events e WHERE e.incident_id = incidents.id), created_at)
        WHERE deadline IS NOT NULL AND status <> 'closed'
    """)
    op.create_index('incidents_pending_scope_gin', 'incidents', ['scope_grid_ids'], unique=False,
                    postgresql_using='gin', postgresql_where=sa.text(PENDING))
    op.create_index('incidents_department_open_idx', 'incidents', ['department_id', 'deadline'], unique=False,
                    postgresql_where=sa.text(f"level = 'department' AND {OPEN}"))
    op.create_index('incidents_supervised_idx', 'incidents', ['id'], unique=False,
                    postgresql_where=sa.text(f"supervised_at IS NOT NULL AND {PENDING}"))
    op.execute(GUARD.format(extra=", NEW.rated_on_behalf", old_extra=", OLD.rated_on_behalf"))


def downgrade():
    op.execute(GUARD.format(extra="", old_extra=""))
    op.drop_index('incidents_supervised_idx', table_name='incidents')
    op.drop_index('incidents_department_open_idx', table_name='incidents')
    op.drop_index('incidents_pending_scope_gin', table_name='incidents')
    op.drop_column('incidents', 'rated_on_behalf')
    op.drop_column('incidents', 'supervised_at')
    op.drop_column('incidents', 'urged_at')
    op.drop_column('incidents', 'deadline_from')
