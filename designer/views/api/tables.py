"""JSON API: tables, their lifecycle, fields and field order."""

from flask import g
from flask import jsonify
from flask import request

from designer import api_input
from designer import projects
from designer.database import deploy
from designer.design import fields
from designer.design import primary_keys
from designer.design import structure
from designer.design import table_list
from designer.design import table_partitions
from designer.design import table_structure
from designer.design import tables
from designer.history.snapshot import field_entry
from designer.views.api import bp
from designer.views.api.deployments import deployment_json
from designer.views.api.messages import accepts
from designer.views.api.messages import iso
from designer.views.api.messages import lock_token
from designer.views.api.messages import revision_of


def table_json(table, field_count=None):
    """A table as JSON; listings (with field_count) leave out schema_definition."""
    data = {
        "id": str(table.id),
        "project_id": str(table.project_id),
        "name": table.name,
        "table_name": table.table_name,
        "description": table.description,
        "status": table.status,
        "schema_definition": table.schema_definition,
        # The chosen key's field ids in order ([] for none); null: the designer's `id`.
        "primary_key": (table.schema_definition or {}).get("structure", {}).get("primary_key"),
        "created_by": str(table.created_by_id) if table.created_by_id else None,
        "created_at": iso(table.created_at),
        "updated_at": iso(table.updated_at),
        "revision": table.revision,
    }
    if field_count is not None:
        data["field_count"] = field_count
        del data["schema_definition"]
    return data


def field_json(field):
    """The field as versions store it, plus its table, times and revision."""
    return {
        **field_entry(field),
        "table_id": str(field.table_id),
        "created_at": iso(field.created_at),
        "updated_at": iso(field.updated_at),
        "revision": field.revision,
    }


@bp.get("/projects/<project_id>/tables")
def list_tables(project_id):
    """A page of the project's tables (q, status, after, limit); "next" continues it."""
    granted = projects.access(g.api_user, project_id)
    limit = min(max(request.args.get("limit", 50, type=int), 1), 500)
    rows, after = table_list.list_tables(
        granted.project.id,
        request.args.get("q", ""),
        request.args.get("status", ""),
        request.args.get("after") or None,
        limit,
    )
    return jsonify({"tables": [table_json(t, t.field_count) for t in rows], "next": after})


@bp.post("/projects/<project_id>/tables")
@accepts(api_input.TableCreate)
def create_table(project_id, data):
    """Add a Draft table; table_name defaults to one derived from name."""
    table = tables.create_table(
        g.api_user,
        project_id,
        str(data.get("name", "")),
        str(data.get("table_name") or ""),
        str(data.get("description", "")),
    )
    return jsonify(table_json(table)), 201


@bp.get("/tables/<table_id>")
def get_table(table_id):
    """One table with its fields."""
    _, table = tables.table_access(g.api_user, table_id)
    data = table_json(table)
    data["fields"] = [field_json(f) for f in tables.ordered_fields(table.id)]
    return jsonify(data)


@bp.patch("/tables/<table_id>")
@accepts(api_input.TableChange)
def patch_table(table_id, data):
    """Change name, table_name or description at a known revision."""
    changes = {k: str(data[k]) for k in ("name", "table_name", "description") if k in data}
    table = tables.update_table(g.api_user, table_id, revision_of(data), lock_token(), **changes)
    return jsonify(table_json(table))


@bp.delete("/tables/<table_id>")
def delete_table(table_id):
    """Discard a Draft table (needs the caller's critical lock)."""
    tables.delete_table(g.api_user, table_id, lock_token())
    return "", 204


@bp.post("/tables/<table_id>/transition")
@accepts(api_input.Transition)
def transition(table_id, data):
    """Move along the lifecycle: {"status", "confirm", "dry_run"}; becoming Active deploys."""
    table, deployment = deploy.transition(
        g.api_user, table_id, str(data.get("status", "")), data.get("confirm") is True,
        lock_token(), dry_run=data.get("dry_run") is True,
    )  # fmt: skip
    result = table_json(table)
    result["deployment"] = deployment_json(deployment) if deployment else None
    return jsonify(result)


@bp.get("/tables/<table_id>/fields")
def list_fields(table_id):
    """The table's fields in order."""
    _, table = tables.table_access(g.api_user, table_id)
    return jsonify([field_json(f) for f in tables.ordered_fields(table.id)])


@bp.post("/tables/<table_id>/fields")
@accepts(api_input.FieldInput)
def create_field(table_id, data):
    """Add a field; field_name defaults to one derived from name."""
    field = fields.create_field(g.api_user, table_id, data, lock_token())
    return jsonify(field_json(field)), 201


@bp.get("/fields/<field_id>")
def get_field(field_id):
    """One field."""
    _, field, _ = fields.field_access(g.api_user, field_id)
    return jsonify(field_json(field))


@bp.patch("/fields/<field_id>")
@accepts(api_input.FieldInput)
def patch_field(field_id, data):
    """Change a field at a known revision (a type change needs a critical lock)."""
    field = fields.update_field(
        g.api_user, field_id, revision_of(data), data, lock_token(), partial=True
    )
    return jsonify(field_json(field))


