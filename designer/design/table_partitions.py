"""A table's partitioning as people edit it (designer.design.partitions holds the rules): the
parent's partition key, and its partitions added, re-bounded and removed, in the table's lock
discipline and the project's activity log. A partition is a table of the project with no
fields of its own (its columns are its parent's)."""

from peewee import IntegrityError

from designer.activity import recording
from designer.db import database
from designer.design import partitions
from designer.design.field_types import pg_type
from designer.design.structure import keys_text
from designer.design.structure import structure_problems
from designer.design.table_structure import table_entry
from designer.design.tables import check_writable
from designer.design.tables import clean_table_input
from designer.design.tables import delete_table
from designer.design.tables import is_deployed
from designer.design.tables import of_parent
from designer.design.tables import ordered_fields
from designer.design.tables import refresh_definition
from designer.design.tables import store_structure
from designer.design.tables import structure_of
from designer.design.tables import table_access
from designer.design.tables import taken_problem
from designer.errors import Conflict
from designer.errors import NotFound
from designer.errors import ValidationFailed
from designer.models import DataTable

NOT_IN_PLACE = (
    "PostgreSQL cannot change a deployed table's partitioning in place: make a new table."
)


def partitions_of(table):
    """The partitions of a table, by name: (row, bound)."""
    rows = DataTable.select().where(DataTable.project == table.project_id, of_parent(table.id))
    found = [(row, partitions.partition_of(structure_in(row))["bound"]) for row in rows]
    return sorted(found, key=lambda pair: pair[0].table_name)


def structure_in(row):
    return {"structure": (row.schema_definition or {}).get("structure") or {}}


def key_text(entry):
    """The partition key's keys as one line people type (an index's keys, no order)."""
    spec = partitions.partition_by(entry)
    keys = [{**key, "descending": False, "nulls": None} for key in spec["keys"]]
    return keys_text(entry, {"keys": keys})


def shown(user, table):
    """The table page's and the API's view of a table's partitioning: {"partition_by":
    {"method", "keys"} or None, "partitions": [...], "partition_of": {...} or None}."""
    entry = table_entry(table)
    spec = partitions.partition_by(entry)
    of = partitions.partition_of(entry)
    view = {"partition_by": None, "partitions": [], "partition_of": None}
    if spec:
        view["partition_by"] = {"method": spec["method"], "keys": key_text(entry)}
        view["partitions"] = [
            {"id": str(row.id), "table_name": row.table_name, "name": row.name, "bound": bound,
             "status": row.status}
            for row, bound in partitions_of(table)
        ]  # fmt: skip
    if of:
        parent = DataTable.get_or_none(
            DataTable.id == of["table_id"], DataTable.project == table.project_id
        )
        if parent is not None:
            _, parent = table_access(user, parent.id)
            parent_entry = table_entry(parent)
            view["partition_of"] = {
                "id": str(parent.id), "table_name": parent.table_name, "name": parent.name,
                "bound": of["bound"], "method": partitions.partition_by(parent_entry)["method"],
                "columns": [
                    {"field_name": f.field_name, "name": f.name, "is_required": f.is_required,
                     "type": pg_type(f.data_type, f.field_config), "default": f.default_value}
                    for f in ordered_fields(parent.id)
                ],
            }  # fmt: skip
    return view


def set_partition_key(user, table_id, method, keys, lock_token=None):
    """Partition the table by `method` over `keys` (one line, as an index's keys), or stop
    partitioning it (method None). Only while it was never deployed, and its partitions fit."""
    _, table = table_access(user, table_id, "editor")
    with recording(table.project_id, user) as log:
        check_writable(user, table, lock_token)
        if partitions.partition_of(structure_in(table)):
            raise Conflict("A partition is not partitioned again.")
        if is_deployed(table):
            raise Conflict(NOT_IN_PLACE)
        entry = table_entry(table, structure_of(table.id))
        children = partitions_of(table)
        structure = dict(entry.get("structure") or {})
        if method is None:
            if children:
                message = "Remove its partitions first."
                raise ValidationFailed(message, {"method": message})
            structure.pop("partition_by", None)
            said = f"stopped partitioning {table.name}"
        else:
            try:
                spec = partitions.clean_partition_by(method, keys, entry)
            except partitions.PartitionInvalid as exc:
                raise ValidationFailed("Please correct the marked fields.", exc.problems) from None
            before = partitions.partition_by(entry)
            if children and before != spec:
                message = "Its partitions' bounds are for its key: remove them first."
                raise ValidationFailed(message, {"keys": message})
            structure["partition_by"] = spec
            checked = {**entry, "structure": structure}
            refuse_problems(checked, "keys")
            said = f"partitioned {table.name} by {method} ({key_text(checked)})"
        store_structure(table.id, structure)
        log.add("table.updated", said, table.id)
    return partitions.partition_by({"structure": structure})


