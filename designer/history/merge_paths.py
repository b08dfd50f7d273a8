"""A design's changes by path, for the three-way merge (designer.history.merge).

diff(base, side) is cut down to properties: a table's, field's, relationship's or enum's
attributes one by one, a field's settings (field_config) one key at a time, and a table's
structure as its primary key and partitioning, and each unique, check and index whole by
its own id. An object (table, field, relationship, enum, structure item) is added or
removed whole. A change has a path into the snapshot, such as
("tables", tid, "fields", fid, "field_name"), its value before and its value after (ABSENT
for a removed object or setting), and lands on any design by that path. Pure.
"""

import copy
import functools
from dataclasses import dataclass

from designer.history.diff import diff

STRUCTURE_ITEMS = ("uniques", "checks", "indexes")


class Absent:
    """The value of a path where a side has nothing (a removed object or setting)."""

    def __repr__(self):
        return "ABSENT"


ABSENT = Absent()


@dataclass(frozen=True)
class Change:
    """One side's change of one path: an object added or removed, or a property set."""

    side: str
    path: tuple
    before: object
    after: object

    @property
    def verb(self):
        if self.before is ABSENT and is_object(self.path):
            return "added"
        if self.after is ABSENT and is_object(self.path):
            return "removed"
        return "renamed" if self.path[-1] in ("table_name", "field_name") else "changed"

    @property
    def object_path(self):
        """The path of the object this change is about (itself for an added or removed one)."""
        return next(self.path[:n] for n in range(len(self.path), 0, -1) if is_object(self.path[:n]))

    @functools.cached_property
    def names(self):
        """The ids the change's path names, and its new value's (none for a removal)."""
        if self.after is ABSENT:
            return frozenset(self.path)
        return frozenset(named_ids(self.after, set(self.path)))

    def as_op(self):
        """The change as one diff op (designer.history.diff), for diff.describe's words."""
        head = self.object_path
        kind = OBJECT_KINDS[len(head)][head[0]]
        if kind == "item":
            # A unique, check or index reads as its table's structure changing by that item.
            head, kind = head[:2], "table"
        ids = dict(zip(OP_IDS[kind], head[1::2], strict=True))
        rest = self.path[len(head) :]
        if not rest:
            verb = "add" if self.before is ABSENT else "drop"
            value = {"after": self.after} if verb == "add" else {"before": self.before}
            return {"op": f"{verb}_{kind}", **ids, **value}
        if self.verb == "renamed":
            return {"op": f"rename_{kind}", **ids, "before": self.before, "after": self.after}
        change = {
            side: nested(rest[1:], value)
            for side, value in (("before", self.before), ("after", self.after))
            if value is not ABSENT or len(rest) > 1
        }
        return {"op": f"alter_{kind}", **ids, "changes": {rest[0]: change}}


# The kind of object at a path of each length, by its first part; and the ids of its op.
OBJECT_KINDS = {
    2: {"tables": "table", "relationships": "relationship", "enums": "enum"},
    4: {"tables": "field"},
    5: {"tables": "item"},
}
OP_IDS = {
    "table": ("table_id",),
    "field": ("table_id", "field_id"),
    "relationship": ("relationship_id",),
    "enum": ("enum_id",),
}


def nested(parts, value):
    """`value` inside dicts keyed by `parts` ({} for ABSENT): {"max_length": 200}."""
    if not parts:
        return value
    return {} if value is ABSENT else {parts[0]: nested(parts[1:], value)}


def is_object(path):
    """Whether `path` leads to a whole object rather than a property of one."""
    if path[0] in ("relationships", "enums"):
        return len(path) == 2
    return (
        len(path) == 2
        or (len(path) == 4 and path[2] == "fields")
        or (len(path) == 5 and path[2] == "structure" and path[3] in STRUCTURE_ITEMS)
    )


