"""A field's PostgreSQL column type, rendered from our own words and bounded integers.

`sql_type` is what DDL is made of, the one renderer of a column's type: each enumerated
setting (text_type, number_type, date_type) maps to a word of ours, each sized one
(max_length, precision, scale, time_precision, array_dimensions) must be a whole number
within its bounds, an enum is named by the name its project gave it (quoted), a named
type (PostGIS's geometry(Point,4326), tsvector, a domain) is parsed by PostgreSQL's own
parser as a type name and deparsed again, and anything else raises UnsafeSetting (a
ValidationFailed): a setting is never pasted into SQL. Pure: no database, no Flask.

The exact type lives in field_config, inside the field's family (data_type):
- text: `text_type` varchar (max_length n, or none), char (max_length n), uuid, json,
  jsonb, inet, cidr, macaddr, bytea, enum (`enum_id`), named (`named_type`); without
  `text_type`, varchar(max_length) or text (how designs were stored before exact types);
- number: `number_type` smallint, integer, bigint, decimal (numeric(precision,scale)),
  numeric (no modifiers), real, double;
- date: `date_type` date, time, timetz, timestamp, timestamptz, interval, with an
  optional `time_precision` (0-6) for all but date;
- boolean;
- any of them an array: `array_dimensions` 1-6.
"""

import contextlib
import contextvars
import functools

from pglast import ast
from pglast import parse_sql
from pglast.parser import ParseError
from pglast.stream import RawStream

from designer.design.naming import quote_identifier
from designer.errors import ValidationFailed
from designer.models import DATA_TYPES

MAX_VARCHAR = 10_485_760
MAX_PRECISION = 1000
MAX_TIME_PRECISION = 6
MAX_DIMENSIONS = 6
MAX_NAMED_TYPE = 200
# The SQL words of each enumerated setting.
TEXT_SQL = {
    "varchar": "varchar", "char": "char", "uuid": "uuid", "json": "json", "jsonb": "jsonb",
    "inet": "inet", "cidr": "cidr", "macaddr": "macaddr", "bytea": "bytea",
    "enum": None, "named": None,
}  # fmt: skip
# Text types whose values are strings a length and a pattern can judge.
STRING_TYPES = ("text", "varchar", "char")
NUMBER_SQL = {
    "smallint": "smallint", "integer": "integer", "bigint": "bigint", "decimal": "numeric",
    "numeric": "numeric", "real": "real", "double": "double precision",
}  # fmt: skip
DATE_SQL = {
    "date": "date", "timestamp": "timestamp", "timestamptz": "timestamptz", "time": "time",
    "timetz": "timetz", "interval": "interval",
}  # fmt: skip
# The enum types a rendering may name: {enum id: SQL name}, set by `enum_types`.
_ENUM_NAMES = contextvars.ContextVar("enum_names", default=None)


class UnsafeSetting(ValidationFailed):
    """A stored setting outside what the designer renders: it never becomes SQL."""


def unsafe(key, message):
    raise UnsafeSetting(f"{key}: {message}", {key: message})


def bounded_setting(config, key, low, high, default=None):
    """A whole number (not a bool, not text) from low to high, or UnsafeSetting."""
    value = config.get(key, default)
    if type(value) is not int or not low <= value <= high:
        unsafe(key, f"expected a whole number from {low} to {high:,}, not {shown(value)}.")
    return value


def enumerated_setting(config, key, words, default):
    """Our SQL word for the setting's value, or UnsafeSetting."""
    value = config.get(key, default)
    if not isinstance(value, str) or value not in words:
        unsafe(key, f"expected one of {', '.join(words)}, not {shown(value)}.")
    return words[value]


