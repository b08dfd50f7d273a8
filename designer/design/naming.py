"""PostgreSQL identifier rules: validation, suggestions and generated names.

Table and column names must be usable unquoted: lowercase snake_case, at most
63 bytes (PostgreSQL's NAMEDATALEN - 1, counted in bytes, not characters), and
not a word PostgreSQL reserves. The keyword list is PostgreSQL's own grammar
as shipped by pglast, not a hand-typed copy.
"""

import functools
import hashlib
import re

from pglast.keywords import RESERVED_KEYWORDS
from pglast.keywords import TYPE_FUNC_NAME_KEYWORDS
from slugify import slugify

from designer.errors import ValidationFailed

MAX_IDENTIFIER_BYTES = 63
IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]*")

# Words that cannot stand as an unquoted table or column name.
RESERVED_WORDS = frozenset(RESERVED_KEYWORDS) | frozenset(TYPE_FUNC_NAME_KEYWORDS)
# Every PostgreSQL table already has these hidden columns.
SYSTEM_COLUMNS = frozenset({"tableoid", "xmin", "cmin", "xmax", "cmax", "ctid", "oid"})

KIND_LABELS = {
    "table": "table name", "field": "column name", "schema": "schema name",
    "sequence": "sequence name",
}  # fmt: skip
FALLBACKS = {"table": "new_table", "field": "new_column", "schema": "design"}


def identifier_problem(value, kind="table"):
    """Why `value` cannot be a `kind` identifier, or None when it can."""
    label = KIND_LABELS[kind]
    if value is None or value == "":
        return f"Enter a {label}."
    if not isinstance(value, str):  # an imported JSON file can hold any JSON value here
        return f"A {label} is text."
    size = len(value.encode("utf-8"))
    if size > MAX_IDENTIFIER_BYTES:
        return (
            f"This {label} is {size} bytes long; PostgreSQL allows at most {MAX_IDENTIFIER_BYTES}."
        )
    if value != value.strip():
        return f"Remove the spaces around the {label}."
    if not IDENTIFIER.fullmatch(value):
        return _pattern_problem(value, label)
    if value in RESERVED_WORDS:
        return f"“{value}” is a reserved word in PostgreSQL; choose another {label}."
    if kind == "field" and value in SYSTEM_COLUMNS:
        return f"“{value}” is a PostgreSQL system column; choose another column name."
    if kind == "schema" and value.startswith("pg_"):
        return "Schema names starting with “pg_” are reserved by PostgreSQL."
    return None


def _pattern_problem(value, label):
    if value[0].isdigit():
        return f"A {label} cannot start with a digit."
    if value.lower() != value and IDENTIFIER.fullmatch(value.lower()):
        return f"Use lowercase letters: “{value.lower()}”."
    bad = sorted({ch for ch in value if not re.fullmatch(r"[a-z0-9_]", ch)})
    shown = " ".join("space" if ch.isspace() else f"“{ch}”" for ch in bad[:5])
    return f"A {label} may use only lowercase letters, digits and underscores (not {shown})."


def suggest_identifier(display_name, kind="table"):
    """A valid snake_case identifier derived from a free-text display name."""
    return suggestion(display_name, kind)[0]


def suggestion(display_name, kind="table"):
    """(identifier, shortened): the suggested identifier, and whether the display
    name was too long for it and had to be cut (at a word boundary if one fits)."""
    # Split camelCase before slugify lowercases it: "OrderLine" -> "order_line".
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", display_name or "")
    base = slugify(spaced, separator="_", lowercase=True) or FALLBACKS[kind]
    if base[0].isdigit():
        base = f"{'t' if kind == 'table' else 'c'}_{base}"
    shortened = len(base) > MAX_IDENTIFIER_BYTES  # slugify leaves only ASCII
    base = shorten(base) or FALLBACKS[kind]
    if base in RESERVED_WORDS or (kind == "field" and base in SYSTEM_COLUMNS):
        base = f"{base}s" if kind == "table" and not base.endswith("s") else f"{base}_"
        if base in RESERVED_WORDS:
            base = f"{base}_"
    return base, shortened


def shorten(identifier, limit=MAX_IDENTIFIER_BYTES):
    """`identifier` cut to `limit` bytes after its last whole word that fits
    (a single word longer than the limit is cut where the limit falls)."""
    if len(identifier) <= limit:
        return identifier
    cut = identifier[: limit + 1]
    boundary = cut.rfind("_")
    if boundary > 0:
        return cut[:boundary].rstrip("_")
    return identifier[:limit].rstrip("_")


@functools.cache
def inflector():
    # Loaded on first use: importing inflect takes 1.6 s (typeguard instruments its
    # functions at import), which every process start paid, `flask db` included, though
    # only relationship and import names need it. A serving app loads it in the background
    # once its first request arrives (web.load_in_background).
    import inflect

    return inflect.engine()


def singular(identifier):
    """The identifier with its last word made singular: order_lines -> order_line."""
    head, _, last = identifier.rpartition("_")
    one = inflector().singular_noun(last) or last
    return f"{head}_{one}" if head else one


def singular_phrase(text):
    """A display name with its last word made singular: "Order lines" -> "Order line"."""
    head, space, last = text.rpartition(" ")
    one = inflector().singular_noun(last) or last
    return f"{head}{space}{one}"


def foreign_key_name(source_table_name, self_reference=False):
    """The column a new relationship adds to its "many" table: author_id for authors,
    parent_id for a table that refers to itself."""
    if self_reference:
        return "parent_id"
    return shorten(singular(source_table_name), MAX_IDENTIFIER_BYTES - 3) + "_id"


def generated_name(*parts, suffix):
    """A constraint or index name from its parts, always within 63 bytes.

    Long names are cut and end in a short hash of the full name, so two long
    names that share a prefix still differ.
    """
    full = "_".join([*parts, suffix])
    if len(full.encode("utf-8")) <= MAX_IDENTIFIER_BYTES:
        return full
    digest = hashlib.sha256(full.encode("utf-8")).hexdigest()[:8]
    keep = MAX_IDENTIFIER_BYTES - len(suffix) - len(digest) - 2
    return f"{full[:keep].rstrip('_')}_{digest}_{suffix}"


def quote_identifier(value):
    """Double-quote an identifier for SQL (after it has passed validation); text that can
    be no identifier at all (empty, or holding NUL) is refused rather than written."""
    if not isinstance(value, str) or not value or "\x00" in value:
        message = "An identifier is a non-empty text without NUL."
        raise ValidationFailed(message, {"identifier": message})
    return '"' + value.replace('"', '""') + '"'
