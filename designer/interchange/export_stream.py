"""A JSON export written from the design's stored parts, a page of entries at a time (#27).

The JSON export is the whole snapshot, json.dumps(indent=2) of it. Built from the snapshot,
a 30,000-table file first held the snapshot (a dict of every table, over a gigabyte in
Python) and then wrote its 300 MB of text. Each entry of the snapshot is a part already
stored as its canonical JSON with its hash: the working copy's in working_part (kept by
triggers, migration 0030), a version's in schema_part (named by its manifest's buckets).
So the file is written here from those: the ids and hashes of every entry (a few MB at
30,000 tables) in the snapshot's order, then a page of PAGE entries' texts at a time, each
entry indented in place (export_formats.nested) and kept by its hash, so a table that did
not change is not read again while its piece is kept. The text is the one json_text
writes from the snapshot (tests/integration/test_export_stream.py).

The diagram's Mermaid source (diagram.download) is written the same way, from the names,
statuses and relationships of every table read in one query each. The export formats other
than JSON still write from the snapshot (their object names and repairs are the whole
design's).
"""

import json
import secrets

from designer import diagram
from designer.db import database
from designer.history import parts
from designer.history import snapshot as snapshots
from designer.history import working
from designer.interchange import export_formats
from designer.interchange.export_formats import nested

# Entries whose texts one query reads (some 3 MB of text at 20 fields a table).
PAGE = 500
# Texts of entries read from PostgreSQL, for tests: a file after a one-table change reads
# that table's (while the others' pieces are kept).
work = {"read": 0}

WORKING_LIST = """
SELECT entry_id, hash FROM working_part WHERE project_id = %(project)s AND kind = %(kind)s
ORDER BY entry_id COLLATE "C"
"""
WORKING_BODIES = """
SELECT entry_id, hash, body::text FROM working_part
WHERE project_id = %(project)s AND kind = %(kind)s AND entry_id = ANY (%(ids)s)
"""
# A version's entries of one kind: (entry id, leaf hash) from its manifest's buckets.
VERSION_LIST = """
SELECT e.key, e.value
FROM json_each_text(%(buckets)s::json) b
JOIN schema_part bucket ON bucket.project_id = %(project)s AND bucket.hash = b.value
CROSS JOIN LATERAL json_each_text(bucket.body) e
ORDER BY e.key COLLATE "C"
"""
WORKING_COUNT = """
SELECT count(*) FROM working_part WHERE project_id = %(project)s AND kind = %(kind)s
"""
VERSION_COUNT = """
SELECT count(*)
FROM json_each_text(%(buckets)s::json) b
JOIN schema_part bucket ON bucket.project_id = %(project)s AND bucket.hash = b.value
CROSS JOIN LATERAL json_object_keys(bucket.body::json)
"""
# The texts of the entries listed (ids, or a version's leaf hashes), in the order listed,
# read through a cursor PAGE rows at a time.
WORKING_IN_ORDER = """
SELECT u.id, w.entry_id IS NOT NULL, w.hash, w.body::text
FROM unnest(%(ids)s::text[]) WITH ORDINALITY u (id, n)
LEFT JOIN working_part w ON w.project_id = %(project)s AND w.kind = %(kind)s AND w.entry_id = u.id
ORDER BY u.n
"""
VERSION_IN_ORDER = """
SELECT u.hash, p.body::text
FROM unnest(%(hashes)s::text[]) WITH ORDINALITY u (hash, n)
LEFT JOIN schema_part p ON p.project_id = %(project)s AND p.hash = u.hash
ORDER BY u.n
"""
VERSION_BODIES = """
SELECT hash, body::text FROM schema_part WHERE project_id = %(project)s AND hash = ANY (%(hashes)s)
"""


