"""Redo the backfills that row-level security may have hidden from their migration.

Migrations run as the tables' owner, and FORCE ROW LEVEL SECURITY (0009) binds the owner to
the policies, which see no rows outside a signed-in request. On a server whose owner is not a
superuser, three earlier backfills therefore changed nothing, silently: 0013's search text
of existing tables, 0015's target reservation of existing projects, and 0021's marking of the
versions the designer had saved by itself. The runner now lifts FORCE for each migration's
own transaction (designer/db.py, OwnersRunner); this migration does the three again. Each is
idempotent: where the first run did its work, it finds nothing left to do.
"""

SEARCH_TEXT = """
UPDATE data_table SET search_text = search_text_of(id, name, table_name, description)
WHERE search_text IS DISTINCT FROM search_text_of(id, name, table_name, description)
"""

RESERVATIONS = """
INSERT INTO target_reservation (schema_name, role_name, project_id, handover)
SELECT p.target_schema, 'dmd_p_' || replace(p.id::text, '-', ''), p.id, true FROM project p
WHERE NOT EXISTS (SELECT 1 FROM target_reservation r WHERE r.project_id = p.id)
ON CONFLICT DO NOTHING
"""

AUTOMATIC = """
UPDATE schema_version SET automatic = true
WHERE NOT automatic AND created_at < (
    SELECT applied FROM schema_migration WHERE name = '0021_version_saved_automatically')
  AND (message IN ('Deployed', 'Before import', 'Before adopting the database''s schema')
       OR starts_with(message, 'Before restoring version '))
"""


def up(migrator, db):
    for statement in (SEARCH_TEXT, RESERVATIONS, AUTOMATIC):
        db.execute_sql(statement)


def down(migrator, db):
    """Nothing to undo: the rows now hold what the earlier migrations meant them to."""
