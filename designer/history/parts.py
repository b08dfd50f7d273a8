"""A snapshot as content-addressed parts: the Merkle tree a version is stored as.

A snapshot's top-level keys are of two kinds. "tables" and "relationships" map ids to
entries: each entry is a leaf part, and the leaves are grouped in buckets by the first two
characters of their id (about 120 entries a bucket at 30,000 tables), each bucket a part
too ({id: leaf hash}). Every other key ("format", "enums", anything added later) is one
part, its whole value. The manifest names the parts of every key:

    {"relationships": {"buckets": {"0a": <hash>, ...}}, "format": {"part": <hash>}, ...}

A part's hash is the sha256 of its canonical JSON (snapshot.canonical_json), and the
snapshot's hash is the manifest's: a Merkle root. Equal snapshots have equal manifests,
whatever built them, and a change to one table changes one leaf, one bucket and the
manifest, so a version after it stores only those. Entries are opaque JSON here.
"""

import hashlib
import json

from designer.history.snapshot import canonical_json

# The top-level keys whose values map ids to entries, when they are objects.
ENTRY_MAPS = ("tables", "relationships")
# A stored part's kind (schema_part.kind, migration 0049) from its body, in SQL: a statement
# storing parts of the working copy knows it from working_part.kind instead.
KIND_OF_BODY = (
    "CASE WHEN {body} ->> 'source_table_id' IS NOT NULL THEN 'relationship'"
    " WHEN {body} ->> 'table_name' IS NOT NULL THEN 'table' ELSE 'other' END"
)


def bucket_of(entry_id):
    """The bucket an entry's id falls in (ids are uuids: 256 even buckets)."""
    return entry_id[:2]


def digest(text):
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class Tree:
    """A snapshot's parts: every part's text by hash, and the hashes the manifest names.

    `leaves[key][entry id]` is an entry's hash, `buckets[key][bucket]` a bucket's and
    `members[key][bucket]` its {entry id: hash},
    `whole[key]` the hash of a key kept whole; `texts` holds the canonical JSON of every
    part by its hash (a leaf's only when made here, see `leaf_text`)."""

    def __init__(self):
        self.leaves = {}
        self.buckets = {}
        self.whole = {}
        self.members = {}
        self.texts = {}
        # The length of the canonical JSON of the snapshot's parts (a cache's measure).
        self.size = 0
        self.manifest = None
        self.hash = None

    def add(self, text):
        hashed = digest(text)
        self.texts[hashed] = text
        self.size += len(text)
        return hashed


def is_entry_map(key, value):
    return key in ENTRY_MAPS and isinstance(value, dict)


def tree_of(snapshot, canonical=canonical_json, leaf_hash=None):
    """The Tree of a snapshot dict. `canonical(value)` gives a value's canonical JSON (a
    caller with the texts at hand passes a cached one); `leaf_hash(value)` an entry's
    (hash, length of its text) when already known (then its text is not made)."""
    tree = Tree()
    manifest = {}
    for key, value in snapshot.items():
        if not is_entry_map(key, value):
            tree.whole[key] = tree.add(canonical(value))
            manifest[key] = {"part": tree.whole[key]}
            continue
        leaves = tree.leaves[key] = {}
        grouped = {}
        for entry_id, entry in value.items():
            known = leaf_hash(entry) if leaf_hash is not None else None
            if known:
                leaves[entry_id], size = known
                tree.size += size
            else:
                leaves[entry_id] = tree.add(canonical(entry))
            grouped.setdefault(bucket_of(entry_id), {})[entry_id] = leaves[entry_id]
        tree.members[key] = grouped
        tree.buckets[key] = {
            bucket: tree.add(canonical_json(members)) for bucket, members in grouped.items()
        }
        manifest[key] = {"buckets": tree.buckets[key]}
    tree.manifest = canonical_json(manifest)
    tree.hash = digest(tree.manifest)
    return tree


def snapshot_hash(snapshot, canonical=canonical_json):
    """The Merkle root of a snapshot (a dict); anything else hashes its canonical JSON."""
    if not isinstance(snapshot, dict) or not all(isinstance(k, str) for k in snapshot):
        return digest(canonical_json(snapshot))
    for key in ENTRY_MAPS:
        value = snapshot.get(key)
        if isinstance(value, dict) and not all(isinstance(k, str) for k in value):
            return digest(canonical_json(snapshot))
    return tree_of(snapshot, canonical).hash


def read_manifest(text):
    """{key: ("part", hash) or ("buckets", {bucket: hash})} of a stored manifest."""
    named = json.loads(text) if isinstance(text, str) else text
    return {
        key: ("part", node["part"]) if "part" in node else ("buckets", node["buckets"])
        for key, node in named.items()
    }


def assemble(manifest, body):
    """The snapshot a manifest names, where body(hash) is a part's parsed value."""
    snapshot = {}
    for key, (kind, named) in read_manifest(manifest).items():
        if kind == "part":
            snapshot[key] = body(named)
            continue
        entries = {}
        for bucket_hash in named.values():
            for entry_id, leaf in body(bucket_hash).items():
                entries[entry_id] = body(leaf)
        snapshot[key] = dict(sorted(entries.items()))
    return snapshot


