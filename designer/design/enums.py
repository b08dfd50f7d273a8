"""A project's enum types: create, rename, add and rename labels, delete when unused.

Labels are only ever added or renamed in place, never removed or reordered: a deployed
enum is evolved with ALTER TYPE ... ADD VALUE / RENAME VALUE, and PostgreSQL has no way to
take a label out (designer.database.enum_changes). An enum a field uses cannot be deleted.
"""

from peewee import IntegrityError

from designer.activity import recording
from designer.db import database
from designer.db import parse_id
from designer.db import update_at_revision
from designer.design.column_types import enum_types
from designer.design.enum_rules import enum_problems
from designer.design.enum_rules import paired
from designer.design.field_types import display_type
from designer.design.field_types import pg_type
from designer.errors import Conflict
from designer.errors import NotFound
from designer.errors import ValidationFailed
from designer.models import DataField
from designer.models import DataTable
from designer.models import ProjectEnum
from designer.projects import access
from designer.projects import serialize_changes


def entry(enum):
    return {"id": str(enum.id), "name": enum.name, "labels": list(enum.labels)}


def project_enums(project_id):
    """{id: {"id", "name", "labels"}} of a project's enums, as a snapshot holds them."""
    rows = ProjectEnum.select().where(ProjectEnum.project == project_id).order_by(ProjectEnum.name)
    return {str(e.id): entry(e) for e in rows}


def enum_access(user, enum_id, need="viewer"):
    enum = ProjectEnum.get_or_none(ProjectEnum.id == parse_id(enum_id, "enum"))
    if enum is None:
        raise NotFound("No such enum.")
    granted = access(user, enum.project_id, need)
    return granted, enum


def cleaned(name, labels):
    name = name.strip() if isinstance(name, str) else name
    if isinstance(labels, str):
        labels = [line.strip() for line in labels.splitlines() if line.strip()]
    problems = enum_problems(name, labels)
    if problems:
        raise ValidationFailed("Please correct the marked fields.", problems)
    return name, labels


def taken(exc):
    if "project_enum_project_id_name" in str(exc):
        return ValidationFailed("Please correct the marked fields.", {"name": "Already taken."})
    raise exc


def refuse_table_name(project_id, name):
    """A table's row type has the table's name: an enum cannot take it."""
    if (
        DataTable.select()
        .where(DataTable.project == project_id, DataTable.table_name == name)
        .exists()
    ):
        raise ValidationFailed(
            "Please correct the marked fields.", {"name": "A table has this name."}
        )


def create_enum(user, project_id, name, labels):
    granted = access(user, project_id, "editor")
    name, labels = cleaned(name, labels)
    with recording(granted.project.id, user) as log:
        serialize_changes(granted.project.id)
        refuse_table_name(granted.project.id, name)
        try:
            with database.atomic():
                enum = ProjectEnum.create(project=granted.project, name=name, labels=labels)
        except IntegrityError as exc:
            raise taken(exc) from exc
        log.add("enum.created", f"created enum {name} ({', '.join(labels)})", None)
    return enum


def kept_labels_problem(before, after):
    """Why `after` cannot follow `before` (labels only added or renamed in place), or None."""
    try:
        paired(before, after)
    except ValidationFailed as exc:
        return exc.fields.get("labels", exc.message)
    return None


def update_enum(user, enum_id, revision, name=None, labels=None):
    """Rename the enum, or change its labels (add, rename in place) at a known revision."""
    granted, enum = enum_access(user, enum_id, "editor")
    name, labels = cleaned(
        enum.name if name is None else name, list(enum.labels) if labels is None else labels
    )
    problem = kept_labels_problem(list(enum.labels), labels)
    if problem:
        raise ValidationFailed("Please correct the marked fields.", {"labels": problem})
    with recording(granted.project.id, user) as log:
        serialize_changes(granted.project.id)
        if name != enum.name:
            refuse_table_name(granted.project.id, name)
        try:
            with database.atomic():
                updated = update_at_revision(
                    ProjectEnum, enum.id, revision, name=name, labels=labels
                )
        except IntegrityError as exc:
            raise taken(exc) from exc
        log.add("enum.updated", f"changed enum {name} ({', '.join(labels)})", None)
    return updated


def delete_enum(user, enum_id):
    granted, enum = enum_access(user, enum_id, "editor")
    with recording(granted.project.id, user) as log:
        serialize_changes(granted.project.id)
        users = (
            DataField.select(DataField.field_name, DataTable.table_name)
            .join(DataTable)
            .where(DataTable.project == granted.project.id)
            .where(DataField.field_config["enum_id"] == str(enum.id))
        )
        used = [f"{f.data_table.table_name}.{f.field_name}" for f in users]
        if used:
            raise Conflict(f"Enum {enum.name} is used by {', '.join(used[:5])}: change them first.")
        ProjectEnum.delete().where(ProjectEnum.id == enum.id).execute()
        log.add("enum.deleted", f"deleted enum {enum.name}", None)


def sync_enums(project_id, wanted):
    """Make the project's enums exactly `wanted` (a snapshot's), keeping ids (a restore)."""
    current = project_enums(project_id)
    gone = [enum_id for enum_id in current if enum_id not in wanted]
    if gone:
        ProjectEnum.delete().where(ProjectEnum.id.in_(gone)).execute()
    # Names may swap: park the kept ones first.
    for enum_id, enum in wanted.items():
        if enum_id in current and current[enum_id] != enum:
            ProjectEnum.update(name=f"e_{enum_id.replace('-', '')}"[:63]).where(
                ProjectEnum.id == enum_id
            ).execute()
    for enum_id, enum in wanted.items():
        values = {"name": enum["name"], "labels": list(enum["labels"])}
        if enum_id not in current:
            ProjectEnum.create(id=enum_id, project=project_id, **values)
        elif current[enum_id] != enum:
            ProjectEnum.update(revision=ProjectEnum.revision + 1, **values).where(
                ProjectEnum.id == enum_id
            ).execute()


def choices(project_id):
    """(id, name) of the project's enums, for a field form's enum picker."""
    rows = ProjectEnum.select(ProjectEnum.id, ProjectEnum.name)
    rows = rows.where(ProjectEnum.project == project_id).order_by(ProjectEnum.name)
    return [(str(e.id), e.name) for e in rows]


def shown_type(data_type, config):
    """A field's type for a page: pg_type, an enum by its name (read only for enum fields)."""
    if isinstance(config, dict) and config.get("text_type") == "enum":
        try:
            enum = ProjectEnum.get_or_none(ProjectEnum.id == parse_id(config.get("enum_id")))
        except NotFound:
            enum = None
        if enum is not None:
            with enum_types({str(enum.id): {"name": enum.name}}):
                return display_type(data_type, config)
    return pg_type(data_type, config)
