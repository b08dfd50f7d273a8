"""Comparing two versions, or a version and the working copy, from their parts (issue #27).

A comparison reads the parts whose hashes differ, never two whole snapshots: two versions'
manifests are compared bucket by bucket (parts.cut_between), a version and the working copy
through the parts the triggers keep (working.since, parts.cut). The cut snapshots hold the
keys kept whole ("format", "enums") and the entries whose leaves differ, from which the one
diff engine gives exactly the changes it gives from the whole snapshots.

The migration SQL needs a little more than what changed: the relationships of the changed
tables, unchanged or not, with the tables at their other ends (a foreign key names its key's
columns, and a changed key drops and adds the foreign keys that use it); and, for each such
table, the relationships it holds, so that its objects are named as in the whole snapshot.
Those come equal on both sides (`context`). Object names are a function of the whole
snapshot (schema_objects: a name taken by one table makes the next step aside), so the cut
is used only when no name of the tables read was made unique and no table left unread has
a name any of theirs could collide with (`names_are_local`); else, and for tables with
partitions (a changed parent makes its partitions again), the whole snapshots are compared
as before. Not checked: a table left unread whose own index or constraint name (one a
designer chose) equals a name generated for a changed table.

A cut of most of the design is compared a page at a time instead (compare_paged).
"""

import json
import re

from designer.database.schema_objects import RELATION_KINDS
from designer.database.schema_objects import ObjectNames
from designer.database.schema_objects import names_of
from designer.db import database
from designer.design.partitions import parent_id
from designer.design.partitions import partition_by
from designer.history import parts
from designer.history import snapshot as snapshots
from designer.history import working as working_parts

# A name cut short and hashed (naming.generated_name: at least LONG_NAME bytes, a hash and
# a suffix) or made unique by a hash (schema_objects.disambiguated) may be another table's
# name so made, which that table's name, longer than what was kept of it, does not prefix.
LONG_NAME = 50
HASHED = re.compile(r"_[0-9a-f]{8}_[a-z_]+$")
DISAMBIGUATED = re.compile(r"_[0-9a-f]{8}$")
ENDS = ("source_table_id", "target_table_id")
# What comparisons read, for tests: entries (rows, and bytes of their texts) from the
# parts and the working copy's parts, and buckets opened (a bucket holds a 256th of the
# entries' ids and hashes), and entries listed (compare_paged's ids and names, from the
# manifests). A comparison reads in proportion to what changed; a page of a large cut,
# in proportion to the page, only its listing to the cut.
work = {"rows": 0, "bytes": 0, "buckets": 0, "listed": 0}


def counted(rows, text_at):
    work["rows"] += len(rows)
    work["bytes"] += sum(len(row[text_at] or "") for row in rows)
    return rows


# Some entries of a version, each found through its own bucket.
VERSION_ENTRIES = """
WITH leaves AS MATERIALIZED (
  SELECT i.id, bucket.body ->> i.id AS leaf
  FROM unnest(%(ids)s::text[], %(buckets)s::text[]) i (id, bucket)
  JOIN schema_part bucket ON bucket.project_id = %(project)s AND bucket.hash = i.bucket)
SELECT leaves.id, leaf.body::text
FROM leaves JOIN schema_part leaf ON leaf.project_id = %(project)s AND leaf.hash = leaves.leaf
"""
# The hits (rows of id and hash) a version's buckets name: each bucket the hits fall in is
# opened once, its members joined to them.
MEMBER_HITS = """,
named AS MATERIALIZED (SELECT key, value FROM json_each_text(%(buckets)s::json)),
members AS MATERIALIZED (
  SELECT e.key AS id, e.value AS hash FROM named
  JOIN schema_part bucket ON bucket.project_id = %(project)s AND bucket.hash = named.value
  CROSS JOIN LATERAL json_each_text(bucket.body) e
  WHERE named.key IN (SELECT DISTINCT left(hits.id, 2) FROM hits))
SELECT hits.id, {wanted} FROM hits JOIN members ON members.id = hits.id AND members.hash = hits.hash
"""
# The relationships of a version with an end among some tables: the project's relationship
# parts of those ends (migration 0039's indexes), kept when the version's bucket names them.
VERSION_RELATIONSHIPS = """
WITH hits AS MATERIALIZED (
  SELECT p.hash, p.body ->> 'id' AS id, p.body::text AS body FROM schema_part p
  WHERE p.project_id = %(project)s AND p.kind = 'relationship'
    AND p.body ->> 'source_table_id' = ANY (%(sources)s::text[])
  UNION
  SELECT p.hash, p.body ->> 'id', p.body::text FROM schema_part p
  WHERE p.project_id = %(project)s AND p.kind = 'relationship'
    AND p.body ->> 'target_table_id' = ANY (%(targets)s::text[])
)""" + MEMBER_HITS.format(wanted="hits.body")
# The ids of a version's tables of some names (a label is a table's or relationship's name).
VERSION_NAMED = """
WITH hits AS MATERIALIZED (
  SELECT p.hash, p.body ->> 'id' AS id FROM schema_part p
  WHERE p.project_id = %(project)s AND p.label = ANY (%(names)s::text[])
)""" + MEMBER_HITS.format(wanted="NULL")
WORKING_ENTRIES = """
SELECT entry_id, body::text, hash FROM working_part
WHERE project_id = %(project)s AND kind = %(kind)s AND entry_id = ANY (%(ids)s::text[])
"""
WORKING_RELATIONSHIPS = """
SELECT id::text FROM table_relationship
WHERE project_id = %(project)s AND source_table_id = ANY (%(sources)s::uuid[])
UNION
SELECT id::text FROM table_relationship
WHERE project_id = %(project)s AND target_table_id = ANY (%(targets)s::uuid[])
"""
WORKING_NAMED = """
SELECT id::text FROM data_table WHERE project_id = %(project)s AND table_name = ANY (%(names)s)
"""


