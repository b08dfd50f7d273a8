"""A deploy in flight: its Deployment row says "running" while a live process runs it.

The row is committed, by a connection of its own, before the target is touched,
and that connection holds an advisory lock named after the row until the
deploy's designer transaction has ended. The process dying (killed, crashed,
its server gone) ends its connections, and PostgreSQL frees the lock: a
"running" row whose lock is free has no one running it. Whichever app server
next reads the project's deployments marks it "unknown" (the target's own
transaction was all or nothing, so it holds none or all of it; drift tells).
"""

import uuid

import psycopg2

from designer import rls
from designer.db import database
from designer.errors import DomainError
from designer.models import Deployment
from designer.settings import settings

KEY = "hashtextextended('dmd-deployment:' || %s, 0)"
INSERT = """
INSERT INTO deployment (id, project_id, target_schema, from_hash, to_hash, sql, status,
                        created_by_id)
VALUES (%s, %s, %s, %s, %s, %s, 'running', %s)
"""
GONE = (
    "The app stopped while this deploy ran (killed, crashed or cut off from the database). "
    "The target applies a deploy all or nothing, so it holds either none or all of it; "
    "the project's drift check shows which."
)
# Orphans: running rows whose deploying connection is gone (their lock is free).
ORPHANS = f"""
WITH running AS MATERIALIZED (
    SELECT id FROM deployment WHERE project_id = %s AND status = 'running'
)
UPDATE deployment SET status = 'unknown', error = %s
WHERE id IN (
    SELECT id FROM running WHERE pg_try_advisory_xact_lock({KEY.replace("%s", "id::text")})
)
"""


class InFlight:
    """One deploy's "running" record: started once the plan is known, ended after commit."""

    def __init__(self):
        self.id = None
        self.conn = None

    def start(self, values):
        """Commit a "running" row for `values` (a deploy's record), held by this process."""
        self.id = uuid.uuid4()
        self.conn = psycopg2.connect(settings.designer_database_url)
        self.conn.autocommit = True
        creator = values.get("created_by")
        with self.conn.cursor() as cursor:
            # Row-level security: this connection writes for the deploying user too.
            cursor.execute(rls.ACT_FOR, (str(creator.id) if creator is not None else "",))
            # The lock first: there is never a running row without its holder.
            cursor.execute(f"SELECT pg_advisory_lock({KEY})", (str(self.id),))
            cursor.execute(
                INSERT,
                (
                    str(self.id),
                    str(values["project"]),
                    values["target_schema"],
                    values["from_hash"],
                    values["to_hash"],
                    values["sql"],
                    str(creator.id) if creator is not None else None,
                ),
            )

    def record(self, **values):
        """Write the deploy's outcome (in the caller's transaction) over its running row."""
        row_id = self.id or uuid.uuid4()
        fields = [Deployment._meta.fields[name] for name in values]
        Deployment.insert(id=row_id, **values).on_conflict(
            conflict_target=[Deployment.id], preserve=fields
        ).execute()
        return Deployment.get_by_id(row_id)

    def end(self, error=None):
        """After the designer transaction ended: a row still running was refused or broke."""
        if self.conn is None:
            return
        try:
            with self.conn.cursor() as cursor:
                if error is None:
                    pass  # the outcome was recorded over the row
                elif isinstance(error, DomainError):
                    # Refused (e.g. unconfirmed destructive steps): rolled back, as a
                    # refusal before any step would have been; nothing to keep.
                    cursor.execute(
                        "DELETE FROM deployment WHERE id = %s AND status = 'running'",
                        (str(self.id),),
                    )
                else:
                    cursor.execute(
                        "UPDATE deployment SET status = 'failed', error = %s"
                        " WHERE id = %s AND status = 'running'",
                        (f"The deploy stopped: {error}", str(self.id)),
                    )
        except psycopg2.Error:
            pass  # the database is gone too: the row is found orphaned later
        finally:
            self.conn.close()
            self.conn = None


def settle_orphans(project_id):
    """Mark the project's running deploys whose process is gone as "unknown"."""
    database.execute_sql(ORPHANS, (str(project_id), GONE))
