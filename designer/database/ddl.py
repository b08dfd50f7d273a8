"""PostgreSQL DDL from the design: CREATE scripts and ALTER migrations, as classified steps.

`migration(schema, old, new)` turns the operations of designer.history.diff (the one
diff engine) into steps of one statement each (lock-friendly forms take several:
NOT VALID then VALIDATE; NOT NULL through a validated CHECK), with its
safety class, the reason, and a query counting the rows it would break,
which deploy.py runs on the target just before the step. A CREATE script is
the migration from the empty schema. Every identifier is quoted; every
literal is quoted; names of constraints and indexes come from
designer.database.schema_objects. Pure: no database, no Flask.
"""

from designer.database import enum_changes
from designer.database.column_changes import add_column
from designer.database.column_changes import alter_column
from designer.database.column_changes import readds
from designer.database.ddl_terms import BLOCKING
from designer.database.ddl_terms import DATA_DEPENDENT
from designer.database.ddl_terms import DESTRUCTIVE
from designer.database.ddl_terms import SAFE
from designer.database.ddl_terms import Context
from designer.database.ddl_terms import Step
from designer.database.ddl_terms import check_expression
from designer.database.ddl_terms import column_comment
from designer.database.ddl_terms import column_definition
from designer.database.ddl_terms import comment_of_table
from designer.database.ddl_terms import index_key_sql
from designer.database.ddl_terms import literal
from designer.database.ddl_terms import ordered_fields
from designer.database.ddl_terms import qualified
from designer.database.ddl_terms import sequence_statements
from designer.database.schema_objects import INDEX_KINDS
from designer.database.schema_objects import STRUCTURE_KINDS
from designer.database.schema_objects import structure_item
from designer.database.schema_objects import structure_key
from designer.design.column_types import enum_types
from designer.design.naming import generated_name
from designer.design.naming import quote_identifier as ident
from designer.design.partitions import key_sql as partition_key_words
from designer.design.partitions import parent_id
from designer.design.partitions import partition_by
from designer.design.partitions import partition_of
from designer.design.structure import expression_sql
from designer.design.structure import items
from designer.history.diff import diff
from designer.history.diff import empty_snapshot


def migration(schema, old, new, changes=None):
    """The steps that turn the deployed snapshot `old` into `new` (None: empty schema)."""
    old = old or empty_snapshot()
    new = new or empty_snapshot()
    changes = diff(old, new) if changes is None else changes
    # Enum types by their names in the new design (a dropped one's by its old name).
    with enum_types({**old.get("enums", {}), **new.get("enums", {})}, schema):
        return migration_steps(schema, old, new, changes)


def migration_steps(schema, old, new, changes):
    ctx = Context(schema, old, new)
    by_op = {}
    for change in changes:
        by_op.setdefault(change["op"], []).append(change)
    created = {c["table_id"] for c in by_op.get("add_table", [])}
    dropped = {c["table_id"] for c in by_op.get("drop_table", [])}
    # A table whose partitioning changes is made again (PostgreSQL changes it in no other
    # way), with its partitions: dropped and created, its other changes with it.
    recreated = remade(old, new, created, dropped)
    if recreated:
        created, dropped = created | recreated, dropped | recreated
        by_op = {
            op: [c for c in group if c.get("table_id") not in recreated]
            for op, group in by_op.items()
        }
    kept = [tid for tid in new["tables"] if tid in old["tables"] and tid not in recreated]
    steps = []
    foreign, others = drop_objects(ctx, kept)
    # Foreign keys first, then the tables that go (with the foreign keys they hold), so
    # that the keys and columns of kept tables that those used can go after them.
    steps += foreign
    steps += drop_tables(ctx, dropped)
    steps += others
    steps += [
        drop_column(ctx, c) for c in by_op.get("drop_field", []) if c["table_id"] not in dropped
    ]
    steps += renames(ctx, by_op, kept)
    steps += [enum_changes.created(ctx, c) for c in by_op.get("add_enum", [])]
    steps += [s for c in by_op.get("alter_enum", []) for s in enum_changes.altered(ctx, c)]

    # Partitions after the tables they are partitions of.
    def order(tid):
        return (
            parent_id(new["tables"][tid]) is not None,
            new["tables"][tid]["table_name"],
        )

    for table_id in sorted(created, key=order):
        steps += create_table(ctx, table_id)
    steps += rebound(ctx, kept)
    for change in by_op.get("add_field", []):
        if change["table_id"] not in created:
            steps += add_column(ctx, change)
    for change in by_op.get("alter_field", []):
        steps += alter_column(ctx, change)
        steps += readded_objects(ctx, change)
    steps += add_objects(ctx, kept, foreign=False)
    steps += add_foreign_keys(ctx, kept, created)
    comments = [table_comment(ctx, c) for c in by_op.get("alter_table", []) if commented(c)]
    steps += [step for step in comments if step is not None]
    steps += structure_comments(ctx, created, kept)
    return steps + [enum_changes.dropped(ctx, c) for c in by_op.get("drop_enum", [])]


