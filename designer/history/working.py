"""The working copy as parts, from the rows triggers keep current (working_part, migration
0030): what a save compares with the previous version without building the whole design.

A bucket's hash comes from its members' leaf hashes (PostgreSQL writes its text, the
canonical JSON of {entry id: leaf hash}: ids and hashes are plain ASCII, so it is the one
canonical_json gives), the manifest from the buckets and the keys kept whole ("format",
"enums"). Only the buckets whose hashes differ from the previous version's are opened, and
only the entries whose leaves differ are read. An entry the triggers left unwritten (a
float inside a jsonb value) is built by the Python code (snapshot.SOME_TABLES) and hashed
here, so its bucket is too.
"""

import json

from designer.db import database
from designer.history import parts
from designer.history import snapshot as snapshots

# A bucket's text from its members (the same expression in both statements below).
BUCKET_TEXT = (
    "'{' || string_agg(to_json(entry_id)::text || ':' || to_json(hash)::text, ','"
    " ORDER BY entry_id COLLATE \"C\") || '}'"
)
# Every bucket's hash; NULL for a bucket with an unwritten member.
BUCKETS = f"""
SELECT kind, bucket, CASE WHEN count(*) = count(hash) THEN part_digest({BUCKET_TEXT}) END
FROM working_part WHERE project_id = %(project)s GROUP BY kind, bucket
"""
# Some buckets' members, with the text of those whose leaf is not in `known` ({kind: {id:
# leaf hash}}, the previous version's members of these buckets), in one statement so the
# members and texts agree.
MEMBERS = """
SELECT w.kind, w.bucket, w.entry_id, w.hash,
       CASE WHEN w.hash IS NULL
                 OR w.hash IS DISTINCT FROM (%(known)s::jsonb -> w.kind ->> w.entry_id)
            THEN w.body::text END
FROM unnest(%(kinds)s::text[], %(buckets)s::text[]) AS u (kind, bucket)
JOIN working_part w ON w.project_id = %(project)s AND w.kind = u.kind AND w.bucket = u.bucket
"""
# What a working_part row is as a stored part (schema_part.kind, migration 0049).
LEAF_KIND = "CASE kind WHEN 'relationships' THEN 'relationship' ELSE 'table' END"
# Every leaf and bucket of the working copy into the store, by SQL (a first version).
STORE_LEAVES = f"""
INSERT INTO schema_part (project_id, hash, body, label, kind)
SELECT project_id, hash, body, label, {LEAF_KIND} FROM working_part
WHERE project_id = %(project)s AND hash IS NOT NULL
ON CONFLICT DO NOTHING
"""
STORE_BUCKETS = f"""
INSERT INTO schema_part (project_id, hash, body, label, kind)
SELECT %(project)s, part_digest(text), text::json, NULL, 'other' FROM (
    SELECT {BUCKET_TEXT} FROM working_part WHERE project_id = %(project)s
    GROUP BY kind, bucket HAVING count(*) = count(hash)) b (text)
ON CONFLICT DO NOTHING
"""
# A first version's store, in one statement (so one snapshot of working_part): every leaf
# the triggers wrote and every bucket whose members they all wrote go into the store, and
# each bucket's hash comes back, or, for a bucket with an unwritten member, its members
# ({entry id: hash or null}).
STORE_FIRST = f"""
WITH leaves AS (
    INSERT INTO schema_part (project_id, hash, body, label, kind)
    SELECT project_id, hash, body, label, {LEAF_KIND} FROM working_part
    WHERE project_id = %(project)s AND hash IS NOT NULL
    ON CONFLICT DO NOTHING),
b AS MATERIALIZED (
    SELECT kind, bucket, count(*) = count(hash) AS complete,
           CASE WHEN count(*) = count(hash) THEN part_digest({BUCKET_TEXT}) END AS hash,
           {BUCKET_TEXT} AS text,
           CASE WHEN count(*) > count(hash) THEN json_object_agg(entry_id, hash)::text END
             AS members,
           count(*) AS entries
    FROM working_part WHERE project_id = %(project)s GROUP BY kind, bucket),
buckets AS (
    INSERT INTO schema_part (project_id, hash, body, label, kind)
    SELECT %(project)s, hash, text::json, NULL, 'other' FROM b WHERE complete
    ON CONFLICT DO NOTHING)
SELECT kind, bucket, hash, members, entries FROM b
"""
# How many entries of each kind, and the first `shown` of each in the order diff lists
# them added (by name, then id, in code point order), with their texts.
# (A top-N sort per kind: only the rows shown have their texts read.)
LEADING = """
SELECT k.kind, w.entry_id, w.body::text
FROM unnest(%(kinds)s::text[]) k (kind) CROSS JOIN LATERAL (
    SELECT entry_id, body FROM working_part
    WHERE project_id = %(project)s AND kind = k.kind
    ORDER BY label COLLATE "C", entry_id COLLATE "C" LIMIT %(shown)s) w
"""
EVERY_ENTRY = """
SELECT kind, entry_id, body::text FROM working_part WHERE project_id = %(project)s
ORDER BY kind, entry_id COLLATE "C"
"""
BUILT_BY = {"tables": snapshots.SOME_TABLES, "relationships": snapshots.SOME_RELATIONSHIPS}
# How many entries the Python code built, and how many entries' texts were read and parsed,
# for tests: a save's work is in proportion to what changed, not to the design's size.
work = {"built": 0, "read": 0}


