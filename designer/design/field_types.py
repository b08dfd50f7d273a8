"""The four field types: their settings, validation rules, defaults and PostgreSQL types.

`clean_field` turns raw input (a form or a JSON body, as strings or JSON
values) into the values of a DataField, or raises ValidationFailed naming each
wrong input. It is pure: checking a regular expression against PostgreSQL's
own dialect is passed in by the caller.
"""

import datetime
import decimal
import re

from designer.design.column_types import DATE_SQL
from designer.design.column_types import MAX_PRECISION
from designer.design.column_types import MAX_VARCHAR
from designer.design.column_types import NUMBER_SQL
from designer.design.column_types import UnsafeSetting
from designer.design.column_types import sql_type
from designer.design.naming import identifier_problem
from designer.design.naming import suggest_identifier
from designer.errors import ValidationFailed
from designer.models import DATA_TYPES
from designer.models import MAX_DESCRIPTION

NUMBER_TYPES = tuple(NUMBER_SQL)
DATE_TYPES = tuple(DATE_SQL)
INTEGER_RANGES = {"integer": (-(2**31), 2**31 - 1), "bigint": (-(2**63), 2**63 - 1)}
MAX_NAME = 200
TRUE_WORDS = {"true", "t", "yes", "y", "on", "1"}
FALSE_WORDS = {"false", "f", "no", "n", "off", "0"}
# SQL functions accepted as a default, by date type.
DATE_FUNCTIONS = {
    "date": {"now()", "current_date"},
    "timestamp": {"now()", "current_timestamp", "localtimestamp", "current_date"},
    "timestamptz": {"now()", "current_timestamp"},
    "time": {"current_time", "localtime"},
}
DATE_PARSERS = {
    "date": datetime.date.fromisoformat,
    "timestamp": datetime.datetime.fromisoformat,
    "timestamptz": datetime.datetime.fromisoformat,
    "time": datetime.time.fromisoformat,
}
# Settings each type keeps in field_config; anything else is dropped on a type change.
TYPE_SETTINGS = {
    "text": ("max_length", "min_length", "pattern", "collation"),
    "number": ("number_type", "precision", "scale", "min", "max"),
    "date": ("date_type",),
    "boolean": (),
}
COMMON_SETTINGS = ("unique", "indexed", "description")
# Every table's key: the designer's bigint identity `id`, exactly so.
SYSTEM_FIELD = {
    "name": "ID",
    "field_name": "id",
    "data_type": "number",
    "is_required": True,
    "sort_order": 0,
    "field_config": {"system": True, "primary_key": True, "number_type": "bigint"},
}


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

    def __init__(self, data):
        self.data = data
        self.problems = {}

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


def clean_field(data, regex_problem=python_regex_problem, regex_matches=None):
    """Validated DataField values from raw input; raises ValidationFailed."""
    c = Cleaner(data)
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
    collation = text_or_none(data.get("collation"))
    if collation is not None:
        # A text column's collation (how it sorts and compares): a name, always quoted.
        if data_type != "text":
            c.fail("collation", "Only a text column has a collation.")
        elif len(collation.encode("utf-8")) > 63 or any(ord(ch) < 32 for ch in collation):
            c.fail("collation", "A collation is a name of at most 63 bytes.")
        else:
            config["collation"] = collation
    default = text_or_none(data.get("default_value"))
    if default is not None and "default_value" not in c.problems:
        default = clean_default(c, data_type, config, default, regex_matches)
    if c.problems:
        raise ValidationFailed("Please correct the marked fields.", c.problems)
    return {
        "name": name,
        "field_name": field_name,
        "data_type": data_type,
        "is_required": truthy(data.get("is_required")),
        "default_value": default,
        "field_config": config,
    }


def text_settings(c, regex_problem):
    settings = {
        "max_length": c.integer("max_length", 1, MAX_VARCHAR),
        "min_length": c.integer("min_length", 0, MAX_VARCHAR),
        "pattern": text_or_none(c.data.get("pattern")),
    }
    low, high = settings["min_length"], settings["max_length"]
    if low is not None and high is not None and low > high:
        c.fail("min_length", "The minimum length is above the maximum length.")
    if settings["pattern"] is not None:
        problem = regex_problem(settings["pattern"])
        if problem:
            c.fail("pattern", problem)
    return {key: value for key, value in settings.items() if value is not None}


def number_settings(c, regex_problem):
    number_type = c.choice("number_type", NUMBER_TYPES, "integer")
    settings = {"number_type": number_type}
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
    return settings


def number_text(value, number_type):
    """A number as stored: an integer type's as its whole digits (7.0 and 1e2 are 7 and 100,
    as PostgreSQL's integer input reads no point or exponent), a decimal's as written."""
    return str(int(value)) if number_type in INTEGER_RANGES else str(value)


def date_settings(c, regex_problem):
    return {"date_type": c.choice("date_type", DATE_TYPES, "date")}


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
    return DEFAULT_CLEANERS[data_type](c, config, raw, regex_matches)


def text_default(c, config, raw, regex_matches):
    # Only a valid pattern can judge the default (PostgreSQL raises on an invalid one).
    judge = regex_matches if "pattern" in config and "pattern" not in c.problems else None
    if "max_length" in config and len(raw) > config["max_length"]:
        c.fail("default_value", f"The default is longer than {config['max_length']} characters.")
    elif len(raw) < config.get("min_length", 0):
        c.fail("default_value", f"The default is shorter than {config['min_length']} characters.")
    elif judge and not judge(raw, config["pattern"]):
        c.fail("default_value", "The default does not match the pattern.")
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
    try:
        return sql_type(data_type, config)
    except UnsafeSetting:
        return INVALID_TYPE


def field_as_input(field):
    """A stored field as the flat input `clean_field` reads (for partial updates)."""
    data = {
        "name": field.name,
        "field_name": field.field_name,
        "data_type": field.data_type,
        "is_required": field.is_required,
        "default_value": field.default_value,
    }
    data.update({k: v for k, v in field.field_config.items() if k != "system"})
    return data
