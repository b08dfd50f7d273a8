"""Deployment records: what the target holds after each deploy, and their history."""

import json

from peewee import JOIN
from peewee import SQL
from peewee import Tuple
from peewee import fn

from designer.database import in_flight
from designer.db import parse_id
from designer.errors import NotFound
from designer.history import snapshot as snapshots
from designer.history import versions
from designer.history.diff import empty_snapshot
from designer.models import ADOPTED_SQL
from designer.models import DataTable
from designer.models import Deployment
from designer.models import SchemaPart
from designer.models import SchemaVersion
from designer.models import UserName
from designer.projects import access

LISTED = [
    f
    for f in Deployment._meta.sorted_fields
    if f is not Deployment.deployed_snapshot and f is not Deployment.manifest
]


SUMMARY = [f for f in LISTED if f is not Deployment.sql and f is not Deployment.plan]


def has_applied(project_id):
    """Whether any deployment of the project was applied (without reading one)."""
    return (
        Deployment.select()
        .where(Deployment.project == project_id, Deployment.status == "applied")
        .exists()
    )


def last_applied(project_id, fields=LISTED):
    return (
        Deployment.select(*fields)
        .where(Deployment.project == project_id, Deployment.status == "applied")
        .order_by(Deployment.created_at.desc())
        .first()
    )


def deployed_snapshot(deployment):
    """What the target holds after `deployment` (None: nothing deployed yet)."""
    if deployment is None:
        return empty_snapshot()

    def text():
        # A deploy of the whole design stores no copy: its version holds the snapshot.
        return (
            Deployment.select(
                # (A version's snapshot is json, a deployment's jsonb.)
                fn.coalesce(
                    Deployment.deployed_snapshot.cast("json"), SchemaVersion.schema_snapshot
                ).cast("text")
            )
            .join(SchemaVersion, JOIN.LEFT_OUTER, on=(Deployment.version == SchemaVersion.id))
            .where(Deployment.id == deployment.id)
            .scalar()
        )

    def load():
        # Sized by the text read: measuring it by its canonical JSON would encode the whole
        # snapshot again, a third of a cold 3,000-table plan.
        read = text()
        return json.loads(read), len(read)

    return versions.cache.get_sized(deployment.to_hash, load)


def deployed_manifest(project_id, snapshot, version=None, tree=None):
    """The manifest of what a deploy leaves on the target, `snapshot`, with the parts the
    project's store lacks stored (a version's own when it is that version), as a value for
    Deployment.manifest."""
    tree = tree or versions.tree_of(snapshot)
    if version is not None and version.schema_hash == tree.hash:
        manifest = (
            SchemaVersion.select(SchemaVersion.manifest.cast("text"))
            .where(SchemaVersion.id == version.id)
            .scalar()
        )
        if manifest is not None:
            return SQL("%s::json", (manifest,))
    leaves = {
        leaf: (key, entry_id)
        for key, named in tree.leaves.items()
        for entry_id, leaf in named.items()
    }
    hashes = sorted(set(leaves) | set(tree.texts))
    present = set()
    for start in range(0, len(hashes), 5000):
        present.update(
            SchemaPart.select(SchemaPart.hash)
            .where(
                SchemaPart.project == project_id, SchemaPart.hash.in_(hashes[start : start + 5000])
            )
            .scalars()
        )
    added = {h: text for h, text in tree.texts.items() if h not in present}
    for leaf, (key, entry_id) in leaves.items():
        if leaf not in present and leaf not in added:
            added[leaf] = snapshots.parts.canonical(snapshot[key][entry_id])
    versions.store_parts(project_id, added)
    return SQL("%s::json", (tree.manifest,))


def mark_deployed(project_id, desired):
    """Record which tables the target now holds (deployed_at), in the designer."""
    ids = list(desired["tables"])
    DataTable.update(deployed_at=SQL("now()")).where(
        DataTable.project == project_id, DataTable.id.in_(ids), DataTable.deployed_at.is_null()
    ).execute()
    DataTable.update(deployed_at=None).where(
        DataTable.project == project_id,
        DataTable.id.not_in(ids),
        DataTable.deployed_at.is_null(False),
    ).execute()


def history(project_id, limit=20, before=None):
    """Deployments newest first, `limit` of them older than deployment `before`; without
    their SQL and steps (a 3,000-table deploy's are megabytes): what a listing says of the
    plan is kept on the row (step_count, table_count, table_names: migration 0047)."""
    in_flight.settle_orphans(project_id)
    # Only the start of the SQL: enough to tell an adoption (models.ADOPTED_SQL).
    opening = fn.left(Deployment.sql, len(ADOPTED_SQL)).alias("sql")
    rows = (
        Deployment.select(*SUMMARY, opening, UserName.username)
        .join(UserName, on=(Deployment.created_by == UserName.id), join_type=JOIN.LEFT_OUTER)
        .where(Deployment.project == project_id)
        .order_by(Deployment.created_at.desc(), Deployment.id.desc())
        .limit(limit)
    )
    if before is not None:
        older = Deployment.alias("older")
        since = older.select(older.created_at, older.id).where(
            older.id == parse_id(before, "deployment"), older.project == project_id
        )
        rows = rows.where(Tuple(Deployment.created_at, Deployment.id) < since)
    return list(rows.objects())


def get_deployment(user, project_id, deployment_id, steps=None):
    """One deployment, without the snapshot it deployed; `steps` = (start, count) reads only
    those of its steps into `plan` (and their number into step_count), and no SQL."""
    granted = access(user, project_id)
    in_flight.settle_orphans(granted.project.id)
    columns = LISTED
    if steps is not None:
        start, count = steps
        page = fn.jsonb_path_query_array(
            Deployment.plan, SQL("%s::jsonpath", (f"$[{start} to {start + count - 1}]",))
        )
        columns = [
            *SUMMARY,
            page.alias("plan"),
            fn.jsonb_array_length(Deployment.plan).alias("step_count"),
        ]
    row = (
        Deployment.select(*columns)
        .where(
            Deployment.id == parse_id(deployment_id, "deployment"),
            Deployment.project == granted.project.id,
        )
        .first()
    )
    if row is None:
        raise NotFound("No such deployment.")
    return row


def deployment_heading(project_id, deployment_id):
    """A deployment's summary (no SQL, no plan) in a project the caller has access to."""
    row = (
        Deployment.select(*SUMMARY)
        .where(
            Deployment.id == parse_id(deployment_id, "deployment"),
            Deployment.project == project_id,
        )
        .first()
    )
    if row is None:
        raise NotFound("No such deployment.")
    return row


def deployment_sql(project_id, deployment_id):
    """The SQL a deployment ran."""
    return (
        Deployment.select(Deployment.sql)
        .where(Deployment.id == deployment_id, Deployment.project == project_id)
        .scalar()
    ) or ""
