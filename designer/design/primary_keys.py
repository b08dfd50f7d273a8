"""Choosing a table's primary key: the designer's `id`, or columns of the table in order.

The choice is kept in the table's "structure" (designer.design.keys reads it). The key's
columns become required (PostgreSQL makes them NOT NULL). A relationship that points at the
table's key keeps working only if its columns are still a key: otherwise the change is
refused, naming the relationship. Choosing "the designer's id" again brings back the system
`id` column when it was removed.
"""

from designer.activity import recording
from designer.db import parse_id
from designer.design import partitions
from designer.design.dependents import using_table
from designer.design.field_types import SYSTEM_FIELD
from designer.design.keys import MAX_KEY_COLUMNS
from designer.design.keys import referenced_key
from designer.design.table_structure import table_entry
from designer.design.tables import check_writable
from designer.design.tables import is_deployed
from designer.design.tables import ordered_fields
from designer.design.tables import refresh_definition
from designer.design.tables import store_structure
from designer.design.tables import structure_of
from designer.design.tables import table_access
from designer.errors import Conflict
from designer.errors import ValidationFailed
from designer.models import DataField

DESIGNERS_ID = "designer_id"


def fail(message):
    raise ValidationFailed(message, {"primary_key": message})


def chosen_fields(table, field_ids):
    """The table's fields named by `field_ids`, in that order (each once)."""
    if not isinstance(field_ids, list | tuple) or len(field_ids) > MAX_KEY_COLUMNS:
        fail(f"Choose up to {MAX_KEY_COLUMNS} columns of {table.name}.")
    fields = {f.id: f for f in ordered_fields(table.id)}
    chosen = []
    for raw in field_ids:
        field = fields.get(parse_id(raw, "field"))
        if field is None:
            fail(f"Choose columns of {table.name}.")
        if field in chosen:
            fail(f"{field.name} is chosen twice.")
        chosen.append(field)
    return chosen


def key_entry(fields):
    """{field id: {"field_config": ...}} of the fields, as designer.design.keys reads them."""
    return {str(f.id): {"field_config": f.field_config} for f in fields}


def refuse_broken_relationships(table, fields, structure):
    """Relationships pointing at this table must still point at one of its keys."""
    entry = {"fields": key_entry(fields), "structure": structure}
    if "primary_key" not in structure and not any(f.field_config.get("system") for f in fields):
        entry["fields"]["the system id to come"] = {"field_config": SYSTEM_FIELD["field_config"]}
    for rel in using_table(table.id):
        if rel.source_table_id != table.id:
            continue
        pairs = rel.field_pairs or [[str(rel.source_field_id), str(rel.target_field_id)]]
        if referenced_key(entry, [key for key, _ in pairs]) is None:
            raise Conflict(
                f"{rel.relationship_name} points at the current key of {table.name}: "
                "change or remove it first, or make its columns unique."
            )


def set_primary_key(user, table_id, field_ids, lock_token=None):
    """Make `field_ids` (in order) the table's primary key; DESIGNERS_ID (or None) for the
    designer's `id`, [] for no primary key at all. Returns the key as field ids."""
    _, table = table_access(user, table_id, "editor")
    designers = field_ids in (None, DESIGNERS_ID)
    chosen = [] if designers else chosen_fields(table, field_ids)
    structure = dict(structure_of(table.id))
    if designers:
        structure.pop("primary_key", None)
    else:
        structure["primary_key"] = [str(f.id) for f in chosen]
    refuse_broken_relationships(table, ordered_fields(table.id), structure)
    for _, _, message in partitions.unique_problems(table_entry(table, structure)):
        fail(message)
    with recording(table.project_id, user) as log:
        check_writable(user, table, lock_token, breaking=is_deployed(table))
        fields = ordered_fields(table.id)
        if designers and not any(f.field_config.get("system") for f in fields):
            taken = {f.field_name for f in fields}
            if "id" in taken:
                fail(f"{table.name} has a column named id already: rename it first.")
            DataField.create(data_table=table, **SYSTEM_FIELD)
        for field in chosen:
            if not field.is_required:
                DataField.update(is_required=True).where(DataField.id == field.id).execute()
        store_structure(table.id, structure)
        refresh_definition(table)
        words = (
            "the designer's id"
            if designers
            else ", ".join(f.field_name for f in chosen) or "no primary key"
        )
        log.add("table.key_changed", f"made {words} the primary key of {table.name}", table.id)
    return structure.get("primary_key")
