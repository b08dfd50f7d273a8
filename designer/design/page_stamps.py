"""Digests of what an open page shows: pages poll them and get nothing back while the
digest is unchanged."""

import uuid

from designer.db import database
from designer.db import parse_id
from designer.errors import NotFound
from designer.models import DataTable
from designer.projects import access

# What an open table page shows, reduced to one digest: the table, its fields,
# the relationships touching it, its lock history, and what the database holds of it
# (its deploy status: the project's last applied deployment and target schema). Pages
# poll it and get nothing back while it is unchanged.
TABLE_STAMP = """
SELECT md5(concat_ws('|', t.revision, t.status, t.updated_at,
  (SELECT p.target_schema FROM project p WHERE p.id = t.project_id),
  (SELECT d.id FROM deployment d WHERE d.project_id = t.project_id AND d.status = 'applied'
     ORDER BY d.created_at DESC LIMIT 1),
  (SELECT string_agg(f.id || ':' || f.revision || ':' || f.sort_order, ',' ORDER BY f.id)
     FROM data_field f WHERE f.table_id = t.id),
  (SELECT string_agg(r.id || ':' || r.revision || ':' || r.status, ',' ORDER BY r.id)
     FROM table_relationship r WHERE r.source_table_id = t.id OR r.target_table_id = t.id),
  (SELECT count(*) || ':' || count(l.released_at) || ':' || coalesce(max(l.locked_at)::text, '')
     FROM table_lock l WHERE l.table_id = t.id)))
FROM data_table t WHERE t.id = %s
"""

# The project page's table list, counts and feed, and everything built from the design:
# triggers move the project's counter in every transaction that changes a table, a field,
# a relationship, an enum or the feed (migrations/0031), so this reads one row whatever
# the project's size. It was an aggregate over every table: 427 ms at 30,000 tables.
# The counter moves when a transaction commits, so inside one that already wrote something
# it may not name what that transaction sees yet: then the stamp is one of its own, which
# no cache holds (txid_current_if_assigned is NULL until a transaction writes).
PROJECT_STAMP = """
SELECT (SELECT counter FROM project_change WHERE project_id = %s), txid_current_if_assigned()
"""


def table_stamp(table_id):
    """A digest that changes whenever anything the table page shows changes."""
    row = database.execute_sql(TABLE_STAMP, (str(table_id),)).fetchone()
    return row[0] if row else None


def project_stamp(project_id):
    """A digest that changes whenever the project page's tables, counts or feed change."""
    counter, writing = database.execute_sql(PROJECT_STAMP, (str(project_id),)).fetchone()
    if writing is not None:
        return f"c{counter or 0}-{uuid.uuid4().hex}"
    return f"c{counter or 0}"


def gone_from(user, table_id, project_id):
    """Whether a table is no longer in a project the user (still) belongs to."""
    try:
        access(user, project_id)
        wanted = parse_id(table_id, "table")
    except NotFound:
        return False
    return (
        not DataTable.select()
        .where(DataTable.id == wanted, DataTable.project == project_id)
        .exists()
    )
