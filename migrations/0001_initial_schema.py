"""The spec's data model, accounts, memberships and API tokens.

Frozen SQL: later model changes come as new migrations, never as edits here.
"""

STATEMENTS = [
    """
    CREATE TABLE app_user (
        id uuid NOT NULL PRIMARY KEY DEFAULT gen_random_uuid(),
        username varchar(40) NOT NULL,
        email varchar(254) NOT NULL,
        password_hash text NOT NULL,
        is_active boolean NOT NULL DEFAULT true,
        created_at timestamptz NOT NULL DEFAULT now()
    )""",
    "CREATE UNIQUE INDEX app_user_email ON app_user (email)",
    "CREATE UNIQUE INDEX app_user_username_lower ON app_user (lower(username))",
    """
    CREATE TABLE api_token (
        id uuid NOT NULL PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id uuid NOT NULL REFERENCES app_user (id) ON DELETE CASCADE,
        name varchar(100) NOT NULL,
        token_hash varchar(64) NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        last_used_at timestamptz,
        revoked_at timestamptz
    )""",
    "CREATE INDEX api_token_user_id ON api_token (user_id)",
    "CREATE UNIQUE INDEX api_token_token_hash ON api_token (token_hash)",
    """
    CREATE TABLE project (
        id uuid NOT NULL PRIMARY KEY DEFAULT gen_random_uuid(),
        name varchar(200) NOT NULL,
        description text NOT NULL DEFAULT '',
        owner_id uuid NOT NULL REFERENCES app_user (id),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        is_active boolean NOT NULL DEFAULT true,
        revision integer NOT NULL DEFAULT 1 CHECK (revision > 0)
    )""",
    "CREATE INDEX project_owner_id ON project (owner_id)",
    """
    CREATE TABLE project_member (
        id uuid NOT NULL PRIMARY KEY DEFAULT gen_random_uuid(),
        project_id uuid NOT NULL REFERENCES project (id) ON DELETE CASCADE,
        user_id uuid NOT NULL REFERENCES app_user (id) ON DELETE CASCADE,
        role varchar(16) NOT NULL CHECK (role IN ('viewer', 'editor', 'owner')),
        created_at timestamptz NOT NULL DEFAULT now(),
        revision integer NOT NULL DEFAULT 1 CHECK (revision > 0)
    )""",
    "CREATE INDEX project_member_user_id ON project_member (user_id)",
    "CREATE UNIQUE INDEX project_member_project_id_user_id ON project_member (project_id, user_id)",
    """
    CREATE TABLE data_table (
        id uuid NOT NULL PRIMARY KEY DEFAULT gen_random_uuid(),
        project_id uuid NOT NULL REFERENCES project (id) ON DELETE CASCADE,
        name varchar(200) NOT NULL,
        description text NOT NULL DEFAULT '',
        table_name varchar(63) NOT NULL,
        schema_definition jsonb NOT NULL DEFAULT '{}'::jsonb
            CHECK (jsonb_typeof(schema_definition) = 'object'),
        status varchar(16) NOT NULL DEFAULT 'draft'
            CHECK (status IN ('draft', 'active', 'deprecated', 'deleted')),
        created_by_id uuid REFERENCES app_user (id) ON DELETE SET NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        revision integer NOT NULL DEFAULT 1 CHECK (revision > 0)
    )""",
    "CREATE INDEX data_table_created_by_id ON data_table (created_by_id)",
    "CREATE UNIQUE INDEX data_table_project_id_name ON data_table (project_id, name)",
    "CREATE UNIQUE INDEX data_table_project_id_table_name ON data_table (project_id, table_name)",
    "CREATE UNIQUE INDEX data_table_project_id_id ON data_table (project_id, id)",
    "CREATE INDEX data_table_project_id_status ON data_table (project_id, status)",
    "CREATE INDEX data_table_name ON data_table (name)",
    "CREATE INDEX data_table_table_name ON data_table (table_name)",
    """
    CREATE TABLE data_field (
        id uuid NOT NULL PRIMARY KEY DEFAULT gen_random_uuid(),
        table_id uuid NOT NULL REFERENCES data_table (id) ON DELETE CASCADE,
        name varchar(200) NOT NULL,
        field_name varchar(63) NOT NULL,
        data_type varchar(16) NOT NULL
            CHECK (data_type IN ('text', 'number', 'date', 'boolean')),
        is_required boolean NOT NULL DEFAULT false,
        default_value text,
        field_config jsonb NOT NULL DEFAULT '{}'::jsonb
            CHECK (jsonb_typeof(field_config) = 'object'),
        sort_order integer NOT NULL CHECK (sort_order >= 0),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        revision integer NOT NULL DEFAULT 1 CHECK (revision > 0)
    )""",
    "CREATE UNIQUE INDEX data_field_table_id_name ON data_field (table_id, name)",
    "CREATE UNIQUE INDEX data_field_table_id_field_name ON data_field (table_id, field_name)",
    "CREATE UNIQUE INDEX data_field_table_id_id ON data_field (table_id, id)",
    "CREATE INDEX data_field_table_id_sort_order ON data_field (table_id, sort_order)",
    "CREATE INDEX data_field_name ON data_field (name)",
    "CREATE INDEX data_field_field_name ON data_field (field_name)",
    """
    CREATE TABLE table_relationship (
        id uuid NOT NULL PRIMARY KEY DEFAULT gen_random_uuid(),
        project_id uuid NOT NULL REFERENCES project (id) ON DELETE CASCADE,
        source_table_id uuid NOT NULL REFERENCES data_table (id) ON DELETE CASCADE,
        target_table_id uuid NOT NULL REFERENCES data_table (id) ON DELETE CASCADE,
        source_field_id uuid REFERENCES data_field (id),
        target_field_id uuid REFERENCES data_field (id),
        relationship_name varchar(63) NOT NULL,
        relationship_type varchar(16) NOT NULL DEFAULT 'one_to_many'
            CHECK (relationship_type IN ('one_to_many')),
        cascade_config jsonb NOT NULL DEFAULT '{}'::jsonb
            CHECK (jsonb_typeof(cascade_config) = 'object'),
        status varchar(16) NOT NULL DEFAULT 'draft'
            CHECK (status IN ('draft', 'active', 'deprecated', 'deleted')),
        created_by_id uuid REFERENCES app_user (id) ON DELETE SET NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        revision integer NOT NULL DEFAULT 1 CHECK (revision > 0),
        FOREIGN KEY (project_id, source_table_id)
            REFERENCES data_table (project_id, id) ON DELETE CASCADE,
        FOREIGN KEY (project_id, target_table_id)
            REFERENCES data_table (project_id, id) ON DELETE CASCADE,
        FOREIGN KEY (source_table_id, source_field_id) REFERENCES data_field (table_id, id),
        FOREIGN KEY (target_table_id, target_field_id) REFERENCES data_field (table_id, id)
    )""",
    "CREATE INDEX table_relationship_source_table_id ON table_relationship (source_table_id)",
    "CREATE INDEX table_relationship_target_table_id ON table_relationship (target_table_id)",
    "CREATE INDEX table_relationship_source_field_id ON table_relationship (source_field_id)",
    "CREATE INDEX table_relationship_target_field_id ON table_relationship (target_field_id)",
    "CREATE INDEX table_relationship_created_by_id ON table_relationship (created_by_id)",
    "CREATE UNIQUE INDEX table_relationship_project_id_relationship_name"
    " ON table_relationship (project_id, relationship_name)",
    """
    CREATE TABLE schema_version (
        id uuid NOT NULL PRIMARY KEY DEFAULT gen_random_uuid(),
        project_id uuid NOT NULL REFERENCES project (id) ON DELETE CASCADE,
        version_number integer NOT NULL CHECK (version_number > 0),
        schema_hash varchar(64) NOT NULL,
        schema_snapshot jsonb NOT NULL CHECK (jsonb_typeof(schema_snapshot) = 'object'),
        changes jsonb NOT NULL DEFAULT '[]'::jsonb CHECK (jsonb_typeof(changes) = 'array'),
        parent_version_id uuid REFERENCES schema_version (id) ON DELETE SET NULL,
        is_merged boolean NOT NULL DEFAULT false,
        message text NOT NULL DEFAULT '',
        created_by_id uuid REFERENCES app_user (id) ON DELETE SET NULL,
        created_at timestamptz NOT NULL DEFAULT now()
    )""",
    "CREATE INDEX schema_version_parent_version_id ON schema_version (parent_version_id)",
    "CREATE INDEX schema_version_created_by_id ON schema_version (created_by_id)",
    "CREATE UNIQUE INDEX schema_version_project_id_version_number"
    " ON schema_version (project_id, version_number)",
    """
    CREATE TABLE table_lock (
        id uuid NOT NULL PRIMARY KEY DEFAULT gen_random_uuid(),
        table_id uuid NOT NULL REFERENCES data_table (id) ON DELETE CASCADE,
        user_id uuid NOT NULL REFERENCES app_user (id) ON DELETE CASCADE,
        lock_token uuid NOT NULL,
        lock_type varchar(16) NOT NULL
            CHECK (lock_type IN ('optimistic', 'pessimistic', 'critical')),
        locked_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        heartbeat_at timestamptz NOT NULL DEFAULT now(),
        reason text NOT NULL DEFAULT '',
        released_at timestamptz,
        end_reason varchar(16) CHECK (end_reason IN ('released', 'expired', 'forced')),
        CHECK (expires_at > locked_at),
        CHECK ((released_at IS NULL) = (end_reason IS NULL))
    )""",
    "CREATE INDEX table_lock_user_id ON table_lock (user_id)",
    "CREATE UNIQUE INDEX table_lock_lock_token ON table_lock (lock_token)",
    "CREATE INDEX table_lock_table_id_locked_at ON table_lock (table_id, locked_at)",
    # Only one active lock per table, enforced by PostgreSQL.
    "CREATE UNIQUE INDEX table_lock_one_active_per_table"
    " ON table_lock (table_id) WHERE released_at IS NULL",
]

TABLES = [
    "table_lock",
    "schema_version",
    "table_relationship",
    "data_field",
    "data_table",
    "project_member",
    "project",
    "api_token",
    "app_user",
]


def up(migrator, db):
    for statement in STATEMENTS:
        db.execute_sql(statement)


def down(migrator, db):
    for table in TABLES:
        db.execute_sql(f"DROP TABLE {table}")
