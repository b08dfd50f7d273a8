"""A project's tables as its page lists them: a page at a time, by status, and searched by
the names and descriptions of the tables and their columns."""

from peewee import fn

from designer.design.tables import LIFECYCLE
from designer.models import DataField
from designer.models import DataTable
from designer.settings import settings


def escape_like(text):
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def field_count():
    counted = DataField.alias("counted")
    return (
        counted.select(fn.count(counted.id))
        .where(counted.data_table == DataTable.id)
        .alias("field_count")
    )


def matching_field(pattern):
    """The first column (by position) of the listed table whose name, column name or
    description matches `pattern`, as a subquery named matched_field."""
    field = DataField.alias("matched")
    return (
        field.select(field.name)
        .where(
            field.data_table == DataTable.id,
            (field.name**pattern)
            | (field.field_name**pattern)
            | (field.field_config["description"].as_text() ** pattern),
        )
        .order_by(field.sort_order)
        .limit(1)
    )


def list_tables(project_id, query="", status="", after=None, limit=None):
    """One page of a project's tables by name, and the name to continue after (or None).

    A search matches a table's name, table name or description, or any of its
    columns' (each row then names the first matching column: matched_field), in any case.
    """
    limit = limit or settings.page_size
    # Every column but schema_definition, which a listing never shows.
    listed = [
        f
        for f in DataTable._meta.sorted_fields
        if f is not DataTable.schema_definition and f is not DataTable.search_text
    ]
    query = (query or "").strip()
    pattern = f"%{escape_like(query)}%"
    columns = [*listed, field_count()]
    if query:
        columns.append(matching_field(pattern).alias("matched_field"))
    rows = DataTable.select(*columns).where(DataTable.project == project_id)
    if status == "all":
        pass
    elif status in LIFECYCLE:
        rows = rows.where(DataTable.status == status)
    else:
        rows = rows.where(DataTable.status != "deleted")
    if query:
        # search_text holds the table's and its columns' names (migrations/0011): only the
        # project's own rows are read, never every column of every project.
        rows = rows.where(fn.strpos(DataTable.search_text, fn.lower(query)) > 0)
    if after:
        rows = rows.where(DataTable.name > after)
    page = list(rows.order_by(DataTable.name).limit(limit + 1))
    more = len(page) > limit
    return page[:limit], (page[limit - 1].name if more else None)


def status_counts(project_id):
    rows = (
        DataTable.select(DataTable.status, fn.count(DataTable.id).alias("n"))
        .where(DataTable.project == project_id)
        .group_by(DataTable.status)
        .tuples()
    )
    counts = dict.fromkeys(LIFECYCLE, 0)
    counts.update(dict(rows))
    return counts
