"""What each stored part is (schema_part.kind), so storing a version reads no table's body.

Migration 0039's lookups of the relationships touching some tables were indexes on
`body ->> 'source_table_id'` and `'target_table_id'`, partial on the same expressions: every
part stored, each table's some kilobytes of JSON, was decompressed and parsed twice for
them. At 30,000 tables that was more than half of a first version's save. Each part now
says what it is: a table, a relationship, or another part (a bucket of hashes, a key kept
whole), as every statement storing parts knows, and the lookups index relationships alone.
The column has no default, so a statement that does not say what it stores fails.
"""

KINDS = "('table', 'relationship', 'other')"
ENDS = ("source_table_id", "target_table_id")
# A part's kind from its body (the statements storing parts of the working copy know it).
KIND_OF_BODY = (
    "CASE WHEN {body} ->> 'source_table_id' IS NOT NULL THEN 'relationship'"
    " WHEN {body} ->> 'table_name' IS NOT NULL THEN 'table' ELSE 'other' END"
)


def up(migrator, db):
    db.execute_sql("ALTER TABLE schema_part ADD COLUMN kind varchar(16)")
    db.execute_sql(f"UPDATE schema_part SET kind = {KIND_OF_BODY.format(body='body')}")
    db.execute_sql("ALTER TABLE schema_part ALTER COLUMN kind SET NOT NULL")
    db.execute_sql(
        f"ALTER TABLE schema_part ADD CONSTRAINT schema_part_kind_check CHECK (kind IN {KINDS})"
    )
    for end in ENDS:
        db.execute_sql(f"DROP INDEX schema_part_{end[:6]}")
        db.execute_sql(
            f"CREATE INDEX schema_part_{end[:6]} ON schema_part (project_id, (body ->> '{end}'))"
            " WHERE kind = 'relationship'"
        )


def down(migrator, db):
    for end in ENDS:
        db.execute_sql(f"DROP INDEX schema_part_{end[:6]}")
        db.execute_sql(
            f"CREATE INDEX schema_part_{end[:6]} ON schema_part (project_id, (body ->> '{end}'))"
            f" WHERE body ->> '{end}' IS NOT NULL"
        )
    db.execute_sql("ALTER TABLE schema_part DROP COLUMN kind")
