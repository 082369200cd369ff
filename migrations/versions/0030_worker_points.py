"""Points for grid workers and building leaders: their earning rules, their awards on the ledger, the months awarded, and an account kept while its holder is.

- ``worker_points_rules`` (工作积分规则): what a worker earns, by one of two awards — ``patrol_month``
  (巡查达标奖励: the points when the worker met the district's patrol rule on at least
  ``min_share`` % of a past month's days) and ``visit_due`` (走访积分: the points per visit made
  when due to a resident needing attention, at most ``monthly_cap`` visits a month). Scoped as the
  volunteers' rules: no community, the whole district's; else that community's own, which replaces
  the district's for its workers. One active rule per award and scope (a partial unique index).
- ``points_entries.worker_rule_id``, ``award_month``, ``visit_id``: what a worker's ``earn`` entry
  pays for. Once each: one patrol award per account and month, one award per visit (partial unique
  indexes), so an award run twice or at once pays once; a trigger checks the entry fits its rule
  (a visit award names a visit, a patrol award none, both a worker's account).
- ``worker_points_months``: the months awarded (the award runs lazily, the first time a past month
  is looked at, or from ``gridgov points award-month``).
- ``points_accounts``: an account is not deleted while its holder exists (a trigger): every
  volunteer and worker keeps the account their trigger opened (a wish's claimer was paid nothing,
  silently, when it was missing).

The rules are audited (migration 0024) as ``points_rules`` are.

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-04
"""
import json

from alembic import op
import sqlalchemy as sa

revision = '0030'
down_revision = '0029'
branch_labels = None
depends_on = None

AWARDS = ('patrol_month', 'visit_due')

# table: (whose history, its id column, the row's grid, options), as in migration 0024
AUDITED = {
    "worker_points_rules": ("", "id", "community_id", {}),
}

FUNCTIONS = r"""
-- a worker's award names its rule's kind of fact: a visit for a visit award, none for a month's
-- patrols; and it is paid to a worker's account
CREATE FUNCTION gridgov_worker_award_fits() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    rule_award varchar;
BEGIN
    SELECT award INTO rule_award FROM worker_points_rules WHERE id = NEW.worker_rule_id;
    IF (rule_award = 'visit_due') <> (NEW.visit_id IS NOT NULL) THEN
        RAISE EXCEPTION 'a visit award names its visit, a patrol award none'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'points_entries_worker_award_fits';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM points_accounts WHERE id = NEW.account_id AND worker_id IS NOT NULL) THEN
        RAISE EXCEPTION 'a worker''s award is paid to a worker''s account'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'points_entries_worker_award_fits';
    END IF;
    RETURN NEW;
END
$$;

-- an account goes with its holder (ON DELETE CASCADE), never alone
CREATE FUNCTION gridgov_points_account_kept() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM volunteers WHERE id = OLD.volunteer_id)
       OR EXISTS (SELECT 1 FROM workers WHERE id = OLD.worker_id) THEN
        RAISE EXCEPTION 'points account % belongs to an existing holder', OLD.id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'points_accounts_kept';
    END IF;
    RETURN OLD;
END
$$;
"""


