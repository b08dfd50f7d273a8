"""Row-level security: a project's rows are visible to its members only, writable by the roles
the app grants (viewer reads, editor designs, owner manages), whatever query reaches them.

The user is the setting `designer.user_id` (designer.db sets it per request). FORCE binds the
tables' owner too, except inside the owner's own SECURITY DEFINER functions (rls_definer),
which are the narrow paths acting for no user: membership lookups, token lookup, lock sweep.

A new table holding a project's rows gets its policies from its own migration:
    SELECT rls_protect('new_table', 'project_id');                -- keyed by project
    SELECT rls_protect('new_child', 'table_id', 'editor', 'data_table');  -- through a table
"""

FUNCTIONS = [
    # The request's user, or NULL (then no policy matches: nothing is visible).
    """
    CREATE FUNCTION rls_user_id() RETURNS uuid LANGUAGE sql STABLE
    AS $$ SELECT nullif(current_setting('designer.user_id', true), '')::uuid $$""",
    # True only inside the owner's SECURITY DEFINER functions: the owner's own sessions
    # (migrations, or an app misconfigured to run as the owner) are bound like anyone.
    """
    DO $do$ BEGIN
        EXECUTE format(
            'CREATE FUNCTION rls_definer() RETURNS boolean LANGUAGE sql STABLE AS %L',
            format('SELECT current_user = %L AND session_user <> current_user', current_user));
    END $do$""",
    # The projects where the user's role is above `need` (0 viewer, 1 editor, 2 owner);
    # policies call it as an InitPlan, once per statement.
    """
    CREATE FUNCTION rls_projects(need integer) RETURNS uuid[]
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
    AS $$ BEGIN
        RETURN (SELECT coalesce(array_agg(m.project_id), '{}') FROM project_member m
                WHERE m.user_id = rls_user_id()
                AND array_position(ARRAY['viewer', 'editor', 'owner'], m.role::text) > need);
    END $$""",
    # A project nobody is a member of yet: the moment between creating it and its first owner.
    """
    CREATE FUNCTION rls_unclaimed(project uuid) RETURNS boolean
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
    AS $$ BEGIN
        RETURN NOT EXISTS (SELECT 1 FROM project_member m WHERE m.project_id = project);
    END $$""",
    # Token lookup acts for no user yet: it finds who the token belongs to.
    """
    CREATE FUNCTION rls_token_owner(digest text)
    RETURNS TABLE (token_id uuid, last_used_at timestamptz, user_id uuid,
                   username varchar, email varchar)
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
    AS $$ BEGIN
        RETURN QUERY SELECT t.id, t.last_used_at, u.id, u.username, u.email
            FROM api_token t JOIN app_user u ON u.id = t.user_id
            WHERE t.token_hash = digest AND t.revoked_at IS NULL AND u.is_active
            AND (t.expires_at IS NULL OR t.expires_at > now());
    END $$""",
    # The lock sweep acts for no user: it records every project's expired locks.
    """
    CREATE FUNCTION rls_expire_locks() RETURNS integer
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public
    AS $$ DECLARE expired integer; BEGIN
        UPDATE table_lock SET released_at = now(), end_reason = 'expired'
            WHERE released_at IS NULL AND expires_at <= now();
        GET DIAGNOSTICS expired = ROW_COUNT;
        RETURN expired;
    END $$""",
    # The membership test a policy uses: the key is a project id, or (`through` given) the
    # id of a row of `through`, whose project_id is the project.
    """
    CREATE FUNCTION rls_member_test(tbl regclass, key_column text, need integer,
                                    through regclass DEFAULT NULL) RETURNS text
    LANGUAGE sql STABLE AS $$
        SELECT CASE WHEN through IS NULL
            THEN format('%I = ANY ((SELECT rls_projects(%s))::uuid[])', key_column, need)
            ELSE format('EXISTS (SELECT 1 FROM %s k WHERE k.id = %s.%I'
                        ' AND k.project_id = ANY ((SELECT rls_projects(%s))::uuid[]))',
                        through, tbl, key_column, need)
        END $$""",
    # RLS on, forced, and the four policies: members read; `write_role` and above write.
    # `exempt` lets the owner's definer functions see and change every row.
    """
    CREATE FUNCTION rls_protect(tbl regclass, key_column text, write_role text DEFAULT 'editor',
                                through regclass DEFAULT NULL, exempt boolean DEFAULT false)
    RETURNS void LANGUAGE plpgsql AS $$
    DECLARE
        name text := (SELECT relname FROM pg_class WHERE oid = tbl);
        need integer := array_position(ARRAY['viewer', 'editor', 'owner'], write_role) - 1;
        bypass text := CASE WHEN exempt THEN 'rls_definer() OR ' ELSE '' END;
        reads text := bypass || rls_member_test(tbl, key_column, 0, through);
        writes text := bypass || rls_member_test(tbl, key_column, need, through);
    BEGIN
        IF need IS NULL THEN
            RAISE EXCEPTION 'write_role must be viewer, editor or owner, not %', write_role;
        END IF;
        EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', tbl);
        EXECUTE format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', tbl);
        EXECUTE format('CREATE POLICY %I ON %s FOR SELECT USING (%s)', name || '_read', tbl, reads);
        EXECUTE format('CREATE POLICY %I ON %s FOR INSERT WITH CHECK (%s)',
                       name || '_insert', tbl, writes);
        EXECUTE format('CREATE POLICY %I ON %s FOR UPDATE USING (%s) WITH CHECK (%s)',
                       name || '_update', tbl, writes, writes);
        EXECUTE format('CREATE POLICY %I ON %s FOR DELETE USING (%s)',
                       name || '_delete', tbl, writes);
    END $$""",
    "REVOKE EXECUTE ON FUNCTION rls_protect(regclass, text, text, regclass, boolean) FROM PUBLIC",
]