def create_script(schema, snapshot):
    """The full CREATE script of a snapshot, as steps (schema creation first)."""
    first = Step(f"CREATE SCHEMA IF NOT EXISTS {ident(schema)}", SAFE, "creates the schema")
    return [first, *migration(schema, None, snapshot)]


def script(steps):
    """The steps as one SQL text, a statement per line group."""
    return "".join(f"{step.sql};\n" for step in steps)


def drop_objects(ctx, kept):
    """Constraints and indexes of kept tables that go: (foreign keys, the others), dropped
    in that order so that keys the foreign keys use can go too."""
    foreign, other = [], []
    for table_id in kept:
        old, new = ctx.old_names.get(table_id, {}), ctx.new_names.get(table_id, {})
        if old == new:
            continue
        for key, name in old.items():
            # An identity's sequence goes with its column.
            if key in new or key[0] == "sequence":
                continue
            relation = ctx.relation(table_id, "old")
            if key[0] in INDEX_KINDS:
                sql = f"DROP INDEX {qualified(ctx.schema, name)}"
            else:
                sql = f"ALTER TABLE {relation} DROP CONSTRAINT {ident(name)}"
            reason = f"drops {name}"
            kind = SAFE
            if key[0] == "pkey":
                kind = BLOCKING
                reason = (
                    f"drops the primary key {name}: its columns are no longer kept unique by it"
                )
            (foreign if key[0] == "fkey" else other).append(Step(sql, kind, reason, table_id))
    return foreign, other


def drop_column(ctx, change):
    table_id, field = change["table_id"], change["before"]
    relation, column = ctx.relation(table_id, "old"), ident(field["field_name"])
    return Step(
        f"ALTER TABLE {relation} DROP COLUMN {column}",
        DESTRUCTIVE,
        f"drops column {field['field_name']}: its values are lost",
        table_id,
        f"SELECT count(*) FROM {relation} WHERE {column} IS NOT NULL",
    )


def drop_tables(ctx, dropped):
    """DROP TABLE for each dropped table, tables holding foreign keys before those they use."""
    remaining, steps = set(dropped), []
    while remaining:
        used = {
            rel["source_table_id"]
            for rel in ctx.old["relationships"].values()
            if rel["target_table_id"] in remaining
            and rel["target_table_id"] != rel["source_table_id"]
        }
        used |= {parent_id(ctx.table(tid, "old")) for tid in remaining}
        ready = sorted(remaining - used) or sorted(remaining)
        for table_id in ready:
            relation = ctx.relation(table_id, "old")
            steps.append(
                Step(
                    f"DROP TABLE {relation}",
                    DESTRUCTIVE,
                    f"drops table {ctx.table(table_id, 'old')['table_name']} and all its rows",
                    table_id,
                    f"SELECT count(*) FROM {relation}",
                )
            )
        remaining -= set(ready)
    return steps


def renamed_in_two_phases(pairs, statement, temporary):
    """Rename statements for (before, after, ...) pairs; through temporary names when
    one object takes a name another gives up in the same plan (a swap)."""
    befores = {pair[0] for pair in pairs}
    if not any(pair[1] in befores for pair in pairs):
        return [statement(*pair) for pair in pairs]
    first = [statement(pair[0], temporary(pair), *pair[2:]) for pair in pairs]
    return first + [statement(temporary(pair), *pair[1:]) for pair in pairs]


def rename_tables(ctx, changes):
    pairs = [(c["before"], c["after"], c["table_id"]) for c in changes]

    def statement(before, after, table_id):
        sql = f"ALTER TABLE {qualified(ctx.schema, before)} RENAME TO {ident(after)}"
        return Step(sql, SAFE, f"renames table {before} to {after} (rows kept)", table_id)

    return renamed_in_two_phases(
        pairs, statement, lambda p: generated_name("tmp", p[2], suffix="t")
    )


