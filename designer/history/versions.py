"""Schema versions: save, list, read, compare and restore a project's design.

A version stores the snapshot (as json text), the sha256 of its canonical JSON and
the diff from the previous version (one diff engine, designer.history.diff). Snapshots
are built, stored and read back in per-table parts (designer.history.snapshot.Parts),
so a save of a large project parses and encodes only what changed. Saving serializes on the
project row, so concurrent saves get consecutive numbers and a save that
changes nothing is refused; the unique (project, version_number) index is
the last guard.
"""

import contextlib
import gc
import json
import threading
from collections import OrderedDict

from peewee import JOIN
from peewee import SQL

from designer.activity import recording
from designer.db import database
from designer.db import parse_id
from designer.design.page_stamps import project_stamp
from designer.errors import Conflict
from designer.errors import NotFound
from designer.errors import ValidationFailed
from designer.history import snapshot as snapshots
from designer.history.diff import diff
from designer.history.diff import named_text
from designer.history.diff import summarize
from designer.kept import KeptAnswers
from designer.models import SchemaVersion
from designer.models import UserName
from designer.projects import access
from designer.projects import serialize_changes

PAGE = 25
MAX_MESSAGE = 500
# Listings never load the snapshot nor the changes: either can be megabytes.
HEAVY = (SchemaVersion.schema_snapshot, SchemaVersion.changes)
# (Identity, not ==: a peewee field's == builds an SQL expression.)
LISTED = [f for f in SchemaVersion._meta.sorted_fields if all(f is not h for h in HEAVY)]


class SnapshotCache:
    """Snapshots by hash: a hash's snapshot never changes, so entries never go stale.

    Bounded by the size of the snapshots' canonical JSON, not their count: one
    3,000-table snapshot is tens of megabytes of Python objects.
    """

    def __init__(self, budget_bytes=64 * 1024 * 1024):
        self.budget = budget_bytes
        self.used = 0
        self.entries = OrderedDict()
        self.lock = threading.Lock()

    def clear(self):
        with self.lock:
            self.entries.clear()
            self.used = 0

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
        value, size = load()
        with self.lock:
            if key not in self.entries and size <= self.budget:
                self.entries[key] = (value, size)
                self.used += size
            while self.used > self.budget:
                _, (_, dropped) = self.entries.popitem(last=False)
                self.used -= dropped
        return value


cache = SnapshotCache()


# A stored snapshot in parts, as snapshot.PARTS_JSON gives them, in two passes over its
# text: json_each returns the stored text itself, so the parts of a snapshot saved from
# PARTS_JSON are texts that snapshot.parts has parsed already. Rows: (top-level key, its
# position, table id or NULL, text); a table per row, the other keys' whole values.
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
    """(format, [(table id or None, text)]) of a stored snapshot of the usual shape, else
    None (then it is read whole)."""
    rows = database.execute_sql(STORED_PARTS, {"id": str(version_id)}).fetchall()
    # (Each key once: json keeps a repeated key, which json.loads would reduce to its last.)
    keys = sorted({(key, position) for key, position, _, _ in rows})
    if tuple(key for key, _ in keys) != USUAL_KEYS:
        return None
    parts, version_format = [], None
    for key, _, table_id, text in rows:
        if key == "format":
            version_format = json.loads(text)
        elif key == "relationships":
            parts.append((None, text))
        elif table_id is not None:
            parts.append((table_id, text))
        elif json.loads(text) != {}:
            return None  # tables that are not an object
    return version_format, parts


