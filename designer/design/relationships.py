"""One-to-many relationships between tables of a project, and junction tables.

The "one" side (source) offers its id or a unique field; the "many" side
(target) holds the foreign key, an existing field of the same type or a new
`<source>_id` bigint. Cycles through two or more tables are refused, naming
the cycle; a table may refer to itself (parent_id).
"""

import re

from peewee import IntegrityError

from designer import locks
from designer.activity import recording
from designer.db import database
from designer.db import parse_id
from designer.db import update_at_revision
from designer.design.dependents import LIVE
from designer.design.dependents import find_cycle
from designer.design.field_types import pg_type
from designer.design.field_types import type_settings
from designer.design.keys import MAX_KEY_COLUMNS
from designer.design.keys import primary_key_fields
from designer.design.keys import referenced_key
from designer.design.naming import foreign_key_name
from designer.design.naming import generated_name
from designer.design.naming import identifier_problem
from designer.design.naming import shorten
from designer.design.naming import singular
from designer.design.naming import singular_phrase
from designer.design.tables import refresh_definition
from designer.design.tables import structure_of
from designer.errors import NotFound
from designer.errors import ValidationFailed
from designer.models import DataField
from designer.models import DataTable
from designer.models import TableRelationship
from designer.projects import access
from designer.projects import serialize_changes
from designer.settings import settings

ACTIONS = ("no_action", "restrict", "cascade", "set_null", "set_default")
PROBLEM = "Please correct the marked fields."


def fail(field, message):
    raise ValidationFailed(message, {field: message})


def project_relationships(project_id):
    return list(
        TableRelationship.select()
        .where(TableRelationship.project == project_id, LIVE)
        .order_by(TableRelationship.relationship_name)
    )


def project_table(project_id, table_id, side):
    # A table of another project is answered like no table at all: ids are not probed.
    table = DataTable.get_or_none(
        DataTable.id == parse_id(table_id, "table"), DataTable.project == project_id
    )
    if table is None:
        fail(f"{side}_table_id", "Choose a table of this project.")
    if table.status == "deleted":
        fail(f"{side}_table_id", f"{table.name} is deleted; restore it first.")
    return table


def table_entry(table, fields=None):
    """The table as designer.design.keys reads it: its fields' configs and its structure."""
    fields = list(table.fields) if fields is None else fields
    return {
        "fields": {str(f.id): {"field_config": f.field_config} for f in fields},
        "structure": structure_of(table.id),
    }


def key_field(table, field_id):
    """The "one" side's key: its one-column primary key, or a field that is unique."""
    fields = {f.id: f for f in table.fields}
    entry = table_entry(table, list(fields.values()))
    if not field_id:
        primary = primary_key_fields(entry)
        if len(primary) != 1:
            fail(
                "source_field_id",
                f"The key of {table.name} is not one column: choose the key columns.",
            )
        return fields[parse_id(primary[0], "field")]
    field = fields.get(parse_id(field_id, "field"))
    if field is None:
        fail("source_field_id", f"Choose a field of {table.name}.")
    if referenced_key(entry, [str(field.id)]) is None:
        fail("source_field_id", f"{field.name} is neither the key nor unique: it cannot be a key.")
    return field


def key_fields(table, field_ids):
    """The "one" side's key columns for a composite foreign key: together its primary key or
    one of its unique keys, in the order given."""
    fields = {f.id: f for f in table.fields}
    chosen = []
    for raw in field_ids:
        field = fields.get(parse_id(raw, "field"))
        if field is None:
            fail("source_field_id", f"Choose fields of {table.name}.")
        chosen.append(field)
    entry = table_entry(table, list(fields.values()))
    if referenced_key(entry, [str(f.id) for f in chosen]) is None:
        names = ", ".join(f.field_name for f in chosen)
        fail("source_field_id", f"({names}) is neither the key of {table.name} nor unique.")
    return chosen


def cascade_of(data, target_field, key):
    config = data.get("cascade_config") if isinstance(data.get("cascade_config"), dict) else {}
    result = {}
    for event in ("on_delete", "on_update"):
        action = str(data.get(event) or config.get(event) or "no_action")
        if action not in ACTIONS:
            fail(event, f"Choose one of: {', '.join(ACTIONS)}.")
        result[event] = action
    if target_field is not None:
        for event, action in result.items():
            if action == "set_null" and target_field.is_required:
                fail(event, f"{target_field.name} is required, so it cannot be set to null.")
            if action == "set_default" and target_field.default_value is None:
                fail(event, f"{target_field.name} has no default to set.")
    return result


