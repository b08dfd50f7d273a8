"""Accounts behind the owner's definer functions; append-only activity; scoped API tokens.

- `app_user` gets row-level security: the app role sees and updates only the row of the user
  it acts for, and of that row never reads the password hash. Sign-in, sign-up and the
  look-ups that find a user by login go through the owner's SECURITY DEFINER functions,
  which return only what each needs. Other users' usernames (locks, members, history) come
  from the view `user_name` (id, username): the view reads `app_user` as its owner, whom
  the policies leave alone (app_user's RLS is not forced, for that reason only).
- `schema_migration` is read-only to the app role (the readiness check reads it).
- `activity_entry` is append-only to the app role: no UPDATE or DELETE rights and no policy
  for them; only the rotation (rls_rotate_activity, a definer function) deletes, and only an
  editor's project's entries beyond the newest `keep`.
- An API token may be read-only, or for one project. The token look-up sets
  `designer.read_only` and `designer.token_project`, and rls_projects honours them, so the
  database itself hides other projects from a one-project token and refuses a read-only
  token's writes; neither may create a project.

The app role is whichever role holds rights on these relations besides their owner (the
migration runs as the owner and is not told the app role's name).
"""

APP_USER_SELECT = "id, username, email, is_active, created_at, session_epoch"
# What the app role may do with each relation, for every role that holds rights on it.
NARROWED = {
    "app_user": [f"SELECT ({APP_USER_SELECT})", "UPDATE (password_hash, session_epoch)"],
    "user_name": ["SELECT"],
    "schema_migration": ["SELECT"],
    "activity_entry": ["SELECT", "INSERT"],
}
WIDE = "SELECT, INSERT, UPDATE, DELETE"

TOKEN_COLUMNS = [
    "ALTER TABLE api_token ADD COLUMN read_only boolean NOT NULL DEFAULT false",
    "ALTER TABLE api_token ADD COLUMN project_id uuid REFERENCES project (id) ON DELETE CASCADE",
    "CREATE INDEX api_token_project_id ON api_token (project_id)",
    # A name says what a token is for when it is time to revoke it.
    "UPDATE api_token SET name = 'unnamed, made ' || to_char(created_at, 'YYYY-MM-DD')"
    " WHERE btrim(name) = ''",
    "ALTER TABLE api_token ADD CONSTRAINT api_token_name_check CHECK (btrim(name) <> '')",
]

SCOPE = [
    """
    CREATE FUNCTION rls_token_project() RETURNS uuid LANGUAGE sql STABLE
    AS $$ SELECT nullif(current_setting('designer.token_project', true), '')::uuid $$""",
    """
    CREATE FUNCTION rls_read_only() RETURNS boolean LANGUAGE sql STABLE
    AS $$ SELECT coalesce(current_setting('designer.read_only', true), '') = 'on' $$""",
    # As in 0009, and within the token's scope: one project, and no writing when read-only.
    """
    CREATE OR REPLACE FUNCTION rls_projects(need integer) RETURNS uuid[]
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    AS $$ BEGIN
        RETURN (SELECT coalesce(pg_catalog.array_agg(m.project_id), '{}')
                FROM public.project_member m
                WHERE m.user_id = public.rls_user_id()
                AND array_position(ARRAY['viewer', 'editor', 'owner'], m.role::text) > need
                AND (need = 0 OR NOT public.rls_read_only())
                AND m.project_id = coalesce(public.rls_token_project(), m.project_id));
    END $$""",
    "ALTER POLICY project_insert ON project WITH CHECK ("
    " owner_id = rls_user_id() AND rls_token_project() IS NULL AND NOT rls_read_only())",
    # A user's own memberships, as in 0009, but only its project's to a one-project token.
    "ALTER POLICY project_member_read ON project_member USING (rls_definer()"
    " OR (user_id = rls_user_id() AND project_id = coalesce(rls_token_project(), project_id))"
    " OR project_id = ANY ((SELECT rls_projects(0))::uuid[]))",
    # A token for one project is its user's project (0009's api_token_own still applies).
    "CREATE POLICY api_token_project ON api_token AS RESTRICTIVE FOR INSERT WITH CHECK ("
    " project_id IS NULL OR project_id = ANY ((SELECT rls_projects(0))::uuid[]))",
    "DROP FUNCTION rls_token_owner(text)",
    """
    CREATE FUNCTION rls_token_owner(digest text)
    RETURNS TABLE (token_id uuid, last_used_at timestamptz, user_id uuid,
                   username varchar, email varchar, read_only boolean, project_id uuid)
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
    AS $$ BEGIN
        RETURN QUERY SELECT t.id, t.last_used_at, u.id, u.username, u.email,
                t.read_only, t.project_id
            FROM api_token t JOIN app_user u ON u.id = t.user_id
            WHERE t.token_hash = digest AND t.revoked_at IS NULL AND u.is_active
            AND (t.expires_at IS NULL OR t.expires_at > now());
    END $$""",
]

