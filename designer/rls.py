"""Row-level security, the app's side: whose request this is, the roles, the startup check.

PostgreSQL's policies (migrations/0009) show each statement only the rows of the projects
whose member is `designer.user_id`. The app sets it once a request's user is known and
clears it before the connection goes back to the pool, so no user outlives its request.
The app runs as a role that cannot bypass the policies; migrations run as the owner.
"""

import contextlib
from urllib.parse import urlsplit
from urllib.parse import urlunsplit

import psycopg2
from psycopg2 import errors
from psycopg2 import sql

from designer.db import database

SETTING = "designer.user_id"
# Acting for a user (or nobody) also ends any API token's scope (designer.api_tokens).
ACT_FOR = (
    "SELECT set_config('designer.user_id', %s, false),"
    " set_config('designer.token_project', '', false), set_config('designer.read_only', '', false)"
)
# The designer's tables that carry policies (migrations/0009), for the startup check.
PROTECTED_TABLES = (
    "project",
    "project_member",
    "api_token",
    "data_table",
    "data_field",
    "table_relationship",
    "schema_version",
    "schema_part",
    "working_part",
    "table_lock",
    "activity_entry",
    "deployment",
    "target_reservation",
    "project_enum",
    "project_change",
    "entry_order",
    "export_file",
    "export_member",
    "drift_expectation",
    "sound_part",
    "branch_origin",
    "merge_request",
    "merge_approval",
    "merge_comment",
)


class UnsafeDatabaseRole(RuntimeError):
    """The app's database role could see every project's rows: refusing to start."""


def act_for(user_id):
    """From now on, this connection's statements see `user_id`'s projects ("" or None: none)."""
    database.execute_sql(ACT_FOR, (str(user_id) if user_id else "",))


def acting_user():
    """The user this connection acts for, or None."""
    value = database.execute_sql("SELECT current_setting(%s, true)", (SETTING,)).fetchone()[0]
    return value or None


# One statement: the role's own powers, those of roles it belongs to, and table ownership.
ROLE_POWERS = """
SELECT r.rolname, r.rolsuper, r.rolbypassrls,
    EXISTS (SELECT 1 FROM pg_roles s WHERE s.oid <> r.oid AND (s.rolsuper OR s.rolbypassrls)
            AND pg_has_role(r.oid, s.oid, 'MEMBER')),
    EXISTS (SELECT 1 FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace
            AND c.relname = ANY (%s) AND pg_has_role(r.oid, c.relowner, 'MEMBER'))
FROM pg_roles r WHERE r.rolname = current_user
"""


def bypass_reasons(url):
    """Why the role `url` connects as could bypass row-level security ([] when it cannot)."""
    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cursor:
            cursor.execute(ROLE_POWERS, (list(PROTECTED_TABLES),))
            row = cursor.fetchone()
    finally:
        conn.close()
    name, is_super, bypasses, inherits, owns = row
    reasons = []
    if is_super:
        reasons.append(f"{name} is a superuser")
    if bypasses:
        reasons.append(f"{name} has BYPASSRLS")
    if inherits:
        reasons.append(f"{name} is a member of a superuser or BYPASSRLS role")
    if owns:
        reasons.append(f"{name} owns (or is a member of the owner of) the designer's tables")
    return reasons


def refuse_bypassing_role(url, allowed):
    """Raise UnsafeDatabaseRole when the app's role could bypass RLS, unless `allowed`."""
    reasons = bypass_reasons(url)
    if reasons and not allowed:
        raise UnsafeDatabaseRole(
            "Refusing to start: the database role in DATABASE_URL could bypass row-level "
            f"security ({'; '.join(reasons)}). Connect as a role that is not a superuser, "
            "not BYPASSRLS and not the tables' owner (see README, Database roles), or set "
            "ALLOW_RLS_BYPASS=1 for a development setup."
        )
    return reasons


def with_user(url, role):
    """`url` connecting as `role` (same server, database and options; no password)."""
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{role}@{host}"))


def with_database(url, name):
    return urlunsplit(urlsplit(url)._replace(path="/" + name))


def _run(url, *statements):
    conn = psycopg2.connect(url)
    conn.autocommit = True
    try:
        with conn.cursor() as cursor:
            results = []
            for statement in statements:
                cursor.execute(statement)
                results.append(cursor.fetchall() if cursor.description else None)
            return results
    finally:
        conn.close()


def create_role(admin_url, role):
    """Create a LOGIN role that is neither superuser nor BYPASSRLS, unless it exists."""
    found = sql.SQL("SELECT 1 FROM pg_roles WHERE rolname = {}").format(sql.Literal(role))
    create = sql.SQL("CREATE ROLE {} LOGIN NOSUPERUSER NOBYPASSRLS").format(sql.Identifier(role))
    if not _run(admin_url, found)[0]:
        with contextlib.suppress(errors.DuplicateObject):  # another process made it meanwhile
            _run(admin_url, create)


def create_database(admin_url, name, owner):
    """Create database `name` owned by `owner`, or hand an existing one to `owner`."""
    found = sql.SQL("SELECT 1 FROM pg_database WHERE datname = {}").format(sql.Literal(name))
    names = (sql.Identifier(name), sql.Identifier(owner))
    alter = sql.SQL("ALTER DATABASE {} OWNER TO {}").format(*names)
    if _run(admin_url, found)[0]:
        _run(admin_url, alter)
        return
    try:
        _run(admin_url, sql.SQL("CREATE DATABASE {} OWNER {}").format(*names))
    except errors.DuplicateDatabase:
        _run(admin_url, alter)


