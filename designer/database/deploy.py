"""Deploying a project's design: dry run and apply (of a plan, designer.database.plans).

What the target holds is the snapshot recorded by the last applied
Deployment. A deploy computes the state the target should reach (the
deployed snapshot with the chosen tables replaced by their design), turns
the diff into steps (designer.database.ddl) and runs them on the target
(designer.database.target). The designer's records (version, deployment, statuses,
deployed_at) are written in one designer transaction that commits only
after the target did; any failure undoes both, and only the failed
Deployment record (with the statement and PostgreSQL's message) is kept.
"""

from designer import locks
from designer.activity import recording
from designer.database import in_flight
from designer.database import reservations
from designer.database import target
from designer.database.ddl_terms import DESTRUCTIVE
from designer.database.plans import Plan
from designer.database.plans import has_pending
from designer.database.plans import named_types
from designer.database.records import deployed_manifest
from designer.database.records import mark_deployed
from designer.db import database
from designer.design import tables
from designer.errors import Conflict
from designer.errors import Locked
from designer.errors import ValidationFailed
from designer.history import versions
from designer.models import DataTable
from designer.projects import access
from designer.projects import refuse_branch
from designer.projects import serialize_changes


class DeployFailed(Exception):
    """A statement failed on the target; carries the Deployment row to record."""

    def __init__(self, values):
        super().__init__(values["error"])
        self.values = values


def deploy(user, project_id, table_ids=None, dry_run=False, confirm=False, **options):
    """Dry-run or apply the project's pending changes; returns the Deployment recorded.

    options: `before` (a designer change made in the same transaction, e.g. a
    status move), `also` (table ids deployable though not yet Active),
    `dropped` (deployed table ids to DROP).
    """
    granted = access(user, project_id, "editor")
    refuse_branch(granted.project)
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
            manifest=deployed_manifest(project.id, plan.desired, version, plan.tree),
        )
        mark_deployed(project.id, plan.desired)
        with recording(project.id, user) as log:
            log.add("deployment.applied", f"deployed to {plan.schema}", recorded["row"].id)

    refuse = refusal(user, confirm, plan.steps) if not dry_run else (lambda step: None)
    flight.start(plan.record(user, None))
    outcome = target.run_plan(
        plan.steps, reservations.tenant_of(project), not dry_run, refuse, before_commit,
        meanwhile=None if dry_run else save_version, named_types=named_types(plan),
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


def plural(count, noun):
    return f"{count} {noun}{'s' if count != 1 else ''}"


def refuse_unconfirmed(refused):
    steps = [{k: r[k] for k in ("sql", "kind", "reason", "affected_rows")} for r in refused]
    if any(r["refused"] == "lock" for r in refused):
        raise Locked(
            "Confirmed destructive steps need your critical lock on their tables.", steps=steps
        )
    lost = sum(r["affected_rows"] for r in refused)
    raise Conflict(
        f"{plural(len(refused), 'step')} would destroy data ({plural(lost, 'row')}). "
        "Confirm to run them.",
        steps=steps,
    )


def saved_version(user, project_id, design):
    """Every deploy saves a version of the design it deploys (or finds it the newest)."""
    try:
        return versions.save_version(user, project_id, "Deployed", current=design, automatic=True)
    except Conflict:
        return versions.latest(project_id)


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
    granted, table = tables.table_access(user, table_id, "editor")
    refuse_branch(granted.project, "move tables through their lifecycle")
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
