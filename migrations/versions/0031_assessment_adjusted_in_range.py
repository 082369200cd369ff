"""An adjusted assessment score stays between 0 and 100: the sum of a score's adjustments is bounded, not each alone.

Migration 0029 bounds each adjustment (−100 to 100, not 0); their sum was free, so a score of
16.67 could be adjusted +99, +99 and then −100 with nothing shown changing (the page clamps the
adjusted score to 0–100). The service refuses such an adjustment with a message
(``assessment.adjust``, which locks the score first); this trigger keeps the rule whatever path
writes the table, and two adjustments at once take turns on the score's row, so the second counts
the first.

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
"""


def upgrade():
    op.execute(FUNCTION)
    op.execute("CREATE TRIGGER assessment_adjustments_in_range BEFORE INSERT ON assessment_adjustments "
               "FOR EACH ROW EXECUTE FUNCTION gridgov_assessment_adjusted_in_range()")


def downgrade():
    op.execute("DROP TRIGGER assessment_adjustments_in_range ON assessment_adjustments")
    op.execute("DROP FUNCTION gridgov_assessment_adjusted_in_range()")
