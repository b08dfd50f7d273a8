"""One set of rules for every design that can become SQL.

Whichever way a design comes in (typed, imported from SQL, DBML or JSON, restored
from a version, adopted from the target's catalog, sent to the API), its snapshot is
stored only once `check_snapshot` accepts it: the shape of the snapshot, each table's
names and status, each field by designer.design.field_rules (the system `id` field
included), each relationship's name, ends, key types and actions, and no cycle.
Pure: no database, no Flask.
"""

import re

from designer.design import partitions
from designer.design.enum_rules import ENUM_KEYS
from designer.design.enum_rules import enum_problems
from designer.design.field_rules import field_problems
from designer.design.field_types import pg_type
from designer.design.field_types import python_regex_problem
from designer.design.keys import MAX_KEY_COLUMNS
from designer.design.keys import comparable_types
from designer.design.keys import referenced_key
from designer.design.naming import identifier_problem
from designer.design.structure import explicit_names
from designer.design.structure import structure_problems
from designer.errors import ValidationFailed
from designer.history.snapshot import FIELD_COLUMNS
from designer.history.snapshot import TABLE_COLUMNS
from designer.models import MAX_DESCRIPTION
from designer.models import RELATIONSHIP_TYPES
from designer.models import TABLE_STATUSES

REL_KEYS = (
    "id", "relationship_name", "relationship_type", "source_table_id", "source_field_id",
    "target_table_id", "target_field_id", "cascade_config", "status",
)  # fmt: skip
ACTIONS = ("no_action", "restrict", "cascade", "set_null", "set_default")
MAX_NAME = 200


class Refused(Exception):
    """What is wrong, and where: carried up to check_snapshot's ValidationFailed."""

    def __init__(self, where, problems):
        super().__init__(where)
        self.where = where
        self.problems = problems

    def words(self):
        said = "; ".join(f"{key}: {message}" for key, message in self.problems.items())
        return f"{self.where}: {said}"


LEAD = "The design cannot be stored."


def check_snapshot(
    snapshot, input_name="file", table_ids=None, regex_problem=None, lead=LEAD,
    relationship_ids=None,
):  # fmt: skip
    """Raise ValidationFailed (`lead`, then what and where; the same under `input_name`)
    unless the snapshot may be stored. `table_ids` limits the tables checked to those (the
    others are stored already); with `relationship_ids` too, the relationships checked are
    those and the ones with an end in `table_ids` (the others and their ends are stored
    already). Names and cycles are checked across the design always. `regex_problem` judges
    patterns (Python's re by default)."""
    try:
        snapshot_problems(
            snapshot, table_ids, regex_problem or python_regex_problem, relationship_ids
        )
    except Refused as refused:
        words = refused.words()
        message = f"{lead} {words}"
        raise ValidationFailed(message, {input_name: words}) from None


def refuse(where, key, message):
    raise Refused(where, {key: message})


def snapshot_problems(snapshot, table_ids, regex_problem, relationship_ids=None):
    keys = {"format", "tables", "relationships"}
    if not isinstance(snapshot, dict) or not keys <= set(snapshot) <= keys | {"enums"}:
        refuse("the design", "keys", "expected format, tables, relationships (and enums).")
    if snapshot["format"] != 1 or type(snapshot["format"]) is not int:
        refuse("the design", "format", "expected 1.")
    tables, relationships = snapshot["tables"], snapshot["relationships"]
    if not isinstance(tables, dict) or not isinstance(relationships, dict):
        refuse("the design", "tables", "tables and relationships are objects keyed by id.")
    enums = snapshot.get("enums", {})
    check_enums(enums, tables)
    for table_id, table in tables.items():
        check_keyed("table", table_id, table, (*TABLE_COLUMNS, "fields"), ("structure",))
        if table_ids is None or table_id in table_ids:
            check_table(table, regex_problem, enums)
    check_unique(tables.values(), "table_name", "table")
    check_relation_names(tables)
    for where, key, message in partitions.snapshot_problems(tables):
        refuse(where, key, message)
    edges = []
    for rel_id, rel in relationships.items():
        check_keyed("relationship", rel_id, rel, REL_KEYS, ("pairs",))
        if (
            table_ids is None
            or relationship_ids is None
            or rel_id in relationship_ids
            or rel["source_table_id"] in table_ids
            or rel["target_table_id"] in table_ids
        ):
            check_relationship(tables, rel)
        edges.append((rel["source_table_id"], rel["target_table_id"], rel["relationship_name"]))
    check_unique(relationships.values(), "relationship_name", "relationship")
    refuse_cycles(edges)


