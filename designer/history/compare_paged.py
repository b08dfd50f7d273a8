"""A comparison of most of the design, a page at a time (issue #27).

A cut of versions.LARGE_CUT tables or more is not read at once: the entries that differ
are listed, named, from the two sides' manifests in SQL (`listing`: only the buckets whose
hashes differ are opened, and no entry is read), and a page of them at a time is read and
diffed by the one diff engine (`page`); the pages' changes together are the whole
comparison's. The migration SQL, a function of the whole cut (designer.history.compare),
is not made for a page.
"""

from designer.db import database
from designer.history import parts
from designer.history import snapshot as snapshots
from designer.history import working as working_parts
from designer.history.compare import VersionSide
from designer.history.compare import WorkingSide
from designer.history.compare import counted
from designer.history.compare import parsed
from designer.history.compare import work
from designer.history.diff import diff
from designer.history.diff import summarize
from designer.kept import weight

# A version's members of some buckets (by their hashes), and the working copy's (by
# bucket name):
VERSION_MEMBERS = """
SELECT u.kind, e.key, e.value, NULL::text
FROM unnest(%({side}_kinds)s::text[], %({side}_buckets)s::text[]) u (kind, hash)
JOIN schema_part b ON b.project_id = %(project)s AND b.hash = u.hash
CROSS JOIN LATERAL json_each_text(b.body) e
"""
WORKING_MEMBERS = """
SELECT w.kind, w.entry_id, w.hash, w.label
FROM unnest(%({side}_kinds)s::text[], %({side}_buckets)s::text[]) u (kind, bucket)
JOIN working_part w ON w.project_id = %(project)s AND w.kind = u.kind AND w.bucket = u.bucket
"""
# The entries whose leaves differ (a working entry not yet written differs), named by their
# new label, or by their old one when dropped.
DIFFERING = """
WITH o (kind, id, hash, label) AS MATERIALIZED ({old}),
n (kind, id, hash, label) AS MATERIALIZED ({new}),
d AS MATERIALIZED (
  SELECT coalesce(n.kind, o.kind) AS kind, coalesce(n.id, o.id) AS id,
         CASE WHEN o.id IS NULL THEN 'added' WHEN n.id IS NULL THEN 'dropped'
              ELSE 'changed' END AS state,
         coalesce(n.label, o.label) AS label, coalesce(n.hash, o.hash) AS hash
  FROM o FULL JOIN n ON n.kind = o.kind AND n.id = o.id
  WHERE n.hash IS DISTINCT FROM o.hash OR (n.id IS NOT NULL AND n.hash IS NULL))
SELECT d.kind, d.id, d.state, coalesce(d.label, p.label)
FROM d LEFT JOIN schema_part p ON p.project_id = %(project)s AND p.hash = d.hash
"""
# (A join, not a subquery a row: under row-level security the planner scanned schema_part
# once for each entry, 7 s at 3,000 changed tables.)
WHOLE_PARTS = "SELECT hash, body::text FROM schema_part WHERE project_id = %s AND hash = ANY (%s)"
STATES = ("added", "changed", "dropped")


class Listing:
    """The entries two sides differ in, in the order a page shows them: tables, then
    relationships, each by name and id (as diff orders them), as (kind, id, state, name);
    `buckets` holds the working copy's bucket hashes when one side is the working copy."""

    def __init__(self, entries, buckets=None):
        order = {key: n for n, key in enumerate(parts.ENTRY_MAPS)}
        self.entries = sorted(entries, key=lambda e: (order[e[0]], e[3] or "", e[1]))
        self.buckets = buckets
        self.counted = None  # (counts, once made: the enums' need the keys kept whole)

    def __len__(self):
        return len(self.entries)

    def __sizeof__(self):  # (as designer.kept weighs it)
        return weight(self.entries) + weight(self.buckets)

    def tables_cut(self):
        """How many tables the two cut snapshots hold together (a changed one is on both)."""
        return sum(2 if state == "changed" else 1 for kind, _, state, _ in self.entries
                   if kind == "tables")  # fmt: skip

    def counts(self):
        """{kind: {added, changed, dropped}} of the entries (a table "changed" is one whose
        entry differs: its columns, its name or its settings)."""
        found = {key: dict.fromkeys(STATES, 0) for key in parts.ENTRY_MAPS}
        for kind, _, state, _ in self.entries:
            found[kind][state] += 1
        return found


