"""考核: each district's assessment weights, the monthly scores frozen at month end, and the adjustments made to them since.

What must always hold is kept here, whatever path writes the rows:

- a weights row belongs to a district (``gridgov_assessment_weights_district``); the row without a
  district is the default and is kept (not deleted, not given a district); every weight is 0–100
  and each subject kind has at least one weight above 0, so a score is always a weighted mean;
- a score is of a month (its first day), of a worker, community, street or department, once
  (``assessment_scores_month_kind_subject_key``), between 0 and 100 (or none: nothing to measure);
  a stored score is frozen: it is never updated or deleted (``gridgov_append_only``, migration 0002);
- an adjustment (a later correction) is a new row with a reason and a non-zero delta, never
  changed or removed either: the score shown is the frozen score plus its adjustments.

Weights and adjustments are audited (migration 0024); scores are audited without the figures and
weights they keep (a month's freeze writes thousands of rows, the figures are derived).

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-04
"""
import json

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0029'
down_revision = '0028'
branch_labels = None
depends_on = None

FUNCTIONS = r"""
CREATE FUNCTION gridgov_assessment_weights_district() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' AND OLD.district_id IS NULL AND (TG_OP = 'DELETE' OR NEW.district_id IS NOT NULL) THEN
        RAISE EXCEPTION 'the default assessment weights are kept'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'assessment_weights_default_kept';
    END IF;
    IF TG_OP <> 'DELETE' AND NEW.district_id IS NOT NULL
            AND (SELECT level FROM grids WHERE id = NEW.district_id) <> 'district' THEN
        RAISE EXCEPTION 'assessment weights belong to a district'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'assessment_weights_district_is_district';
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END
$$;
"""

WORKER_WEIGHTS = ("patrol", "reported", "on_time", "satisfaction", "visits", "training", "clock_in")
AREA_WEIGHTS = ("area_completion", "area_on_time", "area_satisfaction")
DEPARTMENT_WEIGHTS = ("report_in", "result", "rating")
DEFAULTS = {"patrol": 25, "reported": 15, "on_time": 15, "satisfaction": 15, "visits": 10, "training": 10,
            "clock_in": 10, "area_completion": 40, "area_on_time": 30, "area_satisfaction": 30,
            "report_in": 40, "result": 30, "rating": 30}

# table: (whose history, its id column, the row's grid, options), as in migration 0024
AUDITED = {
    "assessment_weights": ("", "id", "district_id", {}),
    "assessment_scores": ("", "id", "grid_id", {"ignored": ["figures", "weights"]}),
    "assessment_adjustments": ("assessment_scores", "score_id", "", {}),
}


