"""The working copy's parts kept current by triggers: working_part (issue #27).

A save learned which tables changed by building the whole working copy (every table's JSON
built, parsed and encoded in Python): at 30,000 tables, a minute for a one-table change.
Now each table and each relationship of a project's design has a row here holding its part
as a version stores it (designer/history/parts.py): its canonical JSON (`body`), that
text's sha256 (`hash`) and its bucket. Triggers on data_table, data_field and
table_relationship rewrite the rows of what a statement changed, the way search_text is
kept (migration 0013), so a save reads bucket hashes, compares them with the previous
version's manifest and opens only what differs.

The canonical JSON is the one snapshot.canonical_json gives for the entry PARTS_JSON
builds (designer/history/snapshot.py): keys in code point order, no spaces, strings escaped
as Python's json escapes them (PostgreSQL's to_json escapes the same characters the same
way). A number other than an integer inside a jsonb value (field_config, structure,
cascade_config, field_pairs) would be written by Python as a float's repr, which SQL does
not reproduce: such a part is left NULL here and the save writes it in Python. Tests check
that these parts equal what the Python code computes from scratch after random edits.

Each trigger first locks the rows it rewrites and only then reads the design (a new
snapshot per statement), so of two transactions changing one table, the later writes its
part with the earlier's change in it. Rows belong to their project: members read them,
editors write them (rls_protect, migration 0009), FORCE included.
"""

TABLE = """
CREATE TABLE working_part (
    project_id uuid NOT NULL REFERENCES project (id) ON DELETE CASCADE,
    -- The snapshot's key the entry is in: 'tables' or 'relationships'.
    kind text NOT NULL CHECK (kind IN ('tables', 'relationships')),
    entry_id text NOT NULL,
    -- designer.history.parts.bucket_of(entry_id)
    bucket text NOT NULL,
    -- The table's table_name or the relationship's name (a part's label, migration 0026).
    label text,
    -- The entry's canonical JSON and its sha256; NULL when SQL does not write it (above).
    body json,
    hash varchar(64),
    PRIMARY KEY (project_id, kind, entry_id)
)"""

INDEXES = [
    "CREATE INDEX working_part_unwritten ON working_part (project_id) WHERE hash IS NULL",
]

# A jsonb value as snapshot.canonical_json writes what Python parsed from its text; NULL
# where it holds a number that is not an integer (Python parses it as a float).
CANONICAL = r"""
CREATE FUNCTION canonical_jsonb(j jsonb) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    kind text := jsonb_typeof(j);
    result text;
BEGIN
    IF kind = 'object' THEN
        IF j = '{}'::jsonb THEN
            RETURN '{}';
        END IF;
        SELECT CASE WHEN count(*) = count(c) THEN
                   '{' || string_agg(to_json(k)::text || ':' || c, ',' ORDER BY k COLLATE "C")
                   || '}' END
            INTO result
            FROM (SELECT e.key, public.canonical_jsonb(e.value) FROM jsonb_each(j) e) s (k, c);
        RETURN result;
    ELSIF kind = 'array' THEN
        IF j = '[]'::jsonb THEN
            RETURN '[]';
        END IF;
        SELECT CASE WHEN count(*) = count(c) THEN
                   '[' || string_agg(c, ',' ORDER BY n) || ']' END
            INTO result
            FROM (SELECT a.n, public.canonical_jsonb(a.v)
                  FROM jsonb_array_elements(j) WITH ORDINALITY a (v, n)) s (n, c);
        RETURN result;
    ELSIF kind = 'number' THEN
        RETURN CASE WHEN j::text ~ '^-?[0-9]+$' THEN j::text END;
    END IF;
    RETURN j::text;  -- a string (escaped as to_json escapes), true, false or null
END $$"""

# A scalar column's canonical JSON ('null' for NULL).
SCALAR = """
CREATE FUNCTION canonical_scalar(v anyelement) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT coalesce(to_json(v)::text, 'null') $$"""

# A jsonb column's: 'null' for NULL, NULL where canonical_jsonb has none.
JSONB = """
CREATE FUNCTION canonical_column(v jsonb) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN v IS NULL THEN 'null' ELSE public.canonical_jsonb(v) END $$"""

# snapshot.field_entry / PARTS_JSON's field object, keys sorted.
FIELD = """
CREATE FUNCTION working_field_json(f public.data_field) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT '{"data_type":' || public.canonical_scalar(f.data_type)
        || ',"default_value":' || public.canonical_scalar(f.default_value)
        || ',"field_config":' || public.canonical_column(f.field_config)
        || ',"field_name":' || public.canonical_scalar(f.field_name)
        || ',"id":' || public.canonical_scalar(f.id::text)
        || ',"is_required":' || public.canonical_scalar(f.is_required)
        || ',"name":' || public.canonical_scalar(f.name)
        || ',"sort_order":' || public.canonical_scalar(f.sort_order)
        || '}'
$$"""

