"""What a deploy would change, for pages: in proportion to what differs, a page at a time.

A plan (designer.database.plans) diffs the whole design against the whole deployed
snapshot: at 30,000 tables that is seconds and a gigabyte in a page view, to show what
a deploy would run. Both sides are kept as per-table parts: the working copy's in
working_part (triggers keep each table's canonical JSON and hash current, migration 0030)
and what the last applied deployment left on the target as a manifest of parts in
schema_part (migration 0042). So PostgreSQL compares the leaf hashes and names the tables
whose desired state differs from the deployed one (and the tables holding foreign keys
whose relationship, or whose referenced table, differs). Only the tables of the page shown
are read, with the tables their foreign keys point to, and planned by the one diff engine
(designer.database.ddl) over those few tables: each table's steps are the steps a whole
plan gives it. The steps of the tables already planned are kept by what they are made of,
so a one-table change plans one page again.

The kinds of steps (safe, destructive, ...) are counted over every table already deployed
that changes (a destructive step is only ever one of those): a table not deployed yet is
created, which is safe.

A deploy still plans the whole design (designer.database.plans): what runs is planned from
exactly what it deploys. Object names are a function of the whole snapshot; where a name
would collide with one of a table outside those read, the deploy's plan says the name it
takes.
"""

import functools
import hashlib
import json
from dataclasses import dataclass
from dataclasses import field

from designer.database import ddl
from designer.database.ddl_terms import BLOCKING
from designer.database.ddl_terms import KINDS
from designer.database.ddl_terms import Step
from designer.database.plans import DEPLOYABLE
from designer.database.plans import desired_enums
from designer.database.plans import desired_state
from designer.database.records import SUMMARY
from designer.database.records import deployed_snapshot
from designer.database.records import last_applied
from designer.db import database
from designer.design.column_types import UnsafeSetting
from designer.design.page_stamps import project_stamp
from designer.design.partitions import parent_id
from designer.history import parts
from designer.history import snapshot as snapshots
from designer.kept import KeptAnswers
from designer.settings import settings

# The tables planned together (a page, or a batch of the deployed tables that change).
BATCH = 100
# How many entries were read (parsed) and tables planned, for tests: a page's work is in
# proportion to what changed, not to the design's size.
work = {"read": 0, "planned": 0}