def rename_columns(ctx, changes):
    steps = []
    by_table = {}
    for change in changes:
        by_table.setdefault(change["table_id"], []).append(change)
    for table_id, group in by_table.items():
        relation = ctx.relation(table_id)
        pairs = [(c["before"], c["after"], c["field_id"]) for c in group]

        def statement(before, after, field_id, relation=relation, table_id=table_id):
            sql = f"ALTER TABLE {relation} RENAME COLUMN {ident(before)} TO {ident(after)}"
            return Step(sql, SAFE, f"renames column {before} to {after} (values kept)", table_id)

        temporary = lambda p: generated_name("tmp", p[2], suffix="c")  # noqa: E731
        steps += renamed_in_two_phases(pairs, statement, temporary)
    return steps


def renames(ctx, by_op, kept):
    """Table, column and generated-name renames, in an order where no name is taken twice.

    Tables, indexes and sequences share the schema's namespace: a table may be
    renamed to the name another table's index or sequence gives up in the same
    plan (a_id_seq). Then the generated names step aside to temporary names
    first, and take their new names last.
    """
    tables = rename_tables(ctx, by_op.get("rename_table", []))
    columns = rename_columns(ctx, by_op.get("rename_field", []))
    objects = object_pairs(ctx, kept)
    given_up = {pair[0] for pair in objects}
    if not any(change["after"] in given_up for change in by_op.get("rename_table", [])):
        in_place = lambda *pair: rename_object(ctx, *pair, "new")  # noqa: E731
        return tables + columns + renamed_in_two_phases(objects, in_place, temporary)
    aside = [rename_object(ctx, p[0], temporary(p), p[2], p[3], "old") for p in objects]
    back = [rename_object(ctx, temporary(p), p[1], p[2], p[3], "new") for p in objects]
    return aside + tables + columns + back


def object_pairs(ctx, kept):
    """(old name, new name, table id, kind) of constraints, indexes and sequences whose
    generated name follows a table or column rename."""
    pairs = []
    for table_id in kept:
        old, new = ctx.old_names.get(table_id, {}), ctx.new_names.get(table_id, {})
        if old == new:
            continue
        pairs += [(old[k], new[k], table_id, k[0]) for k in old if k in new and old[k] != new[k]]
    return pairs


def temporary(pair):
    return generated_name("tmp", pair[0], suffix="o")


def rename_object(ctx, before, after, table_id, kind, side):
    """One generated name's rename; constraints name their table as it is called then."""
    if kind in ("index", "sequence", "table_index"):
        what = "SEQUENCE" if kind == "sequence" else "INDEX"
        sql = f"ALTER {what} {qualified(ctx.schema, before)} RENAME TO {ident(after)}"
    else:
        relation = ctx.relation(table_id, side)
        sql = f"ALTER TABLE {relation} RENAME CONSTRAINT {ident(before)} TO {ident(after)}"
    return Step(sql, SAFE, f"renames {before} to {after}", table_id)


def create_table(ctx, table_id):
    """CREATE TABLE with its columns, keys and checks; then its indexes and comments."""
    table = ctx.table(table_id)
    names = ctx.new_names[table_id]
    sequences = {
        key[1]: qualified(ctx.schema, name) for key, name in names.items() if key[0] == "sequence"
    }
    fields = ordered_fields(table)
    lines = [column_definition(f, sequences.get(f["id"]), table) for f in fields]
    serials = [
        (f, *sequence_statements(ctx.relation(table_id), f, sequences[f["id"]]))
        for f in fields
        if f["field_config"].get("serial") and f["id"] in sequences
    ]
    constraints = [
        (key, name)
        for key, name in names.items()
        if key[0] not in ("index", "fkey", "sequence", "table_index")
    ]
    repeated = repeated_uniques(table, [key for key, _ in constraints])
    lines += [ctx.constraint_clause(table_id, k, n) for k, n in constraints if k not in repeated]
    relation = ctx.relation(table_id)
    body = ",\n    ".join(lines)
    sql = f"CREATE TABLE {relation} (\n    {body}\n)"
    if partition_of(table):
        # Its columns, keys and indexes are its parent's: PostgreSQL gives them to it.
        spec = partition_of(table)
        sql = (
            f"CREATE TABLE {relation} PARTITION OF {ctx.relation(spec['table_id'])} {spec['bound']}"
        )
    elif partition_by(table):
        sql += f"\nPARTITION BY {partition_key_sql(table)}"
    steps = [
        Step(create, SAFE, f"creates the sequence of {f['field_name']}", table_id)
        for f, create, _ in serials
    ]
    steps.append(Step(sql, SAFE, "creates the table", table_id))
    steps += [
        Step(owned, SAFE, f"makes the sequence {f['field_name']}'s own", table_id)
        for f, _, owned in serials
    ]
    steps += [
        Step(
            f"ALTER TABLE {relation} ADD {ctx.constraint_clause(table_id, key, name)}",
            SAFE,
            "adds a unique constraint over the columns of another (kept apart, as designed)",
            table_id,
        )
        for key, name in constraints
        if key in repeated and not partition_of(table)
    ]
    steps += [
        Step(ctx.index_statement(table_id, key, name), SAFE, "indexes a new table", table_id)
        for key, name in names.items()
        if key[0] in INDEX_KINDS
    ]
    comment = comment_of_table(table)
    if comment:
        steps.append(
            Step(f"COMMENT ON TABLE {relation} IS {literal(comment)}", SAFE, "comment", table_id)
        )
    for field in ordered_fields(table):
        if field["field_config"].get("description"):
            steps.append(column_comment(ctx, table_id, field))
    return steps


