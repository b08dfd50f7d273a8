"""Index the expiry of unreleased locks, which the sweep and every lock check read."""


def up(migrator, db):
    db.execute_sql(
        "CREATE INDEX table_lock_unreleased_expires_at ON table_lock (expires_at)"
        " WHERE released_at IS NULL"
    )


def down(migrator, db):
    db.execute_sql("DROP INDEX table_lock_unreleased_expires_at")
