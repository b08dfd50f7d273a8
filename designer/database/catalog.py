"""What a schema of the target really holds, read from pg_catalog.

`read_catalog` gives tables, columns (type, nullability, default or generated expression,
identity, comment, attgenerated),
constraints, indexes and comments of one schema as plain sorted data, so two
schemas (the real one and one built from a snapshot) compare with ==.
Definitions are read with the schema on the search_path, so they do not
name it and two schemas with equal contents read equal (a scratch copy built in the
session's temporary schema, which index definitions call pg_temp, included). Takes a psycopg2
cursor: it runs on the deploy target, not on the designer's database. Comments are joined
from pg_description rather than looked up per row (obj_/col_description): at 3,000 tables
that halves the time of the columns' query.

`fingerprint` stands for the result of `read_catalog` at a small part of its cost (see there).
"""

QUERIES = {
    "tables": """
        SELECT c.relname, ds.description
        FROM pg_class c
        LEFT JOIN pg_description ds ON ds.objoid = c.oid AND ds.objsubid = 0
             AND ds.classoid = 'pg_class'::regclass
        WHERE c.relnamespace = %(schema)s::regnamespace AND c.relkind = 'r'
    """,
    "columns": """
        SELECT c.relname, a.attname,
               format_type(a.atttypid, a.atttypmod) || CASE WHEN a.attcollation <> t.typcollation
                 THEN ' COLLATE ' || quote_ident(co.collname) ELSE '' END,
               a.attnotnull,
               pg_get_expr(d.adbin, d.adrelid), a.attidentity,
               ds.description, a.attgenerated
        FROM pg_attribute a
        JOIN pg_class c ON c.oid = a.attrelid
        JOIN pg_type t ON t.oid = a.atttypid
        LEFT JOIN pg_collation co ON co.oid = a.attcollation
        LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        LEFT JOIN pg_description ds ON ds.objoid = c.oid AND ds.objsubid = a.attnum
             AND ds.classoid = 'pg_class'::regclass
        WHERE c.relnamespace = %(schema)s::regnamespace AND c.relkind = 'r'
          AND a.attnum > 0 AND NOT a.attisdropped
    """,
    "constraints": """
        SELECT c.relname, k.conname, k.contype, pg_get_constraintdef(k.oid), k.convalidated,
               ds.description
        FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
        LEFT JOIN pg_description ds ON ds.objoid = k.oid AND ds.objsubid = 0
             AND ds.classoid = 'pg_constraint'::regclass
        WHERE k.connamespace = %(schema)s::regnamespace
    """,
    "sequences": """
        SELECT c.relname, d.refobjid::regclass::text
        FROM pg_class c
        LEFT JOIN pg_depend d ON d.objid = c.oid AND d.classid = 'pg_class'::regclass
             AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
        WHERE c.relnamespace = %(schema)s::regnamespace AND c.relkind = 'S'
    """,
    "indexes": """
        SELECT c.relname, i.relname,
               replace(replace(pg_get_indexdef(i.oid), ' ON ' || %(prefix)s, ' ON '),
                       ' ON pg_temp.', ' ON '),
               ds.description
        FROM pg_index x
        JOIN pg_class i ON i.oid = x.indexrelid
        JOIN pg_class c ON c.oid = x.indrelid
        LEFT JOIN pg_description ds ON ds.objoid = i.oid AND ds.objsubid = 0
             AND ds.classoid = 'pg_class'::regclass
        WHERE c.relnamespace = %(schema)s::regnamespace
    """,
}

# The catalog rows `read_catalog` reads, or whose change alters what it reads, by kind: how many
# there are, and the sum and a hash-sum of their xmin. DDL writes new row versions (an update is a
# new version too; only statistics are updated in place), stamped with its transaction's id: rows
# that appear since an earlier look carry ids no row seen then had, so a set that changed has a
# changed multiset of xmin, and the count and two sums of it tell. What the rows name outside the
# schema (types, functions, tables other schemas own) is left out: the expected catalog, built from
# the design, names nothing outside the schema but pg_catalog, so such a name is already drift, and
# a rename there could only reword a line already reported. Nor are rows that never change without
# one that is counted: an index is made and dropped with its pg_class row (what pg_index holds of it
# is fixed), a default with its column's row.