def remade(old, new, created, dropped):
    """Kept tables whose partitioning changed (key, or the parent a partition is of), and the
    partitions of those, on both sides."""
    found = set()
    for table_id, table in new["tables"].items():
        before = old["tables"].get(table_id)
        if before is None or table_id in created:
            continue
        if partition_by(before) != partition_by(table) or parent_id(before) != parent_id(table):
            found.add(table_id)
    more = True
    while more:
        more = False
        for snapshot in (old, new):
            for table_id, table in snapshot["tables"].items():
                if (
                    parent_id(table) in found
                    and table_id not in found
                    and table_id in old["tables"]
                    and table_id in new["tables"]
                ):
                    found.add(table_id)
                    more = True
    return found - created - dropped


def rebound(ctx, kept):
    """A partition whose bound changed: detached, then attached with the new bound (which
    checks its rows against it)."""
    steps = []
    for table_id in kept:
        before, after = partition_of(ctx.table(table_id, "old")), partition_of(ctx.table(table_id))
        if not after or before == after:
            continue
        parent, relation = ctx.relation(after["table_id"]), ctx.relation(table_id)
        name = ctx.table(table_id)["table_name"]
        steps.append(
            Step(
                f"ALTER TABLE {parent} DETACH PARTITION {relation}", BLOCKING,
                f"detaches partition {name} to give it its new bound", table_id,
            )
        )  # fmt: skip
        measure = f"SELECT count(*) FROM {relation}"
        steps.append(
            Step(
                f"ALTER TABLE {parent} ATTACH PARTITION {relation} {after['bound']}",
                DATA_DEPENDENT,
                f"attaches partition {name} with its new bound: fails on rows outside it",
                table_id,
                measure,
            )
        )
    return steps


def partition_key_sql(table):
    """PARTITION BY's words for a parent: method and keys, columns by their names."""
    return partition_key_words(
        table,
        lambda fid: ident(table["fields"][fid]["field_name"]),
        lambda key: expression_sql(table, key["expression"]),
    )


def unique_columns(table, key):
    """The columns (field ids, in order) a key or unique constraint is made of, or None."""
    if key[0] in ("pkey", "unique", "unique_together"):
        return tuple(key[1:])
    if key[0] == "table_unique":
        return tuple(structure_item(table, key)["columns"])
    return None


def repeated_uniques(table, keys):
    """The unique constraints (and keys) over the same columns in the same order as the
    primary key or an earlier one. CREATE TABLE keeps one of such equal constraints and
    silently leaves the others out, where ALTER TABLE ADD keeps each: they are added after
    the table, so deploying a design builds what migrating to it builds."""
    primary = next((unique_columns(table, k) for k in keys if k[0] == "pkey"), None)
    seen = {primary} if primary else set()
    repeated = set()
    for key in keys:
        columns = unique_columns(table, key)
        if columns is None or key[0] == "pkey":
            continue
        if columns in seen:
            repeated.add(key)
        seen.add(columns)
    return repeated