def listing(project_id, old_manifest, new_manifest):
    """The Listing of two sides (a manifest as parts.read_manifest gives it, or None for
    the working copy), from their manifests and, for the working copy, working_part; None
    when a key is an entry map on one side only (the whole snapshots are compared)."""
    sides = (old_manifest, new_manifest)
    for key in parts.ENTRY_MAPS:
        if any(m is not None and m.get(key, ("buckets",))[0] != "buckets" for m in sides):
            return None
    if old_manifest is None and new_manifest is None:
        return Listing([])
    working = working_parts.bucket_hashes(project_id) if None in sides else None
    named = [
        {key: (working or {}).get(key, {}) if m is None else m.get(key, ("", {}))[1]
         for key in parts.ENTRY_MAPS}
        for m in sides
    ]  # fmt: skip
    differ = [
        (key, name)
        for key in parts.ENTRY_MAPS
        for name in named[0][key].keys() | named[1][key].keys()
        if None in (named[0][key].get(name), named[1][key].get(name))
        or named[0][key].get(name) != named[1][key].get(name)
    ]
    if not differ:
        return Listing([], working)
    values, queries = {"project": str(project_id)}, []
    for side, manifest, buckets in zip(("old", "new"), sides, named, strict=True):
        if manifest is None:
            chosen = [(key, name) for key, name in differ if name in buckets[key]]
            queries.append(WORKING_MEMBERS.format(side=side))
        else:
            chosen = [(key, buckets[key][name]) for key, name in differ if name in buckets[key]]
            queries.append(VERSION_MEMBERS.format(side=side))
        values[f"{side}_kinds"] = [key for key, _ in chosen]
        values[f"{side}_buckets"] = [named_as for _, named_as in chosen]
    query = DIFFERING.format(old=queries[0], new=queries[1])
    rows = database.execute_sql(query, values).fetchall()
    work["listed"] += len(rows)
    return Listing(rows, working)


def whole_of(project_id, manifest):
    """{key: value} of a side's keys kept whole (manifest None: the working copy's)."""
    if manifest is None:
        return working_parts.whole_keys(project_id)
    hashes = {key: named for key, (kind, named) in manifest.items() if kind == "part"}
    if not hashes:
        return {}
    rows = database.execute_sql(WHOLE_PARTS, (str(project_id), sorted(set(hashes.values()))))
    bodies = parsed(counted(rows.fetchall(), 1))
    return {key: bodies[hashed] for key, hashed in hashes.items()}


def page(project_id, old_manifest, new_manifest, found, start, size):
    """(old, new, changes) of the entries found[start:start + size] (a Listing's): the two
    sides cut down to those entries, and what the one diff engine makes of them. The keys
    kept whole (the enums) are compared on the first page only, so that the pages' changes,
    together, are the whole comparison's."""
    shown = found.entries[start : start + size]
    cuts = []
    for manifest in (old_manifest, new_manifest):
        side = WorkingSide(project_id) if manifest is None else VersionSide(project_id, manifest)
        cut = whole_of(project_id, manifest)
        if start:
            cut.pop(snapshots.ENUMS, None)
        for key in parts.ENTRY_MAPS:
            cut[key] = side.entries(key, {i for kind, i, _, _ in shown if kind == key})
        cuts.append(cut)
    return cuts[0], cuts[1], diff(cuts[0], cuts[1])


def counts(project_id, old_manifest, new_manifest, found):
    """A large cut's counts: its Listing's, and the enums' from the keys kept whole."""
    sides = [{**whole_of(project_id, m), **{key: {} for key in parts.ENTRY_MAPS}}
             for m in (old_manifest, new_manifest)]  # fmt: skip
    found_counts = found.counts()
    enums = summarize(diff(*sides)).get("enums")
    if enums:
        found_counts["enums"] = enums
    return found_counts