def in_order(sql, values):
    """The rows of `sql`, PAGE at a time through a cursor, in one transaction: one statement
    (counted as one, as its pages are its rows), where a query a page made a download's
    queries grow with its tables."""
    name = f"export_{secrets.token_hex(6)}"
    with database.atomic():
        database.execute_sql(f"DECLARE {name} NO SCROLL CURSOR FOR {sql}", values)
        cursor = database.cursor()
        try:
            while rows := (cursor.execute(f"FETCH {PAGE} FROM {name}"), cursor.fetchall())[1]:
                yield rows
        finally:
            cursor.execute(f"CLOSE {name}")


class WorkingParts:
    """The working copy's entries, from working_part."""

    def __init__(self, project_id):
        self.project = str(project_id)
        self.changed = False  # (an entry changed while the file was written)

    def whole(self):
        return working.whole_keys(self.project)

    def listing(self, kind):
        values = {"project": self.project, "kind": kind}
        return database.execute_sql(WORKING_LIST, values).fetchall()

    def count(self, kind):
        """How many entries of `kind` the working copy has."""
        values = {"project": self.project, "kind": kind}
        return database.execute_sql(WORKING_COUNT, values).fetchone()[0]

    def texts(self, kind, rows):
        """{entry id: canonical JSON} of the (id, hash) rows."""
        values = {"project": self.project, "kind": kind, "ids": [i for i, _ in rows]}
        found, unwritten = {}, set()
        listed = dict(rows)
        for entry_id, hashed, text in database.execute_sql(WORKING_BODIES, values):
            if hashed != listed[entry_id]:
                self.changed = True
            if hashed is None:
                unwritten.add(entry_id)
            else:
                found[entry_id] = text
        if len(found) + len(unwritten) < len(rows):
            self.changed = True  # (gone since it was listed)
        found.update(self.built(kind, unwritten))
        return found

    def built(self, kind, ids):
        """{entry id: canonical JSON} of entries the triggers left to Python."""
        made = working.build_entries(self.project, {kind: ids}) if ids else {}
        return {entry_id: canonical for entry_id, (_, canonical) in made.get(kind, {}).items()}

    def ordered_texts(self, kind, rows):
        """(entry id, canonical JSON or None when gone) of the (id, hash) rows, in order."""
        values = {"project": self.project, "kind": kind, "ids": [i for i, _ in rows]}
        listed = iter(rows)
        for page in in_order(WORKING_IN_ORDER, values):
            unwritten = {i for i, present, hashed, _ in page if present and hashed is None}
            made = self.built(kind, unwritten)
            for entry_id, present, hashed, text in page:
                if hashed != next(listed)[1] or not present:  # (listed: in the same order)
                    self.changed = True
                yield entry_id, made.get(entry_id) if hashed is None else text


class VersionParts:
    """A version's entries, from schema_part by its manifest."""

    changed = False

    def __init__(self, project_id, manifest):
        self.project = str(project_id)
        self.manifest = parts.read_manifest(manifest)

    def whole(self):
        hashes = [named for kind, named in self.manifest.values() if kind == "part"]
        bodies = self.bodies(hashes)
        return {
            key: json.loads(bodies[named])
            for key, (kind, named) in self.manifest.items()
            if kind == "part"
        }

    def listing(self, kind):
        buckets = self.manifest.get(kind, ("buckets", {}))[1]
        values = {"project": self.project, "buckets": json.dumps(buckets)}
        return database.execute_sql(VERSION_LIST, values).fetchall()

    def count(self, kind):
        buckets = self.manifest.get(kind, ("buckets", {}))[1]
        values = {"project": self.project, "buckets": json.dumps(buckets)}
        return database.execute_sql(VERSION_COUNT, values).fetchone()[0]

    def bodies(self, hashes):
        values = {"project": self.project, "hashes": sorted(set(hashes))}
        return dict(database.execute_sql(VERSION_BODIES, values).fetchall())

    def ordered_texts(self, kind, rows):
        values = {"project": self.project, "hashes": [hashed for _, hashed in rows]}
        listed = iter(rows)
        for page in in_order(VERSION_IN_ORDER, values):
            for _, text in page:
                yield next(listed)[0], text


