"""The canonical snapshot of a project's schema, and its hash.

A snapshot is plain JSON keyed by the stable ids of tables, fields and
relationships, so the same schema gives the same bytes (and hash) however it
was built, and renames stay renames when two snapshots are compared.
"""

import functools
import hashlib
import json
import sys
import threading
from collections import OrderedDict

from designer import kept
from designer.db import database
from designer.settings import settings

FORMAT = 1


def field_entry(field):
    return {
        "id": str(field.id),
        "name": field.name,
        "field_name": field.field_name,
        "data_type": field.data_type,
        "is_required": field.is_required,
        "default_value": field.default_value,
        "field_config": field.field_config,
        "sort_order": field.sort_order,
    }


def relationship_entry(rel):
    pairs = {"pairs": rel.field_pairs} if rel.field_pairs else {}
    return {
        **pairs,
        "id": str(rel.id),
        "relationship_name": rel.relationship_name,
        "relationship_type": rel.relationship_type,
        "source_table_id": str(rel.source_table_id),
        "source_field_id": str(rel.source_field_id) if rel.source_field_id else None,
        "target_table_id": str(rel.target_table_id),
        "target_field_id": str(rel.target_field_id) if rel.target_field_id else None,
        "cascade_config": rel.cascade_config,
        "status": rel.status,
    }


# The keys of a snapshot's table and field entries (a table's also has "fields", and
# "structure" when it has any: its chosen primary key, uniques, checks, indexes; kept in
# data_table.schema_definition under the same key, and absent from older snapshots).
TABLE_COLUMNS = ("id", "name", "table_name", "description", "status")
TABLE_STRUCTURE = "structure"
FIELD_COLUMNS = (
    "id", "name", "field_name", "data_type", "is_required", "default_value", "field_config",
    "sort_order",
)  # fmt: skip

# The snapshot as json values assembled by PostgreSQL: one row per table (its id and its
# entry) and one for the relationships (id NULL). Python parses their text in C instead of
# turning 60,000 rows into objects, and only the texts it has not seen before (Parts).
# (Migration 0030 writes the same entries' canonical JSON in SQL for working_part: a change
# here is one there too; tests/integration/test_working_parts.py compares them.)
TABLE_ROWS = """
SELECT t.id::text, CASE WHEN s.structure IS NULL THEN json_build_object(
  'id', t.id, 'name', t.name, 'table_name', t.table_name,
  'description', t.description, 'status', t.status, 'fields', f.fields)
ELSE json_build_object(
  'id', t.id, 'name', t.name, 'table_name', t.table_name,
  'description', t.description, 'status', t.status, 'fields', f.fields,
  'structure', s.structure) END
FROM data_table t
CROSS JOIN LATERAL (SELECT coalesce((
    SELECT json_object_agg(f.id, json_build_object(
      'id', f.id, 'name', f.name, 'field_name', f.field_name, 'data_type', f.data_type,
      'is_required', f.is_required, 'default_value', f.default_value,
      'field_config', f.field_config, 'sort_order', f.sort_order))
    FROM data_field f WHERE f.table_id = t.id), '{}') AS fields) f
CROSS JOIN LATERAL (
  SELECT nullif(t.schema_definition -> 'structure', '{}'::jsonb) AS structure) s
WHERE t.project_id = %(project)s
"""
RELATIONSHIP_JSON = """
CASE WHEN r.field_pairs = '[]' THEN json_build_object(
    'id', r.id, 'relationship_name', r.relationship_name,
    'relationship_type', r.relationship_type,
    'source_table_id', r.source_table_id, 'source_field_id', r.source_field_id,
    'target_table_id', r.target_table_id, 'target_field_id', r.target_field_id,
    'cascade_config', r.cascade_config, 'status', r.status)
  ELSE json_build_object(
    'id', r.id, 'relationship_name', r.relationship_name,
    'relationship_type', r.relationship_type,
    'source_table_id', r.source_table_id, 'source_field_id', r.source_field_id,
    'target_table_id', r.target_table_id, 'target_field_id', r.target_field_id,
    'cascade_config', r.cascade_config, 'status', r.status, 'pairs', r.field_pairs) END
"""
ENUM_ROWS = """
SELECT 'enums', json_object_agg(e.id, json_build_object(
    'id', e.id, 'name', e.name, 'labels', e.labels))
FROM project_enum e WHERE e.project_id = %(project)s HAVING count(*) > 0
"""
PARTS_JSON = (
    TABLE_ROWS
    + "UNION ALL\nSELECT NULL, coalesce((\n  SELECT json_object_agg(r.id, "
    + RELATIONSHIP_JSON
    + ")\n  FROM table_relationship r WHERE r.project_id = %(project)s), '{}')\nUNION ALL"
    + ENUM_ROWS
)
# Some tables' rows, and some relationships' (id, entry), of a project: (id text, json).
SOME_TABLES = TABLE_ROWS + "AND t.id = ANY (%(ids)s::uuid[])"
SOME_RELATIONSHIPS = (
    "SELECT r.id::text, "
    + RELATIONSHIP_JSON
    + "FROM table_relationship r WHERE r.project_id = %(project)s AND r.id = ANY (%(ids)s::uuid[])"
)
# The id of the row of PARTS_JSON that holds the project's enums (only when it has some: a
# design without enums is the snapshot it was before enums, with the same hash).
ENUMS = "enums"


