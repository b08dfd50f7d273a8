"""Drift's expected catalog, a deployed table at a time, kept in PostgreSQL (#27).

The expected catalog is what the deployed design makes on the target: the design is built
in a scratch schema and the catalog read back (designer.database.drift). Built whole, that
is every deployed table's statements at every cold check: at 3,000 deployed tables some
9,000 statements, each through the statement guard, two minutes on a loaded machine.

Each catalog row belongs to one table (a sequence to the table owning it), and a table's
rows are decided by its deployed part, the foreign keys it holds (their relationships'
parts and the parts of the tables they point to), its partition parent's (decided the same
way), the design's enums and format, and the target server's version. A table's share is
kept in drift_expectation (migration 0046) under the sha256 of those, so a check after a
one-table change builds that table (with the few tables its keys point to) and reads every
other table's share. The deployment's manifest (migration 0042) names the parts; which
tables each foreign key joins is read from the relationships' parts in SQL.

Names are the one thing a table's build could get wrong on its own: an index's generated
name steps aside when another relation of the schema has it (schema_objects.ObjectNames).
A build where a wanted table's generated name had to step aside, or shares that together
name one relation twice, are not trusted: the caller builds the whole design instead
(None), as it does for a deployment stored without a manifest or a design that no longer
builds (whose error the whole build reports as it always has).
"""

import gzip
import hashlib
import json
import logging
import time
from dataclasses import dataclass

import psycopg2

from designer.database import catalog
from designer.database.pending import Deployed
from designer.database.pending import joined
from designer.database.schema_objects import ObjectNames
from designer.database.tenant_roles import server_version
from designer.db import database
from designer.settings import settings

# What a kept share's rows mean: raise it when the catalog's queries or their rows change.
VERSION = 1
# Tables built in one scratch schema (in a savepoint rolled back after it is read: its
# locks are freed, so a build never holds more than a batch's).
BATCH = 100
# Keys looked up by one query.
READ_BATCH = 5000
# For tests: the tables built in a scratch schema, the shares read from PostgreSQL and the
# tables whose rows on the target were found to hold their kept share's digest.
work = {"built": 0, "read": 0, "matched": 0}
# Which of a catalog part's columns names the table a row belongs to.
OWNER = {"tables": 0, "columns": 0, "constraints": 0, "sequences": 1, "indexes": 0}

# Every deployed table: (id, leaf hash, name, partition parent id, foreign keys it holds as
# JSON [[relationship id, its hash, referenced table id, that table's hash]]). Only a
# partition's part is read for its parent (the others' text is searched, not parsed).
CONTEXTS = """
WITH dep AS MATERIALIZED (
  SELECT kind, entry_id, hash FROM deployed_leaves(%(deployment)s, %(project)s)),
dt AS MATERIALIZED (SELECT entry_id AS id, hash FROM dep WHERE kind = 'tables'),
dr AS MATERIALIZED (
  SELECT d.entry_id AS id, d.hash, p.body ->> 'source_table_id' AS src,
         p.body ->> 'target_table_id' AS tgt
  FROM dep d JOIN schema_part p ON p.project_id = %(project)s AND p.hash = d.hash
  WHERE d.kind = 'relationships'),
fk AS (
  SELECT dr.tgt, json_agg(json_build_array(dr.id, dr.hash, dr.src, s.hash) ORDER BY dr.id)
    AS keys
  FROM dr LEFT JOIN dt s ON s.id = dr.src
  GROUP BY dr.tgt)
SELECT dt.id, dt.hash, p.label,
  CASE WHEN strpos(p.body::text, '"partition_of":{') > 0
       THEN p.body #>> '{structure,partition_of,table_id}' END,
  fk.keys::text
FROM dt
JOIN schema_part p ON p.project_id = %(project)s AND p.hash = dt.hash
LEFT JOIN fk ON fk.tgt = dt.id
"""
STORE = """
INSERT INTO drift_expectation (project_id, key, digest, body, size)
SELECT %s, k, d, b, length(b) FROM unnest(%s::text[], %s::text[], %s::bytea[]) AS u (k, d, b)
ON CONFLICT DO NOTHING
"""
# The project's oldest shares beyond its budget of bytes.
TRIM = """
DELETE FROM drift_expectation WHERE project_id = %(project)s AND key IN (
  SELECT key FROM (
    SELECT key, sum(size) OVER (ORDER BY created_at DESC, key) AS held
    FROM drift_expectation WHERE project_id = %(project)s) kept
  WHERE held > %(budget)s)
"""


