"""Schema versions: save, list, read, compare and restore a project's design.

A version stores the snapshot (as json text), the sha256 of its canonical JSON and
the diff from the previous version (one diff engine, designer.history.diff). Snapshots
are built, stored and read back in per-table parts (designer.history.snapshot.Parts),
so a save of a large project parses and encodes only what changed. A first version's
changes are its whole snapshot added: it stores none (`adds_everything`), its parts go
into the store by SQL, and its changes are derived on read (everything_added). Saving
serializes on the project row, so concurrent saves get consecutive numbers and a save that
changes nothing is refused; the unique (project, version_number) index is
the last guard.
"""

import contextlib
import functools
import gc
import json
import threading
from collections import OrderedDict
from typing import NamedTuple

from peewee import JOIN
from peewee import SQL

from designer.activity import recording
from designer.db import database
from designer.db import parse_id
from designer.design.page_stamps import project_stamp
from designer.errors import Conflict
from designer.errors import NotFound
from designer.errors import ValidationFailed
from designer.history import compare as comparing
from designer.history import compare_paged
from designer.history import parts
from designer.history import snapshot as snapshots
from designer.history import working as working_parts
from designer.history.diff import added_summary
from designer.history.diff import diff
from designer.history.diff import named_text
from designer.history.diff import summarize
from designer.kept import KeptAnswers
from designer.models import SchemaVersion
from designer.models import UserName
from designer.projects import access
from designer.projects import serialize_changes
from designer.settings import settings

PAGE = 25
MAX_MESSAGE = 500
# Listings never load the snapshot nor the changes: either can be megabytes.
HEAVY = (SchemaVersion.schema_snapshot, SchemaVersion.changes, SchemaVersion.manifest)
# (Identity, not ==: a peewee field's == builds an SQL expression.)
LISTED = [f for f in SchemaVersion._meta.sorted_fields if all(f is not h for h in HEAVY)]


class SnapshotCache:
    """Snapshots by hash: a hash's snapshot never changes, so entries never go stale.

    Bounded by the size of the snapshots' canonical JSON, not their count: one
    3,000-table snapshot is tens of megabytes of Python objects.
    """

    def __init__(self, budget_bytes=None):
        self.given_budget = budget_bytes
        self.used = 0
        self.entries = OrderedDict()
        # How to load a hash's snapshot not kept yet: {hash: (load, its size)} (see recipe).
        self.recipes = OrderedDict()
        self.recipes_used = 0
        self.lock = threading.Lock()

    @property
    def budget(self):
        given = self.given_budget
        return given if given is not None else settings.version_snapshots_bytes

    def clear(self):
        with self.lock:
            self.entries.clear()
            self.used = 0
            self.recipes.clear()
            self.recipes_used = 0

    def recipe(self, key, load, size):
        """Load `key`'s snapshot with load() (returning it and its size, or None to leave it
        to the caller's loader) when it is first asked for: a save that did not build its
        snapshot keeps how to assemble it from the parts it names (a few kilobytes of
        manifest), which are stored by hash and never change. Kept within RECIPES_BYTES of
        `size`."""
        with self.lock:
            if key in self.entries or size > RECIPES_BYTES:
                return
            self.recipes[key] = (load, size)
            self.recipes_used += size
            while self.recipes_used > RECIPES_BYTES:
                _, (_, dropped) = self.recipes.popitem(last=False)
                self.recipes_used -= dropped

    def get(self, key, load, size=None):
        """The snapshot kept for `key`, or load()'s, kept by `size` (else by its canonical
        JSON's length)."""

        def sized():
            value = load()
            return value, size or len(snapshots.canonical_of(value))

        return self.get_sized(key, sized)

    def get_sized(self, key, load):
        """As get, where load() returns (snapshot, its size): a caller that read the text
        knows its size without encoding the snapshot again."""
        with self.lock:
            if key in self.entries:
                self.entries.move_to_end(key)
                return self.entries[key][0]
            recipe = self.recipes.pop(key, None)
            if recipe is not None:
                self.recipes_used -= recipe[1]
        found = recipe[0]() if recipe is not None else None
        value, size = found if found is not None else load()
        with self.lock:
            if key not in self.entries and size <= self.budget:
                self.entries[key] = (value, size)
                self.used += size
            while self.used > self.budget:
                _, (_, dropped) = self.entries.popitem(last=False)
                self.used -= dropped
        return value


