"""Which enums a project's fields use, without reading every field (issue #27).

The Deploy tab asks which enum types the tables a deploy brings up to date use (an enum
type is created once a column needs it, designer/database/pending.py): at 30,000 tables
that read 600,000 fields' settings. Only fields of an enum type are indexed here, by their
project, so the question reads those alone.
"""


def up(migrator, db):
    db.execute_sql(
        "CREATE INDEX data_field_enum ON data_field (project_id, (field_config ->> 'enum_id'))"
        " WHERE field_config ->> 'text_type' = 'enum'"
    )


def down(migrator, db):
    db.execute_sql("DROP INDEX data_field_enum")