# Every leaf of a deployment's manifest: (kind, entry id, hash, and NULL for what the
# part's body says: its label, a relationship's source and target table ids).
DEPLOYED_LEAVES = """
SELECT kind, entry_id, hash, NULL::text AS label, NULL::text AS src, NULL::text AS tgt
FROM deployed_leaves(%(deployment)s, %(project)s)
"""
# The same, given as arrays (a deployment stored before manifests, read whole).
GIVEN_LEAVES = """
SELECT * FROM unnest(%(leaf_kinds)s::text[], %(leaf_ids)s::text[], %(leaf_hashes)s::text[],
  %(leaf_labels)s::text[], %(leaf_srcs)s::text[], %(leaf_tgts)s::text[])
  AS u (kind, entry_id, hash, label, src, tgt)
"""
# The design's relationships with their tables and leaf hashes.
WORKING_RELATIONSHIPS = """
  SELECT r.id::text AS id, w.hash, r.source_table_id::text AS src,
         r.target_table_id::text AS tgt
  FROM table_relationship r
  LEFT JOIN working_part w
    ON w.project_id = r.project_id AND w.kind = 'relationships' AND w.entry_id = r.id::text
  WHERE r.project_id = %(project)s
"""
# The deployed relationships with their tables: as the design has them where the leaves are
# equal, else from the part's body.
DEPLOYED_RELATIONSHIPS = """
  SELECT d.entry_id AS id, d.hash,
         coalesce(d.src, CASE WHEN wr.hash = d.hash THEN wr.src
                              ELSE p.body ->> 'source_table_id' END) AS src,
         coalesce(d.tgt, CASE WHEN wr.hash = d.hash THEN wr.tgt
                              ELSE p.body ->> 'target_table_id' END) AS tgt
  FROM dep d
  LEFT JOIN wr ON wr.id = d.entry_id
  LEFT JOIN schema_part p ON p.project_id = %(project)s AND p.hash = d.hash
    AND d.src IS NULL AND wr.hash IS DISTINCT FROM d.hash
  WHERE d.kind = 'relationships'
"""
# The tables whose deployed state differs from the state a deploy of `chosen` leaves:
# (id, name, deployed). `chosen` is every table of a deployable status, or the given ids.
AFFECTED = """
WITH dep AS MATERIALIZED ({leaves}),
dt AS (SELECT entry_id AS id, hash, label FROM dep WHERE kind = 'tables'),
wt AS MATERIALIZED (
  SELECT t.id::text AS id, t.table_name AS label, w.hash, {chosen} AS chosen,
         t.schema_definition #>> '{{structure,partition_of,table_id}}' AS parent
  FROM data_table t
  LEFT JOIN working_part w
    ON w.project_id = t.project_id AND w.kind = 'tables' AND w.entry_id = t.id::text
  WHERE t.project_id = %(project)s),
picked AS (SELECT id FROM wt WHERE chosen),
-- The desired tables: deployed ones, and the chosen (a partition with its parent).
desired AS MATERIALIZED (
  SELECT id FROM dt
  UNION
  SELECT wt.id FROM wt WHERE wt.chosen AND (wt.parent IS NULL
    OR wt.parent IN (SELECT id FROM dt) OR wt.parent IN (SELECT id FROM picked))),
changed AS MATERIALIZED (
  SELECT wt.id FROM wt LEFT JOIN dt ON dt.id = wt.id
  WHERE wt.id IN (SELECT id FROM desired) AND wt.chosen
    AND (wt.hash IS NULL OR wt.hash IS DISTINCT FROM dt.hash)
  UNION
  SELECT dt.id FROM dt WHERE dt.id NOT IN (SELECT id FROM desired)),
wr AS MATERIALIZED ({working_relationships}),
dr AS MATERIALIZED ({deployed_relationships}),
-- Each relationship's desired hash (NULL: not deployed), as plans.desired_state gives it.
rel AS (
  SELECT coalesce(wr.id, dr.id) AS id, dr.hash AS was, wr.tgt AS wtgt, dr.tgt AS dtgt,
         wr.src AS wsrc, dr.src AS dsrc,
    CASE WHEN wr.id IS NOT NULL AND (wr.src IN (SELECT id FROM picked)
                                     OR wr.tgt IN (SELECT id FROM picked))
              AND wr.src IN (SELECT id FROM desired) AND wr.tgt IN (SELECT id FROM desired)
           THEN coalesce(wr.hash, 'unwritten')
         WHEN dr.id IS NOT NULL AND dr.src NOT IN (SELECT id FROM picked)
              AND dr.tgt NOT IN (SELECT id FROM picked)
           THEN dr.hash END AS now
  FROM wr FULL JOIN dr ON dr.id = wr.id),
affected AS (
  SELECT id FROM changed
  UNION
  SELECT unnest(ARRAY[wtgt, dtgt]) FROM rel WHERE now IS DISTINCT FROM was
  UNION
  SELECT unnest(ARRAY[wtgt, dtgt]) FROM rel
  WHERE wsrc IN (SELECT id FROM changed) OR dsrc IN (SELECT id FROM changed)
  UNION
  SELECT wt.id FROM wt WHERE wt.parent IN (SELECT id FROM changed))
SELECT * FROM (
  SELECT a.id,
         coalesce(CASE WHEN wt.chosen THEN wt.label END, dt.label, p.label, wt.label, a.id)
           AS name,
         dt.id IS NOT NULL
  FROM affected a
  LEFT JOIN wt ON wt.id = a.id
  LEFT JOIN dt ON dt.id = a.id
  LEFT JOIN schema_part p ON p.project_id = %(project)s AND p.hash = dt.hash
    AND dt.label IS NULL
  WHERE a.id IS NOT NULL AND (a.id IN (SELECT id FROM desired) OR dt.id IS NOT NULL)) found
ORDER BY name COLLATE "C", id COLLATE "C"
"""
# The relationships whose foreign key the given tables hold, on either side:
# (id, source table id, in the design, deployed).
INCOMING = """
WITH dep AS MATERIALIZED ({leaves}),
wr AS MATERIALIZED ({working_relationships}),
dr AS ({deployed_relationships})
SELECT id, src, true, false FROM wr WHERE tgt = ANY (%(ids)s)
UNION ALL
SELECT id, src, false, true FROM dr WHERE tgt = ANY (%(ids)s)
"""
RELATIONSHIP_QUERIES = {
    "working_relationships": WORKING_RELATIONSHIPS,
    "deployed_relationships": DEPLOYED_RELATIONSHIPS,
}
# Working parts' texts (NULL where the triggers left them unwritten).
WORKING = """
SELECT kind, entry_id, hash, body::text FROM working_part
WHERE project_id = %(project)s AND kind = %(kind)s AND entry_id = ANY (%(ids)s)
"""
# The enums that fields of tables of a deployable status use (migration 0043's index).
USED_ENUMS = """
SELECT DISTINCT f.field_config ->> 'enum_id' FROM data_field f
JOIN data_table t ON t.id = f.table_id
WHERE f.field_config ->> 'text_type' = 'enum' AND f.project_id = %(project)s AND {chosen}
"""


