"""A live schema read back as DDL text, so it imports like a file (and previews the same).

The tables, columns, constraints, indexes and comments come from
designer.database.catalog (the reader drift uses); views, triggers and
sequences are added so the preview lists them as things a design cannot hold.
Definitions are PostgreSQL's own (format_type, pg_get_constraintdef,
pg_get_indexdef...). Takes a psycopg2 cursor on the database read.
"""

from designer.database.adopt import SERIAL_DEFAULT
from designer.database.catalog import read_catalog
from designer.database.catalog import schema_exists
from designer.database.ddl_terms import literal
from designer.design.naming import quote_identifier as ident

COLUMN_ORDER = """
    SELECT c.relname, a.attname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
    WHERE c.relnamespace = %(schema)s::regnamespace AND c.relkind = 'r'
      AND a.attnum > 0 AND NOT a.attisdropped
    ORDER BY c.relname, a.attnum
"""
VIEWS = """
    SELECT c.relname, pg_get_viewdef(c.oid) FROM pg_class c
    WHERE c.relnamespace = %(schema)s::regnamespace AND c.relkind IN ('v', 'm') ORDER BY 1
"""
TRIGGERS = """
    SELECT pg_get_triggerdef(t.oid) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
    WHERE c.relnamespace = %(schema)s::regnamespace AND NOT t.tgisinternal ORDER BY 1
"""
SCHEMAS = """
    SELECT nspname FROM pg_namespace
    WHERE nspname NOT LIKE 'pg\\_%%' AND nspname <> 'information_schema' ORDER BY 1
"""


def schemas(cursor):
    """The schemas of the database a user could import from."""
    cursor.execute(SCHEMAS)
    return [name for (name,) in cursor.fetchall()]


def column_lines(columns, order):
    by_name = {(row[0], row[1]): row for row in columns}
    lines = {}
    for table, column in order:
        _, name, type_text, not_null, default, identity, _, generated = by_name[(table, column)]
        parts = [ident(name), type_text]
        if identity:
            kind = "ALWAYS" if identity == "a" else "BY DEFAULT"
            parts.append(f"GENERATED {kind} AS IDENTITY")
        if generated:
            kind = "VIRTUAL" if generated == "v" else "STORED"
            parts.append(f"GENERATED ALWAYS AS ({default}) {kind}")
        elif default is not None:
            parts.append(f"DEFAULT {default}")
        if not_null:
            parts.append("NOT NULL")
        lines.setdefault(table, []).append("    " + " ".join(parts))
    return lines


def schema_ddl(cursor, schema):
    """DDL recreating the schema's tables (unqualified), or None when it does not exist."""
    if not schema_exists(cursor, schema):
        return None
    catalog = read_catalog(cursor, schema)
    params = {"schema": ident(schema)}
    cursor.execute(COLUMN_ORDER, params)
    order = cursor.fetchall()
    lines = column_lines(catalog["columns"], order)
    statements = [f"-- The tables of schema {schema}, as its catalog describes them."]
    for table, comment in sorted(catalog["tables"]):
        body = ",\n".join(lines.get(table, []))
        statements.append(f"CREATE TABLE {ident(table)} (\n{body}\n);")
        if comment:
            statements.append(f"COMMENT ON TABLE {ident(table)} IS {literal(comment)};")
    statements += owned_sequences(catalog)
    for table, column, *_, comment, _ in catalog["columns"]:
        if comment:
            target = f"{ident(table)}.{ident(column)}"
            statements.append(f"COMMENT ON COLUMN {target} IS {literal(comment)};")
    constraint_names = set()
    comments = []
    for table, name, kind, definition, _, comment in sorted(
        catalog["constraints"], key=constraint_order
    ):
        constraint_names.add(name)
        if kind == "n":  # PostgreSQL 18 lists NOT NULL as a constraint; the column says it
            continue
        statements.append(f"ALTER TABLE {ident(table)} ADD CONSTRAINT {ident(name)} {definition};")
        if comment:
            target = f"CONSTRAINT {ident(name)} ON {ident(table)}"
            comments.append(f"COMMENT ON {target} IS {literal(comment)};")
    for _, name, definition, comment in sorted(catalog["indexes"]):
        if name not in constraint_names:
            statements.append(f"{definition};")
            if comment:
                comments.append(f"COMMENT ON INDEX {ident(name)} IS {literal(comment)};")
    statements += comments
    cursor.execute(VIEWS, params)
    for name, body in cursor.fetchall():
        statements.append(f"CREATE VIEW {ident(name)} AS\n{body.strip().rstrip(';')};")
    cursor.execute(TRIGGERS, params)
    statements += [f"{definition};" for (definition,) in cursor.fetchall()]
    return "\n".join(statements) + "\n"


def owned_sequences(catalog):
    """CREATE SEQUENCE ... OWNED BY for each column whose default is nextval() of a sequence
    its table owns: a serial column, read back as pg_dump writes one."""
    owned = {(name, table) for name, table in catalog["sequences"] if table}
    statements = []
    for table, column, _, _, default, _, _, generated in catalog["columns"]:
        found = SERIAL_DEFAULT.fullmatch(default or "")
        if found and not generated and (found[1], table) in owned:
            sequence = ident(found[1])
            statements.append(f"CREATE SEQUENCE {sequence};")
            statements.append(f"ALTER SEQUENCE {sequence} OWNED BY {ident(table)}.{ident(column)};")
    return statements


def constraint_order(row):
    """Keys and checks before foreign keys, which refer to them."""
    return (row[2] == "f", row[0], row[1])
