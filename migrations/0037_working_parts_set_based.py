"""The working_part triggers (migrations 0030, 0033, 0034) write all the parts a statement
changed in one set-based statement, not with function calls per table, field and value.

Marking every table of a 3,000-table design Active spent 12 ms a table in the triggers (a
30,000-table design stalled): per table, working_table_json was called twice (its lateral
subquery was pulled up into both the body and its digest), and within it canonical_scalar
about 300 times and the PL/pgSQL canonical_jsonb about 40 times, for the field_config of
each field (SQL functions calling to_json, which is stable, are never inlined into the
query). Now:

- The canonical JSON of scalars is written inline (to_json(v)::text, 'null' for NULL), as
  is the digest.
- A jsonb value is made canonical once per distinct text (field_config and cascade_config
  repeat across a design: a handful of PL/pgSQL calls for 30,000 tables). The text, not the
  jsonb value, is the key: jsonb finds 1 and 1.0 equal, and only the first is written here.
- A table's structure is taken from the part as it was when its value did not change (the
  part's text read back as jsonb gives the same text as the new value exactly when the two
  are equal, numbers' scales included).
- A change to the table's own row (its status, name, description or structure) keeps the
  part's fields as the part holds them: a data_table update cannot change its fields, and
  the part reflects every committed change to them, since each one rewrote it under the
  lock taken first here (then read with a new snapshot, as before). A table whose part is
  missing or unwritten (NULL) is built from its fields.
- A part whose text did not change is not written again.
- The triggers compare jsonb columns as text: as jsonb 1 and 1.0 are equal, so a change from
  one to the other left the part as it was (a float is left to Python, an integer is not).
- The statement sorts in memory up to 64 MB (a 3,000-table rewrite sorted 15 MB on disk).

The text is the same as before (tests/integration/test_working_parts.py compares it with the
Python code's); tests/integration/test_bulk_triggers.py holds the statements a trigger runs
to a number that does not grow with the tables changed.
"""

import importlib.util
import pathlib


def module(name):
    """An earlier migration's module (its statements as it wrote them)."""
    path = pathlib.Path(__file__).with_name(name)
    spec = importlib.util.spec_from_file_location(name.removesuffix(".py"), path)
    found = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(found)
    return found


def scalar(value):
    """canonical_scalar(value) (migration 0030) written in place."""
    return f"coalesce(to_json({value})::text, 'null')"


DIGEST = "encode(sha256(convert_to({}, 'UTF8')), 'hex')"

# The parts of some tables (ids of tables gone are skipped), locked first. With
# `fields_kept`, a table whose part is written takes its "fields" from it.
PUT_TABLES = f"""
CREATE FUNCTION working_tables_put(ids uuid[], fields_kept boolean) RETURNS void
LANGUAGE plpgsql SET work_mem = '64MB' AS $$ BEGIN
    IF cardinality(ids) = 0 THEN
        RETURN;
    END IF;
    PERFORM 1 FROM public.data_table t
        JOIN public.working_part w
          ON w.project_id = t.project_id AND w.kind = 'tables' AND w.entry_id = t.id::text
        WHERE t.id IN (SELECT unnest(ids))
        ORDER BY w.project_id, w.entry_id FOR UPDATE OF w;
    WITH chosen AS MATERIALIZED (
        SELECT t.id, t.project_id, t.name, t.table_name, t.description, t.status,
               nullif(t.schema_definition -> 'structure', '{{}}'::jsonb) AS structure,
               w.body AS was
        FROM public.data_table t
        LEFT JOIN public.working_part w
          ON w.project_id = t.project_id AND w.kind = 'tables' AND w.entry_id = t.id::text
        WHERE t.id IN (SELECT unnest(ids))),
    fields AS MATERIALIZED (
        SELECT f.table_id, f.id::text AS id, f.name, f.field_name, f.data_type,
               f.is_required, f.default_value, f.sort_order,
               coalesce(f.field_config::text, 'null') AS config
        FROM public.data_field f
        WHERE f.table_id IN (SELECT c.id FROM chosen c
                             WHERE NOT fields_kept OR c.was IS NULL)),
    configs AS MATERIALIZED (
        SELECT d.config, public.canonical_jsonb(d.config::jsonb) AS text
        FROM (SELECT DISTINCT config FROM fields) d),
    field_maps AS (
        SELECT f.table_id,
               CASE WHEN count(*) = count(c.text) THEN
                   '{{' || string_agg(to_json(f.id)::text || ':'
                       || '{{"data_type":' || {scalar("f.data_type")}
                       || ',"default_value":' || {scalar("f.default_value")}
                       || ',"field_config":' || c.text
                       || ',"field_name":' || {scalar("f.field_name")}
                       || ',"id":' || to_json(f.id)::text
                       || ',"is_required":' || {scalar("f.is_required")}
                       || ',"name":' || {scalar("f.name")}
                       || ',"sort_order":' || {scalar("f.sort_order")}
                       || '}}', ',' ORDER BY f.id COLLATE "C") || '}}' END AS text
        FROM fields f JOIN configs c ON c.config = f.config
        GROUP BY f.table_id),
    bodies AS MATERIALIZED (
        SELECT c.project_id, c.id, c.table_name,
               '{{"description":' || {scalar("c.description")}
               || ',"fields":' || CASE
                   WHEN fields_kept AND c.was IS NOT NULL THEN (c.was -> 'fields')::text
                   WHEN m.table_id IS NULL THEN '{{}}'
                   ELSE m.text END
               || ',"id":' || to_json(c.id::text)::text
               || ',"name":' || {scalar("c.name")}
               || ',"status":' || {scalar("c.status")}
               || CASE
                   WHEN c.structure IS NULL THEN ''
                   WHEN (c.was -> 'structure')::text::jsonb::text = c.structure::text
                       THEN ',"structure":' || (c.was -> 'structure')::text
                   ELSE ',"structure":' || public.canonical_jsonb(c.structure) END
               || ',"table_name":' || {scalar("c.table_name")}
               || '}}' AS body
        FROM chosen c LEFT JOIN field_maps m ON m.table_id = c.id)
    INSERT INTO public.working_part AS w (project_id, kind, entry_id, bucket, label, body, hash)
        SELECT b.project_id, 'tables', b.id::text, left(b.id::text, 2), b.table_name,
               b.body::json, {DIGEST.format("b.body")}
        FROM bodies b
        ON CONFLICT (project_id, kind, entry_id) DO UPDATE
        SET label = excluded.label, body = excluded.body, hash = excluded.hash
        WHERE (w.label, w.hash, w.body IS NULL)
              IS DISTINCT FROM (excluded.label, excluded.hash, excluded.body IS NULL);
END $$"""