def refuse_problems(entry, input_name):
    """The rules a stored design keeps (the key holds the partition key's columns too)."""
    problems = structure_problems(entry)
    message = problems[0][2] if problems else None
    if message:
        message = message[:1].upper() + message[1:]
        raise ValidationFailed(message, {input_name: message})


def clean_bound(bound, method):
    try:
        return partitions.clean_bound(bound, method)
    except partitions.BoundProblem as exc:
        raise ValidationFailed("Please correct the marked fields.", {"bound": str(exc)}) from None


def add_partition(user, parent_id, table_name, bound, lock_token=None):
    """A new Draft partition of a partitioned table: its name and its bound."""
    granted, parent = table_access(user, parent_id, "editor")
    spec = partitions.partition_by(structure_in(parent))
    if not spec:
        raise Conflict(f"{parent.table_name} is not partitioned: choose its partition key first.")
    problems = {}
    try:
        values = clean_table_input(table_name, table_name)
    except ValidationFailed as exc:
        problems["table_name"] = next(iter(exc.fields.values()))
        values = None
    try:
        cleaned = partitions.clean_bound(bound, spec["method"])
    except partitions.BoundProblem as exc:
        problems["bound"] = str(exc)
    if problems:
        raise ValidationFailed("Please correct the marked fields.", problems)
    structure = {"partition_of": {"table_id": str(parent.id), "bound": cleaned}}
    with recording(parent.project_id, user) as log:
        check_writable(user, parent, lock_token)
        try:
            with database.atomic():
                table = DataTable.create(project=parent.project_id, created_by=user, **values)
        except IntegrityError as exc:
            found = taken_problem(exc)
            raise ValidationFailed(
                "Please correct the marked fields.", {"table_name": next(iter(found.values()))}
            ) from exc
        refresh_definition(table)
        store_structure(table.id, structure)
        log.add(
            "table.created",
            f"added partition {table.table_name} of {parent.table_name} ({cleaned})",
            table.id,
        )
    return DataTable.get_by_id(table.id)


def set_bound(user, partition_id, bound, lock_token=None):
    """A partition's new bound (deployed: detached, then attached with it)."""
    _, table = table_access(user, partition_id, "editor")
    with recording(table.project_id, user) as log:
        check_writable(user, table, lock_token)
        structure = structure_of(table.id)
        of = partitions.partition_of({"structure": structure})
        if not of:
            raise NotFound("This table is not a partition.")
        parent = DataTable.get_by_id(of["table_id"])
        method = partitions.partition_by(structure_in(parent))["method"]
        cleaned = clean_bound(bound, method)
        store_structure(table.id, {**structure, "partition_of": {**of, "bound": cleaned}})
        log.add("table.updated", f"bounded partition {table.table_name} {cleaned}", table.id)
    return cleaned


def partition_row(user, parent_id, partition_id):
    """A partition of this parent (NotFound for any other table)."""
    _, parent = table_access(user, parent_id, "editor")
    _, table = table_access(user, partition_id, "editor")
    of = partitions.partition_of(structure_in(table))
    if not of or of["table_id"] != str(parent.id):
        raise NotFound(f"No such partition of {parent.table_name}.")
    return table


def remove_partition(user, parent_id, partition_id, lock_token=None):
    """Discard a Draft partition never deployed (a deployed one goes through the lifecycle,
    as any table does)."""
    table = partition_row(user, parent_id, partition_id)
    delete_table(user, table.id, lock_token)
    return table
