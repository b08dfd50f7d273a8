"""Drift: does the target schema still hold what the designer last deployed there?

The expected catalog is not guessed: the last deployed snapshot is built
into a scratch schema on the target, inside a transaction that is rolled
back, and both schemas are read from pg_catalog the same way.
"""

import secrets
from dataclasses import dataclass

from designer import ddl
from designer import deploy
from designer import target
from designer.catalog import differences
from designer.catalog import read_catalog
from designer.projects import access
from designer.settings import settings


@dataclass
class Report:
    schema: str
    deployed: bool
    differences: list


def expected_and_actual(schema, snapshot):
    """(catalog the snapshot makes, catalog the target schema has), changing nothing."""
    conn = target.connect()
    try:
        with conn.cursor() as cursor:
            cursor.execute(
                "SELECT set_config('statement_timeout', %s, true)",
                (f"{settings.deploy_statement_timeout_ms}ms",),
            )
            actual = read_catalog(cursor, schema)
            scratch = f"dmd_drift_{secrets.token_hex(6)}"
            if snapshot["tables"]:
                cursor.execute(ddl.script(ddl.create_script(scratch, snapshot)))
            expected = read_catalog(cursor, scratch)
        conn.rollback()
    finally:
        conn.close()
    return expected, actual


def check(user, project_id):
    """The differences between the target schema and the last deployed design."""
    granted = access(user, project_id)
    last = deploy.last_applied(granted.project.id)
    snapshot = deploy.deployed_snapshot(last)
    expected, actual = expected_and_actual(granted.project.target_schema, snapshot)
    return Report(granted.project.target_schema, last is not None, differences(expected, actual))
