"""Relationships that depend on a field or table, and what to do with them on a change."""

from designer.errors import Conflict
from designer.models import TableRelationship


def using_fields(field_ids):
    """Relationships whose key or foreign key is one of these fields."""
    ids = list(field_ids)
    return list(
        TableRelationship.select().where(
            TableRelationship.source_field.in_(ids) | TableRelationship.target_field.in_(ids)
        )
    )


def using_table(table_id):
    """Relationships from or to a table (a self-reference counts once)."""
    return list(
        TableRelationship.select().where(
            (TableRelationship.source_table == table_id)
            | (TableRelationship.target_table == table_id)
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
