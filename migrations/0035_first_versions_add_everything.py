"""A first version's changes derived on read, not stored (issue #27).

A project's first version records its whole design as added: at 30,000 tables of 20
columns, about 630,000 operations and 500 MB of JSON, built, encoded and written on every
first save, though they say nothing the version's snapshot does not. Such a version now
stores [] in `changes` with `adds_everything` set; every reader gets diff(None, snapshot)
back from its parts (designer.models.ChangesField), the list it used to store.

Existing versions numbered 1 are converted when their stored changes are exactly what the
diff engine derives from their snapshot (any other stays as stored). Snapshots, manifests
and hashes are untouched, so every hash stays verifiable. Down writes the derived lists
back.
"""

import json

from designer.history.diff import diff

ADD = (
    "ALTER TABLE schema_version ADD COLUMN adds_everything boolean NOT NULL DEFAULT false"
    " CHECK (NOT adds_everything OR json_array_length(changes) = 0)"
)
# One version at a time: a first version's changes may be hundreds of megabytes.
NEXT = """
SELECT id, coalesce(schema_snapshot, version_snapshot(manifest, project_id))::text,
       changes::text
FROM schema_version
WHERE version_number = 1 AND NOT adds_everything AND id > %s
ORDER BY id LIMIT 1
"""
NEXT_DERIVED = """
SELECT id, coalesce(schema_snapshot, version_snapshot(manifest, project_id))::text
FROM schema_version WHERE adds_everything ORDER BY id LIMIT 1
"""
NO_VERSION = "00000000-0000-0000-0000-000000000000"


def derived(snapshot_text):
    """diff(None, snapshot) of a stored snapshot's text; None when it cannot be diffed."""
    try:
        return diff(None, json.loads(snapshot_text))
    except (KeyError, TypeError, AttributeError, ValueError):
        return None  # (a snapshot of another shape, written by hand: its changes stay)


def up(migrator, db):
    db.execute_sql(ADD)
    last = NO_VERSION
    while row := db.execute_sql(NEXT, (last,)).fetchone():
        last, snapshot, changes = row
        if snapshot is not None and derived(snapshot) == json.loads(changes):
            db.execute_sql(
                "UPDATE schema_version SET changes = '[]', adds_everything = true WHERE id = %s",
                (last,),
            )


def down(migrator, db):
    while row := db.execute_sql(NEXT_DERIVED).fetchone():
        last, snapshot = row
        db.execute_sql(
            "UPDATE schema_version SET changes = %s::json, adds_everything = false WHERE id = %s",
            (json.dumps(derived(snapshot)), last),
        )
    db.execute_sql("ALTER TABLE schema_version DROP COLUMN adds_everything")
