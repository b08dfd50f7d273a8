"""What a deploy would do: the state the target should reach and the steps to get there.

What the target holds is the snapshot recorded by the last applied Deployment
(designer.database.records). A plan is that snapshot with the chosen tables replaced by
their design, diffed by the one diff engine and turned into steps (designer.database.ddl).
Pages keep their plans against what they are made of; a deploy plans afresh.
"""

import functools

from designer.database import ddl
from designer.database.records import deployed_snapshot
from designer.database.records import last_applied
from designer.db import parse_id
from designer.design.column_types import UnsafeSetting
from designer.design.column_types import sql_type
from designer.design.dependents import using_table
from designer.design.partitions import parent_id
from designer.errors import ValidationFailed
from designer.history import snapshot as snapshots
from designer.history import versions
from designer.kept import KeptAnswers
from designer.models import DataTable
from designer.projects import access

# Design statuses whose tables a project-wide deploy brings up to date.
DEPLOYABLE = ("active", "deprecated")


def chosen_tables(design, table_ids=None, also=()):
    """The table ids a deploy brings up to date: given ones (checked) or every deployable one."""
    if table_ids is None:
        return {tid for tid, t in design["tables"].items() if t["status"] in DEPLOYABLE}
    chosen = set()
    for raw in table_ids:
        table_id = str(parse_id(raw, "table"))
        table = design["tables"].get(table_id)
        if table is None:
            raise ValidationFailed("No such table in this project.", {"table_ids": str(raw)})
        if table["status"] not in DEPLOYABLE and table_id not in also:
            message = f"{table['table_name']} is {table['status']}: activate it to deploy it."
            raise ValidationFailed(message, {"table_ids": message})
        chosen.add(table_id)
    return chosen


def held_back_by(table_id):
    """Names of the tables whose status keeps this table's relationships out of a deploy."""
    rels = using_table(table_id)
    ends = {rel.source_table_id for rel in rels} | {rel.target_table_id for rel in rels}
    ends.discard(table_id)
    if not ends:
        return []
    rows = DataTable.select(DataTable.table_name).where(
        DataTable.id.in_(ends), DataTable.status.not_in(DEPLOYABLE)
    )
    return sorted(rows.scalars())


def desired_state(design, deployed, chosen, dropped=()):
    """The snapshot the target should hold: deployed tables, the chosen ones as designed.

    Tables not chosen keep their deployed shape (a Deleted table stays until
    dropped explicitly); a relationship is deployed once both its tables are.
    """
    tables = {tid: t for tid, t in deployed["tables"].items() if tid not in dropped}
    tables.update({tid: design["tables"][tid] for tid in chosen})
    relationships = {
        rid: rel
        for rid, rel in deployed["relationships"].items()
        if not {rel["source_table_id"], rel["target_table_id"]} & (set(chosen) | set(dropped))
    }
    for rid, rel in design["relationships"].items():
        ends = {rel["source_table_id"], rel["target_table_id"]}
        if ends & set(chosen) and ends <= tables.keys():
            relationships[rid] = rel
    # A partition is deployed with its parent, never before it.
    tables = {tid: t for tid, t in tables.items() if parent_id(t) is None or parent_id(t) in tables}
    desired = {
        "format": deployed.get("format", 1),
        "tables": tables,
        "relationships": relationships,
    }
    enums = desired_enums(design, deployed, tables)
    if enums:
        desired["enums"] = enums
    return desired


def desired_enums(design, deployed, tables):
    """The enums the deployed tables use, and those deployed already that the design keeps,
    each as designed (a deployed one the design dropped as deployed while a column uses it):
    an enum type is created once a column needs it, dropped only once none uses it and the
    design no longer has it."""
    designed, deployed_enums = design.get("enums", {}), deployed.get("enums", {})
    used = {
        f["field_config"].get("enum_id")
        for t in tables.values()
        for f in t["fields"].values()
        if f["field_config"].get("text_type") == "enum"
    }
    enums = {}
    for enum_id in sorted(used | (deployed_enums.keys() & designed.keys())):
        enum = designed.get(enum_id) or deployed_enums.get(enum_id)
        if enum is not None:
            enums[enum_id] = enum
    return enums


class Plan:
    """Everything a deploy decides before touching the target."""

    def __init__(self, project, table_ids=None, also=(), dropped=(), design=None, last=False):
        """`design` and `last` (the last applied Deployment, or None) when already read."""
        with versions.paused_gc():
            self.build(project, table_ids, also, dropped, design, last)

    def build(self, project, table_ids, also, dropped, design, last):
        self.project = project
        self.schema = project.target_schema
        self.design = design if design is not None else snapshots.build(project.id)
        self.last = last if last is not False else last_applied(project.id)
        self.deployed = deployed_snapshot(self.last)
        chosen = chosen_tables(self.design, table_ids, also)
        self.desired = desired_state(self.design, self.deployed, chosen, set(dropped))
        self.steps = ddl.migration(self.schema, self.deployed, self.desired)
        if not self.deployed["tables"]:
            self.steps = ddl.create_script(self.schema, None) + self.steps

    @functools.cached_property
    def tree(self):
        """The desired snapshot's parts (designer.history.parts): its hash and manifest."""
        return versions.tree_of(self.desired)

    @functools.cached_property
    def to_hash(self):
        # Only a recorded deploy needs it: hashing a 3,000-table snapshot is not free.
        return self.tree.hash

    def is_version(self, version):
        """Whether the target ends up holding exactly `version` (the whole design)."""
        return version is not None and self.desired == self.design

    def record(self, user, version, **values):
        return {
            "project": self.project.id,
            "version": version,
            "target_schema": self.schema,
            "from_hash": self.last.to_hash if self.last else None,
            "to_hash": self.to_hash,
            "sql": ddl.script(self.steps),
            "created_by": user,
            **values,
        }


def named_types(plan):
    """(table.column, its type) of each named type (an extension's, a domain) of the tables
    the plan's steps touch: the types a dry run asks the target for before any step."""
    touched = {step.table_id for step in plan.steps}
    found = []
    for table_id, table in sorted(plan.desired["tables"].items()):
        if table_id not in touched:
            continue
        for field in table["fields"].values():
            config = field["field_config"]
            if config.get("text_type") == "named":
                try:
                    rendered = sql_type(field["data_type"], config)
                except UnsafeSetting:
                    continue  # the plan says so already: its DDL cannot be made
                found.append((f"{table['table_name']}.{field['field_name']}", rendered))
    return found


def plan_for(user, project_id, table_ids=None):
    """The plan of a deploy, without running anything (viewers may read it)."""
    granted = access(user, project_id)
    return Plan(granted.project, table_ids)


def has_pending(plan):
    """Whether the plan changes anything (more than creating the schema)."""
    return len(plan.steps) > (0 if plan.deployed["tables"] else 1)


# The compare page's migration, by the key naming its two sides' contents.
migrations = KeptAnswers(limit=16)


def migration_between(schema, old, new, changes, key):
    """The steps from snapshot `old` to `new` (whose `changes` are known), kept by `key`."""
    return migrations.get((schema, key), lambda: ddl.migration(schema, old, new, changes))
