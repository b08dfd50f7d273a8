"""Undo of a user's last change to a table's fields, for a short while after it.

An entry says how to take a change back: the field's inputs before a save
(applied at the revision the save produced, so a teammate's later edit wins
with a 412), the opposite move, the order before a drag, or a deleted field
with the relationships that went with it. Applying it goes through the same domain functions, so
the user's own lock rules and the table's lock still decide.
"""

import time

from designer.design import fields
from designer.design.field_types import field_as_input
from designer.design.tables import ordered_fields
from designer.errors import Conflict
from designer.history.snapshot import field_entry

UNDO_SECONDS = 30


def _entry(kind, table_id, text, **details):
    return {"kind": kind, "table_id": str(table_id), "text": text,
            "until": time.time() + UNDO_SECONDS, **details}  # fmt: skip


def for_update(before, after):
    """Taking back a save: the field's inputs as they were."""
    inputs = {key: "" if value is None else value for key, value in field_as_input(before).items()}
    return _entry(
        "update", before.table_id, f"Saved {after.name}.", field_id=str(after.id),
        revision=after.revision, inputs=inputs,
    )  # fmt: skip


def for_move(field, offset):
    """Taking back a move: the opposite one."""
    return _entry(
        "move", field.table_id, f"Moved {field.name}.", field_id=str(field.id), offset=-offset
    )


def for_order(table):
    """Taking back a reorder (a drag): the order the fields have now, before it."""
    order = [str(f.id) for f in ordered_fields(table.id) if not f.field_config.get("system")]
    return _entry("order", table.id, "Reordered the fields.", field_ids=order)


def for_delete(field, relationships):
    """Taking back a delete: the field as it was, and the relationships that went with it."""
    kept = [
        {
            "id": str(r.id),
            "project": str(r.project_id),
            "source_table": str(r.source_table_id),
            "target_table": str(r.target_table_id),
            "source_field": _text(r.source_field_id),
            "target_field": _text(r.target_field_id),
            "relationship_name": r.relationship_name,
            "relationship_type": r.relationship_type,
            "cascade_config": r.cascade_config,
            "status": r.status,
        }  # fmt: skip
        for r in relationships
    ]
    entry = field_entry(field)
    return _entry(
        "delete", field.table_id, f"Deleted {field.name}.", field=entry, relationships=kept
    )


def _text(value):
    return str(value) if value is not None else None


def undo(user, entry, table_id, lock_token=None):
    """Apply an entry (taken from the user's session); Conflict when it is gone or late."""
    if not entry or entry.get("table_id") != str(table_id):
        raise Conflict("There is nothing to undo on this table.")
    if time.time() > entry["until"]:
        raise Conflict(f"Undo is offered for {UNDO_SECONDS} seconds after a change; it has passed.")
    if entry["kind"] == "update":
        fields.update_field(user, entry["field_id"], entry["revision"], entry["inputs"], lock_token)
    elif entry["kind"] == "move":
        fields.move(user, entry["field_id"], entry["offset"], lock_token)
    elif entry["kind"] == "order":
        fields.reorder(user, table_id, entry["field_ids"], lock_token)
    else:
        fields.restore_field(user, table_id, entry["field"], entry["relationships"], lock_token)