def check_types(key, key_table, foreign, foreign_table):
    key_type = pg_type(key.data_type, key.field_config)
    foreign_type = pg_type(foreign.data_type, foreign.field_config)
    if key_type != foreign_type:
        fail(
            "target_field_id",
            f"Type mismatch: {foreign_table.table_name}.{foreign.field_name} is {foreign_type} "
            f"but {key_table.table_name}.{key.field_name} is {key_type}.",
        )


def refuse_cycle(project_id, source, target):
    cycle = find_cycle(project_id, source.id, target.id)
    if cycle:
        names = {t.id: t.table_name for t in DataTable.select().where(DataTable.id.in_(cycle))}
        path = " → ".join(names[table_id] for table_id in cycle)
        fail("target_table_id", f"This would make a cycle: {path}.")


def foreign_key_field(target, key, source, field_id):
    """The "many" side's field: the chosen one, or None to create <source>_id."""
    if not field_id or field_id == "new":
        return None
    field = DataField.get_or_none(
        DataField.id == parse_id(field_id, "field"), DataField.data_table == target.id
    )
    if field is None:
        fail("target_field_id", f"Choose a field of {target.name}.")
    if field.field_config.get("system"):
        fail("target_field_id", "The id column cannot be a foreign key; choose another field.")
    check_types(key, source, field, target)
    return field


def new_foreign_key(target, source, key, chosen="", label=None):
    """The "many" table's new column holding the key: the chosen name, or one
    suggested from the "one" table (author_id, parent_id for a self-reference)."""
    name = str(chosen or "").strip()
    if name:
        problem = identifier_problem(name, "field")
        if problem:
            fail("foreign_key_name", problem)
    else:
        name = foreign_key_name(source.table_name, self_reference=source.id == target.id)
        if identifier_problem(name, "field"):
            name = generated_name(source.table_name[:50], suffix="id")
    last = max((f.sort_order for f in target.fields), default=0)
    self_reference = source.id == target.id
    if label is None:
        label = (
            "Parent ID" if self_reference and not chosen else f"{singular_phrase(source.name)} ID"
        )
    label = free_label(target, label, name)
    # Exactly the key's type, which a foreign key must have (no identity, no key settings).
    config = type_settings(key.field_config)
    try:
        with database.atomic():
            return DataField.create(
                data_table=target, name=label, field_name=name,
                data_type=key.data_type, field_config=config, sort_order=last + 1,
            )  # fmt: skip
    except IntegrityError:
        fail(
            "foreign_key_name" if chosen else "target_field_id",
            f"{target.name} already has a {name} column; choose it, or another name.",
        )


def free_label(target, label, column):
    """A display name no field of the target has yet. A second link from the same table
    would repeat "Customer ID"; it is then named after its own column (billing_customer_id:
    "Billing customer ID"), and numbered only if that is taken too."""
    taken = {f.name.casefold() for f in target.fields}
    if label.casefold() not in taken:
        return label
    words = column.replace("_", " ").strip()
    candidate = re.sub(r"\bid$", "ID", words[:1].upper() + words[1:])[:200]
    number = 2
    while candidate.casefold() in taken:
        candidate = f"{label[:190]} {number}"
        number += 1
    return candidate


def composite_label(source, key):
    """A new column's display name for one key column of a composite link: the key's own
    name after the source's (Store code of Shelves: "Shelf Store code"), said once when
    the key's name already starts with it ("Shelf no", not "Shelf Shelf no")."""
    phrase = singular_phrase(source.name)
    if key.name.casefold().startswith(phrase.casefold() + " "):
        return key.name[:200]
    return f"{phrase} {key.name}"[:200]


def create_relationship(user, project_id, data, lock_token=None):
    """Link two tables of a project with a one-to-many relationship."""
    granted = access(user, project_id, "editor")
    if data.get("relationship_type", "one_to_many") == "many_to_many":
        from designer.design.junctions import create_junction

        return create_junction(user, granted, data)
    with recording(granted.project.id, user) as log:
        # One relationship change per project at a time, so two concurrent
        # edges cannot close a cycle neither of them saw.
        serialize_changes(granted.project.id)
        rel = add_one_to_many(user, granted.project.id, data, lock_token)
        log.add("relationship.created", f"linked {rel.relationship_name}", rel.id)
    return rel


