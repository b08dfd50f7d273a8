"""The canonical snapshot of a project's schema, and its hash.

A snapshot is plain JSON keyed by the stable ids of tables, fields and
relationships, so the same schema gives the same bytes (and hash) however it
was built, and renames stay renames when two snapshots are compared.
"""

import hashlib
import json

from designer.errors import Conflict
from designer.models import DataField
from designer.models import DataTable
from designer.models import TableRelationship

FORMAT = 1


def field_entry(field):
    return {
        "id": str(field.id),
        "name": field.name,
        "field_name": field.field_name,
        "data_type": field.data_type,
        "is_required": field.is_required,
        "default_value": field.default_value,
        "field_config": field.field_config,
        "sort_order": field.sort_order,
    }


def relationship_entry(rel):
    return {
        "id": str(rel.id),
        "relationship_name": rel.relationship_name,
        "relationship_type": rel.relationship_type,
        "source_table_id": str(rel.source_table_id),
        "source_field_id": str(rel.source_field_id) if rel.source_field_id else None,
        "target_table_id": str(rel.target_table_id),
        "target_field_id": str(rel.target_field_id) if rel.target_field_id else None,
        "cascade_config": rel.cascade_config,
        "status": rel.status,
    }


TABLE_COLUMNS = ("id", "name", "table_name", "description", "status")
FIELD_COLUMNS = (
    "id", "name", "field_name", "data_type", "is_required", "default_value", "field_config",
    "sort_order",
)  # fmt: skip


def read(project_id):
    """One reading of the project's schema (three queries); None when they disagree.

    Rows come as plain tuples of the columns a snapshot holds, ids cast to
    text by PostgreSQL: building a model object per field made a 3,000-table
    snapshot several times slower.
    """
    table_rows = DataTable.select(
        DataTable.id.cast("text"), *(getattr(DataTable, c) for c in TABLE_COLUMNS[1:])
    ).where(DataTable.project == project_id)
    tables = {}
    for row in table_rows.tuples():
        tables[row[0]] = {**dict(zip(TABLE_COLUMNS, row, strict=True)), "fields": {}}
    field_rows = (
        DataField.select(
            DataField.data_table.cast("text"),
            DataField.id.cast("text"),
            *(getattr(DataField, c) for c in FIELD_COLUMNS[1:]),
        )
        .join(DataTable)
        .where(DataTable.project == project_id)
    )
    for table_id, *values in field_rows.tuples():
        if table_id not in tables:
            return None  # a table created after the first query, its fields before the second
        tables[table_id]["fields"][values[0]] = dict(zip(FIELD_COLUMNS, values, strict=True))
    relationships = {
        str(r.id): relationship_entry(r)
        for r in TableRelationship.select().where(TableRelationship.project == project_id)
    }
    ends = {
        end for r in relationships.values() for end in (r["source_table_id"], r["target_table_id"])
    }
    if not ends <= tables.keys():
        return None
    return {"format": FORMAT, "tables": tables, "relationships": relationships}


def build(project_id, attempts=10):
    """The project's schema as a snapshot dict.

    Each query sees the rows committed when it starts (READ COMMITTED), so a
    table created between two of them by another writer (another thread or
    app server) shows up in one and not the other: such a reading is taken
    again, and the next one sees the table whole.
    """
    for _ in range(attempts):
        snapshot = read(project_id)
        if snapshot is not None:
            return snapshot
    raise Conflict("The design kept changing while it was read; try again.")


def canonical_json(snapshot):
    """The one byte string a snapshot stands for: sorted keys, no spaces."""
    return json.dumps(snapshot, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def digest(canonical):
    """The sha256 of a snapshot's canonical JSON."""
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def snapshot_hash(snapshot):
    return digest(canonical_json(snapshot))
