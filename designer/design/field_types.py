"""The four field types: their settings, validation rules, defaults and PostgreSQL types.

`clean_field` turns raw input (a form or a JSON body, as strings or JSON
values) into the values of a DataField, or raises ValidationFailed naming each
wrong input. It is pure: checking a regular expression against PostgreSQL's
own dialect is passed in by the caller.
"""

import datetime
import decimal
import ipaddress
import json
import re
import uuid

from designer.design.column_types import DATE_SQL
from designer.design.column_types import MAX_DIMENSIONS
from designer.design.column_types import MAX_NAMED_TYPE
from designer.design.column_types import MAX_PRECISION
from designer.design.column_types import MAX_TIME_PRECISION
from designer.design.column_types import MAX_VARCHAR
from designer.design.column_types import NUMBER_SQL
from designer.design.column_types import STRING_TYPES
from designer.design.column_types import TEXT_SQL
from designer.design.column_types import UnsafeSetting
from designer.design.column_types import parsed_type_name
from designer.design.column_types import sql_type
from designer.design.expressions import ExpressionProblem
from designer.design.expressions import stored_expression
from designer.design.naming import identifier_problem
from designer.design.naming import suggest_identifier
from designer.errors import ValidationFailed
from designer.models import DATA_TYPES
from designer.models import MAX_DESCRIPTION

NUMBER_TYPES = tuple(NUMBER_SQL)
DATE_TYPES = tuple(DATE_SQL)
TEXT_TYPES = ("text", *TEXT_SQL)
INTEGER_RANGES = {
    "smallint": (-(2**15), 2**15 - 1),
    "integer": (-(2**31), 2**31 - 1),
    "bigint": (-(2**63), 2**63 - 1),
}
MAX_NAME = 200
# How an integer column's values may be generated: identity (ALWAYS, BY DEFAULT), or serial
# (a DEFAULT nextval() of a sequence the column owns). The key of `identity` in field_config.
IDENTITY_KINDS = ("always", "by_default")
SEQUENCE_TYPES = ("smallint", "integer", "bigint")
MAX_DEFAULT = 10_000
TRUE_WORDS = {"true", "t", "yes", "y", "on", "1"}
FALSE_WORDS = {"false", "f", "no", "n", "off", "0"}
# SQL functions accepted as a default, by date type.
DATE_FUNCTIONS = {
    "date": {"now()", "current_date"},
    "timestamp": {"now()", "current_timestamp", "localtimestamp", "current_date"},
    "timestamptz": {"now()", "current_timestamp"},
    "time": {"current_time", "localtime"},
    "timetz": {"current_time"},
    "interval": set(),
}
# ... and by text type.
# uuidv7() is PostgreSQL 18's (time-ordered): an older target's dry run says it lacks it.
TEXT_FUNCTIONS = {"uuid": {"gen_random_uuid()", "uuidv7()"}}
DATE_PARSERS = {
    "date": datetime.date.fromisoformat,
    "timestamp": datetime.datetime.fromisoformat,
    "timestamptz": datetime.datetime.fromisoformat,
    "time": datetime.time.fromisoformat,
    "timetz": datetime.time.fromisoformat,
}
# An interval as PostgreSQL reads one: quantities and units, ISO 8601, or h:m:s.
INTERVAL = re.compile(r"^[0-9A-Za-z .:+\-]{1,100}$")
MACADDR = re.compile(r"^[0-9A-Fa-f]{2}([:-]?)[0-9A-Fa-f]{2}(\1[0-9A-Fa-f]{2}){4}$")
BYTEA = re.compile(r"^\\x(?:[0-9A-Fa-f]{2})*$")
# Settings each type keeps in field_config; anything else is dropped on a type change.
TYPE_SETTINGS = {
    "text": (
        "text_type",
        "max_length",
        "min_length",
        "pattern",
        "enum_id",
        "named_type",
        "collation",
    ),
    "number": (
        "number_type",
        "precision",
        "scale",
        "min",
        "max",
        "identity",
        "serial",
        "sequence_name",
        "sequence_start",
        "sequence_increment",
    ),  # fmt: skip
    "date": ("date_type", "time_precision"),
    "boolean": (),
}
COMMON_SETTINGS = (
    "unique", "indexed", "description", "array_dimensions", "generated", "virtual",
)  # fmt: skip
# The settings that make a field's PostgreSQL type (what type_settings copies).
TYPE_KEYS = (
    "text_type", "max_length", "enum_id", "named_type", "number_type", "precision", "scale",
    "date_type", "time_precision", "array_dimensions",
)  # fmt: skip
# Every table's key: the designer's bigint identity `id`, exactly so.
SYSTEM_FIELD = {
    "name": "ID",
    "field_name": "id",
    "data_type": "number",
    "is_required": True,
    "sort_order": 0,
    "field_config": {"system": True, "primary_key": True, "number_type": "bigint"},
}


