"""The working_part triggers (migration 0030) find the rows they lock by their project.

Their lock statement named rows by kind and entry id alone, which the primary key
(project_id, kind, entry_id) cannot look up: every design change scanned the parts of every
project. Now the rows are reached from the changed tables' and relationships' own rows, so
each lock is a primary key look-up. And a save reads some buckets' members by an index on
(project_id, kind, bucket), not by reading all of the project's parts.
"""

import importlib.util
import pathlib

WRITE_TABLES = """
CREATE OR REPLACE FUNCTION working_tables_write(ids uuid[]) RETURNS void
LANGUAGE plpgsql AS $$ BEGIN
    IF cardinality(ids) = 0 THEN
        RETURN;
    END IF;
    PERFORM 1 FROM public.data_table t
        JOIN public.working_part w
          ON w.project_id = t.project_id AND w.kind = 'tables' AND w.entry_id = t.id::text
        WHERE t.id = ANY (ids)
        ORDER BY w.project_id, w.entry_id FOR UPDATE OF w;
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
CREATE OR REPLACE FUNCTION working_relationships_write(ids uuid[]) RETURNS void
LANGUAGE plpgsql AS $$ BEGIN
    IF cardinality(ids) = 0 THEN
        RETURN;
    END IF;
    PERFORM 1 FROM public.table_relationship r
        JOIN public.working_part w
          ON w.project_id = r.project_id AND w.kind = 'relationships'
          AND w.entry_id = r.id::text
        WHERE r.id = ANY (ids)
        ORDER BY w.project_id, w.entry_id FOR UPDATE OF w;
    INSERT INTO public.working_part AS w (project_id, kind, entry_id, bucket, label, body, hash)
        SELECT r.project_id, 'relationships', r.id::text, left(r.id::text, 2),
               r.relationship_name, p.body::json, public.part_digest(p.body)
        FROM public.table_relationship r
        CROSS JOIN LATERAL (SELECT public.working_relationship_json(r) AS body) p
        WHERE r.id = ANY (ids)
        ON CONFLICT (project_id, kind, entry_id) DO UPDATE
        SET label = excluded.label, body = excluded.body, hash = excluded.hash;
END $$"""

BUCKETS = "CREATE INDEX working_part_bucket ON working_part (project_id, kind, bucket)"


def before():
    """Migration 0030's module (its functions as they were)."""
    path = pathlib.Path(__file__).with_name("0030_working_parts.py")
    spec = importlib.util.spec_from_file_location("working_parts_0030", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def up(migrator, db):
    db.execute_sql(WRITE_TABLES)
    db.execute_sql(WRITE_RELATIONSHIPS)
    db.execute_sql(BUCKETS)


def down(migrator, db):
    old = before()
    db.execute_sql("DROP INDEX working_part_bucket")
    for statement in (old.WRITE_TABLES, old.WRITE_RELATIONSHIPS):
        db.execute_sql(statement.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1))
