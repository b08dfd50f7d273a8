"""Deploying a project's design: plan, dry run, apply, and what each table has pending.

What the target holds is the snapshot recorded by the last applied
Deployment. A deploy computes the state the target should reach (the
deployed snapshot with the chosen tables replaced by their design), turns
the diff into steps (designer.database.ddl) and runs them on the target
(designer.database.target). The designer's records (version, deployment, statuses,
deployed_at) are written in one designer transaction that commits only
after the target did; any failure undoes both, and only the failed
Deployment record (with the statement and PostgreSQL's message) is kept.
"""

import functools

from peewee import JOIN
from peewee import SQL
from peewee import Tuple
from peewee import fn

from designer import locks
from designer.activity import recording
from designer.database import ddl
from designer.database import in_flight
from designer.database import target
from designer.database.ddl_terms import DESTRUCTIVE
from designer.db import database
from designer.db import parse_id
from designer.design import tables
from designer.design.tables import project_stamp
from designer.errors import Conflict
from designer.errors import Locked
from designer.errors import NotFound
from designer.errors import ValidationFailed
from designer.history import snapshot as snapshots
from designer.history import versions
from designer.history.diff import empty_snapshot
from designer.kept import KeptAnswers
from designer.models import ADOPTED_SQL
from designer.models import DataTable
from designer.models import Deployment
from designer.models import SchemaVersion
from designer.models import User
from designer.projects import access
from designer.projects import serialize_changes

# Design statuses whose tables a project-wide deploy brings up to date.
DEPLOYABLE = ("active", "deprecated")
LISTED = [f for f in Deployment._meta.sorted_fields if f is not Deployment.deployed_snapshot]
SUMMARY = [f for f in LISTED if f is not Deployment.sql and f is not Deployment.plan]


class DeployFailed(Exception):
    """A statement failed on the target; carries the Deployment row to record."""

    def __init__(self, values):
        super().__init__(values["error"])
        self.values = values


def last_applied(project_id):
    return (
        Deployment.select(*LISTED)
        .where(Deployment.project == project_id, Deployment.status == "applied")
        .order_by(Deployment.created_at.desc())
        .first()
    )


def deployed_snapshot(deployment):
    """What the target holds after `deployment` (None: nothing deployed yet)."""
    if deployment is None:
        return empty_snapshot()

    def load():
        # A deploy of the whole design stores no copy: its version holds the snapshot.
        return (
            Deployment.select(
                fn.coalesce(Deployment.deployed_snapshot, SchemaVersion.schema_snapshot)
            )
            .join(SchemaVersion, JOIN.LEFT_OUTER, on=(Deployment.version == SchemaVersion.id))
            .where(Deployment.id == deployment.id)
            .scalar()
        )

    return versions.cache.get(deployment.to_hash, load)


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
    return {"format": deployed.get("format", 1), "tables": tables, "relationships": relationships}


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
    def to_hash(self):
        # Only a recorded deploy needs it: hashing a 3,000-table snapshot is not free.
        return snapshots.snapshot_hash(self.desired)

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


def plan_for(user, project_id, table_ids=None):
    """The plan of a deploy, without running anything (viewers may read it)."""
    granted = access(user, project_id)
    return Plan(granted.project, table_ids)


# The Deploy tab and a deployed table's page show a plan on every view, and
# planning a 3,000-table project takes most of a second. Plans are kept against
# what they are made of, read from the database on each call: the project's
# change stamp (its working copy), the last applied deployment (what the target
# holds) and the target schema. Only pages read them; a deploy plans afresh.
viewed_plans = KeptAnswers(limit=16)


def viewed_plan(project, table_id=None):
    """The project's plan (or one table's, deployable or not), for showing."""
    stamp = project_stamp(project.id)
    last = last_applied(project.id)
    key = (str(project.id), stamp, last.id if last else None, project.target_schema, table_id)

    def plan():
        design = versions.working_copy(project.id, stamp)
        if table_id is None:
            return Plan(project, design=design, last=last)
        return Plan(project, [table_id], also={str(table_id)}, design=design, last=last)

    return viewed_plans.get(key, plan)


def deploy(user, project_id, table_ids=None, dry_run=False, confirm=False, **options):
    """Dry-run or apply the project's pending changes; returns the Deployment recorded.

    options: `before` (a designer change made in the same transaction, e.g. a
    status move), `also` (table ids deployable though not yet Active),
    `dropped` (deployed table ids to DROP).
    """
    granted = access(user, project_id, "editor")
    flight = in_flight.InFlight()
    try:
        with database.atomic():
            serialize_changes(granted.project.id)
            try:
                with database.atomic():
                    if options.get("before"):
                        options["before"]()
                    return run(user, granted.project, table_ids, dry_run, confirm, options, flight)
            except DeployFailed as failed:
                return flight.record(**failed.values)
    except BaseException as exc:
        flight.end(exc)
        raise
    finally:
        flight.end()


