"""The words DDL is made of: plan steps, quoted names and literals, column definitions,
constraint clauses, and the context (two snapshots, a schema, objects' names) they are read in.

Pure: no database, no Flask. Every identifier goes through quote_identifier, every value
through literal(), and everything else is a word of ours: types come from
designer.design.column_types, actions and rules from the mappings here, and a stored
setting outside them raises UnsafeSetting rather than reach the SQL.
"""

import re
from dataclasses import dataclass
from dataclasses import fields as dataclass_fields

from designer.database.schema_objects import ObjectNames
from designer.database.schema_objects import names_of
from designer.database.schema_objects import structure_item
from designer.design.column_types import MAX_VARCHAR
from designer.design.column_types import STRING_TYPES
from designer.design.column_types import UnsafeSetting
from designer.design.column_types import bounded_setting
from designer.design.column_types import sql_type
from designer.design.column_types import unsafe
from designer.design.field_types import default_functions
from designer.design.naming import quote_identifier as ident
from designer.design.structure import METHODS
from designer.design.structure import expression_sql

# A number as a bare SQL literal: digits, a sign, a point, an exponent; nothing else.
NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
SAFE, BLOCKING, DATA_DEPENDENT, DESTRUCTIVE = "safe", "blocking", "data_dependent", "destructive"
KINDS = (SAFE, BLOCKING, DATA_DEPENDENT, DESTRUCTIVE)
ACTIONS = {
    "no_action": "NO ACTION",
    "restrict": "RESTRICT",
    "cascade": "CASCADE",
    "set_null": "SET NULL",
    "set_default": "SET DEFAULT",
}


# Defined in the deploy transaction, so cast failures can be counted on any PostgreSQL.
CASTABLE_FUNCTION = """CREATE FUNCTION pg_temp.dmd_castable(value text, target text)
RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('SELECT %L::%s', value, target);
    RETURN true;
EXCEPTION WHEN others THEN
    RETURN false;
END $$"""


@dataclass
class Step:
    """One step of a plan: one SQL statement and what running it risks."""

    sql: str
    kind: str
    reason: str
    table_id: str | None = None
    measure: str | None = None

    def as_dict(self):
        # Shallow (its values are strings): asdict's deep copy took 0.15 s for 1,656 steps.
        return {f.name: getattr(self, f.name) for f in dataclass_fields(self)}


def literal(value):
    """A string as a standard SQL literal (standard_conforming_strings is on)."""
    return "'" + str(value).replace("'", "''") + "'"


def qualified(schema, name):
    return f"{ident(schema)}.{ident(name)}"


def column_type(field):
    try:
        return sql_type(field["data_type"], field["field_config"])
    except UnsafeSetting as exc:
        message = f"Column {field['field_name']!r}: {exc.message} Edit the field to deploy it."
        raise UnsafeSetting(message, exc.fields) from None


def action_words(action):
    """ON DELETE / ON UPDATE words of a cascade action (UnsafeSetting for another value)."""
    if not isinstance(action, str) or action not in ACTIONS:
        unsafe("cascade_config", f"expected one of {', '.join(ACTIONS)}.")
    return ACTIONS[action]


def length_bound(value):
    """A min_length as check_rules gives it (its text), as a whole number of ours."""
    number = int(value) if isinstance(value, str) and value.isascii() and value.isdigit() else None
    return bounded_setting({"min_length": number}, "min_length", 0, MAX_VARCHAR)


def default_sql(field):
    """The column's DEFAULT expression, or None."""
    value = field.get("default_value")
    if value is None:
        return None
    type_words = column_type(field)
    if type_words == "boolean":
        return "true" if value == "true" else "false"
    functions = default_functions(field["data_type"], field["field_config"])
    if isinstance(value, str) and value in functions:
        return value
    if field["data_type"] == "number" and "[]" not in type_words and NUMBER.fullmatch(value):
        # As a file writes it (DEFAULT 0, DEFAULT -1): PostgreSQL keeps `'0'::smallint` as
        # written, and a column made from the file would differ from the design's.
        return value
    text_type = field["field_config"].get("text_type") or "text"
    if field["data_type"] == "text" and text_type in STRING_TYPES and "[]" not in type_words:
        return literal(value)  # DEFAULT '' as files write it ('' ::character varying)
    return f"{literal(value)}::{type_words}"


