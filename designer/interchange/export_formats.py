"""A design taken out of the designer: SQL, JSON, DBML and Mermaid files.

SQL is the deploy's own CREATE script (designer.database.ddl), JSON the
canonical snapshot (designer.history.snapshot), Mermaid the diagram's source
(designer.diagram). DBML is written here, in the subset both dbdiagram's
reference parser (@dbml/core) and pydbml read: validation rules travel as
`check:` lines of the column's note, since pydbml has no `checks` block.
Pure: no database, no Flask.
"""

import json
import re
from dataclasses import dataclass

from designer import diagram
from designer.database import ddl
from designer.database.ddl_terms import check_expression
from designer.database.ddl_terms import column_type
from designer.database.ddl_terms import ordered_fields
from designer.database.schema_objects import NameHints
from designer.database.schema_objects import ObjectNames
from designer.database.schema_objects import check_rules
from designer.database.schema_objects import names_of
from designer.design.column_types import enum_types
from designer.design.field_types import default_functions
from designer.design.keys import primary_key_fields
from designer.design.keys import relationship_pairs
from designer.design.naming import quote_identifier as ident
from designer.design.partitions import partition_by
from designer.design.partitions import partition_of
from designer.design.structure import expression_sql
from designer.design.structure import items
from designer.design.structure import sort_key
from designer.history import snapshot as snapshots
from designer.history.diff import empty_snapshot
from designer.interchange.export_repair import comments
from designer.interchange.export_repair import sound_design
from designer.kept import KeptAnswers

FORMATS = ("sql", "json", "dbml", "mermaid")
DBML_ACTIONS = {
    "no_action": "no action",
    "restrict": "restrict",
    "cascade": "cascade",
    "set_null": "set null",
    "set_default": "set default",
}


@dataclass
class ExportFile:
    """One exported file: its name, media type and text."""

    filename: str
    mimetype: str
    text: str


def live_design(snapshot):
    """The snapshot without Deleted tables and the relationships that touch them."""
    kept = {tid: t for tid, t in snapshot["tables"].items() if t["status"] != "deleted"}
    relationships = {
        rid: rel
        for rid, rel in snapshot["relationships"].items()
        if all(is_key(rel[end], kept) for end in ("source_table_id", "target_table_id"))
        and rel.get("status") != "deleted"
    }
    return {**snapshot, "tables": kept, "relationships": relationships}


def is_key(value, entries):
    """Whether `value` is an id of `entries` (an old snapshot may hold any JSON there)."""
    return isinstance(value, str) and value in entries


# Each table's piece of an export (its CREATE TABLE, its DBML block, its Mermaid entity, its
# JSON), by the hash of the table's stored part (designer.history.snapshot's Parts knows it for
# every entry it read) and whatever else the piece reads. After a one-table change an export
# writes that table's piece and joins the others. A piece holds its text only: keyed by the
# entry's identity, each held its entry too, unweighed, and after a 30,000-table export the
# pieces and sound tables (export_repair) kept the whole design alive, 1.3 GB of a worker.
# An entry that came from no stored part (a repaired copy) has its piece written, not kept.
# A 3,000-table project has about 12,000 pieces in the four formats, a 30,000-table one
# 120,000: bounded by bytes (the pool's budget, designer.kept), not by a count a large
# schema outgrows (at 16,000 pieces a 30,000-table export wrote every piece).
fragments = KeptAnswers(limit=1_000_000)
# Pieces written (not found kept), for tests: an export after a one-table change writes one.
work = {"pieces": 0}


def piece(key, table, compute):
    """compute()'s text for `table`, kept by `key` and the hash of the table's stored part."""

    def written():
        work["pieces"] += 1
        return compute()

    hashed = snapshots.parts.leaf_hash(table)
    if hashed is None:
        return written()
    return fragments.get((*key, hashed[0]), written)


# The last design's object names, lent to the next as `reuse` (a table whose part and incoming
# relationships are the same takes its names' candidates as they were): NameHints packed in
# one bytes object, which holds no entry of the design, kept in a store weighed with the
# others (at 3,000 tables some 4 MB; building the names lent takes 0.15 s, not 0.5 s).
last_names = KeptAnswers(limit=1)


