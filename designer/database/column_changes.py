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
from designer.database.ddl_terms import identity_words
from designer.database.ddl_terms import literal
from designer.database.ddl_terms import qualified
from designer.database.ddl_terms import sequence_options
from designer.database.ddl_terms import sequence_statements
from designer.database.ddl_terms import serial_default
from designer.design.naming import generated_name
from designer.design.naming import quote_identifier as ident
from designer.design.type_changes import STRINGS
from designer.design.type_changes import family
from designer.design.type_changes import type_parts
from designer.design.type_changes import widening

# Integer types by size: a column moves up this list by a rewrite that cannot fail.
INTEGER_RANK = {"smallint": 1, "integer": 2, "bigint": 3}
# Types every value of an integer type of at most this rank fits in exactly.
EXACT_FOR_INTEGERS = {"real": 1, "double precision": 2, "numeric": 3}


def add_column(ctx, change):
    table_id, field = change["table_id"], change["after"]
    relation = ctx.relation(table_id)
    sequence = ctx.new_names.get(table_id, {}).get(("sequence", change["field_id"]))
    if sequence is not None:
        sequence = qualified(ctx.schema, sequence)
    definition = column_definition(field, sequence, ctx.table(table_id))
    sql = f"ALTER TABLE {relation} ADD COLUMN {definition}"
    steps, owned = [], None
    if field["field_config"].get("serial") and sequence is not None:
        create, owned = sequence_statements(relation, field, sequence)
        steps.append(Step(create, SAFE, f"creates the sequence of {field['field_name']}", table_id))
    generated = field["field_config"].get("generated") is not None
    if generated:
        reason = f"adds generated column {field['field_name']}: rewrites the table to compute it"
        steps.append(Step(sql, BLOCKING, reason, table_id))
    elif field["is_required"] and field.get("default_value") is None and sequence is None:
        reason = "adds a required column without a default: fails if the table has rows"
        steps.append(
            Step(sql, DATA_DEPENDENT, reason, table_id, f"SELECT count(*) FROM {relation}")
        )
    else:
        steps.append(Step(sql, SAFE, f"adds column {field['field_name']}", table_id))
    if owned is not None:
        reason = f"makes the sequence {field['field_name']}'s own"
        steps.append(Step(owned, SAFE, reason, table_id))
    if field["field_config"].get("description"):
        steps.append(column_comment(ctx, table_id, field))
    return steps


def using_expression(column, before, after):
    """The USING cast for a type change (None when PostgreSQL's own assignment cast fits)."""
    old, new = family(before), family(after)
    (old_base, _, old_dims), (new_base, _, new_dims) = type_parts(before), type_parts(after)
    if old_dims and new_dims:
        # An array casts element by element where PostgreSQL casts the elements: between
        # numbers and booleans, and to or from strings. Others (an enum, a uuid, a date, from
        # or to a number, one enum to another) go through text[], failing only for values
        # that are not the new type's.
        direct = (
            old_base == new_base
            or {old, new} <= {"number", "boolean"}
            or old_base in STRINGS + ("char",)
            or new_base in STRINGS + ("char",)
        )
        return f"{column}::{after}" if direct else f"{column}::text[]::{after}"
    if old_dims or new_dims:
        return f"{column}::text::{after}"  # fails where the values are not the new type's
    if old == new and old in ("number", "boolean"):
        return None
    if new_base in STRINGS and old_base in STRINGS + ("char",):
        return None  # the column's assignment cast refuses what is too long
    if old == "boolean" and new == "number":
        return f"CASE WHEN {column} THEN 1 ELSE 0 END"
    if old == "number" and new == "boolean":
        return f"{column} <> 0"
    if new_base in STRINGS + ("char",):
        # To text, then the column's assignment cast: varchar(n) refuses what is too long.
        return f"{column}::text"
    if old_base in STRINGS:
        return f"{column}::{after}"
    return f"{column}::text::{after}"


def never_fails(before, after):
    """Whether a type change that rewrites the table keeps every value as it is."""
    (old, old_mods, old_dims), (new, new_mods, new_dims) = type_parts(before), type_parts(after)
    if old_dims or new_dims:
        return False
    if new in STRINGS and not new_mods:
        return True  # every value has a text form
    if old in INTEGER_RANK and new in INTEGER_RANK:
        return INTEGER_RANK[new] >= INTEGER_RANK[old]
    if old in INTEGER_RANK and new in EXACT_FOR_INTEGERS and not new_mods:
        return INTEGER_RANK[old] <= EXACT_FOR_INTEGERS[new]
    if old == "real" and new == "double precision":
        return True
    return old == new == "char" and new_mods[0] >= old_mods[0]


