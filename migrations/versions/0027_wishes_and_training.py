"""Micro-wishes (微心愿) with the points their claimers earn, and workers' training records in place of the bare hours.

- ``micro_wishes``: a resident's small wish, the state it is in and the facts each state needs, kept
  by CHECK constraints (a volunteer named from dispatch on, a claim time once claimed, a done time
  and note once done, a satisfaction once rated, a cancel time once cancelled). Who moves which state
  is ``services/wishes.py``.
- ``points_entries.micro_wish_id``: the wish an ``earn`` entry pays for; a partial unique index
  (``points_entries_one_award_per_wish``) makes "once" hold whatever retries or races.
- ``training_records`` (date, course, hours, organiser) replace ``workers.training_hours``: each
  worker's non-zero hours are carried over as records dated the first of this year (Beijing), in
  pieces of at most 200 hours, the most one record holds; a worker's yearly total is the sum.

Both tables are audited (migration 0024): a wish's description and done note, which may tell of the
resident, are written only as "changed".

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-03
"""
import json

from alembic import op
import sqlalchemy as sa

revision = '0027'
down_revision = '0026'
branch_labels = None
depends_on = None

MAX_TRAINING_HOURS = 200
CARRIED_OVER = "此前登记的培训学时（结转）"

# table: (whose history, its id column, the row's grid, options), as in migration 0024
AUDITED = {
    "micro_wishes": ("", "id", "grid_id", {"hidden": ["description", "done_note"]}),
    "training_records": ("", "id", "workers.grid_id:worker_id", {}),
}