# The manifests SnapshotCache.recipe keeps, at most: a 30,000-table one is about 40 kB.
RECIPES_BYTES = 1 << 20
cache = SnapshotCache()


# A version stored in parts (designer.history.parts): a row per top-level key of its
# manifest, with the body of a key kept whole (NULL for an entry map), then a row per entry
# of the entry maps. Rows: (top-level key, entry id or NULL, part text or NULL).
PART_ROWS = """
WITH v AS (SELECT project_id, manifest FROM schema_version
           WHERE id = %(id)s AND schema_snapshot IS NULL),
{rest}"""
# The same rows for a manifest given (its text) of a project's parts.
MANIFEST_ROWS = """
WITH v AS (SELECT %(project)s::uuid AS project_id, %(manifest)s::json AS manifest),
{rest}"""
PART_ROWS_REST = """m AS (SELECT m.key, m.value FROM v CROSS JOIN LATERAL json_each(v.manifest) m)
SELECT m.key, NULL, p.body::text
FROM m LEFT JOIN schema_part p
  ON p.project_id = (SELECT project_id FROM v) AND p.hash = m.value ->> 'part'
UNION ALL
SELECT m.key, e.key, leaf.body::text
FROM m CROSS JOIN LATERAL json_each_text(m.value -> 'buckets') b
JOIN schema_part bucket ON bucket.project_id = (SELECT project_id FROM v) AND bucket.hash = b.value
CROSS JOIN LATERAL json_each_text(
  CASE WHEN json_typeof(bucket.body) = 'object' THEN bucket.body END) e
JOIN schema_part leaf ON leaf.project_id = (SELECT project_id FROM v) AND leaf.hash = e.value
"""
PART_ROWS = PART_ROWS.format(rest=PART_ROWS_REST)
MANIFEST_ROWS = MANIFEST_ROWS.format(rest=PART_ROWS_REST)


def from_parts(version_id, manifest=None):
    """The snapshot of a version stored in parts (None for one stored whole), and the size
    of its parts' texts; or, with `manifest` ((project id, manifest text)), of the parts that
    manifest names. Each part's text is its canonical JSON: snapshot.parts keeps it with the
    value, so hashing the snapshot again encodes nothing."""
    if manifest is not None:
        values = {"project": str(manifest[0]), "manifest": manifest[1]}
        rows = database.execute_sql(MANIFEST_ROWS, values).fetchall()
    else:
        rows = database.execute_sql(PART_ROWS, {"id": str(version_id)}).fetchall()
    if not rows:
        return None
    texts = [text for _, _, text in rows if text is not None]
    values = iter(snapshots.parts.read(texts, canonical=True))
    read = {}
    for key, entry_id, text in rows:
        value = next(values)[0] if text is not None else None
        if entry_id is None:
            read[key] = value if text is not None else {}
        else:
            read[key][entry_id] = value
    for key in parts.ENTRY_MAPS:
        if isinstance(read.get(key), dict):
            read[key] = dict(sorted(read[key].items()))
    return read, sum(map(len, texts))


def assembled(project_id, manifest, hashed):
    """(snapshot, size) of the parts a manifest names, when they are all stored (the save
    that wrote them committed) and hash to `hashed`; else None."""
    found = from_parts(None, (project_id, manifest))
    if found is None or tree_of(found[0]).hash != hashed:
        return None
    return found


# A version stored whole (before migration 0027, or written by hand), read in per-table
# parts as snapshot.PARTS_JSON gives them, in two passes over its text: json_each returns
# the stored text itself. Rows: (top-level key, its position, table id or NULL, text); a
# table per row, the other keys' whole values.
STORED_PARTS = """
SELECT top.key, top.ordinality, t.key, coalesce(t.value, top.value)::text
FROM (SELECT schema_snapshot AS s FROM schema_version WHERE id = %(id)s) v
CROSS JOIN LATERAL json_each(v.s) WITH ORDINALITY top
LEFT JOIN LATERAL json_each(
  CASE WHEN top.key = 'tables' AND json_typeof(top.value) = 'object' THEN top.value END
) t ON true
"""
USUAL_KEYS = ("format", "relationships", "tables")