def chosen_sql(table_ids):
    if table_ids is None:
        return "t.status IN ('active', 'deprecated')"
    return "t.id = ANY (%(chosen)s::uuid[])"


class Deployed:
    """What the last applied deployment left on the target, read a part at a time."""

    def __init__(self, project_id, last):
        self.project_id = str(project_id)
        self.last = last
        self.manifest = None
        self.snapshot = None
        if last is None:
            self.manifest = {}
            return
        text = database.execute_sql(
            "SELECT manifest::text FROM deployment WHERE id = %s", (str(last.id),)
        ).fetchone()[0]
        if text is not None:
            self.manifest = parts.read_manifest(text)
        else:
            # Stored before manifests (migration 0042 kept the last ones'): read whole.
            self.snapshot = deployed_snapshot(last)
            self.tree = parts.tree_of(
                self.snapshot, snapshots.parts.canonical, snapshots.parts.leaf_hash
            )

    @property
    def empty(self):
        """Whether the target holds no table of the project (a first deploy)."""
        if self.snapshot is not None:
            return not self.snapshot["tables"]
        return not self.manifest.get("tables", ("buckets", {}))[1]

    def leaves_query(self):
        """(SQL giving (kind, entry id, hash) of every leaf, its parameters)."""
        if self.snapshot is None and self.last is not None:
            return DEPLOYED_LEAVES, {"deployment": str(self.last.id)}
        rows = []
        for kind, leaves in self.tree.leaves.items() if self.last is not None else ():
            for entry_id, hashed in leaves.items():
                entry = self.snapshot[kind][entry_id]
                label = entry.get("table_name") if kind == "tables" else None
                ends = (entry.get("source_table_id"), entry.get("target_table_id"))
                rows.append((kind, entry_id, hashed, label, *ends))
        names = ("kinds", "ids", "hashes", "labels", "srcs", "tgts")
        return GIVEN_LEAVES, {f"leaf_{n}": [row[i] for row in rows] for i, n in enumerate(names)}

    def whole(self):
        """{key: value} of the keys kept whole ("format", "enums")."""
        if self.snapshot is not None:
            return {k: v for k, v in self.snapshot.items() if k not in parts.ENTRY_MAPS}
        named = {key: node for key, (kind, node) in self.manifest.items() if kind == "part"}
        bodies = part_bodies(self.project_id, set(named.values()))
        return {key: bodies[hashed] for key, hashed in named.items()}

    def entries(self, kind, ids):
        """{id: (entry, leaf hash)} of the deployed entries among `ids`."""
        if not ids:
            return {}
        if self.snapshot is not None:
            found = self.snapshot.get(kind, {})
            return {i: (found[i], self.tree.leaves[kind][i]) for i in ids if i in found}
        query, values = self.leaves_query()
        rows = database.execute_sql(
            f"WITH dep AS ({query}) SELECT d.entry_id, d.hash, p.body::text FROM dep d"
            " JOIN schema_part p ON p.project_id = %(project)s AND p.hash = d.hash"
            " WHERE d.kind = %(kind)s AND d.entry_id = ANY (%(ids)s)",
            {**values, "project": self.project_id, "kind": kind, "ids": sorted(ids)},
        ).fetchall()
        read = snapshots.parts.read([text for *_, text in rows], canonical=True)
        work["read"] += len(rows)
        return {i: (entry[0], h) for (i, h, _), entry in zip(rows, read, strict=True)}