def readded_objects(ctx, change):
    """The kept indexes and constraints on a column dropped and added again (a generated
    column's new expression): the drop took them, so they are built again."""
    table_id, field_id = change["table_id"], change["field_id"]
    before = ctx.table(table_id, "old")["fields"][field_id]
    if not readds(before, ctx.table(table_id)["fields"][field_id]):
        return []
    old = ctx.old_names.get(table_id, {})
    steps = []
    for key, name in ctx.new_names[table_id].items():
        if key in old and key[0] != "sequence" and any(field_id in str(part) for part in key):
            steps += add_object(ctx, table_id, key, name)
    return steps


def added_keys(ctx, table_id):
    old = ctx.old_names.get(table_id, {})
    return [(key, name) for key, name in ctx.new_names[table_id].items() if key not in old]


def add_objects(ctx, kept, foreign):
    steps = []
    for table_id in kept:
        if ctx.old_names.get(table_id) == ctx.new_names.get(table_id):
            continue
        for key, name in added_keys(ctx, table_id):
            # An identity's sequence comes with its column (add_column names it).
            if key[0] != "sequence" and (key[0] == "fkey") == foreign:
                steps += add_object(ctx, table_id, key, name)
    return steps


def add_object(ctx, table_id, key, name):
    """The steps adding one named object to a kept table: a check or a foreign key is added
    NOT VALID, then validated in a step of its own (one statement a step)."""
    relation = ctx.relation(table_id)
    table = ctx.table(table_id)
    if key[0] in INDEX_KINDS:
        statement = ctx.index_statement(table_id, key, name)
        if key[0] == "table_index" and structure_item(table, key)["unique"]:
            reason = "builds a unique index: fails on duplicate values; writes wait meanwhile"
            measure = unique_index_measure(table, structure_item(table, key), relation)
            return [Step(statement, DATA_DEPENDENT, reason, table_id, measure)]
        reason = "builds an index; writes to the table wait until it is built"
        return [Step(statement, BLOCKING, reason, table_id)]
    clause = ctx.constraint_clause(table_id, key, name)
    if key[0] == "pkey":
        return [add_primary_key(relation, table, key, clause, table_id)]
    if key[0] in ("unique", "unique_together", "table_unique"):
        fids = structure_item(table, key)["columns"] if key[0] == "table_unique" else key[1:]
        columns = [ident(table["fields"][f]["field_name"]) for f in fids]
        listed = ", ".join(columns)
        present = " AND ".join(f"{c} IS NOT NULL" for c in columns)
        measure = (
            f"SELECT coalesce(sum(n - 1), 0)::bigint FROM (SELECT count(*) AS n FROM {relation}"
            f" WHERE {present} GROUP BY {listed} HAVING count(*) > 1) AS d"
        )
        reason = "adds a unique constraint (builds its index): fails on duplicate values"
        return [
            Step(f"ALTER TABLE {relation} ADD {clause}", DATA_DEPENDENT, reason, table_id, measure)
        ]
    added = Step(
        f"ALTER TABLE {relation} ADD {clause} NOT VALID",
        SAFE,
        f"adds {name}, checking new rows only (existing rows are checked next)",
        table_id,
    )
    validate = f"ALTER TABLE {relation} VALIDATE CONSTRAINT {ident(name)}"
    if key[0] == "check":
        field = table["fields"][key[1]]
        measure = (
            f"SELECT count(*) FROM {relation} WHERE NOT ({check_expression(field, *key[2:4])})"
        )
        reason = f"checks the rows against {name} ({key[2]}): fails on rows that break it"
        return [added, Step(validate, DATA_DEPENDENT, reason, table_id, measure)]
    if key[0] == "table_check":
        expression = expression_sql(table, structure_item(table, key)["expression"])
        measure = f"SELECT count(*) FROM {relation} WHERE NOT ({expression})"
        reason = f"checks the rows against {name}: fails on rows that break it"
        return [added, Step(validate, DATA_DEPENDENT, reason, table_id, measure)]
    source = ctx.table(key[3])
    columns = [ident(table["fields"][f]["field_name"]) for f in key[2]]
    keys = [ident(source["fields"][f]["field_name"]) for f in key[4]]
    # MATCH SIMPLE: a row with any of its columns NULL points at nothing and is kept.
    present = " AND ".join(f"t.{c} IS NOT NULL" for c in columns)
    matched = " AND ".join(f"s.{k} = t.{c}" for k, c in zip(keys, columns, strict=True))
    measure = (
        f"SELECT count(*) FROM {relation} AS t WHERE {present} AND NOT EXISTS"
        f" (SELECT 1 FROM {qualified(ctx.schema, source['table_name'])} AS s WHERE {matched})"
    )
    reason = f"checks the rows against {name} (a foreign key): fails on rows pointing at nothing"
    if partition_by(table):
        # PostgreSQL (before 18) adds no NOT VALID foreign key to a partitioned table.
        sql = f"ALTER TABLE {relation} ADD {clause}"
        return [Step(sql, DATA_DEPENDENT, f"adds {name}: {reason}", table_id, measure)]
    return [added, Step(validate, DATA_DEPENDENT, reason, table_id, measure)]