def _quoted(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def upgrade():
    op.create_table('worker_points_rules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('award', sa.String(length=16), nullable=False),
    sa.Column('points', sa.Integer(), nullable=False),
    sa.Column('min_share', sa.SmallInteger(), nullable=True),
    sa.Column('monthly_cap', sa.SmallInteger(), nullable=True),
    sa.Column('community_id', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('description', sa.String(length=200), nullable=True),
    sa.CheckConstraint("award IN ('patrol_month', 'visit_due')", name='worker_points_rules_award_valid'),
    sa.CheckConstraint('points > 0 AND points <= 1000', name='worker_points_rules_points_range'),
    sa.CheckConstraint('length(btrim(name)) > 0', name='worker_points_rules_name_not_blank'),
    sa.CheckConstraint("(award = 'patrol_month') = (min_share IS NOT NULL)", name='worker_points_rules_share_of_patrols'),
    sa.CheckConstraint('min_share IS NULL OR min_share BETWEEN 1 AND 100', name='worker_points_rules_share_range'),
    sa.CheckConstraint("monthly_cap IS NULL OR (award = 'visit_due' AND monthly_cap BETWEEN 1 AND 100)",
                       name='worker_points_rules_cap_of_visits'),
    sa.ForeignKeyConstraint(['community_id'], ['grids.id'], name='worker_points_rules_community_id_fkey', ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name', name='worker_points_rules_name_key'),
    )
    op.create_index('worker_points_rules_community_id_idx', 'worker_points_rules', ['community_id'], unique=False,
                    postgresql_where=sa.text('community_id IS NOT NULL'))
    op.create_index('worker_points_rules_one_active', 'worker_points_rules',
                    ['award', sa.text('coalesce(community_id, 0)')], unique=True, postgresql_where=sa.text('active'))
    op.execute("CREATE TRIGGER worker_points_rules_community_is_community BEFORE INSERT OR UPDATE OF community_id "
               "ON worker_points_rules FOR EACH ROW EXECUTE FUNCTION gridgov_require_grid_level('community_id', 'community')")

    op.create_table('worker_points_months',
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('awarded_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('entries', sa.Integer(), nullable=False),
    sa.CheckConstraint('extract(day FROM month) = 1', name='worker_points_months_first_day'),
    sa.CheckConstraint('entries >= 0', name='worker_points_months_entries_nonnegative'),
    sa.PrimaryKeyConstraint('month', name='worker_points_months_pkey'),
    )

    op.add_column('points_entries', sa.Column('worker_rule_id', sa.Integer(), nullable=True))
    op.add_column('points_entries', sa.Column('award_month', sa.Date(), nullable=True))
    op.add_column('points_entries', sa.Column('visit_id', sa.Integer(), nullable=True))
    op.create_foreign_key('points_entries_worker_rule_id_fkey', 'points_entries', 'worker_points_rules',
                          ['worker_rule_id'], ['id'], ondelete='RESTRICT')
    op.create_foreign_key('points_entries_visit_id_fkey', 'points_entries', 'visits', ['visit_id'], ['id'],
                          ondelete='RESTRICT')
    op.create_index('points_entries_worker_rule_id_idx', 'points_entries', ['worker_rule_id'], unique=False,
                    postgresql_where=sa.text('worker_rule_id IS NOT NULL'))
    op.create_index('points_entries_one_patrol_award_per_month', 'points_entries', ['account_id', 'award_month'],
                    unique=True, postgresql_where=sa.text('worker_rule_id IS NOT NULL AND visit_id IS NULL'))
    op.create_index('points_entries_one_award_per_visit', 'points_entries', ['visit_id'], unique=True,
                    postgresql_where=sa.text('visit_id IS NOT NULL'))
    op.create_check_constraint('points_entries_worker_award', 'points_entries',
                               "worker_rule_id IS NULL OR (kind = 'earn' AND award_month IS NOT NULL"
                               " AND extract(day FROM award_month) = 1)")
    op.create_check_constraint('points_entries_award_month_of_rule', 'points_entries',
                               "(award_month IS NULL AND visit_id IS NULL) OR worker_rule_id IS NOT NULL")
    op.drop_constraint('points_entries_earn_has_reference', 'points_entries', type_='check')
    op.create_check_constraint('points_entries_earn_has_reference', 'points_entries',
                               "kind <> 'earn' OR service_record_id IS NOT NULL OR incident_ref IS NOT NULL"
                               " OR micro_wish_id IS NOT NULL OR worker_rule_id IS NOT NULL")

    op.execute(FUNCTIONS)
    op.execute("CREATE TRIGGER points_entries_worker_award_fits BEFORE INSERT ON points_entries FOR EACH ROW "
               "WHEN (NEW.worker_rule_id IS NOT NULL) EXECUTE FUNCTION gridgov_worker_award_fits()")
    op.execute("CREATE TRIGGER points_accounts_kept BEFORE DELETE ON points_accounts FOR EACH ROW "
               "EXECUTE FUNCTION gridgov_points_account_kept()")

    for table, (record_table, id_column, grid, options) in AUDITED.items():
        arguments = ", ".join(_quoted(value) for value in (record_table, id_column, grid, json.dumps(options)))
        op.execute(f"CREATE TRIGGER {table}_audit AFTER INSERT OR UPDATE OR DELETE ON {table} "
                   f"FOR EACH ROW EXECUTE FUNCTION gridgov_audit({arguments})")


def downgrade():
    for table in AUDITED:
        op.execute(f"DROP TRIGGER {table}_audit ON {table}")
    op.execute("DROP TRIGGER points_accounts_kept ON points_accounts")
    op.execute("DROP TRIGGER points_entries_worker_award_fits ON points_entries")
    op.execute("DROP FUNCTION gridgov_points_account_kept()")
    op.execute("DROP FUNCTION gridgov_worker_award_fits()")
    # (the ledger is append-only: a worker's award left in it refuses the older CHECK, and the downgrade)
    op.drop_constraint('points_entries_earn_has_reference', 'points_entries', type_='check')
    op.create_check_constraint('points_entries_earn_has_reference', 'points_entries',
                               "kind <> 'earn' OR service_record_id IS NOT NULL OR incident_ref IS NOT NULL"
                               " OR micro_wish_id IS NOT NULL")
    op.drop_constraint('points_entries_award_month_of_rule', 'points_entries', type_='check')
    op.drop_constraint('points_entries_worker_award', 'points_entries', type_='check')
    op.drop_index('points_entries_one_award_per_visit', table_name='points_entries',
                  postgresql_where=sa.text('visit_id IS NOT NULL'))
    op.drop_index('points_entries_one_patrol_award_per_month', table_name='points_entries',
                  postgresql_where=sa.text('worker_rule_id IS NOT NULL AND visit_id IS NULL'))
    op.drop_index('points_entries_worker_rule_id_idx', table_name='points_entries',
                  postgresql_where=sa.text('worker_rule_id IS NOT NULL'))
    op.drop_constraint('points_entries_visit_id_fkey', 'points_entries', type_='foreignkey')
    op.drop_constraint('points_entries_worker_rule_id_fkey', 'points_entries', type_='foreignkey')
    op.drop_column('points_entries', 'visit_id')
    op.drop_column('points_entries', 'award_month')
    op.drop_column('points_entries', 'worker_rule_id')
    op.drop_table('worker_points_months')
    op.execute("DROP TRIGGER worker_points_rules_community_is_community ON worker_points_rules")
    op.drop_index('worker_points_rules_one_active', table_name='worker_points_rules', postgresql_where=sa.text('active'))
    op.drop_index('worker_points_rules_community_id_idx', table_name='worker_points_rules',
                  postgresql_where=sa.text('community_id IS NOT NULL'))
    op.drop_table('worker_points_rules')