# Tables whose policies rls_protect writes: (table, key column, write role, through, exempt).
PROTECTED = [
    ("data_table", "project_id", "editor", None, False),
    ("data_field", "table_id", "editor", "data_table", False),
    ("table_relationship", "project_id", "editor", None, False),
    ("schema_version", "project_id", "editor", None, False),
    ("table_lock", "table_id", "editor", "data_table", True),
    ("activity_entry", "project_id", "editor", None, False),
    ("deployment", "project_id", "editor", None, False),
]

# The project itself, its members and API tokens have rules of their own.
SPECIAL = [
    "ALTER TABLE project ENABLE ROW LEVEL SECURITY",
    "ALTER TABLE project FORCE ROW LEVEL SECURITY",
    # A new project is its creator's until its first member (its owner) is added.
    "CREATE POLICY project_read ON project FOR SELECT USING ("
    " id = ANY ((SELECT rls_projects(0))::uuid[])"
    " OR (owner_id = rls_user_id() AND rls_unclaimed(id)))",
    "CREATE POLICY project_insert ON project FOR INSERT WITH CHECK (owner_id = rls_user_id())",
    "CREATE POLICY project_update ON project FOR UPDATE"
    " USING (id = ANY ((SELECT rls_projects(1))::uuid[]))"
    " WITH CHECK (id = ANY ((SELECT rls_projects(1))::uuid[]))",
    "CREATE POLICY project_delete ON project FOR DELETE"
    " USING (id = ANY ((SELECT rls_projects(2))::uuid[]))",
    "ALTER TABLE project_member ENABLE ROW LEVEL SECURITY",
    "ALTER TABLE project_member FORCE ROW LEVEL SECURITY",
    "CREATE POLICY project_member_read ON project_member FOR SELECT USING ("
    " rls_definer() OR user_id = rls_user_id()"
    " OR project_id = ANY ((SELECT rls_projects(0))::uuid[]))",
    # Owners add members; a project's creator adds itself as its first owner.
    "CREATE POLICY project_member_insert ON project_member FOR INSERT WITH CHECK ("
    " project_id = ANY ((SELECT rls_projects(2))::uuid[])"
    " OR (user_id = rls_user_id() AND role = 'owner' AND rls_unclaimed(project_id)"
    " AND EXISTS (SELECT 1 FROM project p"
    " WHERE p.id = project_member.project_id AND p.owner_id = rls_user_id())))",
    "CREATE POLICY project_member_update ON project_member FOR UPDATE"
    " USING (project_id = ANY ((SELECT rls_projects(2))::uuid[]))"
    " WITH CHECK (project_id = ANY ((SELECT rls_projects(2))::uuid[]))",
    "CREATE POLICY project_member_delete ON project_member FOR DELETE"
    " USING (project_id = ANY ((SELECT rls_projects(2))::uuid[]))",
    "ALTER TABLE api_token ENABLE ROW LEVEL SECURITY",
    "ALTER TABLE api_token FORCE ROW LEVEL SECURITY",
    "CREATE POLICY api_token_own ON api_token"
    " USING (rls_definer() OR user_id = rls_user_id())"
    " WITH CHECK (user_id = rls_user_id())",
]

TABLES = ["project", "project_member", "api_token", *(row[0] for row in PROTECTED)]
DROPPED_FUNCTIONS = [
    "rls_protect(regclass, text, text, regclass, boolean)",
    "rls_member_test(regclass, text, integer, regclass)",
    "rls_expire_locks()",
    "rls_token_owner(text)",
    "rls_unclaimed(uuid)",
    "rls_projects(integer)",
    "rls_definer()",
    "rls_user_id()",
]


def up(migrator, db):
    cursor = db.cursor()  # without parameters, so the % of format() pass as written
    for statement in FUNCTIONS + SPECIAL:
        cursor.execute(statement)
    for table, column, write_role, through, exempt in PROTECTED:
        db.execute_sql(
            "SELECT rls_protect(%s, %s, %s, %s, %s)", (table, column, write_role, through, exempt)
        )


def down(migrator, db):
    for table in TABLES:
        policies = db.execute_sql(
            "SELECT quote_ident(policyname) FROM pg_policies"
            " WHERE schemaname = current_schema() AND tablename = %s",
            (table,),
        ).fetchall()
        for (policy,) in policies:
            db.execute_sql(f"DROP POLICY {policy} ON {table}")
        db.execute_sql(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
        db.execute_sql(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
    for function in DROPPED_FUNCTIONS:
        db.execute_sql(f"DROP FUNCTION {function}")
