"""A table's constraints and indexes (designer.design.structure) as people edit them: add,
change and delete one item at a time, each checked as a stored design would be, in the
table's lock discipline and the project's activity log."""

from designer.activity import recording
from designer.design.structure import KINDS
from designer.design.structure import NOUN
from designer.design.structure import ItemInvalid
from designer.design.structure import clean_item
from designer.design.structure import explicit_names
from designer.design.structure import expression_sql
from designer.design.structure import item_display
from designer.design.structure import items
from designer.design.structure import keys_text
from designer.design.structure import sort_key
from designer.design.structure import structure_problems
from designer.design.structure import with_item
from designer.design.structure import without_field
from designer.design.structure import without_item
from designer.design.tables import check_writable
from designer.design.tables import ordered_fields
from designer.design.tables import store_structure
from designer.design.tables import structure_of
from designer.design.tables import table_access
from designer.errors import NotFound
from designer.errors import ValidationFailed
from designer.models import DataTable


def table_entry(table, structure=None, loaded=None):
    """The table as designer.design.structure reads it: names, fields, structure
    (`loaded`: its fields when the caller has them already)."""
    fields = {
        str(f.id): {
            "id": str(f.id), "field_name": f.field_name, "name": f.name,
            "data_type": f.data_type, "field_config": f.field_config,
        }
        for f in (ordered_fields(table.id) if loaded is None else loaded)
    }  # fmt: skip
    entry = {"id": str(table.id), "table_name": table.table_name, "fields": fields}
    if structure is None:
        structure = (table.schema_definition or {}).get("structure") or {}
    if structure:
        entry["structure"] = structure
    return entry


def check_kind(kind):
    if kind not in KINDS:
        raise NotFound("No such kind of constraint or index.")


def current_structure(table):
    """The stored structure, read again inside the write (the row is locked by then)."""
    return structure_of(table.id)


def names_elsewhere(table):
    """Relation names other tables of the project hold: their own, and their items' names."""
    taken = set()
    others = DataTable.select(DataTable.table_name, DataTable.schema_definition).where(
        DataTable.project == table.project_id, DataTable.id != table.id
    )
    for name, definition in others.tuples():
        taken.add(name)
        structure = (definition or {}).get("structure")
        if structure:
            taken |= explicit_names({"fields": {}, "structure": structure})[0]
    return taken


def stored(table, entry, structure, item_key):
    """Write the structure after the checks a stored design passes."""
    checked = {**entry, "structure": structure} if structure else entry
    problems = structure_problems(checked)
    if problems:
        where, key, message = problems[0]
        raise ValidationFailed(f"{where}: {message}", {item_key: message})
    relations = explicit_names(checked)[0] if structure else set()
    clash = sorted(relations & (names_elsewhere(table) | {table.table_name}))
    if clash:
        message = f"{clash[0]} is the name of a table or index already."
        raise ValidationFailed(message, {"name": message})
    store_structure(table.id, structure)


def save_item(user, table_id, kind, data, item_id=None, lock_token=None):
    """Add an item (item_id None) or replace one; returns the stored item."""
    check_kind(kind)
    _, table = table_access(user, table_id, "editor")
    with recording(table.project_id, user) as log:
        check_writable(user, table, lock_token)
        entry = table_entry(table, current_structure(table))
        if item_id is not None and item_id not in items(entry, kind):
            raise NotFound(f"No such {NOUN[kind]}.")
        try:
            item = clean_item(kind, data, entry, item_id)
        except ItemInvalid as exc:
            raise ValidationFailed("Please correct the marked fields.", exc.problems) from None
        stored(table, entry, with_item(entry, kind, item), "name")
        verb = "added" if item_id is None else "changed"
        said = f"{verb} {NOUN[kind]} {label(entry, kind, item)} of {table.name}"
        log.add("table.updated", said, table.id)
    return item


def delete_item(user, table_id, kind, item_id, lock_token=None):
    check_kind(kind)
    _, table = table_access(user, table_id, "editor")
    with recording(table.project_id, user) as log:
        check_writable(user, table, lock_token)
        entry = table_entry(table, current_structure(table))
        item = items(entry, kind).get(item_id)
        if item is None:
            raise NotFound(f"No such {NOUN[kind]}.")
        stored(table, entry, without_item(entry, kind, item_id), "name")
        said = f"removed {NOUN[kind]} {label(entry, kind, item)} of {table.name}"
        log.add("table.updated", said, table.id)
    return item


def drop_field_items(table, field_id):
    """After a column is deleted: the items that used it go too (as in PostgreSQL)."""
    structure = current_structure(table)
    kept = without_field(structure, str(field_id))
    if kept != structure:
        store_structure(table.id, kept)


def label(entry, kind, item):
    """An item's name, or what it is over when its name is generated."""
    if item["name"]:
        return item["name"]
    names = entry["fields"]
    if kind == "uniques":
        return "(" + ", ".join(names[f]["field_name"] for f in item["columns"]) + ")"
    if kind == "checks":
        return f"({expression_sql(entry, item['expression'])})"
    keys = [names[k["column"]]["field_name"] if k["column"] else "(…)" for k in item["keys"]]
    return f"on ({', '.join(keys)})"


def listed(table, loaded=None):
    """[(kind, shown item)] of the table, uniques then checks then indexes, for its page."""
    entry = table_entry(table, loaded=loaded)
    return [
        (kind, item_display(entry, kind, item))
        for kind in KINDS
        for item in sorted(items(entry, kind).values(), key=sort_key)
    ]


def form_of(table, kind, item_id):
    """The edit form's values of one item: columns and keys as typed text."""
    entry = table_entry(table)
    item = items(entry, kind).get(item_id)
    if item is None:
        raise NotFound(f"No such {NOUN[kind]}.")
    shown = item_display(entry, kind, item)
    form = {"name": item["name"] or "", "comment": item["comment"] or ""}
    if kind == "uniques":
        form["columns"] = ", ".join(shown["columns"])
    elif kind == "checks":
        form["expression"] = shown["expression"]
    else:
        form.update(
            method=item["method"],
            unique="on" if item["unique"] else "",
            keys=keys_text(entry, item),
            include=", ".join(shown["include"]),
            where=shown["where"] or "",
        )
    return form