def add_one_to_many(user, project_id, data, lock_token=None):
    source = project_table(project_id, data.get("source_table_id"), "source")
    target = project_table(project_id, data.get("target_table_id"), "target")
    # The foreign key lives in the target; the source only must not be someone else's.
    locks.require_write(target.id, user, lock_token)
    locks.refuse_others(source.id, user)
    pairs = requested_pairs(data)
    if not pairs and not data.get("source_field_id"):
        # The source's own key, when it spans several columns: a new column for each.
        primary = primary_key_fields(table_entry(source))
        if len(primary) > 1 and data.get("target_field_id") in (None, "", "new"):
            pairs = [(key, "new") for key in primary]
    if pairs:
        return add_composite(user, project_id, source, target, pairs, data)
    key = key_field(source, data.get("source_field_id"))
    foreign = foreign_key_field(target, key, source, data.get("target_field_id"))
    cascade = cascade_of(data, foreign, key)
    refuse_cycle(project_id, source, target)
    if foreign is None:
        foreign = new_foreign_key(target, source, key, data.get("foreign_key_name"))
        cascade_of({"cascade_config": cascade}, foreign, key)
        refresh_definition(target)
    name = str(data.get("relationship_name") or "").strip() or generated_name(
        target.table_name, foreign.field_name, suffix="fkey"
    )
    problem = identifier_problem(name, "table")
    if problem:
        fail("relationship_name", problem.replace("table name", "relationship name"))
    try:
        with database.atomic():
            return TableRelationship.create(
                project=project_id, source_table=source, source_field=key, target_table=target,
                target_field=foreign, relationship_name=name, cascade_config=cascade,
                created_by=user,
            )  # fmt: skip
    except IntegrityError:
        fail("relationship_name", "Another relationship of this project has this name.")


def requested_pairs(data):
    """[(key field id, foreign key field id or "new")] of a composite foreign key: the API's
    "pairs", or the form's source_field_ids and target_field_ids; [] for one column."""
    pairs = data.get("pairs")
    if pairs is None and data.get("source_field_ids"):
        keys, foreigns = data.get("source_field_ids"), data.get("target_field_ids") or []
        keys = [keys] if isinstance(keys, str) else list(keys)
        foreigns = [foreigns] if isinstance(foreigns, str) else list(foreigns)
        foreigns += ["new"] * (len(keys) - len(foreigns))
        pairs = [[k, f] for k, f in zip(keys, foreigns, strict=False) if k]
    if pairs is None:
        return []
    if not isinstance(pairs, list) or not all(
        isinstance(p, list | tuple) and len(p) == 2 for p in pairs
    ):
        fail("pairs", 'Give the pairs as [key column id, foreign key column id or "new"].')
    if len(pairs) > MAX_KEY_COLUMNS:
        fail("pairs", f"A foreign key has at most {MAX_KEY_COLUMNS} columns.")
    return [] if len(pairs) < 2 else [(str(k), str(f or "new")) for k, f in pairs]


def add_composite(user, project_id, source, target, pairs, data):
    """A foreign key over several columns: the key columns of `source` (its key or a unique
    key, as a set) and as many columns of `target`, existing (same types) or new."""
    keys = key_fields(source, [k for k, _ in pairs])
    foreigns = []
    for key, (_, chosen) in zip(keys, pairs, strict=True):
        field = foreign_key_field(target, key, source, chosen)
        if field is not None and field in foreigns:
            fail("target_field_id", f"{field.name} is chosen twice.")
        foreigns.append(field)
    cascade = cascade_of(data, None, keys[0])
    refuse_cycle(project_id, source, target)
    taken = {f.field_name for f in target.fields}
    for n, key in enumerate(keys):
        if foreigns[n] is None:
            prefix = shorten(singular(source.table_name), 30)
            said = key.field_name.startswith(f"{prefix}_")  # shelf_no of shelves: said once
            wanted = key.field_name if said else shorten(f"{prefix}_{key.field_name}", 58)
            name, count = wanted, 1
            while name in taken or identifier_problem(name, "field"):
                count += 1
                name = f"{wanted}_{count}"
            taken.add(name)
            label = composite_label(source, key)
            foreigns[n] = new_foreign_key(target, source, key, name, label)
    for foreign in foreigns:
        cascade_of({"cascade_config": cascade}, foreign, None)
    refresh_definition(target)
    name = str(data.get("relationship_name") or "").strip() or generated_name(
        target.table_name, foreigns[0].field_name, suffix="fkey"
    )
    problem = identifier_problem(name, "table")
    if problem:
        fail("relationship_name", problem.replace("table name", "relationship name"))
    field_pairs = [[str(k.id), str(f.id)] for k, f in zip(keys, foreigns, strict=True)]
    try:
        with database.atomic():
            return TableRelationship.create(
                project=project_id, source_table=source, source_field=keys[0],
                target_table=target, target_field=foreigns[0], relationship_name=name,
                cascade_config=cascade, created_by=user, field_pairs=field_pairs,
            )  # fmt: skip
    except IntegrityError:
        fail("relationship_name", "Another relationship of this project has this name.")


