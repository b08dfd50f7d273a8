"""Fields of a table: add, edit, delete and reorder, keeping schema_definition in step."""

from peewee import DatabaseError
from peewee import IntegrityError
from peewee import fn

from designer.activity import recording
from designer.db import database
from designer.db import parse_id
from designer.db import update_at_revision
from designer.design.dependents import release_dependents
from designer.design.dependents import using_fields
from designer.design.enums import project_enums
from designer.design.expressions import ExpressionProblem
from designer.design.expressions import column_ids
from designer.design.expressions import sql_expression
from designer.design.field_rules import field_problems
from designer.design.field_types import clean_field
from designer.design.field_types import field_as_input
from designer.design.field_types import other_columns
from designer.design.field_types import pg_type
from designer.design.keys import referenced_key
from designer.design.partitions import key_columns
from designer.design.table_structure import drop_field_items
from designer.design.tables import check_writable
from designer.design.tables import is_deployed
from designer.design.tables import is_partition
from designer.design.tables import ordered_fields
from designer.design.tables import refresh_definition
from designer.design.tables import structure_of
from designer.design.tables import table_access
from designer.design.type_changes import widening
from designer.errors import Conflict
from designer.errors import NotFound
from designer.errors import ValidationFailed
from designer.models import DataField
from designer.models import DataTable
from designer.models import TableRelationship


def regex_problem(pattern):
    """Whether PostgreSQL (whose regex dialect the CHECK will use) accepts a pattern."""
    try:
        with database.atomic():
            database.execute_sql("SELECT '' ~ %s", (pattern,))
    except DatabaseError as exc:
        message = str(exc).splitlines()[0]
        return f"Not a valid PostgreSQL regular expression ({message})."
    return None


def regex_matches(value, pattern):
    return database.execute_sql("SELECT %s ~ %s", (value, pattern)).fetchone()[0]


def generated_text(field):
    """A generated column's expression with the columns' current names (None for another)."""
    stored = field.field_config.get("generated")
    if not stored:
        return None
    names = {str(f.id): f.field_name for f in ordered_fields(field.__data__["data_table"])}
    try:
        return sql_expression(stored, names)
    except (ExpressionProblem, KeyError):
        return stored  # a column it reads is gone: shown as stored, the deploy says why


def validated(data, project_id=None, table_id=None, field_id=None):
    """clean_field with PostgreSQL as the judge of regular expressions (and the project's
    enums, read only for an enum field; the table's other columns, read only for a
    generated one)."""
    flat = dict(data)
    config = flat.pop("field_config", None)
    if isinstance(config, dict):
        flat = {**config, **flat}
    enums = project_enums(project_id) if flat.get("text_type") == "enum" and project_id else None
    columns = None
    if flat.get("generated") and table_id is not None:
        columns = other_columns(ordered_fields(table_id), field_id)
    return clean_field(
        flat, regex_problem=regex_problem, regex_matches=regex_matches, enums=enums,
        columns=columns,
    )  # fmt: skip


def field_access(user, field_id, need="viewer"):
    """(Access, field, table) for a member of the field's project."""
    field = DataField.get_or_none(DataField.id == parse_id(field_id, "field"))
    if field is None:
        raise NotFound("No such field.")
    granted, table = table_access(user, field.table_id, need)
    return granted, field, table


def refuse_system(field):
    if field.field_config.get("system"):
        raise Conflict("The id column is managed by the designer and cannot be changed.")


def refuse_key_column(field, table, deleting=False):
    """The system id goes only once another key is chosen; a column of a chosen key stays
    (and stays required) until the key changes."""
    key = structure_of(table.id).get("primary_key")
    if field.field_config.get("system") and (not deleting or key is None):
        refuse_system(field)
    if key is not None and str(field.id) in key:
        raise Conflict(
            f"{field.name} is in the primary key of {table.name}: choose another key first."
        )
    if deleting and str(field.id) in key_columns({"structure": structure_of(table.id)}):
        # PostgreSQL refuses to drop a column its partition key names.
        raise Conflict(
            f"{field.name} is in the partition key of {table.name}: change the key first."
        )


def taken_problem(exc):
    if "field_name" in str(exc):
        return {"field_name": "Another field of this table already has this column name."}
    return {"name": "Another field of this table already has this name."}


def summary(field):
    return f"{field.name} ({field.field_name})"


MAX_SORT_ORDER = 2**31 - 1