def tally(rows, names=()):
    """The count, sum and hash-sum of `rows`' xmin (as columns `names`, when given)."""
    # A row's xmin as a number: the current transaction's age of xid 3 (the first normal one)
    # less the row's age of it. Ages are numbers already; casting xmin through text took
    # a third longer.
    made = f"((SELECT age FROM zero) - age({rows}.xmin))"
    parts = ["count(*)", f"sum({made})", f"sum(hashint8({made}))"]
    if names:
        parts = [f"{part} AS {name}" for part, name in zip(parts, names, strict=True)]
    return ", ".join(parts)


FINGERPRINT = f"""
    WITH ns AS (SELECT oid FROM pg_namespace WHERE nspname = %(name)s),
    zero AS (SELECT age('3'::xid)::int8 AS age),
    own AS MATERIALIZED (
        SELECT c.oid, c.relkind, c.xmin FROM pg_class c
        WHERE c.relnamespace = (SELECT oid FROM ns)
    )
    SELECT (SELECT oid FROM ns)::int8,
        (SELECT ({tally("own")}) FROM own),
        -- Columns (not the keys of indexes and sequences, which read the table's columns).
        -- A default set, changed or dropped rewrites its column's row too (atthasdef).
        -- Looked up by each relation's oid: joined, pg_attribute was read whole, every other
        -- schema's columns with it (and the rows scratch builds left dead): with a schema of
        -- 6,000 tables beside 3,000, the fingerprint took 88 ms where it takes 41.
        (SELECT (sum(n), sum(s), sum(h)) FROM own c CROSS JOIN LATERAL (
            SELECT {tally("a", ("n", "s", "h"))} FROM pg_attribute a
            WHERE a.attrelid = c.oid AND a.attnum > 0) x
         WHERE c.relkind NOT IN ('i', 'I', 'S')),
        (SELECT ({tally("k")}) FROM pg_constraint k WHERE k.connamespace = (SELECT oid FROM ns)),
        -- Comments on constraints (those on tables, columns and indexes are counted below).
        (SELECT ({tally("ds")}) FROM pg_constraint k JOIN pg_description ds ON ds.objoid = k.oid
         AND ds.classoid = 'pg_constraint'::regclass WHERE k.connamespace = (SELECT oid FROM ns)),
        -- The schema's own types: they decide how format_type names a column's type.
        (SELECT ({tally("t")}) FROM pg_type t WHERE t.typnamespace = (SELECT oid FROM ns)),
        -- The schema's own functions, operators, operator classes and collations: defaults,
        -- checks, indexes and columns name them (unqualified, the schema being on the path).
        (SELECT ({tally("x")}) FROM (
            SELECT xmin FROM pg_proc WHERE pronamespace = (SELECT oid FROM ns)
            UNION ALL SELECT xmin FROM pg_operator WHERE oprnamespace = (SELECT oid FROM ns)
            UNION ALL SELECT xmin FROM pg_opclass WHERE opcnamespace = (SELECT oid FROM ns)
            UNION ALL SELECT xmin FROM pg_collation WHERE collnamespace = (SELECT oid FROM ns)
         ) x),
        -- Which column owns a sequence.
        (SELECT ({tally("d")}) FROM own c JOIN pg_depend d ON d.classid = 'pg_class'::regclass
         AND d.objid = c.oid AND d.refclassid = 'pg_class'::regclass WHERE c.relkind = 'S'),
        (SELECT ({tally("ds")}) FROM own c JOIN pg_description ds ON ds.objoid = c.oid
         AND ds.classoid = 'pg_class'::regclass)
"""


def fingerprint(cursor, schema):
    """What changes whenever `read_catalog(cursor, schema)` would read something else."""
    cursor.execute(FINGERPRINT, {"name": schema})
    return cursor.fetchone()


def schema_exists(cursor, schema):
    cursor.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema,))
    return cursor.fetchone() is not None


def quoted_prefix(cursor, schema):
    cursor.execute("SELECT quote_ident(%s) || '.'", (schema,))
    return cursor.fetchone()[0]


def read_catalog(cursor, schema):
    """{part: sorted rows} for the schema; empty parts when it does not exist."""
    if not schema_exists(cursor, schema):
        return {part: [] for part in QUERIES}
    cursor.execute("SELECT current_setting('search_path')")
    (saved,) = cursor.fetchone()
    cursor.execute("SELECT set_config('search_path', %s, true)", (f'"{schema}"',))
    try:
        result = {}
        for part, query in QUERIES.items():
            params = {"schema": f'"{schema}"', "prefix": quoted_prefix(cursor, schema)}
            cursor.execute(query, params)
            result[part] = sorted(cursor.fetchall(), key=repr)
        return result
    finally:
        cursor.execute("SELECT set_config('search_path', %s, true)", (saved,))