def side_changes(base, side, snapshot):
    """{path: Change} of diff(base, snapshot), each op cut down to its properties."""
    changes = {}

    def put(path, before, after):
        changes[path] = Change(side, path, before, after)

    added_tables = set()
    for op in diff(base, snapshot):
        verb, _, kind = op["op"].partition("_")
        path = op_path(op, kind)
        if kind == "field" and op["table_id"] in added_tables:
            continue  # travels with its table
        if verb == "add":
            if kind == "table":
                added_tables.add(op["table_id"])
            put(path, ABSENT, value_at(snapshot, path))
        elif verb == "drop":
            put(path, op["before"], ABSENT)
        elif verb == "rename":
            put((*path, f"{kind}_name"), op["before"], op["after"])
        else:
            for attr, change in op["changes"].items():
                before, after = change.get("before", ABSENT), change.get("after", ABSENT)
                for parts, was, now in split_attribute(attr, before, after):
                    put((*path, *parts), was, now)
    return changes


def op_path(op, kind):
    if kind == "table":
        return ("tables", op["table_id"])
    if kind == "field":
        return ("tables", op["table_id"], "fields", op["field_id"])
    if kind == "relationship":
        return ("relationships", op["relationship_id"])
    return ("enums", op["enum_id"])


def split_attribute(attr, before, after):
    """(path parts, before, after) of one changed attribute: settings one key at a time,
    structure one key (primary key, partitioning) or one whole item at a time."""
    if attr == "field_config":
        return split_mapping((attr,), before, after)
    if attr != "structure":
        return [((attr,), before, after)]
    found = []
    was, now = as_mapping(before), as_mapping(after)
    for key in sorted(was.keys() | now.keys()):
        if key in STRUCTURE_ITEMS:
            found += split_mapping((attr, key), was.get(key), now.get(key))
        elif was.get(key, ABSENT) != now.get(key, ABSENT):
            found.append(((attr, key), was.get(key, ABSENT), now.get(key, ABSENT)))
    return found


def split_mapping(prefix, before, after):
    was, now = as_mapping(before), as_mapping(after)
    return [
        ((*prefix, key), was.get(key, ABSENT), now.get(key, ABSENT))
        for key in sorted(was.keys() | now.keys())
        if was.get(key, ABSENT) != now.get(key, ABSENT)
    ]


def as_mapping(value):
    return value if isinstance(value, dict) else {}


def value_at(snapshot, path):
    value = snapshot
    for part in path:
        if not isinstance(value, dict) or part not in value:
            return ABSENT
        value = value[part]
    return value


def named_ids(value, found=None):
    """Every string in a JSON value, keys included: the ids it names (ids are UUIDs, so
    no free text is taken for one)."""
    found = set() if found is None else found
    if isinstance(value, str):
        found.add(value)
    elif isinstance(value, dict):
        for key, inner in value.items():
            found.add(key)
            named_ids(inner, found)
    elif isinstance(value, list):
        for inner in value:
            named_ids(inner, found)
    return found


def set_path(snapshot, path, value, owned):
    """Set (or, for ABSENT, remove) the value at `path`; an object that is gone stays gone.

    Each dict on the way is copied before it changes, once (`owned` holds the ids of those
    copied already, the snapshot's own among them): the rest is shared with the design it
    came from, as diff's ops are, and read-only like it."""
    container = snapshot
    for depth, part in enumerate(path[:-1]):
        inner = container.get(part)
        if inner is None:
            if is_object(path[: depth + 1]) or value is ABSENT:
                return
            inner = {}
        elif id(inner) not in owned:
            inner = dict(inner)
        else:
            container = inner
            continue
        owned.add(id(inner))
        container[part] = inner
        container = inner
    if value is ABSENT:
        container.pop(path[-1], None)
    else:
        container[path[-1]] = copy.deepcopy(value)


def tidy_structure(table):
    """A table's structure as the designer keeps it (designer.design.structure): no empty
    group of items, and no "structure" key while it is empty."""
    if table is None or "structure" not in table:
        return
    structure = table["structure"]
    for kind in STRUCTURE_ITEMS:
        if kind in structure and not structure[kind]:
            del structure[kind]
    if not structure:
        del table["structure"]
