"""A JSON export (the canonical snapshot) read back as an ImportPlan, exactly.

Ids, names, settings and statuses are kept as they are, so importing an
export gives back its snapshot hash; the whole snapshot is checked by the rules
every stored design keeps (designer.design.snapshot_rules: identifiers, strict JSON
types, clean_field read back exactly, the system id field, keys, cycles), and anything
wrong is refused with its place named. Ids
already used on this server and names taken in the project are the only
things changed, and the preview lists them. Pure: no database, no Flask.
"""

from designer.design.expressions import ExpressionProblem
from designer.design.expressions import column_ids
from designer.design.expressions import deparsed
from designer.design.expressions import parsed
from designer.design.expressions import renamed_columns
from designer.design.snapshot_rules import check_snapshot
from designer.design.structure import with_field_ids
from designer.errors import ValidationFailed
from designer.interchange.import_limits import refuse_tables
from designer.interchange.import_plan import ImportPlan
from designer.interchange.import_plan import Names
from designer.interchange.import_plan import OrderedIds
from designer.interchange.import_plan import Rename
from designer.interchange.import_source import IMPERFECT
from designer.interchange.import_source import Finding
from designer.untrusted import UnreadableInput
from designer.untrusted import first_bad_json_value
from designer.untrusted import load_json

NOT_IMPORTABLE = "This JSON is not a design export the designer can import."


def refuse(where, message):
    text = f"{where}: {message}"
    raise ValidationFailed(f"{NOT_IMPORTABLE} {text}", {"file": text})


# A snapshot nests six levels (tables, a table, fields, a field, field_config, a list).
MAX_DEPTH = 12


def read_json(text):
    try:
        data = load_json(text, max_depth=MAX_DEPTH)
    except UnreadableInput as exc:
        cause = exc.__cause__
        too_deep = cause is None or isinstance(cause, RecursionError)
        refuse("JSON", f"it nests deeper than {MAX_DEPTH} levels" if too_deep else str(cause))
    unstorable = first_bad_json_value(data)
    if unstorable:
        refuse(unstorable[0], unstorable[1])
    if not isinstance(data, dict) or data.get("format") != 1:
        refuse("top level", "expected a snapshot with format 1")
    if not {"format", "tables", "relationships"} <= set(data) <= {
        "format", "tables", "relationships", "enums",
    }:  # fmt: skip
        refuse("top level", "expected format, tables, relationships (and enums)")
    if not isinstance(data["tables"], dict) or not isinstance(data["relationships"], dict):
        refuse("top level", "tables and relationships are objects keyed by id")
    refuse_tables(len(data["tables"]))
    return data


def renewed_ids(snapshot):
    """The snapshot with every id replaced by a new one, consistently and in the same
    order (the SQL export lists objects in id order)."""
    next_id = OrderedIds()
    return with_ids(snapshot, {old: next_id() for old in sorted(ids_of(snapshot))})


def ids_of(snapshot):
    """Every id of a snapshot's tables, fields, relationships and enums."""
    found = [*snapshot["tables"], *snapshot["relationships"], *snapshot.get("enums", {})]
    return found + [fid for t in snapshot["tables"].values() for fid in t["fields"]]


def with_ids(snapshot, fresh):
    """The snapshot with each id that `fresh` maps replaced by its new one, wherever it is
    named (keys, ends, structure, pairs, enum settings, generated expressions); ids it does
    not map stay as they are. A new snapshot: `snapshot` is left as it was."""

    def new(old):
        return None if old is None else fresh.get(old, old)

    def moved_field(f):
        config = f["field_config"]
        if "enum_id" in config:
            config = {**config, "enum_id": new(config["enum_id"])}
        if isinstance(config.get("generated"), str):
            config = {**config, "generated": moved_expression(config["generated"], new)}
        return {**f, "id": new(f["id"]), "field_config": config}

    def renamed(value):
        """A structure or pairs value with every id in it (at any depth) replaced."""
        if isinstance(value, str):
            return fresh.get(value, value)
        if isinstance(value, list):
            return [renamed(v) for v in value]
        if isinstance(value, dict):
            return {k: renamed(v) for k, v in value.items()}
        return value

    tables = {}
    for table in snapshot["tables"].values():
        fields = {new(f["id"]): moved_field(f) for f in table["fields"].values()}
        tables[new(table["id"])] = {**table, "id": new(table["id"]), "fields": fields}
        if "structure" in table:
            moved_structure = with_field_ids(table["structure"], new)
            for key in ("primary_key", "partition_of"):
                if key in moved_structure:
                    moved_structure[key] = renamed(moved_structure[key])
            tables[new(table["id"])]["structure"] = moved_structure
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
        if "pairs" in rel:
            moved["pairs"] = renamed(rel["pairs"])
        relationships[moved["id"]] = {**rel, **moved}
    renewed = {**snapshot, "tables": tables, "relationships": relationships}
    if "enums" in snapshot:
        renewed["enums"] = {new(e): {**v, "id": new(e)} for e, v in snapshot["enums"].items()}
    return renewed


def plan_json(
    text,
    taken_tables=(),
    taken_names=(),
    taken_relationships=(),
    ids_in_use=lambda ids: False,
    regex_problem=None,
):
    """An ImportPlan keeping the export as it is (bar ids in use and names taken)."""
    snapshot = read_json(text)
    check_snapshot(snapshot, "file", regex_problem=regex_problem, lead=NOT_IMPORTABLE)
    plan = ImportPlan(snapshot, source_format="json")
    all_ids = ids_of(snapshot)
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


def moved_expression(stored, new):
    """A generated column's stored expression with the field ids it reads given anew (left
    as it is when it is no expression: the snapshot's checks then say why)."""
    try:
        mapping = {field_id: new(field_id) for field_id in column_ids(stored)}
        return deparsed(renamed_columns(parsed(stored), mapping))
    except (ExpressionProblem, AttributeError, IndexError, KeyError):
        return stored