def joined(query, values):
    """The rows of a query joining a project's rows by hash, whatever the statistics say.

    Right after an import or a deploy the planner's statistics may still count a few rows
    where there are 30,000: its nested loops then compared every table with every part
    (4.5 million comparisons at 3,000 tables, 13 s). Hash joins read each side once.
    Nor is it worth compiling (JIT)."""
    with database.atomic():
        database.execute_sql("SET LOCAL enable_nestloop = off")
        database.execute_sql("SET LOCAL jit = off")
        return database.execute_sql(query, values).fetchall()


def part_bodies(project_id, hashes):
    if not hashes:
        return {}
    rows = database.execute_sql(
        "SELECT hash, body::text FROM schema_part WHERE project_id = %s AND hash = ANY (%s)",
        (str(project_id), sorted(hashes)),
    ).fetchall()
    read = snapshots.parts.read([text for _, text in rows], canonical=True)
    return {h: entry[0] for (h, _), entry in zip(rows, read, strict=True)}


def working_entries(project_id, kind, ids):
    """{id: (entry, leaf hash)} of the design's entries among `ids`."""
    if not ids:
        return {}
    rows = database.execute_sql(
        WORKING, {"project": str(project_id), "kind": kind, "ids": sorted(ids)}
    ).fetchall()
    work["read"] += len(rows)
    stored = [(i, h, text) for _, i, h, text in rows if text is not None]
    read = snapshots.parts.read([text for *_, text in stored], canonical=True)
    found = {i: (entry[0], h) for (i, h, _), entry in zip(stored, read, strict=True)}
    unwritten = [i for _, i, _, text in rows if text is None]
    if unwritten:
        built = snapshots.SOME_TABLES if kind == "tables" else snapshots.SOME_RELATIONSHIPS
        query = f"SELECT id, part::text FROM ({built}) built (id, part)"
        made = database.execute_sql(query, {"project": str(project_id), "ids": unwritten})
        for entry_id, text in made.fetchall():
            value = json.loads(text)
            found[entry_id] = (value, parts.digest(snapshots.canonical_json(value)))
    return found


@dataclass
class Pending:
    """What a deploy of the chosen tables would change, a page of its tables at a time."""

    tables: list  # [(table id, name, deployed)] of every table with steps, by name
    groups: list  # [(name, [Step])] of the tables shown (and the schema's, on the first page)
    kinds: dict  # {kind: count} of the schema's steps and the deployed tables' that change
    start: int
    next_start: int | None
    created: int = 0  # tables not deployed yet (each created: safe steps), among `tables`
    steps: int | None = None  # every step, when no table is created (else not counted)
    schema_steps: list = field(default_factory=list)

    @property
    def pending(self):
        """Whether a deploy changes anything (more than creating the schema)."""
        return bool(self.tables) or any(
            not step.sql.startswith("CREATE SCHEMA") for step in self.schema_steps
        )

    @property
    def destructive(self):
        return bool(self.kinds.get("destructive"))


# Steps of planned batches of tables, by a digest of what they were planned from.
planned = KeptAnswers(limit=256)
# The tables that change, by the project's change stamp and what was deployed.
affected_tables = KeptAnswers(limit=16)