def check_expression(field, rule, value):
    column = ident(field["field_name"])
    if rule == "min":
        return f"{column} >= {literal(value)}::{column_type(field)}"
    if rule == "max":
        return f"{column} <= {literal(value)}::{column_type(field)}"
    if rule == "min_length":
        return f"char_length({column}) >= {length_bound(value):d}"
    if rule == "pattern":
        return f"{column} ~ {literal(value)}"
    unsafe(rule, "is not a validation rule.")


def comment_of_table(table):
    description = (table.get("description") or "").strip()
    if table.get("status") == "deprecated":
        return f"DEPRECATED. {description}".strip()
    return description or None


def column_definition(field, sequence=None, table=None):
    """A column as CREATE TABLE or ADD COLUMN declares it; `sequence` names (qualified) the
    sequence of an identity or serial column; `table` (its snapshot entry) names the columns
    a generated one's expression reads."""
    config = field["field_config"]
    parts = [ident(field["field_name"]), column_type(field) + collate_words(field)]
    if config.get("generated") is not None:
        parts.append(generated_words(field, table))
    identity = identity_words(config)
    if identity:
        parts.append(identity)
        if sequence:
            parts.append(f"(SEQUENCE NAME {sequence}{sequence_options(config)})")
    default = default_sql(field)
    if config.get("serial") and sequence:
        default = serial_default(sequence)
    if default is not None:
        parts.append(f"DEFAULT {default}")
    if field["is_required"] and not config.get("primary_key"):
        parts.append("NOT NULL")
    return " ".join(parts)


IDENTITY_WORDS = {
    "always": "GENERATED ALWAYS AS IDENTITY",
    "by_default": "GENERATED BY DEFAULT AS IDENTITY",
}


def identity_words(config):
    """GENERATED ... AS IDENTITY of the designer's id or an identity column (None for none)."""
    if config.get("primary_key"):
        return IDENTITY_WORDS["by_default"]
    kind = config.get("identity")
    if kind is None:
        return None
    if kind not in IDENTITY_WORDS:
        unsafe("identity", f"expected one of {', '.join(IDENTITY_WORDS)}.")
    return IDENTITY_WORDS[kind]


def generated_words(field, table):
    """GENERATED ALWAYS AS (expression) STORED (or VIRTUAL), the expression with the
    columns' current names."""
    if table is None:
        unsafe("generated", "a generated column is declared within its table.")
    kind = "VIRTUAL" if field["field_config"].get("virtual") else "STORED"
    return (
        f"GENERATED ALWAYS AS ({expression_sql(table, field['field_config']['generated'])}) {kind}"
    )


def sequence_options(config):
    """START WITH n INCREMENT BY m of a column's own sequence (nothing for 1 and 1)."""
    words = ""
    for key, clause in (("sequence_start", "START WITH"), ("sequence_increment", "INCREMENT BY")):
        value = config.get(key)
        if value is not None:
            if type(value) is not int:
                unsafe(key, "expected a whole number.")
            words += f" {clause} {value:d}"
    return words


def serial_default(sequence):
    """A serial column's default: the next value of its own (qualified) sequence, as pg_dump
    writes it and PostgreSQL's serial makes it."""
    return f"nextval({literal(sequence)}::regclass)"


def sequence_statements(relation, field, sequence):
    """(CREATE SEQUENCE before the column, OWNED BY after it) of a serial column: what
    PostgreSQL's serial does, with the sequence named by the design."""
    create = f"CREATE SEQUENCE {sequence} AS {column_type(field)}"
    create += sequence_options(field["field_config"])
    owned = f"ALTER SEQUENCE {sequence} OWNED BY {relation}.{ident(field['field_name'])}"
    return create, owned


def collate_words(field):
    """ " COLLATE "C"" for a column with a collation of its own, else nothing."""
    collation = field["field_config"].get("collation")
    return f" COLLATE {ident(collation)}" if collation else ""


def ordered_fields(table):
    fields = table["fields"]
    return [fields[fid] for fid in sorted(fields, key=lambda f: (fields[f]["sort_order"] or 0, f))]


