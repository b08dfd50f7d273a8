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
# For tests: the tables built in a scratch schema and the shares read from PostgreSQL.
work = {"built": 0, "read": 0}
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
INSERT INTO drift_expectation (project_id, key, body, size)
SELECT %s, k, b, length(b) FROM unnest(%s::text[], %s::bytea[]) AS u (k, b)
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


def catalog_of(cursor, project_id, last, build_scratch, deadline=None):
    """The expected catalog of what `last` deployed ({part: sorted rows}, as
    catalog.read_catalog gives it) from kept shares, building the missing ones with
    `build_scratch(cursor, snapshot)` (which names the schema it built in); None when a
    build of the whole design must tell (see the module's docstring); Unfinished when
    `deadline` (time.monotonic()) passes with shares still missing."""
    if last is None or not has_manifest(last):
        return None
    found = Expectations(cursor, project_id, last)
    keys = found.keys
    shares = stored(found.project_id, set(keys.values()))
    missing = sorted(
        (tid for tid, key in keys.items() if key not in shares),
        key=lambda tid: (found.tables[tid].name or "", tid),
    )
    for start in range(0, len(missing), BATCH):
        if deadline is not None and start and time.monotonic() > deadline:
            raise Unfinished(len(keys) - len(missing) + start, len(keys))
        wanted = missing[start : start + BATCH]
        built = build(cursor, found, wanted, build_scratch)
        if built is None:
            return None
        fresh = {keys[tid]: share for tid, share in built.items()}
        if not keep(found.project_id, fresh):
            deadline = None  # what is built is not kept: a later request would start over
        shares.update(fresh)
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


def has_manifest(last):
    return database.execute_sql(
        "SELECT manifest IS NOT NULL FROM deployment WHERE id = %s", (str(last.id),)
    ).fetchone()[0]


def build(cursor, found, wanted, build_scratch):
    """{table id: its share} of the `wanted` tables, built in a scratch schema with what they
    need; None when the build is not to be trusted or fails."""
    table_ids, rel_ids = found.context(wanted)
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
    try:
        with database.atomic():
            database.execute_sql(STORE, (project_id, keys, bodies))
            budget = {"project": project_id, "budget": settings.drift_expected_bytes}
            database.execute_sql(TRIM, budget)
    except Exception:
        # The check answers all the same: a share not kept is built again next time.
        logging.getLogger(__name__).exception("a drift check's expected catalog was not kept")
        return False
    return True