class Planner:
    """Plans a project's changes a few tables at a time (see the module's docstring).

    `table_ids`: the tables a deploy brings up to date (as plans.Plan's table_ids with
    `also`, whatever their status), or None for every table of a deployable status."""

    def __init__(self, project, last, stamp, table_ids=None):
        self.project = project
        self.project_id = str(project.id)
        self.schema = project.target_schema
        self.table_ids = None if table_ids is None else sorted({str(t) for t in table_ids})
        self.last = last
        self.stamp = stamp
        self.deployed = Deployed(project.id, last)
        self.whole_deployed = self.deployed.whole()
        read = snapshots.parts.read([text for (text,) in self.enum_rows()])
        self.designed_enums = read[0][0] if read else {}
        self._enums = None

    @functools.cached_property
    def tables(self):
        """[(id, name, deployed)] of the tables whose desired state differs, by name."""
        key = (self.project_id, self.stamp, self.last.id if self.last else None, self.schema)
        return affected_tables.get((*key, tuple(self.table_ids or ("*",))), self.affected)

    def enum_rows(self):
        query = f"SELECT v::text FROM ({snapshots.ENUM_ROWS}) e (k, v)"
        return database.execute_sql(query, {"project": self.project_id}).fetchall()

    def values(self):
        return {"project": self.project_id, "chosen": self.table_ids or []}

    def affected(self):
        leaves, values = self.deployed.leaves_query()
        query = AFFECTED.format(
            leaves=leaves, chosen=chosen_sql(self.table_ids), **RELATIONSHIP_QUERIES
        )
        return [tuple(row) for row in joined(query, {**values, **self.values()})]

    def chosen(self, ids):
        """The chosen tables among `ids`."""
        if self.table_ids is not None:
            return set(ids) & set(self.table_ids)
        if not ids:
            return set()
        rows = database.execute_sql(
            "SELECT id::text FROM data_table WHERE project_id = %s AND id = ANY (%s::uuid[])"
            " AND status IN %s",
            (self.project_id, sorted(ids), DEPLOYABLE),
        )
        return {row[0] for row in rows}

    def desired_enums(self):
        """The enums the target should hold: plans.desired_enums over every desired table,
        asking which enums they use only about those deployed or designed, not both."""
        if self._enums is not None:
            return self._enums
        deployed = self.whole_deployed.get("enums", {})
        designed = self.designed_enums
        undecided = (designed.keys() - deployed.keys()) | (deployed.keys() - designed.keys())
        used = set()
        if undecided:
            query = USED_ENUMS.format(chosen=chosen_sql(self.table_ids))
            used = {row[0] for row in database.execute_sql(query, self.values())}
            if deployed.keys() - designed.keys() - used:
                used |= self.used_by_kept()
        tables = {"used": {"fields": {str(i): enum_field(i) for i in used if i}}}
        self._enums = desired_enums({"enums": designed}, {"enums": deployed}, tables)
        return self._enums

    def used_by_kept(self):
        """The enums the deployed tables a deploy leaves as they are use (not chosen)."""
        leaves, values = self.deployed.leaves_query()
        rows = database.execute_sql(
            f"WITH dep AS ({leaves}) SELECT entry_id FROM dep WHERE kind = 'tables'", values
        ).fetchall()
        others = {row[0] for row in rows}
        others -= self.chosen(others)
        used = set()
        for table, _ in self.deployed.entries("tables", others).values():
            used |= {
                f["field_config"].get("enum_id")
                for f in table["fields"].values()
                if f["field_config"].get("text_type") == "enum"
            }
        return used

    def schema_steps(self):
        """The schema's own steps: CREATE SCHEMA on a first deploy, and the enum types'."""
        old = {**self.whole_deployed, "tables": {}, "relationships": {}}
        new = {**old, "enums": self.desired_enums()}
        if not new["enums"]:
            new.pop("enums")
        steps = ddl.migration(self.schema, old, new)
        if self.deployed.empty:
            steps = ddl.create_script(self.schema, None)[:1] + steps
        return steps

    def plan(self, ids):
        """{table id: [Step]} of the given tables, planned with what their keys point to."""
        found = {}
        for start in range(0, len(ids), BATCH):
            found.update(self.plan_batch(ids[start : start + BATCH]))
        return found

    def plan_batch(self, ids):
        ids = set(ids)
        leaves, values = self.deployed.leaves_query()
        incoming = joined(
            INCOMING.format(leaves=leaves, **RELATIONSHIP_QUERIES),
            {**values, "project": self.project_id, "ids": sorted(ids)},
        )
        rel_ids = {row[0] for row in incoming}
        wanted = ids | {row[1] for row in incoming if row[1]}
        design = working_entries(self.project_id, "tables", wanted)
        deployed = self.deployed.entries("tables", wanted)
        # A partition's parent, on either side: its columns are the parent's.
        parents = {parent_id(entry) for entry, _ in [*design.values(), *deployed.values()]}
        parents = {p for p in parents if p and p not in wanted}
        if parents:
            design.update(working_entries(self.project_id, "tables", parents))
            deployed.update(self.deployed.entries("tables", parents))
        design_rels = working_entries(self.project_id, "relationships", rel_ids)
        deployed_rels = self.deployed.entries("relationships", rel_ids)
        chosen = self.chosen(set(design))
        enums = self.desired_enums()
        sides = (design, deployed, design_rels, deployed_rels)
        key = planned_key(
            self.schema, *sides, enums, self.whole_deployed, sorted(ids), sorted(chosen)
        )
        return planned.get(key, lambda: self.steps_of(ids, *sides, chosen, enums))

    def steps_of(self, ids, design, deployed, design_rels, deployed_rels, chosen, enums):
        # Both sides name the enum types the target should hold: their steps are the
        # schema's (schema_steps), the tables' columns only use their names.
        types = {**self.whole_deployed.get("enums", {}), **enums}
        old = {
            **self.whole_deployed,
            "tables": {i: e for i, (e, _) in deployed.items()},
            "relationships": {i: e for i, (e, _) in deployed_rels.items()},
        }
        old.pop("enums", None)
        design_side = {
            "format": old.get("format", snapshots.FORMAT),
            "tables": {i: e for i, (e, _) in design.items()},
            "relationships": {i: e for i, (e, _) in design_rels.items()},
        }
        desired = desired_state(design_side, old, chosen)
        if types:
            old["enums"] = desired["enums"] = types
        else:
            desired.pop("enums", None)
        work["planned"] += len(ids)
        steps = ddl.migration(self.schema, old, desired)
        found = {table_id: [] for table_id in ids}
        for step in steps:
            if step.table_id in found:
                found[step.table_id].append(step)
        return found

    def page(self, start=0, size=50):
        """The Pending of the tables [start, start + size) by name; kinds counted over the
        schema's steps and every deployed table that changes."""
        affected = self.tables
        altered = self.plan([tid for tid, _, deployed in affected if deployed])
        # A deployed table whose change makes no DDL (its display name) is not pending.
        tables = [row for row in affected if not row[2] or altered.get(row[0])]
        shown = tables[start : start + size]
        pieces = {**altered, **self.plan([tid for tid, _, deployed in shown if not deployed])}
        schema_steps = self.schema_steps()
        groups = [("schema", schema_steps)] if start == 0 and schema_steps else []
        groups += [(name, pieces[tid]) for tid, name, _ in shown if pieces.get(tid)]
        counted = [step.kind for step in schema_steps]
        for steps in altered.values():
            counted += [step.kind for step in steps]
        created = sum(1 for row in tables if not row[2])
        kinds = {kind: counted.count(kind) for kind in KINDS if kind in counted}
        every = None if created else len(schema_steps) + sum(map(len, altered.values()))
        end = start + size
        return Pending(
            tables, groups, kinds, start, end if end < len(tables) else None, created, every,
            schema_steps,
        )  # fmt: skip

    def table_steps(self, table_id):
        """The steps that bring one table up to its design (its page's "not deployed")."""
        return self.plan([str(table_id)]).get(str(table_id), [])


