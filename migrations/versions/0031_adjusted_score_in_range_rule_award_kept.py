"""An adjusted assessment score stays between 0 and 100 (the sum of its adjustments bounded, not each alone); a workers' points rule that paid keeps what it rewards.

Migration 0029 bounds each adjustment (−100 to 100, not 0); their sum was free, so a score of
16.67 could be adjusted +99, +99 and then −100 with nothing shown changing (the page clamps the
adjusted score to 0–100). The service refuses such an adjustment with a message
(``assessment.adjust``, which locks the score first); this trigger keeps the rule whatever path
writes the table, and two adjustments at once take turns on the score's row, so the second counts
the first.

A workers' points rule (migration 0030) that paid points keeps its award: turned from 巡查达标奖励
into 走访积分, the months' patrol awards it paid read as visit awards on the ledger. Its points,
name and activity may change; what it rewards is a new rule. The service says so
(``worker_points.check_rule``).

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-04
"""
from alembic import op

revision = '0031'
down_revision = '0030'
branch_labels = None
depends_on = None

FUNCTION = r"""
CREATE FUNCTION gridgov_assessment_adjusted_in_range() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    frozen numeric;
    adjusted numeric;
BEGIN
    -- the score's row locked: adjustments of one score take turns (the score itself is not changed)
    SELECT score INTO frozen FROM assessment_scores WHERE id = NEW.score_id FOR UPDATE;
    IF NOT FOUND THEN
        RETURN NEW;  -- the foreign key says it
    END IF;
    SELECT frozen + coalesce(sum(delta), 0) + NEW.delta INTO adjusted
    FROM assessment_adjustments WHERE score_id = NEW.score_id;
    IF adjusted IS NULL OR adjusted NOT BETWEEN 0 AND 100 THEN
        RAISE EXCEPTION 'an adjusted score stays between 0 and 100'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'assessment_adjustments_score_in_range';
    END IF;
    RETURN NEW;
END
$$;

CREATE FUNCTION gridgov_worker_points_rule_award_kept() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM points_entries WHERE worker_rule_id = OLD.id) THEN
        RAISE EXCEPTION 'workers'' points rule % paid points: it keeps what it rewards', OLD.id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'worker_points_rules_award_kept';
    END IF;
    RETURN NEW;
END
$$;
"""


def upgrade():
    op.execute(FUNCTION)
    op.execute("CREATE TRIGGER assessment_adjustments_in_range BEFORE INSERT ON assessment_adjustments "
               "FOR EACH ROW EXECUTE FUNCTION gridgov_assessment_adjusted_in_range()")
    op.execute("CREATE TRIGGER worker_points_rules_award_kept BEFORE UPDATE OF award ON worker_points_rules "
               "FOR EACH ROW WHEN (OLD.award IS DISTINCT FROM NEW.award) "
               "EXECUTE FUNCTION gridgov_worker_points_rule_award_kept()")


def downgrade():
    op.execute("DROP TRIGGER worker_points_rules_award_kept ON worker_points_rules")
    op.execute("DROP FUNCTION gridgov_worker_points_rule_award_kept()")
    op.execute("DROP TRIGGER assessment_adjustments_in_range ON assessment_adjustments")
    op.execute("DROP FUNCTION gridgov_assessment_adjusted_in_range()")