def whole_keys(project_id):
    """{key: value} of the keys kept whole: "format", and "enums" when there are any."""
    query = f"SELECT v::text FROM ({snapshots.ENUM_ROWS}) e (k, v)"
    rows = database.execute_sql(query, {"project": str(project_id)}).fetchall()
    found = {"format": snapshots.FORMAT}
    if rows:
        found[snapshots.ENUMS] = snapshots.parts.read([rows[0][0]])[0][0]
    return found


def build_entries(project_id, wanted):
    """{kind: {id: (value, canonical JSON)}} of entries built by the Python code."""
    found = {}
    for kind, ids in wanted.items():
        if not ids:
            continue
        query = f"SELECT id, part::text FROM ({BUILT_BY[kind]}) built (id, part)"
        rows = database.execute_sql(query, {"project": str(project_id), "ids": sorted(ids)})
        rows = rows.fetchall()
        work["built"] += len(rows)
        values = snapshots.parts.read([text for _, text in rows])
        found[kind] = {
            entry_id: (entry[0], snapshots.parts.canonical(entry[0]))
            for (entry_id, _), entry in zip(rows, values, strict=True)
        }
    return found


def bucket_hashes(project_id):
    """{kind: {bucket: hash or None}} of the working copy."""
    found = {key: {} for key in parts.ENTRY_MAPS}
    for kind, bucket, hashed in database.execute_sql(BUCKETS, {"project": str(project_id)}):
        found[kind][bucket] = hashed
    return found


def whole_tree(tree, values):
    """Add the keys kept whole to `tree` (a parts.Tree), and finish its manifest."""
    manifest = {key: {"buckets": tree.buckets[key]} for key in parts.ENTRY_MAPS}
    for key, value in values.items():
        tree.whole[key] = tree.add(snapshots.canonical_json(value))
        manifest[key] = {"part": tree.whole[key]}
    tree.manifest = snapshots.canonical_json(manifest)
    tree.hash = parts.digest(tree.manifest)
    return tree


def since(project_id, manifest, fetch, buckets=None):
    """(tree, current) of the working copy against a previous version's manifest (as
    parts.read_manifest gives it), for parts.cut: the tree names every bucket, and holds the
    members and texts of the buckets that differ; `current` holds the keys kept whole and,
    of the entry maps, the entries whose leaves differ. `fetch(hashes)` gives {hash: value}
    of stored parts (the previous version's buckets). `buckets`: bucket_hashes' answer, when
    read already."""
    tree = parts.Tree()
    if buckets is None:
        buckets = bucket_hashes(project_id)
    tree.buckets = {key: dict(named) for key, named in buckets.items()}  # (changed below)
    old_buckets = {key: named for key, (kind, named) in manifest.items() if kind == "buckets"}
    differ = [
        (key, name)
        for key in parts.ENTRY_MAPS
        for name in tree.buckets[key].keys() | old_buckets.get(key, {}).keys()
        if tree.buckets[key].get(name) != old_buckets.get(key, {}).get(name)
        or tree.buckets[key].get(name) is None
    ]
    opened = fetch(
        {old_buckets[key][name] for key, name in differ if name in old_buckets.get(key, {})}
    )
    known = {key: {} for key in parts.ENTRY_MAPS}
    for key, name in differ:
        old_hash = old_buckets.get(key, {}).get(name)
        if old_hash is not None:
            known[key].update(opened[old_hash])
    rows = database.execute_sql(
        MEMBERS,
        {
            "project": str(project_id),
            "known": json.dumps(known),
            "kinds": [key for key, _ in differ],
            "buckets": [name for _, name in differ],
        },
    ).fetchall()
    members = {key: {} for key in parts.ENTRY_MAPS}
    texts = {key: {} for key in parts.ENTRY_MAPS}
    unwritten = {key: set() for key in parts.ENTRY_MAPS}
    for kind, bucket, entry_id, hashed, text in rows:
        members[kind].setdefault(bucket, {})[entry_id] = hashed
        if hashed is None:
            unwritten[kind].add(entry_id)
        elif text is not None:
            texts[kind][entry_id] = text
    made = build_entries(project_id, unwritten)
    current = whole_keys(project_id)
    tree.members = {key: {} for key in parts.ENTRY_MAPS}
    for key in parts.ENTRY_MAPS:
        entries = {}
        read = list(texts[key].items())
        work["read"] += len(read)
        values = snapshots.parts.read([text for _, text in read], canonical=True)
        for (entry_id, _), entry in zip(read, values, strict=True):
            entries[entry_id] = entry[0]
        for entry_id, (value, canonical) in made.get(key, {}).items():
            entries[entry_id] = value
            tree.texts[parts.digest(canonical)] = canonical
        current[key] = entries
        tree.leaves[key] = {}
    for key, name in differ:
        named = members[key].get(name, {})
        for entry_id in [i for i, hashed in named.items() if hashed is None]:
            if entry_id in made.get(key, {}):
                named[entry_id] = parts.digest(made[key][entry_id][1])
            else:
                del named[entry_id]  # (gone since the buckets were read)
        tree.leaves[key].update(named)
        if named:
            # Hashed from the members read with the texts, so the two agree.
            tree.buckets[key][name] = tree.add(snapshots.canonical_json(named))
            tree.members[key][name] = named
        else:
            tree.buckets[key].pop(name, None)
    return whole_tree(
        tree, {k: v for k, v in current.items() if k not in parts.ENTRY_MAPS}
    ), current


