"""Schemas of the deploy target reserved per project, each owned there by a role of its own.

A reservation holds a schema name for one project across every tenant (a unique index
refuses a name any reservation holds, whoever's), and names the PostgreSQL role that owns
the schema on the target. Deleting a project with its schema kept leaves the reservation,
held for the owners it had then: only they may import that schema again.

Every existing project gets its reservation here; its schema (made, before this, by the
target's connection role) is handed over to its new role when the project first uses the
target (`handover`).

The existence oracles go: rls_schemas_of_others answered, for any names, which belonged to
other people's projects; rls_unclaimed answered whether any project id had members. The
first is dropped (importable schemas are now the user's own reservations, which row-level
security shows, or names an administrator allows); the second answers only for projects the
caller created.
"""

CREATE = [
    'CREATE TABLE "target_reservation" ("id" UUID NOT NULL PRIMARY KEY DEFAULT gen_random_uuid(),'
    ' "schema_name" VARCHAR(63) NOT NULL, "role_name" VARCHAR(63) NOT NULL, "project_id" UUID,'
    ' "kept_for" UUID[] NOT NULL DEFAULT \'{}\', "kept_name" VARCHAR(200),'
    ' "handover" BOOLEAN NOT NULL DEFAULT false,'
    ' "created_at" TIMESTAMPTZ NOT NULL DEFAULT now(),'
    ' FOREIGN KEY ("project_id") REFERENCES "project" ("id") ON DELETE SET NULL)',
    'CREATE UNIQUE INDEX "target_reservation_schema_name" ON "target_reservation" ("schema_name")',
    'CREATE UNIQUE INDEX "target_reservation_role_name" ON "target_reservation" ("role_name")',
    'CREATE UNIQUE INDEX "target_reservation_project_id" ON "target_reservation" ("project_id")',
    'CREATE INDEX "target_reservation_kept_for" ON "target_reservation" USING GIN ("kept_for")',
]

BACKFILL = """
INSERT INTO target_reservation (schema_name, role_name, project_id, handover)
SELECT target_schema, 'dmd_p_' || replace(id::text, '-', ''), id, true FROM project
"""

# Members see their projects' reservations; owners make, move and release them; a kept
# reservation is seen, taken back or released only by the owners it is kept for.
POLICIES = [
    "ALTER TABLE target_reservation ENABLE ROW LEVEL SECURITY",
    "ALTER TABLE target_reservation FORCE ROW LEVEL SECURITY",
    "CREATE POLICY target_reservation_read ON target_reservation FOR SELECT USING ("
    " project_id = ANY ((SELECT rls_projects(0))::uuid[])"
    " OR (project_id IS NULL AND rls_user_id() = ANY (kept_for)))",
    "CREATE POLICY target_reservation_insert ON target_reservation FOR INSERT"
    " WITH CHECK (project_id = ANY ((SELECT rls_projects(2))::uuid[]))",
    "CREATE POLICY target_reservation_update ON target_reservation FOR UPDATE USING ("
    " project_id = ANY ((SELECT rls_projects(2))::uuid[])"
    " OR (project_id IS NULL AND rls_user_id() = ANY (kept_for)))"
    " WITH CHECK (project_id = ANY ((SELECT rls_projects(2))::uuid[]))",
    "CREATE POLICY target_reservation_delete ON target_reservation FOR DELETE USING ("
    " project_id = ANY ((SELECT rls_projects(2))::uuid[])"
    " OR (project_id IS NULL AND rls_user_id() = ANY (kept_for)))",
]

UNCLAIMED = """
CREATE OR REPLACE FUNCTION rls_unclaimed(project uuid) RETURNS boolean
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
AS $$ BEGIN
    RETURN EXISTS (SELECT 1 FROM project p WHERE p.id = project AND p.owner_id = rls_user_id())
        AND NOT EXISTS (SELECT 1 FROM project_member m WHERE m.project_id = project);
END $$"""

# Which of these names any project reserved: asked only of names an administrator lists in
# IMPORT_TARGET_SCHEMAS, before such a schema may be imported (designer.database.import_database).
RESERVED_OF = """
CREATE FUNCTION rls_reserved_of(names text[]) RETURNS text[]
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
AS $$ BEGIN
    RETURN (SELECT coalesce(array_agg(r.schema_name::text), '{}') FROM target_reservation r
            WHERE r.schema_name = ANY (names));
END $$"""

# Inside the owner's definer functions, every reservation can be read.
DEFINER_READ = (
    "CREATE POLICY target_reservation_definer ON target_reservation FOR SELECT"
    " USING (rls_definer())"
)

UNCLAIMED_BEFORE = """
CREATE OR REPLACE FUNCTION rls_unclaimed(project uuid) RETURNS boolean
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
AS $$ BEGIN
    RETURN NOT EXISTS (SELECT 1 FROM project_member m WHERE m.project_id = project);
END $$"""

SCHEMAS_OF_OTHERS = """
CREATE FUNCTION rls_schemas_of_others(names text[]) RETURNS text[]
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
AS $$ BEGIN
    RETURN (SELECT coalesce(array_agg(p.target_schema::text), '{}') FROM project p
            WHERE p.target_schema = ANY (names)
            AND NOT EXISTS (SELECT 1 FROM project_member m
                            WHERE m.project_id = p.id AND m.user_id = rls_user_id()));
END $$"""


def up(migrator, db):
    for statement in CREATE:
        db.execute_sql(statement)
    db.execute_sql(BACKFILL)
    cursor = db.cursor()
    for statement in POLICIES:
        cursor.execute(statement)
    cursor.execute(DEFINER_READ)
    cursor.execute(RESERVED_OF)
    cursor.execute(UNCLAIMED)
    cursor.execute("DROP FUNCTION rls_schemas_of_others(text[])")


def down(migrator, db):
    cursor = db.cursor()
    cursor.execute(SCHEMAS_OF_OTHERS)
    cursor.execute(UNCLAIMED_BEFORE)
    cursor.execute("DROP FUNCTION rls_reserved_of(text[])")
    db.execute_sql('DROP TABLE "target_reservation"')