# The type picker's words: each exact type, its family and the setting that makes it.
EXACT_TYPES = {
    "text": ("text", "text_type", "text"),
    **{word: ("text", "text_type", word) for word in TEXT_SQL if word != "named"},
    "named type": ("text", "text_type", "named"),
    "smallint": ("number", "number_type", "smallint"),
    "integer": ("number", "number_type", "integer"),
    "bigint": ("number", "number_type", "bigint"),
    "decimal": ("number", "number_type", "decimal"),
    "numeric": ("number", "number_type", "numeric"),
    "real": ("number", "number_type", "real"),
    "double precision": ("number", "number_type", "double"),
    **{word: ("date", "date_type", word) for word in DATE_SQL},
    "boolean": ("boolean", None, None),
}


def picked_type(data):
    """The input with the type picker's choice (`exact_type`) applied: its family and its
    exact type, the picker itself emptied. Unknown words change nothing."""
    chosen = EXACT_TYPES.get(" ".join(str(data.get("exact_type") or "").lower().split()))
    data = {**data, "exact_type": ""}
    if chosen is not None:
        data["data_type"] = chosen[0]
        if chosen[1]:
            data[chosen[1]] = chosen[2]
    return data


def python_regex_problem(pattern):
    try:
        re.compile(pattern)
    except re.error as exc:
        return f"Not a valid regular expression: {exc}."
    return None


def truthy(value):
    if isinstance(value, bool):
        return value
    return str(value or "").strip().lower() in TRUE_WORDS


def text_or_none(value):
    if value is None:
        return None
    text = str(value).strip()
    return text or None


class Cleaner:
    """Collects each input's problem while reading the values."""

    def __init__(self, data, enums=None):
        self.data = data
        self.problems = {}
        # The project's enums ({id: {"name", "labels"}}), which an enum field names.
        self.enums = enums or {}

    def fail(self, key, message):
        self.problems.setdefault(key, message)

    def integer(self, key, low, high):
        raw = text_or_none(self.data.get(key))
        if raw is None:
            return None
        try:
            value = int(raw)
        except (TypeError, ValueError):
            self.fail(key, "Enter a whole number.")
            return None
        if not low <= value <= high:
            self.fail(key, f"Enter a number from {low} to {high:,}.")
            return None
        return value

    def number(self, key):
        raw = text_or_none(self.data.get(key))
        if raw is None:
            return None
        try:
            value = decimal.Decimal(raw)
        except decimal.InvalidOperation:
            self.fail(key, "Enter a number.")
            return None
        if not value.is_finite():
            self.fail(key, "Enter a finite number.")
            return None
        # Beyond numeric's digits, and beyond what decimal arithmetic can compare.
        if abs(value.adjusted()) > MAX_PRECISION:
            self.fail(key, f"Use a number of at most {MAX_PRECISION} digits.")
            return None
        return value

    def choice(self, key, options, default):
        value = text_or_none(self.data.get(key)) or default
        if value not in options:
            self.fail(key, f"Choose one of: {', '.join(options)}.")
            return default
        return value