def parsed(rows):
    """{id: entry} of (id, text) rows of parts' canonical JSON."""
    values = snapshots.parts.read([text for _, text in rows], canonical=True)
    return {entry_id: value[0] for (entry_id, _), value in zip(rows, values, strict=True)}


class VersionSide:
    """Lookups in a version stored in parts."""

    def __init__(self, project_id, manifest):
        self.project = str(project_id)
        self.buckets = {key: named for key, (kind, named) in manifest.items() if kind == "buckets"}

    def run(self, query, values):
        rows = database.execute_sql(query, {"project": self.project, **values}).fetchall()
        return counted(rows, -1)

    def entries(self, key, ids):
        buckets = self.buckets.get(key, {})
        ids = sorted(i for i in ids if parts.bucket_of(i) in buckets)
        if not ids:
            return {}
        values = {"ids": ids, "buckets": [buckets[parts.bucket_of(i)] for i in ids]}
        return parsed(self.run(VERSION_ENTRIES, values))

    def relationships(self, sources, targets):
        """{id: relationship} of those whose source is among `sources` or target among
        `targets` (table ids)."""
        if not (sources or targets) or not self.buckets.get("relationships"):
            return {}
        values = {
            "sources": sorted(sources), "targets": sorted(targets),
            "buckets": json.dumps(self.buckets["relationships"]),
        }  # fmt: skip
        return parsed(self.run(VERSION_RELATIONSHIPS, values))

    def tables_named(self, names):
        if not names or not self.buckets.get("tables"):
            return set()
        values = {"names": sorted(names), "buckets": json.dumps(self.buckets["tables"])}
        return {row[0] for row in self.run(VERSION_NAMED, values)}


class WorkingSide:
    """Lookups in the working copy, through its parts (working_part) and its rows."""

    def __init__(self, project_id):
        self.project = str(project_id)

    def run(self, query, values, text_at=-1):
        rows = database.execute_sql(query, {"project": self.project, **values}).fetchall()
        return counted(rows, text_at)

    def entries(self, key, ids):
        if not ids:
            return {}
        rows = self.run(WORKING_ENTRIES, {"kind": key, "ids": sorted(ids)}, text_at=1)
        found = parsed([(i, text) for i, text, hashed in rows if hashed is not None])
        unwritten = {i for i, _, hashed in rows if hashed is None}
        made = working_parts.build_entries(self.project, {key: unwritten})
        found.update((i, value) for i, (value, _) in made.get(key, {}).items())
        return dict(sorted(found.items()))

    def relationships(self, sources, targets):
        if not (sources or targets):
            return {}
        values = {"sources": sorted(sources), "targets": sorted(targets)}
        ids = {row[0] for row in self.run(WORKING_RELATIONSHIPS, values)}
        return self.entries("relationships", ids)

    def tables_named(self, names):
        if not names:
            return set()
        return {row[0] for row in self.run(WORKING_NAMED, {"names": sorted(names)})}


class WholeSide:
    """Lookups in a whole snapshot (for tests: what the lookups of a stored side answer)."""

    def __init__(self, snapshot):
        self.snapshot = snapshot

    def entries(self, key, ids):
        found = self.snapshot.get(key, {})
        return {i: found[i] for i in sorted(ids) if i in found}

    def relationships(self, sources, targets):
        return {
            i: rel
            for i, rel in self.snapshot["relationships"].items()
            if rel.get("source_table_id") in sources or rel.get("target_table_id") in targets
        }

    def tables_named(self, names):
        return {i for i, t in self.snapshot["tables"].items() if t.get("table_name") in names}


