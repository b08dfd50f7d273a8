"""Project-scoped enum types: each a name unique in its project and its ordered labels.

Fields of the text family name one by id (field_config.enum_id); a deploy creates it in the
project's schema (CREATE TYPE ... AS ENUM) and evolves it with ALTER TYPE, never by
dropping it while a column uses it. Members read a project's enums, editors write them
(the policies rls_protect writes for every project table, migrations/0009).
"""

CREATE = [
    'CREATE TABLE "project_enum" ("id" UUID NOT NULL PRIMARY KEY DEFAULT gen_random_uuid(),'
    ' "project_id" UUID NOT NULL, "name" VARCHAR(63) NOT NULL,'
    " \"labels\" JSONB NOT NULL DEFAULT '[]'::jsonb CHECK (jsonb_typeof(labels) = 'array'),"
    ' "created_at" TIMESTAMPTZ NOT NULL DEFAULT now(),'
    ' "updated_at" TIMESTAMPTZ NOT NULL DEFAULT now(),'
    ' "revision" INTEGER NOT NULL DEFAULT 1 CHECK (revision > 0),'
    ' FOREIGN KEY ("project_id") REFERENCES "project" ("id") ON DELETE CASCADE)',
    'CREATE UNIQUE INDEX "project_enum_project_id_name" ON "project_enum" ("project_id", "name")',
    "SELECT rls_protect('project_enum', 'project_id', 'editor', false)",
]


def up(migrator, db):
    for statement in CREATE:
        db.execute_sql(statement)


def down(migrator, db):
    db.execute_sql('DROP TABLE "project_enum"')
