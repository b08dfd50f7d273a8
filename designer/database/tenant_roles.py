"""One PostgreSQL role per project on the deploy target: a wall PostgreSQL itself enforces.

Each project's schema on the target is owned by a LOGIN role of its own that has no other
right: no CREATE on the database, no membership in any role, no attribute. Every deploy,
dry run, put-back, drift check and import of that schema connects *as* that role, so a
statement that slipped past validation and the statement guard still cannot reach another
schema, change a role, or end up as anyone else: RESET ROLE and RESET SESSION AUTHORIZATION
lead back to the same role. (A SET ROLE from a shared connection could be undone by an
injected RESET ROLE; a SECURITY DEFINER function owned by the role could be altered by that
same role into SECURITY INVOKER. A connection as the role itself has nothing above it.)

The target's connection role (the user of DEPLOY_DATABASE_URL, or the one the embedded
server provisions) creates these roles and schemas: it needs CREATEROLE and CREATE on the
database, and it is never the role that serves the designer's own database.

A role's password is never stored: it is an HMAC of the role's name under a key derived from
SECRET_KEY. When SECRET_KEY changes, the first connection is refused and the connection role
sets the new password.
"""

import hashlib
import hmac
import threading
from dataclasses import dataclass

import psycopg2
from psycopg2 import errors
from psycopg2 import sql
from psycopg2.extensions import parse_dsn

from designer.settings import settings

ROLE_PREFIX = "dmd_p_"
CONNECTIONS_PER_ROLE = 20
# Provisioned in this process: (target URL, role, schema). Checked once, then trusted.
_ready = set()
_ready_lock = threading.Lock()


@dataclass(frozen=True)
class Tenant:
    """Who a project is on the target: its schema and the role that owns it."""

    schema: str
    role: str


class SchemaTaken(Exception):
    """The schema exists on the target and is not this project's to take."""


def role_for(project_id):
    """The name of a new project's role (a UUID's 32 hex digits fit in 63 bytes)."""
    return ROLE_PREFIX + str(project_id).replace("-", "")


def password(role):
    key = hashlib.sha256(b"dmd target roles\0" + settings.secret_key.encode()).digest()
    return hmac.new(key, role.encode(), hashlib.sha256).hexdigest()


def url_as(url, role):
    """Connection keywords for `url` with `role` and its password instead of its user."""
    params = parse_dsn(url)
    params.update(user=role, password=password(role))
    return params


def admin_connect(url):
    return psycopg2.connect(url)


def server_version(cursor):
    cursor.execute("SHOW server_version_num")
    return int(cursor.fetchone()[0])


def this_database(cursor):
    """The connected database's name, as an identifier for GRANT and REVOKE."""
    cursor.execute("SELECT current_database()")
    return sql.Identifier(cursor.fetchone()[0])


def create_role(cursor, role):
    """The role, made or given its current password; the connection role may SET it."""
    cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,))
    names = {"role": sql.Identifier(role), "password": sql.Literal(password(role))}
    if cursor.fetchone():
        # Only the password: changing an attribute needs the connection role to hold it.
        cursor.execute(sql.SQL("ALTER ROLE {role} PASSWORD {password}").format(**names))
        return
    cursor.execute(
        sql.SQL(
            "CREATE ROLE {role} LOGIN NOINHERIT NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS"
            " CONNECTION LIMIT {limit} PASSWORD {password}"
        ).format(limit=sql.Literal(CONNECTIONS_PER_ROLE), **names)
    )
    names["db"] = this_database(cursor)
    cursor.execute(sql.SQL("GRANT CONNECT, TEMPORARY ON DATABASE {db} TO {role}").format(**names))
    # The connection role must be able to SET ROLE to create the schema AUTHORIZATION it; it
    # inherits none of its rights (PostgreSQL 16 separates the two).
    membership = "WITH INHERIT FALSE, SET TRUE" if server_version(cursor) >= 160000 else ""
    cursor.execute(sql.SQL("GRANT {role} TO CURRENT_USER " + membership).format(**names))