def _quoted(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def upgrade():
    op.create_table('micro_wishes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('resident_id', sa.Integer(), nullable=False),
    sa.Column('grid_id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('posted_by_id', sa.Integer(), nullable=True),
    sa.Column('posted_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('claim_deadline', sa.DateTime(timezone=True), nullable=False),
    sa.Column('rule_id', sa.Integer(), nullable=True),
    sa.Column('claimer_id', sa.Integer(), nullable=True),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('done_note', sa.Text(), nullable=True),
    sa.Column('photo', sa.String(length=200), nullable=True),
    sa.Column('satisfaction', sa.SmallInteger(), nullable=True),
    sa.Column('rated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('rated_by_id', sa.Integer(), nullable=True),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("kind IN ('visit', 'repair', 'goods', 'errand', 'other')", name='micro_wishes_kind_valid'),
    sa.CheckConstraint("state IN ('posted', 'open', 'dispatched', 'claimed', 'done', 'rated', 'cancelled')", name='micro_wishes_state_valid'),
    sa.CheckConstraint('length(btrim(title)) > 0', name='micro_wishes_title_not_blank'),
    sa.CheckConstraint('description IS NULL OR length(description) <= 1000', name='micro_wishes_description_length'),
    sa.CheckConstraint("state NOT IN ('dispatched', 'claimed', 'done', 'rated') OR claimer_id IS NOT NULL", name='micro_wishes_claimer_when_claimed'),
    sa.CheckConstraint("state NOT IN ('posted', 'open') OR claimer_id IS NULL", name='micro_wishes_no_claimer_when_waiting'),
    sa.CheckConstraint("state NOT IN ('claimed', 'done', 'rated') OR claimed_at IS NOT NULL", name='micro_wishes_claimed_at_when_claimed'),
    sa.CheckConstraint("state NOT IN ('done', 'rated') OR (done_at IS NOT NULL AND length(btrim(done_note)) > 0)", name='micro_wishes_done_with_note'),
    sa.CheckConstraint('done_note IS NULL OR length(done_note) <= 1000', name='micro_wishes_done_note_length'),
    sa.CheckConstraint("(state = 'rated') = (satisfaction IS NOT NULL AND rated_at IS NOT NULL)", name='micro_wishes_rated_with_satisfaction'),
    sa.CheckConstraint('satisfaction IS NULL OR satisfaction BETWEEN 1 AND 5', name='micro_wishes_satisfaction_range'),
    sa.CheckConstraint("(state = 'cancelled') = (cancelled_at IS NOT NULL)", name='micro_wishes_cancelled_at'),
    sa.CheckConstraint('claim_deadline > posted_at', name='micro_wishes_deadline_after_posting'),
    sa.ForeignKeyConstraint(['claimer_id'], ['volunteers.id'], name='micro_wishes_claimer_id_fkey', ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['community_id'], ['grids.id'], name='micro_wishes_community_id_fkey', ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['grid_id'], ['grids.id'], name='micro_wishes_grid_id_fkey', ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['posted_by_id'], ['ab_user.id'], name='micro_wishes_posted_by_id_fkey', ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['rated_by_id'], ['ab_user.id'], name='micro_wishes_rated_by_id_fkey', ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['resident_id'], ['residents.id'], name='micro_wishes_resident_id_fkey', ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['rule_id'], ['points_rules.id'], name='micro_wishes_rule_id_fkey', ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('micro_wishes_community_id_idx', 'micro_wishes', ['community_id', 'state', 'claim_deadline'], unique=False)
    op.create_index('micro_wishes_grid_id_idx', 'micro_wishes', ['grid_id', 'id'], unique=False)
    op.create_index('micro_wishes_resident_id_idx', 'micro_wishes', ['resident_id'], unique=False)
    op.create_index('micro_wishes_posted_at_idx', 'micro_wishes', ['posted_at', 'id'], unique=False)
    op.create_index('micro_wishes_claimer_id_idx', 'micro_wishes', ['claimer_id', 'state'], unique=False, postgresql_where=sa.text('claimer_id IS NOT NULL'))
    op.create_index('micro_wishes_posted_by_id_idx', 'micro_wishes', ['posted_by_id'], unique=False, postgresql_where=sa.text('posted_by_id IS NOT NULL'))
    op.create_index('micro_wishes_rated_by_id_idx', 'micro_wishes', ['rated_by_id'], unique=False, postgresql_where=sa.text('rated_by_id IS NOT NULL'))
    op.create_index('micro_wishes_rule_id_idx', 'micro_wishes', ['rule_id'], unique=False, postgresql_where=sa.text('rule_id IS NOT NULL'))

    op.add_column('points_entries', sa.Column('micro_wish_id', sa.Integer(), nullable=True))
    op.create_foreign_key('points_entries_micro_wish_id_fkey', 'points_entries', 'micro_wishes', ['micro_wish_id'], ['id'], ondelete='RESTRICT')
    op.create_index('points_entries_one_award_per_wish', 'points_entries', ['micro_wish_id'], unique=True, postgresql_where=sa.text("kind = 'earn'"))
    op.drop_constraint('points_entries_earn_has_reference', 'points_entries', type_='check')
    op.create_check_constraint('points_entries_earn_has_reference', 'points_entries',
                               "kind <> 'earn' OR service_record_id IS NOT NULL OR incident_ref IS NOT NULL OR micro_wish_id IS NOT NULL")

    # the district's rule a claimer earns by unless the community names another (services/wishes.py);
    # a part of the schema's first state, as 0002's rules are, not a person's change: not audited
    op.execute("SELECT set_config('gridgov.audit', 'summary', true)")
    op.execute("INSERT INTO points_rules (name, unit, points, active, description) "
               "VALUES ('微心愿', 'event', 20, true, '每实现一个微心愿') ON CONFLICT (name) DO NOTHING")
    op.execute("SELECT set_config('gridgov.audit', '', true)")

    op.create_table('training_records',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('worker_id', sa.Integer(), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('course', sa.String(length=100), nullable=False),
    sa.Column('hours', sa.Numeric(precision=4, scale=1), nullable=False),
    sa.Column('organiser', sa.String(length=100), nullable=True),
    sa.CheckConstraint(f'hours > 0 AND hours <= {MAX_TRAINING_HOURS}', name='training_records_hours_range'),
    sa.CheckConstraint('length(btrim(course)) > 0', name='training_records_course_not_blank'),
    sa.CheckConstraint('organiser IS NULL OR length(btrim(organiser)) > 0', name='training_records_organiser_not_blank'),
    sa.CheckConstraint("date >= DATE '2000-01-01'", name='training_records_date_range'),
    sa.ForeignKeyConstraint(['worker_id'], ['workers.id'], name='training_records_worker_id_fkey', ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('training_records_worker_id_date_idx', 'training_records', ['worker_id', 'date'], unique=False)
    op.create_index('training_records_date_idx', 'training_records', ['date', 'id'], unique=False)
    # the bare hours carried over, before the table is audited: a migration's move, not a person's change
    op.execute(sa.text(f"""
        INSERT INTO training_records (worker_id, date, course, hours)
        SELECT w.id, date_trunc('year', gridgov_local_today())::date, :course,
               least({MAX_TRAINING_HOURS}, w.training_hours - {MAX_TRAINING_HOURS} * piece)
        FROM workers w, generate_series(0, ceil(w.training_hours / {MAX_TRAINING_HOURS})::integer - 1) AS piece
        WHERE w.training_hours > 0
        ORDER BY w.id, piece""").bindparams(course=CARRIED_OVER))
    op.drop_constraint('workers_training_hours_range', 'workers', type_='check')
    op.drop_column('workers', 'training_hours')

    for table, (record_table, id_column, grid, options) in AUDITED.items():
        arguments = ", ".join(_quoted(value) for value in (record_table, id_column, grid, json.dumps(options)))
        op.execute(f"CREATE TRIGGER {table}_audit AFTER INSERT OR UPDATE OR DELETE ON {table} "
                   f"FOR EACH ROW EXECUTE FUNCTION gridgov_audit({arguments})")


def downgrade():
    for table in AUDITED:
        op.execute(f"DROP TRIGGER {table}_audit ON {table}")
    op.add_column('workers', sa.Column('training_hours', sa.Numeric(precision=6, scale=1), server_default=sa.text('0'), nullable=False))
    # the bare number again: this year's records, summed (at most what the column held)
    op.execute("""
        UPDATE workers w SET training_hours = least(2000, t.hours)
        FROM (SELECT worker_id, sum(hours) AS hours FROM training_records
              WHERE extract(year FROM date) = extract(year FROM gridgov_local_today()) GROUP BY worker_id) AS t
        WHERE t.worker_id = w.id""")
    op.alter_column('workers', 'training_hours', server_default=None)
    op.create_check_constraint('workers_training_hours_range', 'workers', 'training_hours >= 0 AND training_hours <= 2000')
    op.drop_index('training_records_date_idx', table_name='training_records')
    op.drop_index('training_records_worker_id_date_idx', table_name='training_records')
    op.drop_table('training_records')

    # (the ledger is append-only: a wish's award left in it refuses the older CHECK, and the downgrade)
    op.drop_constraint('points_entries_earn_has_reference', 'points_entries', type_='check')
    op.create_check_constraint('points_entries_earn_has_reference', 'points_entries',
                               "kind <> 'earn' OR service_record_id IS NOT NULL OR incident_ref IS NOT NULL")
    op.drop_index('points_entries_one_award_per_wish', table_name='points_entries', postgresql_where=sa.text("kind = 'earn'"))
    op.drop_constraint('points_entries_micro_wish_id_fkey', 'points_entries', type_='foreignkey')
    op.drop_column('points_entries', 'micro_wish_id')

    op.execute("DELETE FROM points_rules r WHERE name = '微心愿' AND NOT EXISTS "
               "(SELECT 1 FROM micro_wishes w WHERE w.rule_id = r.id)")
    op.drop_index('micro_wishes_rule_id_idx', table_name='micro_wishes', postgresql_where=sa.text('rule_id IS NOT NULL'))
    op.drop_index('micro_wishes_rated_by_id_idx', table_name='micro_wishes', postgresql_where=sa.text('rated_by_id IS NOT NULL'))
    op.drop_index('micro_wishes_posted_by_id_idx', table_name='micro_wishes', postgresql_where=sa.text('posted_by_id IS NOT NULL'))
    op.drop_index('micro_wishes_claimer_id_idx', table_name='micro_wishes', postgresql_where=sa.text('claimer_id IS NOT NULL'))
    op.drop_index('micro_wishes_posted_at_idx', table_name='micro_wishes')
    op.drop_index('micro_wishes_resident_id_idx', table_name='micro_wishes')
    op.drop_index('micro_wishes_grid_id_idx', table_name='micro_wishes')
    op.drop_index('micro_wishes_community_id_idx', table_name='micro_wishes')
    op.drop_table('micro_wishes')