def check_relation_names(tables):
    """Indexes and unique constraints named by hand share the schema's namespace with tables
    (and one another)."""
    seen = {table["table_name"] for table in tables.values()}
    for table in tables.values():
        if "structure" not in table or structure_problems(table):
            continue
        for name in sorted(explicit_names(table)[0]):
            if name in seen:
                where = f"table {table['table_name']!r}"
                refuse(where, "structure", f"the name {name} is taken by another table or index.")
            seen.add(name)


def check_keyed(kind, entry_id, entry, keys, optional=()):
    where = f"{kind} {entry_id!r}"
    if not isinstance(entry, dict) or not set(keys) <= set(entry) <= {*keys, *optional}:
        listed = ", ".join(sorted(keys))
        also = f" (and optionally {', '.join(optional)})" if optional else ""
        refuse(where, "keys", f"expected exactly {listed}{also}.")
    if entry["id"] != entry_id:
        refuse(where, "id", "each entry is keyed by its own id.")
    if not is_uuid(entry_id):
        refuse(where, "id", "ids are UUIDs.")


# A UUID as PostgreSQL and str(uuid.UUID(...)) write one: lowercase, hyphens, no braces.
UUID_TEXT = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def is_uuid(value):
    """Whether `value` is a UUID's text as ids are written (str(uuid.UUID(value)) == value):
    a pattern, since a merge at 3,000 tables checks some 40,000 ids and parsing each took
    a third of a second."""
    return isinstance(value, str) and UUID_TEXT.fullmatch(value) is not None


def check_enums(enums, tables):
    """Each enum: keyed by its id, a valid name no table takes (a table's row type has its
    name), 1 to MAX_LABELS distinct labels of 1 to 63 bytes. Omitted when there is none."""
    if not isinstance(enums, dict):
        refuse("the design", "enums", "expected an object keyed by id.")
    table_names = {
        t.get("table_name")
        for t in tables.values()
        if isinstance(t, dict) and is_text(t.get("table_name"))
    }
    for enum_id, enum in enums.items():
        check_keyed("enum", enum_id, enum, ENUM_KEYS)
        problems = enum_problems(enum["name"], enum["labels"])
        if problems:
            raise Refused(f"enum {enum_id!r}", problems)
        if enum["name"] in table_names:
            refuse(f"enum {enum['name']!r}", "name", "a table has this name.")
    check_unique(enums.values(), "name", "enum")


def check_table(table, regex_problem, enums=None):
    where = f"table {table['table_name']!r}"
    name = table["table_name"]
    problem = identifier_problem(name, "table") if is_text(name) else "expected text."
    if problem:
        refuse(where, "table_name", problem)
    name, description = table["name"], table["description"]
    if not is_text(name) or not name.strip() or name != name.strip() or len(name) > MAX_NAME:
        refuse(where, "name", f"expected a name of 1 to {MAX_NAME} characters.")
    if not is_text(description) or len(description) > MAX_DESCRIPTION:
        refuse(where, "description", f"expected text of at most {MAX_DESCRIPTION:,} characters.")
    if table["status"] not in TABLE_STATUSES or not is_text(table["status"]):
        refuse(where, "status", f"expected one of {', '.join(TABLE_STATUSES)}.")
    fields = table["fields"]
    if not isinstance(fields, dict):
        refuse(where, "fields", "expected an object keyed by id.")
    # In the columns' order, so the problem named first does not depend on how the snapshot
    # was stored (a version's parts keep their keys sorted).
    for field_id, field in sorted(fields.items(), key=column_order):
        check_keyed(f"{where}, field", field_id, field, FIELD_COLUMNS)
        problems = field_problems(field, fields, regex_problem, enums)
        if problems:
            raise Refused(f"{where}, field {field['field_name']!r}", problems)
    systems = [f for f in fields.values() if f["field_config"].get("system")]
    structure = table.get("structure", {})
    if not isinstance(structure, dict):
        refuse(where, "structure", "expected an object.")
    if "primary_key" in structure:
        check_primary_key(where, structure["primary_key"], fields)
        if len(systems) > 1:
            refuse(where, "fields", "a table has at most one system id field.")
    elif len(systems) != 1 and "partition_of" not in structure:
        refuse(where, "fields", "a table without a chosen key has exactly one system id field.")
    check_unique(fields.values(), "field_name", f"{where}, field")
    check_unique(fields.values(), "name", f"{where}, field")
    problems = structure_problems(table)
    if problems:
        place, key, message = problems[0]
        refuse(f"{where}, {place}", key, message)


def column_order(item):
    """A (field id, field) pair's place: by sort_order where it is a number, then by id."""
    field_id, field = item
    order = field.get("sort_order") if isinstance(field, dict) else None
    return (order if type(order) is int else float("inf"), str(field_id))


