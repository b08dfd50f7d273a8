"""The project activity feed: who changed what, when."""


def up(migrator, db):
    db.execute_sql(
        """
        CREATE TABLE activity_entry (
            id uuid NOT NULL PRIMARY KEY DEFAULT gen_random_uuid(),
            project_id uuid NOT NULL REFERENCES project (id) ON DELETE CASCADE,
            user_id uuid REFERENCES app_user (id) ON DELETE SET NULL,
            action varchar(40) NOT NULL,
            summary text NOT NULL,
            subject_id uuid,
            created_at timestamptz NOT NULL DEFAULT now()
        )"""
    )
    db.execute_sql("CREATE INDEX activity_entry_user_id ON activity_entry (user_id)")
    db.execute_sql(
        "CREATE INDEX activity_entry_project_id_created_at"
        " ON activity_entry (project_id, created_at)"
    )


def down(migrator, db):
    db.execute_sql("DROP TABLE activity_entry")