# PARTS_JSON's table object: its fields by id, and "structure" only when it has one.
TABLE_JSON = """
CREATE FUNCTION working_table_json(t public.data_table) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT '{"description":' || public.canonical_scalar(t.description)
        || ',"fields":' || (
            SELECT CASE WHEN count(*) = count(c) THEN
                       '{' || coalesce(string_agg(to_json(i)::text || ':' || c, ','
                                                  ORDER BY i COLLATE "C"), '') || '}' END
            FROM (SELECT f.id::text, public.working_field_json(f)
                  FROM public.data_field f WHERE f.table_id = t.id) s (i, c))
        || ',"id":' || public.canonical_scalar(t.id::text)
        || ',"name":' || public.canonical_scalar(t.name)
        || ',"status":' || public.canonical_scalar(t.status)
        || CASE WHEN nullif(t.schema_definition -> 'structure', '{}'::jsonb) IS NULL THEN ''
           ELSE ',"structure":' || public.canonical_column(t.schema_definition -> 'structure')
           END
        || ',"table_name":' || public.canonical_scalar(t.table_name)
        || '}'
$$"""

# PARTS_JSON's relationship object: "pairs" only for a composite key.
RELATIONSHIP_JSON = """
CREATE FUNCTION working_relationship_json(r public.table_relationship) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT '{"cascade_config":' || public.canonical_column(r.cascade_config)
        || ',"id":' || public.canonical_scalar(r.id::text)
        || CASE WHEN r.field_pairs = '[]'::jsonb THEN ''
           ELSE ',"pairs":' || public.canonical_column(r.field_pairs) END
        || ',"relationship_name":' || public.canonical_scalar(r.relationship_name)
        || ',"relationship_type":' || public.canonical_scalar(r.relationship_type)
        || ',"source_field_id":' || public.canonical_scalar(r.source_field_id::text)
        || ',"source_table_id":' || public.canonical_scalar(r.source_table_id::text)
        || ',"status":' || public.canonical_scalar(r.status)
        || ',"target_field_id":' || public.canonical_scalar(r.target_field_id::text)
        || ',"target_table_id":' || public.canonical_scalar(r.target_table_id::text)
        || '}'
$$"""

DIGEST = """
CREATE FUNCTION part_digest(body text) RETURNS varchar
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT encode(sha256(convert_to(body, 'UTF8')), 'hex') $$"""

# Rewrite the parts of some tables (ids of tables gone are skipped), locking them first.
WRITE_TABLES = """
CREATE FUNCTION working_tables_write(ids uuid[]) RETURNS void LANGUAGE plpgsql AS $$ BEGIN
    IF cardinality(ids) = 0 THEN
        RETURN;
    END IF;
    PERFORM 1 FROM public.working_part
        WHERE kind = 'tables' AND entry_id = ANY (ids::text[])
        ORDER BY project_id, entry_id FOR UPDATE;
    INSERT INTO public.working_part AS w (project_id, kind, entry_id, bucket, label, body, hash)
        SELECT t.project_id, 'tables', t.id::text, left(t.id::text, 2), t.table_name,
               p.body::json, public.part_digest(p.body)
        FROM public.data_table t
        CROSS JOIN LATERAL (SELECT public.working_table_json(t) AS body) p
        WHERE t.id = ANY (ids)
        ON CONFLICT (project_id, kind, entry_id) DO UPDATE
        SET label = excluded.label, body = excluded.body, hash = excluded.hash;
END $$"""

WRITE_RELATIONSHIPS = """
CREATE FUNCTION working_relationships_write(ids uuid[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF cardinality(ids) = 0 THEN
        RETURN;
    END IF;
    PERFORM 1 FROM public.working_part
        WHERE kind = 'relationships' AND entry_id = ANY (ids::text[])
        ORDER BY project_id, entry_id FOR UPDATE;
    INSERT INTO public.working_part AS w (project_id, kind, entry_id, bucket, label, body, hash)
        SELECT r.project_id, 'relationships', r.id::text, left(r.id::text, 2),
               r.relationship_name, p.body::json, public.part_digest(p.body)
        FROM public.table_relationship r
        CROSS JOIN LATERAL (SELECT public.working_relationship_json(r) AS body) p
        WHERE r.id = ANY (ids)
        ON CONFLICT (project_id, kind, entry_id) DO UPDATE
        SET label = excluded.label, body = excluded.body, hash = excluded.hash;
END $$"""