def run(user, project, table_ids, dry_run, confirm, options, flight):
    plan = Plan(project, table_ids, options.get("also", ()), options.get("dropped", ()))
    if not has_pending(plan):
        if options.get("before") and not dry_run:
            return None  # a status move whose table the target already holds as designed
        raise Conflict("Nothing to deploy: the target already matches the design.")
    recorded = {}

    def save_version():
        # While the target runs the steps: the version is the designer's side alone.
        recorded["version"] = saved_version(user, project.id, plan.design)

    def before_commit(outcome):
        version = recorded["version"]
        recorded["row"] = flight.record(
            **plan.record(user, version, plan=outcome.steps, duration_ms=outcome.duration_ms),
            status="applied",
            deployed_snapshot=None if plan.is_version(version) else plan.desired,
        )
        mark_deployed(project.id, plan.desired)
        with recording(project.id, user) as log:
            log.add("deployment.applied", f"deployed to {plan.schema}", recorded["row"].id)

    refuse = refusal(user, confirm, plan.steps) if not dry_run else (lambda step: None)
    flight.start(plan.record(user, None))
    outcome = target.run_plan(
        plan.steps, plan.schema, not dry_run, refuse, before_commit,
        meanwhile=None if dry_run else save_version,
    )  # fmt: skip
    failed_status = "dry_run_failed" if dry_run else "failed"
    if outcome.error:
        values = plan.record(user, None, plan=outcome.steps, duration_ms=outcome.duration_ms)
        raise DeployFailed({**values, "status": failed_status, "error": outcome.error})
    if outcome.refused:
        refuse_unconfirmed(outcome.refused)
    if dry_run:
        values = plan.record(user, None, plan=outcome.steps, duration_ms=outcome.duration_ms)
        return flight.record(**values, status="dry_run_ok")
    return recorded["row"]


def refusal(user, confirm, steps):
    """Why a step that would lose rows may not run: unconfirmed, or no critical lock.

    The locks are read now, once: the steps run on a thread of their own."""
    table_ids = {s.table_id for s in steps if s.kind == DESTRUCTIVE and s.table_id}
    held = {table_id: holds_critical(user, table_id) for table_id in table_ids}

    def refuse(step):
        if not confirm:
            return "confirm"
        if step.table_id is None:
            return None  # a table only the target has (drift): no one can lock it
        return None if held.get(step.table_id) else "lock"

    return refuse


def holds_critical(user, table_id):
    lock = locks.active_lock(table_id)
    return lock is not None and lock.user_id == user.id and lock.lock_type == "critical"


def refuse_unconfirmed(refused):
    steps = [{k: r[k] for k in ("sql", "kind", "reason", "affected_rows")} for r in refused]
    if any(r["refused"] == "lock" for r in refused):
        raise Locked(
            "Confirmed destructive steps need your critical lock on their tables.", steps=steps
        )
    lost = sum(r["affected_rows"] for r in refused)
    raise Conflict(
        f"{len(refused)} step(s) would destroy data ({lost} rows). Confirm to run them.",
        steps=steps,
    )


def saved_version(user, project_id, design):
    """Every deploy saves a version of the design it deploys (or finds it the newest)."""
    try:
        return versions.save_version(user, project_id, "Deployed", current=design)
    except Conflict:
        return versions.latest(project_id)


def mark_deployed(project_id, desired):
    """Record which tables the target now holds (deployed_at), in the designer."""
    ids = list(desired["tables"])
    DataTable.update(deployed_at=SQL("now()")).where(
        DataTable.project == project_id, DataTable.id.in_(ids), DataTable.deployed_at.is_null()
    ).execute()
    DataTable.update(deployed_at=None).where(
        DataTable.project == project_id,
        DataTable.id.not_in(ids),
        DataTable.deployed_at.is_null(False),
    ).execute()


def history(project_id, limit=20, before=None):
    """Deployments newest first, `limit` of them older than deployment `before`; without
    their SQL and steps (a 3,000-table deploy's are megabytes)."""
    in_flight.settle_orphans(project_id)
    # Only the start of the SQL: enough to tell an adoption (models.ADOPTED_SQL).
    opening = fn.left(Deployment.sql, len(ADOPTED_SQL)).alias("sql")
    rows = (
        Deployment.select(*SUMMARY, opening, User.username)
        .join(User, on=(Deployment.created_by == User.id), join_type=JOIN.LEFT_OUTER)
        .where(Deployment.project == project_id)
        .order_by(Deployment.created_at.desc(), Deployment.id.desc())
        .limit(limit)
    )
    if before is not None:
        older = Deployment.alias("older")
        since = older.select(older.created_at, older.id).where(
            older.id == parse_id(before, "deployment"), older.project == project_id
        )
        rows = rows.where(Tuple(Deployment.created_at, Deployment.id) < since)
    return list(rows.objects())