def context(old, new, side):
    """(old, new) with the unchanged entries the migration SQL needs added to both (read
    from `side`, either one: they are equal on both), and the ids of the tables whose
    objects are named there as in the whole snapshots."""
    changed = old["tables"].keys() | new["tables"].keys()
    linked = old["relationships"].keys() | new["relationships"].keys()
    # The relationships of the changed tables, with the tables at their ends.
    near = {i: rel for i, rel in side.relationships(changed, changed).items() if i not in linked}
    every = [*near.values(), *old["relationships"].values(), *new["relationships"].values()]
    ends = {rel.get(end) for rel in every for end in ENDS} - changed - {None}
    # And the relationships those tables hold (their foreign keys name their objects).
    held = {
        i: rel
        for i, rel in side.relationships(set(), ends).items()
        if i not in linked and i not in near
    }
    sources = {rel.get("source_table_id") for rel in held.values()} - changed - ends - {None}
    tables = side.entries("tables", ends | sources)
    relationships = {**near, **held}
    sides = []
    for cut in (old, new):
        whole = dict(cut)
        whole["tables"] = dict(sorted({**tables, **cut["tables"]}.items()))
        whole["relationships"] = dict(sorted({**relationships, **cut["relationships"]}.items()))
        sides.append(whole)
    return sides[0], sides[1], changed | (ends & tables.keys())


def names_are_local(old, new, named, side):
    """Whether the objects of the tables `named` get the same names in the cut snapshots
    as in the whole ones (see the module's note)."""
    for cut in (old, new):
        for table_id in cut["tables"].keys() & named:
            table = cut["tables"][table_id]
            if partition_by(table) is not None or parent_id(table) is not None:
                return False
        for entry_map in ("tables", "relationships"):
            if any(entry.get("id") != i for i, entry in cut[entry_map].items()):
                return False
    old_names = names_of(old)
    new_names = ObjectNames(new, reuse=old_names)
    found = set()
    for snapshot, names in ((old, old_names), (new, new_names)):
        for table_id, candidates in names.candidates.items():
            given = names.by_table[table_id]
            for key, base, chosen in candidates:
                if not chosen and given[key] != base:
                    return False  # made unique: the whole snapshot may differ
                if table_id in named and key[0] in RELATION_KINDS:
                    found.add(given[key])
        found |= {snapshot["tables"][i]["table_name"] for i in named & snapshot["tables"].keys()}
    for name in found:
        if DISAMBIGUATED.search(name) or (
            len(name.encode("utf-8")) >= LONG_NAME and HASHED.search(name)
        ):
            return False
    prefixes = set()
    for name in found:
        pieces = name.split("_")
        prefixes.update("_".join(pieces[:n]) for n in range(1, len(pieces) + 1))
    return not (side.tables_named(prefixes) - named)


def cut_of(project_id, old_ref, new_ref, manifest_of, working_buckets=None):
    """(old, new, side) cut from the parts of two references (None or "working" for the
    working copy, else a version), with a side to look unchanged entries up in; None when
    either is a version stored whole. `manifest_of(version)` reads a version's manifest;
    `working_buckets`, the working copy's bucket hashes when already read (a Listing's)."""
    refs = [None if r is None else manifest_of(r) for r in (old_ref, new_ref)]
    if any(r is not None and m is None for r, m in zip((old_ref, new_ref), refs, strict=True)):
        return None
    fetched = {}
    buckets = {
        hashed
        for manifest in refs
        for kind, named in (manifest or {}).values()
        if kind == "buckets"
        for hashed in named.values()
    }

    def fetch(hashes):
        missing = set(hashes) - fetched.keys()
        if missing:
            rows = database.execute_sql(
                "SELECT hash, body::text FROM schema_part WHERE project_id = %s"
                " AND hash = ANY (%s)",
                (str(project_id), sorted(missing)),
            ).fetchall()
            work["buckets"] += sum(1 for hashed, _ in rows if hashed in buckets)
            counted([row for row in rows if row[0] not in buckets], 1)
            fetched.update(parsed(rows))
        return {hashed: fetched[hashed] for hashed in hashes}

    old_manifest, new_manifest = refs
    if old_manifest is None and new_manifest is None:
        same = working_parts.whole_keys(project_id)
        same.update((key, {}) for key in parts.ENTRY_MAPS)
        return same, dict(same), WorkingSide(project_id)
    if old_manifest is not None and new_manifest is not None:
        found = parts.cut_between(old_manifest, new_manifest, fetch)
        if found is None:
            return None
        return found[0], found[1], VersionSide(project_id, old_manifest)
    manifest = old_manifest if old_manifest is not None else new_manifest
    tree, current = working_parts.since(project_id, manifest, fetch, working_buckets)
    was, now, _ = parts.cut(manifest, tree, current, fetch, snapshots.parts.canonical)
    if old_manifest is None:
        was, now = now, was
    return was, now, WorkingSide(project_id)