# Statement triggers: one statement's rows, whatever their number (imports and seeds insert
# thousands at once). An update rewrites only rows whose entry changed (search_text, a
# revision bump or a lock leave the part as it was).
ON_TABLES = """
CREATE FUNCTION working_part_of_tables() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
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
        PERFORM public.working_tables_write(ARRAY(
            SELECT n.id FROM added n JOIN removed o ON o.id = n.id
            WHERE (n.project_id, n.name, n.table_name, n.description, n.status,
                   n.schema_definition -> 'structure')
                  IS DISTINCT FROM (o.project_id, o.name, o.table_name, o.description, o.status,
                                    o.schema_definition -> 'structure')));
    END IF;
    RETURN NULL;
END $$"""

ON_FIELDS = """
CREATE FUNCTION working_part_of_fields() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM public.working_tables_write(ARRAY(SELECT DISTINCT table_id FROM added));
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM public.working_tables_write(ARRAY(SELECT DISTINCT table_id FROM removed));
    ELSE
        PERFORM public.working_tables_write(ARRAY(
            SELECT DISTINCT unnest(ARRAY[n.table_id, o.table_id])
            FROM added n JOIN removed o ON o.id = n.id
            WHERE (n.table_id, n.name, n.field_name, n.data_type, n.is_required,
                   n.default_value, n.field_config, n.sort_order)
                  IS DISTINCT FROM (o.table_id, o.name, o.field_name, o.data_type,
                                    o.is_required, o.default_value, o.field_config,
                                    o.sort_order)));
    END IF;
    RETURN NULL;
END $$"""

ON_RELATIONSHIPS = """
CREATE FUNCTION working_part_of_relationships() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
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
                   n.source_field_id, n.target_table_id, n.target_field_id, n.cascade_config,
                   n.status, n.field_pairs)
                  IS DISTINCT FROM (o.project_id, o.relationship_name, o.relationship_type,
                                    o.source_table_id, o.source_field_id, o.target_table_id,
                                    o.target_field_id, o.cascade_config, o.status,
                                    o.field_pairs)));
    END IF;
    RETURN NULL;
END $$"""


def triggers(table, function):
    return [
        f"CREATE TRIGGER {table}_working_part_added AFTER INSERT ON {table}"
        f" REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION {function}()",
        f"CREATE TRIGGER {table}_working_part_removed AFTER DELETE ON {table}"
        f" REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION {function}()",
        f"CREATE TRIGGER {table}_working_part_changed AFTER UPDATE ON {table}"
        " REFERENCING NEW TABLE AS added OLD TABLE AS removed"
        f" FOR EACH STATEMENT EXECUTE FUNCTION {function}()",
    ]


WATCHED = (
    ("data_table", "working_part_of_tables"),
    ("data_field", "working_part_of_fields"),
    ("table_relationship", "working_part_of_relationships"),
)
FUNCTIONS = [
    CANONICAL, SCALAR, JSONB, FIELD, TABLE_JSON, RELATIONSHIP_JSON, DIGEST, WRITE_TABLES,
    WRITE_RELATIONSHIPS, ON_TABLES, ON_FIELDS, ON_RELATIONSHIPS,
]  # fmt: skip
# Every table's and relationship's part, written once (the same statements the triggers run).
BACKFILL = [
    "SELECT working_tables_write(ARRAY(SELECT id FROM data_table))",
    "SELECT working_relationships_write(ARRAY(SELECT id FROM table_relationship))",
]


def up(migrator, db):
    db.execute_sql(TABLE)
    for statement in (*INDEXES, *FUNCTIONS):
        db.execute_sql(statement)
    for table, function in WATCHED:
        for statement in triggers(table, function):
            db.execute_sql(statement)
    supported = db.execute_sql(
        "SELECT 'lz4' = ANY (enumvals) FROM pg_settings WHERE name = 'default_toast_compression'"
    ).fetchone()[0]
    if supported:
        db.execute_sql("ALTER TABLE working_part ALTER COLUMN body SET COMPRESSION lz4")
    # (The runner lifts FORCE on the tables read for this transaction, designer.db; the new
    # table is forced once it is filled.)
    for statement in BACKFILL:
        db.execute_sql(statement)
    db.execute_sql("SELECT rls_protect('working_part', 'project_id')")


def down(migrator, db):
    for table, _ in WATCHED:
        for kind in ("added", "removed", "changed"):
            db.execute_sql(f"DROP TRIGGER {table}_working_part_{kind} ON {table}")
    db.execute_sql("DROP TABLE working_part")
    for signature in (
        "working_part_of_relationships()", "working_part_of_fields()",
        "working_part_of_tables()", "working_relationships_write(uuid[])",
        "working_tables_write(uuid[])", "part_digest(text)",
        "working_relationship_json(table_relationship)", "working_table_json(data_table)",
        "working_field_json(data_field)", "canonical_column(jsonb)",
        "canonical_scalar(anyelement)", "canonical_jsonb(jsonb)",
    ):  # fmt: skip
        db.execute_sql(f"DROP FUNCTION {signature}")
