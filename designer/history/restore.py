"""Make a project's working copy equal to a snapshot (restoring a version).

Rows keep their ids, so a restored table is the same table with its old
name, not a new one. Names are unique per project and per table, and a
restore can swap them; every surviving row whose name changes is first parked
under a name derived from its id, then the rows that differ take their final
values. A row whose names stay keeps them throughout: the target's names are
unique, so no final name is another row's that stays.
"""

import json

from peewee import SQL

from designer import locks
from designer.design.enums import sync_enums
from designer.design.field_types import TYPE_KEYS
from designer.design.fields import regex_problem
from designer.design.snapshot_rules import check_snapshot
from designer.design.tables import refresh_definitions
from designer.errors import Conflict
from designer.history.diff import diff
from designer.history.snapshot import build
from designer.models import DataField
from designer.models import DataTable
from designer.models import TableRelationship

# Field settings that decide the column's PostgreSQL type.
TYPE_SETTINGS = TYPE_KEYS


def touched(changes, current, target):
    """Ids of the tables and relationships a list of changes adds, drops or alters."""
    table_ids, rel_ids = set(), set()
    for change in changes:
        if "table_id" in change:
            table_ids.add(change["table_id"])
        if "relationship_id" in change:
            rel_ids.add(change["relationship_id"])
    for rel_id in rel_ids:
        rel = target["relationships"].get(rel_id) or current["relationships"][rel_id]
        table_ids.update((rel["source_table_id"], rel["target_table_id"]))
    return table_ids, rel_ids


def refuse_locked(user, table_ids, current):
    """Someone else's lock on any table the restore would change refuses it (423)."""
    for table_id in sorted(table_ids & set(current["tables"])):
        locks.refuse_others(table_id, user)


def park(table_ids, field_ids):
    """Give the surviving tables and fields that are renamed a unique name derived from
    their id."""
    if table_ids:
        DataTable.update(
            name=SQL("'restoring ' || id::text"),
            table_name=SQL("'r_' || replace(id::text, '-', '')"),
        ).where(DataTable.id.in_(list(table_ids))).execute()
    if field_ids:
        DataField.update(
            name=SQL("'restoring ' || id::text"),
            field_name=SQL("'f_' || replace(id::text, '-', '')"),
        ).where(DataField.id.in_(list(field_ids))).execute()


def differing(now, wanted, columns):
    """Ids of the `wanted` entries ({id: entry}) that are new or differ from `now`'s in
    any of `columns`, compared as JSON (so True is not 1)."""

    def values(entry):
        return json.dumps([entry.get(column) for column in columns], sort_keys=True)

    return {
        entry_id
        for entry_id, entry in wanted.items()
        if entry_id not in now or values(now[entry_id]) != values(entry)
    }


def renamed(current, chosen):
    """(table ids, field ids) of the rows both `current` and the `chosen` target tables
    have whose names change: the rows to park."""
    now = current["tables"]
    tables = {t for t in differing(now, chosen, ("name", "table_name")) if t in now}
    fields = set()
    for table_id in chosen.keys() & now.keys():
        kept = now[table_id]["fields"]
        wanted = chosen[table_id]["fields"]
        fields |= {f for f in differing(kept, wanted, ("name", "field_name")) if f in kept}
    return tables, fields


def remove_missing(project_id, current, target, table_ids):
    """Delete the relationships, tables and fields `target` does not have. Fields go only
    from the `table_ids` that stay (a dropped field is a change of its table), all in one
    statement: one per table made a merge at 3,000 tables spend seconds on deletes."""
    gone_rels = set(current["relationships"]) - set(target["relationships"])
    TableRelationship.delete().where(TableRelationship.id.in_(list(gone_rels))).execute()
    gone_tables = set(current["tables"]) - set(target["tables"])
    DataTable.delete().where(DataTable.id.in_(list(gone_tables))).execute()
    staying = [t for t in table_ids if t in current["tables"] and t in target["tables"]]
    if not staying:
        return
    kept = [field_id for t in staying for field_id in target["tables"][t]["fields"]]
    DataField.delete().where(DataField.data_table.in_(staying), DataField.id.not_in(kept)).execute()


def upsert(model, rows, columns):
    """Insert rows by id, or overwrite the existing ones (bumping their revision)."""
    if not rows:
        return
    model.insert_many(rows).on_conflict(
        conflict_target=[model.id],
        preserve=[getattr(model, column) for column in columns],
        update={model.revision: model.revision + 1, model.updated_at: SQL("now()")},
    ).execute()


TABLE_COLUMNS = ("name", "table_name", "description", "status")
FIELD_COLUMNS = ("name", "field_name", "data_type", "is_required", "default_value",
                 "field_config", "sort_order")  # fmt: skip
REL_COLUMNS = ("relationship_name", "relationship_type", "source_table", "source_field",
               "target_table", "target_field", "cascade_config", "status",
               "field_pairs")  # fmt: skip


