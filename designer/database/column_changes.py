"""ALTER COLUMN steps: added columns, type changes with their casts, defaults, NOT NULL.

Each step says how it can hurt (designer.database.ddl_terms kinds) and counts the rows it would
break; a type change keeps values through a USING cast, NOT NULL goes through a validated
CHECK so PostgreSQL skips the scan under its ACCESS EXCLUSIVE lock.
"""

from designer.database.ddl_terms import BLOCKING
from designer.database.ddl_terms import DATA_DEPENDENT
from designer.database.ddl_terms import DESTRUCTIVE
from designer.database.ddl_terms import SAFE
from designer.database.ddl_terms import Step
from designer.database.ddl_terms import collate_words
from designer.database.ddl_terms import column_comment
from designer.database.ddl_terms import column_definition
from designer.database.ddl_terms import column_type
from designer.database.ddl_terms import default_sql
from designer.database.ddl_terms import literal
from designer.database.ddl_terms import qualified
from designer.design.naming import generated_name
from designer.design.naming import quote_identifier as ident
from designer.design.type_changes import widening

NUMBER_TYPES = ("integer", "bigint", "numeric")


def add_column(ctx, change):
    table_id, field = change["table_id"], change["after"]
    relation = ctx.relation(table_id)
    sequence = ctx.new_names.get(table_id, {}).get(("sequence", change["field_id"]))
    if sequence is not None:
        sequence = qualified(ctx.schema, sequence)
    sql = f"ALTER TABLE {relation} ADD COLUMN {column_definition(field, sequence)}"
    steps = []
    if field["is_required"] and field.get("default_value") is None and sequence is None:
        reason = "adds a required column without a default: fails if the table has rows"
        steps.append(
            Step(sql, DATA_DEPENDENT, reason, table_id, f"SELECT count(*) FROM {relation}")
        )
    else:
        steps.append(Step(sql, SAFE, f"adds column {field['field_name']}", table_id))
    if field["field_config"].get("description"):
        steps.append(column_comment(ctx, table_id, field))
    return steps


def family(type_name):
    if type_name == "text" or type_name.startswith("varchar"):
        return "text"
    if type_name in NUMBER_TYPES or type_name.startswith("numeric"):
        return "number"
    return "boolean" if type_name == "boolean" else "date"


def using_expression(column, before, after):
    """The USING cast for a type change (None when PostgreSQL's own assignment cast fits)."""
    old, new = family(before), family(after)
    if old == new and old != "date":
        return None
    if old == "boolean" and new == "number":
        return f"CASE WHEN {column} THEN 1 ELSE 0 END"
    if old == "number" and new == "boolean":
        return f"{column} <> 0"
    if new == "text":
        # To text, then the column's assignment cast: varchar(n) refuses what is too long.
        return f"{column}::text"
    if old == "text":
        return f"{column}::{after}"
    return f"{column}::text::{after}"


def lossy_values(column, before, after):
    """A condition true for values the type change keeps but alters (rounds, cuts the time
    off), or None when it changes none silently."""
    if family(before) == "number" and after in ("integer", "bigint"):
        return f"{column} <> round({column})" if before.startswith("numeric") else None
    if before.startswith("numeric(") and after.startswith("numeric("):
        scales = [int(t[8:-1].split(",")[1]) for t in (before, after)]
        return f"{column} <> round({column}, {scales[1]})" if scales[1] < scales[0] else None
    if before in ("timestamp", "timestamptz") and after == "date":
        return f"{column} <> {column}::date"
    if before in ("timestamp", "timestamptz") and after == "time":
        return "true"
    return None


