"""Type changes PostgreSQL makes in place: the ones a deploy plan calls safe.

The deploy plan (designer.database.column_changes) and the design's lock rules read the
same answer, so a change the Deploy tab shows as "safe (no rewrite)" never asks for a
critical lock. Types are read as designer.design.column_types.sql_type renders them;
tests/integration/test_type_changes.py checks each answer against PostgreSQL's own (the
table's file is kept or rewritten).
"""

import re

# A type as sql_type renders it: words, optional (modifiers), optional [] per dimension.
RENDERED = re.compile(r"^(?P<base>[a-z][a-z ]*?)(?:\((?P<mods>[0-9,]+)\))?(?P<dims>(?:\[\])*)$")
# Types whose values are strings: any of them becomes text, or an unbounded varchar, in place.
STRINGS = ("varchar", "text")
# Types whose precision (the first modifier) may grow in place, or be dropped.
PRECISE = ("numeric", "timestamp", "timestamptz", "time", "timetz", "interval")
FAMILIES = {
    "text": (
        "text",
        "varchar",
        "char",
        "uuid",
        "json",
        "jsonb",
        "inet",
        "cidr",
        "macaddr",
        "bytea",
    ),
    "number": ("smallint", "integer", "bigint", "numeric", "real", "double precision"),
    "date": ("date", "time", "timetz", "timestamp", "timestamptz", "interval"),
    "boolean": ("boolean",),
}
FAMILY_OF = {word: family for family, words in FAMILIES.items() for word in words}


def type_parts(rendered):
    """(base words, modifiers, dimensions) of a rendered type; an enum's or a named type's
    whole text is its base."""
    match = RENDERED.match(rendered)
    if match is None or match["base"] not in FAMILY_OF:
        dims = len(re.search(r"(\[\])*$", rendered)[0]) // 2
        return rendered[: len(rendered) - 2 * dims], (), dims
    mods = tuple(int(m) for m in (match["mods"] or "").split(",") if m)
    return match["base"], mods, len(match["dims"]) // 2


def family(rendered):
    """text, number, date or boolean: the family a rendered type belongs to (an enum and a
    named type are text, as their fields are)."""
    return FAMILY_OF.get(type_parts(rendered)[0], "text")


def widening(before, after):
    """Whether PostgreSQL changes a column from type `before` to `after` without rewriting
    the table or failing."""
    if before == after:
        return True
    (base1, mods1, dims1), (base2, mods2, dims2) = type_parts(before), type_parts(after)
    if (dims1 > 0) != (dims2 > 0):
        return False
    if dims1:
        # Dimensions are not enforced: an array of the same element type is the same type.
        return (base1, mods1) == (base2, mods2)
    if base1 in STRINGS and (base2 == "text" or (base2 == "varchar" and not mods2)):
        return True
    if base1 == base2 == "varchar":
        return bool(mods1) and bool(mods2) and mods2[0] >= mods1[0]
    if base1 == "cidr" and base2 == "inet":
        return True
    if base1 == base2 and base1 in PRECISE and mods1:
        if not mods2:
            return True
        return mods2[0] >= mods1[0] and mods1[1:] == mods2[1:]
    return False