class Context:
    """The two snapshots of a migration, the target schema and the objects' names."""

    def __init__(self, schema, old, new):
        self.schema = schema
        self.old = old
        self.new = new
        old_names = names_of(old)
        self.old_names = old_names.by_table
        self.new_names = ObjectNames(new, reuse=old_names).by_table

    def table(self, table_id, side="new"):
        return getattr(self, side)["tables"][table_id]

    def relation(self, table_id, side="new"):
        return qualified(self.schema, self.table(table_id, side)["table_name"])

    def constraint_clause(self, table_id, key, name, side="new"):
        """`CONSTRAINT name ...` for a non-index object (None for plain indexes)."""
        snapshot = getattr(self, side)
        table = snapshot["tables"][table_id]
        kind = key[0]
        if kind in ("index", "sequence", "table_index"):
            return None
        if kind == "table_unique":
            item = structure_item(table, key)
            columns = ", ".join(ident(table["fields"][f]["field_name"]) for f in item["columns"])
            return f"CONSTRAINT {ident(name)} UNIQUE ({columns})"
        if kind == "table_check":
            expression = expression_sql(table, structure_item(table, key)["expression"])
            return f"CONSTRAINT {ident(name)} CHECK ({expression})"
        if kind == "unique_together":
            columns = ", ".join(ident(table["fields"][f]["field_name"]) for f in key[1:])
            return f"CONSTRAINT {ident(name)} UNIQUE ({columns})"
        if kind == "pkey":
            return f"CONSTRAINT {ident(name)} PRIMARY KEY ({column_list(table, key[1:])})"
        if kind == "fkey":
            source = snapshot["tables"][key[3]]
            body = (
                f"FOREIGN KEY ({column_list(table, key[2])})"
                f" REFERENCES {qualified(self.schema, source['table_name'])}"
                f" ({column_list(source, key[4])})"
                f" ON DELETE {action_words(key[5])} ON UPDATE {action_words(key[6])}"
            )
            return f"CONSTRAINT {ident(name)} {body}"
        field = table["fields"][key[1]]
        column = ident(field["field_name"])
        if kind == "unique":
            body = f"UNIQUE ({column})"
        else:
            body = f"CHECK ({check_expression(field, key[2], key[3])})"
        return f"CONSTRAINT {ident(name)} {body}"

    def index_statement(self, table_id, key, name):
        if key[0] == "table_index":
            return index_definition(self.table(table_id), key, name, self.relation(table_id))
        columns = column_list(self.table(table_id), key[1:])
        return f"CREATE INDEX {ident(name)} ON {self.relation(table_id)} ({columns})"


def column_list(table, field_ids):
    """The fields' quoted column names, comma separated, in the order given."""
    return ", ".join(ident(table["fields"][f]["field_name"]) for f in field_ids)


def qualified_ident(name):
    """An operator class's name as SQL: `schema.name` (an extension's, such as
    public.gin_trgm_ops, which the deploy's search_path would not find) quoted part by part.
    Operator class names hold no dot of their own."""
    return ".".join(ident(part) for part in name.split(".", 1))


def index_key_sql(table, key):
    """One key of a designed index: column or (expression), COLLATE, opclass, order."""
    if key["column"] is not None:
        words = [ident(table["fields"][key["column"]]["field_name"])]
    else:
        words = [f"({expression_sql(table, key['expression'])})"]
    if key["collation"] is not None:
        words.append(f"COLLATE {ident(key['collation'])}")
    if key["opclass"] is not None:
        words.append(qualified_ident(key["opclass"]))
    if key["descending"]:
        words.append("DESC")
    if key["nulls"] is not None:
        words.append("NULLS " + {"first": "FIRST", "last": "LAST"}[key["nulls"]])
    return " ".join(words)


def index_definition(table, key, name, relation):
    """CREATE [UNIQUE] INDEX of a structure item (designer.design.structure)."""
    item = structure_item(table, key)
    if item["method"] not in METHODS:
        unsafe("method", f"expected one of {', '.join(METHODS)}.")
    unique = "UNIQUE " if item["unique"] else ""
    keys = ", ".join(index_key_sql(table, k) for k in item["keys"])
    sql = f"CREATE {unique}INDEX {ident(name)} ON {relation} USING {item['method']} ({keys})"
    if item["include"]:
        included = ", ".join(ident(table["fields"][f]["field_name"]) for f in item["include"])
        sql += f" INCLUDE ({included})"
    if item["where"] is not None:
        sql += f" WHERE {expression_sql(table, item['where'])}"
    return sql


def column_comment(ctx, table_id, field):
    column = f"{ctx.relation(table_id)}.{ident(field['field_name'])}"
    text = field["field_config"].get("description")
    value = literal(text) if text else "NULL"
    return Step(f"COMMENT ON COLUMN {column} IS {value}", SAFE, "comment", table_id)
