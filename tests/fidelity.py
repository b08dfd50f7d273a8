"""The proof of #24: a schema file applied by psql, and the same file imported through the
app, activated and deployed, read back from pg_catalog and compared.

Everything the catalog says about a table is compared: columns (exact type by
format_type, nullability, default, collation, identity, generated expression, comment),
primary keys, uniques, foreign keys with their actions, CHECKs and exclusions (by
pg_get_constraintdef), indexes (pg_get_indexdef without the index's name), comments, the
table's kind, partitioning and storage options; and the schema's enums and domains.
Names of constraints and indexes are not part of the equality (the issue lists their
definitions); bench/fidelity.py counts how many are kept. Both sides are read with their
own schema first on the search_path, so definitions name the objects of that schema
without it and compare as text.

A difference is *named* when the import preview has a finding about the same table (or
type) at one of the lines the lost thing comes from in the file: the allowance is exactly
what the preview says, nothing else (see `unnamed`). This module reads the catalog on
its own (never the app's catalog reader) and the file with pglast directly (never the
app's SQL reader): the proof must not share the code it checks.
"""

import bisect
import dataclasses
import json
import os
import pathlib
import re
import subprocess
import time
from collections import defaultdict
from dataclasses import dataclass
from dataclasses import field

import pglast
import pgserver
import psycopg2

DATA = pathlib.Path(__file__).resolve().parent / "data"
# The PostgreSQL client the embedded server ships (the same major version as the server).
PSQL = pathlib.Path(pgserver.__file__).parent / "pginstall" / "bin" / "psql"
# Functions of newer servers that a published schema calls, stood in for on an older test
# server (same name and result type) so the file applies as its authors ran it.
STAND_INS = {
    "uuidv7": "CREATE FUNCTION pg_catalog.uuidv7() RETURNS uuid LANGUAGE sql VOLATILE"
    " AS 'SELECT gen_random_uuid()'",
}


def schema_files():
    """Every schema in tests/data, by file name."""
    return sorted(p.name for p in DATA.glob("*.sql"))


# ---------------------------------------------------------------------------------------
# Applying a file the way its authors do


def prepare(url, text):
    """What a file needs of the database before psql runs it: stand-ins for functions a
    newer PostgreSQL has, and the extensions it creates (an administrator's job on a
    deploy target: installed in `public`, where a design's named types find them)."""
    conn = psycopg2.connect(url)
    conn.autocommit = True
    try:
        with conn.cursor() as cursor:
            for name, create in STAND_INS.items():
                cursor.execute("SELECT 1 FROM pg_proc WHERE proname = %s", (name,))
                if re.search(rf"\b{name}\s*\(", text) and cursor.fetchone() is None:
                    cursor.execute(create)
            for name in extensions_of(text):
                cursor.execute(f"CREATE EXTENSION IF NOT EXISTS {name} WITH SCHEMA public")
    finally:
        conn.close()


def extensions_of(text):
    return sorted(set(re.findall(r"(?im)^CREATE EXTENSION (?:IF NOT EXISTS )?\"?(\w+)\"?", text)))


def as_server_runs(url, text):
    """The file as a server older than PostgreSQL 18 can run it: a VIRTUAL generated column
    (18's) made STORED, on the same line. psql and the app are both given this text, so
    they are compared on the same schema."""
    conn = psycopg2.connect(url)
    try:
        version = conn.server_version
    finally:
        conn.close()
    if version >= 180000:
        return text
    return re.sub(r"(?<=\)) VIRTUAL\b", " STORED", text)


