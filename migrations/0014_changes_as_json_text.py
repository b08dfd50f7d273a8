"""Store a version's `changes` as `json` (its text, validated), not `jsonb`.

Nothing queries inside `changes`: it is written once and read whole (a version page, the
API's ?include=changes). The first version of a 3,000-table project records every table and
field as added, about 25 MB of JSON; parsing that into jsonb took about 0.8 s of its save
(bench/versions.py), and json only checks the text. The spec types `changes` as an array,
which the CHECK still guarantees. Same reasoning as 0011 for schema_snapshot.
"""

CHECK = "ALTER TABLE schema_version DROP CONSTRAINT schema_version_changes_check"


def up(migrator, db):
    db.execute_sql(CHECK)
    db.execute_sql(
        "ALTER TABLE schema_version ALTER COLUMN changes DROP DEFAULT,"
        " ALTER COLUMN changes TYPE json USING changes::json,"
        " ALTER COLUMN changes SET DEFAULT '[]'::json,"
        " ADD CONSTRAINT schema_version_changes_check CHECK (json_typeof(changes) = 'array')"
    )


def down(migrator, db):
    db.execute_sql(CHECK)
    db.execute_sql(
        "ALTER TABLE schema_version ALTER COLUMN changes DROP DEFAULT,"
        " ALTER COLUMN changes TYPE jsonb USING changes::jsonb,"
        " ALTER COLUMN changes SET DEFAULT '[]'::jsonb,"
        " ADD CONSTRAINT schema_version_changes_check CHECK (jsonb_typeof(changes) = 'array')"
    )