def chosen_sort_order(raw):
    """An explicit position (0 .. 2^31-1), or None for "at the end"."""
    if raw in (None, ""):
        return None
    try:
        value = int(str(raw).strip(), 10) if not isinstance(raw, bool) else None
    except ValueError:
        value = None
    if value is None or not 0 <= value <= MAX_SORT_ORDER:
        message = "Use a whole number from 0 to 2147483647."
        raise ValidationFailed(message, {"sort_order": message})
    return value


def create_field(user, table_id, data, lock_token=None):
    """Add a field at the end of the table (or at data["sort_order"])."""
    _, table = table_access(user, table_id, "editor")
    if is_partition(table):
        message = "A partition's columns are its parent's: add the column to its parent."
        raise Conflict(message)
    values = validated(data, table.project_id, table.id)
    sort_order = chosen_sort_order(data.get("sort_order"))
    with recording(table.project_id, user) as log:
        check_writable(user, table, lock_token)
        if sort_order is None:
            last = DataField.select(fn.max(DataField.sort_order)).where(
                DataField.data_table == table.id
            )
            sort_order = (last.scalar() or 0) + 1
        try:
            with database.atomic():
                field = DataField.create(data_table=table, sort_order=sort_order, **values)
        except IntegrityError as exc:
            raise ValidationFailed("Please correct the marked fields.", taken_problem(exc)) from exc
        refresh_definition(table)
        log.add("field.created", f"added {summary(field)} to {table.name}", field.id)
    return field


def update_field(
    user, field_id, revision, data, lock_token=None, partial=False, with_relationships=False
):
    """Save a field at a known revision; a type change is a breaking change, and drops
    the relationships the field is a key of only when confirmed."""
    _, field, table = field_access(user, field_id, "editor")
    refuse_system(field)
    values = validated(
        merged_input(field, data) if partial else data, table.project_id, table.id, field.id
    )
    if not values["is_required"]:
        refuse_key_column(field, table)
    keep_structure(field, values)
    old_type = pg_type(field.data_type, field.field_config)
    new_type = pg_type(values["data_type"], values["field_config"])
    retyped = new_type != old_type
    dependents = using_fields([field.id])
    refuse_broken_keys(dependents, field, values)
    refuse_broken_cascades(dependents, field, values)
    with recording(table.project_id, user) as log:
        # Breaking changes concern deployed tables only (a never-deployed draft is free to
        # reshape), and a type the deploy plan widens in place is no breaking change.
        breaking = retyped and is_deployed(table) and not widening(old_type, new_type)
        check_writable(user, table, lock_token, breaking=breaking)
        if retyped:
            release_dependents(dependents, with_relationships, summary(field))
            log_removed(log, dependents)
        try:
            with database.atomic():
                updated = update_at_revision(DataField, field.id, revision, **values)
        except IntegrityError as exc:
            raise ValidationFailed("Please correct the marked fields.", taken_problem(exc)) from exc
        refresh_definition(table)
        log.add("field.updated", f"edited {summary(updated)} in {table.name}", field.id)
    return updated


# Settings no form edits: they come from how the table was built (a junction's pair).
STRUCTURAL_SETTINGS = ("unique_with",)


def keep_structure(field, values):
    for key in STRUCTURAL_SETTINGS:
        if field.field_config.get(key):
            values["field_config"][key] = field.field_config[key]


def merged_input(field, data):
    """A partial update over the stored field: stored values, then the request's
    field_config, then its top-level keys."""
    request = dict(data)
    config = request.pop("field_config", None)
    return {**field_as_input(field), **(config if isinstance(config, dict) else {}), **request}


def refuse_broken_keys(dependents, field, values):
    """A relationship's key must stay a key: the primary key, or unique."""
    config = values["field_config"]
    for rel in dependents:
        pairs = rel.field_pairs or [[str(rel.source_field_id), str(rel.target_field_id)]]
        keys = [key for key, _ in pairs]
        if str(field.id) not in keys:
            continue
        table = DataTable.get_by_id(rel.source_table_id)
        entry = {
            "fields": {
                str(f.id): {"field_config": config if f.id == field.id else f.field_config}
                for f in table.fields
            },
            "structure": structure_of(table.id),
        }
        if referenced_key(entry, keys) is None:
            message = f"{rel.relationship_name} uses this field as its key; it must stay unique."
            raise ValidationFailed(message, {"unique": message})


def refuse_broken_cascades(dependents, field, values):
    """A foreign key must stay nullable for set_null, and keep a default for set_default."""
    for rel in dependents:
        if rel.target_field_id != field.id:
            continue
        actions = set(rel.cascade_config.values())
        if "set_null" in actions and values["is_required"]:
            message = f"{rel.relationship_name} sets this field to null; it must stay optional."
            raise ValidationFailed(message, {"is_required": message})
        if "set_default" in actions and values["default_value"] is None:
            message = f"{rel.relationship_name} sets this field to its default; keep one."
            raise ValidationFailed(message, {"default_value": message})