def enum_field(enum_id):
    return {"field_config": {"text_type": "enum", "enum_id": enum_id}}


def planned_key(schema, *sides):
    """A digest of what a batch is planned from: the entries' hashes, the enums."""
    named = []
    for side in sides:
        if isinstance(side, dict) and all(isinstance(v, tuple) for v in side.values()):
            named.append(sorted((i, h) for i, (_, h) in side.items()))
        else:
            named.append(side)
    text = json.dumps([schema, named], sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# Pages of pending changes, by the project's change stamp, the last applied deployment,
# the target schema and the page.
pages = KeptAnswers(limit=64)


def viewed(project, start=0, table_ids=None, size=None):
    """The Pending a page shows: a deploy of every Active table, or of `table_ids`."""
    size = size or settings.page_size
    stamp = project_stamp(project.id)
    last = last_applied(project.id, SUMMARY)
    ids = None if table_ids is None else tuple(sorted({str(t) for t in table_ids}))
    key = (str(project.id), stamp, last.id if last else None, project.target_schema)
    return pages.get(
        (*key, ids, start, size), lambda: Planner(project, last, stamp, ids).page(start, size)
    )


def for_table(project, table):
    """The steps that would bring a deployed table up to its design ("changes not
    deployed"), planned from that table and what its keys point to."""
    if table.deployed_at is None:
        return []
    stamp = project_stamp(project.id)
    last = last_applied(project.id, SUMMARY)
    key = (str(project.id), stamp, last.id if last else None, project.target_schema)
    try:
        return pages.get(
            (*key, "table", str(table.id)),
            lambda: Planner(project, last, stamp, [table.id]).table_steps(table.id),
        )
    except UnsafeSetting as exc:
        # A setting stored before the rules (an old import's): the page still shows, and says
        # what keeps the table from being planned, so the field can be put right.
        return [Step("", BLOCKING, f"cannot be planned: {exc.message}", str(table.id))]
