"""Importing a design: preview a file, then write it into a project in one transaction.

The preview and the import read the same text the same way (the import reads
it again, so nothing is kept between the two requests). Writing is three bulk
INSERTs (tables, fields, relationships) checked by the same rules as typed
changes, then a version: an import into an existing project first saves
unsaved work, so the import is one version of its own.
"""

import json
import types

from peewee import IntegrityError

from designer import projects
from designer.activity import recording
from designer.database import takeover
from designer.db import database
from designer.design.fields import regex_problem
from designer.design.snapshot_rules import check_snapshot
from designer.design.tables import definition_of
from designer.errors import Conflict
from designer.errors import ValidationFailed
from designer.history import versions
from designer.interchange import import_limits
from designer.interchange.import_dbml import read_dbml
from designer.interchange.import_json import plan_json
from designer.interchange.import_plan import plan_import
from designer.interchange.import_sql import read_sql
from designer.models import DataTable
from designer.models import TableRelationship

FORMATS = ("sql", "json", "dbml")
READERS = {"sql": read_sql, "dbml": read_dbml}


def taken_names(project_id):
    """(table names, display names, relationship names) the project already uses."""
    if project_id is None:
        return set(), set(), set()
    rows = DataTable.select(DataTable.table_name, DataTable.name).where(
        DataTable.project == project_id
    )
    tables = list(rows.tuples())
    rels = TableRelationship.select(TableRelationship.relationship_name).where(
        TableRelationship.project == project_id
    )
    return {t[0] for t in tables}, {t[1] for t in tables}, {r for (r,) in rels.tuples()}


def ids_in_use(ids):
    """Whether any of these ids already names a table, field or relationship on this server,
    whoever's (a definer function: row-level security hides other people's rows)."""
    return database.execute_sql("SELECT rls_ids_in_use(%s::uuid[])", (list(ids),)).fetchone()[0]


def plan_text(fmt, text, project_id=None, status="draft"):
    """The ImportPlan of a file's text in `fmt`, against the project's taken names.

    The caps of designer.interchange.import_limits are checked before the text is parsed.
    """
    if fmt not in FORMATS:
        message = f"Choose one of: {', '.join(FORMATS)}."
        raise ValidationFailed(message, {"format": message})
    if not text or not text.strip():
        raise ValidationFailed("The file is empty.", {"file": "Choose a file that holds a schema."})
    import_limits.refuse_too_large(fmt, len(import_limits.encoded(text)))
    deadline = import_limits.Deadline()
    tables, names, rels = taken_names(project_id)
    # What is read all stays alive until the plan is made: the collector would walk it
    # again and again and free nothing (a third of a 3,000-table preview's time).
    with versions.paused_gc():
        if fmt == "json":
            return plan_json(
                text, tables, names, rels, ids_in_use=ids_in_use, regex_problem=regex_problem
            )
        source = READERS[fmt](text, deadline)
        deadline.check()
        plan = plan_import(
            source, taken_tables=tables, taken_names=names, taken_relationships=rels,
            regex_problem=regex_problem, status=status,
        )  # fmt: skip
        plan.source_format = fmt
        check_snapshot(plan.snapshot, "file", regex_problem=regex_problem)
    return plan


def preview(user, project_id, fmt, text):
    """What importing `text` into the project (None: a new project) would do."""
    if project_id is not None:
        project_id = projects.access(user, project_id, "editor").project.id
    return plan_text(fmt, text, project_id)


def import_new_project(user, name, fmt, text, description=""):
    """A new project holding the imported design: (project, plan, version)."""
    with versions.paused_gc():
        plan = plan_text(fmt, text)
        with database.atomic():
            project = projects.create_project(user, name, description)
            # The new project holds exactly the plan: its snapshot need not be read back.
            version = write(user, project.id, plan, f"Imported from {fmt.upper()}", plan.snapshot)
    return project, plan, version


def preview_schema_project(user, schema, text):
    """The preview of a new project made from a deploy target's schema (adopted if exact)."""
    plan = plan_text("sql", text)
    takeover.adoptable(schema, plan)
    return plan


def import_schema_project(user, name, schema, text, description=""):
    """A new project from a deploy target's schema: (project, plan, version). When the
    schema is exactly the design, the project takes it over: Active, deployed tables."""
    with versions.paused_gc():
        plan = plan_text("sql", text)
        adopted = takeover.adoptable(schema, plan)
        with database.atomic():
            project = projects.create_project(user, name, description)
            version = write(user, project.id, plan, f"Imported schema {schema}", plan.snapshot)
            if adopted:
                takeover.record_adoption(user, project, schema, plan.snapshot, version)
    return project, plan, version


