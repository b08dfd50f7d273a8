"""Many-to-many: a junction table holding one foreign key to each side."""

from peewee import IntegrityError

from designer.activity import recording
from designer.db import database
from designer.design.naming import MAX_IDENTIFIER_BYTES
from designer.design.naming import identifier_problem
from designer.design.relationships import add_one_to_many
from designer.design.relationships import project_table
from designer.design.tables import MAX_NAME
from designer.design.tables import SYSTEM_FIELD
from designer.design.tables import refresh_definition
from designer.errors import ValidationFailed
from designer.models import DataField
from designer.models import DataTable
from designer.projects import serialize_changes


def junction_name(left, right, wanted):
    name = (wanted or "").strip() or f"{left.table_name}_{right.table_name}"[:MAX_IDENTIFIER_BYTES]
    problem = identifier_problem(name, "table")
    if problem:
        raise ValidationFailed(problem, {"junction_table_name": problem})
    return name


def pair_keys(first_id, second_id):
    """A row links two rows: both keys are required, and each pair appears once (the
    second key is unique together with the first)."""
    second = DataField.get_by_id(second_id)
    config = {**second.field_config, "unique_with": [str(first_id)]}
    DataField.update(field_config=config).where(DataField.id == second_id).execute()
    DataField.update(is_required=True, revision=DataField.revision + 1).where(
        DataField.id.in_([first_id, second_id])
    ).execute()


# A required key cannot be set to null or to a default it does not have.
KEPT_ACTIONS = ("cascade", "restrict", "no_action")


def create_junction(user, granted, data):
    """Create `<left>_<right>` with a relationship from each side; returns the first."""
    project_id = granted.project.id
    left = project_table(project_id, data.get("source_table_id"), "source")
    right = project_table(project_id, data.get("target_table_id"), "target")
    if left.id == right.id:
        message = "A many-to-many link needs two different tables."
        raise ValidationFailed(message, {"target_table_id": message})
    name = junction_name(left, right, data.get("junction_table_name"))
    cascade = {"on_delete": data.get("on_delete") or "cascade", "on_update": "no_action"}
    if cascade["on_delete"] not in KEPT_ACTIONS:
        message = "A junction's keys are required: choose cascade, restrict or no action."
        raise ValidationFailed(message, {"on_delete": message})
    with recording(project_id, user) as log:
        serialize_changes(project_id)
        try:
            with database.atomic():
                junction = DataTable.create(
                    project=project_id, table_name=name,
                    name=f"{left.name} {right.name}"[:MAX_NAME],
                    description=f"Links {left.name} and {right.name} (many-to-many).",
                    created_by=user,
                )  # fmt: skip
        except IntegrityError as exc:
            message = "A table with this name already exists; choose another junction name."
            raise ValidationFailed(message, {"junction_table_name": message}) from exc
        DataField.create(data_table=junction, **SYSTEM_FIELD)
        links = [
            add_one_to_many(
                user,
                project_id,
                {
                    "source_table_id": side.id,
                    "target_table_id": junction.id,
                    "cascade_config": cascade,
                },
            )  # fmt: skip
            for side in (left, right)
        ]
        pair_keys(*(rel.target_field_id for rel in links))
        refresh_definition(junction)
        log.add("table.created", f"created junction table {junction.name} ({name})", junction.id)
        for rel in links:
            log.add("relationship.created", f"linked {rel.relationship_name}", rel.id)
    return links[0]
