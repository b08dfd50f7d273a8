"""A JSON export (the canonical snapshot) read back as an ImportPlan, exactly.

Ids, names, settings and statuses are kept as they are, so importing an
export gives back its snapshot hash; every table, field and relationship is
checked by the same rules as one typed in (identifiers, clean_field, keys,
types, cycles), and anything wrong is refused with its place named. Ids
already used on this server and names taken in the project are the only
things changed, and the preview lists them. Pure: no database, no Flask.
"""

import json
import uuid

from designer.database.import_plan import ImportPlan
from designer.database.import_plan import Names
from designer.database.import_plan import OrderedIds
from designer.database.import_plan import Rename
from designer.database.import_source import IMPERFECT
from designer.database.import_source import Finding
from designer.design.field_types import clean_field
from designer.design.field_types import field_as_input
from designer.design.field_types import pg_type
from designer.design.naming import identifier_problem
from designer.errors import ValidationFailed
from designer.history.snapshot import FIELD_COLUMNS
from designer.history.snapshot import TABLE_COLUMNS
from designer.models import TABLE_STATUSES

REL_KEYS = (
    "id", "relationship_name", "relationship_type", "source_table_id", "source_field_id",
    "target_table_id", "target_field_id", "cascade_config", "status",
)  # fmt: skip
ACTIONS = ("no_action", "restrict", "cascade", "set_null", "set_default")


def refuse(where, message):
    text = f"{where}: {message}"
    raise ValidationFailed(f"This JSON is not a design export. {text}", {"file": text})


def read_json(text):
    try:
        data = json.loads(text)
    except ValueError as exc:
        refuse("JSON", str(exc))
    if not isinstance(data, dict) or data.get("format") != 1:
        refuse("top level", "expected a snapshot with format 1")
    if set(data) != {"format", "tables", "relationships"}:
        refuse("top level", "expected exactly format, tables and relationships")
    if not isinstance(data["tables"], dict) or not isinstance(data["relationships"], dict):
        refuse("top level", "tables and relationships are objects keyed by id")
    return data


class FieldHolder:
    """The attributes field_as_input reads, from a snapshot entry."""

    def __init__(self, entry):
        self.__dict__.update(entry)


def check_ids(where, key, entries):
    for entry_id, entry in entries.items():
        if not isinstance(entry, dict) or entry.get("id") != entry_id:
            refuse(f"{where} {entry_id}", "each entry is keyed by its own id")
        try:
            uuid.UUID(entry_id)
        except ValueError:
            refuse(f"{where} {entry_id}", "ids are UUIDs")
        if set(entry) != set(key):
            refuse(f"{where} {entry_id}", f"expected the keys {', '.join(sorted(key))}")


def check_table(table):
    where = f"table {table.get('table_name')}"
    problem = identifier_problem(table["table_name"], "table")
    if problem:
        refuse(where, problem)
    if (
        table["status"] not in TABLE_STATUSES
        or not isinstance(table["name"], str)
        or not table["name"].strip()
    ):
        refuse(where, "needs a name and a known status")
    if not isinstance(table["fields"], dict):
        refuse(where, "fields are an object keyed by id")
    check_ids(where, FIELD_COLUMNS, table["fields"])
    systems = [
        f
        for f in table["fields"].values()
        if isinstance(f["field_config"], dict) and f["field_config"].get("system")
    ]
    if (
        len(systems) != 1
        or not systems[0]["field_config"].get("primary_key")
        or systems[0]["field_name"] != "id"
    ):
        refuse(where, "every table has exactly one system id field")
    for entry in table["fields"].values():
        if entry is systems[0]:
            continue
        if not isinstance(entry["sort_order"], int) or entry["sort_order"] < 0:
            refuse(f"{where}.{entry.get('field_name')}", "sort_order is a whole number ≥ 0")
        try:
            cleaned = clean_field(field_as_input(FieldHolder(entry)))
        except (ValidationFailed, AttributeError, TypeError) as exc:
            problems = getattr(exc, "fields", {}) or {"field": str(exc)}
            refuse(
                f"{where}.{entry.get('field_name')}",
                "; ".join(f"{k}: {v}" for k, v in problems.items()),
            )
        if (
            cleaned["field_name"] != entry["field_name"]
            or cleaned["data_type"] != entry["data_type"]
        ):
            refuse(f"{where}.{entry['field_name']}", "the field does not read back as saved")