def version_source(version):
    """VersionParts of a version stored in parts (None for one stored whole)."""
    row = database.execute_sql(
        "SELECT manifest::text FROM schema_version WHERE id = %s AND schema_snapshot IS NULL"
        " AND manifest IS NOT NULL",
        (str(version.id),),
    ).fetchone()
    if row is None:
        return None
    source = VersionParts(version.project_id, row[0])
    known = {"format", *parts.ENTRY_MAPS}
    if not known <= source.manifest.keys() <= {snapshots.ENUMS, *known}:
        return None  # (keys json_parts does not know: written from the snapshot)
    if any(source.manifest.get(key, ("buckets",))[0] != "buckets" for key in parts.ENTRY_MAPS):
        return None
    return source


def json_parts(source):
    """The JSON export's text in parts (as export_formats.json_text writes it)."""
    whole = source.whole()
    head = "{\n"
    if snapshots.ENUMS in whole:  # (written whole, even empty: json.dumps would)
        head += f'  "enums": {nested(whole[snapshots.ENUMS], 1)},\n'
    head += f'  "format": {nested(whole["format"], 1)},\n  "relationships": '
    yield head
    yield from entries(source, "relationships")
    yield ',\n  "tables": '
    yield from entries(source, "tables")
    yield "\n}\n"


def entries(source, kind):
    """The parts of an entry map indented one level deep (nested(map, 1))."""
    listed = source.listing(kind)
    first = True
    for entry_id, text in pieces(
        source,
        kind,
        listed,
        lambda entry_id, hashed: ("json part", hashed),
        lambda entry_id, text: nested(json.loads(text), 2),
    ):
        yield ("{\n" if first else ",\n") + f"    {json.dumps(entry_id, ensure_ascii=False)}: "
        yield text
        first = False
    yield "{}" if first else "\n  }"


# Bytes of kept pieces an export holds on to from its start (those it found kept): more are
# read again, as their part's text, rather than held beside the pool.
PINNED_BYTES = 32 * 1024 * 1024


class Unkept(str):
    """A piece made but not to be kept by its key."""


def pieces(source, kind, listed, key_of, make):
    """(entry id, piece) of each (id, hash) row listed, in order: kept by key_of(id, hash)
    (a part written by the triggers only), else made by make(id, text) from the entry's
    text, read with the others' in one cursor. An entry gone since it was listed is left
    out (the file is then not kept)."""
    pinned, held = {}, 0
    for entry_id, hashed in listed:
        if hashed is None:
            continue
        found = export_formats.fragments.peek(key_of(entry_id, hashed))
        if found is not None and held + len(found) <= PINNED_BYTES:
            pinned[entry_id] = found
            held += len(found)
    missing = [row for row in listed if row[0] not in pinned]
    texts = source.ordered_texts(kind, missing) if missing else iter(())
    for entry_id, hashed in listed:
        if entry_id in pinned:
            yield entry_id, pinned.pop(entry_id)
            continue
        read_id, text = next(texts)
        assert read_id == entry_id
        if text is None:
            source.changed = True
            continue
        work["read"] += 1
        made = make(entry_id, text)
        export_formats.work["pieces"] += 1
        if hashed is not None and not isinstance(made, Unkept):
            export_formats.fragments.get(key_of(entry_id, hashed), lambda m=made: m)
        yield entry_id, made
    for _ in texts:
        pass  # (the cursor read to its end, so its transaction ends here)


