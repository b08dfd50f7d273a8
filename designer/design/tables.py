"""A project's tables: access, creation, editing and the lifecycle."""

import json
from types import SimpleNamespace

from peewee import SQL
from peewee import IntegrityError

from designer import locks
from designer.activity import recording
from designer.db import database
from designer.db import parse_id
from designer.db import update_at_revision
from designer.design.dependents import bring_back
from designer.design.dependents import named
from designer.design.dependents import release_dependents
from designer.design.dependents import set_aside
from designer.design.dependents import using_table
from designer.design.field_types import SYSTEM_FIELD
from designer.design.field_types import pg_type
from designer.design.naming import identifier_problem
from designer.design.naming import suggest_identifier
from designer.design.partitions import partition_of
from designer.errors import Conflict
from designer.errors import NotFound
from designer.errors import ValidationFailed
from designer.models import DataField
from designer.models import DataTable
from designer.models import Project
from designer.models import ProjectMember
from designer.projects import access
from designer.projects import checked_description
from designer.projects import grant

# The spec's transitions: Draft → Active → Deprecated → Deleted, and any → Draft.
LIFECYCLE = {
    "draft": ("active",),
    "active": ("deprecated", "draft"),
    "deprecated": ("deleted", "draft"),
    "deleted": ("draft",),
}
BREAKING_STATUSES = ("deprecated", "deleted")
MAX_NAME = 200


def table_access(user, table_id, need="viewer"):
    """(Access, table) for a member of the table's project; 404 for anyone else."""
    row = (
        DataTable.select(DataTable, Project, ProjectMember.role)
        .join(Project)
        .join(
            ProjectMember,
            on=(ProjectMember.project == Project.id) & (ProjectMember.user == user.id),
            attr="membership",
        )
        .where(DataTable.id == parse_id(table_id, "table"))
        .first()
    )
    if row is None:
        raise NotFound("No such table.")
    return grant(row.project, row.project.membership.role, need), row


def refuse_if_deleted(table):
    if table.status == "deleted":
        raise Conflict("This table is deleted. Restore it to Draft to change it.")


def check_can_edit(user, table):
    """Before opening an edit form: the table is not deleted nor locked by someone else."""
    refuse_if_deleted(table)
    locks.refuse_others(table.id, user)


def is_deployed(table):
    """Whether the deploy target holds this table (breaking-change locks concern only those)."""
    return table.deployed_at is not None


def check_writable(user, table, lock_token=None, breaking=False):
    """A loaded table may be changed now: not deleted, and its lock allows this user.

    Call it inside the write's transaction: it holds the table's row until the
    write commits, so no lock can be taken between this check and the write.
    """
    refuse_if_deleted(table)
    locks.require_write(table.id, user, lock_token, critical=breaking)


def clean_table_input(name, table_name=None, description=None):
    name = (name or "").strip()
    problems = {}
    if not name:
        problems["name"] = "Enter a table name."
    elif len(name) > MAX_NAME:
        problems["name"] = f"Use at most {MAX_NAME} characters."
    table_name = (table_name or "").strip() or suggest_identifier(name, "table")
    problem = identifier_problem(table_name, "table")
    if problem:
        problems["table_name"] = problem
    if problems:
        raise ValidationFailed("Please correct the marked fields.", problems)
    values = {"name": name, "table_name": table_name}
    if description is not None:
        values["description"] = checked_description(description)
    return values


def taken_problem(exc):
    """The field error for a uniqueness violation on data_table."""
    if "table_name" in str(exc):
        return {"table_name": "Another table in this project already has this table name."}
    return {"name": "Another table in this project already has this name."}


def create_table(user, project_id, name, table_name=None, description=""):
    """A new Draft table with its system id column."""
    granted = access(user, project_id, "editor")
    values = clean_table_input(name, table_name, description)
    with recording(granted.project.id, user) as log:
        try:
            with database.atomic():
                table = DataTable.create(project=granted.project, created_by=user, **values)
        except IntegrityError as exc:
            raise ValidationFailed("Please correct the marked fields.", taken_problem(exc)) from exc
        DataField.create(data_table=table, **SYSTEM_FIELD)
        refresh_definition(table)
        log.add("table.created", f"created table {table.name} ({table.table_name})", table.id)
    return table