def shown(value):
    """A short, one-line picture of a refused value (for messages, never for SQL)."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


@contextlib.contextmanager
def enum_types(enums, schema=None):
    """Within the block, sql_type names enum fields' types: `enums` is a snapshot's
    {id: {"name": ...}}, each name quoted (and qualified by `schema` when given)."""
    names = {}
    for enum_id, enum in (enums or {}).items():
        name = quote_identifier(enum["name"])
        names[enum_id] = f"{quote_identifier(schema)}.{name}" if schema else name
    token = _ENUM_NAMES.set(names)
    try:
        yield
    finally:
        _ENUM_NAMES.reset(token)


def sql_type(data_type, config):
    """The PostgreSQL column type of a field, built from our own words and bounded integers;
    UnsafeSetting for any setting outside them."""
    if not isinstance(config, dict):
        unsafe("field_config", "expected an object of settings.")
    base = base_type(data_type, config)
    if config.get("array_dimensions") is None:
        return base
    return base + "[]" * bounded_setting(config, "array_dimensions", 1, MAX_DIMENSIONS)


def base_type(data_type, config):
    if data_type == "text":
        return text_type(config)
    if data_type == "number":
        word = enumerated_setting(config, "number_type", NUMBER_SQL, "integer")
        if config.get("number_type") != "decimal":
            return word
        precision = bounded_setting(config, "precision", 1, MAX_PRECISION, 12)
        scale = bounded_setting(config, "scale", 0, precision, 2)
        return f"numeric({precision:d},{scale:d})"
    if data_type == "date":
        word = enumerated_setting(config, "date_type", DATE_SQL, "date")
        if word == "date" or config.get("time_precision") is None:
            return word
        return f"{word}({bounded_setting(config, 'time_precision', 0, MAX_TIME_PRECISION):d})"
    if data_type == "boolean":
        return "boolean"
    unsafe("data_type", f"expected one of {', '.join(DATA_TYPES)}, not {shown(data_type)}.")


def text_type(config):
    kind = config.get("text_type")
    if kind is None:
        if config.get("max_length") is None:
            return "text"
        return f"varchar({bounded_setting(config, 'max_length', 1, MAX_VARCHAR):d})"
    word = enumerated_setting(config, "text_type", TEXT_SQL, None)
    if kind in ("varchar", "char") and config.get("max_length") is None:
        return word  # varchar of any length; char is char(1)
    if kind in ("varchar", "char"):
        return f"{word}({bounded_setting(config, 'max_length', 1, MAX_VARCHAR):d})"
    if kind == "enum":
        return enum_name(config.get("enum_id"))
    if kind == "named":
        return named_type(config.get("named_type"))
    return word


def enum_name(enum_id):
    names = _ENUM_NAMES.get()
    if names is None:
        unsafe("enum_id", "names an enum, and no enums are known here.")
    if not isinstance(enum_id, str) or enum_id not in names:
        unsafe("enum_id", f"expected the id of one of the project's enums, not {shown(enum_id)}.")
    return names[enum_id]


def named_type(text):
    """A named type as PostgreSQL's parser reads it, deparsed again; UnsafeSetting otherwise."""
    if not isinstance(text, str) or not 0 < len(text) <= MAX_NAMED_TYPE:
        unsafe("named_type", f"expected a type name of 1 to {MAX_NAMED_TYPE} characters.")
    rendered, problem = parsed_type_name(text)
    if problem:
        unsafe("named_type", problem)
    return rendered


@functools.lru_cache(maxsize=4096)
def parsed_type_name(text):
    """(deparsed type name, None), or (None, why it is not one a field may have)."""
    try:
        statements = parse_sql(f"SELECT NULL::{text}")
    except (ParseError, RecursionError):
        return None, "is not a type name PostgreSQL can read."
    target = statements[0].stmt.targetList if len(statements) == 1 else None
    select = statements[0].stmt if len(statements) == 1 else None
    if (
        not isinstance(select, ast.SelectStmt)
        or len(target or ()) != 1
        or any(getattr(select, k) for k in ("fromClause", "whereClause", "intoClause"))
        or not isinstance(target[0].val, ast.TypeCast)
        or not isinstance(target[0].val.arg, ast.A_Const)
        or not target[0].val.arg.isnull
    ):
        return None, "is not a type name PostgreSQL can read."
    name = target[0].val.typeName
    parts = [getattr(part, "sval", None) for part in name.names]
    if name.setof or name.pct_type or not 1 <= len(parts) <= 2 or None in parts:
        return None, "expected a type's name, with its schema at most."
    if name.arrayBounds:
        return None, "an array is set by its dimensions (array_dimensions), not in the name."
    if parts[-1] in BUILT_IN_NAMES:
        return None, "is a type the designer has: choose it as an exact type instead."
    for modifier in name.typmods or ():
        if not plain_modifier(modifier):
            return None, "its modifiers may only be numbers, words and literals."
    return RawStream()(name), None


@functools.lru_cache(maxsize=4096)
def type_schema(text):
    """The schema a type name is qualified with (None when it is not, or is no type name)."""
    try:
        (statement,) = parse_sql(f"SELECT NULL::{text}")
        parts = statement.stmt.targetList[0].val.typeName.names
    except (ParseError, RecursionError, ValueError, AttributeError, TypeError, IndexError):
        return None
    return parts[0].sval if len(parts) == 2 else None


def plain_modifier(node):
    if isinstance(node, ast.A_Const):
        return not node.isnull and isinstance(node.val, ast.Integer | ast.Float | ast.String)
    if isinstance(node, ast.ColumnRef):
        return len(node.fields) == 1 and isinstance(node.fields[0], ast.String)
    return False


# Names (as the parser leaves them) of types a field holds as an exact type, not a named one.
BUILT_IN_NAMES = frozenset(
    {
        "text", "varchar", "bpchar", "char", "uuid", "json", "jsonb", "inet", "cidr", "macaddr",
        "bytea", "int2", "int4", "int8", "integer", "smallint", "bigint", "numeric", "decimal",
        "float4", "float8", "real", "date", "time", "timetz", "timestamp", "timestamptz",
        "interval", "bool", "boolean", "serial", "bigserial", "smallserial", "serial4", "serial8",
        "int", "float", "character",
    }
)  # fmt: skip
