"""Hand-built design snapshots for DDL tests (the shape designer.history.snapshot.build makes)."""

import itertools

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


def link(source, target, foreign, on_delete="no_action", on_update="no_action", name=None):
    """A one-to-many relationship from `source`'s id to the `foreign` field of `target`."""
    return {
        "id": new_id("r"),
        "relationship_name": name or f"{target['table_name']}_{foreign['field_name']}_fkey",
        "relationship_type": "one_to_many",
        "source_table_id": source["id"],
        "source_field_id": pk_of(source),
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
