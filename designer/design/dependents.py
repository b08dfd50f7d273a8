"""Relationships that depend on a field or table, and what to do with them on a change.

A deleted table's relationships are not removed but set aside (status
"deleted"): restoring the table brings back those whose other end is there.
"""

import json
import uuid

from peewee import SQL

from designer.errors import Conflict
from designer.models import DataTable
from designer.models import TableRelationship

LIVE = TableRelationship.status != "deleted"


def using_fields(field_ids):
    """Relationships whose key or foreign key is one of these fields."""
    ids = list(field_ids)
    # Any pair of a composite foreign key holds them too (jsonb containment: [[id]]).
    in_pairs = SQL("field_pairs @> ANY (%s::jsonb[])", ([json.dumps([[str(i)]]) for i in ids],))
    return list(
        TableRelationship.select().where(
            TableRelationship.source_field.in_(ids)
            | TableRelationship.target_field.in_(ids)
            | in_pairs
        )
    )


def using_table(table_id):
    """Relationships from or to a table (a self-reference counts once)."""
    return list(
        TableRelationship.select().where(
            (TableRelationship.source_table == table_id)
            | (TableRelationship.target_table == table_id),
            LIVE,
        )
    )


def named(relationships):
    return ", ".join(r.relationship_name for r in relationships)


def release_dependents(relationships, confirmed, what):
    """Refuse a change that would break relationships, unless confirmed: then drop them."""
    if not relationships:
        return
    one = len(relationships) == 1
    if not confirmed:
        raise Conflict(
            f"{what} is used by {'relationship' if one else 'relationships'} "
            f"{named(relationships)}. Confirm to remove {'it' if one else 'them'} too.",
            relationships=[r.relationship_name for r in relationships],
        )
    TableRelationship.delete().where(
        TableRelationship.id.in_([r.id for r in relationships])
    ).execute()


def set_aside(relationships):
    """Keep a deleted table's relationships, out of every list, until it comes back."""
    _set_status([r.id for r in relationships], "deleted")


def bring_back(table):
    """Relationships set aside with a table that is restored now (its status already
    moved): those whose other end is not deleted and that close no cycle.

    Returns (brought back, still set aside), as relationship lists.
    """
    aside = list(
        TableRelationship.select().where(
            (TableRelationship.source_table == table.id)
            | (TableRelationship.target_table == table.id),
            TableRelationship.status == "deleted",
        )
    )
    ends = {r.source_table_id for r in aside} | {r.target_table_id for r in aside}
    deleted = {
        t.id
        for t in DataTable.select(DataTable.id).where(
            DataTable.id.in_(list(ends)), DataTable.status == "deleted"
        )
    }
    back, kept = [], []
    for rel in aside:
        ready = rel.source_table_id not in deleted and rel.target_table_id not in deleted
        cycle = ready and find_cycle(table.project_id, rel.source_table_id, rel.target_table_id)
        if ready and not cycle:
            _set_status([rel.id], "draft")
            back.append(rel)
        else:
            kept.append(rel)
    return back, kept


def _set_status(ids, status):
    if ids:
        TableRelationship.update(
            status=status, revision=TableRelationship.revision + 1, updated_at=SQL("now()")
        ).where(TableRelationship.id.in_(ids)).execute()


def find_cycle(project_id, source_id, target_id, ignore=None):
    """The table path a new source -> target edge would close into a cycle, or None."""
    if source_id == target_id:
        return None
    edges = {}
    live = TableRelationship.select().where(TableRelationship.project == project_id, LIVE)
    for rel in live:
        if rel.id != ignore and rel.source_table_id != rel.target_table_id:
            edges.setdefault(rel.target_table_id, []).append(rel.source_table_id)
    # Walk the "many -> one" direction from the source back to the target.
    stack, seen = [(source_id, [source_id])], {source_id}
    while stack:
        node, path = stack.pop()
        for parent in edges.get(node, []):
            if parent == target_id:
                return [target_id, *reversed(path), target_id]
            if parent not in seen:
                seen.add(parent)
                stack.append((parent, [*path, parent]))
    return None


def foreign_keys_into(table_id):
    """{field id: (table id, table name) it refers to} for the table's foreign-key columns."""
    rels = [
        r
        for r in using_table(table_id)
        if r.target_table_id == table_id and r.target_field_id is not None
    ]
    if not rels:
        return {}
    names = dict(
        DataTable.select(DataTable.id, DataTable.table_name)
        .where(DataTable.id.in_([r.source_table_id for r in rels]))
        .tuples()
    )
    found = {}
    for r in rels:
        referred = (r.source_table_id, names[r.source_table_id])
        found[r.target_field_id] = referred
        # Every column of a composite foreign key refers, not only its first.
        for _, foreign in r.field_pairs or []:
            found[uuid.UUID(str(foreign))] = referred
    return found