def get_deployment(user, project_id, deployment_id, steps=None):
    """One deployment, without the snapshot it deployed; `steps` = (start, count) reads only
    those of its steps into `plan` (and their number into step_count), and no SQL."""
    granted = access(user, project_id)
    in_flight.settle_orphans(granted.project.id)
    columns = LISTED
    if steps is not None:
        start, count = steps
        page = fn.jsonb_path_query_array(
            Deployment.plan, SQL("%s::jsonpath", (f"$[{start} to {start + count - 1}]",))
        )
        columns = [
            *SUMMARY,
            page.alias("plan"),
            fn.jsonb_array_length(Deployment.plan).alias("step_count"),
        ]
    row = (
        Deployment.select(*columns)
        .where(
            Deployment.id == parse_id(deployment_id, "deployment"),
            Deployment.project == granted.project.id,
        )
        .first()
    )
    if row is None:
        raise NotFound("No such deployment.")
    return row


def export_sql(user, project_id):
    """(file name, CREATE script) of the project's design, every table but Deleted ones."""
    granted = access(user, project_id)
    design = snapshots.build(granted.project.id)
    kept = {tid: t for tid, t in design["tables"].items() if t["status"] != "deleted"}
    relationships = {
        rid: rel
        for rid, rel in design["relationships"].items()
        if {rel["source_table_id"], rel["target_table_id"]} <= kept.keys()
    }
    snapshot = {**design, "tables": kept, "relationships": relationships}
    schema = granted.project.target_schema
    return schema, ddl.script(ddl.create_script(schema, snapshot))


def has_pending(plan):
    """Whether the plan changes anything (more than creating the schema)."""
    return len(plan.steps) > (0 if plan.deployed["tables"] else 1)


def pending_for_table(project, table):
    """The steps that would bring a deployed table up to its design ("changes not deployed")."""
    if table.deployed_at is None:
        return []
    plan = viewed_plan(project, str(table.id))
    return [step for step in plan.steps if step.table_id == str(table.id)]


def refuse_drop(table, typed_name):
    """Why a table cannot be dropped from the database now (raised), before any lock is taken."""
    if table.status != "deleted" or table.deployed_at is None:
        raise Conflict("Only a Deleted table that is in the database can be dropped from it.")
    if typed_name.strip() != table.table_name:
        message = f"Type {table.table_name} to confirm."
        raise ValidationFailed(message, {"confirm_name": message})


def drop_table(user, table_id, typed_name):
    """DROP a Deleted table from the target: its name typed, the user's critical lock held."""
    _, table = tables.table_access(user, table_id, "editor")
    refuse_drop(table, typed_name)
    return deploy(user, table.project_id, [], confirm=True, dropped={str(table.id)})


def transition(user, table_id, status, confirm=False, lock_token=None, dry_run=False):
    """Move a table along the lifecycle: (table, deployment or None).

    Becoming Active deploys the table (CREATE, or ALTERs when it was deployed
    before) with its relationships to deployed tables; a deployed table
    becoming Deprecated gets its COMMENT. A failed deploy leaves the status
    as it was and raises Conflict with the statement and PostgreSQL's message.
    """
    _, table = tables.table_access(user, table_id, "editor")
    deploys = status == "active" or (status == "deprecated" and table.deployed_at is not None)
    if not deploys:
        if dry_run:
            raise ValidationFailed("Only a move that deploys can be dry-run.", {"dry_run": "No."})
        return tables.transition(user, table.id, status, confirm, lock_token), None
    tables.refuse_transition(table, status)

    def move():
        tables.transition(user, table.id, status, confirm, lock_token)

    deployment = deploy(
        user, table.project_id, [table.id], dry_run, confirm,
        before=None if dry_run else move, also={str(table.id)},
    )  # fmt: skip
    if deployment is not None and deployment.status == "failed":
        raise Conflict(
            f"Deploying {table.table_name} failed; nothing was changed.\n{deployment.error}",
            deployment_id=str(deployment.id),
        )
    return DataTable.get_by_id(table.id), deployment


# The compare page's migration, by the key naming its two sides' contents.
migrations = KeptAnswers(limit=16)


def migration_between(schema, old, new, changes, key):
    """The steps from snapshot `old` to `new` (whose `changes` are known), kept by `key`."""
    return migrations.get((schema, key), lambda: ddl.migration(schema, old, new, changes))