ACCOUNTS = [
    "ALTER TABLE app_user ENABLE ROW LEVEL SECURITY",
    "CREATE POLICY app_user_own_read ON app_user FOR SELECT USING (id = rls_user_id())",
    "CREATE POLICY app_user_own_update ON app_user FOR UPDATE"
    " USING (id = rls_user_id()) WITH CHECK (id = rls_user_id())",
    "CREATE VIEW user_name AS SELECT id, username FROM app_user",
    # A session's user: act for them and read their row, in one round trip (the setting
    # must be made before the statement that reads the row, so not in the same SELECT).
    # The caller's own rights: the policies show this row only to the user it acts for.
    """
    CREATE FUNCTION rls_session_user(uid uuid)
    RETURNS TABLE (id uuid, username varchar, email varchar, is_active boolean,
                   created_at timestamptz, session_epoch integer)
    LANGUAGE plpgsql VOLATILE
    AS $$ BEGIN
        PERFORM pg_catalog.set_config('designer.user_id', uid::text, false);
        PERFORM pg_catalog.set_config('designer.token_project', '', false);
        PERFORM pg_catalog.set_config('designer.read_only', '', false);
        RETURN QUERY SELECT u.id, u.username, u.email, u.is_active, u.created_at,
                u.session_epoch
            FROM public.app_user u WHERE u.id = uid AND u.is_active;
    END $$""",
    # Sign-in: what checking a password needs, for an active account.
    """
    CREATE FUNCTION rls_sign_in(typed text)
    RETURNS TABLE (user_id uuid, password_hash text, session_epoch integer)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
    AS $$ SELECT u.id, u.password_hash, u.session_epoch FROM app_user u
          WHERE (lower(u.username) = lower(btrim(typed)) OR u.email = lower(btrim(typed)))
          AND u.is_active $$""",
    # The account a login names (sign-in budgets, adding a member): its id and username.
    """
    CREATE FUNCTION rls_account_of(typed text) RETURNS TABLE (user_id uuid, username varchar)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
    AS $$ SELECT u.id, u.username FROM app_user u
          WHERE lower(u.username) = lower(btrim(typed)) OR u.email = lower(btrim(typed)) $$""",
    # Sign-up: whether the username and the email are taken, then the new account.
    """
    CREATE FUNCTION rls_logins_taken(name text, address text)
    RETURNS TABLE (username_taken boolean, email_taken boolean)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
    AS $$ SELECT EXISTS (SELECT 1 FROM app_user u WHERE lower(u.username) = lower(name)),
                 EXISTS (SELECT 1 FROM app_user u WHERE u.email = address) $$""",
    """
    CREATE FUNCTION rls_sign_up(name text, address text, hash text) RETURNS uuid
    LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public
    AS $$ INSERT INTO app_user (username, email, password_hash) VALUES (name, address, hash)
          RETURNING id $$""",
    # Members' emails, for an owner of the project (within the token's scope) only.
    """
    CREATE FUNCTION rls_member_emails(project uuid) RETURNS TABLE (user_id uuid, email varchar)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
    AS $$ SELECT u.id, u.email FROM project_member m JOIN app_user u ON u.id = m.user_id
          WHERE m.project_id = project AND project = ANY (rls_projects(0))
          AND EXISTS (SELECT 1 FROM project_member o WHERE o.project_id = project
                      AND o.user_id = rls_user_id() AND o.role = 'owner') $$""",
]