def add_primary_key(relation, table, key, clause, table_id):
    """ADD PRIMARY KEY on a kept table: it fails on duplicates and on NULLs, counted first."""
    columns = [ident(table["fields"][f]["field_name"]) for f in key[1:]]
    listed = ", ".join(columns)
    missing = " OR ".join(f"{c} IS NULL" for c in columns)
    measure = (
        f"SELECT (SELECT count(*) FROM {relation} WHERE {missing})"
        f" + (SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM {relation}"
        f" GROUP BY {listed} HAVING count(*) > 1) AS d)::bigint"
    )
    reason = (
        f"makes ({', '.join(table['fields'][f]['field_name'] for f in key[1:])}) the primary key"
        " (builds its index): fails on empty or duplicate values"
    )
    return Step(f"ALTER TABLE {relation} ADD {clause}", DATA_DEPENDENT, reason, table_id, measure)


def add_foreign_keys(ctx, kept, created):
    steps = add_objects(ctx, kept, foreign=True)
    for table_id in sorted(created, key=lambda tid: ctx.table(tid)["table_name"]):
        for key, name in ctx.new_names[table_id].items():
            if key[0] == "fkey":
                clause = ctx.constraint_clause(table_id, key, name)
                sql = f"ALTER TABLE {ctx.relation(table_id)} ADD {clause}"
                steps.append(Step(sql, SAFE, "links a new table", table_id))
    return steps


def commented(change):
    return "description" in change["changes"] or "status" in change["changes"]


def table_comment(ctx, change):
    table = ctx.table(change["table_id"])
    if comment_of_table(ctx.table(change["table_id"], "old")) == comment_of_table(table):
        return None
    comment = comment_of_table(table)
    value = literal(comment) if comment else "NULL"
    relation = ctx.relation(change["table_id"])
    return Step(f"COMMENT ON TABLE {relation} IS {value}", SAFE, "comment", change["table_id"])


def unique_index_measure(table, item, relation):
    """How many rows a new unique index finds duplicated (NULLs are never equal)."""
    keys = [index_key_sql(table, {**k, "descending": False, "nulls": None}) for k in item["keys"]]
    present = [f"{key} IS NOT NULL" for key in keys]
    if item["where"] is not None:
        present.append(f"({expression_sql(table, item['where'])})")
    return (
        f"SELECT coalesce(sum(n - 1), 0)::bigint FROM (SELECT count(*) AS n FROM {relation}"
        f" WHERE {' AND '.join(present)} GROUP BY {', '.join(keys)} HAVING count(*) > 1) AS d"
    )


def structure_comments(ctx, created, kept):
    """COMMENT ON CONSTRAINT / INDEX for structure items whose comment is new or changed
    (a recreated item has lost its comment with its old object)."""
    steps = []
    for table_id in sorted(created) + kept:
        table, old_table = ctx.table(table_id), ctx.old["tables"].get(table_id)
        old_names = ctx.old_names.get(table_id, {})
        for kind, object_kind in STRUCTURE_KINDS.items():
            for item_id, item in sorted(items(table, kind).items()):
                key = structure_key(object_kind, item)
                before = None
                if old_table is not None and key in old_names:
                    before = items(old_table, kind)[item_id]["comment"]
                if before == item["comment"]:
                    continue
                name = ctx.new_names[table_id][key]
                value = literal(item["comment"]) if item["comment"] else "NULL"
                if object_kind == "table_index":
                    target = f"INDEX {qualified(ctx.schema, name)}"
                else:
                    target = f"CONSTRAINT {ident(name)} ON {ctx.relation(table_id)}"
                steps.append(Step(f"COMMENT ON {target} IS {value}", SAFE, "comment", table_id))
    return steps