def stored_parts(version_id):
    """(format, [(table id or None, text)]) of a snapshot stored whole of the usual shape,
    else None (then it is read whole)."""
    rows = database.execute_sql(STORED_PARTS, {"id": str(version_id)}).fetchall()
    # (Each key once: json keeps a repeated key, which json.loads would reduce to its last.)
    keys = sorted({(key, position) for key, position, _, _ in rows})
    if tuple(key for key, _ in keys) != USUAL_KEYS:
        return None
    found, version_format = [], None
    for key, _, table_id, text in rows:
        if key == "format":
            version_format = json.loads(text)
        elif key == "relationships":
            found.append((None, text))
        elif table_id is not None:
            found.append((table_id, text))
        elif json.loads(text) != {}:
            return None  # tables that are not an object
    return version_format, found


def snapshot_of(version):
    """A version's snapshot, from the cache when its hash was read before."""

    def load():
        # (A snapshot written whole over a version, by hand or an older app, wins.)
        found = from_parts(version.id)
        if found is not None:
            return found
        found = stored_parts(version.id)
        if found is not None:
            built = snapshots.Built(found[1], found[0])
            return built.snapshot, sum(len(text) for _, text in found[1])
        text = (
            SchemaVersion.select(SchemaVersion.schema_snapshot.cast("text"))
            .where(SchemaVersion.id == version.id)
            .scalar()
        )
        return json.loads(text), len(text)

    return cache.get_sized(version.schema_hash, load)


# One entry map of a version stored in parts (its "tree": the md5 of the manifest's node
# for it), in the order a version page lists it: by the entries' labels (names), then ids,
# in code point order. Written once, on the first page viewed (migrations/0032): sorting
# means opening every bucket and leaf of the map, 0.5-0.9 s at 30,000 tables. The
# statements take the project and tree as values, not from a join, and read each part in a
# subquery of its own (a LATERAL one with a LIMIT, or a scalar one: the planner joins
# neither into the statement), so that every lookup of a part is by its whole key whatever
# the planner guesses of a project's parts. As plain joins, statistics taken before a
# project's first version was saved (none of its parts then) made the hash a filter on
# every part of the project, for each entry: 50 entries of a 300-table version read 25,000
# parts (40-60 ms a version page).
ORDER_ENTRIES = """
WITH e AS MATERIALIZED (
  SELECT e.key AS entry_id, e.value AS leaf
  FROM json_each_text(%(buckets)s::json) b
  CROSS JOIN LATERAL (SELECT bucket.body FROM schema_part bucket
                      WHERE bucket.project_id = %(project)s AND bucket.hash = b.value
                      LIMIT 1) bucket
  CROSS JOIN LATERAL json_each_text(
    CASE WHEN json_typeof(bucket.body) = 'object' THEN bucket.body END) e)
INSERT INTO entry_order (project_id, tree, position, entry_id, leaf)
SELECT %(project)s, %(tree)s,
       row_number() OVER (ORDER BY leaf.label COLLATE "C", e.entry_id COLLATE "C") - 1,
       e.entry_id, e.leaf
FROM e CROSS JOIN LATERAL (SELECT leaf.label FROM schema_part leaf
                           WHERE leaf.project_id = %(project)s AND leaf.hash = e.leaf
                           LIMIT 1) leaf
ON CONFLICT DO NOTHING
"""

# A page of an ordered entry map, with the number of its entries (NULL when not ordered yet):
# the rows of its positions only, whatever the map's size.
PAGE_ENTRIES = """
WITH page AS MATERIALIZED (
  SELECT o.position, o.leaf FROM entry_order o
  WHERE o.project_id = %(project)s AND o.tree = %(tree)s
  AND o.position >= %(start)s AND o.position < %(start)s + %(size)s)
SELECT (SELECT o.position + 1 FROM entry_order o
        WHERE o.project_id = %(project)s AND o.tree = %(tree)s
        ORDER BY o.position DESC LIMIT 1),
       (SELECT leaf.body::text FROM schema_part leaf
        WHERE leaf.project_id = %(project)s AND leaf.hash = page.leaf)
FROM (SELECT 1) one LEFT JOIN page ON true
ORDER BY page.position
"""

# The labels (names) of some entries, each found through its own bucket.
LABELS = """
WITH leaves AS MATERIALIZED (
  SELECT i.id, bucket.body ->> i.id AS leaf
  FROM unnest(%(ids)s::text[], %(buckets)s::text[]) i (id, bucket)
  CROSS JOIN LATERAL (SELECT bucket.body FROM schema_part bucket
                      WHERE bucket.project_id = %(project)s AND bucket.hash = i.bucket
                      LIMIT 1) bucket)
SELECT leaves.id, leaf.label
FROM leaves CROSS JOIN LATERAL (SELECT leaf.label FROM schema_part leaf
                                WHERE leaf.project_id = %(project)s AND leaf.hash = leaves.leaf
                                LIMIT 1) leaf
"""