WRITE_TABLES = """
CREATE OR REPLACE FUNCTION working_tables_write(ids uuid[]) RETURNS void
LANGUAGE plpgsql AS $$ BEGIN
    PERFORM public.working_tables_put(ids, false);
END $$"""

WRITE_RELATIONSHIPS = f"""
CREATE OR REPLACE FUNCTION working_relationships_write(ids uuid[]) RETURNS void
LANGUAGE plpgsql SET work_mem = '64MB' AS $$ BEGIN
    IF cardinality(ids) = 0 THEN
        RETURN;
    END IF;
    PERFORM 1 FROM public.table_relationship r
        JOIN public.working_part w
          ON w.project_id = r.project_id AND w.kind = 'relationships'
          AND w.entry_id = r.id::text
        WHERE r.id IN (SELECT unnest(ids))
        ORDER BY w.project_id, w.entry_id FOR UPDATE OF w;
    WITH chosen AS MATERIALIZED (
        SELECT r.*, coalesce(r.cascade_config::text, 'null') AS cascade,
               coalesce(r.field_pairs::text, 'null') AS pairs
        FROM public.table_relationship r WHERE r.id IN (SELECT unnest(ids))),
    texts AS MATERIALIZED (
        SELECT d.v, public.canonical_jsonb(d.v::jsonb) AS text
        FROM (SELECT cascade FROM chosen UNION SELECT pairs FROM chosen) d (v)),
    bodies AS MATERIALIZED (
        SELECT r.project_id, r.id, r.relationship_name,
               '{{"cascade_config":' || c.text
               || ',"id":' || to_json(r.id::text)::text
               || CASE WHEN r.field_pairs = '[]'::jsonb THEN ''
                  ELSE ',"pairs":' || p.text END
               || ',"relationship_name":' || {scalar("r.relationship_name")}
               || ',"relationship_type":' || {scalar("r.relationship_type")}
               || ',"source_field_id":' || {scalar("r.source_field_id::text")}
               || ',"source_table_id":' || {scalar("r.source_table_id::text")}
               || ',"status":' || {scalar("r.status")}
               || ',"target_field_id":' || {scalar("r.target_field_id::text")}
               || ',"target_table_id":' || {scalar("r.target_table_id::text")}
               || '}}' AS body
        FROM chosen r
        JOIN texts c ON c.v = r.cascade
        JOIN texts p ON p.v = r.pairs)
    INSERT INTO public.working_part AS w (project_id, kind, entry_id, bucket, label, body, hash)
        SELECT b.project_id, 'relationships', b.id::text, left(b.id::text, 2),
               b.relationship_name, b.body::json, {DIGEST.format("b.body")}
        FROM bodies b
        ON CONFLICT (project_id, kind, entry_id) DO UPDATE
        SET label = excluded.label, body = excluded.body, hash = excluded.hash
        WHERE (w.label, w.hash, w.body IS NULL)
              IS DISTINCT FROM (excluded.label, excluded.hash, excluded.body IS NULL);
END $$"""

