"""Drop the index on unreleased locks' expires_at, so that a heartbeat updates its row in place.

A heartbeat moves expires_at; while an index covered that column, every heartbeat wrote a new
entry into each of table_lock's indexes (two of them unique, checked against the row's dead
versions) instead of a heap-only update. The sweep and the lock checks find unreleased locks
through table_lock_one_active_per_table, which holds exactly those rows, at most one a table.
"""


def up(migrator, db):
    db.execute_sql("DROP INDEX table_lock_unreleased_expires_at")


def down(migrator, db):
    db.execute_sql(
        "CREATE INDEX table_lock_unreleased_expires_at ON table_lock (expires_at)"
        " WHERE released_at IS NULL"
    )
