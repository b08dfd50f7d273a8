"""Activating many Draft tables at once: one check, one plan, one target transaction.

Activating tables one at a time plans the whole project for each (a 375-table import took
minutes). Here the chosen Draft tables are checked together, moved to Active by one UPDATE
and deployed by one plan (designer.database.plans), run by designer.database.deploy in one
transaction on the target: every CREATE TABLE first, then the foreign keys between them
(designer.database.ddl), so the order the tables were chosen in does not matter. A dry run
runs the same steps on the target, rolls back and moves nothing. Risky steps (a Draft table
that was deployed before and whose design dropped a column) need the same confirmation and
critical locks as any deploy. Any failure leaves every table as it was.
"""

from dataclasses import dataclass
from types import SimpleNamespace

from peewee import SQL

from designer.activity import recording
from designer.database import deploy
from designer.database import pending
from designer.database.plans import Plan
from designer.db import database
from designer.db import parse_id
from designer.design.tables import activation_problems
from designer.errors import Conflict
from designer.errors import Locked
from designer.errors import NotFound
from designer.errors import ValidationFailed
from designer.locks import ACTIVE
from designer.models import DataField
from designer.models import DataTable
from designer.models import TableLock
from designer.models import UserName
from designer.projects import access
from designer.projects import refuse_branch

NAMED = 5  # tables named in a message before "and N more"


@dataclass
class Activation:
    """What an activation did: the tables (by name) and the Deployment recorded (or None when
    the target already held them as designed)."""

    tables: list
    deployment: object
    dry_run: bool


def listed(names):
    names = list(names)
    shown = ", ".join(names[:NAMED])
    return f"{shown} and {len(names) - NAMED} more" if len(names) > NAMED else shown


def table_uuids(table_ids):
    ids = []
    for raw in table_ids:
        try:
            ids.append(parse_id(raw, "table"))
        except NotFound:
            message = f"{str(raw)[:64]!r} is not a table id."
            raise ValidationFailed(message, {"table_ids": message}) from None
    return set(ids)


def chosen_drafts(project_id, table_ids=None, all_drafts=False):
    """The Draft tables to activate, by table name: the given ids, or every Draft table."""
    if all_drafts and table_ids:
        message = "Send table_ids or all_drafts, not both."
        raise ValidationFailed(message, {"table_ids": message})
    columns = (DataTable.id, DataTable.name, DataTable.table_name, DataTable.status)
    # Whether each is a partition (it has no fields of its own), not the whole definition.
    partition = SQL("schema_definition #> '{structure,partition_of}'").alias("partition_of")
    rows = DataTable.select(*columns, partition).where(DataTable.project == project_id)
    if all_drafts:
        rows = rows.where(DataTable.status == "draft")
    else:
        if not table_ids:
            message = "Choose at least one Draft table to activate."
            raise ValidationFailed(message, {"table_ids": message})
        ids = table_uuids(table_ids)
        rows = rows.where(DataTable.id.in_(list(ids)))
    found = list(rows.order_by(DataTable.table_name))
    if not all_drafts and len(found) != len(ids):
        message = "No such table in this project."
        raise ValidationFailed(message, {"table_ids": message})
    others = [t for t in found if t.status != "draft"]
    if others:
        named = listed(f"{t.table_name} is {t.status}" for t in others)
        message = f"Only Draft tables are activated here: {named}."
        raise ValidationFailed(message, {"table_ids": message})
    if not found:
        raise Conflict("There is no Draft table to activate.")
    return found


def refuse_incomplete(tables):
    """What keeps any chosen table from becoming Active, all of it in one refusal."""
    fields = {}
    # Names and the system flag only, as tuples: 2,600 model rows with their settings took
    # longer than the plan.
    system = SQL("coalesce((field_config->>'system')::boolean, false)")
    read = DataField.select(DataField.data_table, DataField.name, DataField.field_name, system)
    for table_id, name, field_name, is_system in read.where(
        DataField.data_table.in_([t.id for t in tables])
    ).tuples():
        field = SimpleNamespace(
            name=name, field_name=field_name, field_config={"system": is_system}
        )
        fields.setdefault(table_id, []).append(field)
    problems = {}
    chosen = {str(t.id) for t in tables}
    for table in tables:
        found = activation_problems(table, fields.get(table.id, []), chosen)
        if found:
            problems[table.table_name] = "; ".join(found)
    if problems:
        lines = [f"{name}: {text}" for name, text in problems.items()]
        count = len(problems)
        message = (
            f"{count} table{'s' if count != 1 else ''} cannot be activated yet, so none was: "
            + " · ".join(lines[:NAMED])
            + (f" · and {count - NAMED} more" if count > NAMED else "")
        )
        raise ValidationFailed(message, {"table_ids": message, "tables": problems})


