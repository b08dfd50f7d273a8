"""Store a version's snapshot as `json` (its text, validated), not `jsonb`, compressed by lz4.

The spec types schema_snapshot as json. Nothing queries inside a stored snapshot: it is
only written whole and read whole. jsonb parsed the ~20 MB of a 3,000-table snapshot into
its binary form on every save (the larger part of a 3,000-table save) and printed it back
on every read; json only checks the text is valid and keeps it. lz4 compresses the text
several times faster than the default pglz, when the server was built with it.
"""

CHECK = "ALTER TABLE schema_version DROP CONSTRAINT schema_version_schema_snapshot_check"


def set_compression(db, method):
    """SET COMPRESSION `method` when this server has it (lz4 is a build option)."""
    if method == "lz4":
        supported = db.execute_sql(
            "SELECT 'lz4' = ANY (enumvals) FROM pg_settings"
            " WHERE name = 'default_toast_compression'"
        ).fetchone()[0]
        if not supported:
            return
    db.execute_sql(
        f"ALTER TABLE schema_version ALTER COLUMN schema_snapshot SET COMPRESSION {method}"
    )


def up(migrator, db):
    db.execute_sql(CHECK)
    db.execute_sql(
        "ALTER TABLE schema_version ALTER COLUMN schema_snapshot TYPE json"
        " USING schema_snapshot::json,"
        " ADD CONSTRAINT schema_version_schema_snapshot_check"
        " CHECK (json_typeof(schema_snapshot) = 'object')"
    )
    set_compression(db, "lz4")


def down(migrator, db):
    db.execute_sql(CHECK)
    db.execute_sql(
        "ALTER TABLE schema_version ALTER COLUMN schema_snapshot TYPE jsonb"
        " USING schema_snapshot::jsonb,"
        " ADD CONSTRAINT schema_version_schema_snapshot_check"
        " CHECK (jsonb_typeof(schema_snapshot) = 'object')"
    )
    set_compression(db, "default")