def import_into(user, project_id, fmt, text, label=None):
    """The imported design added to an existing project, saved as a new version."""
    granted = projects.access(user, project_id, "editor")
    with versions.paused_gc(), database.atomic():
        projects.serialize_changes(granted.project.id)
        plan = plan_text(fmt, text, granted.project.id)
        if versions.changes_since(granted.project.id, versions.latest(granted.project.id)):
            versions.save_version(user, granted.project.id, "Before import", automatic=True)
        version = write(user, granted.project.id, plan, label or f"Imported from {fmt.upper()}")
    return plan, version


def write(user, project_id, plan, message, current=None):
    """Insert the plan's tables, fields and relationships, record it, save a version."""
    snapshot = plan.snapshot
    if not snapshot["tables"]:
        raise ValidationFailed("The file creates no table.", {"file": "No table to import."})
    # Whatever the format, nothing is stored that the rules of a stored design refuse.
    check_snapshot(snapshot, "file", regex_problem=regex_problem)
    with recording(project_id, user) as log:
        try:
            with database.atomic():
                insert_design(user, project_id, snapshot)
        except IntegrityError as exc:
            raise Conflict(
                f"The project changed during the import; preview it again. ({exc})"
            ) from exc
        counts = plan.summary()
        log.add(
            "project.imported",
            f"imported {counts['tables']} tables, {counts['fields']} fields and "
            f"{counts['relationships']} relationships from {plan.source_format.upper()}",
        )
    return versions.save_version(user, project_id, message, current=current)


def definition(table):
    """schema_definition of a planned table (what designer.design.tables keeps there)."""
    holder = types.SimpleNamespace(table_name=table["table_name"])
    fields = sorted(table["fields"].values(), key=lambda f: (f["sort_order"], f["id"]))
    columns = definition_of(holder, [types.SimpleNamespace(**f) for f in fields])
    return {**columns, "structure": table["structure"]} if table.get("structure") else columns


# Each bulk INSERT reads its rows from one JSON parameter: PostgreSQL expands it far
# faster than peewee renders ten thousand rows of VALUES (4 s of a 1,000-table import).
BULK_COLUMNS = {
    "data_table": "id uuid, project_id uuid, name text, table_name text, description text,"
    " status text, created_by_id uuid, schema_definition jsonb",
    "data_field": "id uuid, table_id uuid, name text, field_name text, data_type text,"
    " is_required boolean, default_value text, field_config jsonb, sort_order integer",
    "project_enum": "id uuid, project_id uuid, name text, labels jsonb",
    "table_relationship": "id uuid, project_id uuid, relationship_name text,"
    " relationship_type text, source_table_id uuid, source_field_id uuid, target_table_id uuid,"
    " target_field_id uuid, cascade_config jsonb, status text, created_by_id uuid,"
    " field_pairs jsonb",
}


def bulk_insert(table, rows):
    if not rows:
        return
    typed = BULK_COLUMNS[table]
    columns = ", ".join(part.split()[0] for part in typed.split(","))
    database.execute_sql(
        f"INSERT INTO {table} ({columns}) SELECT {columns}"
        f" FROM jsonb_to_recordset(%s::jsonb) AS r({typed})",
        (json.dumps(rows),),
    )


def insert_design(user, project_id, snapshot):
    """The snapshot's tables, fields and relationships inserted in three statements."""
    project_id, user_id = str(project_id), str(user.id)
    tables = [
        {
            "id": t["id"], "project_id": project_id, "name": t["name"],
            "table_name": t["table_name"], "description": t["description"],
            "status": t["status"], "created_by_id": user_id, "schema_definition": definition(t),
        }
        for t in snapshot["tables"].values()
    ]  # fmt: skip
    fields = [
        {"table_id": t["id"], **f}
        for t in snapshot["tables"].values()
        for f in t["fields"].values()
    ]
    rels = [
        {**r, "project_id": project_id, "created_by_id": user_id, "field_pairs": r.get("pairs", [])}
        for r in snapshot["relationships"].values()
    ]
    enums = [{**e, "project_id": project_id} for e in snapshot.get("enums", {}).values()]
    bulk_insert("project_enum", enums)
    bulk_insert("data_table", tables)
    bulk_insert("data_field", fields)
    bulk_insert("table_relationship", rels)
