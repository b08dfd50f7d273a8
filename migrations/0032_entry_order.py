"""The order a version page lists a version's tables (or relationships) in, kept in PostgreSQL.

A version page shows 50 tables at a time by name. Sorting a 30,000-table version by name
opens every bucket and leaf of it (0.5-0.9 s a page). The order of one entry map never
changes (its parts are content-addressed), so the first page viewed writes it here, once,
as (position, entry id, leaf hash) rows under the md5 of the manifest's node for that map
(its "tree"); every page after reads its rows by position, and versions whose maps are
equal share them. Any member may view a version, so any member may write its order: the
rows are derived from the parts the member reads, under the same policies.
"""

ORDER = """
CREATE TABLE entry_order (
    project_id uuid NOT NULL REFERENCES project (id) ON DELETE CASCADE,
    tree varchar(32) NOT NULL,
    position integer NOT NULL,
    entry_id text NOT NULL,
    leaf varchar(64) NOT NULL,
    PRIMARY KEY (project_id, tree, position)
)"""


def up(migrator, db):
    db.execute_sql(ORDER)
    db.execute_sql("SELECT rls_protect('entry_order', 'project_id', 'viewer')")


def down(migrator, db):
    db.execute_sql("DROP TABLE entry_order")