def _quoted(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _positive_sum(names) -> str:
    return " + ".join(names) + " > 0"


def upgrade():
    op.create_table('assessment_weights',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('district_id', sa.Integer(), nullable=True),
    *[sa.Column(name, sa.SmallInteger(), nullable=False) for name in WORKER_WEIGHTS + AREA_WEIGHTS + DEPARTMENT_WEIGHTS],
    sa.Column('reports_target', sa.SmallInteger(), nullable=False),
    *[sa.CheckConstraint(f'{name} BETWEEN 0 AND 100', name=f'assessment_weights_{name}_range')
      for name in WORKER_WEIGHTS + AREA_WEIGHTS + DEPARTMENT_WEIGHTS],
    sa.CheckConstraint('reports_target BETWEEN 1 AND 500', name='assessment_weights_reports_target_range'),
    sa.CheckConstraint(_positive_sum(WORKER_WEIGHTS), name='assessment_weights_worker_some'),
    sa.CheckConstraint(_positive_sum(AREA_WEIGHTS), name='assessment_weights_area_some'),
    sa.CheckConstraint(_positive_sum(DEPARTMENT_WEIGHTS), name='assessment_weights_department_some'),
    sa.ForeignKeyConstraint(['district_id'], ['grids.id'], name='assessment_weights_district_id_fkey',
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('assessment_weights_district_id_key', 'assessment_weights', ['district_id'], unique=True,
                    postgresql_nulls_not_distinct=True)
    op.bulk_insert(sa.table('assessment_weights', sa.column('district_id', sa.Integer),
                            *[sa.column(name, sa.SmallInteger) for name in [*DEFAULTS, 'reports_target']]),
                   [{"district_id": None, **DEFAULTS, "reports_target": 10}])
    op.create_table('assessment_scores',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('grid_id', sa.Integer(), nullable=True),
    sa.Column('score', sa.Numeric(precision=5, scale=2), nullable=True),
    sa.Column('figures', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('weights', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('frozen_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("extract(day FROM month) = 1", name='assessment_scores_month_first_day'),
    sa.CheckConstraint("kind IN ('worker', 'community', 'street', 'department')", name='assessment_scores_kind_valid'),
    sa.CheckConstraint('score IS NULL OR score BETWEEN 0 AND 100', name='assessment_scores_score_range'),
    sa.CheckConstraint("(kind = 'department') = (grid_id IS NULL)", name='assessment_scores_grid_unless_department'),
    sa.ForeignKeyConstraint(['grid_id'], ['grids.id'], name='assessment_scores_grid_id_fkey', ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('month', 'kind', 'subject_id', name='assessment_scores_month_kind_subject_key')
    )
    op.create_index('assessment_scores_grid_id_idx', 'assessment_scores', ['grid_id', 'month'], unique=False,
                    postgresql_where=sa.text('grid_id IS NOT NULL'))
    op.create_index('assessment_scores_subject_idx', 'assessment_scores', ['kind', 'subject_id', 'month'], unique=False)
    op.create_table('assessment_adjustments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('score_id', sa.Integer(), nullable=False),
    sa.Column('delta', sa.Numeric(precision=5, scale=2), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_name', sa.String(length=130), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('delta <> 0 AND delta BETWEEN -100 AND 100', name='assessment_adjustments_delta_range'),
    sa.CheckConstraint('length(btrim(reason)) > 0', name='assessment_adjustments_reason_not_blank'),
    sa.ForeignKeyConstraint(['actor_id'], ['ab_user.id'], name='assessment_adjustments_actor_id_fkey',
                            ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['score_id'], ['assessment_scores.id'], name='assessment_adjustments_score_id_fkey',
                            ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('assessment_adjustments_score_id_idx', 'assessment_adjustments', ['score_id', 'id'], unique=False)
    op.create_index('assessment_adjustments_actor_id_idx', 'assessment_adjustments', ['actor_id'], unique=False,
                    postgresql_where=sa.text('actor_id IS NOT NULL'))
    op.execute(FUNCTIONS)
    op.execute("CREATE TRIGGER assessment_weights_district BEFORE INSERT OR UPDATE OF district_id OR DELETE "
               "ON assessment_weights FOR EACH ROW EXECUTE FUNCTION gridgov_assessment_weights_district()")
    for table in ("assessment_scores", "assessment_adjustments"):
        op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                   f"FOR EACH ROW EXECUTE FUNCTION gridgov_append_only()")
        op.execute(f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                   f"FOR EACH STATEMENT EXECUTE FUNCTION gridgov_append_only()")
    for table, (record_table, id_column, grid, options) in AUDITED.items():
        arguments = ", ".join(_quoted(value) for value in (record_table, id_column, grid, json.dumps(options)))
        op.execute(f"CREATE TRIGGER {table}_audit AFTER INSERT OR UPDATE OR DELETE ON {table} "
                   f"FOR EACH ROW EXECUTE FUNCTION gridgov_audit({arguments})")


def downgrade():
    for table in AUDITED:
        op.execute(f"DROP TRIGGER {table}_audit ON {table}")
    for table in ("assessment_adjustments", "assessment_scores"):
        op.execute(f"DROP TRIGGER {table}_no_truncate ON {table}")
        op.execute(f"DROP TRIGGER {table}_append_only ON {table}")
    op.execute("DROP TRIGGER assessment_weights_district ON assessment_weights")
    op.execute("DROP FUNCTION gridgov_assessment_weights_district()")
    op.drop_index('assessment_adjustments_actor_id_idx', table_name='assessment_adjustments',
                  postgresql_where=sa.text('actor_id IS NOT NULL'))
    op.drop_index('assessment_adjustments_score_id_idx', table_name='assessment_adjustments')
    op.drop_table('assessment_adjustments')
    op.drop_index('assessment_scores_subject_idx', table_name='assessment_scores')
    op.drop_index('assessment_scores_grid_id_idx', table_name='assessment_scores',
                  postgresql_where=sa.text('grid_id IS NOT NULL'))
    op.drop_table('assessment_scores')
    op.drop_index('assessment_weights_district_id_key', table_name='assessment_weights',
                  postgresql_nulls_not_distinct=True)
    op.drop_table('assessment_weights')