def manifest_node(version, key):
    """(text of the manifest's node for `key`, its md5) of a version stored in parts;
    (None, None) for one stored whole or without that key."""
    row = database.execute_sql(
        "SELECT (manifest -> %s)::text, md5((manifest -> %s)::text) FROM schema_version"
        " WHERE id = %s AND schema_snapshot IS NULL",
        (key, key, str(version.id)),
    ).fetchone()
    return row if row else (None, None)


def entries_page(version, key, start, size):
    """([entry, ...], total) of one page of a version's `key` ("tables" or "relationships")
    by name, read from its parts alone; None for a version stored whole."""
    node, tree = manifest_node(version, key)
    if node is None:
        return None if manifest_of(version.id) is None else ([], 0)
    values = {"project": str(version.project_id), "tree": tree, "start": start, "size": size}
    rows = database.execute_sql(PAGE_ENTRIES, values).fetchall()
    if rows[0][0] is None:
        buckets = json.dumps(json.loads(node).get("buckets") or {})
        database.execute_sql(ORDER_ENTRIES, {**values, "buckets": buckets})
        rows = database.execute_sql(PAGE_ENTRIES, values).fetchall()
    if rows[0][0] is None:
        return [], 0
    texts = [text for _, text in rows if text is not None]
    return [entry[0] for entry in snapshots.parts.read(texts, canonical=True)], rows[0][0]


def labels_of(version, key, ids):
    """{id: name} of some entries of a version stored in parts."""
    node, _ = manifest_node(version, key)
    buckets = (json.loads(node).get("buckets") or {}) if node else {}
    ids = sorted(i for i in set(ids) if parts.bucket_of(i) in buckets)
    if not ids:
        return {}
    values = {
        "project": str(version.project_id), "ids": ids,
        "buckets": [buckets[parts.bucket_of(i)] for i in ids],
    }  # fmt: skip
    return dict(database.execute_sql(LABELS, values).fetchall())


def latest(project_id):
    return (
        SchemaVersion.select(*LISTED)
        .where(SchemaVersion.project == project_id)
        .order_by(SchemaVersion.version_number.desc())
        .first()
    )


def save_version(user, project_id, message="", restored_from=None, current=None, automatic=False):
    """Save the working copy as the next version; Conflict when nothing changed.

    `current` is the working copy's snapshot when the caller already built it
    (a deploy saves exactly the design it deploys); `automatic` marks a version the
    designer saves by itself, which the timeline folds away. The version stores the parts
    its previous one did not have, and its changes come from those parts alone."""
    granted = access(user, project_id, "editor")
    message = (message or "").strip()
    if len(message) > MAX_MESSAGE:
        raise ValidationFailed("Message too long.", {"message": f"At most {MAX_MESSAGE} chars."})
    with recording(granted.project.id, user) as log, paused_gc():
        # Serialize saves of one project: each reads the newest version and adds the next.
        serialize_changes(granted.project.id)
        previous = latest(granted.project.id)
        if previous is None:
            # A first version adds everything: its changes are derived on read (see
            # everything_added), its summary and name come from counts.
            tree, summary, named = first_version(granted.project.id, current)
            changes = []
        else:
            if current is None:
                tree, old, new, store, current = from_working_parts(granted.project.id, previous)
            else:
                tree = tree_of(current)
                old, new, added = changed_parts(previous, current, tree)
                store = functools.partial(store_parts, granted.project.id, added)
            if previous.schema_hash == tree.hash:
                raise Conflict(f"No changes since version {previous.version_number}.")
            changes = diff(old, new)
            store()
            summary = summarize(changes)
            named = functools.partial(named_text, changes, new)
        version = SchemaVersion.create(
            project=granted.project.id,
            version_number=(previous.version_number if previous else 0) + 1,
            # A branch's first version chains to the version of main it forked from.
            parent_version=previous.id if previous else granted.project.fork_version_id,
            created_by=user,
            automatic=automatic,
            schema_hash=tree.hash,
            manifest=SQL("%s::json", (tree.manifest,)),
            changes=changes,
            adds_everything=previous is None,
            change_summary=summary,
            message=message or default_message(named, restored_from),
        )
        if current is not None:
            cache.get(tree.hash, lambda: current, size=tree.size)
        else:
            made = functools.partial(assembled, granted.project.id, tree.manifest, tree.hash)
            cache.recipe(tree.hash, made, len(tree.manifest))
        log.add("version.saved", f"saved version {version.version_number}", version.id)
    return version