class Unfinished(Exception):
    """The time given ran out with `built` of `total` tables' shares at hand (the ones built
    are kept: the next check goes on from there)."""

    def __init__(self, built, total):
        super().__init__(f"{built} of {total}")
        self.built = built
        self.total = total


@dataclass
class Table:
    id: str
    hash: str
    name: str
    parent: str | None
    keys: list  # [[relationship id, hash, referenced table id, its hash]]


def digest(value):
    return hashlib.sha256(json.dumps(value).encode("utf-8")).hexdigest()


class Expectations:
    """The deployed tables of `last` (an applied Deployment) and the keys of their shares."""

    def __init__(self, cursor, project_id, last):
        self.cursor = cursor
        self.project_id = str(project_id)
        self.last = last
        self.deployed = Deployed(project_id, last)
        rows = joined(CONTEXTS, {"deployment": str(last.id), "project": self.project_id})
        self.tables = {
            row[0]: Table(*row[:4], json.loads(row[4]) if row[4] else []) for row in rows
        }
        whole = sorted(
            (key, named) for key, (kind, named) in self.deployed.manifest.items() if kind == "part"
        )
        self.common = [VERSION, server_version(cursor), whole]
        self.whole = None  # the deployed design's keys kept whole (format, enums), once read
        self.keys = {}
        for table_id in self.tables:
            self.key_of(table_id)

    def key_of(self, table_id, seen=frozenset()):
        if table_id in self.keys:
            return self.keys[table_id]
        table = self.tables[table_id]
        parent = table.parent
        if parent in self.tables and parent not in seen:
            parent = self.key_of(parent, seen | {table_id})
        self.keys[table_id] = digest([self.common, table.hash, table.keys, parent])
        return self.keys[table_id]

    def chain(self, table_id):
        """The table and its partition parents (those deployed)."""
        found = []
        while table_id in self.tables and table_id not in found:
            found.append(table_id)
            table_id = self.tables[table_id].parent
        return found

    def context(self, wanted):
        """(table ids, relationship ids) a build of `wanted` needs: them and their partition
        parents with the foreign keys they hold, and the tables those point to (with their
        parents)."""
        anchors = {a for table_id in wanted for a in self.chain(table_id)}
        tables, rels = set(anchors), set()
        for anchor in anchors:
            for rel_id, _, source, source_hash in self.tables[anchor].keys:
                if source_hash is not None:
                    rels.add(rel_id)
                    tables.update(self.chain(source))
        return tables, rels


