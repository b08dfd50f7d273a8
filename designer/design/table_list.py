"""A project's tables as its page lists them: a page at a time, by status, and searched by
the names and descriptions of the tables and their columns, best matches first."""

import operator
import re
from functools import reduce

from peewee import SQL
from peewee import Case
from peewee import Tuple
from peewee import fn

from designer.db import database
from designer.design import page_stamps
from designer.design.tables import LIFECYCLE
from designer.kept import KeptAnswers
from designer.models import TABLE_STATUSES
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


# A needle this long has trigrams, which migration 0047's index finds tables by.
INDEXED_NEEDLE = 3
# Where a search may match more tables than this, it is read a group at a time instead
# (broad_search): looking up each of thousands by key costs more (a search of 30,000 tables
# that every table matched took 1.2 s so).
INDEXED_MATCHES = 1000


def searched(project_id, needle):
    """A condition on DataTable: the table is one whose search_text may contain `needle`
    (lower-cased by PostgreSQL, as search_text is), by the trigram index of migration 0047,
    which row-level security lets no other condition on a table's text use. None for a
    needle too short to have a trigram, or one that may match more than INDEXED_MATCHES
    tables. A superset: the caller checks that the text contains it."""
    if len(needle) < INDEXED_NEEDLE:
        return None
    found = (
        database.execute_sql(
            "SELECT array_agg(id)::text[] FROM rls_search_tables(%s, lower(%s), %s) id",
            (str(project_id), needle, INDEXED_MATCHES + 1),
        ).fetchone()[0]
        or []
    )
    if len(found) > INDEXED_MATCHES:
        return None
    # A constant array: looked up by key, whatever the planner guesses of the project.
    return DataTable.id == SQL("ANY (%s::uuid[])", (found,))


def search_rank(query):
    """How well a table matches `query` (lower-cased SQL), best first: 0 its name or table name
    is the query, 1 starts with it, 2 contains it, 3 its description does, 4 only one of
    its columns does (search_text found it)."""
    names = (fn.lower(DataTable.name), fn.lower(DataTable.table_name))
    return Case(
        None,
        [
            ((names[0] == query) | (names[1] == query), 0),
            (fn.starts_with(names[0], query) | fn.starts_with(names[1], query), 1),
            ((fn.strpos(names[0], query) > 0) | (fn.strpos(names[1], query) > 0), 2),
            (fn.strpos(fn.lower(DataTable.description), query) > 0, 3),
        ],
        4,
    )


# A searched page continues after "<rank>:<name>" of its last row.
SEARCH_CURSOR = re.compile(r"([0-4]):(.*)", re.DOTALL)


def search_cursor(after):
    """(rank, name) of a ranked search's cursor `after`."""
    cursor = SEARCH_CURSOR.fullmatch(after)
    # A bare name (a cursor from before ranking) continues from the best group.
    return (int(cursor[1]), cursor[2]) if cursor else (0, after)


def search_after(rows, rank, after):
    """The rows of a ranked search that come after the cursor `after`."""
    seen_rank, seen_name = search_cursor(after)
    return rows.where(Tuple(rank, DataTable.name) > Tuple(seen_rank, seen_name))


def in_status(rows, status):
    """`rows` of the tables the status filter shows: one status, all, or those in use."""
    if status == "all":
        return rows
    if status in LIFECYCLE:
        return rows.where(DataTable.status == status)
    return rows.where(DataTable.status != "deleted")


def shown_statuses(status):
    """The statuses of the tables the status filter shows (as in_status)."""
    if status == "all":
        return list(TABLE_STATUSES)
    if status in LIFECYCLE:
        return [status]
    return [s for s in TABLE_STATUSES if s != "deleted"]


def named_ids(project_id, query, status, seen_rank, seen_name, cap):
    """ANY of an array, to compare a table's id with: the ids of the project's tables shown
    under `status` whose name, table name or description holds `query`, by search rank and
    name, after (seen_rank, seen_name) when seen_rank is not None, `cap` of them at most
    (migration 0051's rls_search_names, which answers a member only)."""
    return SQL(
        "ANY (ARRAY(SELECT rls_search_names(%s, lower(%s), %s::text[], %s, %s, %s)))",
        (str(project_id), query, shown_statuses(status), seen_rank, seen_name, cap),
    )


