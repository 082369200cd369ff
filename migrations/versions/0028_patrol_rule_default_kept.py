"""The default patrol rule (the row without a district) is kept: it cannot be deleted or given a district.

Every district without a rule of its own is measured by the default (``services/patrols.rule_for``);
without it the patrol page, a worker's days and the week's compliance have no rule to read. The
service refuses both changes with a message (``check_rule``, ``check_rule_delete``); this trigger
keeps it whatever path writes the table.

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-04
"""
from alembic import op

revision = '0028'
down_revision = '0027'
branch_labels = None
depends_on = None

FUNCTION = r"""
CREATE FUNCTION gridgov_patrol_rule_default_kept() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.district_id IS NULL AND (TG_OP = 'DELETE' OR NEW.district_id IS NOT NULL) THEN
        RAISE EXCEPTION 'the default patrol rule is kept'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'patrol_rules_default_kept';
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END
$$;
"""


def upgrade():
    op.execute(FUNCTION)
    op.execute("CREATE TRIGGER patrol_rules_default_kept BEFORE DELETE OR UPDATE OF district_id ON patrol_rules "
               "FOR EACH ROW EXECUTE FUNCTION gridgov_patrol_rule_default_kept()")


def downgrade():
    op.execute("DROP TRIGGER patrol_rules_default_kept ON patrol_rules")
    op.execute("DROP FUNCTION gridgov_patrol_rule_default_kept()")
