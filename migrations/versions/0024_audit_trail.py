"""The audit trail (审计日志) of every change to the base records, and the log of who was shown whose personal data.

``audit_entries`` gets one row per inserted, updated or deleted row of the audited tables, written
by one trigger function (``gridgov_audit``) in the same transaction as the change: a refused change
leaves none, and no path (form, service, import, psql) makes a change without one. The acting user
is the transaction's ``gridgov.actor_id`` setting (the app sets it before its first write: app/fab/
actor.py); none means the system (a CLI, a migration). Each trigger's arguments say whose history
the row belongs to (a department's pairing is the department's), how to find its grid (the entry
keeps it with every grid above it at the time, before and after the change: a secretary's,
street's or district's scope finds its entries through one GIN-indexed array, as incidents do,
migration 0006), and which columns hold personal data (masked here exactly as
``services/personal_data.py`` masks them), secrets ("changed", never a value) or derived values
(left out). A bulk loader that sets ``gridgov.audit = 'summary'`` in its transaction writes one
summary row per table itself instead of one per row (seed/generate.py).

``personal_data_access`` gets one row per person whose unmasked phone, ID number or address a user
was shown. Both are append-only, like the points ledger (``gridgov_append_only``, migration 0002).

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-03
"""
import json

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql


revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None

MASKS = r"""
CREATE FUNCTION gridgov_mask_mobile(value text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN coalesce(value, '') = '' THEN ''
                WHEN length(value) <> 11 THEN repeat('*', length(value))
                ELSE left(value, 3) || '****' || right(value, 4) END
$$;
CREATE FUNCTION gridgov_mask_resident_id(value text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN coalesce(value, '') = '' THEN ''
                WHEN length(value) <> 18 THEN repeat('*', length(value))
                ELSE left(value, 6) || '********' || right(value, 4) END
$$;
CREATE FUNCTION gridgov_mask_address(value text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN coalesce(value, '') = '' THEN ''
                ELSE left(value, least(6, greatest(length(value) / 2, 1)))
                     || repeat('*', least(length(value) - least(6, greatest(length(value) / 2, 1)), 8)) END
$$;
CREATE FUNCTION gridgov_audit_value(value jsonb, field text, options jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN value IS NULL OR jsonb_typeof(value) <> 'string' THEN value
                WHEN options->'mobile' ? field THEN to_jsonb(gridgov_mask_mobile(value #>> '{}'))
                WHEN options->'resident_id' ? field THEN to_jsonb(gridgov_mask_resident_id(value #>> '{}'))
                WHEN options->'address' ? field THEN to_jsonb(gridgov_mask_address(value #>> '{}'))
                ELSE value END
$$;
"""

# TG_ARGV: [0] the table whose history the row belongs to, [1] the column holding that record's id,
# [2] where the row's grid is: '' (none), a column of the row, or 'table.column:foreign_key' read
# through the row's foreign key (the entry keeps that grid and all above it, before and after),
# [3] JSON options: mobile / resident_id / address (masked), hidden (only "changed"), ignored
# (derived columns, left out).
AUDIT = r"""
CREATE FUNCTION gridgov_audit() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    old_row jsonb;
    new_row jsonb;
    grid_source text := TG_ARGV[2];
    options jsonb;
    row_grids int[] := '{}';
    lookup text[];
BEGIN
    IF current_setting('gridgov.audit', true) = 'summary' THEN
        RETURN NULL;  -- a bulk load: its loader writes one summary row per table
    END IF;
    old_row := CASE WHEN TG_OP <> 'INSERT' THEN to_jsonb(OLD) END;
    new_row := CASE WHEN TG_OP <> 'DELETE' THEN to_jsonb(NEW) END;
    options := TG_ARGV[3]::jsonb;
    IF grid_source LIKE '%:%' THEN
        lookup := regexp_split_to_array(grid_source, '[.:]');
        EXECUTE format('SELECT array_agg(%I) FROM %I WHERE id = ANY($1)', lookup[2], lookup[1])
            INTO row_grids
            USING ARRAY[(old_row->>lookup[3])::int, (new_row->>lookup[3])::int];
    ELSIF grid_source <> '' THEN
        row_grids := ARRAY[(old_row->>grid_source)::int, (new_row->>grid_source)::int];
    END IF;
    -- One statement: the changed fields (none: only derived or bookkeeping columns changed, no
    -- entry), and the row's grids with every grid above them, the labels of their paths (a grid's
    -- path is its ancestors' ids and its own, migration 0001; a grid's own row carries it).
    INSERT INTO audit_entries (actor_id, table_name, record_table, record_id, action, changes, grid_ids)
    SELECT nullif(current_setting('gridgov.actor_id', true), '')::int, TG_TABLE_NAME,
           coalesce(nullif(TG_ARGV[0], ''), TG_TABLE_NAME), (coalesce(new_row, old_row)->>TG_ARGV[1])::bigint,
           lower(TG_OP), changed.fields,
           (SELECT coalesce(array_agg(DISTINCT label::int), '{}')
            FROM (SELECT path FROM grids WHERE id = ANY(row_grids) AND TG_TABLE_NAME <> 'grids'
                  UNION ALL SELECT (old_row->>'path')::ltree WHERE TG_TABLE_NAME = 'grids'
                  UNION ALL SELECT (new_row->>'path')::ltree WHERE TG_TABLE_NAME = 'grids') AS row_grid (path),
                 unnest(string_to_array(row_grid.path::text, '.')) AS label
            WHERE row_grid.path IS NOT NULL)
    FROM (SELECT coalesce(jsonb_object_agg(field, CASE
                     WHEN options->'hidden' ? field THEN to_jsonb('changed'::text)
                     ELSE jsonb_build_array(gridgov_audit_value(old_row->field, field, options),
                                            gridgov_audit_value(new_row->field, field, options)) END), '{}')
          FROM jsonb_object_keys(coalesce(new_row, old_row)) AS field
          WHERE NOT coalesce(options->'ignored' ? field, false)
            AND (old_row->field) IS DISTINCT FROM (new_row->field)
            AND NOT (coalesce(old_row->field, 'null') = 'null' AND coalesce(new_row->field, 'null') = 'null'))
         AS changed (fields)
    WHERE TG_OP <> 'UPDATE' OR changed.fields <> '{}';
    RETURN NULL;
END
$$;
"""