def check_primary_key(where, key, fields):
    """structure.primary_key: distinct field ids of the table in key order ([] for none),
    each a required column."""
    if not isinstance(key, list) or len(key) > MAX_KEY_COLUMNS:
        refuse(where, "primary_key", f"expected a list of at most {MAX_KEY_COLUMNS} field ids.")
    for field_id in key:
        field = entry_of(fields, field_id)
        if field is None:
            refuse(where, "primary_key", "names a field the table does not have.")
        if not field["is_required"]:
            refuse(where, "primary_key", f"{field['field_name']} is in the key: it is required.")
    if len(set(key)) != len(key):
        refuse(where, "primary_key", "names a field twice.")


def is_text(value):
    return type(value) is str


def check_unique(entries, key, kind):
    seen = set()
    for entry in entries:
        value = entry[key] if is_text(entry[key]) else repr(entry[key])
        if value in seen:
            refuse(f"{kind} {value!r}", key, "is used twice.")
        seen.add(value)


def check_relationship(tables, rel):
    where = f"relationship {rel['relationship_name']!r}"
    name = rel["relationship_name"]
    if not is_text(name) or identifier_problem(name, "table"):
        refuse(where, "relationship_name", "expected a valid name.")
    if rel["relationship_type"] not in RELATIONSHIP_TYPES or not is_text(rel["relationship_type"]):
        refuse(where, "relationship_type", f"expected one of {', '.join(RELATIONSHIP_TYPES)}.")
    if rel["status"] not in TABLE_STATUSES or not is_text(rel["status"]):
        refuse(where, "status", f"expected one of {', '.join(TABLE_STATUSES)}.")
    source, target = (
        entry_of(tables, rel["source_table_id"]),
        entry_of(tables, rel["target_table_id"]),
    )
    if source is None or target is None:
        refuse(where, "source_table_id", "both tables must be in the design.")
    pairs = rel.get("pairs", None)
    if pairs is None:
        pairs = [[rel["source_field_id"], rel["target_field_id"]]]
    elif (
        not isinstance(pairs, list)
        or not 2 <= len(pairs) <= MAX_KEY_COLUMNS
        or not all(isinstance(p, list) and len(p) == 2 for p in pairs)
        or pairs[0] != [rel["source_field_id"], rel["target_field_id"]]
    ):
        refuse(where, "pairs", "expected 2 or more [key, foreign key] pairs, the first its own.")
    keys, foreigns = [], []
    for key_id, foreign_id in pairs:
        key = entry_of(source["fields"], key_id)
        foreign = entry_of(target["fields"], foreign_id)
        if key is None or foreign is None or foreign["field_config"].get("system"):
            refuse(
                where,
                "target_field_id",
                "needs a key of its source and a foreign key of its target.",
            )
        if not comparable_types(
            pg_type(key["data_type"], key["field_config"]),
            pg_type(foreign["data_type"], foreign["field_config"]),
        ):
            refuse(where, "target_field_id", "its key and foreign key have different types.")
        check_cascade(where, rel["cascade_config"], foreign)
        keys.append(key_id)
        foreigns.append(foreign_id)
    if len(set(foreigns)) != len(foreigns):
        refuse(where, "pairs", "uses a foreign key column twice.")
    if referenced_key(source, keys) is None:
        refuse(where, "source_field_id", "its key must be the primary key or a unique key.")


def entry_of(entries, entry_id):
    return entries.get(entry_id) if is_uuid(entry_id) else None


def check_cascade(where, cascade, foreign):
    if not isinstance(cascade, dict) or set(cascade) - {"on_delete", "on_update"}:
        refuse(where, "cascade_config", "expected on_delete and on_update actions.")
    for event, action in cascade.items():
        if not is_text(action) or action not in ACTIONS:
            refuse(where, event, f"expected one of {', '.join(ACTIONS)}.")
        if action == "set_null" and foreign["is_required"]:
            refuse(where, event, "set_null needs an optional foreign key.")
        if action == "set_default" and foreign["default_value"] is None:
            refuse(where, event, "set_default needs a foreign key with a default.")


def refuse_cycles(edges):
    """No cycle through two or more tables (a table may refer to itself)."""
    graph = {}
    for source, target, name in edges:
        if source == target:
            continue
        seen, stack = set(), [target]
        while stack:
            node = stack.pop()
            if node == source:
                refuse(
                    f"relationship {name!r}", "target_table_id", "closes a cycle of relationships."
                )
            if node not in seen:
                seen.add(node)
                stack.extend(graph.get(node, ()))
        graph.setdefault(source, set()).add(target)