class Parts:
    """Each snapshot part's text, parsed, with its canonical JSON: (value, canonical).

    Keyed by the text itself, so an entry is never stale: between two builds of a
    3,000-table project most tables' texts are the same, and only the others are
    parsed and encoded again. Values are shared by every snapshot built from them, so
    read-only like every snapshot. Bounded by the size of the texts kept
    (settings.snapshot_parts_bytes unless given).
    """

    def __init__(self, budget_bytes=None):
        self.given_budget = budget_bytes
        self.used = 0
        self.entries = OrderedDict()
        # The same entries by their value's identity (kept alive by `entries`).
        self.by_value = {}
        self.lock = threading.Lock()

    @property
    def budget(self):
        given = self.given_budget
        return given if given is not None else settings.snapshot_parts_bytes

    def clear(self):
        with self.lock:
            self.entries.clear()
            self.by_value.clear()
            self.used = 0

    def text_size(self, value):
        """The length of the text a value was read from (None if it was not)."""
        entry = self.by_value.get(id(value))
        return entry[3] if entry is not None and entry[0] is value else None

    def leaf_hash(self, value):
        """(sha256 of its canonical JSON, that JSON's length) of a value that came from
        read(), kept with it; else None."""
        entry = self.by_value.get(id(value))
        if entry is None or entry[0] is not value:
            return None
        if entry[2] is None:
            text = entry_json(entry)
            entry[2] = (hashlib.sha256(text.encode("utf-8")).hexdigest(), len(text))
        return entry[2]

    def canonical(self, value):
        """canonical_json(value), encoded once for a value that came from read()."""
        entry = self.by_value.get(id(value))
        return (
            entry_json(entry) if entry is not None and entry[0] is value else canonical_json(value)
        )

    def read(self, texts, canonical=False):
        """[[value, canonical JSON or None until entry_json, its hash or None until
        leaf_hash]] of `texts`, in order; `canonical` when the texts are canonical JSON
        already (stored parts)."""
        with self.lock:
            found = [self.entries.get(text) for text in texts]
            for text, entry in zip(texts, found, strict=True):
                if entry is not None:
                    self.entries.move_to_end(text)
        made = {}
        for i, text in enumerate(texts):
            if found[i] is None:
                # Encoded only when a hash needs it: plans and pages only read the value.
                found[i] = made[text] = [
                    json.loads(text),
                    text if canonical else None,
                    None,
                    len(text),
                ]
        with self.lock:
            for text, entry in made.items():
                # The text, and its canonical JSON of about the same length.
                size = 2 * len(text)
                if text not in self.entries and size <= self.budget:
                    self.entries[text] = entry
                    self.by_value[id(entry[0])] = entry
                    self.used += size
            while self.used > self.budget:
                text, (value, *_) = self.entries.popitem(last=False)
                del self.by_value[id(value)]
                self.used -= 2 * len(text)
        return found


parts = Parts()


def measured(value):
    """A snapshot's weight (kept.weight) from the texts its parts were read from, without
    walking it: 3,000 tables weigh in microseconds."""
    if not isinstance(value, dict) or not isinstance(value.get("tables"), dict):
        return None
    tables = value["tables"]
    sizes = [parts.text_size(t) for t in tables.values()]
    if None in sizes:
        return None
    rest = {k: v for k, v in value.items() if k != "tables"}
    return sum(sizes) + sum(kept.weight(v) for v in rest.values()) + 100 * len(sizes)


kept.measures.append(measured)


# Entries weighed of those not read from parts, per collection: a table's entry is some 300
# values deep, and 32 of them made weighing a 3,000-table comparison take 0.1 s.
SHARED_SAMPLE = 8


