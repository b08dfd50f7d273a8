"""PostgreSQL column types mapped to the designer's four types and their settings.

`map_type(name, modifiers, is_array)` gives (data_type, settings, problem): `problem`
is None when the type maps exactly, else (kind, words) saying what is lost.
Names are PostgreSQL's internal ones (int4, varchar, bpchar...) or their SQL
spellings; the same table serves SQL files, DBML and a live catalog.
Pure: no database, no Flask.
"""

import re

from designer.database.import_source import IMPERFECT
from designer.database.import_source import UNREPRESENTABLE

# Floats and unbounded numerics have no exact decimal(p, s): this one keeps most values.
WIDE_DECIMAL = {"number_type": "decimal", "precision": 38, "scale": 10}
ALIASES = {
    "int": "int4",
    "integer": "int4",
    "smallint": "int2",
    "bigint": "int8",
    "serial4": "serial",
    "serial8": "bigserial",
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


def canonical_name(name):
    name = " ".join(name.lower().split())
    return ALIASES.get(name, name)


def map_type(name, modifiers=(), is_array=False):
    """(data_type, settings, problem) for a PostgreSQL type with its modifiers."""
    base = canonical_name(name)
    if is_array:
        return "text", {}, (UNREPRESENTABLE, f"{name}[] has no designer type; imported as text")
    mapper = MAPPERS.get(base)
    if mapper is None:
        return "text", {}, (UNREPRESENTABLE, f"{name} has no designer type; imported as text")
    return mapper(base, list(modifiers))


def integer_type(base, modifiers):
    if base in ("int2", "smallserial"):
        return "number", {"number_type": "integer"}, (IMPERFECT, "smallint becomes integer")
    if base in ("int8", "bigserial"):
        return "number", {"number_type": "bigint"}, None
    return "number", {"number_type": "integer"}, None


def numeric_type(base, modifiers):
    if not modifiers:
        return (
            "number",
            dict(WIDE_DECIMAL),
            (IMPERFECT, "numeric without precision becomes decimal(38,10)"),
        )
    precision = modifiers[0]
    scale = modifiers[1] if len(modifiers) > 1 else 0
    if not (1 <= precision <= 1000 and 0 <= scale <= precision):
        return (
            "number",
            dict(WIDE_DECIMAL),
            (IMPERFECT, f"numeric({precision},{scale}) becomes decimal(38,10)"),
        )
    return "number", {"number_type": "decimal", "precision": precision, "scale": scale}, None


def float_type(base, modifiers):
    words = "real" if base == "float4" else "double precision"
    return (
        "number",
        dict(WIDE_DECIMAL),
        (IMPERFECT, f"{words} (floating point) becomes decimal(38,10)"),
    )


def money_type(base, modifiers):
    settings = {"number_type": "decimal", "precision": 19, "scale": 2}
    return "number", settings, (IMPERFECT, "money becomes decimal(19,2)")


def text_type(base, modifiers):
    if base == "text" or not modifiers:
        if base == "bpchar":
            return (
                "text",
                {"max_length": 1},
                (IMPERFECT, "char pads with spaces; becomes varchar(1)"),
            )
        return "text", {}, None
    length = modifiers[0]
    if base == "bpchar":
        problem = (IMPERFECT, f"char({length}) pads with spaces; becomes varchar({length})")
        return "text", {"max_length": length}, problem
    return "text", {"max_length": length}, None


def date_type(base, modifiers):
    if base == "timetz":
        return "date", {"date_type": "time"}, (IMPERFECT, "time with time zone becomes time")
    problem = None
    if modifiers and base != "date":
        problem = (IMPERFECT, f"{base}({modifiers[0]}) loses its precision: {base}")
    return "date", {"date_type": base}, problem


def boolean_type(base, modifiers):
    return "boolean", {}, None


MAPPERS = {
    **dict.fromkeys(("int2", "int4", "int8", "serial", "bigserial", "smallserial"), integer_type),
    "numeric": numeric_type,
    "float4": float_type,
    "float8": float_type,
    "money": money_type,
    **dict.fromkeys(("text", "varchar", "bpchar"), text_type),
    **dict.fromkeys(("date", "timestamp", "timestamptz", "time", "timetz"), date_type),
    "bool": boolean_type,
}
SERIALS = frozenset({"serial", "bigserial", "smallserial"})
FORMATTED = re.compile(
    r"^(?P<name>[a-z][a-z0-9_ ]*?)\s*(?:\((?P<mods>[0-9, ]+)\))?"
    r"(?P<rest>[a-z ]*)(?P<array>(\[\])*)$"
)


def parse_formatted(text):
    """(name, modifiers, is_array) from a type as format_type or DBML writes it:
    `character varying(20)`, `numeric(12,2)`, `timestamp(3) with time zone`, `text[]`."""
    match = FORMATTED.match(" ".join(text.lower().split()))
    if match is None:
        return text, [], False
    mods = [int(m) for m in (match["mods"] or "").replace(" ", "").split(",") if m]
    name = f"{match['name']}{match['rest']}".strip()
    return name, mods, bool(match["array"])
