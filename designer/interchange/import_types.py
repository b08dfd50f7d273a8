"""PostgreSQL column types mapped to the designer's four types and their settings.

`map_type(name, modifiers, dimensions, named)` gives (data_type, settings, problem): `problem`
is None when the type maps exactly, else (kind, words) saying what is lost.
Names are PostgreSQL's internal ones (int4, varchar, bpchar...) or their SQL
spellings; the same table serves SQL files, DBML and a live catalog.
Pure: no database, no Flask.
"""

import re

from designer.design.column_types import MAX_DIMENSIONS
from designer.design.column_types import MAX_PRECISION
from designer.design.column_types import MAX_TIME_PRECISION
from designer.design.column_types import MAX_VARCHAR
from designer.design.column_types import parsed_type_name
from designer.design.column_types import type_schema
from designer.design.naming import quote_identifier
from designer.interchange.import_source import IMPERFECT
from designer.interchange.import_source import UNREPRESENTABLE

ALIASES = {
    "int": "int4",
    "integer": "int4",
    "smallint": "int2",
    "bigint": "int8",
    "serial4": "serial",
    "serial8": "bigserial",
    "serial2": "smallserial",
    "decimal": "numeric",
    "real": "float4",
    "float": "float8",
    "double precision": "float8",
    "double": "float8",
    "character varying": "varchar",
    "character": "bpchar",
    "char": "bpchar",
    "boolean": "bool",
    "timestamp without time zone": "timestamp",
    "timestamp with time zone": "timestamptz",
    "time without time zone": "time",
    "time with time zone": "timetz",
}
# interval's first modifier when it names no fields (INTERVAL_FULL_RANGE).
INTERVAL_ALL_FIELDS = 0x7FFF


def canonical_name(name):
    name = " ".join(name.lower().split())
    return ALIASES.get(name, name)


def map_type(name, modifiers=(), is_array=False, named=None):
    """(data_type, settings, problem) for a PostgreSQL type with its modifiers; `is_array`
    is its number of dimensions (True: one). `named` is the type as written (names and
    modifiers), kept as a named type when the designer has no exact word for it."""
    base = canonical_name(name)
    mapper = MAPPERS.get(base)
    if mapper is None:
        data_type, settings, problem = named_type(name, named)
    else:
        data_type, settings, problem = mapper(base, list(modifiers))
    dimensions = int(is_array)
    if dimensions and problem is None:
        if dimensions > MAX_DIMENSIONS:
            return "text", {}, (UNREPRESENTABLE, f"{name} with {dimensions} dimensions; as text")
        settings["array_dimensions"] = dimensions
    return data_type, settings, problem


def named_type(name, named):
    """A type the designer has no word for, kept by its name when PostgreSQL's parser reads
    it as a type name; else text, and a finding."""
    rendered, _ = parsed_type_name(named) if named else (None, None)
    if rendered is None:
        return "text", {}, (UNREPRESENTABLE, f"{name} has no designer type; imported as text")
    schema = other_schema(rendered)
    if schema is not None:
        # A deploy names nothing outside the project's schema (and pg_catalog).
        words = f"{rendered} is a type of schema {schema}, which a deploy cannot name; as text"
        return "text", {}, (UNREPRESENTABLE, words)
    return "text", {"text_type": "named", "named_type": rendered}, None


def other_schema(rendered):
    """The schema a deparsed type name is qualified with, unless pg_catalog (or None)."""
    schema = type_schema(rendered)
    return None if schema == "pg_catalog" else schema


def named_text(names, modifiers):
    """A type's text from its name parts and its modifiers' texts (numbers, words)."""
    text = ".".join(quote_identifier(part) for part in names)
    return f"{text}({', '.join(modifiers)})" if modifiers else text


def integer_type(base, modifiers):
    if base in ("int2", "smallserial"):
        return "number", {"number_type": "smallint"}, None
    if base in ("int8", "bigserial"):
        return "number", {"number_type": "bigint"}, None
    return "number", {"number_type": "integer"}, None


def numeric_type(base, modifiers):
    if not modifiers:
        return "number", {"number_type": "numeric"}, None
    precision = modifiers[0]
    scale = modifiers[1] if len(modifiers) > 1 else 0
    if not (1 <= precision <= MAX_PRECISION and 0 <= scale <= precision):
        words = f"numeric({precision},{scale}) has a scale the designer cannot hold; as numeric"
        return "number", {"number_type": "numeric"}, (IMPERFECT, words)
    return "number", {"number_type": "decimal", "precision": precision, "scale": scale}, None


def float_type(base, modifiers):
    return "number", {"number_type": "real" if base == "float4" else "double"}, None


def text_type(base, modifiers):
    if base == "text":
        return "text", {}, None
    if base == "varchar" and not modifiers:
        return "text", {"text_type": "varchar"}, None
    length = modifiers[0] if modifiers else 1
    if not 1 <= length <= MAX_VARCHAR:
        return "text", {}, (UNREPRESENTABLE, f"{base}({length}) is out of bounds; as text")
    if base == "bpchar":
        return "text", {"text_type": "char", "max_length": length}, None
    return "text", {"max_length": length}, None


def other_text_type(base, modifiers):
    return "text", {"text_type": base}, None


def date_type(base, modifiers):
    settings = {"date_type": base}
    if modifiers and base != "date":
        if not 0 <= modifiers[0] <= MAX_TIME_PRECISION:
            return "date", settings, (IMPERFECT, f"{base}({modifiers[0]}) becomes {base}")
        settings["time_precision"] = modifiers[0]
    return "date", settings, None


def boolean_type(base, modifiers):
    return "boolean", {}, None


MAPPERS = {
    **dict.fromkeys(("int2", "int4", "int8", "serial", "bigserial", "smallserial"), integer_type),
    "numeric": numeric_type,
    "float4": float_type,
    "float8": float_type,
    **dict.fromkeys(("text", "varchar", "bpchar"), text_type),
    **dict.fromkeys(("uuid", "json", "jsonb", "inet", "cidr", "macaddr", "bytea"), other_text_type),
    **dict.fromkeys(("date", "timestamp", "timestamptz", "time", "timetz", "interval"), date_type),
    "bool": boolean_type,
}
SERIALS = frozenset({"serial", "bigserial", "smallserial"})
FORMATTED = re.compile(
    r"^(?P<name>[a-z][a-z0-9_ ]*?)\s*(?:\((?P<mods>[0-9, ]+)\))?"
    r"(?P<rest>[a-z ]*)(?P<array>(\[\])*)$"
)


def parse_formatted(text):
    """(name, modifiers, dimensions) from a type as format_type or DBML writes it:
    `character varying(20)`, `numeric(12,2)`, `timestamp(3) with time zone`, `text[]`;
    a type of another shape (`geometry(Point,4326)`) is its whole text, less its []."""
    match = FORMATTED.match(" ".join(text.lower().split()))
    if match is None:
        stripped = re.sub(r"(\s*\[\s*\])+$", "", text)
        return stripped, [], (len(text) - len(stripped)) and text[len(stripped) :].count("[")
    mods = [int(m) for m in (match["mods"] or "").replace(" ", "").split(",") if m]
    name = f"{match['name']}{match['rest']}".strip()
    return name, mods, len(match["array"]) // 2
