"""Lookups a comparison of two versions makes in their parts (designer/history/compare.py,
issue #27): the relationships that touch some tables, and the tables of some names.

A comparison reads only the entries whose leaves differ; the migration SQL it shows also
needs, unchanged, the relationships of the changed tables (and their other ends), and to
know that no table it did not read could take a name it gives. Without these indexes both
mean reading every part of the project: 30,000 tables' at the sizes issue #27 measures.
"""

INDEXES = {
    "schema_part_source": "(project_id, (body ->> 'source_table_id'))"
    " WHERE body ->> 'source_table_id' IS NOT NULL",
    "schema_part_target": "(project_id, (body ->> 'target_table_id'))"
    " WHERE body ->> 'target_table_id' IS NOT NULL",
    "schema_part_label": "(project_id, label) WHERE label IS NOT NULL",
}


def up(migrator, db):
    for name, definition in INDEXES.items():
        db.execute_sql(f"CREATE INDEX {name} ON schema_part {definition}")


def down(migrator, db):
    for name in INDEXES:
        db.execute_sql(f"DROP INDEX {name}")