def catalog_of(cursor, project_id, last, build_scratch, deadline=None, actual=None, progress=None):
    """The expected catalog of what `last` deployed ({part: sorted rows}, as
    catalog.read_catalog gives it) from kept shares, building the missing ones with
    `build_scratch(cursor, snapshot)` (which names the schema it built in); None when a
    build of the whole design must tell (see the module's docstring); Unfinished when
    `deadline` (time.monotonic()) passes with shares still missing.

    `actual()`, when given, is the target schema's catalog: a table whose rows there have its
    kept share's digest takes them as they are, unread (the usual case, in sync).
    `progress(built, total, going_on)`, when given, hears how many tables' shares are at hand:
    once they are counted, then before each batch built after the first (`going_on`)."""
    if last is None or not has_manifest(last):
        return None
    found = Expectations(cursor, project_id, last)
    keys = found.keys
    # Which are kept, without reading them: a page's request that runs out of time reads none.
    present = kept_digests(found.project_id, set(keys.values()))
    missing = [tid for tid, key in keys.items() if key not in present]
    if progress is not None:
        progress(len(keys) - len(missing), len(keys), False)
    shares = built_shares(cursor, found, missing, build_scratch, deadline, progress)
    if shares is None:
        return None
    held = actual() if actual is not None else None
    owned, stray = by_table(held, {t.name for t in found.tables.values()})
    unread = set()
    for table_id, key in keys.items():
        if key in shares:
            continue
        rows = owned.get(found.tables[table_id].name)
        if rows is not None and present.get(key) == share_digest(rows):
            shares[key] = rows
            work["matched"] += 1
        else:
            unread.add(key)
    if held is not None and not stray and not missing and not unread:
        return held  # every table holds its share, and nothing else is there
    shares.update(stored(found.project_id, unread))
    gone = [tid for tid, key in keys.items() if key not in shares]  # dropped meanwhile
    if gone:
        again = built_shares(cursor, found, gone, build_scratch)
        if again is None:
            return None
        shares.update(again)
    merged = {part: [] for part in catalog.QUERIES}
    for key in set(keys.values()):
        for part, rows in shares[key].items():
            merged[part].extend(tuple(row) for row in rows)
    for rows in merged.values():
        rows.sort(key=repr)
    names = [t.name for t in found.tables.values()]
    names += [row[1] for row in merged["indexes"]] + [row[0] for row in merged["sequences"]]
    if len(set(names)) != len(names):
        return None  # two shares name one relation: only the whole design says which steps aside
    return merged


def counter(cursor, project_id, last):
    """A function telling (tables whose shares are kept, deployed tables) of what `last`
    deployed, as the check that builds them goes on ((0, 0) where shares cannot tell)."""
    if last is None or not has_manifest(last):
        return lambda: (0, 0)
    found = Expectations(cursor, project_id, last)
    keys = found.keys.values()

    def count():
        present = kept_digests(found.project_id, set(keys))
        return sum(1 for key in keys if key in present), len(found.keys)

    return count


def by_table(held, names):
    """({table name: its rows of each part}, whether some row is no named table's) of a
    catalog (None: nothing)."""
    owned, stray = {}, False
    for part, rows in (held or {}).items():
        for row in rows:
            name = row[OWNER[part]]
            if name not in names:
                stray = True
                continue
            if name not in owned:
                owned[name] = {part: [] for part in catalog.QUERIES}
            owned[name][part].append(row)
    return owned, stray


def share_digest(share):
    """The sha256 of a share's rows ({part: rows}, parts in catalog.QUERIES's order)."""
    return digest(share)


def built_shares(cursor, found, missing, build_scratch, deadline=None, progress=None):
    """{key: share} of the `missing` tables, built a batch at a time (by name) and kept;
    None when a build is not to be trusted; Unfinished once `deadline` passes (or
    `progress(built, total, True)` before each batch after the first)."""
    order = sorted(missing, key=lambda tid: (found.tables[tid].name or "", tid))
    left = set(order)
    shares, position = {}, 0
    total = len(found.keys)
    while left:
        if shares and progress is not None:
            progress(total - len(left), total, True)
        if deadline is not None and shares and time.monotonic() > deadline:
            raise Unfinished(total - len(left), total)
        wanted = []
        while position < len(order) and len(wanted) < BATCH:
            if order[position] in left:
                wanted.append(order[position])
            position += 1
        built = build(cursor, found, wanted, build_scratch, left)
        if built is None:
            return None
        left -= built.keys()
        fresh = {found.keys[tid]: share for tid, share in built.items()}
        if not keep(found.project_id, fresh):
            deadline = None  # what is built is not kept: a later request would start over
        shares.update(fresh)
    return shares