def snapshot_of(version):
    """A version's snapshot, from the cache when its hash was read before."""

    def load():
        found = stored_parts(version.id)
        if found is not None:
            return snapshots.Built(found[1], found[0]).snapshot
        return (
            SchemaVersion.select(SchemaVersion.schema_snapshot)
            .where(SchemaVersion.id == version.id)
            .scalar()
        )

    return cache.get(version.schema_hash, load)


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
    designer saves by itself, which the timeline folds away."""
    granted = access(user, project_id, "editor")
    message = (message or "").strip()
    if len(message) > MAX_MESSAGE:
        raise ValidationFailed("Message too long.", {"message": f"At most {MAX_MESSAGE} chars."})
    with recording(granted.project.id, user) as log, paused_gc():
        # Serialize saves of one project: each reads the newest version and adds the next.
        serialize_changes(granted.project.id)
        previous = latest(granted.project.id)
        row = {
            "project": granted.project.id,
            "version_number": (previous.version_number if previous else 0) + 1,
            "parent_version": previous.id if previous else None,
            "created_by": user,
            "automatic": automatic,
        }
        version_id = None
        if current is None:
            # The snapshot goes from the query that builds it straight into the new row;
            # its hash, changes and message follow once known (or the row is rolled back).
            version_id, built = inserted_from_parts(row)
            current, canonical = built.snapshot, built.canonical
        else:
            canonical = snapshots.canonical_of(current)
        digest = snapshots.digest(canonical)
        if previous is not None and previous.schema_hash == digest:
            raise Conflict(f"No changes since version {previous.version_number}.")
        changes = diff(snapshot_of(previous) if previous else None, current)
        described = {
            "schema_hash": digest,
            "changes": changes,
            "change_summary": summarize(changes),
            "message": message or default_message(changes, restored_from, current),
        }
        if version_id is not None and snapshots.ENUMS in current:
            # The row was assembled without the enums (the parts' query stores the usual keys).
            described["schema_snapshot"] = SQL("%s::json", (canonical,))
        if version_id is not None:
            version = (
                SchemaVersion.update(**described)
                .where(SchemaVersion.id == version_id)
                .returning(*LISTED)
                .execute()[0]
            )
            version.changes = changes
        else:
            # The canonical text is already at hand: PostgreSQL only checks it (json).
            version = SchemaVersion.create(
                **row, **described, schema_snapshot=SQL("%s::json", (canonical,))
            )
        cache.get(digest, lambda: current, size=len(canonical))
        log.add("version.saved", f"saved version {version.version_number}", version.id)
    return version


# A new version row whose snapshot is the project's, as PostgreSQL assembles it from the
# parts it also returns (snapshot.PARTS_JSON): 20 MB of JSON at 3,000 tables never travel
# back, and json values made by PostgreSQL's json functions are not parsed again. The
# stored text is not the canonical JSON (Python makes that from the same parts) but holds
# the same snapshot. Its hash is '' until save_version knows it.
INSERT_FROM_PARTS = f"""
WITH parts (id, part) AS MATERIALIZED ({snapshots.PARTS_JSON}),
saved AS (
  INSERT INTO schema_version (project_id, version_number, schema_hash, schema_snapshot,
                              parent_version_id, created_by_id)
  SELECT %(project)s, %(version_number)s, '', json_build_object(
      'format', {snapshots.FORMAT},
      'tables', coalesce(json_object_agg(id, part)
                         FILTER (WHERE id IS NOT NULL AND id <> '{snapshots.ENUMS}'), '{{}}'),
      'relationships', (array_agg(part) FILTER (WHERE id IS NULL))[1]),
    %(parent_version)s, %(created_by)s
  FROM parts
  RETURNING id)
SELECT (SELECT id FROM saved), id, part::text FROM parts
"""


def inserted_from_parts(row):
    """(new version's id, snapshot.Built) for a version `row` of the project's snapshot."""
    values = {
        "project": str(row["project"]),
        "version_number": row["version_number"],
        "parent_version": str(row["parent_version"]) if row["parent_version"] else None,
        "created_by": str(row["created_by"].id),
    }
    database.execute_sql("SET LOCAL jit = off")  # see snapshot.parts_of
    rows = database.execute_sql(INSERT_FROM_PARTS, values).fetchall()
    return rows[0][0], snapshots.Built([(table_id, part) for _, table_id, part in rows])


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


def default_message(changes, restored_from, current=None):
    """The message of a version saved without one: named from what changed."""
    if restored_from is not None:
        return f"Restored version {restored_from}"
    return named_text(changes, current)[:MAX_MESSAGE]


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
    if reference in (None, "", "working"):
        stamp = stamp or project_stamp(project_id)
        return working_copy(project_id, stamp), f"working:{project_id}:{stamp}"
    version = get_version(project_id, reference)
    return snapshot_of(version), version.schema_hash


# Diffs by the keys of their two sides: a version's hash never changes, and a
# working copy's key holds its change stamp.
diffs = KeptAnswers(limit=16)


def compare(project_id, old_ref, new_ref):
    """(old, new, changes): the changes from one version (or the working copy) to another."""
    return compare_keyed(project_id, old_ref, new_ref)[:3]


def compare_keyed(project_id, old_ref, new_ref):
    """compare's (old, new, changes) and a key naming this pair's contents."""
    with paused_gc():
        old, old_key = resolve(project_id, old_ref)
        new, new_key = resolve(project_id, new_ref)
        key = (old_key, new_key)
        return old, new, diffs.get(key, lambda: diff(old, new)), key


# The timeline shows the unsaved changes on every view, and building and
# hashing a 3,000-table working copy takes most of a second. The answer is kept
# per project against the project's change stamp (read from the database on
# every call, so it holds across app servers) and the newest version.
unsaved = KeptAnswers(limit=256)


def unsaved_changes(project_id):
    """What the working copy changed since the newest version."""
    previous = latest(project_id)
    stamp = project_stamp(project_id)
    key = (str(project_id), stamp, previous.id if previous else None)
    return unsaved.get(key, lambda: changes_from(previous, working_copy(project_id, stamp)))


def changes_since(project_id, previous):
    """The working copy's changes since `previous` (a version, or None), built afresh."""
    return changes_from(previous, snapshots.build(project_id))


def changes_from(previous, current):
    """The changes from version `previous` (or None) to the snapshot `current`."""
    with paused_gc():
        return diff(snapshot_of(previous) if previous else None, current)


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