ACTIVITY = [
    "DROP POLICY activity_entry_update ON activity_entry",
    "DROP POLICY activity_entry_delete ON activity_entry",
    # Only inside the owner's definer functions: the rotation, which checks its caller.
    "CREATE POLICY activity_entry_rotate_read ON activity_entry FOR SELECT USING (rls_definer())",
    "CREATE POLICY activity_entry_rotate ON activity_entry FOR DELETE USING (rls_definer())",
    # Whoever may add a project's entries (its editors, or a role above row-level security
    # such as a fixture loader's) drops those beyond the newest `keep`, and nobody else.
    """
    CREATE FUNCTION rls_rotate_activity(project uuid, keep integer) RETURNS integer
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public
    AS $$ DECLARE dropped integer; BEGIN
        IF keep IS NULL OR keep < 1 THEN
            RAISE EXCEPTION 'the rotation keeps at least one entry, not %', keep;
        END IF;
        IF NOT (project = ANY (rls_projects(1)) OR (SELECT r.rolsuper OR r.rolbypassrls
                FROM pg_roles r WHERE r.rolname = session_user)) THEN
            RETURN 0;
        END IF;
        DELETE FROM activity_entry WHERE id IN (
            SELECT a.id FROM activity_entry a WHERE a.project_id = project
            ORDER BY a.created_at DESC, a.id DESC OFFSET keep);
        GET DIAGNOSTICS dropped = ROW_COUNT;
        RETURN dropped;
    END $$""",
]

DROPPED_FUNCTIONS = [
    "rls_rotate_activity(uuid, integer)",
    "rls_member_emails(uuid)",
    "rls_sign_up(text, text, text)",
    "rls_logins_taken(text, text)",
    "rls_account_of(text)",
    "rls_sign_in(text)",
    "rls_session_user(uuid)",
]

# Who holds rights on a relation or on one of its columns, besides its owner.
GRANTEES = """
SELECT quote_ident(r.rolname) FROM pg_roles r WHERE r.oid IN (
    SELECT a.grantee FROM pg_class c, aclexplode(c.relacl) a
    WHERE c.oid = %(relation)s::regclass AND a.grantee <> c.relowner
    UNION
    SELECT a.grantee FROM pg_class c JOIN pg_attribute att ON att.attrelid = c.oid,
        aclexplode(att.attacl) a
    WHERE c.oid = %(relation)s::regclass AND a.grantee <> c.relowner)
"""


# Definer functions that give out what app_user keeps from everyone else (hashes, emails,
# who has which login) or delete activity: only the roles that use app_user (the app role)
# may call them, not every role that can connect.
PRIVATE_FUNCTIONS = [
    "rls_sign_in(text)",
    "rls_account_of(text)",
    "rls_logins_taken(text, text)",
    "rls_sign_up(text, text, text)",
    "rls_member_emails(uuid)",
    "rls_rotate_activity(uuid, integer)",
    "rls_token_owner(text)",
]


def grant_private_functions(db):
    grantees = db.execute_sql(GRANTEES, {"relation": "app_user"}).fetchall()
    for function in PRIVATE_FUNCTIONS:
        db.execute_sql(f"REVOKE EXECUTE ON FUNCTION {function} FROM PUBLIC")
        for (grantee,) in grantees:
            db.execute_sql(f"GRANT EXECUTE ON FUNCTION {function} TO {grantee}")