def kept_digests(project_id, keys):
    """{key: digest of its rows} of the kept shares among `keys`."""
    keys = sorted(keys)
    found = {}
    for start in range(0, len(keys), READ_BATCH):
        found.update(
            database.execute_sql(
                "SELECT key, digest FROM drift_expectation WHERE project_id = %s"
                " AND key = ANY (%s)",
                (project_id, keys[start : start + READ_BATCH]),
            ).fetchall()
        )
    return found


def has_manifest(last):
    return database.execute_sql(
        "SELECT manifest IS NOT NULL FROM deployment WHERE id = %s", (str(last.id),)
    ).fetchone()[0]


def build(cursor, found, wanted, build_scratch, left=()):
    """{table id: its share} of the `wanted` tables, built in a scratch schema with what they
    need, and of the tables among `left` built with them whose needs the build holds too;
    None when the build is not to be trusted or fails."""
    table_ids, rel_ids = found.context(wanted)
    for table_id in sorted(table_ids & set(left) - set(wanted)):
        needs, keys = found.context([table_id])
        if needs <= table_ids and keys <= rel_ids:
            wanted = [*wanted, table_id]
    tables = {tid: entry for tid, (entry, _) in found.deployed.entries("tables", table_ids).items()}
    if found.whole is None:
        found.whole = found.deployed.whole()
    rels = {
        rid: entry for rid, (entry, _) in found.deployed.entries("relationships", rel_ids).items()
    }
    snapshot = {**found.whole, "tables": tables, "relationships": rels}
    names = ObjectNames(snapshot)
    for table_id in wanted:
        given = names.by_table.get(table_id, {})
        if any(given.get(key) != base for key, base, chosen in names.candidates.get(table_id, ())):
            return None  # a generated name stepped aside here: the whole design decides it
    cursor.execute("SAVEPOINT dmd_expected")
    try:
        read = catalog.read_catalog(cursor, build_scratch(cursor, snapshot))
    except (psycopg2.ProgrammingError, psycopg2.DataError, psycopg2.errors.OutOfMemory):
        cursor.execute("ROLLBACK TO SAVEPOINT dmd_expected")
        return None
    cursor.execute("ROLLBACK TO SAVEPOINT dmd_expected")
    work["built"] += len(tables)
    owners = {entry["table_name"]: tid for tid, entry in tables.items()}
    shares = {tid: {part: [] for part in catalog.QUERIES} for tid in wanted}
    for part, rows in read.items():
        for row in rows:
            owner = owners.get(row[OWNER[part]])
            if owner is None:
                return None  # a row no table owns (an unowned sequence): not a share
            if owner in shares:
                shares[owner][part].append(list(row))
    return shares


def stored(project_id, keys):
    """{key: share} of the kept shares among `keys`."""
    keys = sorted(keys)
    found = {}
    for start in range(0, len(keys), READ_BATCH):
        rows = database.execute_sql(
            "SELECT key, body FROM drift_expectation WHERE project_id = %s AND key = ANY (%s)",
            (project_id, keys[start : start + READ_BATCH]),
        ).fetchall()
        for key, body in rows:
            found[key] = json.loads(gzip.decompress(bytes(body)))
        work["read"] += len(rows)
    return found


def keep(project_id, shares):
    """Keep shares (by key), then drop the project's oldest beyond its budget of bytes;
    whether they were kept."""
    keys = sorted(shares)
    bodies = [
        psycopg2.Binary(gzip.compress(json.dumps(shares[k]).encode("utf-8"), 6)) for k in keys
    ]
    digests = [share_digest(shares[k]) for k in keys]
    try:
        with database.atomic():
            database.execute_sql(STORE, (project_id, keys, digests, bodies))
            budget = {"project": project_id, "budget": settings.drift_expected_bytes}
            database.execute_sql(TRIM, budget)
    except Exception:
        # The check answers all the same: a share not kept is built again next time.
        logging.getLogger(__name__).exception("a drift check's expected catalog was not kept")
        return False
    return True
