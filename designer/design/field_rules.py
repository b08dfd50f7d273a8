"""The rules a stored field entry keeps, whichever way it came in.

A snapshot's field (designer.history.snapshot's entry) may be stored only when each
value has its JSON type (a name is text, is_required true or false, a length a whole
number: nothing is coerced), each setting belongs to its type, and clean_field reads it
back exactly as stored: what a form or the API would have saved for it. The system `id`
field is exactly the designer's, and `unique_with` names other fields of the same table.
Pure: no database, no Flask.
"""

import uuid

from designer.design.field_types import COMMON_SETTINGS
from designer.design.field_types import SYSTEM_FIELD
from designer.design.field_types import TYPE_SETTINGS
from designer.design.field_types import blank
from designer.design.field_types import clean_field
from designer.design.field_types import other_columns
from designer.design.field_types import python_regex_problem
from designer.errors import ValidationFailed
from designer.history.snapshot import FIELD_COLUMNS
from designer.models import DATA_TYPES

MAX_SORT_ORDER = 2**31 - 1
# The JSON type of each setting a stored field_config may hold.
SETTING_TYPES = {
    "unique": bool, "indexed": bool, "description": str, "max_length": int, "min_length": int,
    "pattern": str, "number_type": str, "precision": int, "scale": int, "min": str, "max": str,
    "date_type": str, "unique_with": list, "text_type": str, "enum_id": str, "named_type": str,
    "time_precision": int, "array_dimensions": int, "collation": str,
    "identity": str, "serial": bool, "sequence_name": str, "sequence_start": int,
    "sequence_increment": int, "generated": str, "virtual": bool,
}  # fmt: skip
TYPE_WORDS = {bool: "true or false", str: "text", int: "a whole number", list: "a list"}
# PostgreSQL indexes at most 32 columns.
MAX_UNIQUE_WITH = 31


def field_problems(entry, table_fields, regex_problem=python_regex_problem, enums=None):
    """{key: message} of what keeps a field entry from being stored ({} when nothing).

    `table_fields` are the entries of its table (by id), for unique_with; `enums` the
    design's, which an enum field names."""
    problems = shape_problems(entry)
    if problems:
        return problems
    config = entry["field_config"]
    if config.get("system") is not None or config.get("primary_key") is not None:
        return system_problems(entry)
    problems = setting_problems(entry["data_type"], config) or unique_with_problems(
        entry, table_fields
    )
    if problems:
        return problems
    flat = {key: entry[key] for key in ("name", "field_name", "data_type", "is_required")}
    flat.update({k: v for k, v in config.items() if k != "unique_with"})
    flat["default_value"] = entry["default_value"]
    flat["default_empty"] = blank(entry["default_value"])
    columns = other_columns(table_fields.values(), entry["id"]) if "generated" in config else None
    try:
        cleaned = clean_field(flat, regex_problem=regex_problem, enums=enums, columns=columns)
    except ValidationFailed as exc:
        return dict(exc.fields)
    return readback_problems(entry, cleaned)


def is_of(value, kind):
    """Whether a JSON value has exactly this type (a bool is not a whole number)."""
    return type(value) is kind


def shape_problems(entry):
    if not isinstance(entry, dict) or set(entry) != set(FIELD_COLUMNS):
        return {"field": f"expected exactly the keys {', '.join(sorted(FIELD_COLUMNS))}."}
    problems = {}
    for key, kind in (("name", str), ("field_name", str), ("data_type", str)):
        if not is_of(entry[key], kind):
            problems[key] = "expected text."
    if not is_of(entry["is_required"], bool):
        problems["is_required"] = "expected true or false."
    if entry["default_value"] is not None and not is_of(entry["default_value"], str):
        problems["default_value"] = "expected text or null."
    order = entry["sort_order"]
    if not is_of(order, int) or not 0 <= order <= MAX_SORT_ORDER:
        problems["sort_order"] = f"expected a whole number from 0 to {MAX_SORT_ORDER}."
    if not isinstance(entry["field_config"], dict):
        problems["field_config"] = "expected an object of settings."
    return problems


def system_problems(entry):
    """The system `id` field: exactly the designer's bigint identity key."""
    wanted = {key: SYSTEM_FIELD[key] for key in ("field_name", "data_type", "is_required")}
    wanted["default_value"] = None
    for key, value in wanted.items():
        if not same(entry[key], value):
            return {key: f"the system id field has {value!r} here, nothing else."}
    config, settings = entry["field_config"], SYSTEM_FIELD["field_config"]
    for key in sorted({*config, *settings}, key=str):
        if key not in settings:
            return {str(key): "the system id field has no such setting."}
        if not same(config.get(key), settings[key]):
            return {key: f"the system id field has {settings[key]!r} here, nothing else."}
    name = entry["name"]
    if not name.strip() or name != name.strip() or len(name) > 200:
        return {"name": "expected a name of 1 to 200 characters."}
    return {}


def same(value, wanted):
    """Equal and of the same JSON type (True is not 1)."""
    return value == wanted and type(value) is type(wanted)


def setting_problems(data_type, config):
    if data_type not in DATA_TYPES:
        return {"data_type": f"expected one of {', '.join(DATA_TYPES)}."}
    allowed = {*COMMON_SETTINGS, *TYPE_SETTINGS[data_type], "unique_with"}
    problems = {}
    for key, value in config.items():
        if key not in allowed:
            problems[str(key)] = f"is not a setting of a {data_type} field."
        elif not is_of(value, SETTING_TYPES[key]):
            problems[key] = f"expected {TYPE_WORDS[SETTING_TYPES[key]]}."
    return problems


def unique_with_problems(entry, table_fields):
    partners = entry["field_config"].get("unique_with")
    if partners is None:
        return {}
    message = "expected the ids of other fields of this table."
    if not 0 < len(partners) <= MAX_UNIQUE_WITH or len(set(map(str, partners))) != len(partners):
        return {"unique_with": message}
    for partner in partners:
        if not isinstance(partner, str) or partner == entry["id"] or partner not in table_fields:
            return {"unique_with": message}
        try:
            uuid.UUID(partner)
        except ValueError:
            return {"unique_with": message}
    return {}


def readback_problems(entry, cleaned):
    """Where the stored field differs from what clean_field makes of it."""
    problems = {}
    for key in ("name", "field_name", "data_type", "is_required", "default_value"):
        if cleaned[key] != entry[key]:
            problems[key] = f"is stored as {entry[key]!r}; it reads as {cleaned[key]!r}."
    for key, value in entry["field_config"].items():
        if key != "unique_with" and cleaned["field_config"].get(key) != value:
            now = cleaned["field_config"].get(key)
            problems[key] = f"is stored as {value!r}; it reads as {now!r}."
    return problems
