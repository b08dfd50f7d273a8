"""A deployment is recorded as "running" while it runs, "unknown" when its process died.

Numbered 0008 and independent of 0007, 0009 and 0010 (other branches): it
touches only deployment.status's check.
"""

BEFORE = "'dry_run_ok', 'dry_run_failed', 'applied', 'failed'"
AFTER = BEFORE + ", 'running', 'unknown'"


def set_statuses(db, listed):
    db.execute_sql(
        "ALTER TABLE deployment DROP CONSTRAINT deployment_status_check,"
        f" ADD CONSTRAINT deployment_status_check CHECK (status IN ({listed}))"
    )


def up(migrator, db):
    set_statuses(db, AFTER)


def down(migrator, db):
    # A running deploy cannot survive a downgrade; an unknown one is counted as failed.
    db.execute_sql("UPDATE deployment SET status = 'failed' WHERE status IN ('running', 'unknown')")
    set_statuses(db, BEFORE)