# The diagram's Mermaid source (diagram.mermaid) of the working copy, from working_part:
# the tables by name with what decides whether they are drawn (a Deleted table and a
# partition are not), the relationships with what their lines say, then each table's
# entity a page at a time, kept by its part's hash and the foreign keys it marks.
DIAGRAM_TABLES = """
SELECT entry_id, hash, label, body ->> 'status',
       (body -> 'structure' -> 'partition_of') IS NOT NULL
FROM working_part WHERE project_id = %(project)s AND kind = 'tables'
ORDER BY label COLLATE "C", entry_id COLLATE "C"
"""
DIAGRAM_RELATIONSHIPS = """
SELECT r.body ->> 'relationship_name', r.body ->> 'source_table_id',
       r.body ->> 'target_table_id', r.body ->> 'target_field_id', r.body ->> 'status',
       t.body -> 'fields' -> (r.body ->> 'target_field_id') ->> 'is_required'
FROM working_part r
LEFT JOIN working_part t ON t.project_id = r.project_id AND t.kind = 'tables'
  AND t.entry_id = r.body ->> 'target_table_id'
WHERE r.project_id = %(project)s AND r.kind = 'relationships'
ORDER BY r.body ->> 'relationship_name' COLLATE "C"
"""
UNWRITTEN = "SELECT EXISTS (SELECT FROM working_part WHERE project_id = %s AND hash IS NULL)"


def diagram_source(project_id):
    """WorkingParts to write the diagram from, or None when an entry is one the triggers
    left to Python (the diagram is then drawn from the snapshot)."""
    if database.execute_sql(UNWRITTEN, (str(project_id),)).fetchone()[0]:
        return None
    return WorkingParts(project_id)


def mermaid_parts(source, focus=None):
    """diagram.mermaid's text of the working copy, in parts."""
    values = {"project": source.project}
    listed = database.execute_sql(DIAGRAM_TABLES, values).fetchall()
    names, hashes, maybe = {}, {}, []
    for entry_id, hashed, label, status, partition in listed:
        if status != "deleted":
            names[entry_id], hashes[entry_id] = label, hashed
            if partition:
                maybe.append((entry_id, hashed))
    if maybe:  # (whether a partition: diagram.live_tables asks of the entry itself)
        for entry_id, text in source.texts("tables", maybe).items():
            if diagram.partition_of(json.loads(text)):
                del names[entry_id]
    relationships = [
        {"relationship_name": name, "source_table_id": source_id,
         "target_table_id": target_id, "target_field_id": field_id, "status": status,
         "required": required == "true"}
        for name, source_id, target_id, field_id, status, required in database.execute_sql(
            DIAGRAM_RELATIONSHIPS, values
        )
    ]  # fmt: skip
    relationships = diagram.between(relationships, names)
    if focus and focus in names:
        names = {tid: n for tid, n in diagram.neighbourhood(names, relationships, focus).items()}
        relationships = diagram.between(relationships, names)
    marked = {}
    for rel in relationships:
        if rel["target_field_id"]:
            marked.setdefault(rel["target_table_id"], set()).add(rel["target_field_id"])
    foreign_keys = {r["target_field_id"] for r in relationships if r["target_field_id"]}
    yield "erDiagram"
    drawn = [(tid, hashes[tid]) for tid, *_ in listed if tid in names]
    keys = {tid: tuple(sorted(marked.get(tid, ()))) for tid, _ in drawn}

    def entity(tid, text):
        table = json.loads(text)
        if {f for f in table["fields"] if f in foreign_keys} != set(keys[tid]):
            # (a field marked by another table's relationship: drawn, not kept by this key)
            return Unkept("\n" + "\n".join(diagram.entity(table, foreign_keys)))
        return "\n" + "\n".join(diagram.entity(table, foreign_keys))

    for _, text in pieces(
        source, "tables", drawn, lambda tid, h: ("diagram entity", h, keys[tid]), entity
    ):
        yield str(text)
    for rel in relationships:
        one = "||" if rel["required"] else "|o"
        source_name, target_name = names[rel["source_table_id"]], names[rel["target_table_id"]]
        yield (
            f"\n    {source_name} {one}--o{{ {target_name} : "
            f'"{diagram.comment(rel["relationship_name"])}"'
        )
    yield "\n"