def lossy_values(column, before, after):
    """A condition true for values the type change keeps but alters (rounds, cuts the time
    off), or None when it changes none silently."""
    (old, old_mods, dims), (new, new_mods, _) = type_parts(before), type_parts(after)
    if dims:
        return None
    if family(before) == "number" and new in INTEGER_RANK:
        return f"{column} <> round({column})" if old not in INTEGER_RANK else None
    if old == new == "numeric" and len(new_mods) == 2:
        old_scale = old_mods[1] if len(old_mods) == 2 else None
        if old_scale is None or new_mods[1] < old_scale:
            return f"{column} <> round({column}, {new_mods[1]})"
        return None
    if family(before) == "number" and new in ("real", "double precision"):
        if never_fails(before, after):
            return None
        return f"{column}::numeric <> {column}::{after}::numeric"
    if old == new and old in ("timestamp", "timestamptz", "time", "timetz", "interval"):
        return f"{column} <> {column}::{after}" if new_mods else None
    if old in ("timestamp", "timestamptz") and new == "date":
        return f"{column} <> {column}::date"
    if old in ("timestamp", "timestamptz") and new in ("time", "timetz"):
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
    base, mods, dims = type_parts(new_type)
    if base in ("varchar", "char") and mods and not dims:
        # An explicit cast to varchar(n) would cut values short silently; the column's own
        # assignment refuses them, and this counts them.
        limit = mods[0]
        measure = f"SELECT count(*) FROM {relation} WHERE char_length({column}::text) > {limit}"
        reason = f"rewrites the table; values of {name} longer than {limit} make it fail"
        return Step(sql, DATA_DEPENDENT, reason, table_id, measure)
    plain = {family(old_type), family(new_type)} == {"number", "boolean"}
    if never_fails(old_type, new_type) or plain:
        return Step(sql, BLOCKING, f"rewrites the table to make {name} {new_type}", table_id)
    measure = (
        f"SELECT count(*) FROM {relation} WHERE {column} IS NOT NULL"
        f" AND NOT pg_temp.dmd_castable({column}::text, {literal(new_type)})"
    )
    reason = f"rewrites the table; values of {name} that are not a valid {new_type} make it fail"
    return Step(sql, DATA_DEPENDENT, reason, table_id, measure)


def generation(config):
    """(expression, virtual) of a generated column, None for any other."""
    if config.get("generated") is None:
        return None
    return (config["generated"], bool(config.get("virtual")))


def readds(before, after):
    """Whether a kept column is dropped and added again: it becomes generated, or its
    expression changes (PostgreSQL 17's SET EXPRESSION is not used: a plan is made before
    it is known which server it runs on, and 16 has none)."""
    old, new = generation(before["field_config"]), generation(after["field_config"])
    return new is not None and old != new


def readded_column(ctx, table_id, before, after):
    """DROP COLUMN, then ADD COLUMN with the new definition (the caller adds back the
    indexes and constraints the drop took with it)."""
    relation, name = ctx.relation(table_id), after["field_name"]
    drop = f"ALTER TABLE {relation} DROP COLUMN {ident(before['field_name'])}"
    if generation(before["field_config"]) is None:
        reason = f"drops column {name} to add it again generated: its values are lost"
        measure = f"SELECT count(*) FROM {relation} WHERE {ident(name)} IS NOT NULL"
        first = Step(drop, DESTRUCTIVE, reason, table_id, measure)
    else:
        reason = (
            f"drops generated column {name} and adds it again with its new expression (the"
            " values are computed again); its indexes and constraints are built again"
        )
        first = Step(drop, BLOCKING, reason, table_id)
    steps = [first]
    for step in add_column(ctx, {"table_id": table_id, "field_id": after["id"], "after": after}):
        steps.append(step)
    return steps