def clean_field(
    data, regex_problem=python_regex_problem, regex_matches=None, enums=None, columns=None
):
    """Validated DataField values from raw input; raises ValidationFailed. `enums` are the
    project's ({id: {"name", "labels"}}): an enum field must name one of them. `columns`
    are the table's other columns ({name: field id}), which a generated column's expression
    may read."""
    c = Cleaner(data, enums)
    name = (text_or_none(data.get("name")) or "")[: MAX_NAME + 1]
    if not name:
        c.fail("name", "Enter a name.")
    elif len(name) > MAX_NAME:
        c.fail("name", f"Use at most {MAX_NAME} characters.")
    field_name = text_or_none(data.get("field_name")) or suggest_identifier(name, "field")
    problem = identifier_problem(field_name, "field")
    if problem:
        c.fail("field_name", problem)
    data_type = c.choice("data_type", DATA_TYPES, "text")
    config = {"unique": truthy(data.get("unique")), "indexed": truthy(data.get("indexed"))}
    description = text_or_none(data.get("description"))
    if description and len(description) > MAX_DESCRIPTION:
        c.fail("description", f"Use at most {MAX_DESCRIPTION:,} characters.")
    elif description:
        config["description"] = description
    config.update(SETTINGS_CLEANERS[data_type](c, regex_problem))
    dimensions = c.integer("array_dimensions", 0, MAX_DIMENSIONS)
    if dimensions:
        config["array_dimensions"] = dimensions
        for key in ("min", "max", "min_length", "pattern"):
            if key in config:
                c.fail(key, "An array's values have no such rule.")
    collation = text_or_none(data.get("collation"))
    if collation is not None:
        # A text column's collation (how it sorts and compares): a name, always quoted.
        if data_type != "text":
            c.fail("collation", "Only a text column has a collation.")
        elif len(collation.encode("utf-8")) > 63 or any(ord(ch) < 32 for ch in collation):
            c.fail("collation", "A collation is a name of at most 63 bytes.")
        else:
            config["collation"] = collation
    default = default_input(data, data_type, config)
    config.update(generated_setting(c, columns, default))
    if default is not None and "default_value" not in c.problems:
        default = clean_default(c, data_type, config, default, regex_matches)
    if c.problems:
        raise ValidationFailed("Please correct the marked fields.", c.problems)
    return {
        "name": name,
        "field_name": field_name,
        "data_type": data_type,
        # PostgreSQL makes an identity or serial column NOT NULL.
        "is_required": truthy(data.get("is_required")) or generates(config),
        "default_value": default,
        "field_config": config,
    }


def generated_setting(c, columns, default):
    """{"generated": its expression (columns by field id), "virtual": True for VIRTUAL} of a
    generated column (GENERATED ALWAYS AS (expression) STORED), {} for any other."""
    text = text_or_none(c.data.get("generated"))
    if text is None:
        return {}
    if default is not None:
        c.fail("default_value", "A generated column has no default: its expression is it.")
    if text_or_none(c.data.get("identity")) or truthy(c.data.get("serial")):
        c.fail("generated", "A column is generated from an expression or a sequence, not both.")
    by_id = {field_id: field_id for field_id in (columns or {}).values()}
    try:
        stored = stored_expression(text, {**(columns or {}), **by_id})
    except ExpressionProblem as exc:
        c.fail("generated", str(exc))
        return {}
    setting = {"generated": stored}
    if truthy(c.data.get("virtual")):
        setting["virtual"] = True  # PostgreSQL 18's VIRTUAL: computed when read
    return setting


def generates(config):
    """Whether the column's values come from its own sequence (identity or serial)."""
    return bool(config.get("identity") or config.get("serial"))


def default_input(data, data_type, config):
    """The default as entered: a string type's exactly as typed (spaces kept); a blank one
    (the empty string, spaces) only when asked for (`default_empty`: a form's empty input
    is no default); any other type's trimmed."""
    raw = data.get("default_value")
    if data_type == "text" and (config.get("text_type") or "text") in STRING_TYPES:
        if isinstance(raw, str) and (raw.strip() or truthy(data.get("default_empty"))):
            return raw
        if raw is None and truthy(data.get("default_empty")):
            return ""
    return text_or_none(raw)


def blank(value):
    """Whether a stored default is a blank string (kept only with default_empty)."""
    return isinstance(value, str) and not value.strip()