def regrant(db, relation, rights):
    """Every role holding rights on `relation` (but its owner) keeps exactly `rights`."""
    for (grantee,) in db.execute_sql(GRANTEES, {"relation": relation}).fetchall():
        db.execute_sql(f"REVOKE ALL ON {relation} FROM {grantee}")
        for right in rights:
            db.execute_sql(f"GRANT {right} ON {relation} TO {grantee}")
    db.execute_sql(f"REVOKE ALL ON {relation} FROM PUBLIC")


def run(db, statements):
    cursor = db.cursor()  # without parameters, so a % passes as written
    for statement in statements:
        cursor.execute(statement)


def up(migrator, db):
    run(db, TOKEN_COLUMNS + SCOPE + ACCOUNTS + ACTIVITY)
    for relation, rights in NARROWED.items():
        regrant(db, relation, rights)
    grant_private_functions(db)


OLD_PROJECTS = """
CREATE OR REPLACE FUNCTION rls_projects(need integer) RETURNS uuid[]
LANGUAGE plpgsql STABLE SECURITY DEFINER
AS $$ BEGIN
    RETURN (SELECT coalesce(pg_catalog.array_agg(m.project_id), '{}')
            FROM public.project_member m
            WHERE m.user_id = public.rls_user_id()
            AND array_position(ARRAY['viewer', 'editor', 'owner'], m.role::text) > need);
END $$"""

OLD_TOKEN_OWNER = """
CREATE FUNCTION rls_token_owner(digest text)
RETURNS TABLE (token_id uuid, last_used_at timestamptz, user_id uuid,
               username varchar, email varchar)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
AS $$ BEGIN
    RETURN QUERY SELECT t.id, t.last_used_at, u.id, u.username, u.email
        FROM api_token t JOIN app_user u ON u.id = t.user_id
        WHERE t.token_hash = digest AND t.revoked_at IS NULL AND u.is_active
        AND (t.expires_at IS NULL OR t.expires_at > now());
END $$"""

DOWN = [
    *(f"DROP FUNCTION {function}" for function in DROPPED_FUNCTIONS),
    "DROP POLICY activity_entry_rotate ON activity_entry",
    "DROP POLICY activity_entry_rotate_read ON activity_entry",
    "CREATE POLICY activity_entry_update ON activity_entry FOR UPDATE"
    " USING (project_id = ANY ((SELECT rls_projects(1))::uuid[]))"
    " WITH CHECK (project_id = ANY ((SELECT rls_projects(1))::uuid[]))",
    "CREATE POLICY activity_entry_delete ON activity_entry FOR DELETE"
    " USING (project_id = ANY ((SELECT rls_projects(1))::uuid[]))",
    "DROP VIEW user_name",
    "DROP POLICY app_user_own_update ON app_user",
    "DROP POLICY app_user_own_read ON app_user",
    "ALTER TABLE app_user DISABLE ROW LEVEL SECURITY",
    "DROP FUNCTION rls_token_owner(text)",
    OLD_TOKEN_OWNER,
    "DROP POLICY api_token_project ON api_token",
    "ALTER POLICY project_insert ON project WITH CHECK (owner_id = rls_user_id())",
    "ALTER POLICY project_member_read ON project_member USING (rls_definer()"
    " OR user_id = rls_user_id() OR project_id = ANY ((SELECT rls_projects(0))::uuid[]))",
    OLD_PROJECTS,
    "DROP FUNCTION rls_read_only()",
    "DROP FUNCTION rls_token_project()",
    "ALTER TABLE api_token DROP CONSTRAINT api_token_name_check",
    "ALTER TABLE api_token DROP COLUMN project_id",
    "ALTER TABLE api_token DROP COLUMN read_only",
]


def down(migrator, db):
    for relation in ("app_user", "schema_migration", "activity_entry"):
        regrant(db, relation, [WIDE])
    run(db, DOWN)
