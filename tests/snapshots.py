"""Hand-built design snapshots for DDL tests (the shape designer.history.snapshot.build makes)."""

import itertools
import uuid

from designer.design.keys import primary_key_fields

_ids = itertools.count(1)


def new_id(prefix):
    return f"{prefix}{next(_ids):04d}"


def field(
    field_name, data_type="text", is_required=False, default_value=None, sort_order=1, **config
):
    return {
        "id": new_id("f"),
        "name": field_name.title(),
        "field_name": field_name,
        "data_type": data_type,
        "is_required": is_required,
        "default_value": default_value,
        "field_config": config,
        "sort_order": sort_order,
    }


def id_field():
    return field("id", "number", True, None, 0, system=True, primary_key=True, number_type="bigint")


def table(table_name, *fields, description="", status="active"):
    all_fields = (id_field(), *fields)
    return {
        "id": new_id("t"),
        "name": table_name.title(),
        "table_name": table_name,
        "description": description,
        "status": status,
        "fields": {f["id"]: f for f in all_fields},
    }


def pk_of(tbl):
    return next(fid for fid, f in tbl["fields"].items() if f["field_config"].get("primary_key"))


def system_of(tbl):
    """The table's system id field id, or None once it was removed."""
    return next((fid for fid, f in tbl["fields"].items() if f["field_config"].get("system")), None)


def keyed_table(table_name, key, *fields, system=False, **options):
    """A table whose primary key is `key` (fields, in key order; made required), with the
    designer's system id only when `system`."""
    tbl = table(table_name, *key, *fields, **options)
    if not system:
        del tbl["fields"][pk_of(tbl)]
    for fld in key:
        fld["is_required"] = True
    tbl["structure"] = {"primary_key": [f["id"] for f in key]}
    return tbl


def composite_link(source, target, pairs, on_delete="no_action", on_update="no_action"):
    """A relationship over several (key field, foreign field) pairs, in order."""
    (key, foreign), *_ = pairs
    rel = link(source, target, foreign, on_delete, on_update)
    rel["source_field_id"] = key["id"]
    rel["pairs"] = [[k["id"], f["id"]] for k, f in pairs]
    return rel


def link(source, target, foreign, on_delete="no_action", on_update="no_action", name=None):
    """A one-to-many relationship from `source`'s id to the `foreign` field of `target`."""
    return {
        "id": new_id("r"),
        "relationship_name": name or f"{target['table_name']}_{foreign['field_name']}_fkey",
        "relationship_type": "one_to_many",
        "source_table_id": source["id"],
        "source_field_id": (primary_key_fields(source) or [None])[0],
        "target_table_id": target["id"],
        "target_field_id": foreign["id"],
        "cascade_config": {"on_delete": on_delete, "on_update": on_update},
        "status": "active",
    }


def snapshot(tables=(), relationships=()):
    return {
        "format": 1,
        "tables": {t["id"]: t for t in tables},
        "relationships": {r["id"]: r for r in relationships},
    }


def with_uuids(design):
    """The design with each of its ids (t0001, f0002, ...) made a UUID, as stored designs
    have them (designer.design.snapshot_rules checks them), the same one every time."""
    ids = {
        entry_id for collection in ("tables", "relationships") for entry_id in design[collection]
    } | {fid for tbl in design["tables"].values() for fid in tbl["fields"]}

    def renamed(value):
        if isinstance(value, str):
            return str(uuid.uuid5(uuid.NAMESPACE_OID, value)) if value in ids else value
        if isinstance(value, dict):
            return {renamed(k): renamed(v) for k, v in value.items()}
        if isinstance(value, list):
            return [renamed(v) for v in value]
        return value

    return renamed(design)
