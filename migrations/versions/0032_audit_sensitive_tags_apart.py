"""A resident's sensitive tags apart in the audit trail: a change of only them is not shown to who may not see them.

The audit trail wrote any change of a resident's tags as "tags: changed" (migration 0025). A role
shown the care tags but not the sensitive ones (社区矫正, 刑满释放…: ``can_sensitive``), the district's
dispatch centre among them, could read in it that a sensitive tag changed when the care tags it sees
had not. ``gridgov_audit`` now writes such a list's change as two: ``tags`` when the tags everyone
may see changed, ``sensitive_tags`` when the sensitive ones did (trigger option ``sensitive_apart``);
the audit views show ``sensitive_tags`` only with ``can_sensitive``, and an entry that holds nothing
else not at all. Entries written before keep their single "tags: changed".

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-04
"""
import json

from alembic import op

revision = '0032'
down_revision = '0031'
branch_labels = None
depends_on = None

# The sorted tags of a list (a JSON array) that are (``sensitive``) or are not among ``secret``.
TAGS_PART = r"""
CREATE FUNCTION gridgov_tags_part(tags jsonb, secret text[], sensitive boolean) RETURNS text[]
LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce(array_agg(tag ORDER BY tag), '{}')
    FROM jsonb_array_elements_text(CASE WHEN jsonb_typeof(tags) = 'array' THEN tags ELSE '[]' END) AS tag
    WHERE (tag = ANY(secret)) = sensitive
$$;
"""

AUDIT = r"""
CREATE OR REPLACE FUNCTION gridgov_audit() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    old_row jsonb;
    new_row jsonb;
    grid_source text := TG_ARGV[2];
    options jsonb;
    row_grids int[] := '{}';
    lookup text[];
    changes jsonb;
    field text;
    secret text[];
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
    -- The changed fields (none: only derived or bookkeeping columns changed, no entry).
    SELECT coalesce(jsonb_object_agg(field_name, CASE
               WHEN options->'hidden' ? field_name THEN to_jsonb('changed'::text)
               ELSE jsonb_build_array(gridgov_audit_value(old_row->field_name, field_name, options),
                                      gridgov_audit_value(new_row->field_name, field_name, options)) END), '{}')
    INTO changes
    FROM jsonb_object_keys(coalesce(new_row, old_row)) AS field_name
    WHERE NOT coalesce(options->'ignored' ? field_name, false)
      AND (old_row->field_name) IS DISTINCT FROM (new_row->field_name)
      AND NOT (coalesce(old_row->field_name, 'null') = 'null' AND coalesce(new_row->field_name, 'null') = 'null');
    -- A list of tags whose sensitive ones (attention_tags.sensitive) only some may know of: its
    -- change is written as two, "tags" for the others and "sensitive_tags" for those, each only
    -- when that part changed, so that a reader not shown the sensitive tags is shown no change
    -- that only they made (migration 0032).
    FOR field IN SELECT jsonb_array_elements_text(coalesce(options->'sensitive_apart', '[]')) LOOP
        IF changes ? field THEN
            SELECT coalesce(array_agg(code), '{}') INTO secret FROM attention_tags WHERE sensitive;
            changes := changes - field;
            IF gridgov_tags_part(old_row->field, secret, false) IS DISTINCT FROM gridgov_tags_part(new_row->field, secret, false) THEN
                changes := changes || jsonb_build_object(field, 'changed');
            END IF;
            IF gridgov_tags_part(old_row->field, secret, true) IS DISTINCT FROM gridgov_tags_part(new_row->field, secret, true) THEN
                changes := changes || jsonb_build_object('sensitive_' || field, 'changed');
            END IF;
        END IF;
    END LOOP;
    IF TG_OP = 'UPDATE' AND changes = '{}' THEN
        RETURN NULL;
    END IF;
    -- The row's grids with every grid above them, the labels of their paths (a grid's path is its
    -- ancestors' ids and its own, migration 0001; a grid's own row carries it).
    INSERT INTO audit_entries (actor_id, table_name, record_table, record_id, action, changes, grid_ids)
    SELECT nullif(current_setting('gridgov.actor_id', true), '')::int, TG_TABLE_NAME,
           coalesce(nullif(TG_ARGV[0], ''), TG_TABLE_NAME), (coalesce(new_row, old_row)->>TG_ARGV[1])::bigint,
           lower(TG_OP), changes,
           (SELECT coalesce(array_agg(DISTINCT label::int), '{}')
            FROM (SELECT path FROM grids WHERE id = ANY(row_grids) AND TG_TABLE_NAME <> 'grids'
                  UNION ALL SELECT (old_row->>'path')::ltree WHERE TG_TABLE_NAME = 'grids'
                  UNION ALL SELECT (new_row->>'path')::ltree WHERE TG_TABLE_NAME = 'grids') AS row_grid (path),
                 unnest(string_to_array(row_grid.path::text, '.')) AS label
            WHERE row_grid.path IS NOT NULL);
    RETURN NULL;
END
$$;
"""

# migration 0024's function, as it was
AUDIT_BEFORE = r"""
CREATE OR REPLACE FUNCTION gridgov_audit() RETURNS trigger
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
RESIDENTS = {**PERSON, "hidden": ["tags"], "ignored": ["name_initials", "gender", "birth_date", "last_visited_at",
                                                    "next_visit_due", "care_visit_due"]}


def _quoted(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _residents_trigger(options: dict) -> None:
    arguments = ", ".join(_quoted(value) for value in ("", "id", "grid_id", json.dumps(options)))
    op.execute("DROP TRIGGER residents_audit ON residents")
    op.execute("CREATE TRIGGER residents_audit AFTER INSERT OR UPDATE OR DELETE ON residents "
               f"FOR EACH ROW EXECUTE FUNCTION gridgov_audit({arguments})")


def upgrade():
    op.execute(TAGS_PART)
    op.execute(AUDIT)
    _residents_trigger({**RESIDENTS, "sensitive_apart": ["tags"]})


def downgrade():
    _residents_trigger(RESIDENTS)
    op.execute(AUDIT_BEFORE)
    op.execute("DROP FUNCTION gridgov_tags_part(jsonb, text[], boolean)")