@bp.delete("/fields/<field_id>")
def delete_field(field_id):
    """Drop a field (needs the caller's critical lock)."""
    fields.delete_field(g.api_user, field_id, lock_token())
    return "", 204


@bp.put("/tables/<table_id>/primary_key")
@accepts(api_input.PrimaryKey)
def set_primary_key(table_id, data):
    """Choose the key: {"field_ids": [...]} in key order, [] for none, null for the
    designer's `id` (brought back if it was removed)."""
    primary_keys.set_primary_key(g.api_user, table_id, data["field_ids"], lock_token())
    _, table = tables.table_access(g.api_user, table_id)
    return jsonify(table_json(table))


@bp.post("/tables/<table_id>/fields/order")
@accepts(api_input.FieldOrder)
def order_fields(table_id, data):
    """Reorder: {"field_ids": [...]} lists every field but id."""
    table = fields.reorder(g.api_user, table_id, data["field_ids"], lock_token())
    return jsonify([field_json(f) for f in tables.ordered_fields(table.id)])


@bp.get("/tables/<table_id>/structure")
def get_structure(table_id):
    """The table's unique constraints, checks and indexes, columns by name."""
    _, table = tables.table_access(g.api_user, table_id)
    return jsonify(structure_json(table_structure.table_entry(table)))


@bp.post("/tables/<table_id>/structure/<kind>")
@accepts(api_input.StructureItem)
def add_structure_item(table_id, kind, data):
    """Add a unique constraint (kind uniques), a check (checks) or an index (indexes)."""
    item = table_structure.save_item(
        g.api_user, table_id, kind, item_input(data), None, lock_token()
    )
    return jsonify(item_of(table_id, kind, item["id"])), 201


@bp.put("/tables/<table_id>/structure/<kind>/<item_id>")
@accepts(api_input.StructureItem)
def put_structure_item(table_id, kind, item_id, data):
    """Replace one item (its id stays: a new name alone is a rename where deployed)."""
    table_structure.save_item(g.api_user, table_id, kind, item_input(data), item_id, lock_token())
    return jsonify(item_of(table_id, kind, item_id))


@bp.delete("/tables/<table_id>/structure/<kind>/<item_id>")
def delete_structure_item(table_id, kind, item_id):
    """Remove one item."""
    table_structure.delete_item(g.api_user, table_id, kind, item_id, lock_token())
    return "", 204


@bp.get("/tables/<table_id>/partitioning")
def get_partitioning(table_id):
    """The table's partition key and partitions (a parent), or its parent, bound and the
    parent's columns (a partition)."""
    _, table = tables.table_access(g.api_user, table_id)
    return jsonify(table_partitions.shown(g.api_user, table))


@bp.put("/tables/<table_id>/partition_key")
@accepts(api_input.PartitionKey)
def set_partition_key(table_id, data):
    """Partition the table: {"method": "range"|"list"|"hash", "keys": "created_at"}; method
    null to stop (only while it was never deployed and has no partitions)."""
    table_partitions.set_partition_key(
        g.api_user, table_id, data["method"], data["keys"], lock_token()
    )
    return get_partitioning(table_id)


@bp.post("/tables/<table_id>/partitions")
@accepts(api_input.PartitionCreate)
def add_partition(table_id, data):
    """Add a Draft partition: {"table_name", "bound": "FOR VALUES ..." or "DEFAULT"}."""
    table = table_partitions.add_partition(
        g.api_user, table_id, data["table_name"], data["bound"], lock_token()
    )
    return jsonify(
        table_partitions.shown(g.api_user, table)["partition_of"] | {"partition_id": str(table.id)}
    ), 201


@bp.put("/tables/<table_id>/partitions/<partition_id>")
@accepts(api_input.PartitionBound)
def set_partition_bound(table_id, partition_id, data):
    """A partition's new bound (deployed: detached, then attached again with it)."""
    table = table_partitions.partition_row(g.api_user, table_id, partition_id)
    table_partitions.set_bound(g.api_user, table.id, data["bound"], lock_token())
    return get_partitioning(table_id)


@bp.delete("/tables/<table_id>/partitions/<partition_id>")
def delete_partition(table_id, partition_id):
    """Discard a Draft partition never deployed."""
    table_partitions.remove_partition(g.api_user, table_id, partition_id, lock_token())
    return "", 204


def item_input(data):
    keys = data.get("keys")
    if isinstance(keys, list):
        data = {**data, "keys": [dict(key) for key in keys]}
    return data


def item_of(table_id, kind, item_id):
    _, table = tables.table_access(g.api_user, table_id)
    entry = table_structure.table_entry(table)
    return structure.item_display(entry, kind, structure.items(entry, kind)[item_id])


def structure_json(entry):
    return {
        kind: [
            structure.item_display(entry, kind, item)
            for item in sorted(structure.items(entry, kind).values(), key=structure.sort_key)
        ]
        for kind in structure.KINDS
    }
