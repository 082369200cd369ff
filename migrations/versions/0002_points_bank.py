"""Points bank: accounts, append-only ledger and stock movements, reward catalog, redemptions.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22

The triggers below are the guarantees of app/models/points.py: an account for every volunteer
and worker; balances and stock changed only by inserting a ledger entry or a stock movement
(one conditional UPDATE, under the row lock, against CHECK (… >= 0)); entries and movements
never updated, deleted or truncated; a closed redemption never reopened.
"""
from alembic import op
import sqlalchemy as sa

TRIGGERS = r"""
CREATE FUNCTION points_open_account() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'volunteers' THEN
        INSERT INTO points_accounts (volunteer_id) VALUES (NEW.id);
    ELSE
        INSERT INTO points_accounts (worker_id) VALUES (NEW.id);
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER volunteers_open_account AFTER INSERT ON volunteers
    FOR EACH ROW EXECUTE FUNCTION points_open_account();
CREATE TRIGGER workers_open_account AFTER INSERT ON workers
    FOR EACH ROW EXECUTE FUNCTION points_open_account();
INSERT INTO points_accounts (volunteer_id) SELECT id FROM volunteers;
INSERT INTO points_accounts (worker_id) SELECT id FROM workers;

-- A counter column (balance, stock) starts at 0 and moves only from the trigger that applies
-- a ledger row: that trigger's UPDATE runs at trigger depth 2, a hand-written one at depth 1.
CREATE FUNCTION gridgov_guard_counter() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    column_name text := TG_ARGV[0];
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF (to_jsonb(NEW) ->> column_name)::bigint <> 0 THEN
            RAISE EXCEPTION '% starts at 0 and changes only through its ledger', column_name
                USING ERRCODE = 'check_violation', CONSTRAINT = TG_TABLE_NAME || '_' || column_name || '_by_ledger';
        END IF;
    ELSIF (to_jsonb(NEW) ->> column_name) IS DISTINCT FROM (to_jsonb(OLD) ->> column_name)
          AND pg_trigger_depth() < 2 THEN
        RAISE EXCEPTION '% changes only through its ledger', column_name
            USING ERRCODE = 'check_violation', CONSTRAINT = TG_TABLE_NAME || '_' || column_name || '_by_ledger';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER points_accounts_guard_balance BEFORE INSERT OR UPDATE ON points_accounts
    FOR EACH ROW EXECUTE FUNCTION gridgov_guard_counter('balance');
CREATE TRIGGER reward_items_guard_stock BEFORE INSERT OR UPDATE ON reward_items
    FOR EACH ROW EXECUTE FUNCTION gridgov_guard_counter('stock');

-- AFTER, not BEFORE: a row skipped by ON CONFLICT DO NOTHING must not move the balance.
CREATE FUNCTION points_entries_apply() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE points_accounts SET balance = balance + NEW.amount WHERE id = NEW.account_id;
    RETURN NULL;
END
$$;
CREATE TRIGGER points_entries_apply AFTER INSERT ON points_entries
    FOR EACH ROW EXECUTE FUNCTION points_entries_apply();

CREATE FUNCTION stock_movements_apply() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE reward_items SET stock = stock + NEW.change WHERE id = NEW.item_id;
    RETURN NULL;
END
$$;
CREATE TRIGGER stock_movements_apply AFTER INSERT ON stock_movements
    FOR EACH ROW EXECUTE FUNCTION stock_movements_apply();

CREATE FUNCTION gridgov_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: correct a mistake with a new compensating row', TG_TABLE_NAME
        USING ERRCODE = 'check_violation', CONSTRAINT = TG_TABLE_NAME || '_append_only';
END
$$;
CREATE TRIGGER points_entries_append_only BEFORE UPDATE OR DELETE ON points_entries
    FOR EACH ROW EXECUTE FUNCTION gridgov_append_only();
CREATE TRIGGER points_entries_no_truncate BEFORE TRUNCATE ON points_entries
    FOR EACH STATEMENT EXECUTE FUNCTION gridgov_append_only();
CREATE TRIGGER stock_movements_append_only BEFORE UPDATE OR DELETE ON stock_movements
    FOR EACH ROW EXECUTE FUNCTION gridgov_append_only();
CREATE TRIGGER stock_movements_no_truncate BEFORE TRUNCATE ON stock_movements
    FOR EACH STATEMENT EXECUTE FUNCTION gridgov_append_only();

CREATE FUNCTION redemptions_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.account_id <> OLD.account_id OR NEW.total_points <> OLD.total_points THEN
        RAISE EXCEPTION 'a redemption''s account and total never change'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'redemptions_immutable';
    END IF;
    IF OLD.status <> 'pending' AND NEW.status IS DISTINCT FROM OLD.status THEN
        RAISE EXCEPTION 'redemption % is already %', OLD.id, OLD.status
            USING ERRCODE = 'check_violation', CONSTRAINT = 'redemptions_closed';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER redemptions_guard BEFORE UPDATE ON redemptions
    FOR EACH ROW EXECUTE FUNCTION redemptions_guard();

CREATE TRIGGER reward_items_community_is_community BEFORE INSERT OR UPDATE OF community_id
    ON reward_items FOR EACH ROW EXECUTE FUNCTION gridgov_require_grid_level('community_id', 'community');
"""