def check_relationship(tables, rel, edges):
    where = f"relationship {rel.get('relationship_name')}"
    if (
        identifier_problem(rel["relationship_name"], "table")
        or rel["relationship_type"] != "one_to_many"
    ):
        refuse(where, "needs a valid name and the type one_to_many")
    source, target = tables.get(rel["source_table_id"]), tables.get(rel["target_table_id"])
    if source is None or target is None:
        refuse(where, "both tables must be in the export")
    key = source["fields"].get(rel["source_field_id"] or "")
    foreign = target["fields"].get(rel["target_field_id"] or "")
    if key is None or foreign is None or foreign["field_config"].get("system"):
        refuse(where, "needs a key field of its source and a foreign key field of its target")
    if not (key["field_config"].get("primary_key") or key["field_config"].get("unique")):
        refuse(where, "its key must be the id or a unique field")
    if pg_type(key["data_type"], key["field_config"]) != pg_type(
        foreign["data_type"], foreign["field_config"]
    ):
        refuse(where, "its key and foreign key have different types")
    cascade = rel["cascade_config"]
    if (
        not isinstance(cascade, dict)
        or set(cascade) - {"on_delete", "on_update"}
        or set(cascade.values()) - set(ACTIONS)
    ):
        refuse(where, "cascade_config holds on_delete and on_update actions")
    if rel["status"] not in TABLE_STATUSES:
        refuse(where, "unknown status")
    edges.append((rel["source_table_id"], rel["target_table_id"], where))


def refuse_cycles(edges):
    graph = {}
    for source, target, where in edges:
        if source == target:
            continue
        seen, stack = set(), [target]
        while stack:
            node = stack.pop()
            if node == source:
                refuse(where, "closes a cycle of relationships")
            if node not in seen:
                seen.add(node)
                stack.extend(graph.get(node, ()))
        graph.setdefault(source, set()).add(target)


def renewed_ids(snapshot):
    """The snapshot with every id replaced by a new one, consistently and in the same
    order (the SQL export lists objects in id order)."""
    old_ids = [*snapshot["tables"], *snapshot["relationships"]]
    old_ids += [fid for t in snapshot["tables"].values() for fid in t["fields"]]
    next_id = OrderedIds()
    fresh = {old: next_id() for old in sorted(old_ids)}

    def new(old):
        return None if old is None else fresh[old]

    tables = {}
    for table in snapshot["tables"].values():
        fields = {new(f["id"]): {**f, "id": new(f["id"])} for f in table["fields"].values()}
        tables[new(table["id"])] = {**table, "id": new(table["id"]), "fields": fields}
    relationships = {}
    for rel in snapshot["relationships"].values():
        moved = {
            k: new(rel[k])
            for k in (
                "id",
                "source_table_id",
                "source_field_id",
                "target_table_id",
                "target_field_id",
            )
        }
        relationships[moved["id"]] = {**rel, **moved}
    return {**snapshot, "tables": tables, "relationships": relationships}


def plan_json(
    text, taken_tables=(), taken_names=(), taken_relationships=(), ids_in_use=lambda ids: False
):
    """An ImportPlan keeping the export as it is (bar ids in use and names taken)."""
    snapshot = read_json(text)
    check_ids("table", (*TABLE_COLUMNS, "fields"), snapshot["tables"])
    for table in snapshot["tables"].values():
        check_table(table)
    check_ids("relationship", REL_KEYS, snapshot["relationships"])
    edges = []
    for rel in snapshot["relationships"].values():
        check_relationship(snapshot["tables"], rel, edges)
    refuse_cycles(edges)
    plan = ImportPlan(snapshot, source_format="json")
    all_ids = [*snapshot["tables"], *snapshot["relationships"]]
    all_ids += [fid for t in snapshot["tables"].values() for fid in t["fields"]]
    if all_ids and ids_in_use(all_ids):
        plan.snapshot = renewed_ids(snapshot)
        plan.findings.append(
            Finding(
                IMPERFECT,
                None,
                "ids",
                "these ids are in use on this server: new ids are given (so a new hash)",
            )
        )
    for table in sorted(plan.snapshot["tables"].values(), key=lambda t: t["table_name"]):
        if table["status"] in ("active", "deprecated"):
            words = f"comes in {table['status'].title()}, not yet in this project's database"
            plan.findings.append(Finding(IMPERFECT, None, table["table_name"], words))
    rename_taken(plan, taken_tables, taken_names, taken_relationships)
    return plan


def rename_taken(plan, taken_tables, taken_names, taken_relationships):
    table_names, names, rel_names = (
        Names(taken_tables),
        Names(taken_names),
        Names(taken_relationships),
    )
    for table in sorted(plan.snapshot["tables"].values(), key=lambda t: t["table_name"]):
        for key, space, limit in (("table_name", table_names, 63), ("name", names, 0)):
            chosen = space.free(table[key], limit=limit)
            if chosen != table[key]:
                plan.renames.append(
                    Rename("table", table[key], chosen, "the name is already taken")
                )
                table[key] = chosen
    for rel in sorted(
        plan.snapshot["relationships"].values(), key=lambda r: r["relationship_name"]
    ):
        chosen = rel_names.free(rel["relationship_name"])
        if chosen != rel["relationship_name"]:
            plan.renames.append(
                Rename(
                    "relationship", rel["relationship_name"], chosen, "the name is already taken"
                )
            )
            rel["relationship_name"] = chosen