def text_settings(c, regex_problem):
    text_type = c.choice("text_type", TEXT_TYPES, "text")
    settings = {
        "max_length": c.integer("max_length", 1, MAX_VARCHAR),
        "min_length": c.integer("min_length", 0, MAX_VARCHAR),
        "pattern": text_or_none(c.data.get("pattern")),
    }
    if text_type not in STRING_TYPES:
        for key, value in settings.items():
            if value is not None:
                c.fail(key, f"A {text_type} value has no length or pattern.")
    low, high = settings["min_length"], settings["max_length"]
    if low is not None and high is not None and low > high:
        c.fail("min_length", "The minimum length is above the maximum length.")
    if settings["pattern"] is not None:
        problem = regex_problem(settings["pattern"])
        if problem:
            c.fail("pattern", problem)
    # text, and varchar with a length, are stored as they were before exact types.
    if text_type not in ("text", "varchar") or high is None:
        settings["text_type"] = None if text_type == "text" else text_type
    if text_type == "enum":
        enum_id = text_or_none(c.data.get("enum_id"))
        if enum_id not in c.enums:
            c.fail("enum_id", "Choose one of the project's enums.")
        settings["enum_id"] = enum_id
    if text_type == "named":
        settings["named_type"] = named_type_setting(c)
    return {key: value for key, value in settings.items() if value is not None}


def named_type_setting(c):
    """A named type as PostgreSQL's parser reads it, deparsed again (never the text typed)."""
    raw = text_or_none(c.data.get("named_type"))
    if raw is None:
        c.fail("named_type", "Enter the type's name, e.g. tsvector or geometry(Point,4326).")
        return None
    if len(raw) > MAX_NAMED_TYPE:
        c.fail("named_type", f"Use at most {MAX_NAMED_TYPE} characters.")
        return None
    rendered, problem = parsed_type_name(raw)
    if problem:
        c.fail("named_type", f"This {problem}" if problem.startswith("is ") else problem)
    return rendered


def number_settings(c, regex_problem):
    number_type = c.choice("number_type", NUMBER_TYPES, "integer")
    settings = {"number_type": number_type}
    for key in ("precision", "scale"):
        if number_type != "decimal" and text_or_none(c.data.get(key)) is not None:
            c.fail(key, f"A {number_type} has no {key}; choose decimal for one.")
    if number_type == "decimal":
        precision = c.integer("precision", 1, MAX_PRECISION)
        precision = precision if precision is not None else 12
        scale = c.integer("scale", 0, MAX_PRECISION)
        scale = scale if scale is not None else 2
        if scale > precision:
            c.fail("scale", "The scale cannot exceed the precision.")
        settings.update(precision=precision, scale=scale)
    low, high = c.number("min"), c.number("max")
    if low is not None and high is not None and low > high:
        c.fail("min", "The minimum is above the maximum.")
    for key, value in (("min", low), ("max", high)):
        if value is not None and key not in c.problems and fits_number(c, key, value, settings):
            settings[key] = number_text(value, number_type)
    settings.update(generated_values(c, number_type))
    return settings


def generated_values(c, number_type):
    """{"identity": "always" | "by_default"} or {"serial": True} for an integer column whose
    values the database generates (its own sequence), {} for none."""
    identity = text_or_none(c.data.get("identity"))
    serial = truthy(c.data.get("serial"))
    if identity is not None and identity not in IDENTITY_KINDS:
        c.fail("identity", f"Choose one of: {', '.join(IDENTITY_KINDS)}.")
        return {}
    if identity is None and not serial:
        return {}
    key = "identity" if identity else "serial"
    if identity and serial:
        c.fail("serial", "A column is an identity or serial, not both.")
    elif number_type not in SEQUENCE_TYPES:
        c.fail(key, f"Only {', '.join(SEQUENCE_TYPES)} values can be generated.")
    elif text_or_none(c.data.get("array_dimensions")) not in (None, "0"):
        c.fail(key, "An array's values cannot be generated.")
    elif text_or_none(c.data.get("default_value")) is not None:
        c.fail("default_value", "Generated values have no default of their own.")
    settings = {"identity": identity} if identity else {"serial": True}
    sequence = text_or_none(c.data.get("sequence_name"))
    if sequence is not None:
        # Its sequence's own name (a file's); none: the designer's, table_column_seq.
        problem = identifier_problem(sequence, "sequence")
        if problem:
            c.fail("sequence_name", problem)
        settings["sequence_name"] = sequence
    # Where its numbers start and how they step (none: PostgreSQL's 1 and 1).
    low, high = INTEGER_RANGES.get(number_type, (0, 0))
    start = c.integer("sequence_start", low, high)
    step = c.integer("sequence_increment", low, high)
    if step == 0:
        c.fail("sequence_increment", "A sequence steps by a number other than 0.")
    for key, value in (("sequence_start", start), ("sequence_increment", step)):
        if value is not None and value != 1:
            settings[key] = value
    return settings


