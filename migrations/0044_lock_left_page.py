"""Which open page told the server it was leaving (table_lock.left_page).

A page's leave beacon cuts its lock's lease to a short grace, so the lock ends soon after
the last page showing the table closes. A heartbeat that page sent just before it closed
could reach the server after the beacon and renew the lease the beacon cut, keeping the
lock a whole lease (two minutes) after the page was gone. The beacon now names the page
that sent it; that page's later heartbeats renew nothing, and a renewal from any other page
of the holder (another tab, a reload) clears it.
"""


def up(migrator, db):
    db.execute_sql(
        "ALTER TABLE table_lock ADD COLUMN left_page text"
        " CHECK (left_page ~ '^[a-z0-9]{1,40}$')"
    )


def down(migrator, db):
    db.execute_sql("ALTER TABLE table_lock DROP COLUMN left_page")