def relationship_access(user, rel_id, need="viewer"):
    rel = TableRelationship.get_or_none(TableRelationship.id == parse_id(rel_id, "relationship"))
    if rel is None:
        raise NotFound("No such relationship.")
    return access(user, rel.project_id, need), rel


def update_relationship(user, rel_id, revision, data, lock_token=None):
    """Rename a relationship or change its cascade rules."""
    granted, rel = relationship_access(user, rel_id, "editor")
    foreign = DataField.get_or_none(DataField.id == rel.target_field_id)
    merged = {**rel.cascade_config, **{k: data[k] for k in ("on_delete", "on_update") if k in data}}
    cascade = cascade_of({"cascade_config": merged}, foreign, None)
    name = str(data.get("relationship_name", rel.relationship_name)).strip()
    problem = identifier_problem(name, "table")
    if problem:
        fail("relationship_name", problem.replace("table name", "relationship name"))
    with recording(granted.project.id, user) as log:
        locks.require_write(rel.target_table_id, user, lock_token)
        try:
            with database.atomic():
                updated = update_at_revision(
                    TableRelationship, rel.id, revision,
                    relationship_name=name, cascade_config=cascade,
                )  # fmt: skip
        except IntegrityError:
            fail("relationship_name", "Another relationship of this project has this name.")
        log.add("relationship.updated", f"edited relationship {name}", rel.id)
    return updated


def delete_relationship(user, rel_id, lock_token=None):
    """Remove a relationship (its foreign key field stays)."""
    granted, rel = relationship_access(user, rel_id, "editor")
    with recording(granted.project.id, user) as log:
        locks.require_write(rel.target_table_id, user, lock_token)
        rel.delete_instance()
        log.add("relationship.deleted", f"removed relationship {rel.relationship_name}", rel.id)


def fields_of(tables):
    """Each table's fields in order, by table id (one query)."""
    by_table = {str(t.id): [] for t in tables}
    if tables:
        rows = (
            DataField.select()
            .where(DataField.data_table.in_([t.id for t in tables]))
            .order_by(DataField.sort_order, DataField.created_at)
        )
        for field in rows:
            by_table[str(field.table_id)].append(field)
    return by_table


def page_of(project_id, after=None, limit=None):
    """One page of the project's relationships by name, and the name to continue after."""
    limit = limit or settings.page_size
    rels = described(project_id, after=after, limit=limit + 1)
    return rels[:limit], (rels[limit - 1].relationship_name if len(rels) > limit else None)


def described(project_id, only=None, table_id=None, after=None, limit=None):
    """Relationships with their tables' and fields' names, for listing (three queries)."""
    rels = TableRelationship.select().where(TableRelationship.project == project_id, LIVE)
    if after:
        rels = rels.where(TableRelationship.relationship_name > after)
    if only is not None:
        rels = rels.where(TableRelationship.id == only)
    if table_id is not None:
        rels = rels.where(
            (TableRelationship.source_table == table_id)
            | (TableRelationship.target_table == table_id)
        )
    rels = list(rels.order_by(TableRelationship.relationship_name).limit(limit))
    table_ids = {t for r in rels for t in (r.source_table_id, r.target_table_id)}
    tables = {
        t.id: t
        for t in DataTable.select(DataTable.id, DataTable.name, DataTable.table_name).where(
            DataTable.id.in_(list(table_ids))
        )
    }
    field_ids = {f for r in rels for f in (r.source_field_id, r.target_field_id) if f}
    fields = {f.id: f for f in DataField.select().where(DataField.id.in_(list(field_ids)))}
    for rel in rels:
        rel.source = tables[rel.source_table_id]
        rel.target = tables[rel.target_table_id]
        rel.key = fields.get(rel.source_field_id)
        rel.foreign = fields.get(rel.target_field_id)
    return rels