def write_target(user, project_id, current, target, chosen, rel_ids):
    """Insert or overwrite the `chosen` target tables ({id: table}), their fields and the
    touched relationships where they differ from `current`, and rewrite those tables'
    definitions."""
    changed = differing(current["tables"], chosen, TABLE_COLUMNS)
    tables = [
        {"id": t["id"], "project": project_id, "name": t["name"], "table_name": t["table_name"],
         "description": t["description"], "status": t["status"], "created_by": user.id}
        for tid, t in chosen.items()
        if tid in changed
    ]  # fmt: skip
    upsert(DataTable, tables, TABLE_COLUMNS)
    fields = []
    for table_id, table in chosen.items():
        now = current["tables"].get(table_id, {}).get("fields", {})
        changed = differing(now, table["fields"], FIELD_COLUMNS)
        fields += [
            {"data_table": table_id, **{k: f[k] for k in ("id", *FIELD_COLUMNS)}}
            for field_id, f in table["fields"].items()
            if field_id in changed
        ]
    for start in range(0, len(fields), 1000):
        upsert(DataField, fields[start : start + 1000], FIELD_COLUMNS)
    refresh_definitions(
        {tid: t["table_name"] for tid, t in chosen.items()},
        {tid: t.get("structure") or {} for tid, t in chosen.items()},
    )
    rels = [
        {"id": r["id"], "project": project_id, "relationship_name": r["relationship_name"],
         "relationship_type": r["relationship_type"], "source_table": r["source_table_id"],
         "source_field": r["source_field_id"], "target_table": r["target_table_id"],
         "target_field": r["target_field_id"], "cascade_config": r["cascade_config"],
         "status": r["status"], "created_by": user.id, "field_pairs": r.get("pairs", [])}
        for r in target["relationships"].values()
        if r["id"] in rel_ids
    ]  # fmt: skip
    upsert(TableRelationship, rels, REL_COLUMNS)
    sync_enums(project_id, target.get("enums", {}))


def with_current_statuses(current, target):
    """The target design, keeping each table's lifecycle status as it is now.

    A status moves only through the lifecycle's transitions; a table the
    target brings back comes back as a Draft.
    """
    tables = {}
    for table_id, table in target["tables"].items():
        status = current["tables"][table_id]["status"] if table_id in current["tables"] else "draft"
        tables[table_id] = {**table, "status": status}
    return {**target, "tables": tables}


def refuse_dropping_deployed(current, target):
    """Tables in use (Active, Deprecated) or in the database leave through their lifecycle
    (and "Drop from database"), not a restore."""
    gone = [table_id for table_id in current["tables"] if table_id not in target["tables"]]
    deployed = DataTable.select(DataTable.id.cast("text")).where(
        DataTable.id.in_(gone), DataTable.deployed_at.is_null(False)
    )
    in_database = {table_id for (table_id,) in deployed.tuples()} if gone else set()
    kept = [
        current["tables"][table_id]["table_name"]
        for table_id in gone
        if current["tables"][table_id]["status"] in ("active", "deprecated")
        or table_id in in_database
    ]
    if kept:
        raise Conflict(
            f"That version does not have {', '.join(sorted(kept))}, which "
            f"{'is' if len(kept) == 1 else 'are'} in use or in the database; deprecate and "
            f"delete {'it' if len(kept) == 1 else 'them'} first, then drop from the database."
        )


def breaking(changes):
    """The dropped tables and columns, and retyped columns, a change list carries."""
    found = []
    for change in changes:
        if change["op"] == "drop_table":
            found.append(f"drops table {change['before']['table_name']}")
        elif change["op"] == "drop_field":
            found.append(f"drops column {change['before']['field_name']}")
        elif change["op"] == "alter_field" and retypes(change):
            found.append(f"changes the type of column {change['field_id']}")
    return found


def retypes(change):
    parts = change["changes"]
    if "data_type" in parts:
        return True
    config = parts.get("field_config")
    if not config:
        return False
    before, after = config.get("before", {}), config.get("after", {})
    return any(before.get(k) != after.get(k) for k in TYPE_SETTINGS)


def apply_snapshot(user, project_id, target, confirm=False, current=None):
    """Rewrite the project's tables, fields and relationships to match `target`'s design.

    Runs in the caller's transaction; returns the changes it applied. Other
    people's locks refuse it; dropping or retyping needs `confirm`. `current` is the
    project's design when the caller built it in this transaction already (a merge).
    """
    current = build(project_id) if current is None else current
    target = with_current_statuses(current, target)
    changes = diff(current, target)
    if not changes:
        return changes
    refuse_dropping_deployed(current, target)
    table_ids, rel_ids = touched(changes, current, target)
    # A version saved before a rule existed may break it: it is refused, never stored.
    check_snapshot(
        target, "version", table_ids=table_ids, regex_problem=regex_problem,
        relationship_ids=rel_ids,
    )  # fmt: skip
    refuse_locked(user, table_ids, current)
    risky = breaking(changes)
    if risky and not confirm:
        raise Conflict(
            f"Restoring it {', '.join(risky[:5])}{' and more' if len(risky) > 5 else ''}: "
            "confirm to go on.",
            confirm=True,
        )
    remove_missing(project_id, current, target, table_ids)
    chosen = {t: table for t, table in target["tables"].items() if t in table_ids}
    park(*renamed(current, chosen))
    write_target(user, project_id, current, target, chosen, rel_ids)
    return changes