def first_version(project_id, current=None):
    """(tree, change summary, name()) of a project's first version, whose changes are its
    whole snapshot added, stored as they are made: from the parts the triggers keep (by SQL,
    no entry read), or from `current` when the caller built the snapshot (a deploy). The
    summary and name are what summarize and named_text give of diff(None, snapshot), from
    the numbers of entries and the first few the name lists (NAMED)."""
    if current is None:
        tree, added, counted = working_parts.first_tree(project_id)
        store_parts(project_id, added)
        leading = functools.partial(working_parts.leading, project_id, NAMED)
    else:
        tree = tree_of(current)
        _, _, added = changed_parts(None, current, tree)
        store_parts(project_id, added)
        counted = {key: len(current[key]) for key in parts.ENTRY_MAPS}
        leading = functools.partial(first_entries, current, NAMED)
    enums = len(current.get(snapshots.ENUMS, {})) if current is not None else None
    if enums is None:
        enums = len(working_parts.whole_keys(project_id).get(snapshots.ENUMS, {}))
    summary = added_summary(counted["tables"], counted["relationships"], enums)

    def named():
        first = leading()
        return named_text(diff(None, first), first, listed=sum(counted.values()) + enums)

    return tree, summary, named


# A first version's name lists this many of its changes (named_text's `shown`).
NAMED = 2


def first_entries(snapshot, shown):
    """`snapshot` cut down to the keys kept whole and the first `shown` entries of each entry
    map in the order diff lists them added (by name, then id)."""
    names = {"tables": "table_name", "relationships": "relationship_name"}
    cut = {key: value for key, value in snapshot.items() if key not in parts.ENTRY_MAPS}
    for key, name in names.items():
        first = sorted(snapshot[key].items(), key=lambda item: (item[1][name], item[0]))
        cut[key] = dict(first[:shown])
    return cut


def everything_added(version_id):
    """The changes of a version that adds everything: diff(None, its snapshot), the list its
    `changes` would hold (the snapshot is the cached one: callers must not change them)."""
    version = SchemaVersion.select(*LISTED).where(SchemaVersion.id == version_id).first()
    if version is None:
        return []
    with paused_gc():
        return diff(None, snapshot_of(version))


def from_working_parts(project_id, previous):
    """What a save of the working copy compares and stores, from the parts triggers keep
    (designer.history.working): (tree, old, new, store, whole snapshot or None).

    After a version stored in parts, only the buckets whose hashes differ are opened and
    the entries whose leaves differ read: old and new are cut down as parts.cut cuts them,
    and store() sends only the parts the previous version had not. A first version (or one
    after a version stored whole) assembles the whole snapshot for its changes, and its
    parts go into the store by SQL."""
    manifest = manifest_of(previous.id) if previous is not None else None
    if manifest is None:
        whole = working_parts.everything(project_id)
        tree = tree_of(whole)
        written = working_parts.bucket_hashes(project_id)
        unwritten = working_parts.unwritten(project_id)
        added = {
            hashed: tree.texts[hashed]
            for key in parts.ENTRY_MAPS
            for name, hashed in tree.buckets[key].items()
            if written[key].get(name) != hashed
        }
        added.update((hashed, tree.texts[hashed]) for hashed in tree.whole.values())
        for key, ids in unwritten.items():
            for entry_id in ids:
                added[tree.leaves[key][entry_id]] = snapshots.parts.canonical(whole[key][entry_id])

        def store():
            working_parts.store_everything(project_id)
            store_parts(project_id, added)

        old = snapshot_of(previous) if previous is not None else None
        return tree, old, whole, store, whole
    fetched = {}

    def fetch(hashes):
        missing = set(hashes) - fetched.keys()
        fetched.update(part_bodies(project_id, missing))
        return {hashed: fetched[hashed] for hashed in hashes}

    tree, current = working_parts.since(project_id, manifest, fetch)
    old, new, added = parts.cut(manifest, tree, current, fetch, snapshots.parts.canonical)
    return tree, old, new, functools.partial(store_parts, project_id, added), None