PERSON = {"mobile": ["phone"], "resident_id": ["id_number"]}
# table: (whose history, its id column, the row's grid, options)
AUDITED = {
    "grids": ("", "id", "id", {"ignored": ["path"], "hidden": ["boundary"]}),
    "workers": ("", "id", "grid_id", PERSON),
    "volunteers": ("", "id", "community_id", {**PERSON, "address": ["address"]}),
    "service_records": ("", "id", "volunteers.community_id:volunteer_id", {}),
    "departments": ("", "id", "", {"mobile": ["contact_phone"]}),
    "department_communities": ("departments", "department_id", "grid_id", {}),
    "ab_user": ("", "id", "grid_id", {
        "hidden": ["password"],
        "ignored": ["last_login", "login_count", "fail_login_count", "changed_on", "changed_by_fk",
                    "session_version"]}),
    "ab_user_role": ("ab_user", "user_id", "ab_user.grid_id:user_id", {}),
    "ab_role": ("", "id", "", {}),
    "ab_permission_view_role": ("ab_role", "role_id", "", {}),
    "points_rules": ("", "id", "community_id", {}),
    "reward_items": ("", "id", "community_id", {"ignored": ["stock"]}),  # stock: its own movements
    "incident_categories": ("", "id", "", {}),
    "incident_deadlines": ("", "id", "", {}),
}

APPEND_ONLY = ("audit_entries", "personal_data_access")


def _quoted(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def upgrade():
    op.create_table(
        'audit_entries',
        sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.Column('actor_id', sa.Integer(), nullable=True),
        sa.Column('table_name', sa.String(length=64), nullable=False),
        sa.Column('record_table', sa.String(length=64), nullable=False),
        sa.Column('record_id', sa.BigInteger(), nullable=True),
        sa.Column('action', sa.String(length=8), nullable=False),
        sa.Column('changes', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'"), nullable=False),
        sa.Column('grid_ids', postgresql.ARRAY(sa.Integer()), server_default=sa.text("'{}'"), nullable=False),
        sa.CheckConstraint("action IN ('insert', 'update', 'delete', 'load')", name='audit_entries_action_valid'),
        sa.PrimaryKeyConstraint('id', name='audit_entries_pkey'),
    )
    # the list's filters, each with its newest-first order
    op.create_index('audit_entries_record_idx', 'audit_entries', ['record_table', 'record_id', 'id'])
    op.create_index('audit_entries_actor_idx', 'audit_entries', ['actor_id', 'id'])
    op.create_index('audit_entries_table_idx', 'audit_entries', ['table_name', 'id'])
    op.create_index('audit_entries_at_idx', 'audit_entries', ['at'])
    op.create_index('audit_entries_grid_ids_idx', 'audit_entries', ['grid_ids'], postgresql_using='gin')

    op.create_table(
        'personal_data_access',
        sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.Column('viewer_id', sa.Integer(), nullable=False),
        sa.Column('subject_table', sa.String(length=64), nullable=False),
        sa.Column('subject_id', sa.BigInteger(), nullable=False),
        sa.Column('fields', postgresql.ARRAY(sa.String(length=64)), nullable=False),
        sa.Column('place', sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint('id', name='personal_data_access_pkey'),
    )
    op.create_index('personal_data_access_subject_idx', 'personal_data_access', ['subject_table', 'subject_id', 'id'])
    op.create_index('personal_data_access_viewer_idx', 'personal_data_access', ['viewer_id', 'id'])
    op.create_index('personal_data_access_at_idx', 'personal_data_access', ['at'])

    op.execute(MASKS)
    op.execute(AUDIT)
    for table, (record_table, id_column, grid, options) in AUDITED.items():
        arguments = ", ".join(_quoted(value) for value in (record_table, id_column, grid, json.dumps(options)))
        op.execute(f"CREATE TRIGGER {table}_audit AFTER INSERT OR UPDATE OR DELETE ON {table} "
                   f"FOR EACH ROW EXECUTE FUNCTION gridgov_audit({arguments})")
    for table in APPEND_ONLY:
        op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                   f"FOR EACH ROW EXECUTE FUNCTION gridgov_append_only()")
        op.execute(f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                   f"FOR EACH STATEMENT EXECUTE FUNCTION gridgov_append_only()")


def downgrade():
    for table in AUDITED:
        op.execute(f"DROP TRIGGER {table}_audit ON {table}")
    op.execute("DROP FUNCTION gridgov_audit()")
    op.execute("DROP FUNCTION gridgov_audit_value(jsonb, text, jsonb)")
    for name in ("mobile", "resident_id", "address"):
        op.execute(f"DROP FUNCTION gridgov_mask_{name}(text)")
    op.drop_table('personal_data_access')
    op.drop_table('audit_entries')
