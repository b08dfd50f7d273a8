"""Importing a design: preview a file, then write it into a project in one transaction.

The preview and the import read the same text the same way (the import reads
it again, so nothing is kept between the two requests). Writing is three bulk
INSERTs (tables, fields, relationships) checked by the same rules as typed
changes, then a version: an import into an existing project first saves
unsaved work, so the import is one version of its own.
"""

import types

from peewee import IntegrityError

from designer import projects
from designer.activity import recording
from designer.database.import_dbml import read_dbml
from designer.database.import_json import plan_json
from designer.database.import_plan import plan_import
from designer.database.import_sql import read_sql
from designer.db import database
from designer.design.fields import regex_problem
from designer.design.tables import definition_of
from designer.errors import Conflict
from designer.errors import ValidationFailed
from designer.history import versions
from designer.models import DataField
from designer.models import DataTable
from designer.models import TableRelationship

FORMATS = ("sql", "json", "dbml")
READERS = {"sql": read_sql, "dbml": read_dbml}
BATCH = 2000
MAX_SOURCE = 16 * 1024 * 1024


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
    """Whether any of these ids already names a table, field or relationship here."""
    return any(
        model.select().where(model.id.in_(ids)).exists()
        for model in (DataTable, DataField, TableRelationship)
    )


def plan_text(fmt, text, project_id=None, status="draft"):
    """The ImportPlan of a file's text in `fmt`, against the project's taken names."""
    if fmt not in FORMATS:
        message = f"Choose one of: {', '.join(FORMATS)}."
        raise ValidationFailed(message, {"format": message})
    if not text or not text.strip():
        raise ValidationFailed("The file is empty.", {"file": "Choose a file that holds a schema."})
    if len(text) > MAX_SOURCE:
        raise ValidationFailed("The file is too large.", {"file": "At most 16 MB."})
    tables, names, rels = taken_names(project_id)
    if fmt == "json":
        return plan_json(text, tables, names, rels, ids_in_use=ids_in_use)
    plan = plan_import(
        READERS[fmt](text), taken_tables=tables, taken_names=names, taken_relationships=rels,
        regex_problem=regex_problem, status=status,
    )  # fmt: skip
    plan.source_format = fmt
    return plan


def preview(user, project_id, fmt, text):
    """What importing `text` into the project (None: a new project) would do."""
    if project_id is not None:
        project_id = projects.access(user, project_id, "editor").project.id
    return plan_text(fmt, text, project_id)


def import_new_project(user, name, fmt, text, description=""):
    """A new project holding the imported design: (project, plan, version)."""
    plan = plan_text(fmt, text)
    with database.atomic():
        project = projects.create_project(user, name, description)
        version = write(user, project.id, plan, f"Imported from {fmt.upper()}")
    return project, plan, version


def import_into(user, project_id, fmt, text, label=None):
    """The imported design added to an existing project, saved as a new version."""
    granted = projects.access(user, project_id, "editor")
    with database.atomic():
        projects.serialize_changes(granted.project.id)
        plan = plan_text(fmt, text, granted.project.id)
        if versions.changes_since(granted.project.id, versions.latest(granted.project.id)):
            versions.save_version(user, granted.project.id, "Before import")
        version = write(user, granted.project.id, plan, label or f"Imported from {fmt.upper()}")
    return plan, version


def write(user, project_id, plan, message):
    """Insert the plan's tables, fields and relationships, record it, save a version."""
    snapshot = plan.snapshot
    if not snapshot["tables"]:
        raise ValidationFailed("The file creates no table.", {"file": "No table to import."})
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
    return versions.save_version(user, project_id, message)


def definition(table):
    """schema_definition of a planned table (what designer.design.tables keeps there)."""
    holder = types.SimpleNamespace(table_name=table["table_name"])
    fields = sorted(table["fields"].values(), key=lambda f: (f["sort_order"], f["id"]))
    return definition_of(holder, [types.SimpleNamespace(**f) for f in fields])


def insert_design(user, project_id, snapshot):
    tables = [
        {
            "id": t["id"], "project": project_id, "name": t["name"], "table_name": t["table_name"],
            "description": t["description"], "status": t["status"], "created_by": user.id,
            "schema_definition": definition(t),
        }
        for t in snapshot["tables"].values()
    ]  # fmt: skip
    columns = ("id", "name", "field_name", "data_type", "is_required", "default_value",
               "field_config", "sort_order")  # fmt: skip
    fields = [
        {"data_table": t["id"], **{k: f[k] for k in columns}}
        for t in snapshot["tables"].values()
        for f in t["fields"].values()
    ]
    rels = [
        {
            "id": r["id"], "project": project_id, "relationship_name": r["relationship_name"],
            "relationship_type": r["relationship_type"], "source_table": r["source_table_id"],
            "source_field": r["source_field_id"], "target_table": r["target_table_id"],
            "target_field": r["target_field_id"], "cascade_config": r["cascade_config"],
            "status": r["status"], "created_by": user.id,
        }
        for r in snapshot["relationships"].values()
    ]  # fmt: skip
    for model, rows in ((DataTable, tables), (DataField, fields), (TableRelationship, rels)):
        for start in range(0, len(rows), BATCH):
            model.insert_many(rows[start : start + BATCH]).execute()