def tree_of(snapshot):
    """parts.tree_of with the texts and hashes snapshot.parts keeps for built snapshots."""
    return parts.tree_of(
        snapshot, canonical=snapshots.parts.canonical, leaf_hash=snapshots.parts.leaf_hash
    )


def manifest_of(version_id):
    text = (
        SchemaVersion.select(SchemaVersion.manifest.cast("text"))
        .where(SchemaVersion.id == version_id, SchemaVersion.schema_snapshot.is_null())
        .scalar()
    )
    return None if text is None else parts.read_manifest(text)


def part_bodies(project_id, hashes):
    """{hash: parsed body} of some of the project's parts (one query, even for none: whether
    a change's bucket is new depends on its id, and pages run as many queries whatever the
    design's size)."""
    rows = database.execute_sql(
        "SELECT hash, body::text FROM schema_part"
        " WHERE project_id = %s AND hash = ANY (%s::text[])",
        (str(project_id), sorted(hashes)),
    ).fetchall()
    values = snapshots.parts.read([text for _, text in rows], canonical=True)
    return {hashed: entry[0] for (hashed, _), entry in zip(rows, values, strict=True)}


def changed_parts(previous, current, tree):
    """parts.cut against the previous version (see there): (old, new, added)."""
    manifest = manifest_of(previous.id) if previous is not None else None
    if manifest is None:
        # No version yet, or one stored whole: every part is new to the store.
        added = dict(tree.texts)
        for key, leaves in tree.leaves.items():
            for entry_id, leaf in leaves.items():
                if leaf not in added:
                    added[leaf] = snapshots.parts.canonical(current[key][entry_id])
        old = snapshot_of(previous) if previous is not None else None
        return old, current, added
    return parts.cut(
        manifest,
        tree,
        current,
        lambda hashes: part_bodies(previous.project_id, hashes),
        snapshots.parts.canonical,
    )


def store_parts(project_id, added):
    """Store parts by hash; one stored already (by an older version) stays as it is."""
    rows = sorted(added.items())
    for start in range(0, len(rows), 2000):
        chunk = rows[start : start + 2000]
        database.execute_sql(
            "INSERT INTO schema_part (project_id, hash, body, label, kind)"
            " SELECT %s, h, b::json,"
            " coalesce(b::json ->> 'table_name', b::json ->> 'relationship_name'),"
            f" {parts.KIND_OF_BODY.format(body='b::json')}"
            " FROM unnest(%s::text[], %s::text[]) AS u (h, b)"
            " ON CONFLICT DO NOTHING",
            (str(project_id), [h for h, _ in chunk], [b for _, b in chunk]),
        )