def everything(project_id):
    """The working copy's whole snapshot, assembled from its parts (a first version)."""
    rows = database.execute_sql(EVERY_ENTRY, {"project": str(project_id)}).fetchall()
    unwritten = {
        key: {i for kind, i, text in rows if kind == key and text is None}
        for key in parts.ENTRY_MAPS
    }
    made = build_entries(project_id, unwritten)
    stored = [(kind, i, text) for kind, i, text in rows if text is not None]
    values = iter(snapshots.parts.read([text for *_, text in stored], canonical=True))
    found = {key: {} for key in parts.ENTRY_MAPS}
    for kind, entry_id, _ in stored:
        found[kind][entry_id] = next(values)[0]
    for kind, entries in made.items():
        for entry_id, (value, _) in entries.items():
            found[kind][entry_id] = value
    snapshot = whole_keys(project_id)
    for key in parts.ENTRY_MAPS:
        snapshot[key] = dict(sorted(found[key].items()))
    return snapshot


def unwritten(project_id):
    """{kind: {entry id}} of the entries the triggers left unwritten."""
    found = {key: set() for key in parts.ENTRY_MAPS}
    rows = database.execute_sql(
        "SELECT kind, entry_id FROM working_part WHERE project_id = %s AND hash IS NULL",
        (str(project_id),),
    )
    for kind, entry_id in rows:
        found[kind].add(entry_id)
    return found


def store_everything(project_id):
    """Every leaf and bucket the triggers wrote into the store, by SQL."""
    database.execute_sql(STORE_LEAVES, {"project": str(project_id)})
    database.execute_sql(STORE_BUCKETS, {"project": str(project_id)})


def first_tree(project_id):
    """(tree, added, counts) of the working copy for a first version, without reading its
    entries: STORE_FIRST stores the leaves and buckets the triggers wrote and gives the
    buckets' hashes. Only an entry the triggers left unwritten is built here, and its bucket
    hashed: `added` holds {hash: text} of those parts and of the keys kept whole, for the
    store; `counts` {kind: number of entries}."""
    tree = parts.Tree()
    tree.buckets = {key: {} for key in parts.ENTRY_MAPS}
    incomplete = {key: {} for key in parts.ENTRY_MAPS}
    counted = dict.fromkeys(parts.ENTRY_MAPS, 0)
    for kind, bucket, hashed, members, entries in database.execute_sql(
        STORE_FIRST, {"project": str(project_id)}
    ):
        counted[kind] += entries
        if hashed is not None:
            tree.buckets[kind][bucket] = hashed
        else:
            incomplete[kind][bucket] = json.loads(members)
    made = build_entries(
        project_id,
        {key: {i for named in incomplete[key].values() for i, h in named.items() if h is None}
         for key in parts.ENTRY_MAPS},
    )  # fmt: skip
    added = {}
    for key, buckets in incomplete.items():
        for name, named in buckets.items():
            for entry_id in [i for i, hashed in named.items() if hashed is None]:
                if entry_id in made.get(key, {}):
                    canonical = made[key][entry_id][1]
                    named[entry_id] = parts.digest(canonical)
                    added[named[entry_id]] = canonical
                else:
                    del named[entry_id]  # (gone since the buckets were read)
            if named:
                named = dict(sorted(named.items()))
                tree.buckets[key][name] = tree.add(snapshots.canonical_json(named))
    whole_tree(tree, whole_keys(project_id))
    added.update(tree.texts)
    return tree, added, counted


def leading(project_id, shown):
    """The working copy cut down to the keys kept whole and the first `shown` entries of
    each entry map in the order diff lists them added (a first version's message)."""
    values = {"project": str(project_id), "shown": shown, "kinds": list(parts.ENTRY_MAPS)}
    rows = database.execute_sql(LEADING, values).fetchall()
    unwritten = {key: {i for kind, i, text in rows if kind == key and text is None}
                 for key in parts.ENTRY_MAPS}  # fmt: skip
    made = build_entries(project_id, unwritten)
    stored = [(kind, i, text) for kind, i, text in rows if text is not None]
    values = snapshots.parts.read([text for *_, text in stored], canonical=True)
    snapshot = whole_keys(project_id)
    for key in parts.ENTRY_MAPS:
        snapshot[key] = {}
    for (kind, entry_id, _), entry in zip(stored, values, strict=True):
        snapshot[kind][entry_id] = entry[0]
    for kind, entries in made.items():
        for entry_id, (value, _) in entries.items():
            snapshot[kind][entry_id] = value
    return snapshot