def update_table(user, table_id, revision, lock_token=None, **fields):
    """Change name, table_name or description at a known revision."""
    _, table = table_access(user, table_id, "editor")
    values = clean_table_input(
        fields.get("name", table.name),
        fields.get("table_name", table.table_name),
        fields.get("description"),
    )
    with recording(table.project_id, user) as log:
        check_writable(user, table, lock_token)
        try:
            with database.atomic():
                updated = update_at_revision(DataTable, table.id, revision, **values)
        except IntegrityError as exc:
            raise ValidationFailed("Please correct the marked fields.", taken_problem(exc)) from exc
        if updated.table_name != table.table_name:
            refresh_definition(updated)
        log.add("table.updated", describe_table_change(table, updated), table.id)
    return updated


def describe_table_change(before, after):
    parts = []
    if before.name != after.name:
        parts.append(f"renamed table {before.name} to {after.name}")
    if before.table_name != after.table_name:
        parts.append(f"changed {before.table_name} to table name {after.table_name}")
    if before.description != after.description:
        parts.append(f"edited the description of {after.name}")
    return "; ".join(parts) or f"saved table {after.name} unchanged"


def parent_of_row(table):
    """The id of the table a row is a partition of, or None (rows read for activation carry
    just their partition_of)."""
    if "partition_of" in table.__data__ or hasattr(table, "partition_of"):
        found = getattr(table, "partition_of", None)
    else:
        structure = (table.schema_definition or {}).get("structure")
        found = partition_of({"structure": structure}) if isinstance(structure, dict) else None
    return found.get("table_id") if isinstance(found, dict) else None


def is_partition(table):
    return parent_of_row(table) is not None


def activation_problems(table, fields=None, activating=()):
    """Why a table cannot become Active now (empty when it can); `fields` when already read;
    `activating`: the ids of the tables activated with it."""
    problems = []
    if identifier_problem(table.table_name, "table"):
        problems.append(f"Table name: {identifier_problem(table.table_name, 'table')}")
    fields = [
        f for f in (table.fields if fields is None else fields) if not f.field_config.get("system")
    ]
    parent_id = parent_of_row(table)
    # A partition's columns are its parent's: it has none of its own.
    if not fields and parent_id is None:
        problems.append("Add at least one field besides id.")
    if parent_id is not None and parent_id not in {str(t) for t in activating}:
        parent = DataTable.get_or_none(DataTable.id == parent_id)
        if parent is not None and parent.status not in ("active", "deprecated"):
            problems.append(f"Activate its parent {parent.table_name} first, or with it.")
    for field in fields:
        problem = identifier_problem(field.field_name, "field")
        if problem:
            problems.append(f"{field.name}: {problem}")
    return problems


def refuse_transition(table, status):
    """Refuse a move the lifecycle does not allow, or activating an incomplete table."""
    allowed = LIFECYCLE[table.status]
    if status not in allowed:
        names = " or ".join(allowed)
        raise Conflict(f"A {table.status} table can only become {names}, not {status}.")
    if status == "active":
        problems = activation_problems(table)
        if problems:
            raise ValidationFailed(" ".join(problems), {"status": "; ".join(problems)})


def transition(user, table_id, status, confirm=False, lock_token=None):
    """Move a table along the lifecycle; any other move is refused."""
    granted, table = table_access(user, table_id, "editor")
    refuse_transition(table, status)
    breaking = status in BREAKING_STATUSES
    with recording(table.project_id, user) as log:
        locks.require_write(table.id, user, lock_token, critical=breaking)
        if breaking and not confirm:
            used = using_table(table.id) if status == "deleted" else []
            also = (
                f" It is used by {named(used)}, which would be set aside until the table is"
                " restored."
                if used
                else ""
            )
            raise Conflict(
                f"Making a table {status} needs an explicit confirmation.{also}", confirm=True
            )
        if status == "deleted":
            # Its relationships leave with it, and come back when it is restored.
            set_aside(using_table(table.id))
        moved = (
            DataTable.update(
                status=status, revision=DataTable.revision + 1, updated_at=SQL("now()")
            )
            .where(DataTable.id == table.id, DataTable.status == table.status)
            .execute()
        )
        if not moved:
            raise Conflict("Someone changed this table's status meanwhile; reload to see it.")
        summary = f"moved table {table.name} from {table.status} to {status}"
        if table.status == "deleted":
            back, _ = bring_back(table)
            if back:
                summary += f", bringing back relationships {named(back)}"
        log.add("table.status", summary, table.id)
    return DataTable.get_by_id(table.id)


def delete_table(user, table_id, lock_token=None, with_relationships=False):
    """Discard a Draft table (never deployed); deployed ones go through the lifecycle."""
    _, table = table_access(user, table_id, "editor")
    with recording(table.project_id, user) as log:
        check_writable(user, table, lock_token)
        if table.status != "draft" or is_deployed(table):
            raise Conflict(
                "Only Draft tables never deployed can be discarded. Deprecate, then delete, a "
                "table that was deployed; it stays listed under Deleted."
            )
        refuse_with_partitions(table)
        release_dependents(using_table(table.id), with_relationships, f"Table {table.name}")
        log.add("table.deleted", f"discarded draft table {table.name}", table.id)
        table.delete_instance()