def broad_search(project_id, query, status, after, limit):
    """The ids, ranks and names of one page (and one more row) of a search that matches too
    many tables for the trigram index to name them (or a needle too short for it), as a
    subquery named page, and the common table expressions it reads.

    Two groups, read apart: the tables whose name, table name or description holds the query
    (search ranks 0-3), by rank and name, then those that only a column of holds (rank 4), by
    name. The first reads the tables of the page by key, named by migration 0051's narrow
    search_name (named_ids), and checks them under the caller's policies. The second
    walks the project's tables in name order through (project_id, name) and stops once the
    page is full: a broad query that most tables match by a column fills it within a few
    rows, where sorting every match read them all (90-165 ms at 30,000 tables). It is not read
    at all when the first group filled the page, and a page after a cursor in it does not
    read the first group.
    """
    wanted = fn.lower(query)
    rank = search_rank(wanted)
    found = fn.strpos(DataTable.search_text, wanted) > 0
    named = reduce(
        operator.or_,
        (
            fn.strpos(fn.lower(column), wanted) > 0
            for column in (DataTable.name, DataTable.table_name, DataTable.description)
        ),
    )
    seen_rank, seen_name = search_cursor(after) if after else (None, None)
    scoped = DataTable.project == project_id
    only_columns = in_status(
        DataTable.select(DataTable.id, SQL("4").alias("search_rank"), DataTable.name), status
    ).where(scoped, found, ~named)
    if seen_rank == 4:
        rest = only_columns.where(DataTable.name > seen_name)
        return rest.order_by(DataTable.name).limit(limit + 1).alias("page"), []
    # A page of the tables whose names hold the query, in the order shown, as migration
    # 0051's narrow search_name names them, read by key: not every row of the project. Each
    # is checked again here under the caller's policies, its names before its search_text
    # (at hand in the row, where search_text is read compressed).
    by_name = in_status(
        DataTable.select(DataTable.id, rank.alias("search_rank"), DataTable.name), status
    ).where(
        scoped,
        DataTable.id == named_ids(project_id, query, status, seen_rank, seen_name, limit + 1),
        Case(None, [(named, found)], False),
    )
    if after:
        by_name = search_after(by_name, rank, after)
    heads = by_name.order_by(rank, DataTable.name).limit(limit + 1).cte("heads", materialized=True)
    # A LIMIT of 0 reads nothing: PostgreSQL does not start the scan below it.
    rest = SQL("%s - (SELECT count(*) FROM heads)", (limit + 1,))
    only_columns = only_columns.order_by(DataTable.name).limit(rest)
    first = DataTable.select(heads.c.id, heads.c.search_rank, heads.c.name).from_(heads)
    groups = first + only_columns
    return groups.alias("page"), [heads]


def list_tables(project_id, query="", status="", after=None, limit=None):
    """One page of a project's tables, and the cursor to continue after (or None).

    Unsearched, the tables come by name. A search matches a table's name, table name or
    description, or any of its columns' (each row then names the first matching column:
    matched_field), in any case; the best matches come first (search_rank), each group
    by name.
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
    indexed = searched(project_id, query) if query else None
    if query and indexed is None:
        page, ctes = broad_search(project_id, query, status, after, limit)
        rows = (
            rows.with_cte(*ctes)
            .select_extend(page.c.search_rank.alias("search_rank"))
            .join(page, on=(DataTable.id == page.c.id))
            .order_by(page.c.search_rank, page.c.name)
            .objects()
        )
    elif query:
        # search_text holds the table's and its columns' names (migrations/0013): only the
        # tables the index named are read, by key. Lowered by PostgreSQL, as search_text is.
        wanted = fn.lower(query)
        rank = search_rank(wanted)
        rows = in_status(rows, status).where(fn.strpos(DataTable.search_text, wanted) > 0, indexed)
        if after:
            rows = search_after(rows, rank, after)
        rows = rows.select_extend(rank.alias("search_rank")).order_by(rank, DataTable.name)
    else:
        rows = in_status(rows, status)
        if after:
            rows = rows.where(DataTable.name > after)
        rows = rows.order_by(DataTable.name)
    page = list(rows.limit(limit + 1))
    if len(page) <= limit:
        return page, None
    last = page[limit - 1]
    return page[:limit], (f"{last.search_rank}:{last.name}" if query else last.name)


# The project page, its live poll and the table list show the counts by status on every
# view, and counting reads every table of the project (under row-level security no index
# answers it: 30,000 tables, 83 MB of rows, a few hundred milliseconds on a busy machine).
# They are kept against the project's change stamp, which every change to a table moves
# (migrations/0031), read from the database on each call.
kept_counts = KeptAnswers(limit=1024)


def status_counts(project_id):
    """{status: number of tables} of the project, every lifecycle status named."""
    stamp = page_stamps.project_stamp(project_id)
    return dict(kept_counts.get((str(project_id), stamp), lambda: count_statuses(project_id)))


def count_statuses(project_id):
    rows = (
        DataTable.select(DataTable.status, fn.count(DataTable.id).alias("n"))
        .where(DataTable.project == project_id)
        .group_by(DataTable.status)
        .tuples()
    )
    counts = dict.fromkeys(LIFECYCLE, 0)
    counts.update(dict(rows))
    return counts