def refuse_locked(user, ids):
    """Tables someone else holds a lock on cannot change status under them (423).

    Inside the move's transaction: the rows are held until it commits, so no lock can be
    taken between this check and the UPDATE (as locks.require_write does for one table)."""
    database.execute_sql(
        "SELECT 1 FROM data_table WHERE id = ANY(%s::uuid[]) ORDER BY id FOR NO KEY UPDATE",
        ([str(i) for i in ids],),
    )
    held = (
        TableLock.select(TableLock, UserName.username, DataTable.table_name)
        .join(UserName, on=(TableLock.user == UserName.id), attr="holder")
        .switch(TableLock)
        .join(DataTable, attr="table")
        .where(TableLock.data_table.in_(ids), ACTIVE, TableLock.user != user.id)
        .order_by(DataTable.table_name)
    )
    named = [f"{lock.table.table_name} (by {lock.holder.username})" for lock in held]
    if named:
        raise Locked(f"Locked by someone else: {listed(named)}. Nothing was activated.")


def move_to_active(user, project_id, tables):
    """Draft → Active for every chosen table, in the deploy's designer transaction."""
    ids = [t.id for t in tables]
    with recording(project_id, user) as log:
        refuse_locked(user, ids)
        moved = (
            DataTable.update(
                status="active", revision=DataTable.revision + 1, updated_at=SQL("now()")
            )
            .where(DataTable.id.in_(ids), DataTable.status == "draft")
            .execute()
        )
        if moved != len(ids):
            raise Conflict("Someone changed a table's status meanwhile; reload to see it.")
        count = len(ids)
        names = listed(t.table_name for t in tables)
        log.add("table.status", f"activated {count} table{'s' if count != 1 else ''}: {names}")


def preview(user, project_id, table_ids=None, all_drafts=False, start=0):
    """(tables, pending.Pending): what activating the chosen Draft tables would run, for
    review, a page of tables from `start`."""
    granted = access(user, project_id, "editor")
    refuse_branch(granted.project)
    tables = chosen_drafts(granted.project.id, table_ids, all_drafts)
    refuse_incomplete(tables)
    return tables, pending.viewed(granted.project, start, [str(t.id) for t in tables])


def planned(user, project_id, table_ids=None, all_drafts=False):
    """The whole plan of activating the chosen Draft tables (what a confirmed one runs)."""
    granted = access(user, project_id, "editor")
    refuse_branch(granted.project)
    tables = chosen_drafts(granted.project.id, table_ids, all_drafts)
    ids = [str(t.id) for t in tables]
    return Plan(granted.project, ids, also=set(ids))


def activate(user, project_id, table_ids=None, all_drafts=False, dry_run=False, confirm=False):
    """Activate the chosen Draft tables (or all of them) together: an Activation.

    A dry run moves nothing. A failed deploy leaves every status as it was and raises
    Conflict with the statement and PostgreSQL's message."""
    granted = access(user, project_id, "editor")
    refuse_branch(granted.project)
    tables = chosen_drafts(granted.project.id, table_ids, all_drafts)
    refuse_incomplete(tables)
    ids = [str(t.id) for t in tables]

    def move():
        move_to_active(user, granted.project.id, tables)

    deployment = deploy.deploy(
        user, granted.project.id, ids, dry_run, confirm,
        before=None if dry_run else move, also=set(ids),
    )  # fmt: skip
    if deployment is not None and deployment.status == "failed":
        raise Conflict(
            f"Activating {len(ids)} tables failed; nothing was changed.\n{deployment.error}",
            deployment_id=str(deployment.id),
        )
    # As they are now (Active, or still Draft after a dry run).
    read = DataTable.select(DataTable.id, DataTable.name, DataTable.table_name, DataTable.status)
    return Activation(
        list(read.where(DataTable.id.in_(ids)).order_by(DataTable.table_name)), deployment, dry_run
    )


def draft_count(project_id):
    return (
        DataTable.select()
        .where(DataTable.project == project_id, DataTable.status == "draft")
        .count()
    )
