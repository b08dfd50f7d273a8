"""Taking over a schema of the deploy target as a new project: its tables come in Active and
deployed, but only when the schema is exactly what the imported design would deploy.

Exactly is checked the way drift checks: the design is built in a scratch schema on the
target (rolled back) and both catalogs are compared. Any difference, and every table
comes in as Draft instead, with the differences listed in the preview.
"""

from designer.database import drift
from designer.database import records
from designer.database import target
from designer.database import tenant_roles
from designer.database.catalog import read_catalog
from designer.database.repair import Drift
from designer.history import snapshot as snapshots
from designer.interchange.import_database import importable
from designer.interchange.import_source import IMPERFECT
from designer.interchange.import_source import Finding
from designer.models import DataTable
from designer.models import Deployment
from designer.models import Project
from designer.models import TargetReservation

SHOWN = 5


def as_active(snapshot):
    tables = {tid: {**t, "status": "active"} for tid, t in snapshot["tables"].items()}
    return {**snapshot, "tables": tables}


def catalog_differences(schema, snapshot, reservation):
    """How the target's `schema` differs from what `snapshot` would deploy (built as the
    kept schema's own role, or for a schema an administrator listed, as the target's)."""
    if reservation is None:
        conn = target.connect()
    else:
        conn = tenant_roles.connect_as(target.target_url(), reservation.role_name)
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
    # Only a deleted project's schema kept for this user, or one an administrator listed; a
    # live project's (the user's own: row-level security shows no other) stays its own.
    allowed = importable([schema])
    reservation = allowed.get(schema)
    if schema not in allowed or (reservation is not None and reservation.project_id):
        words = "the schema is another project's target: tables come in as Draft"
        plan.findings.append(Finding(IMPERFECT, None, schema, words))
        return False
    found = catalog_differences(schema, as_active(plan.snapshot), reservation)
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
    """The new project deploys into `schema`, which already holds `snapshot`: it takes the
    kept reservation (and its role), or reserves a listed schema, whose objects its new role
    takes over on first use."""
    kept = importable([schema]).get(schema)
    TargetReservation.delete().where(TargetReservation.project == project.id).execute()
    if kept is not None:
        TargetReservation.update(project=project.id, kept_for=[], kept_name=None).where(
            TargetReservation.schema_name == schema
        ).execute()
    else:
        TargetReservation.create(
            schema_name=schema, role_name=tenant_roles.role_for(project.id), project=project.id,
            handover=True,
        )  # fmt: skip
    Project.update(target_schema=schema).where(Project.id == project.id).execute()
    records.mark_deployed(project.id, snapshot)
    Deployment.create(
        project=project.id, version=version, target_schema=schema, from_hash=None,
        to_hash=snapshots.snapshot_hash(snapshot), sql="-- adopted: the schema was there",
        plan=[], status="applied", duration_ms=0, deployed_snapshot=snapshot, created_by=user,
    )  # fmt: skip
    return DataTable.select().where(DataTable.project == project.id).count()