def alter_column(ctx, change):
    table_id, field_id = change["table_id"], change["field_id"]
    before = ctx.table(table_id, "old")["fields"][field_id]
    after = ctx.table(table_id)["fields"][field_id]
    if readds(before, after):
        return readded_column(ctx, table_id, before, after)
    relation, column = ctx.relation(table_id), ident(after["field_name"])
    alter = f"ALTER TABLE {relation} ALTER COLUMN {column}"
    steps = []
    if generation(before["field_config"]) and not generation(after["field_config"]):
        reason = f"{after['field_name']} keeps its values and is no longer computed"
        steps.append(Step(f"{alter} DROP EXPRESSION", SAFE, reason))
    old_generated = generated_by(before["field_config"]) or ("",)
    if old_generated[0] == "identity" != (generated_by(after["field_config"]) or ("",))[0]:
        # First: PostgreSQL refuses an identity column a type other than an integer's, and
        # refuses to drop its NOT NULL.
        reason = f"{after['field_name']} is no longer an identity"
        steps.append(Step(f"{alter} DROP IDENTITY", SAFE, reason))
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
    steps += generation_steps(ctx, table_id, before, after, retyped)
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


def generated_by(config):
    """How a column's values are generated: ("identity", kind), ("serial",) or None."""
    if config.get("identity"):
        return ("identity", config["identity"])
    return ("serial",) if config.get("serial") else None


def generation_steps(ctx, table_id, before, after, retyped):
    """Identity and serial set, changed or removed on a kept column (after its type, default
    and NOT NULL; an identity removed goes before them): its own sequence made, switched or
    dropped."""
    old, new = generated_by(before["field_config"]), generated_by(after["field_config"])
    relation, name = ctx.relation(table_id), after["field_name"]
    alter = f"ALTER TABLE {relation} ALTER COLUMN {ident(name)}"
    key = ("sequence", after["id"])
    steps = []
    if old and new and old[0] == new[0]:
        steps += sequence_changes(ctx, table_id, before, after, retyped)
        if old != new:
            words = identity_words(after["field_config"]).removesuffix(" AS IDENTITY")
            steps.insert(0, Step(f"{alter} SET {words}", SAFE, f"makes {name} {words.lower()}"))
        return steps
    if old == new:
        return steps
    if old == ("serial",):
        sequence = qualified(ctx.schema, ctx.old_names[table_id][key])
        steps.append(Step(f"{alter} DROP DEFAULT", SAFE, f"{name} is no longer serial"))
        steps.append(Step(f"DROP SEQUENCE {sequence}", SAFE, f"drops the sequence of {name}"))
    # (An identity that goes was dropped first, by alter_column.)
    if new is None:
        return steps
    sequence = qualified(ctx.schema, ctx.new_names[table_id][key])
    reason = f"numbers new rows of {name} from 1: values already there may be taken again"
    if new[0] == "identity":
        words = identity_words(after["field_config"])
        steps.append(Step(f"{alter} ADD {words} (SEQUENCE NAME {sequence})", BLOCKING, reason))
        return steps
    create, owned = sequence_statements(relation, after, sequence)
    steps.append(Step(create, SAFE, f"creates the sequence of {name}"))
    steps.append(Step(owned, SAFE, f"makes the sequence {name}'s own"))
    steps.append(Step(f"{alter} SET DEFAULT {serial_default(sequence)}", BLOCKING, reason))
    return steps


def sequence_changes(ctx, table_id, before, after, retyped):
    """A kept identity's or serial's sequence given its new type, start or step."""
    name, config = after["field_name"], after["field_config"]
    changed = [
        key
        for key in ("sequence_start", "sequence_increment")
        if before["field_config"].get(key) != config.get(key)
    ]
    wanted = {key: config.get(key) or 1 for key in changed}
    options = sequence_options(wanted)
    if config.get("identity"):
        if not options:
            return []
        alter = f"ALTER TABLE {ctx.relation(table_id)} ALTER COLUMN {ident(name)}"
        words = options.replace(" START WITH", " SET START WITH").replace(
            " INCREMENT BY", " SET INCREMENT BY"
        )
        return [Step(f"{alter}{words}", SAFE, f"sets how {name} is numbered")]
    sequence = qualified(ctx.schema, ctx.new_names[table_id][("sequence", after["id"])])
    if retyped:
        options = f" AS {column_type(after)}" + options
    if not options:
        return []
    return [Step(f"ALTER SEQUENCE {sequence}{options}", SAFE, f"sets how {name} is numbered")]
