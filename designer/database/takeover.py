"""Taking over a schema of the deploy target as a new project: its tables come in Active and
deployed, but only when the schema is exactly what the imported design would deploy.

Exactly is checked the way drift checks: the design is built in a scratch schema on the
target (rolled back) and both catalogs are compared. Any difference, and every table
comes in as Draft instead, with the differences listed in the preview.
"""

from designer.database import drift
from designer.database import records
from designer.database import target
from designer.database.catalog import read_catalog
from designer.database.import_database import hidden_schemas
from designer.database.import_source import IMPERFECT
from designer.database.import_source import Finding
from designer.database.repair import Drift
from designer.history import snapshot as snapshots
from designer.models import DataTable
from designer.models import Deployment
from designer.models import Project

SHOWN = 5


def as_active(snapshot):
    tables = {tid: {**t, "status": "active"} for tid, t in snapshot["tables"].items()}
    return {**snapshot, "tables": tables}


def catalog_differences(schema, snapshot):
    """How the target's `schema` differs from what `snapshot` would deploy."""
    conn = target.connect()
    try:
        with conn.cursor() as cursor:
            drift.timeouts(cursor)
            actual = read_catalog(cursor, schema)
            expected = drift.expected_catalog(cursor, snapshots.snapshot_hash(snapshot), snapshot)
        conn.rollback()
    finally:
        conn.close()
    return Drift(expected, actual).lines()


def adoptable(schema, plan):
    """Whether the plan can take over `schema` as deployed; says why in the plan either way."""
    # Any project's, the user's own or (hidden by row-level security) another's.
    taken = Project.select().where(Project.target_schema == schema).exists()
    if taken or hidden_schemas([schema]) - {"public"}:
        words = "the schema is another project's target: tables come in as Draft"
        plan.findings.append(Finding(IMPERFECT, None, schema, words))
        return False
    found = catalog_differences(schema, as_active(plan.snapshot))
    if found:
        listed = "; ".join(found[:SHOWN]) + (" …" if len(found) > SHOWN else "")
        words = (
            f"not exactly what this design deploys, so Draft ({len(found)} differences: {listed})"
        )
        plan.findings.append(Finding(IMPERFECT, None, schema, words))
        return False
    plan.status_note = f"as Active tables already deployed: {schema} holds exactly this design"
    plan.snapshot = as_active(plan.snapshot)
    return True


def record_adoption(user, project, schema, snapshot, version):
    """The new project deploys into `schema`, which already holds `snapshot`."""
    Project.update(target_schema=schema).where(Project.id == project.id).execute()
    records.mark_deployed(project.id, snapshot)
    Deployment.create(
        project=project.id, version=version, target_schema=schema, from_hash=None,
        to_hash=snapshots.snapshot_hash(snapshot), sql="-- adopted: the schema was there",
        plan=[], status="applied", duration_ms=0, deployed_snapshot=snapshot, created_by=user,
    )  # fmt: skip
    return DataTable.select().where(DataTable.project == project.id).count()