def log_removed(log, relationships):
    for rel in relationships:
        log.add("relationship.deleted", f"removed relationship {rel.relationship_name}", rel.id)


def delete_field(user, field_id, lock_token=None, with_relationships=False):
    """Drop a field (a breaking change: needs the user's critical lock); relationships
    using it go too, but only when confirmed."""
    _, field, table = field_access(user, field_id, "editor")
    refuse_key_column(field, table, deleting=True)
    refuse_read_by_generated(field, table)
    with recording(table.project_id, user) as log:
        check_writable(user, table, lock_token, breaking=is_deployed(table))
        dependents = using_fields([field.id])
        release_dependents(dependents, with_relationships, summary(field))
        log_removed(log, dependents)
        field.delete_instance()
        drop_field_items(table, field.id)
        refresh_definition(table)
        log.add("field.deleted", f"removed {summary(field)} from {table.name}", field.id)
    return table


def refuse_read_by_generated(field, table):
    """A column a generated column's expression reads stays until that expression changes
    (PostgreSQL would refuse to drop it)."""
    for other in ordered_fields(table.id):
        stored = other.field_config.get("generated")
        if other.id != field.id and stored and str(field.id) in column_ids(stored):
            raise Conflict(
                f"{other.name} is generated from {field.name}: change its expression first."
            )


def reorder(user, table_id, field_ids, lock_token=None):
    """Set the order of a table's fields (the id column stays first)."""
    _, table = table_access(user, table_id, "editor")
    wanted = [parse_id(value, "field") for value in field_ids]
    with recording(table.project_id, user) as log:
        check_writable(user, table, lock_token)
        movable = [f.id for f in ordered_fields(table.id) if not f.field_config.get("system")]
        if sorted(wanted) != sorted(movable):
            raise ValidationFailed(
                "List each of the table's fields exactly once.",
                {"field_ids": "Must list each field of this table (except id) once."},
            )
        database.execute_sql(
            "UPDATE data_field SET sort_order = v.position"
            " FROM unnest(%s::uuid[]) WITH ORDINALITY AS v(id, position)"
            " WHERE data_field.id = v.id AND data_field.table_id = %s",
            ([str(value) for value in wanted], str(table.id)),
        )
        refresh_definition(table)
        log.add("field.reordered", f"reordered the fields of {table.name}", table.id)
    return table


def move(user, field_id, offset, lock_token=None):
    """Move a field one place up (offset -1) or down (+1)."""
    _, field, table = field_access(user, field_id, "editor")
    refuse_system(field)
    order = [f.id for f in ordered_fields(table.id) if not f.field_config.get("system")]
    index = order.index(field.id)
    target = min(max(index + offset, 0), len(order) - 1)
    order.insert(target, order.pop(index))
    return reorder(user, table.id, order, lock_token)


def restore_field(user, table_id, entry, relationships=(), lock_token=None):
    """Put back a deleted field (same id, place and settings) and the relationships
    that went with it, where both their ends are still there (an undo)."""
    _, table = table_access(user, table_id, "editor")
    siblings = {str(f.id): f for f in ordered_fields(table.id)}
    problems = field_problems(entry, siblings, regex_problem, project_enums(table.project_id))
    if problems:
        raise ValidationFailed("This field cannot come back as it was.", problems)
    with recording(table.project_id, user) as log:
        check_writable(user, table, lock_token)
        values = {key: entry[key] for key in RESTORED_COLUMNS}
        try:
            with database.atomic():
                field = DataField.create(id=entry["id"], data_table=table, **values)
        except IntegrityError as exc:
            raise Conflict(
                f"{entry['name']} cannot come back: {next(iter(taken_problem(exc).values()))}"
            ) from exc
        back = []
        for rel in relationships:
            try:
                with database.atomic():
                    back.append(TableRelationship.create(**rel))
            except IntegrityError:
                continue  # an end or its name is gone or taken: it stays deleted
        refresh_definition(table)
        log.add("field.created", f"brought back {summary(field)} in {table.name}", field.id)
        for rel in back:
            log.add("relationship.created", f"brought back {rel.relationship_name}", rel.id)
    return field


RESTORED_COLUMNS = (
    "name", "field_name", "data_type", "is_required", "default_value", "field_config",
    "sort_order",
)  # fmt: skip
