"""Versions stored as content-addressed parts (designer/history/parts.py), issue #27.

A version kept its whole snapshot: about 20 MB of JSON at 3,000 tables, written again by
every save however little changed. Now a version holds a manifest (json, the canonical
text its schema_hash is the sha256 of) naming parts: a part per table and per
relationship, grouped in buckets, and one per other top-level key. A part is stored once
per project, keyed by its hash, and shared by every version that has it, so a save after a
one-table change writes a leaf, a bucket and the manifest.

schema_snapshot stays, nullable: a version stored in parts leaves it NULL and reads it
assembled (version_snapshot, or the model's select of the column, designer/models.py); a
row written whole (by an older app, or by hand) is still read whole. A part's label (the
table's or relationship's name) lets a version page sort and page its entries without
reading them all. Parts belong to their
project: its members read them, editors add them, as for the versions themselves.
"""

PARTS = """
CREATE TABLE schema_part (
    project_id uuid NOT NULL REFERENCES project (id) ON DELETE CASCADE,
    hash varchar(64) NOT NULL,
    body json NOT NULL,
    -- What a version page sorts a table or a relationship by (NULL for other parts): the
    -- statements storing parts take it from the body.
    label text,
    PRIMARY KEY (project_id, hash)
)"""

# The complete snapshot a manifest names, assembled from the project's parts (row-level
# security applies: the caller's own projects only). Keys and ids come out sorted.
ASSEMBLE = """
CREATE FUNCTION version_snapshot(manifest json, project uuid) RETURNS json
LANGUAGE sql STABLE AS $$
    SELECT coalesce(json_object_agg(m.key, CASE
        WHEN m.value ->> 'part' IS NOT NULL THEN
            (SELECT p.body FROM public.schema_part p
             WHERE p.project_id = project AND p.hash = m.value ->> 'part')
        ELSE coalesce((
            SELECT json_object_agg(e.key, leaf.body ORDER BY e.key)
            FROM json_each_text(m.value -> 'buckets') b
            JOIN public.schema_part bucket
              ON bucket.project_id = project AND bucket.hash = b.value
            CROSS JOIN LATERAL json_each_text(
                CASE WHEN json_typeof(bucket.body) = 'object' THEN bucket.body END) e
            JOIN public.schema_part leaf ON leaf.project_id = project AND leaf.hash = e.value
        ), '{}') END ORDER BY m.key), '{}')
    FROM json_each(manifest) m
$$"""


def up(migrator, db):
    db.execute_sql(PARTS)
    db.execute_sql("SELECT rls_protect('schema_part', 'project_id')")
    db.execute_sql(
        "ALTER TABLE schema_version ALTER COLUMN schema_snapshot DROP NOT NULL,"
        " ADD COLUMN manifest json"
    )
    supported = db.execute_sql(
        "SELECT 'lz4' = ANY (enumvals) FROM pg_settings WHERE name = 'default_toast_compression'"
    ).fetchone()[0]
    if supported:
        db.execute_sql("ALTER TABLE schema_part ALTER COLUMN body SET COMPRESSION lz4")
    db.execute_sql(ASSEMBLE)


def down(migrator, db):
    db.execute_sql(
        "UPDATE schema_version SET schema_snapshot = version_snapshot(manifest, project_id)"
        " WHERE schema_snapshot IS NULL"
    )
    db.execute_sql("DROP FUNCTION version_snapshot(json, uuid)")
    db.execute_sql(
        "ALTER TABLE schema_version DROP COLUMN manifest, ALTER COLUMN schema_snapshot SET NOT NULL"
    )
    db.execute_sql("DROP TABLE schema_part")