def number_text(value, number_type):
    """A number as stored: an integer type's as its whole digits (7.0 and 1e2 are 7 and 100,
    as PostgreSQL's integer input reads no point or exponent), a decimal's as written."""
    return str(int(value)) if number_type in INTEGER_RANGES else str(value)


def date_settings(c, regex_problem):
    settings = {"date_type": c.choice("date_type", DATE_TYPES, "date")}
    digits = c.integer("time_precision", 0, MAX_TIME_PRECISION)
    if digits is not None and settings["date_type"] == "date":
        c.fail("time_precision", "A date has no fractional seconds.")
    elif digits is not None:
        settings["time_precision"] = digits
    return settings


def boolean_settings(c, regex_problem):
    return {}


SETTINGS_CLEANERS = {
    "text": text_settings,
    "number": number_settings,
    "date": date_settings,
    "boolean": boolean_settings,
}


def fits_number(c, key, value, settings):
    """Whether a number can be stored in the field's number type."""
    number_type = settings["number_type"]
    if number_type not in INTEGER_RANGES and number_type != "decimal":
        return True  # numeric, real and double hold any finite number (floats round)
    if number_type in INTEGER_RANGES:
        low, high = INTEGER_RANGES[number_type]
        if value != value.to_integral_value():
            c.fail(key, f"An {number_type} holds whole numbers only.")
            return False
        if not low <= value <= high:
            c.fail(key, f"Out of range for {number_type} ({low} to {high}).")
            return False
        return True
    precision, scale = settings["precision"], settings["scale"]
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > scale:
        c.fail(key, f"Use at most {scale} digits after the decimal point.")
        return False
    if abs(value) >= decimal.Decimal(10) ** (precision - scale):
        c.fail(key, f"Too large for decimal({precision}, {scale}).")
        return False
    return True


def clean_default(c, data_type, config, raw, regex_matches):
    """The default in canonical form, checked against the type and the rules."""
    if len(raw) > MAX_DEFAULT:
        c.fail("default_value", f"Use at most {MAX_DEFAULT:,} characters.")
        return raw
    if config.get("array_dimensions"):
        if not (raw.startswith("{") and raw.endswith("}")):
            c.fail("default_value", "Enter an array as PostgreSQL writes one: {1,2,3}.")
        return raw
    return DEFAULT_CLEANERS[data_type](c, config, raw, regex_matches)


def default_functions(data_type, config):
    """The SQL functions (our own words) a field of this exact type may take as default."""
    if data_type == "date":
        return DATE_FUNCTIONS.get(config.get("date_type"), set())
    if data_type == "text":
        return TEXT_FUNCTIONS.get(config.get("text_type"), set())
    return set()


def text_default(c, config, raw, regex_matches):
    text_type = config.get("text_type") or "text"
    if text_type not in STRING_TYPES:
        return typed_text_default(c, config, text_type, raw)
    # Only a valid pattern can judge the default (PostgreSQL raises on an invalid one).
    judge = regex_matches if "pattern" in config and "pattern" not in c.problems else None
    if "max_length" in config and len(raw) > config["max_length"]:
        c.fail("default_value", f"The default is longer than {config['max_length']} characters.")
    elif len(raw) < config.get("min_length", 0):
        c.fail("default_value", f"The default is shorter than {config['min_length']} characters.")
    elif judge and not judge(raw, config["pattern"]):
        c.fail("default_value", "The default does not match the pattern.")
    return raw


def typed_text_default(c, config, text_type, raw):
    """A default of a text type that is not a string: checked as PostgreSQL reads it."""
    if raw.lower() in TEXT_FUNCTIONS.get(text_type, ()):
        return raw.lower()
    checks = {
        "uuid": lambda: str(uuid.UUID(raw)),
        "json": lambda: json.loads(raw) and raw,
        "jsonb": lambda: json.loads(raw) and raw,
        "inet": lambda: str(ipaddress.ip_interface(raw)) and raw,
        "cidr": lambda: str(ipaddress.ip_network(raw)) and raw,
    }
    if text_type == "enum":
        labels = (c.enums.get(config.get("enum_id")) or {}).get("labels") or ()
        if raw not in labels:
            c.fail("default_value", "Choose one of the enum's labels.")
        return raw
    if text_type == "macaddr" and not MACADDR.match(raw):
        c.fail("default_value", "Enter a MAC address, e.g. 08:00:2b:01:02:03.")
    elif text_type == "bytea" and not BYTEA.match(raw):
        c.fail("default_value", "Enter bytes in hex form, e.g. \\xdeadbeef.")
    elif text_type in checks:
        try:
            checks[text_type]()
        except ValueError:
            c.fail("default_value", f"Enter a valid {text_type} value.")
        if text_type == "uuid" and "default_value" not in c.problems:
            return str(uuid.UUID(raw))
    return raw