@contextlib.contextmanager
def paused_gc():
    """No garbage collection while a large snapshot is built and compared.

    Building one allocates hundreds of thousands of small dicts and strings
    that all stay alive; the collector would walk them again and again (it
    took 40% of a 3,000-table save) and could free none of them.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def default_message(named, restored_from):
    """The message of a version saved without one: named from what changed (`named()`
    gives named_text's words)."""
    if restored_from is not None:
        return f"Restored version {restored_from}"
    return named()[:MAX_MESSAGE]


def page_of(project_id, before=None, limit=PAGE, automatic=True):
    """Versions newest first, `limit` at a time below version number `before` (without
    the ones saved automatically unless `automatic`)."""
    rows = (
        SchemaVersion.select(*LISTED, UserName.username)
        .join(UserName, JOIN.LEFT_OUTER, on=(SchemaVersion.created_by == UserName.id))
        .where(SchemaVersion.project == project_id)
        .order_by(SchemaVersion.version_number.desc())
        .limit(limit + 1)
    )
    if before is not None:
        rows = rows.where(SchemaVersion.version_number < before)
    if not automatic:
        rows = rows.where(~SchemaVersion.automatic)
    rows = list(rows.objects())
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (rows[-1].version_number if more and rows else None)


def automatic_count(project_id):
    """How many of the project's versions the designer saved by itself."""
    return (
        SchemaVersion.select()
        .where(SchemaVersion.project == project_id, SchemaVersion.automatic)
        .count()
    )


def get_version(project_id, number):
    try:
        number = int(number)
    except (TypeError, ValueError):
        raise NotFound("No such version.") from None
    version = (
        SchemaVersion.select(*LISTED)
        .where(SchemaVersion.project == project_id, SchemaVersion.version_number == number)
        .first()
    )
    if version is None:
        raise NotFound(f"This project has no version {number}.")
    return version


# Reading pages (timeline, compare, Deploy tab, a table's pending changes) see
# the working copy as of the project's change stamp, read from the database on
# every call: a 3,000-table snapshot takes ~0.3 s to build. Saves, deploys and
# restores build it afresh inside their transaction. What it answers is shared:
# callers must not change it. A 3,000-table copy is tens of megabytes of
# Python objects, so only a couple are kept.
working = KeptAnswers(limit=2)


def working_copy(project_id, stamp=None):
    """The working copy's snapshot, kept against the project's change stamp."""
    stamp = stamp or project_stamp(project_id)
    return working.get((str(project_id), stamp), lambda: snapshots.build(project_id))


def resolve(project_id, reference, stamp=None):
    """(snapshot, key) by version number, or the working copy for "working".

    The key names the snapshot's content: a version's hash, or the working
    copy's change stamp."""
    version, key = reference_of(project_id, reference, stamp)
    if version is None:
        return working_copy(project_id, key.rsplit(":", 1)[1]), key
    return snapshot_of(version), key


def reference_of(project_id, reference, stamp=None):
    """(version or None for the working copy, key): resolve's key, without the snapshot."""
    if reference in (None, "", "working"):
        stamp = stamp or project_stamp(project_id)
        return None, f"working:{project_id}:{stamp}"
    version = get_version(project_id, reference)
    return version, version.schema_hash


# Comparisons by the keys of their two sides: a version's hash never changes, and a
# working copy's key holds its change stamp. Their snapshots are cut down to what changed
# (designer.history.compare), unless a name needs the whole ones.
diffs = KeptAnswers(limit=16)


def compare(project_id, old_ref, new_ref):
    """(old, new, changes): the changes from one version (or the working copy) to another.
    old and new may be cut down to the entries that differ, with what the migration
    between them needs to name (designer.history.compare)."""
    return compare_keyed(project_id, old_ref, new_ref)[:3]


def compare_keyed(project_id, old_ref, new_ref):
    """compare's (old, new, changes) and a key naming this pair's contents."""
    with paused_gc():
        old_version, old_key = reference_of(project_id, old_ref)
        new_version, new_key = reference_of(project_id, new_ref)
        key = (old_key, new_key)

        def load():
            if key not in whole_pairs:
                listed, _ = listing_of(project_id, old_version, new_version, key)
                found = None
                if listed is not None and listed.tables_cut() < LARGE_CUT:
                    found = compared(project_id, old_version, new_version, listed.buckets)
                if found is not None:
                    return found
                with whole_pairs_lock:
                    whole_pairs[key] = True
                    while len(whole_pairs) > 256:
                        whole_pairs.popitem(last=False)
            old = snapshot_of(old_version) if old_version else working_copy(project_id)
            new = snapshot_of(new_version) if new_version else working_copy(project_id)
            return old, new, whole_diffs.get(key, lambda: diff(old, new))

        return *diffs.get(key, load), key


# Pairs compared whole (by key): a version stored whole, names that depend on tables not
# read, or a cut of most of the design (LARGE_CUT tables or more: reading it by parts saves
# nothing, and the whole snapshots and their changes are kept where a cut too large for
# `diffs` would be made again at each view). Their changes are kept on their own.
whole_pairs = OrderedDict()
whole_pairs_lock = threading.Lock()
whole_diffs = KeptAnswers(limit=16)
LARGE_CUT = 1000


def compared(project_id, old_version, new_version, buckets=None):
    """(old, new, changes) from the parts that differ, or None when the whole snapshots
    are needed (see whole_pairs)."""
    found = comparing.cut_of(
        project_id, old_version, new_version, lambda version: manifest_of(version.id), buckets
    )
    if found is None or len(found[0]["tables"]) + len(found[1]["tables"]) >= LARGE_CUT:
        return None
    old, new, named = comparing.context(*found)
    if not comparing.names_are_local(old, new, named, found[2]):
        return None
    return old, new, diff(old, new)


# What two sides differ in (a compare_paged.Listing: the entries, named, from the manifests),
# by the keys of the two sides, with the sides' manifests. A cut of LARGE_CUT tables or
# more is compared a page at a time from it (compare_page), a smaller one whole by parts.
listings = KeptAnswers(limit=8)


class Paged(NamedTuple):
    """A page of a large cut's comparison: the two sides cut down to the page's entries,
    the page's changes, the counts of the whole cut, where the next page starts (None at
    the last) and how many entries are left after this page."""

    old: dict
    new: dict
    changes: list
    counts: dict
    next_start: int | None
    left: int
    key: tuple


def listing_of(project_id, old_version, new_version, key):
    """(Listing or None, manifests) of two versions (None: the working copy) whose pair
    `key` names: None when either is stored whole or the keys differ in kind (the whole
    snapshots are compared)."""

    def load():
        refs = (old_version, new_version)
        manifests = [None if v is None else manifest_of(v.id) for v in refs]
        if any(v is not None and m is None for v, m in zip(refs, manifests, strict=True)):
            return None, manifests
        return compare_paged.listing(project_id, *manifests), manifests

    return listings.get(key, load)


def compare_page(project_id, old_ref, new_ref, start, size):
    """A Paged comparison of entries start to start + size when the cut holds LARGE_CUT
    tables or more: its work is a page's, whatever the cut (the list of what differs is
    read from the manifests in SQL, and only the page's entries are read and diffed).
    Else None (compare_keyed compares it)."""
    with paused_gc():
        old_version, old_key = reference_of(project_id, old_ref)
        new_version, new_key = reference_of(project_id, new_ref)
        key = (old_key, new_key)
        found, manifests = listing_of(project_id, old_version, new_version, key)
        if found is None or found.tables_cut() < LARGE_CUT:
            return None
        old, new, changes = compare_paged.page(project_id, *manifests, found, start, size)
        end = start + size
        if found.counted is None:
            found.counted = compare_paged.counts(project_id, *manifests, found)
        counts = found.counted
        left = max(len(found) - end, 0)
        return Paged(old, new, changes, counts, end if left else None, left, key)


# The timeline shows the unsaved changes on every view. They come from the parts the
# triggers keep, as a save finds them (only the tables whose parts differ are read: the
# whole working copy, 30,000 tables, was seconds and hundreds of megabytes a view), and
# the answer is kept per project against the project's change stamp (read from the
# database on every call, so it holds across app servers) and the newest version.
unsaved = KeptAnswers(limit=256)


def unsaved_changes(project_id):
    """What the working copy changed since the newest version."""
    previous = latest(project_id)
    stamp = project_stamp(project_id)
    key = (str(project_id), stamp, previous.id if previous else None)
    return unsaved.get(key, lambda: changes_since(project_id, previous))


def changes_since(project_id, previous):
    """The working copy's changes since `previous` (a version, or None), afresh: from the
    parts the triggers keep, reading only the tables whose parts differ (as a save does)."""
    with paused_gc():
        _, old, new, _, _ = from_working_parts(project_id, previous)
        return diff(old, new)


def changes_from(previous, current):
    """The changes from version `previous` (or None) to the snapshot `current`: from the
    parts whose hashes differ, as a save finds them, never reading the whole version."""
    with paused_gc():
        if previous is None:
            return diff(None, current)
        old, new, _ = changed_parts(previous, current, tree_of(current))
        return diff(old, new)


def changes_of(version):
    """A version's change operations (loaded on demand: listings leave them out)."""
    return (
        SchemaVersion.select(SchemaVersion.changes).where(SchemaVersion.id == version.id).scalar()
    )


def restore(user, project_id, number, confirm=False):
    """Make the working copy's design equal to version `number`, saved as a new version.

    Unsaved work is saved first (as its own version), so a restore never
    loses anything; lifecycle statuses stay as they are (see restore.py).
    """
    from designer.history.restore import apply_snapshot

    granted = access(user, parse_id(project_id, "project"), "editor")
    version = get_version(granted.project.id, number)
    target = snapshot_of(version)
    with database.atomic():
        # Built afresh, not from the timeline's cache: unsaved work must never be lost.
        if changes_since(granted.project.id, latest(granted.project.id)):
            save_version(
                user, granted.project.id, f"Before restoring version {number}", automatic=True
            )
        with recording(granted.project.id, user) as log:
            if not apply_snapshot(user, granted.project.id, target, confirm):
                raise Conflict(f"The working copy already matches version {number}.")
            log.add("version.restored", f"restored version {version.version_number}", version.id)
        return save_version(user, granted.project.id, restored_from=version.version_number)