# Objects an earlier setup (one superuser for everything) created go to the owner role.
HAND_OVER = """
DO $$ DECLARE item record; BEGIN
    FOR item IN SELECT c.oid::regclass AS name, c.relkind FROM pg_class c
        WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p', 'S', 'v')
        AND c.relowner <> {owner}::regrole LOOP
        EXECUTE format('ALTER %s %s OWNER TO %I',
            CASE WHEN item.relkind = 'S' THEN 'SEQUENCE' WHEN item.relkind = 'v' THEN 'VIEW'
                 ELSE 'TABLE' END, item.name, {owner_name});
    END LOOP;
    FOR item IN SELECT p.oid::regprocedure AS name FROM pg_proc p
        WHERE p.pronamespace = 'public'::regnamespace AND p.proowner <> {owner}::regrole LOOP
        EXECUTE format('ALTER FUNCTION %s OWNER TO %I', item.name, {owner_name});
    END LOOP;
END $$
"""


# Relations whose rights the app role gets from migrations/0016, narrower than the rest
# (no writing schema_migration, one's own app_user row, append-only activity): provisioning
# again must not widen them back.
NARROWED = ("app_user", "user_name", "schema_migration", "activity_entry")
GRANT_WIDE = """
DO $$ DECLARE item record; BEGIN
    FOR item IN SELECT c.oid::regclass AS name FROM pg_class c
        WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p', 'v')
        AND c.relname <> ALL ({narrowed}) LOOP
        EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %s TO %I', item.name, {app});
    END LOOP;
END $$
"""


def provision(admin_url, name, owner, app, app_creates_schemas=False):
    """Set up database `name` on the server `admin_url` (a superuser's) for row-level security:
    the owner role owns it and its tables (migrations run as it); the app role reads and
    writes every table the owner creates, bound by the policies. Idempotent.

    `app_creates_schemas`: the app may also create schemas here (tests deploy into the
    designer's own database)."""
    create_role(admin_url, owner)
    create_role(admin_url, app)
    create_database(admin_url, name, owner)
    ident = {"owner": sql.Identifier(owner), "app": sql.Identifier(app)}
    statements = [
        sql.SQL(HAND_OVER).format(owner=sql.Literal(owner), owner_name=sql.Literal(owner)),
        sql.SQL("GRANT CONNECT ON DATABASE {} TO {app}").format(sql.Identifier(name), **ident),
        sql.SQL("GRANT USAGE ON SCHEMA public TO {app}").format(**ident),
        sql.SQL("GRANT CREATE ON SCHEMA public TO {owner}").format(**ident),
        sql.SQL(GRANT_WIDE).format(narrowed=sql.Literal(list(NARROWED)), app=sql.Literal(app)),
        sql.SQL("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {app}").format(**ident),
        sql.SQL(
            "ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA public"
            " GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {app}"
        ).format(**ident),
        sql.SQL(
            "ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA public"
            " GRANT USAGE, SELECT ON SEQUENCES TO {app}"
        ).format(**ident),
    ]
    if app_creates_schemas:
        statements.append(
            sql.SQL("GRANT CREATE ON DATABASE {} TO {app}").format(sql.Identifier(name), **ident)
        )
    _run(with_database(admin_url, name), *statements)
    return with_user(with_database(admin_url, name), owner), with_user(
        with_database(admin_url, name), app
    )


def provision_target(admin_url, name, role, former_owner=None):
    """Set up database `name` as a deploy target whose connection role is `role`: it owns the
    database, may create roles (one per project) and nothing more; no one else may connect
    but the roles it grants. `former_owner`'s objects there (from before roles per project)
    pass to `role`, which hands each project's schema to its project's role. Returns the
    target's URL. Idempotent; `admin_url` is a superuser's."""
    found = sql.SQL("SELECT 1 FROM pg_roles WHERE rolname = {}").format(sql.Literal(role))
    if not _run(admin_url, found)[0]:
        with contextlib.suppress(errors.DuplicateObject):
            _run(
                admin_url,
                sql.SQL("CREATE ROLE {} LOGIN CREATEROLE NOSUPERUSER NOBYPASSRLS").format(
                    sql.Identifier(role)
                ),
            )
    create_database(admin_url, name, role)
    target_admin = with_database(admin_url, name)
    names = {"db": sql.Identifier(name), "role": sql.Identifier(role)}
    statements = [
        sql.SQL("REVOKE CONNECT, TEMPORARY ON DATABASE {db} FROM PUBLIC").format(**names),
        # Who holds the locks a deploy waited for, and what they run (named in its error).
        sql.SQL("GRANT pg_read_all_stats TO {role}").format(**names),
    ]
    if former_owner:
        statements.append(
            sql.SQL("REASSIGN OWNED BY {} TO {role}").format(sql.Identifier(former_owner), **names)
        )
        statements.append(
            sql.SQL("REVOKE ALL ON DATABASE {db} FROM {}").format(
                sql.Identifier(former_owner), **names
            )
        )
    found_former = sql.SQL("SELECT 1 FROM pg_roles WHERE rolname = {}").format(
        sql.Literal(former_owner or "")
    )
    if former_owner and not _run(admin_url, found_former)[0]:
        statements = statements[:1]
    _run(target_admin, *statements)
    return with_user(target_admin, role)


@contextlib.contextmanager
def acting_for(user_id):
    """Outside a request (scripts, seeds): the block's statements see `user_id`'s projects."""
    act_for(user_id)
    try:
        yield
    finally:
        act_for(None)