def cut(manifest, tree, current, fetch, canonical=canonical_json):
    """What a save compares and stores, from the parts whose hashes differ.

    `manifest` is the previous version's (read_manifest), `tree` and `current` the new
    snapshot's, `fetch(hashes)` gives {hash: value} of stored parts. Returns (old, new,
    added): both snapshots cut down to every key kept whole and only the entries whose
    leaves differ (diff gives the same changes from them as from the whole snapshots), and
    {hash: text} of the parts the new snapshot has that the previous had not. Only the
    buckets whose hashes differ are opened, and only the old leaves that differ read."""
    old_buckets = {key: named for key, (kind, named) in manifest.items() if kind == "buckets"}
    whole = {named for kind, named in manifest.values() if kind == "part"}
    opened = fetch(
        {
            bucket
            for key, named in old_buckets.items()
            for name, bucket in named.items()
            if tree.buckets.get(key, {}).get(name) != bucket
        }
        | whole
    )
    old, new, added, wanted = {}, {}, {}, {}
    for key in manifest.keys() | current.keys():
        kind, named = manifest.get(key, (None, None))
        if key in tree.leaves:
            was = old_buckets.get(key, {})
            changed, olds = set(), {}
            for name in was.keys() | tree.buckets[key].keys():
                old_hash, new_hash = was.get(name), tree.buckets[key].get(name)
                if old_hash == new_hash:
                    continue
                if new_hash is not None:
                    added[new_hash] = tree.texts[new_hash]
                before = opened[old_hash] if old_hash else {}
                after = tree.members[key].get(name, {})
                differ = {i for i in before.keys() | after.keys() if before.get(i) != after.get(i)}
                changed |= differ
                olds.update((i, before[i]) for i in differ if i in before)
            new[key] = {i: current[key][i] for i in sorted(changed) if i in current[key]}
            for i, entry in new[key].items():
                added[tree.leaves[key][i]] = canonical(entry)
            wanted[key] = olds
        elif key in current:
            new[key] = current[key]
            if tree.whole[key] not in whole:
                added[tree.whole[key]] = tree.texts[tree.whole[key]]
        if kind == "buckets" and key not in tree.leaves:
            # No longer an entry map (or gone): every old entry differs.
            wanted[key] = {i: h for bucket in named.values() for i, h in opened[bucket].items()}
        if kind == "part":
            old[key] = opened[named]
    leaves = fetch({h for olds in wanted.values() for h in olds.values()})
    for key, olds in wanted.items():
        if key in old_buckets:
            old[key] = {i: leaves[h] for i, h in sorted(olds.items())}
    return old, new, added


def cut_between(old_manifest, new_manifest, fetch):
    """(old, new) of two stored snapshots, from their manifests (read_manifest) alone, cut
    as cut cuts them: every key kept whole, and of the entry maps only the entries whose
    leaves differ. Only the buckets whose hashes differ are opened, and only the leaves
    that differ read. None when a key is an entry map on one side only (then the caller
    compares the whole snapshots)."""
    for key in old_manifest.keys() & new_manifest.keys():
        if old_manifest[key][0] != new_manifest[key][0]:
            return None
    sides = (old_manifest, new_manifest)
    differ = {}
    for key in old_manifest.keys() | new_manifest.keys():
        named = [m[key][1] if m.get(key, (None,))[0] == "buckets" else None for m in sides]
        if named[0] is None and named[1] is None:
            continue
        was, now = named[0] or {}, named[1] or {}
        differ[key] = [(was.get(n), now.get(n)) for n in was.keys() | now.keys()]
        differ[key] = [pair for pair in differ[key] if pair[0] != pair[1]]
    whole = {m[key][1] for m in sides for key in m if m[key][0] == "part"}
    opened = fetch(
        {h for pairs in differ.values() for pair in pairs for h in pair if h is not None} | whole
    )
    leaves = {}
    for key, pairs in differ.items():
        olds, news = {}, {}
        for old_hash, new_hash in pairs:
            before = opened[old_hash] if old_hash else {}
            after = opened[new_hash] if new_hash else {}
            for i in before.keys() | after.keys():
                if before.get(i) != after.get(i):
                    if i in before:
                        olds[i] = before[i]
                    if i in after:
                        news[i] = after[i]
        leaves[key] = (olds, news)
    bodies = fetch({h for pair in leaves.values() for side in pair for h in side.values()})
    cut_sides = ({}, {})
    for side, manifest in enumerate(sides):
        for key, (kind, named) in manifest.items():
            if kind == "part":
                cut_sides[side][key] = opened[named]
            else:
                chosen = leaves.get(key, ({}, {}))[side]
                cut_sides[side][key] = {i: bodies[h] for i, h in sorted(chosen.items())}
    return cut_sides