HANDOVER = """
SELECT format('ALTER %%s %%s OWNER TO %%I',
    CASE c.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
        ELSE 'TABLE' END, c.oid::regclass, %(role)s)
FROM pg_class c
WHERE c.relnamespace = to_regnamespace(%(schema)s) AND c.relkind IN ('r', 'p', 'S', 'v', 'm')
  AND NOT (c.relkind = 'S' AND EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid
           AND d.classid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')))
UNION ALL
SELECT format('ALTER TYPE %%s OWNER TO %%I', t.oid::regtype, %(role)s)
FROM pg_type t
WHERE t.typnamespace = to_regnamespace(%(schema)s) AND t.typtype IN ('e', 'd', 'c')
  AND NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = t.typrelid AND c.relkind <> 'c')
"""


def hand_over(cursor, schema, role):
    """Give the schema and what it holds to `role` (a schema made before roles per project)."""
    names = {"schema": sql.Identifier(schema), "role": sql.Identifier(role)}
    names["db"] = this_database(cursor)
    # A new owner needs CREATE where the object lives: granted for the handover only, in the
    # same transaction, so no one ever sees the role holding it.
    grants = [
        "GRANT CREATE ON SCHEMA {schema} TO {role}",
        "GRANT CREATE ON DATABASE {db} TO {role}",
    ]
    for grant in grants:
        cursor.execute(sql.SQL(grant).format(**names))
    cursor.execute(HANDOVER, {"schema": schema, "role": role})
    for (statement,) in cursor.fetchall():
        cursor.execute(statement)
    cursor.execute(sql.SQL("ALTER SCHEMA {schema} OWNER TO {role}").format(**names))
    cursor.execute(sql.SQL("REVOKE CREATE ON DATABASE {db} FROM {role}").format(**names))


def make_schema(cursor, schema, role, handover):
    cursor.execute(
        "SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = %s", (schema,)
    )
    row = cursor.fetchone()
    if row is None:
        cursor.execute(
            sql.SQL("CREATE SCHEMA {} AUTHORIZATION {}").format(
                sql.Identifier(schema), sql.Identifier(role)
            )
        )
    elif row[0] != role:
        if not handover:
            raise SchemaTaken(schema)
        hand_over(cursor, schema, role)


def provision(url, schema, role, handover=False):
    """Make `role` and its `schema` on the target at `url` (idempotent, one transaction)."""
    conn = admin_connect(url)
    try:
        with conn.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (f"dmd:{role}",)
            )
            create_role(cursor, role)
            make_schema(cursor, schema, role, handover)
        conn.commit()
    except errors.InsufficientPrivilege as exc:
        conn.rollback()
        raise SchemaTaken(schema) from exc
    finally:
        conn.close()
    with _ready_lock:
        _ready.add((url, role, schema))


def is_ready(url, role, schema):
    return (url, role, schema) in _ready


def forget(url, role):
    with _ready_lock:
        for entry in [e for e in _ready if e[:2] == (url, role)]:
            _ready.discard(entry)


def forget_all():
    """Check every role again on its next use (the target was reset behind our back)."""
    with _ready_lock:
        _ready.clear()


def connect_as(url, role):
    """A connection to the target as `role`; a refused password (SECRET_KEY changed) is reset."""
    try:
        return psycopg2.connect(**url_as(url, role))
    except psycopg2.OperationalError as exc:
        if "password" not in str(exc):
            raise
    conn = admin_connect(url)
    try:
        with conn.cursor() as cursor:
            create_role(cursor, role)
        conn.commit()
    finally:
        conn.close()
    return psycopg2.connect(**url_as(url, role))


def drop(url, role):
    """Drop everything `role` owns on the target (its schema, with its rows) and the role.

    The connection role holds the project's role without its rights (PostgreSQL 16), so it
    acts as the role to drop what the role owns, then drops the role."""
    conn = admin_connect(url)
    try:
        with conn.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,))
            if cursor.fetchone():
                name = sql.Identifier(role)
                cursor.execute(sql.SQL("SET LOCAL ROLE {}").format(name))
                cursor.execute(sql.SQL("DROP OWNED BY {}").format(name))
                cursor.execute("RESET ROLE")
                database = this_database(cursor)
                cursor.execute(sql.SQL("REVOKE ALL ON DATABASE {} FROM {}").format(database, name))
                cursor.execute(sql.SQL("DROP ROLE {}").format(name))
        conn.commit()
    finally:
        conn.close()
    forget(url, role)