def apply_with_psql(url, text, name="the file", single=True):
    """Run the text with psql (in one transaction unless not `single`), stopping at the
    first error."""
    env = {**os.environ, "PGOPTIONS": "-c client_min_messages=warning"}
    done = subprocess.run(
        [str(PSQL), "-X", "-q", "-v", "ON_ERROR_STOP=1", *(["-1"] if single else []),
         "-d", url, "-f", "-"],
        input=text, capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise AssertionError(f"psql could not apply {name}:\n{done.stderr}")


# ---------------------------------------------------------------------------------------
# Reading a schema from pg_catalog


@dataclass
class Column:
    type: str
    not_null: bool
    default: str | None
    collation: str | None
    identity: str
    generated: str
    comment: str | None
    sequence: str | None  # the sequence the column owns (serial, identity): pg_depend's


@dataclass
class Table:
    kind: str  # r: table, p: partitioned
    columns: dict = field(default_factory=dict)
    # (contype, definition) -> (name, comment)
    constraints: dict = field(default_factory=dict)
    # definition without the index's name -> (name, comment)
    indexes: dict = field(default_factory=dict)
    comment: str | None = None
    options: tuple = ()  # (persistence, reloptions, partition key, parent, bound)


@dataclass
class Catalog:
    tables: dict = field(default_factory=dict)
    types: dict = field(default_factory=dict)


TABLES = """
SELECT c.oid, c.relname, c.relkind, c.relpersistence, c.reloptions,
       CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END,
       (SELECT p.relname FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhparent
         WHERE i.inhrelid = c.oid),
       pg_get_expr(c.relpartbound, c.oid),
       obj_description(c.oid, 'pg_class')
  FROM pg_class c
 WHERE c.relnamespace = %(schema)s::regnamespace AND c.relkind IN ('r', 'p')
   -- An extension's own tables (PostGIS's spatial_ref_sys) are not the file's.
   AND NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = 'pg_class'::regclass
                    AND e.objid = c.oid AND e.deptype = 'e')
"""
COLUMNS = """
SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
       pg_get_expr(d.adbin, d.adrelid),
       CASE WHEN a.attcollation <> t.typcollation THEN co.collname END,
       a.attidentity, a.attgenerated, col_description(c.oid, a.attnum),
       (SELECT s.relname FROM pg_depend dep JOIN pg_class s ON s.oid = dep.objid
         WHERE dep.classid = 'pg_class'::regclass AND dep.refclassid = 'pg_class'::regclass
           AND dep.refobjid = c.oid AND dep.refobjsubid = a.attnum AND s.relkind = 'S'
           AND dep.deptype = 'a')
  FROM pg_class c
  JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
  JOIN pg_type t ON t.oid = a.atttypid
  LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
  LEFT JOIN pg_collation co ON co.oid = a.attcollation
 WHERE c.relnamespace = %(schema)s::regnamespace AND c.relkind IN ('r', 'p')
 ORDER BY c.relname, a.attnum
"""
CONSTRAINTS = """
SELECT c.relname, con.conname, con.contype, pg_get_constraintdef(con.oid),
       obj_description(con.oid, 'pg_constraint'),
       ARRAY(SELECT a.attname::text FROM pg_attribute a
              WHERE a.attrelid = c.oid AND a.attnum = ANY (con.conkey) ORDER BY a.attnum)
  FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid
 WHERE c.relnamespace = %(schema)s::regnamespace AND c.relkind IN ('r', 'p')
   AND con.contype IN ('p', 'u', 'f', 'c', 'x')
"""
INDEXES = """
SELECT t.relname, i.relname, pg_get_indexdef(i.oid), obj_description(i.oid, 'pg_class')
  FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
 WHERE t.relnamespace = %(schema)s::regnamespace AND t.relkind IN ('r', 'p')
   AND NOT EXISTS (SELECT 1 FROM pg_constraint con WHERE con.conindid = i.oid
                    AND con.conrelid = t.oid AND con.contype IN ('p', 'u', 'x'))
"""
ENUMS = """
SELECT t.typname, array_agg(e.enumlabel::text ORDER BY e.enumsortorder)
  FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid
 WHERE t.typnamespace = %(schema)s::regnamespace GROUP BY t.typname
"""
DOMAINS = """
SELECT t.typname, format_type(t.typbasetype, t.typtypmod), t.typnotnull, t.typdefault,
       ARRAY(SELECT pg_get_constraintdef(con.oid) FROM pg_constraint con
              WHERE con.contypid = t.oid ORDER BY 1)
  FROM pg_type t WHERE t.typnamespace = %(schema)s::regnamespace AND t.typtype = 'd'
"""
INDEX_NAME = re.compile(r'^(CREATE (?:UNIQUE )?INDEX )("(?:[^"]|"")+"|\S+) (ON )')


def read_catalog(url, schema):
    """The Catalog of `schema` in the database at `url` (read as a superuser)."""
    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cursor:
            # The schema first, then public (where extensions' types live): definitions name
            # the schema's own objects without it on both sides.
            cursor.execute("SELECT set_config('search_path', %s, true)", (f'"{schema}", public',))
            return catalog_from(cursor, {"schema": f'"{schema}"', "name": schema})
    finally:
        conn.rollback()
        conn.close()


def catalog_from(cursor, params):
    catalog = Catalog()
    cursor.execute(TABLES, params)
    for _oid, name, kind, persistence, options, partkey, parent, bound, comment in cursor:
        catalog.tables[name] = Table(
            kind, comment=comment,
            options=(persistence, tuple(options or ()), partkey, parent, bound),
        )  # fmt: skip
    cursor.execute(COLUMNS, params)
    for table, name, type_, not_null, default, coll, identity, gen, comment, owned in cursor:
        if table not in catalog.tables:
            continue  # an extension's
        catalog.tables[table].columns[name] = Column(
            type_, not_null, default, coll, identity, gen, comment, owned
        )
    cursor.execute(CONSTRAINTS, params)
    for table, name, contype, definition, comment, columns in cursor:
        if table not in catalog.tables:
            continue
        catalog.tables[table].constraints[(contype, definition)] = (name, comment, tuple(columns))
    cursor.execute(INDEXES, params)
    # pg_get_indexdef names the table with its schema whatever the search_path.
    on_schema = re.compile(r" ON (ONLY )?" + re.escape(quoted(params["name"])) + r"\.")
    for table, name, definition, comment in cursor:
        if table not in catalog.tables:
            continue
        definition = on_schema.sub(r" ON \1", INDEX_NAME.sub(r"\1\3", definition), count=1)
        catalog.tables[table].indexes[definition] = (name, comment)
    cursor.execute(ENUMS, params)
    for name, labels in cursor:
        catalog.types[name] = ("enum", tuple(labels))
    cursor.execute(DOMAINS, params)
    for name, base, not_null, default, checks in cursor:
        catalog.types[name] = ("domain", base, not_null, default, tuple(checks))
    return catalog


def quoted(name):
    """An identifier as PostgreSQL prints it (quote_ident's rule, for the names here)."""
    return name if re.fullmatch(r"[a-z_][a-z0-9_$]*", name) else '"' + name.replace('"', '""') + '"'


# ---------------------------------------------------------------------------------------
# Where each thing comes from in the file (pglast's parse tree, read here on its own)


class Lines:
    """The lines of a file's objects: tables, columns, defaults, constraints, indexes,
    comments and types, keyed so catalog differences can be traced back to them."""

    def __init__(self, text):
        self.text = text
        raw = text.encode("utf-8")
        self.starts = [0] + [i + 1 for i, b in enumerate(raw) if b == 0x0A]
        self.table = {}
        self.index_table = {}  # index name -> its table
        self.of = defaultdict(set)  # (table, what, detail) -> lines
        self.statements = []  # (kind, body, first line, last line)
        for kind, stmt, line, last in self.parsed(text):
            self.statements.append((kind, stmt, line, last))
            self.read(kind, stmt, line)

    def line_of(self, offset):
        return bisect.bisect_right(self.starts, offset)

    def parsed(self, text):
        # psql meta-commands are not SQL: blanked (a space a byte), so every offset stays.
        self.meta_commands = [
            n for n, line in enumerate(text.split("\n"), start=1) if line.startswith("\\")
        ]
        sql = re.sub(r"(?m)^\\.*$", lambda m: " " * len(m.group(0).encode()), text)
        tree = json.loads(pglast.parser.parse_sql_json(sql))
        raw_sql = sql.encode("utf-8")
        for raw in tree.get("stmts", []):
            ((kind, stmt),) = raw["stmt"].items()
            start = raw.get("stmt_location", 0)
            end = start + raw["stmt_len"] if raw.get("stmt_len") else len(raw_sql)
            line = self.line_of(start + leading_space(raw_sql, start))
            yield kind, stmt, line, max(line, self.line_of(max(end - 1, start)))

    def at(self, node, fallback):
        location = node.get("location")
        # Locations count from the start of the file (it is parsed whole).
        return fallback if location is None or location < 0 else self.line_of(location)

    def add(self, key, line):
        self.of[key].add(line)

    def read(self, kind, stmt, line):
        if kind == "CreateStmt":
            name = stmt["relation"]["relname"]
            self.table.setdefault(name, line)
            for element in stmt.get("tableElts", []):
                ((ekind, body),) = element.items()
                at = self.at(body, line)
                if ekind == "ColumnDef":
                    self.add((name, "column", body["colname"]), at)
                    for constraint in body.get("constraints", []):
                        con = constraint["Constraint"]
                        self.constraint(name, con, self.at(con, at), [body["colname"]])
                elif ekind == "Constraint":
                    self.constraint(name, body, at, None)
            if stmt.get("partbound") is not None:
                self.add((name, "partition", ""), line)
        elif kind == "AlterTableStmt":
            name = stmt["relation"]["relname"]
            for cmd in stmt.get("cmds", []):
                body = cmd["AlterTableCmd"]
                column = body.get("name")
                definition = body.get("def", {})
                if "Constraint" in definition:
                    con = definition["Constraint"]
                    self.constraint(name, con, line, None)
                    self.constraint(name, con, self.at(con, line), None)
                elif "ColumnDef" in definition:
                    self.add((name, "column", definition["ColumnDef"]["colname"]), line)
                elif "PartitionCmd" in definition:
                    part = definition["PartitionCmd"]["name"]["relname"]
                    self.add((part, "partition", ""), line)
                elif column:
                    self.add((name, "column", column), line)
                    if body.get("subtype") == "AT_ColumnDefault":
                        self.add((name, "default", column), line)
        elif kind == "IndexStmt":
            name = stmt["relation"]["relname"]
            self.index_table[stmt.get("idxname") or ""] = name
            self.add((name, "index", stmt.get("idxname") or ""), line)
        elif kind == "CommentStmt":
            self.comment(stmt, line)
        elif kind in ("CreateEnumStmt", "CreateDomainStmt"):
            names = stmt["domainname"] if kind == "CreateDomainStmt" else stmt["typeName"]
            type_name = names[-1]["String"]["sval"]
            self.add((type_name, "type", ""), line)

    def comment(self, stmt, line):
        """A COMMENT ON's line, as a line of what it comments on."""
        target = stmt.get("object", {})
        items = [
            i["String"]["sval"] for i in target.get("List", {}).get("items", []) if "String" in i
        ]
        objtype = stmt.get("objtype")
        if objtype == "OBJECT_TABLE" and items:
            self.add((items[-1], "comment", ""), line)
        elif objtype == "OBJECT_COLUMN" and len(items) >= 2:
            self.add((items[-2], "column", items[-1]), line)
        elif objtype == "OBJECT_TABCONSTRAINT" and len(items) >= 2:
            self.add((items[-2], "constraint", items[-1]), line)
        elif objtype == "OBJECT_INDEX" and items and items[-1] in self.index_table:
            self.add((self.index_table[items[-1]], "index", items[-1]), line)

    def constraint(self, table, con, line, columns):
        contype = con.get("contype")
        if contype == "CONSTR_DEFAULT" and columns:
            self.add((table, "default", columns[0]), line)
        elif contype in ("CONSTR_NOTNULL", "CONSTR_IDENTITY", "CONSTR_GENERATED") and columns:
            self.add((table, "column", columns[0]), line)
        else:
            self.add((table, "constraint", CONTYPES.get(contype, "")), line)
            if con.get("conname"):
                self.add((table, "constraint", con["conname"]), line)
            if contype == "CONSTR_FOREIGN":
                # A foreign key may change its columns (their type, to match the key's).
                for column in (
                    [c["String"]["sval"] for c in con.get("fk_attrs", [])] or columns or []
                ):
                    self.add((table, "column", column), line)

    def of_table(self, table):
        """Every line about a table: its CREATE, its columns, constraints and indexes."""
        lines = {self.table[table]} if table in self.table else set()
        for (name, _, _), found in self.of.items():
            if name == table:
                lines |= found
        return lines

    def of_column(self, table, column, what="column"):
        """A column's own lines (its definition, the ALTERs and foreign keys naming it)."""
        lines = set(self.of.get((table, "column", column), ()))
        if what == "default":
            lines |= self.of.get((table, "default", column), set())
        return lines

    def of_constraint(self, table, contype, name):
        own = self.of.get((table, "constraint", name))
        lines = set(own) if own else set(self.of.get((table, "constraint", contype), ()))
        return lines | ({self.table[table]} if table in self.table else set())

    def of_index(self, table, name):
        own = self.of.get((table, "index", name))
        return set(own) if own else self.of_table(table)


def leading_space(raw, start):
    """How many bytes of blanks and comments a statement's location starts with."""
    rest = raw[start:]
    stripped = re.match(rb"(?:\s+|--[^\n]*\n?|/\*.*?\*/)*", rest, re.S)
    return stripped.end()


CONTYPES = {
    "CONSTR_PRIMARY": "p",
    "CONSTR_UNIQUE": "u",
    "CONSTR_FOREIGN": "f",
    "CONSTR_CHECK": "c",
    "CONSTR_EXCLUSION": "x",
}


# ---------------------------------------------------------------------------------------
# Comparing


@dataclass(frozen=True)
class Difference:
    table: str  # the table (or type) of the file it is about
    what: str
    detail: str
    source: object
    deployed: object
    lines: frozenset

    def __str__(self):
        where = f"{self.table}.{self.detail}" if self.detail else self.table
        return f"{where}: {self.what}: file {self.source!r}, deployed {self.deployed!r}"


@dataclass
class Tally:
    """How many of a kind of thing the file has, and how many came back exactly."""

    total: int = 0
    kept: int = 0

    def count(self, kept):
        self.total += 1
        self.kept += bool(kept)

    @property
    def percent(self):
        return 100.0 * self.kept / self.total if self.total else 100.0


KINDS = {"p": "primary keys", "u": "uniques", "f": "foreign keys", "c": "checks", "x": "exclusions"}
COLUMN_PARTS = (
    "type", "default", "nullability", "collation", "identity", "generated", "comment", "sequence",
)  # fmt: skip


@dataclass
class Comparison:
    differences: list = field(default_factory=list)
    tallies: dict = field(default_factory=lambda: defaultdict(Tally))


def renamed(plan):
    """The plan's table renames, file name -> design name."""
    return {r.before: r.after for r in plan.renames if r.kind == "table"}


def compare(source, deployed, lines, table_renames=None):
    """Every way `deployed` differs from `source`, each traced to its lines in the file."""
    table_renames = table_renames or {}
    result = Comparison()
    diff = result.differences
    tally = result.tallies
    for name, table in sorted(source.tables.items()):
        there = deployed.tables.get(table_renames.get(name, name))
        tally["tables"].count(there is not None)
        if there is None:
            diff.append(
                Difference(name, "table missing", "", name, None, frozenset(lines.of_table(name)))
            )
            for part in ("type", "default", "nullability"):
                tally[f"columns: {part}"].total += len(table.columns)
            for contype, _ in table.constraints:
                tally[KINDS[contype]].count(False)
            for _ in table.indexes:
                tally["indexes"].count(False)
            continue
        compare_table(name, table, there, lines, result)
    for name in sorted(set(deployed.tables) - {table_renames.get(n, n) for n in source.tables}):
        diff.append(Difference(name, "table not in the file", "", None, name, frozenset()))
    for name, kind in sorted(source.types.items()):
        there = deployed.types.get(name)
        tally["types"].count(there == kind)
        if there != kind:
            diff.append(
                Difference(
                    name, "type", "", kind, there, frozenset(lines.of.get((name, "type", ""), ()))
                )
            )
    for name in sorted(set(deployed.types) - set(source.types)):
        diff.append(
            Difference(name, "type not in the file", "", None, deployed.types[name], frozenset())
        )
    return result


def compare_table(name, table, there, lines, result):
    diff, tally = result.differences, result.tallies
    table_lines = frozenset(lines.of_table(name))
    for what, mine, theirs in (
        ("table kind", table.kind, there.kind),
        ("table options", table.options, there.options),
        ("table comment", table.comment, there.comment),
    ):
        if mine != theirs:
            diff.append(Difference(name, what, "", mine, theirs, table_lines))
    for column_name, column in table.columns.items():
        other = there.columns.get(column_name)
        column_lines = frozenset(lines.of_column(name, column_name))
        if other is None:
            diff.append(
                Difference(name, "column missing", column_name, column.type, None, column_lines)
            )
            for part in ("type", "default", "nullability"):
                tally[f"columns: {part}"].count(False)
            continue
        for part, mine, theirs in (
            ("type", column.type, other.type),
            ("default", column.default, other.default),
            ("nullability", column.not_null, other.not_null),
            ("collation", column.collation, other.collation),
            ("identity", column.identity, other.identity),
            ("generated", column.generated, other.generated),
            ("comment", column.comment, other.comment),
            ("sequence", column.sequence, other.sequence),
        ):
            if part in ("type", "default", "nullability"):
                tally[f"columns: {part}"].count(mine == theirs)
            if mine != theirs:
                at = lines.of_column(name, column_name, part) if part == "default" else column_lines
                diff.append(
                    Difference(name, f"column {part}", column_name, mine, theirs, frozenset(at))
                )
    for column_name in there.columns.keys() - table.columns.keys():
        other = there.columns[column_name]
        diff.append(
            Difference(name, "column not in the file", column_name, None, other.type, table_lines)
        )
    for (contype, definition), (con_name, comment, columns) in table.constraints.items():
        kept = there.constraints.get((contype, definition))
        tally[KINDS[contype]].count(kept is not None)
        if kept is not None:
            tally["names (of constraints and indexes kept)"].count(kept[0] == con_name)
        at = lines.of_constraint(name, contype, con_name)
        at = frozenset(at.union(*(lines.of_column(name, c) for c in columns)))
        if kept is None:
            diff.append(
                Difference(name, f"{KINDS[contype]} missing", con_name, definition, None, at)
            )
        elif kept[1] != comment:
            diff.append(Difference(name, "constraint comment", con_name, comment, kept[1], at))
    for contype, definition in there.constraints.keys() - table.constraints.keys():
        con_name = there.constraints[(contype, definition)][0]
        diff.append(
            Difference(
                name, f"{KINDS[contype]} not in the file", con_name, None, definition, table_lines
            )
        )
    for definition, (index_name, comment) in table.indexes.items():
        kept = there.indexes.get(definition)
        tally["indexes"].count(kept is not None)
        if kept is not None:
            tally["names (of constraints and indexes kept)"].count(kept[0] == index_name)
        at = frozenset(lines.of_index(name, index_name))
        if kept is None:
            diff.append(Difference(name, "index missing", index_name, definition, None, at))
        elif kept[1] != comment:
            diff.append(Difference(name, "index comment", index_name, comment, kept[1], at))
    for definition in there.indexes.keys() - table.indexes.keys():
        index_name = there.indexes[definition][0]
        diff.append(
            Difference(name, "index not in the file", index_name, None, definition, table_lines)
        )


# ---------------------------------------------------------------------------------------
# The allowance: what the preview named


SUBJECT = re.compile(r'"?(?P<table>[^."(\s]+)"?(?:\.(?P<column>\S+)|\s*\((?P<columns>[^)]*)\))?')
ABOUT_INDEXES = re.compile(r"\bindex(es)?\b", re.IGNORECASE)


def scope_of(finding):
    """(table, what, columns) a finding's subject names: `t` a table (or a type), `t.c` a
    column, `t(a, b) → r` a foreign key."""
    match = SUBJECT.match(finding.subject or "")
    if match is None:
        return "", "table", ()
    if match["column"]:
        return match["table"], "column", (match["column"].strip('"'),)
    if match["columns"] is not None:
        columns = tuple(c.strip().strip('"') for c in match["columns"].split(","))
        return match["table"], "reference", columns
    return match["table"], "table", ()


def names_it(finding, difference):
    """Whether a finding (already known to sit on one of the difference's lines) speaks of
    it: about its table; about its column, or the whole table, for a column's difference;
    about a foreign key, or the table, for a foreign key's; not about a foreign key for
    another constraint's or an index's. A finding about an index names only differences of
    indexes and uniques."""
    table, what, columns = scope_of(finding)
    kind = difference.what
    if table != difference.table:
        return False
    if ABOUT_INDEXES.search(finding.message) and "index" not in kind and "unique" not in kind:
        return False
    if kind.endswith("not in the file") or kind.startswith(("table", "type")):
        return True
    if kind.startswith("column"):
        return what == "table" or difference.detail in columns
    if kind.startswith("foreign keys"):
        return what in ("table", "reference")
    return what in ("table", "column")


def named(difference, findings, table_lines=None):
    """Whether the preview names this difference: a finding that speaks of it (names_it) at
    one of its lines. A thing the file does not have (a column or key the design added) is
    named by a finding at any line of its table."""
    lines = difference.lines or frozenset(table_lines or ())
    return any(f.line in lines and names_it(f, difference) for f in findings)


def unnamed(comparison, plan, lines):
    """The differences the preview does not name: silent losses."""
    findings = [f for f in plan.findings if f.line is not None]
    back = {after: before for before, after in renamed(plan).items()}
    silent = []
    for difference in comparison.differences:
        table = back.get(difference.table, difference.table)
        table_lines = lines.of_table(table)
        if table != difference.table:
            difference = dataclasses.replace(difference, table=table)
        if not named(difference, findings, table_lines):
            silent.append(difference)
    return silent


def figures(comparison):
    """The percentages the note reports, by kind."""
    return {kind: (t.kept, t.total, t.percent) for kind, t in sorted(comparison.tallies.items())}


# ---------------------------------------------------------------------------------------
# Nothing lost without a word: every node of the parse tree is in the design or named


# ALTER TABLE clauses whose effect the catalog comparison checks (a constraint, a default,
# NOT NULL, a column, a partition, identity); any other clause must be a finding.
COMPARED_CLAUSES = {
    "AT_AddConstraint", "AT_ColumnDefault", "AT_SetNotNull", "AT_DropNotNull", "AT_AddColumn",
    "AT_AttachPartition", "AT_AddIdentity", "AT_SetIdentity", "AT_AlterColumnType",
}  # fmt: skip
# COMMENT ON these is compared (tables, columns, constraints, indexes); others are findings.
COMPARED_COMMENTS = {"OBJECT_TABLE", "OBJECT_COLUMN", "OBJECT_TABCONSTRAINT", "OBJECT_INDEX"}
# Statements whose content the catalog comparison checks, by what they create.
COMPARED_STATEMENTS = {"CreateStmt", "IndexStmt", "CreateEnumStmt", "CreateDomainStmt"}


def owned_sequences(lines):
    """Sequences the file makes a column's own (OWNED BY): part of that column's default."""
    owned = set()
    for kind, stmt, _, _ in lines.statements:
        if kind in ("CreateSeqStmt", "AlterSeqStmt"):
            for option in stmt.get("options", []):
                definition = option.get("DefElem", {})
                if definition.get("defname") == "owned_by" and "List" in definition.get("arg", {}):
                    owned.add(stmt["sequence"]["relname"])
    return owned


def compared(kind, stmt, owned):
    """Whether the catalog comparison checks what this statement makes."""
    if kind == "CommentStmt":
        return stmt.get("objtype") in COMPARED_COMMENTS
    if kind in ("CreateSeqStmt", "AlterSeqStmt"):
        return stmt["sequence"]["relname"] in owned
    return kind in COMPARED_STATEMENTS


def unaccounted(plan, lines):
    """The parse tree's nodes that are neither in the design (tables and columns here; what
    they hold is the catalog comparison's) nor named by a finding on their lines."""
    on_line = defaultdict(list)
    for finding in plan.findings:
        if finding.line is not None:
            on_line[finding.line].append(finding)
    renames = renamed(plan)
    tables = plan.snapshot["tables"]
    # A partition's columns are its parent's (it has no fields of its own).
    parent = {
        tid: (t.get("structure") or {}).get("partition_of", {}).get("table_id")
        for tid, t in tables.items()
    }
    design = {
        t["table_name"]: {f["field_name"] for f in tables[parent[tid] or tid]["fields"].values()}
        for tid, t in tables.items()
    }
    owned = owned_sequences(lines)
    missing = []

    def named_within(first, last):
        return any(on_line.get(n) for n in range(first, last + 1))

    def need(first, last, what):
        if not named_within(first, last):
            missing.append(f"line {first}: {what}")

    for line in lines.meta_commands:
        need(line, line, "a psql meta-command")
    for kind, stmt, first, last in lines.statements:
        if kind == "CreateStmt":
            name = stmt["relation"]["relname"]
            fields = design.get(renames.get(name, name))
            if fields is None:
                need(first, last, f"table {name} is not in the design")
                continue
            if (
                stmt.get("ofTypename")
                or stmt.get("tablespacename")
                or stmt.get("oncommit", "ONCOMMIT_NOOP") != "ONCOMMIT_NOOP"
            ):
                need(first, last, f"table {name}: OF type, TABLESPACE or ON COMMIT")
            for element in stmt.get("tableElts", []):
                ((element_kind, body),) = element.items()
                at = lines.at(body, first)
                if element_kind == "ColumnDef":
                    if body["colname"] not in fields and not on_line.get(at):
                        missing.append(
                            f"line {at}: column {name}.{body['colname']} is not in the design"
                        )
                    if body.get("storage_name") or body.get("compression"):
                        need(at, at, f"column {name}.{body['colname']}: STORAGE or COMPRESSION")
                elif element_kind != "Constraint":
                    need(at, at, f"{element_kind} in table {name}")
        elif kind == "AlterTableStmt" and stmt.get("objtype") == "OBJECT_TABLE":
            for cmd in stmt.get("cmds", []):
                subtype = cmd["AlterTableCmd"].get("subtype")
                if subtype not in COMPARED_CLAUSES:
                    need(first, last, f"ALTER TABLE {stmt['relation']['relname']} {subtype}")
        elif not compared(kind, stmt, owned):
            need(first, last, kind)
    return missing


# ---------------------------------------------------------------------------------------
# The app's side: import the file, activate every table, deploy


def import_and_deploy(user, name, text, timings=False):
    """Import `text` as a new project through the app, activate every table in one plan and
    deploy it: (plan, target schema, project), and with `timings` each step's seconds too."""
    from designer.database import activations
    from designer.interchange import imports
    from designer.models import Project

    started = time.perf_counter()
    project, plan, _ = imports.import_new_project(user, name, "sql", text)
    imported = time.perf_counter()
    deployment = activations.activate(user, project.id, all_drafts=True).deployment
    assert deployment.status == "applied", deployment.error
    done = time.perf_counter()
    result = plan, Project.get_by_id(project.id).target_schema, project
    if timings:
        return result, {"import": imported - started, "activate": done - imported}
    return result
