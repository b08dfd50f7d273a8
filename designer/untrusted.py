"""Checks on raw request input that no part of the designer can store or handle.

PostgreSQL text cannot hold a NUL character, and UTF-8 cannot encode a lone
surrogate (JSON's "\\ud800" decodes to one), so either would fail deep inside
a write. Deeply nested JSON exhausts Python's recursion. These checks run once
on every request, before any view, so no route has to remember them.
"""

import json
import math

UNSTORABLE = "Remove the NUL character or unpaired surrogate: it cannot be stored."
# Far deeper than any body the API accepts (a field_config is two levels).
MAX_JSON_DEPTH = 32


class UnreadableInput(ValueError):
    """The body cannot be read at all (not JSON, or nested too deep)."""


def is_storable(text):
    """Whether `text` can be encoded as UTF-8 and stored in a PostgreSQL text column."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def first_unstorable(pairs):
    """The name of the first (name, value) pair whose name or text value cannot be stored."""
    for name, value in pairs:
        if not is_storable(name) or (isinstance(value, str) and not is_storable(value)):
            return printable_name(name)
    return None


def printable_name(name):
    """A field name safe to echo back in an error message."""
    cleaned = name.encode("utf-8", "replace").decode("utf-8").replace("\x00", "")
    return cleaned[:100] or "(unnamed)"


def json_leaves(value, path="body"):
    """Every (name, scalar) in a parsed JSON document, keys included, without recursion.

    A value is named by the key holding it (list items by their list's key).
    """
    stack = [(path, value)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, dict):
            for key, item in value.items():
                yield path, key
                stack.append((key, item))
        elif isinstance(value, list):
            stack.extend((path, item) for item in value)
        else:
            yield path, value


def first_bad_json_value(document):
    """(name, problem) for the first text that cannot be stored or number that overflowed."""
    for name, value in json_leaves(document):
        if isinstance(value, str) and not is_storable(value):
            return printable_name(name), UNSTORABLE
        if isinstance(value, float) and not math.isfinite(value):
            return printable_name(name), "This number is too large."
    return None


def json_depth(value):
    """How deeply a parsed JSON document nests, without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict | list):
            deepest = max(deepest, depth)
            items = value.values() if isinstance(value, dict) else value
            stack.extend((item, depth + 1) for item in items)
    return deepest


def _refuse_constant(name):
    raise ValueError(f"{name} is not JSON.")


def load_json(raw, max_depth=MAX_JSON_DEPTH):
    """A JSON document from bytes; UnreadableInput when it is not JSON or nests too deep.

    NaN and Infinity are not JSON and are refused here. Python's parser
    refuses very deep nesting itself (RecursionError), and anything deeper
    than `max_depth` is refused after it.
    """
    try:
        document = json.loads(raw, parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as exc:
        raise UnreadableInput("The body is not valid JSON.") from exc
    if json_depth(document) > max_depth:
        raise UnreadableInput(f"The JSON body nests deeper than {max_depth} levels.")
    return document