def of_parent(table_id):
    """Where a table row is a partition of `table_id`."""
    return SQL("schema_definition #>> '{structure,partition_of,table_id}' = %s", (str(table_id),))


def refuse_with_partitions(table):
    """A partitioned table goes after its partitions (they have no columns without it)."""
    found = DataTable.select(DataTable.table_name).where(
        DataTable.project == table.project_id, of_parent(table.id)
    )
    names = sorted(found.scalars())
    if names:
        raise Conflict(f"Remove its partitions first: {', '.join(names[:5])}.")


def ordered_fields(table_id):
    return list(
        DataField.select()
        .where(DataField.data_table == table_id)
        .order_by(DataField.sort_order, DataField.created_at)
    )


def definition_of(table, fields):
    """The table's schema_definition: its columns as PostgreSQL will see them."""
    return {
        "table_name": table.table_name,
        "columns": [
            {
                "id": str(field.id),
                "field_name": field.field_name,
                "data_type": field.data_type,
                "pg_type": pg_type(field.data_type, field.field_config),
                "nullable": not field.is_required,
                "default": field.default_value,
                "primary_key": bool(field.field_config.get("primary_key")),
                "unique": bool(field.field_config.get("unique")),
                "indexed": bool(field.field_config.get("indexed")),
            }
            for field in fields
        ],
    }


def refresh_definition(table):
    """Rewrite schema_definition from the fields (in the caller's transaction). Its
    "structure" (the table's chosen key, uniques, checks, indexes, which the snapshot's table
    entry shows under the same key) stays."""
    return refresh_definitions({table.id: table.table_name})[table.id]


# Per row of refresh_definitions: the new definition, and the structure to store with it
# (`keep`: the one stored stays; else the one given, none when it is empty).
REFRESHED = """
UPDATE data_table t SET updated_at = now(), schema_definition = v.definition
  || CASE WHEN v.keep THEN CASE WHEN t.schema_definition ? 'structure'
          THEN jsonb_build_object('structure', t.schema_definition -> 'structure')
          ELSE '{}'::jsonb END
     WHEN v.structure = '{}'::jsonb THEN '{}'::jsonb
     ELSE jsonb_build_object('structure', v.structure) END
FROM unnest(%s::uuid[], %s::jsonb[], %s::jsonb[], %s::boolean[])
  AS v (id, definition, structure, keep)
WHERE t.id = v.id
"""


def refresh_definitions(tables, structures=None):
    """Rewrite many tables' schema_definition from their fields in two statements, the
    tables given as {id: table_name}; `structures` ({id: structure}) replaces the stored
    "structure" of the tables it names, the others keep theirs. The definitions by id."""
    if not tables:
        return {}
    structures = structures or {}
    fields = {str(table_id): [] for table_id in tables}
    query = (
        DataField.select()
        .where(DataField.data_table.in_(list(tables)))
        .order_by(DataField.data_table, DataField.sort_order, DataField.created_at)
    )
    for field in query:
        fields[str(field.table_id)].append(field)
    definitions = {
        table_id: definition_of(SimpleNamespace(table_name=name), fields[str(table_id)])
        for table_id, name in tables.items()
    }
    ids = list(tables)
    database.execute_sql(
        REFRESHED,
        (
            [str(table_id) for table_id in ids],
            [json.dumps(definitions[table_id]) for table_id in ids],
            [json.dumps(structures.get(table_id) or {}) for table_id in ids],
            [table_id not in structures for table_id in ids],
        ),
    )
    return definitions


def structure_of(table_id):
    """The table's stored "structure" object ({} when it has none)."""
    row = DataTable.select(DataTable.schema_definition).where(DataTable.id == table_id).first()
    structure = (row.schema_definition or {}).get("structure") if row else None
    return structure if isinstance(structure, dict) else {}


def store_structure(table_id, structure):
    """Set the table's "structure" (removed when empty), in the caller's transaction."""
    if structure:
        value = SQL(
            "jsonb_set(schema_definition, '{structure}', %s::jsonb)", (json.dumps(structure),)
        )
    else:
        value = SQL("schema_definition - 'structure'")
    DataTable.update(schema_definition=value, updated_at=SQL("now()")).where(
        DataTable.id == table_id
    ).execute()
