"""Keep each version's change counts beside it, so the timeline never loads `changes`.

The counts follow designer.history.diff.summarize as it was when this migration was
written (frozen here, as migrations are).
"""

import json

BUCKETS = {"add": "added", "rename": "changed", "alter": "changed", "drop": "dropped"}


def counts(changes):
    whole = {c["table_id"] for c in changes if c["op"] in ("add_table", "drop_table")}
    seen = {k: {"added": set(), "changed": set(), "dropped": set()} for k in
            ("tables", "fields", "relationships")}  # fmt: skip
    for change in changes:
        verb, _, kind = change["op"].partition("_")
        if kind == "field" and change["table_id"] in whole:
            continue
        identity = tuple(change.get(k) for k in ("table_id", "field_id", "relationship_id"))
        seen[kind + "s"][BUCKETS[verb]].add(identity)
    return {kind: {b: len(ids) for b, ids in buckets.items()} for kind, buckets in seen.items()}


def up(migrator, db):
    db.execute_sql(
        "ALTER TABLE schema_version ADD COLUMN change_summary jsonb NOT NULL DEFAULT '{}'::jsonb"
    )
    rows = db.execute_sql("SELECT id, changes FROM schema_version").fetchall()
    for version_id, changes in rows:
        db.execute_sql(
            "UPDATE schema_version SET change_summary = %s::jsonb WHERE id = %s",
            (json.dumps(counts(changes)), version_id),
        )


def down(migrator, db):
    db.execute_sql("ALTER TABLE schema_version DROP COLUMN change_summary")
