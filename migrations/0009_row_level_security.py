"""Row-level security: a project's rows are visible to its members only, writable by the roles
the app grants (viewer reads, editor designs, owner manages), whatever query reaches them.

The user is the setting `designer.user_id` (designer.db sets it per request). FORCE binds the
tables' owner too, except inside the owner's own SECURITY DEFINER functions (rls_definer),
which are the narrow paths acting for no user: membership lookups, token lookup, lock sweep.

Every protected table carries its project's id, so each policy is one comparison with the
user's projects, computed once per statement: data_field and table_lock get a project_id,
filled from their table by a trigger and kept equal to it by a foreign key.

A new table holding a project's rows gets its policies from its own migration:
    SELECT rls_protect('new_table', 'project_id');   -- editors write; 'owner' to restrict
and, when it hangs off data_table, a project_id filled by trigger as data_field's is:
    CREATE TRIGGER new_child_project BEFORE INSERT OR UPDATE OF table_id, project_id
        ON new_child FOR EACH ROW EXECUTE FUNCTION rls_fill_project();
"""

# Children of data_table get their project's id, so their policies need no join. Nullable
# only so that a row naming no table fails on its table_id foreign key (the trigger fills
# it for any table that exists; a NULL would match no policy).
DENORMALIZED = ["data_field", "table_lock"]


def denormalize(cursor, table):
    cursor.execute(f"ALTER TABLE {table} ADD COLUMN project_id uuid")
    cursor.execute(
        f"UPDATE {table} c SET project_id = t.project_id FROM data_table t WHERE t.id = c.table_id"
    )
    cursor.execute(
        f"ALTER TABLE {table} ADD FOREIGN KEY (table_id, project_id)"
        " REFERENCES data_table (id, project_id) ON DELETE CASCADE"
    )
    cursor.execute(
        f"CREATE TRIGGER {table}_project BEFORE INSERT OR UPDATE OF table_id, project_id"
        f" ON {table} FOR EACH ROW EXECUTE FUNCTION rls_fill_project()"
    )


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
    # policies call it as an InitPlan, once per statement. Names are schema-qualified rather
    # than pinned by SET search_path, which would cost every call a configuration change.
    """
    CREATE FUNCTION rls_projects(need integer) RETURNS uuid[]
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    AS $$ BEGIN
        RETURN (SELECT coalesce(pg_catalog.array_agg(m.project_id), '{}')
                FROM public.project_member m
                WHERE m.user_id = public.rls_user_id()
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
    # A row of a data_table's child belongs to the table's project (the foreign key on
    # (table_id, project_id) refuses any other).
    """
    CREATE FUNCTION rls_fill_project() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
        NEW.project_id := (SELECT t.project_id FROM public.data_table t WHERE t.id = NEW.table_id);
        RETURN NEW;
    END $$""",
    # RLS on, forced, and the four policies: members read; `write_role` and above write.
    # `exempt` lets the owner's definer functions see and change every row.
    """
    CREATE FUNCTION rls_protect(tbl regclass, key_column text, write_role text DEFAULT 'editor',
                                exempt boolean DEFAULT false)
    RETURNS void LANGUAGE plpgsql AS $$
    DECLARE
        name text := (SELECT relname FROM pg_class WHERE oid = tbl);
        need integer := array_position(ARRAY['viewer', 'editor', 'owner'], write_role) - 1;
        bypass text := CASE WHEN exempt THEN 'rls_definer() OR ' ELSE '' END;
        test text := '%I = ANY ((SELECT rls_projects(%s))::uuid[])';
        reads text := bypass || format(test, key_column, 0);
        writes text := bypass || format(test, key_column, need);
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
    "REVOKE EXECUTE ON FUNCTION rls_protect(regclass, text, text, boolean) FROM PUBLIC",
]

# Tables whose policies rls_protect writes: (table, write role, exempt). The lock sweep
# (rls_expire_locks) is the one definer function that writes a protected table.
PROTECTED = [
    ("data_table", "editor", False),
    ("data_field", "editor", False),
    ("table_relationship", "editor", False),
    ("schema_version", "editor", False),
    ("table_lock", "editor", True),
    ("activity_entry", "editor", False),
    ("deployment", "editor", False),
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
    "rls_fill_project()",
    "rls_protect(regclass, text, text, boolean)",
    "rls_expire_locks()",
    "rls_token_owner(text)",
    "rls_unclaimed(uuid)",
    "rls_projects(integer)",
    "rls_definer()",
    "rls_user_id()",
]


def up(migrator, db):
    cursor = db.cursor()  # without parameters, so the % of format() pass as written
    for statement in FUNCTIONS:
        cursor.execute(statement)
    for table in DENORMALIZED:
        denormalize(cursor, table)
    for statement in SPECIAL:
        cursor.execute(statement)
    for table, write_role, exempt in PROTECTED:
        cursor.execute("SELECT rls_protect(%s, 'project_id', %s, %s)", (table, write_role, exempt))


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
    for table in DENORMALIZED:
        db.execute_sql(f"DROP TRIGGER {table}_project ON {table}")
        db.execute_sql(f"ALTER TABLE {table} DROP COLUMN project_id")
    for function in DROPPED_FUNCTIONS:
        db.execute_sql(f"DROP FUNCTION {function}")