def export_names(design):
    packed = last_names.peek("last")
    reuse = NameHints.unpack(packed, fingerprint) if packed is not None else None
    names = ObjectNames(design, reuse=reuse)
    packed = NameHints.of(names, fingerprint).pack()
    last_names.clear()
    last_names.get("last", lambda: packed)
    return names


def fingerprint(table, incoming):
    """What a table's names are made of, as a short key: the hash of its stored part and a
    digest of the relationships pointing at it (None for an entry read from no part)."""
    hashed = snapshots.parts.leaf_hash(table)
    if hashed is None:
        return None
    return hashed[0], snapshots.digest(snapshots.canonical_json(incoming))


def exportable(snapshot, known=None):
    """(design, notes): the live design as the rules allow it (see export_repair; `known`
    remembers the tables the rules accepted, export_repair.sound_design)."""
    return sound_design(live_design(snapshot), known)


def enum_key(design):
    """What of the design's enums a table's piece may show (their names)."""
    return tuple(sorted((eid, e["name"]) for eid, e in design.get("enums", {}).items()))


def sql_text(snapshot, schema):
    """The CREATE script of the live design (as ddl.create_script writes it), from pieces:
    the enum types, each table's CREATE TABLE with its indexes and comments, then the
    foreign keys, then the comments on constraints and indexes."""
    return "".join(sql_parts(snapshot, schema))


def sql_parts(snapshot, schema, known=None):
    """sql_text's text in parts, written as they are read (see export_parts)."""
    design, notes = exportable(snapshot, known)
    with enum_types(design.get("enums"), schema):
        yield from sql_pieces(design, notes, schema)


def sql_pieces(design, notes, schema):
    names = export_names(design).by_table
    ctx = ExportContext(schema, design, names)
    enums = {"enums": design["enums"]} if design.get("enums") else {}
    empty = {**empty_snapshot(), **enums, "tables": {}, "relationships": {}}
    yield comments(notes, "--")
    yield ddl.script(ddl.create_script(schema, empty))
    ordered = sorted(design["tables"], key=lambda tid: design["tables"][tid]["table_name"])
    enums_key = enum_key(design)
    for table_id in ordered:
        table_names = tuple(names[table_id].items())
        # A partition's CREATE TABLE names its parent.
        spec = partition_of(design["tables"][table_id])
        parent = design["tables"][spec["table_id"]]["table_name"] if spec else None
        key = ("sql", schema, table_names, enums_key, parent)
        yield piece(
            key,
            design["tables"][table_id],
            lambda tid=table_id: ddl.script(ddl.create_table(ctx, tid)),
        )
    yield ddl.script(ddl.add_foreign_keys(ctx, [], ordered))
    # Comments on uniques, CHECKs and indexes last, where the CREATE script has them.
    yield ddl.script(ddl.structure_comments(ctx, list(design["tables"]), []))


def full_sql_text(snapshot, schema):
    """sql_text written whole, with no piece kept (what the pieces must add up to)."""
    design, notes = exportable(snapshot)
    return comments(notes, "--") + ddl.script(ddl.create_script(schema, design))


class ExportContext(ddl.Context):
    """A migration Context from nothing to `design`, with its object names already known."""

    def __init__(self, schema, design, names):
        self.schema = schema
        self.old = empty_snapshot()
        self.new = design
        self.old_names = names_of(self.old).by_table
        self.new_names = names


def json_text(snapshot):
    """The whole snapshot (Deleted tables too), so an import gives back the same hash.

    Written as json.dumps(indent=2) writes it, from each table's piece indented in place."""
    return "".join(json_parts(snapshot))