DROP_HOLDER_TRIGGERS = """
DROP TRIGGER IF EXISTS volunteers_open_account ON volunteers;
DROP TRIGGER IF EXISTS workers_open_account ON workers;
"""

DROP_FUNCTIONS = """
DROP FUNCTION IF EXISTS points_open_account();
DROP FUNCTION IF EXISTS gridgov_guard_counter();
DROP FUNCTION IF EXISTS points_entries_apply();
DROP FUNCTION IF EXISTS stock_movements_apply();
DROP FUNCTION IF EXISTS gridgov_append_only();
DROP FUNCTION IF EXISTS redemptions_guard();
"""

SEED_RULES = """
INSERT INTO points_rules (name, unit, points, active, description) VALUES
    ('清洁家园', 'hour', 10, true, '环境卫生整治、楼道清理'),
    ('关爱空巢老人', 'hour', 12, true, '探访、陪伴、代购'),
    ('垃圾分类宣传', 'hour', 8, true, '入户宣传、桶前值守'),
    ('文明交通劝导', 'hour', 8, true, '路口劝导'),
    ('防汛隐患排查', 'hour', 15, true, '汛期巡查、沙袋转运'),
    ('政策宣讲', 'event', 20, true, '每场宣讲'),
    ('邻里纠纷调解', 'event', 30, true, '每起成功调解'),
    ('义务理发', 'hour', 10, true, '便民服务');
"""


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('points_rules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('unit', sa.String(length=8), nullable=False),
    sa.Column('points', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('description', sa.String(length=200), nullable=True),
    sa.CheckConstraint("unit IN ('hour', 'event')", name='points_rules_unit_valid'),
    sa.CheckConstraint('length(btrim(name)) > 0', name='points_rules_name_not_blank'),
    sa.CheckConstraint('points > 0 AND points <= 10000', name='points_rules_points_range'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    op.create_table('reward_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('description', sa.String(length=300), nullable=True),
    sa.Column('picture', sa.String(length=200), nullable=True),
    sa.Column('price', sa.Integer(), nullable=False),
    sa.Column('stock', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.CheckConstraint('length(btrim(name)) > 0', name='reward_items_name_not_blank'),
    sa.CheckConstraint('price > 0 AND price <= 1000000', name='reward_items_price_range'),
    sa.CheckConstraint('stock >= 0', name='reward_items_stock_nonnegative'),
    sa.ForeignKeyConstraint(['community_id'], ['grids.id'], name='reward_items_community_id_fkey', ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('reward_items_community_id_idx', 'reward_items', ['community_id'], unique=False)
    op.create_table('points_accounts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('volunteer_id', sa.Integer(), nullable=True),
    sa.Column('worker_id', sa.Integer(), nullable=True),
    sa.Column('balance', sa.BigInteger(), server_default=sa.text('0'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('balance >= 0', name='points_accounts_balance_nonnegative'),
    sa.CheckConstraint('num_nonnulls(volunteer_id, worker_id) = 1', name='points_accounts_one_holder'),
    sa.ForeignKeyConstraint(['volunteer_id'], ['volunteers.id'], name='points_accounts_volunteer_id_fkey', ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['worker_id'], ['workers.id'], name='points_accounts_worker_id_fkey', ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('volunteer_id'),
    sa.UniqueConstraint('worker_id')
    )
    op.create_table('redemptions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('total_points', sa.Integer(), nullable=False),
    sa.Column('note', sa.String(length=200), nullable=True),
    sa.Column('request_key', sa.String(length=64), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('handled_by_id', sa.Integer(), nullable=True),
    sa.Column('handled_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("(status = 'pending') = (handled_at IS NULL)", name='redemptions_handled_when_closed'),
    sa.CheckConstraint("status IN ('pending', 'handed_over', 'cancelled')", name='redemptions_status_valid'),
    sa.CheckConstraint('total_points > 0', name='redemptions_total_positive'),
    sa.ForeignKeyConstraint(['account_id'], ['points_accounts.id'], name='redemptions_account_id_fkey', ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['created_by_id'], ['ab_user.id'], name='redemptions_created_by_id_fkey', ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['handled_by_id'], ['ab_user.id'], name='redemptions_handled_by_id_fkey', ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('request_key')
    )
    op.create_index('redemptions_account_id_idx', 'redemptions', ['account_id', 'id'], unique=False)
    op.create_index('redemptions_status_idx', 'redemptions', ['status', 'id'], unique=False)
    op.create_table('points_entries',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('service_record_id', sa.Integer(), nullable=True),
    sa.Column('redemption_id', sa.Integer(), nullable=True),
    sa.Column('incident_ref', sa.String(length=40), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("(kind IN ('earn', 'refund') AND amount > 0) OR (kind IN ('redeem', 'expire') AND amount < 0) OR (kind = 'adjust' AND amount <> 0)", name='points_entries_amount_sign'),
    sa.CheckConstraint("kind <> 'earn' OR service_record_id IS NOT NULL OR incident_ref IS NOT NULL", name='points_entries_earn_has_reference'),
    sa.CheckConstraint("kind IN ('earn', 'redeem', 'refund', 'adjust', 'expire')", name='points_entries_kind_valid'),
    sa.CheckConstraint("kind NOT IN ('redeem', 'refund') OR redemption_id IS NOT NULL", name='points_entries_redemption_reference'),
    sa.CheckConstraint('length(btrim(reason)) > 0', name='points_entries_reason_not_blank'),
    sa.ForeignKeyConstraint(['account_id'], ['points_accounts.id'], name='points_entries_account_id_fkey', ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['created_by_id'], ['ab_user.id'], name='points_entries_created_by_id_fkey', ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['redemption_id'], ['redemptions.id'], name='points_entries_redemption_id_fkey', ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['service_record_id'], ['service_records.id'], name='points_entries_service_record_id_fkey', ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('points_entries_account_id_idx', 'points_entries', ['account_id', 'id'], unique=False)
    op.create_index('points_entries_kind_created_at_idx', 'points_entries', ['kind', 'created_at'], unique=False)
    op.create_index('points_entries_one_award_per_record', 'points_entries', ['service_record_id'], unique=True, postgresql_where=sa.text("kind = 'earn'"))
    op.create_index('points_entries_one_redeem_per_redemption', 'points_entries', ['redemption_id'], unique=True, postgresql_where=sa.text("kind = 'redeem'"))
    op.create_index('points_entries_one_refund_per_redemption', 'points_entries', ['redemption_id'], unique=True, postgresql_where=sa.text("kind = 'refund'"))
    op.create_table('redemption_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('redemption_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('unit_price', sa.Integer(), nullable=False),
    sa.CheckConstraint('quantity > 0 AND quantity <= 99', name='redemption_lines_quantity_range'),
    sa.CheckConstraint('unit_price > 0', name='redemption_lines_price_positive'),
    sa.ForeignKeyConstraint(['item_id'], ['reward_items.id'], name='redemption_lines_item_id_fkey', ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['redemption_id'], ['redemptions.id'], name='redemption_lines_redemption_id_fkey', ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('redemption_id', 'item_id', name='redemption_lines_one_per_item')
    )
    op.create_index('redemption_lines_item_id_idx', 'redemption_lines', ['item_id'], unique=False)
    op.create_table('stock_movements',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('change', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=True),
    sa.Column('redemption_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("(kind IN ('restock', 'cancel') AND change > 0) OR (kind = 'redeem' AND change < 0) OR (kind = 'adjust' AND change <> 0)", name='stock_movements_change_sign'),
    sa.CheckConstraint("kind IN ('restock', 'redeem', 'cancel', 'adjust')", name='stock_movements_kind_valid'),
    sa.CheckConstraint("kind NOT IN ('redeem', 'cancel') OR redemption_id IS NOT NULL", name='stock_movements_redemption_reference'),
    sa.ForeignKeyConstraint(['created_by_id'], ['ab_user.id'], name='stock_movements_created_by_id_fkey', ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['item_id'], ['reward_items.id'], name='stock_movements_item_id_fkey', ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['redemption_id'], ['redemptions.id'], name='stock_movements_redemption_id_fkey', ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('stock_movements_item_id_idx', 'stock_movements', ['item_id', 'id'], unique=False)
    op.create_index('stock_movements_one_per_redemption_item', 'stock_movements', ['redemption_id', 'item_id', 'kind'], unique=True, postgresql_where=sa.text('redemption_id IS NOT NULL'))
    op.add_column('service_records', sa.Column('rule_id', sa.Integer(), nullable=True))
    op.create_foreign_key('service_records_rule_id_fkey', 'service_records', 'points_rules', ['rule_id'], ['id'], ondelete='RESTRICT')
    op.execute(TRIGGERS)
    op.execute(SEED_RULES)


def downgrade():
    op.execute(DROP_HOLDER_TRIGGERS)
    op.drop_constraint('service_records_rule_id_fkey', 'service_records', type_='foreignkey')
    op.drop_column('service_records', 'rule_id')
    op.drop_index('stock_movements_one_per_redemption_item', table_name='stock_movements', postgresql_where=sa.text('redemption_id IS NOT NULL'))
    op.drop_index('stock_movements_item_id_idx', table_name='stock_movements')
    op.drop_table('stock_movements')
    op.drop_index('redemption_lines_item_id_idx', table_name='redemption_lines')
    op.drop_table('redemption_lines')
    op.drop_index('points_entries_one_refund_per_redemption', table_name='points_entries', postgresql_where=sa.text("kind = 'refund'"))
    op.drop_index('points_entries_one_redeem_per_redemption', table_name='points_entries', postgresql_where=sa.text("kind = 'redeem'"))
    op.drop_index('points_entries_one_award_per_record', table_name='points_entries', postgresql_where=sa.text("kind = 'earn'"))
    op.drop_index('points_entries_kind_created_at_idx', table_name='points_entries')
    op.drop_index('points_entries_account_id_idx', table_name='points_entries')
    op.drop_table('points_entries')
    op.drop_index('redemptions_status_idx', table_name='redemptions')
    op.drop_index('redemptions_account_id_idx', table_name='redemptions')
    op.drop_table('redemptions')
    op.drop_table('points_accounts')
    op.drop_index('reward_items_community_id_idx', table_name='reward_items')
    op.drop_table('reward_items')
    op.drop_table('points_rules')
    op.execute(DROP_FUNCTIONS)