def change_type(ctx, table_id, before, after):
    relation, column = ctx.relation(table_id), ident(after["field_name"])
    old_type, new_type = column_type(before), column_type(after)
    using = using_expression(column, old_type, new_type)
    sql = f"ALTER TABLE {relation} ALTER COLUMN {column} TYPE {new_type}"
    if using:
        sql += f" USING {using}"
    name = after["field_name"]
    if widening(old_type, new_type):
        return Step(sql, SAFE, f"widens {name} to {new_type} (no rewrite)", table_id)
    lossy = lossy_values(column, old_type, new_type)
    if lossy:
        measure = f"SELECT count(*) FROM {relation} WHERE {column} IS NOT NULL AND ({lossy})"
        reason = f"rewrites the table; {name} as {new_type} rounds or cuts values: they change"
        return Step(sql, DESTRUCTIVE, reason, table_id, measure)
    if new_type.startswith("varchar("):
        # An explicit cast to varchar(n) would cut values short silently; the column's own
        # assignment refuses them, and this counts them.
        limit = int(new_type[8:-1])
        measure = f"SELECT count(*) FROM {relation} WHERE char_length({column}::text) > {limit}"
        reason = f"rewrites the table; values of {name} longer than {limit} make it fail"
        return Step(sql, DATA_DEPENDENT, reason, table_id, measure)
    plain = {family(old_type), family(new_type)} == {"number", "boolean"}
    if family(new_type) == "text" and family(old_type) != "text" or plain:
        return Step(sql, BLOCKING, f"rewrites the table to make {name} {new_type}", table_id)
    measure = (
        f"SELECT count(*) FROM {relation} WHERE {column} IS NOT NULL"
        f" AND NOT pg_temp.dmd_castable({column}::text, {literal(new_type)})"
    )
    reason = f"rewrites the table; values of {name} that are not a valid {new_type} make it fail"
    return Step(sql, DATA_DEPENDENT, reason, table_id, measure)


def alter_column(ctx, change):
    table_id, field_id = change["table_id"], change["field_id"]
    before = ctx.table(table_id, "old")["fields"][field_id]
    after = ctx.table(table_id)["fields"][field_id]
    relation, column = ctx.relation(table_id), ident(after["field_name"])
    alter = f"ALTER TABLE {relation} ALTER COLUMN {column}"
    steps = []
    retyped = column_type(before) != column_type(after)
    old_default, new_default = default_sql(before), default_sql(after)
    if retyped and old_default is not None:
        steps.append(Step(f"{alter} DROP DEFAULT", SAFE, "default set again after the type change"))
    collated = collate_words(before) != collate_words(after)
    if retyped:
        step = change_type(ctx, table_id, before, after)
        typed = f"{alter} TYPE {column_type(after)}"
        step.sql = typed + collate_words(after) + step.sql.removeprefix(typed)
        steps.append(step)
    elif collated:
        words = collate_words(after) or ' COLLATE "default"'
        reason = f"sets how {after['field_name']} sorts and compares; rebuilds its indexes"
        steps.append(Step(f"{alter} TYPE {column_type(after)}{words}", BLOCKING, reason))
    if new_default is not None and (retyped or new_default != old_default):
        steps.append(Step(f"{alter} SET DEFAULT {new_default}", SAFE, "sets the default"))
    elif new_default is None and old_default is not None and not retyped:
        steps.append(Step(f"{alter} DROP DEFAULT", SAFE, "drops the default"))
    if after["is_required"] and not before["is_required"]:
        steps += set_not_null(ctx, table_id, after)
    elif before["is_required"] and not after["is_required"]:
        steps.append(Step(f"{alter} DROP NOT NULL", SAFE, "makes the column optional"))
    if before["field_config"].get("description") != after["field_config"].get("description"):
        steps.append(column_comment(ctx, table_id, after))
    for step in steps:
        step.table_id = table_id
    return steps


def set_not_null(ctx, table_id, field):
    """NOT NULL through a validated CHECK, so the ACCESS EXCLUSIVE lock skips the scan:
    four steps, one statement each; only the validation can fail on the rows."""
    relation, column = ctx.relation(table_id), ident(field["field_name"])
    table_name = ctx.table(table_id)["table_name"]
    name = generated_name(table_name, field["field_name"], suffix="not_null")
    check, alter = ident(name), f"ALTER TABLE {relation}"
    reason = f"makes {field['field_name']} required: fails while rows hold NULL in it"
    measure = f"SELECT count(*) FROM {relation} WHERE {column} IS NULL"
    return [
        Step(
            f"{alter} ADD CONSTRAINT {check} CHECK ({column} IS NOT NULL) NOT VALID",
            SAFE,
            f"adds {name}, checking new rows only",
            table_id,
        ),
        Step(f"{alter} VALIDATE CONSTRAINT {check}", DATA_DEPENDENT, reason, table_id, measure),
        Step(
            f"{alter} ALTER COLUMN {column} SET NOT NULL",
            SAFE,
            f"sets NOT NULL on {field['field_name']} (the validated {name} spares the scan)",
            table_id,
        ),
        Step(f"{alter} DROP CONSTRAINT {check}", SAFE, f"drops {name}, no longer needed", table_id),
    ]