def json_parts(snapshot):
    """json_text's text in parts (see export_parts)."""
    if snapshot.keys() != {"format", "relationships", "tables"} or not all(
        isinstance(tid, str) for tid in snapshot["tables"]
    ):
        yield full_json_text(snapshot)
        return
    tables = snapshot["tables"]
    enums = f'  "enums": {nested(snapshot["enums"], 1)},\n' if snapshot.get("enums") else ""
    yield (
        f'{{\n{enums}  "format": {nested(snapshot["format"], 1)},\n'
        f'  "relationships": {nested(snapshot["relationships"], 1)},\n'
        '  "tables": '
    )
    if not tables:
        yield "{}\n}\n"
        return
    for number, tid in enumerate(sorted(tables)):
        yield ("{\n" if number == 0 else ",\n") + f"    {json.dumps(tid, ensure_ascii=False)}: "
        yield piece(("json",), tables[tid], lambda tid=tid: nested(tables[tid], 2))
    yield "\n  }\n}\n"


def nested(value, level):
    """json.dumps(indent=2) of a value written `level` levels deep (JSON strings hold no raw
    line breaks, so every line break is one the indentation made)."""
    text = json.dumps(value, sort_keys=True, indent=2, ensure_ascii=False)
    return text.replace("\n", "\n" + "  " * level)


