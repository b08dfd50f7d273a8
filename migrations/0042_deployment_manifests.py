"""What an applied deployment left on the target, as a manifest of parts (issue #27).

A plan starts from what the last applied deployment left on the target: its version's
snapshot, or the snapshot it stored itself (deployed_snapshot, jsonb, whole). Reading that
whole at 30,000 tables to learn which tables differ from the design took seconds and
hundreds of megabytes in a page view. Now each applied deployment names what it left as a
manifest (designer/history/parts.py, the same Merkle tree a version is stored as), its parts
in schema_part, shared with the versions: the Deploy tab compares the manifest's leaf
hashes with working_part's in SQL and reads only the tables that differ
(designer/database/pending.py).

Existing deployments: one that deployed a whole version takes its version's manifest (when
the hashes agree); the last applied one of each project that stored its own snapshot is
split into parts here. Others keep no manifest: a plan from them reads the snapshot whole,
as before.
"""

import json

from designer.history import parts

TABLES = ("deployment", "schema_part")

# Every leaf a deployment's manifest names: (kind, entry id, hash). A function of its own so
# that each bucket is looked up by its key (a nested loop) even where the statement using it
# plans its other joins as hash joins (designer/database/pending.py). Row-level security
# applies: the caller's own projects only.
LEAVES = """
CREATE FUNCTION deployed_leaves(deployment uuid, project uuid)
RETURNS TABLE (kind text, entry_id text, hash text)
LANGUAGE sql STABLE SET enable_nestloop = on AS $$
    SELECT top.key, e.key, e.value
    FROM public.deployment d
    CROSS JOIN LATERAL json_each(d.manifest) top
    CROSS JOIN LATERAL json_each_text(top.value -> 'buckets') b
    JOIN public.schema_part bucket ON bucket.project_id = d.project_id AND bucket.hash = b.value
    CROSS JOIN LATERAL json_each_text(
        CASE WHEN json_typeof(bucket.body) = 'object' THEN bucket.body END) e
    WHERE d.id = deployment AND d.project_id = project
$$"""


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
    db.execute_sql("ALTER TABLE deployment ADD COLUMN manifest json")
    db.execute_sql(LEAVES)
    for table in TABLES:
        db.execute_sql(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
    db.execute_sql(
        "UPDATE deployment d SET manifest = v.manifest FROM schema_version v"
        " WHERE d.status = 'applied' AND d.deployed_snapshot IS NULL AND d.version_id = v.id"
        " AND v.manifest IS NOT NULL AND v.schema_hash = d.to_hash"
    )
    last = db.execute_sql(
        "SELECT DISTINCT ON (project_id) id, project_id, deployed_snapshot IS NOT NULL"
        " FROM deployment WHERE status = 'applied' ORDER BY project_id, created_at DESC"
    ).fetchall()
    for deployment_id, project_id, stored in last:
        if not stored:
            continue
        text = db.execute_sql(
            "SELECT deployed_snapshot::text FROM deployment WHERE id = %s", (deployment_id,)
        ).fetchone()[0]
        tree = parts.tree_of(json.loads(text))
        store(db, project_id, tree)
        db.execute_sql(
            "UPDATE deployment SET manifest = %s::json WHERE id = %s AND to_hash = %s",
            (tree.manifest, deployment_id, tree.hash),
        )
    for table in TABLES:
        db.execute_sql(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")


def down(migrator, db):
    db.execute_sql("DROP FUNCTION deployed_leaves(uuid, uuid)")
    db.execute_sql("ALTER TABLE deployment DROP COLUMN manifest")
