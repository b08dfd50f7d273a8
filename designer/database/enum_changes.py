"""Enum types in a migration: CREATE TYPE ... AS ENUM before the tables that use them, a
rename, new labels (ADD VALUE BEFORE/AFTER) and renamed ones (RENAME VALUE), and DROP TYPE
once no column of the design uses it.

PostgreSQL never drops a label, so a design that drops one from a deployed enum cannot be
planned (UnsafeSetting says so); nor can kept labels change order. A label that is neither
kept nor new in the same place between two kept ones is a rename of the old label there.
Every name is quoted and every label is a literal. Pure: no database, no Flask.
"""

from designer.database.ddl_terms import SAFE
from designer.database.ddl_terms import Step
from designer.database.ddl_terms import literal
from designer.database.ddl_terms import qualified
from designer.design.enum_rules import paired
from designer.design.naming import quote_identifier as ident


def created(ctx, change):
    enum = change["after"]
    labels = ", ".join(literal(label) for label in enum["labels"])
    sql = f"CREATE TYPE {qualified(ctx.schema, enum['name'])} AS ENUM ({labels})"
    return Step(sql, SAFE, f"creates enum type {enum['name']}")


def altered(ctx, change):
    before = ctx.old["enums"][change["enum_id"]]
    after = ctx.new["enums"][change["enum_id"]]
    steps = []
    if before["name"] != after["name"]:
        sql = f"ALTER TYPE {qualified(ctx.schema, before['name'])} RENAME TO {ident(after['name'])}"
        steps.append(Step(sql, SAFE, f"renames enum type {before['name']} to {after['name']}"))
    relation = qualified(ctx.schema, after["name"])
    for label, new in label_renames(before["labels"], after["labels"]):
        sql = f"ALTER TYPE {relation} RENAME VALUE {literal(label)} TO {literal(new)}"
        steps.append(Step(sql, SAFE, f"renames label {label} of {after['name']} (values kept)"))
    for label, where, neighbour in label_additions(before["labels"], after["labels"]):
        sql = f"ALTER TYPE {relation} ADD VALUE {literal(label)} {where} {literal(neighbour)}"
        steps.append(Step(sql, SAFE, f"adds label {label} to {after['name']}"))
    return steps


def dropped(ctx, change):
    name = change["before"]["name"]
    sql = f"DROP TYPE {qualified(ctx.schema, name)}"
    return Step(sql, SAFE, f"drops enum type {name}, which no column uses")


def label_renames(before, after):
    return paired(before, after)[0]


def label_additions(before, after):
    """(label, BEFORE or AFTER, neighbour) for each new label, in the new order: each goes
    after the label before it in the new list (before the first label when it leads)."""
    _, added = paired(before, after)
    first_present = next(label for label in after if label not in set(added))
    steps = []
    for label in added:
        position = after.index(label)
        if position == 0:
            steps.append((label, "BEFORE", first_present))
        else:
            steps.append((label, "AFTER", after[position - 1]))
    return steps
