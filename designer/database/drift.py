"""Drift: does the target schema still hold what the designer last deployed there?

The expected catalog is not guessed: the last deployed snapshot is built
into a scratch schema on the target, inside a transaction that is rolled
back, and both schemas are read from pg_catalog the same way.
"""

import secrets
from dataclasses import dataclass

from designer.database import ddl
from designer.database import deploy
from designer.database import target
from designer.database.catalog import differences
from designer.database.catalog import read_catalog
from designer.kept import KeptAnswers
from designer.projects import access
from designer.settings import settings


@dataclass
class Report:
    schema: str
    deployed: bool
    differences: list


# Expected catalogs by deployed snapshot hash: building one means creating every deployed
# table in a scratch schema, too much for each page view; a hash's catalog never changes.
expected = KeptAnswers(limit=16)


def timeouts(cursor):
    cursor.execute(
        "SELECT set_config('statement_timeout', %s, true)",
        (f"{settings.deploy_statement_timeout_ms}ms",),
    )


def expected_catalog(cursor, snapshot_hash, snapshot):
    """The catalog the snapshot makes, built in a scratch schema the caller rolls back."""

    def build():
        scratch = f"dmd_drift_{secrets.token_hex(6)}"
        if snapshot["tables"]:
            cursor.execute(ddl.script(ddl.create_script(scratch, snapshot)))
        return read_catalog(cursor, scratch)

    return expected.get(snapshot_hash, build)


def check(user, project_id):
    """The differences between the target schema and the last deployed design."""
    granted = access(user, project_id)
    schema = granted.project.target_schema
    last = deploy.last_applied(granted.project.id)
    snapshot = deploy.deployed_snapshot(last)
    conn = target.connect()
    try:
        with conn.cursor() as cursor:
            timeouts(cursor)
            actual = read_catalog(cursor, schema)
            expected = expected_catalog(cursor, last.to_hash if last else "", snapshot)
        conn.rollback()
    finally:
        conn.close()
    return Report(schema, last is not None, differences(expected, actual))