# Migration 0030's triggers, but: an update of data_table keeps the parts' fields, and
# jsonb values are compared as text (as jsonb, 1 and 1.0 are equal, and a change from one to
# the other left the part as it was).
ON_TABLES = """
CREATE OR REPLACE FUNCTION working_part_of_tables() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        DELETE FROM public.working_part w USING removed o
            WHERE w.project_id = o.project_id AND w.kind = 'tables' AND w.entry_id = o.id::text;
    ELSIF TG_OP = 'INSERT' THEN
        PERFORM public.working_tables_write(ARRAY(SELECT id FROM added));
    ELSE
        -- (A table moved to another project leaves its old project's part behind.)
        DELETE FROM public.working_part w USING removed o JOIN added n ON n.id = o.id
            WHERE n.project_id <> o.project_id AND w.project_id = o.project_id
            AND w.kind = 'tables' AND w.entry_id = o.id::text;
        PERFORM public.working_tables_put(ARRAY(
            SELECT n.id FROM added n JOIN removed o ON o.id = n.id
            WHERE (n.project_id, n.name, n.table_name, n.description, n.status,
                   (n.schema_definition -> 'structure')::text)
                  IS DISTINCT FROM (o.project_id, o.name, o.table_name, o.description, o.status,
                                    (o.schema_definition -> 'structure')::text)), true);
    END IF;
    RETURN NULL;
END $$"""

ON_FIELDS = """
CREATE OR REPLACE FUNCTION working_part_of_fields() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM public.working_tables_write(ARRAY(SELECT DISTINCT table_id FROM added));
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM public.working_tables_write(ARRAY(SELECT DISTINCT table_id FROM removed));
    ELSE
        PERFORM public.working_tables_write(ARRAY(
            SELECT DISTINCT unnest(ARRAY[n.table_id, o.table_id])
            FROM added n JOIN removed o ON o.id = n.id
            WHERE (n.table_id, n.name, n.field_name, n.data_type, n.is_required,
                   n.default_value, n.field_config::text, n.sort_order)
                  IS DISTINCT FROM (o.table_id, o.name, o.field_name, o.data_type,
                                    o.is_required, o.default_value, o.field_config::text,
                                    o.sort_order)));
    END IF;
    RETURN NULL;
END $$"""

ON_RELATIONSHIPS = """
CREATE OR REPLACE FUNCTION working_part_of_relationships() RETURNS trigger
LANGUAGE plpgsql AS $$ BEGIN
    IF TG_OP = 'DELETE' THEN
        DELETE FROM public.working_part w USING removed o
            WHERE w.project_id = o.project_id AND w.kind = 'relationships'
            AND w.entry_id = o.id::text;
    ELSIF TG_OP = 'INSERT' THEN
        PERFORM public.working_relationships_write(ARRAY(SELECT id FROM added));
    ELSE
        DELETE FROM public.working_part w USING removed o JOIN added n ON n.id = o.id
            WHERE n.project_id <> o.project_id AND w.project_id = o.project_id
            AND w.kind = 'relationships' AND w.entry_id = o.id::text;
        PERFORM public.working_relationships_write(ARRAY(
            SELECT n.id FROM added n JOIN removed o ON o.id = n.id
            WHERE (n.project_id, n.relationship_name, n.relationship_type, n.source_table_id,
                   n.source_field_id, n.target_table_id, n.target_field_id,
                   n.cascade_config::text, n.status, n.field_pairs::text)
                  IS DISTINCT FROM (o.project_id, o.relationship_name, o.relationship_type,
                                    o.source_table_id, o.source_field_id, o.target_table_id,
                                    o.target_field_id, o.cascade_config::text, o.status,
                                    o.field_pairs::text)));
    END IF;
    RETURN NULL;
END $$"""


def up(migrator, db):
    db.execute_sql(PUT_TABLES)
    db.execute_sql(WRITE_TABLES)
    db.execute_sql(WRITE_RELATIONSHIPS)
    for statement in (ON_TABLES, ON_FIELDS, ON_RELATIONSHIPS):
        db.execute_sql(statement)


def down(migrator, db):
    first, last = module("0030_working_parts.py"), module("0034_working_parts_in_bulk.py")
    for statement in (first.ON_TABLES, first.ON_FIELDS, first.ON_RELATIONSHIPS):
        db.execute_sql(statement.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1))
    db.execute_sql(last.joined(last.previous().WRITE_TABLES, "t"))
    db.execute_sql(last.joined(last.previous().WRITE_RELATIONSHIPS, "r"))
    db.execute_sql("DROP FUNCTION working_tables_put(uuid[], boolean)")
