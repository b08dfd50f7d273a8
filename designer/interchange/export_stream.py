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
VERSION_BODIES = """
SELECT hash, body::text FROM schema_part WHERE project_id = %(project)s AND hash = ANY (%(hashes)s)
"""


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
        for entry_id, (_, canonical) in (
            working.build_entries(self.project, {kind: unwritten}).get(kind, {}).items()
        ):
            found[entry_id] = canonical
        return found


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

    def bodies(self, hashes):
        values = {"project": self.project, "hashes": sorted(set(hashes))}
        return dict(database.execute_sql(VERSION_BODIES, values).fetchall())

    def texts(self, kind, rows):
        bodies = self.bodies([hashed for _, hashed in rows])
        return {entry_id: bodies[hashed] for entry_id, hashed in rows}


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
    for start in range(0, len(listed), PAGE):
        page = listed[start : start + PAGE]
        kept = {}
        for entry_id, hashed in page:
            if hashed is not None:
                found = export_formats.fragments.peek(("json part", hashed))
                if found is not None:
                    kept[entry_id] = found
        missing = [row for row in page if row[0] not in kept]
        texts = source.texts(kind, missing) if missing else {}
        work["read"] += len(texts)
        for entry_id, hashed in page:
            if entry_id not in kept and entry_id not in texts:
                continue  # (gone since it was listed: the file is not kept)
            yield ("{\n" if first else ",\n") + f"    {json.dumps(entry_id, ensure_ascii=False)}: "
            first = False
            if entry_id in kept:
                yield kept[entry_id]
                continue
            text = nested(json.loads(texts[entry_id]), 2)
            export_formats.work["pieces"] += 1
            if hashed is not None:
                export_formats.fragments.get(("json part", hashed), lambda t=text: t)
            yield text
    yield "{}" if first else "\n  }"


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
    for start in range(0, len(drawn), PAGE):
        page = drawn[start : start + PAGE]
        keys = {tid: ("diagram entity", h, tuple(sorted(marked.get(tid, ())))) for tid, h in page}
        kept = {tid: export_formats.fragments.peek(key) for tid, key in keys.items()}
        missing = [row for row in page if kept[row[0]] is None]
        texts = source.texts("tables", missing) if missing else {}
        work["read"] += len(texts)
        for tid, _ in page:
            text = kept[tid]
            if text is None:
                if tid not in texts:
                    continue  # (gone since it was listed: the file is not kept)
                table = json.loads(texts[tid])
                text = "\n" + "\n".join(diagram.entity(table, foreign_keys))
                export_formats.work["pieces"] += 1
                own = {f for f in table["fields"] if f in foreign_keys}
                if own == set(keys[tid][2]):  # (else marked by another table's relationship)
                    export_formats.fragments.get(keys[tid], lambda t=text: t)
            yield text
    for rel in relationships:
        one = "||" if rel["required"] else "|o"
        source_name, target_name = names[rel["source_table_id"]], names[rel["target_table_id"]]
        yield (
            f"\n    {source_name} {one}--o{{ {target_name} : "
            f'"{diagram.comment(rel["relationship_name"])}"'
        )
    yield "\n"
