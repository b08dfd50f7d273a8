"""Existing versions moved into parts (see 0026), one version at a time.

Each whole snapshot is split into its parts (designer.history.parts.tree_of), the parts
stored once per project, the manifest kept and schema_hash set to the manifest's hash, the
Merkle root the app now computes (designer.history.snapshot.snapshot_hash). Deployments
name versions by these hashes, so their from_hash and to_hash follow, and a deployment's
own stored snapshot gets its new hash too. Every stored hash stays verifiable: a version's
is the sha256 of its manifest, and each part's the sha256 of its body.

Row-level security is forced on these tables even for their owner, who runs migrations, and
binds to a user this session does not have: it is lifted for this transaction only.
"""

import json

from designer.history import parts

TABLES = ("schema_version", "schema_part", "deployment")
# Read in batches: a project's versions may hold hundreds of megabytes of snapshots.
BATCH = 20


def store(db, project_id, tree):
    rows = list(tree.texts.items())
    for start in range(0, len(rows), 500):
        chunk = rows[start : start + 500]
        db.execute_sql(
            "INSERT INTO schema_part (project_id, hash, body, label)"
            " SELECT %s, h, b::json,"
            " coalesce(b::json ->> 'table_name', b::json ->> 'relationship_name')"
            " FROM unnest(%s::text[], %s::text[]) AS u (h, b)"
            " ON CONFLICT DO NOTHING",
            (str(project_id), [h for h, _ in chunk], [b for _, b in chunk]),
        )


def up(migrator, db):
    for table in TABLES:
        db.execute_sql(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
    renamed = {}
    while True:
        rows = db.execute_sql(
            "SELECT id, project_id, schema_hash, schema_snapshot::text FROM schema_version"
            " WHERE manifest IS NULL AND schema_snapshot IS NOT NULL ORDER BY id LIMIT %s",
            (BATCH,),
        ).fetchall()
        if not rows:
            break
        for version_id, project_id, old_hash, text in rows:
            tree = parts.tree_of(json.loads(text))
            store(db, project_id, tree)
            db.execute_sql(
                "UPDATE schema_version SET manifest = %s::json, schema_hash = %s,"
                " schema_snapshot = NULL WHERE id = %s",
                (tree.manifest, tree.hash, version_id),
            )
            renamed[(str(project_id), old_hash)] = tree.hash
    deployments = db.execute_sql(
        "SELECT id, project_id, from_hash, to_hash, deployed_snapshot::text FROM deployment"
    ).fetchall()
    # A deployment's to_hash names its version's snapshot, or the one it stored itself; a
    # from_hash names an earlier deployment's to_hash.
    new_to = {}
    for deployment_id, project_id, _, to_hash, snapshot in deployments:
        found = renamed.get((str(project_id), to_hash), to_hash)
        if snapshot is not None:
            found = parts.snapshot_hash(json.loads(snapshot))
        new_to[deployment_id] = found
        renamed.setdefault((str(project_id), to_hash), found)
    for deployment_id, project_id, from_hash, _, _ in deployments:
        db.execute_sql(
            "UPDATE deployment SET from_hash = %s, to_hash = %s WHERE id = %s",
            (
                renamed.get((str(project_id), from_hash), from_hash),
                new_to[deployment_id],
                deployment_id,
            ),
        )
    for table in TABLES:
        db.execute_sql(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")


def down(migrator, db):
    """Whole snapshots back, hashed as before (sha256 of their canonical JSON)."""
    for table in TABLES:
        db.execute_sql(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
    rows = db.execute_sql(
        "SELECT id, project_id, schema_hash, version_snapshot(manifest, project_id)::text"
        " FROM schema_version WHERE manifest IS NOT NULL"
    ).fetchall()
    renamed = {}
    for version_id, project_id, new_hash, text in rows:
        snapshot = json.loads(text)
        old_hash = parts.digest(
            json.dumps(snapshot, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        )
        db.execute_sql(
            "UPDATE schema_version SET schema_snapshot = %s::json, schema_hash = %s,"
            " manifest = NULL WHERE id = %s",
            (text, old_hash, version_id),
        )
        renamed[(str(project_id), new_hash)] = old_hash
    for deployment_id, project_id, from_hash, to_hash in db.execute_sql(
        "SELECT id, project_id, from_hash, to_hash FROM deployment"
    ).fetchall():
        project = str(project_id)
        db.execute_sql(
            "UPDATE deployment SET from_hash = %s, to_hash = %s WHERE id = %s",
            (
                renamed.get((project, from_hash), from_hash),
                renamed.get((project, to_hash), to_hash),
                deployment_id,
            ),
        )
    db.execute_sql("DELETE FROM schema_part")
    for table in TABLES:
        db.execute_sql(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
