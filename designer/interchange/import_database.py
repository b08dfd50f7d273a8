"""Reading a live schema to import: the deploy target's, or (when an administrator allows
it with IMPORT_ALLOW_URLS) one on any server the user names.

What is read is DDL text (designer.database.introspect), previewed and imported as SQL,
so the import writes exactly what the preview showed. Reading is read-only, with a
statement timeout. Of the deploy target, a user may import only schemas reserved to them:
their projects', or a deleted project's kept for them as its owners (read as the schema's
own role), and schemas no project reserved that an administrator lists in
IMPORT_TARGET_SCHEMAS. Any other name, another tenant's, one that does not exist or one not
listed, is refused by the same words, so nothing tells them apart.
"""

import psycopg2

from designer.database import introspect
from designer.database import reservations
from designer.database import target
from designer.database import tenant_roles
from designer.db import database
from designer.errors import Forbidden
from designer.errors import ValidationFailed
from designer.models import Project
from designer.settings import settings

READ_TIMEOUT_MS = 30_000


def refuse(field, message):
    raise ValidationFailed(message, {field: message})


def listed_unreserved(names):
    """Of these names, those an administrator allows (IMPORT_TARGET_SCHEMAS) that no project
    reserved. Asked only of listed names, so no user can probe others' reservations."""
    listed = [name for name in names if name in settings.import_target_schemas]
    if not listed:
        return set()
    rows = database.execute_sql("SELECT rls_reserved_of(%s)", (listed,)).fetchone()[0]
    return set(listed) - set(rows or ())


def importable(names):
    """{name: reservation or None} of the target schemas this user may import."""
    names = [name for name in names if name not in target_private_schemas()]
    found = reservations.own_reservations(names)
    found.update(dict.fromkeys(listed_unreserved(set(names) - set(found))))
    return found


def target_private_schemas():
    """The designer's own schema, when the target is the designer's database."""
    return {"public"} if target.target_url() == settings.designer_database_url else set()


def reading_connection(reservation):
    """A connection that may read the schema: as its role when a project reserved it."""
    if reservation is None:
        return target.connect()
    if reservation.project_id is not None:
        project = Project.get_by_id(reservation.project_id)
        return target.connect_as(reservations.tenant_of(project))
    return tenant_roles.connect_as(target.target_url(), reservation.role_name)


def connection(url, reservation=None):
    if not url:
        return reading_connection(reservation)
    if not settings.import_allow_urls:
        raise Forbidden(
            "Importing from other servers is off (an administrator sets IMPORT_ALLOW_URLS)."
        )
    try:
        return psycopg2.connect(url, connect_timeout=10)
    except psycopg2.Error as exc:  # a malformed URL too ("invalid dsn")
        refuse("url", f"Could not connect: {str(exc).strip().splitlines()[0]}")


def schema_names(user, url=None):
    """The schemas the user may import from (on the deploy target unless `url`)."""
    conn = connection(url) if url else target.connect()
    try:
        with conn.cursor() as cursor:
            names = introspect.schemas(cursor)
    finally:
        conn.close()
    if url:
        return names
    allowed = importable(names)
    return [name for name in names if name in allowed]


def schema_ddl(user, schema, url=None):
    """The DDL of `schema` (on the deploy target unless `url`), read in a read-only transaction."""
    schema = (schema or "").strip()
    if not schema or len(schema.encode()) > 63:
        refuse("schema", "Enter the name of a schema.")
    reservation = None
    if not url:
        allowed = importable([schema])
        if schema not in allowed:
            refuse("schema", f"There is no schema {schema} to import.")
        reservation = allowed[schema]
    try:
        conn = connection(url, reservation)
    except psycopg2.OperationalError:
        refuse("schema", f"There is no schema {schema} to import.")
    try:
        with conn.cursor() as cursor:
            cursor.execute("SET TRANSACTION READ ONLY")
            cursor.execute(
                "SELECT set_config('statement_timeout', %s, true)", (str(READ_TIMEOUT_MS),)
            )
            text = introspect.schema_ddl(cursor, schema)
    except psycopg2.Error as exc:
        refuse("schema", f"Reading the schema failed: {str(exc).strip().splitlines()[0]}")
    finally:
        conn.rollback()
        conn.close()
    if text is None:
        refuse("schema", f"There is no schema {schema} to import.")
    return text