def number_default(c, config, raw, regex_matches):
    value = c.number("default_value")
    if value is None or not fits_number(c, "default_value", value, config):
        return raw
    if "min" in config and value < decimal.Decimal(config["min"]):
        c.fail("default_value", f"The default is below the minimum ({config['min']}).")
    if "max" in config and value > decimal.Decimal(config["max"]):
        c.fail("default_value", f"The default is above the maximum ({config['max']}).")
    return number_text(value, config["number_type"])


def date_default(c, config, raw, regex_matches):
    date_type = config["date_type"]
    lowered = raw.lower()
    if lowered in DATE_FUNCTIONS[date_type]:
        return lowered
    if date_type == "interval":
        if not INTERVAL.match(raw):
            c.fail("default_value", "Enter an interval, e.g. 1 day 02:00:00 or P1DT2H.")
        return raw
    try:
        value = DATE_PARSERS[date_type](raw)
    except ValueError:
        functions = ", ".join(sorted(DATE_FUNCTIONS[date_type]))
        c.fail("default_value", f"Enter a {date_type} in ISO form, or one of: {functions}.")
        return raw
    if date_type == "timestamptz" and value.tzinfo is None:
        value = value.replace(tzinfo=datetime.UTC)
    if date_type == "timestamp" and value.tzinfo is not None:
        c.fail("default_value", "A timestamp without time zone cannot take an offset.")
    return value.isoformat()


def boolean_default(c, config, raw, regex_matches):
    lowered = raw.lower()
    if lowered in TRUE_WORDS:
        return "true"
    if lowered in FALSE_WORDS:
        return "false"
    c.fail("default_value", "Enter true or false.")
    return raw


DEFAULT_CLEANERS = {
    "text": text_default,
    "number": number_default,
    "date": date_default,
    "boolean": boolean_default,
}


INVALID_TYPE = "invalid setting"


def pg_type(data_type, config):
    """The column type to show or compare: sql_type, or INVALID_TYPE for a stored field whose
    settings sql_type refuses (an old snapshot's), so that pages still show it."""
    if isinstance(config, dict) and config.get("text_type") == "enum":
        # An enum is known by its id, wherever (and in whichever schema) it is rendered: the
        # names of objects that include a column's type stay the same in every plan.
        dims = config.get("array_dimensions")
        return f"enum {config.get('enum_id')}" + ("[]" * dims if type(dims) is int else "")
    try:
        return sql_type(data_type, config)
    except UnsafeSetting:
        return INVALID_TYPE


def display_type(data_type, config):
    """The type to show a person: sql_type (an enum by its name where enum_types knows it),
    else pg_type."""
    try:
        return sql_type(data_type, config)
    except UnsafeSetting:
        return pg_type(data_type, config)


def type_settings(config):
    """The settings of a field_config that make its PostgreSQL type (for a foreign key that
    copies its key's type)."""
    return {key: config[key] for key in TYPE_KEYS if key in config}


def field_as_input(field):
    """A stored field as the flat input `clean_field` reads (for partial updates)."""
    data = {
        "name": field.name,
        "field_name": field.field_name,
        "data_type": field.data_type,
        "is_required": field.is_required,
        "default_value": field.default_value,
        "default_empty": blank(field.default_value),
    }
    data.update({k: v for k, v in field.field_config.items() if k != "system"})
    return data


def other_columns(fields, field_id=None):
    """{column name: field id} of a table's fields but one (what a generated column's
    expression may read); `fields` are DataFields or snapshot entries."""
    found = {}
    for field in fields:
        own = str(field.get("id") if isinstance(field, dict) else field.id)
        name = field.get("field_name") if isinstance(field, dict) else field.field_name
        if own != str(field_id) and isinstance(name, str):
            found[name] = own
    return found
