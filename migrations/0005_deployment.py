"""Deployment: each project's target schema, when tables were deployed, and the records.

Existing projects get a target schema derived from their name (lowercase
snake_case, numbered when two projects would share one), as new ones do.
"""

import re


def schema_name(name, taken):
    base = re.sub(r"[^a-z0-9_]+", "_", name.lower()).strip("_")[:50] or "design"
    if base[0].isdigit() or base.startswith("pg_") or base == "public":
        base = f"s_{base}"
    candidate, number = base, 1
    while candidate in taken:
        number += 1
        candidate = f"{base}_{number}"
    taken.add(candidate)
    return candidate


def up(migrator, db):
    db.execute_sql("ALTER TABLE project ADD COLUMN target_schema varchar(63)")
    taken = set()
    for project_id, name in db.execute_sql("SELECT id, name FROM project ORDER BY created_at, id"):
        db.execute_sql(
            "UPDATE project SET target_schema = %s WHERE id = %s",
            (schema_name(name, taken), project_id),
        )
    db.execute_sql("ALTER TABLE project ALTER COLUMN target_schema SET NOT NULL")
    db.execute_sql(
        "ALTER TABLE project ALTER COLUMN target_schema"
        " SET DEFAULT ('p_' || substr(md5(random()::text), 1, 16))"
    )
    db.execute_sql("CREATE UNIQUE INDEX project_target_schema ON project (target_schema)")
    db.execute_sql("ALTER TABLE data_table ADD COLUMN deployed_at timestamptz")
    db.execute_sql(
        """
        CREATE TABLE deployment (
            id uuid NOT NULL PRIMARY KEY DEFAULT gen_random_uuid(),
            project_id uuid NOT NULL REFERENCES project (id) ON DELETE CASCADE,
            version_id uuid REFERENCES schema_version (id) ON DELETE SET NULL,
            target_schema varchar(63) NOT NULL,
            from_hash varchar(64),
            to_hash varchar(64) NOT NULL,
            sql text NOT NULL DEFAULT '',
            plan jsonb NOT NULL DEFAULT '[]'::jsonb CHECK (jsonb_typeof(plan) = 'array'),
            status varchar(16) NOT NULL
                CHECK (status IN ('dry_run_ok', 'dry_run_failed', 'applied', 'failed')),
            error text,
            duration_ms integer CHECK (duration_ms >= 0),
            deployed_snapshot jsonb,
            created_by_id uuid REFERENCES app_user (id) ON DELETE SET NULL,
            created_at timestamptz NOT NULL DEFAULT now()
        )"""
    )
    db.execute_sql("CREATE INDEX deployment_version_id ON deployment (version_id)")
    db.execute_sql("CREATE INDEX deployment_created_by_id ON deployment (created_by_id)")
    db.execute_sql(
        "CREATE INDEX deployment_project_id_created_at ON deployment (project_id, created_at)"
    )


def down(migrator, db):
    db.execute_sql("DROP TABLE deployment")
    db.execute_sql("ALTER TABLE data_table DROP COLUMN deployed_at")
    db.execute_sql("ALTER TABLE project DROP COLUMN target_schema")