def shared_weight(designs):
    """The weight of snapshots that share entries, each entry counted once. A branch's sides
    are its base with the tables each side changed since: weighed one by one, three
    3,000-table sides came to 74 MB, more than a worker's whole cache budget, so no
    comparison was ever kept, where together they hold little more than one side. Tables
    read from parts weigh their text; other entries as the first SHARED_SAMPLE of them weigh."""
    seen, total = set(), 0
    for design in designs:
        for key, value in design.items():
            if not isinstance(value, dict):
                total += kept.weight(value)
                continue
            new = [entry for entry in value.values() if id(entry) not in seen]
            seen.update(id(entry) for entry in new)
            total += sys.getsizeof(value)
            sizes = {id(e): parts.text_size(e) if key == "tables" else None for e in new}
            total += sum(size + 100 for size in sizes.values() if size is not None)
            rest = [entry for entry in new if sizes[id(entry)] is None]
            sample = rest[:SHARED_SAMPLE]
            if sample:
                total += sum(kept.weight(entry) for entry in sample) * len(rest) // len(sample)
    return total


def entry_json(entry):
    """The canonical JSON of a Parts entry's value, encoded on first use."""
    if entry[1] is None:
        entry[1] = canonical_json(entry[0])  # (two threads would store equal texts)
    return entry[1]


class Built:
    """A snapshot and its canonical JSON, put together from its parts'."""

    def __init__(self, rows, version=FORMAT):
        """`rows`: (table id, table text) pairs, one (None, relationships text) and, when the
        project has enums, one (ENUMS, their text)."""
        enums = [text for key, text in rows if key == ENUMS]
        rows = sorted(
            (row for row in rows if row[0] != ENUMS),
            key=lambda row: (row[0] is not None, row[0] or ""),
        )
        self.enums = parts.read(enums)[0] if enums else None
        self.entries = parts.read([text for _, text in rows])
        self.table_ids = [table_id for table_id, _ in rows[1:]]
        self.version = version
        self.snapshot = {
            "format": version,
            "tables": {
                tid: entry[0] for tid, entry in zip(self.table_ids, self.entries[1:], strict=True)
            },
            "relationships": self.entries[0][0],
        }
        if self.enums is not None:
            self.snapshot[ENUMS] = self.enums[0]

    @functools.cached_property
    def canonical(self):
        tables = zip(self.table_ids, map(entry_json, self.entries[1:]), strict=True)
        enums = entry_json(self.enums) if self.enums is not None else None
        return assembled(self.version, entry_json(self.entries[0]), tables, enums)


def assembled(version, relationships_json, tables_json, enums_json=None):
    """canonical_json of a snapshot, from its parts' canonical JSON: `tables_json` holds
    (table id, canonical JSON) sorted by id. sort_keys puts the top keys in the order
    enums (when there are any), format, relationships, tables."""
    entries = ",".join(f"{canonical_json(tid)}:{canonical}" for tid, canonical in tables_json)
    enums = f'"enums":{enums_json},' if enums_json is not None else ""
    return (
        f'{{{enums}"format":{canonical_json(version)},"relationships":{relationships_json},'
        f'"tables":{{{entries}}}}}'
    )


def canonical_of(snapshot):
    """canonical_json(snapshot), encoding again only the parts that did not come from Parts."""
    tables = snapshot.get("tables")
    if (
        snapshot.keys() != {"format", "tables", "relationships"}
        or not isinstance(tables, dict)
        or not all(isinstance(tid, str) for tid in tables)
    ):
        return canonical_json(snapshot)
    return assembled(
        snapshot["format"],
        parts.canonical(snapshot["relationships"]),
        ((tid, parts.canonical(tables[tid])) for tid in sorted(tables)),
    )


def parts_of(project_id):
    """The (table id or None, JSON text) rows of PARTS_JSON for the project."""
    with database.atomic():
        # PostgreSQL's JIT would spend a third of the query compiling it, every time.
        database.execute_sql("SET LOCAL jit = off")
        query = f"SELECT id, part::text FROM ({PARTS_JSON}) parts (id, part)"
        return database.execute_sql(query, {"project": str(project_id)}).fetchall()


def build_with_canonical(project_id):
    """The project's snapshot with its canonical JSON (a Built)."""
    return Built(parts_of(project_id))


def build(project_id):
    """The project's schema as a snapshot dict (one query, whatever its size).

    Holds what table_entry, field_entry and relationship_entry hold (ids as
    text), in the same types: the same schema gives the same hash either way.
    """
    return build_with_canonical(project_id).snapshot


def canonical_json(snapshot):
    """The one byte string a snapshot stands for: sorted keys, no spaces."""
    return json.dumps(snapshot, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def digest(canonical):
    """The sha256 of a snapshot's canonical JSON."""
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def snapshot_hash(snapshot):
    """The snapshot's Merkle root (designer.history.parts): what a version's schema_hash is."""
    from designer.history import parts as part_tree

    return part_tree.snapshot_hash(snapshot, parts.canonical)