def full_json_text(snapshot):
    return json.dumps(snapshot, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


# Each format's file name extension and media type.
FILE_TYPES = {
    "sql": ("sql", "application/sql"),
    "json": ("json", "application/json"),
    "dbml": ("dbml", "text/plain"),
    "mermaid": ("mmd", "text/plain"),
}


def export_file(snapshot, fmt, schema, stem):
    """The snapshot as an ExportFile in `fmt` (one of FORMATS)."""
    extension, mimetype = FILE_TYPES[fmt]
    return ExportFile(f"{stem}.{extension}", mimetype, export_text(snapshot, fmt, schema))


def export_text(snapshot, fmt, schema):
    return "".join(export_parts(snapshot, fmt, schema))


def export_parts(snapshot, fmt, schema, known=None):
    """The file's text in parts, each written when asked for (the pieces of tables, line
    breaks...): a caller packing them as they come never holds the whole text. `known`
    remembers the tables the rules accepted (export_repair.sound_design)."""
    if fmt == "sql":
        return sql_parts(snapshot, schema, known)
    if fmt == "json":
        return json_parts(snapshot)
    if fmt == "dbml":
        return joined_lines(dbml_lines(snapshot, schema, known=known), rstrip=True)
    return joined_lines(mermaid_lines(snapshot, known))


def joined_lines(lines, rstrip=False):
    """The parts of "\\n".join(lines) + "\\n" (with `rstrip`, of its text before the last
    line break stripped of line breaks), one line or line break at a time: no part is
    copied into a larger text."""
    held, last = [], None  # (rstrip) line breaks after `last`, the last line with text
    for number, line in enumerate(lines):
        for part in ("\n", line) if number else (line,):
            if not rstrip:
                yield part
            elif part.strip("\n") == "":
                held.append(part)
            else:
                if last is not None:
                    yield last
                yield from held
                held, last = [], part
    if rstrip and last is not None:
        yield last.rstrip("\n")
    yield "\n"


def mermaid_text(snapshot):
    """diagram.mermaid(snapshot), from each table's entity kept as a piece."""
    return "".join(joined_lines(mermaid_lines(snapshot)))


def mermaid_lines(snapshot, known=None):
    design, notes = exportable(snapshot, known)
    tables = design["tables"]
    relationships = diagram.between(design["relationships"].values(), tables)
    foreign_keys = {r["target_field_id"] for r in relationships if r["target_field_id"]}
    yield "erDiagram"
    yield from comments(notes, "%%").splitlines()
    enums_key = enum_key(design)
    with enum_types(design.get("enums")):
        for table in sorted(tables.values(), key=lambda t: t["table_name"]):
            ids = (f["id"] for f in table["fields"].values() if f["id"] in foreign_keys)
            marked = tuple(sorted(ids))
            entity = lambda t=table: "\n".join(diagram.entity(t, foreign_keys))  # noqa: E731
            yield piece(("mermaid", marked, enums_key), table, entity)
    for rel in sorted(relationships, key=lambda r: r["relationship_name"]):
        yield diagram.relationship_line(rel, tables)


def full_text(snapshot, fmt, schema):
    """The file's text written whole, with no kept piece: what the pieces must add up to."""
    if fmt == "sql":
        return full_sql_text(snapshot, schema)
    if fmt == "json":
        return full_json_text(snapshot)
    if fmt == "dbml":
        return dbml_text(snapshot, schema, pieces=False)
    design, notes = exportable(snapshot)
    return diagram.mermaid(design).replace("erDiagram\n", "erDiagram\n" + comments(notes, "%%"), 1)


def dbml_string(text):
    """A DBML single-quoted string (backslash escapes, one line)."""
    escaped = str(text).replace("\\", "\\\\").replace("'", "\\'")
    # A carriage return as its escape, as a newline (both parsers read them back; left out,
    # a description typed in a browser, CRLF, came back changed).
    # A tab too: pydbml's parser expands tabs to spaces wherever they are.
    escaped = escaped.replace("\t", "\\t")
    return "'" + escaped.replace("\r", "\\r").replace("\n", "\\n") + "'"


def dbml_name(name):
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def dbml_default(field):
    value = field["default_value"]
    if field["data_type"] == "boolean":
        return "true" if value == "true" else "false"
    if field["data_type"] == "number":
        # Readers take 0.00 for the float 0.0: a decimal keeps its digits as a string, and so
        # does a negative number (pydbml reads no sign).
        return value if value.isascii() and value.isdigit() else dbml_string(value)
    if value in default_functions(field["data_type"], field["field_config"]):
        return f"`{value}`"
    return dbml_string(value)


def column_note(field, table=None):
    """The column's description, then one `check:` line per validation rule, then how its
    values are generated (identity, its sequence's name, a generated column's expression)."""
    lines = []
    # A blank note is left out: it says nothing, and pydbml cannot read one back.
    if str(field["field_config"].get("description") or "").strip():
        lines.append(field["field_config"]["description"])
    lines += [f"check: {one_line_check(field, *rule)}" for rule in check_rules(field)]
    config = field["field_config"]
    if config.get("identity"):
        lines.append(f"identity: {config['identity'].replace('_', ' ')}")
    if config.get("sequence_name"):
        lines.append(f"sequence: {config['sequence_name']}")
    for key in ("sequence_start", "sequence_increment"):
        if config.get(key) is not None:
            lines.append(f"{key.replace('_', ' ')}: {config[key]:d}")
    if config.get("generated") and table is not None:
        kind = "virtual" if config.get("virtual") else "stored"
        lines.append(f"generated {kind}: {expression_sql(table, config['generated'])}")
    return "\n".join(lines)


# A serial column as DBML writes its type (PostgreSQL's own words for it).
SERIAL_WORDS = {"smallint": "smallserial", "integer": "serial", "bigint": "bigserial"}


ENUM_NAME = re.compile(r'^"[a-z_][a-z0-9_]*"$')
ENUM_ARRAY = re.compile(r'^"([a-z_][a-z0-9_]*)"((?:\[\])+)$')
DBML_PLAIN_TYPE = re.compile(r"^[a-z_][a-z0-9_]*(\([0-9,]+\))?$")


def one_line_check(field, rule, value):
    """A rule's CHECK on one line of a note: a pattern holding a line break is written as an
    E'' string, its breaks as escapes (the note's lines are cut at each break)."""
    if rule != "pattern" or not ("\n" in value or "\r" in value):
        return check_expression(field, rule, value)
    escaped = value.replace("\\", "\\\\").replace("'", "\\'")
    escaped = escaped.replace("\n", "\\n").replace("\r", "\\r")
    return f"{ident(field['field_name'])} ~ E'{escaped}'"


def dbml_column(field, key=(), table=None):
    """A column line; `key` is the table's primary key (field ids), marked on the column
    when it is one column (a composite key is an index of the table's)."""
    config = field["field_config"]
    settings = []
    single_key = list(key) == [field["id"]]
    if single_key:
        settings.append("pk")
    elif field["is_required"]:
        settings.append("not null")
    if config.get("primary_key") or config.get("identity"):
        settings.append("increment")
    if config.get("unique") and not single_key:
        settings.append("unique")
    if field["default_value"] is not None:
        settings.append(f"default: {dbml_default(field)}")
    note = column_note(field, table)
    if note:
        settings.append(f"note: {dbml_string(note)}")
    shown = f" [{', '.join(settings)}]" if settings else ""
    words = column_type(field)
    if config.get("serial"):
        words = SERIAL_WORDS[config.get("number_type")]
    return f"  {dbml_name(field['field_name'])} {dbml_type(words)}{shown}"


def dbml_type(rendered):
    """A column type as DBML reads it: a plain word as it is, one with spaces or quotes
    (double precision, geometry(point, 4326)) as a quoted string."""
    if DBML_PLAIN_TYPE.match(rendered) or ENUM_NAME.match(rendered):
        return rendered  # (an enum is a quoted identifier already: DBML reads "name")
    array = ENUM_ARRAY.match(rendered)
    if array:
        # An enum's array, "state"[]: DBML reads no quote inside a quoted type, so "state[]"
        # (the importer finds the enum by its name before the brackets).
        return dbml_name(array.group(1) + array.group(2))
    return dbml_name(rendered)


def dbml_table(table):
    fields = ordered_fields(table)
    lines = [f"Table {dbml_name(table['table_name'])} {{"]
    key = primary_key_fields(table)
    lines += [dbml_column(field, key, table) for field in fields]
    indexed = [
        f
        for f in fields
        if f["field_config"].get("indexed") and not f["field_config"].get("unique")
    ]
    # Fields unique together with others (a junction's pair): one composite unique index.
    pairs = [[*partner_names(table, f), f["field_name"]] for f in fields if partner_names(table, f)]
    structured, left_out = dbml_structure(table)
    if indexed or pairs or structured or len(key) > 1:
        lines.append("  indexes {")
        if len(key) > 1:
            names = [dbml_name(table["fields"][f]["field_name"]) for f in key]
            lines.append(f"    ({', '.join(names)}) [pk]")
        lines += [f"    {dbml_name(f['field_name'])}" for f in indexed]
        lines += [f"    ({', '.join(map(dbml_name, pair))}) [unique]" for pair in pairs]
        lines += structured
        lines.append("  }")
    lines += left_out
    note = [table["description"]] if str(table.get("description") or "").strip() else []
    note += dbml_check_lines(table)
    if note:
        lines.append(f"  Note: {dbml_string(chr(10).join(note))}")
    lines.append("}")
    return lines


def dbml_check_lines(table):
    """The table's CHECKs as lines of its note (DBML has no CHECK): `check: <expression>`,
    or `check "<name>": <expression>` for one with its own name (the name as JSON)."""
    lines = []
    for item in sorted(items(table, "checks").values(), key=sort_key):
        called = f" {json.dumps(item['name'])}" if item["name"] else ""
        expression = " ".join(expression_sql(table, item["expression"]).split("\n"))
        lines.append(f"check{called}: {expression}")
    return lines


def dbml_structure(table):
    """(index lines, comment lines): the table's uniques and the indexes DBML can hold (keys
    of columns or expressions, btree or hash, unique, name, note); each other item is named
    in a comment, as DBML has no CHECK, WHERE, INCLUDE, COLLATE, operator class or order."""
    names = {fid: f["field_name"] for fid, f in table["fields"].items()}
    lines, left_out = [], []
    for item in sorted(items(table, "uniques").values(), key=sort_key):
        columns = ", ".join(dbml_name(names[c]) for c in item["columns"])
        lines.append(f"    ({columns}) [{dbml_item_settings(item, ['unique'])}]")
    for item in sorted(items(table, "indexes").values(), key=sort_key):
        plain = all(
            not (k["collation"] or k["opclass"] or k["descending"] or k["nulls"])
            for k in item["keys"]
        )
        if item["where"] or item["include"] or item["method"] not in ("btree", "hash") or not plain:
            called = item["name"] or "(generated name)"
            method = "" if item["method"] in ("btree", "hash") else f", {item['method']}"
            left_out.append(f"  // index {called} left out: {DBML_LACKS}{method}")
            continue
        keys = ", ".join(
            dbml_name(names[k["column"]])
            if k["column"]
            else f"`{expression_sql(table, k['expression'])}`"
            for k in item["keys"]
        )
        # A unique index says its type even when btree: without one, DBML's unique index
        # is read back as a UNIQUE constraint (the uniques above).
        settings = (["unique"] if item["unique"] else []) + (
            [f"type: {item['method']}"] if item["method"] != "btree" or item["unique"] else []
        )
        lines.append(f"    ({keys}) [{dbml_item_settings(item, settings)}]")
    if partition_by(table):
        words = f"PARTITION BY {ddl.partition_key_sql(table)}"
        left_out.append(f"  // {words} left out: DBML cannot say partitioning")
    return lines, left_out


DBML_LACKS = "DBML has no WHERE, INCLUDE, COLLATE, operator class, key order"


def dbml_item_settings(item, settings):
    settings = list(settings)
    if item["name"]:
        settings.append(f"name: {dbml_string(item['name'])}")
    if item["comment"]:
        settings.append(f"note: {dbml_string(item['comment'])}")
    return ", ".join(settings) or "name: ''"


def partner_names(table, field):
    """The names of the fields `field` is unique together with (field_config unique_with)."""
    partners = field["field_config"].get("unique_with") or ()
    return [table["fields"][p]["field_name"] for p in partners if p in table["fields"]]


def dbml_ref(snapshot, rel):
    source = snapshot["tables"][rel["source_table_id"]]
    target = snapshot["tables"][rel["target_table_id"]]
    pairs = relationship_pairs(snapshot, rel)
    keys = [dbml_name(source["fields"][k]["field_name"]) for k, _ in pairs]
    foreigns = [dbml_name(target["fields"][f]["field_name"]) for _, f in pairs]
    cascade = rel.get("cascade_config") or {}
    actions = (
        f"delete: {DBML_ACTIONS[cascade.get('on_delete', 'no_action')]}, "
        f"update: {DBML_ACTIONS[cascade.get('on_update', 'no_action')]}"
    )
    return (
        f"Ref {dbml_name(rel['relationship_name'])}: "
        f"{dbml_name(source['table_name'])}.{dbml_columns(keys)} < "
        f"{dbml_name(target['table_name'])}.{dbml_columns(foreigns)} [{actions}]"
    )


def dbml_columns(names):
    """One column, or several in parentheses (a composite reference)."""
    return names[0] if len(names) == 1 else f"({', '.join(names)})"


def dbml_block(table):
    return "\n".join([*dbml_table(table), ""])


def dbml_text(snapshot, schema, pieces=True):
    """DBML of the live design: tables with their columns' settings, then the refs."""
    return "".join(joined_lines(dbml_lines(snapshot, schema, pieces), rstrip=True))


def dbml_lines(snapshot, schema, pieces=True, known=None):
    design, notes = exportable(snapshot, known)
    yield from comments(notes, "//").splitlines()
    yield from [f"Project {dbml_name(schema)} {{", "  database_type: 'PostgreSQL'", "}", ""]
    for enum in sorted(design.get("enums", {}).values(), key=lambda e: e["name"]):
        yield f"Enum {dbml_name(enum['name'])} {{"
        yield from (f"  {dbml_name(label)}" for label in enum["labels"])
        yield from ["}", ""]
    enums_key = enum_key(design)
    with enum_types(design.get("enums")):
        for table in sorted(design["tables"].values(), key=lambda t: t["table_name"]):
            spec = partition_of(table)
            if spec:
                # No table of its own: its columns are its parent's.
                parent = design["tables"][spec["table_id"]]["table_name"]
                yield (
                    f"// {table['table_name']} left out: partition of {parent}: {spec['bound']}"
                    " (DBML cannot say partitioning)"
                )
                yield ""
                continue
            if pieces:
                block = lambda t=table: dbml_block(t)  # noqa: E731
                yield piece(("dbml", enums_key), table, block)
            else:
                yield from [*dbml_table(table), ""]
    # In id order, the order the SQL export lists foreign keys in (and an import keeps).
    rels = [rel for _, rel in sorted(design["relationships"].items())]
    yield from (dbml_ref(design, rel) for rel in rels if rel.get("target_field_id"))
