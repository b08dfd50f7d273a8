"""A field's PostgreSQL column type, rendered from our own words and bounded integers.

`sql_type` is what DDL is made of: each enumerated setting (number_type, date_type)
maps to a word of ours, each sized one (max_length, precision, scale) must be a whole
number within its bounds, and anything else raises UnsafeSetting (a ValidationFailed):
a setting is never pasted into SQL. Pure: no database, no Flask.
"""

from designer.errors import ValidationFailed
from designer.models import DATA_TYPES

MAX_VARCHAR = 10_485_760
MAX_PRECISION = 1000
# The SQL words of each enumerated setting.
NUMBER_SQL = {"integer": "integer", "bigint": "bigint", "decimal": "numeric"}
DATE_SQL = {"date": "date", "timestamp": "timestamp", "timestamptz": "timestamptz", "time": "time"}


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


def sql_type(data_type, config):
    """The PostgreSQL column type of a field, built from our own words and bounded integers;
    UnsafeSetting for any setting outside them."""
    if not isinstance(config, dict):
        unsafe("field_config", "expected an object of settings.")
    if data_type == "text":
        if config.get("max_length") is None:
            return "text"
        return f"varchar({bounded_setting(config, 'max_length', 1, MAX_VARCHAR):d})"
    if data_type == "number":
        word = enumerated_setting(config, "number_type", NUMBER_SQL, "integer")
        if word != "numeric":
            return word
        precision = bounded_setting(config, "precision", 1, MAX_PRECISION, 12)
        scale = bounded_setting(config, "scale", 0, precision, 2)
        return f"numeric({precision:d},{scale:d})"
    if data_type == "date":
        return enumerated_setting(config, "date_type", DATE_SQL, "date")
    if data_type == "boolean":
        return "boolean"
    unsafe("data_type", f"expected one of {', '.join(DATA_TYPES)}, not {shown(data_type)}.")
