"""The working_part triggers (migrations 0030, 0033) for statements changing many tables.

In a PL/pgSQL function an array is a parameter, which PostgreSQL tests element by element
for every row it scans: a statement changing all 30,000 tables of a design (making them
active, an import, a restore) compared up to 30,000 × 30,000 ids. Joined with unnest(ids),
they are looked up by the primary key, whatever their number. And canonical_jsonb writes
the scalar values of an object or array itself, calling itself only for nested ones: a
column's field_config of three strings was four PL/pgSQL calls, now one.
"""

import importlib.util
import pathlib


def previous():
    """Migration 0033's module (the functions as it wrote them)."""
    path = pathlib.Path(__file__).with_name("0033_working_parts_by_project.py")
    spec = importlib.util.spec_from_file_location("working_parts_0033", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def joined(statement, alias):
    """0033's statement with its ids joined rather than tested one by one."""
    return statement.replace(
        f"WHERE {alias}.id = ANY (ids)", f"WHERE {alias}.id IN (SELECT unnest(ids))"
    )


# The same text as 0030's canonical_jsonb gives, with scalars written in place.
SCALAR_OF = """CASE jsonb_typeof({v})
                 WHEN 'object' THEN public.canonical_jsonb({v})
                 WHEN 'array' THEN public.canonical_jsonb({v})
                 WHEN 'number' THEN CASE WHEN {v}::text ~ '^-?[0-9]+$' THEN {v}::text END
                 ELSE {v}::text END"""
CANONICAL = f"""
CREATE OR REPLACE FUNCTION canonical_jsonb(j jsonb) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    kind text := jsonb_typeof(j);
    result text;
BEGIN
    IF kind = 'object' THEN
        IF j = '{{}}'::jsonb THEN
            RETURN '{{}}';
        END IF;
        SELECT CASE WHEN count(*) = count(c) THEN
                   '{{' || string_agg(to_json(k)::text || ':' || c, ',' ORDER BY k COLLATE "C")
                   || '}}' END
            INTO result
            FROM (SELECT e.key, {SCALAR_OF.format(v="e.value")}
                  FROM jsonb_each(j) e) s (k, c);
        RETURN result;
    ELSIF kind = 'array' THEN
        IF j = '[]'::jsonb THEN
            RETURN '[]';
        END IF;
        SELECT CASE WHEN count(*) = count(c) THEN
                   '[' || string_agg(c, ',' ORDER BY n) || ']' END
            INTO result
            FROM (SELECT a.n, {SCALAR_OF.format(v="a.v")}
                  FROM jsonb_array_elements(j) WITH ORDINALITY a (v, n)) s (n, c);
        RETURN result;
    ELSIF kind = 'number' THEN
        RETURN CASE WHEN j::text ~ '^-?[0-9]+$' THEN j::text END;
    END IF;
    RETURN j::text;
END $$"""


def first():
    """Migration 0030's module (canonical_jsonb as it wrote it)."""
    path = pathlib.Path(__file__).with_name("0030_working_parts.py")
    spec = importlib.util.spec_from_file_location("working_parts_0030", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def up(migrator, db):
    db.execute_sql(CANONICAL)
    old = previous()
    db.execute_sql(joined(old.WRITE_TABLES, "t"))
    db.execute_sql(joined(old.WRITE_RELATIONSHIPS, "r"))


def down(migrator, db):
    db.execute_sql(first().CANONICAL.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1))
    old = previous()
    db.execute_sql(old.WRITE_TABLES)
    db.execute_sql(old.WRITE_RELATIONSHIPS)
