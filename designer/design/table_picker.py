"""Choosing a table by name: the few that match what was typed, and the one a name means.

Forms that link tables (relationships) offer a search-as-you-type box instead of a
<select> of every table: a project of 3,000 tables would send half a megabyte twice.
"""

import uuid

from peewee import SQL
from peewee import Case
from peewee import fn

from designer.design.table_list import escape_like
from designer.design.table_list import searched
from designer.models import DataTable

CHOICES = 20  # matches offered at once: enough to pick from, small to send
MAX_TEXT = 200  # a table's name is at most this long


def matching_tables(project_id, text, limit=CHOICES):
    """Up to `limit` of the project's live tables whose name or table name contains
    `text`: names starting with it first, then by name."""
    text = (text or "").strip()[:MAX_TEXT]
    rows = DataTable.select(DataTable.id, DataTable.name, DataTable.table_name).where(
        DataTable.project == project_id, DataTable.status != "deleted"
    )
    if not text:
        return list(rows.order_by(DataTable.name).limit(limit))
    pattern = escape_like(text)
    contains, starts = f"%{pattern}%", f"{pattern}%"
    starting = Case(None, [((DataTable.name**starts) | (DataTable.table_name**starts), 0)], 1)
    rows = rows.where((DataTable.name**contains) | (DataTable.table_name**contains))
    # ILIKE matches as lower() of both sides: the lowered text is in search_text.
    indexed = searched(project_id, text)
    if indexed is not None:
        rows = rows.where(indexed)
    return list(rows.order_by(starting, DataTable.name).limit(limit))


# A chosen table's structure holds its primary key, which the relationship form offers.
CHOSEN_COLUMNS = (
    DataTable.id, DataTable.name, DataTable.table_name, DataTable.status,
    SQL("schema_definition -> 'structure'").alias("structure"),
)  # fmt: skip


def chosen_table(project_id, text, table_id=None):
    """(table, problem): the project's table named `text` (its name or table name, in any
    case) — the one with `table_id` when two fit —, else the table `table_id` when no text
    was typed. (None, None) when nothing was chosen; (None, message) for a name or id that
    names no table of the project. Deleted tables are found: linking refuses them by name."""
    text = (text or "").strip()
    wanted = as_uuid(table_id)
    if text:
        folded = text[:MAX_TEXT].lower()
        rows = DataTable.select(*CHOSEN_COLUMNS).where(
            DataTable.project == project_id,
            (fn.lower(DataTable.name) == folded) | (fn.lower(DataTable.table_name) == folded),
        )
        # A name equal to it is in the table's search_text (lower-cased as this compares).
        indexed = searched(project_id, folded)
        found = list((rows if indexed is None else rows.where(indexed)).limit(2))
        if not found:
            return None, f"No table named “{text}” in this project: pick one from the list."
        return next((t for t in found if t.id == wanted), found[0]), None
    if not table_id:
        return None, None
    table = wanted and (
        DataTable.select(*CHOSEN_COLUMNS)
        .where(DataTable.project == project_id, DataTable.id == wanted)
        .first()
    )
    if table is None:
        return None, "Choose a table of this project."
    return table, None


def as_uuid(value):
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except (TypeError, ValueError):
        return None
