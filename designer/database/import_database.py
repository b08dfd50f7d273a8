"""Reading a live schema to import: the deploy target's, or (when an administrator allows
it with IMPORT_ALLOW_URLS) one on any server the user names.

What is read is DDL text (designer.database.introspect), previewed and imported as SQL,
so the import writes exactly what the preview showed. Reading is read-only, with a
statement timeout; a schema of a project the user is not a member of is refused like
one that does not exist, and so is the designer's own schema.
"""

import psycopg2

from designer.database import introspect
from designer.database import target
from designer.db import database
from designer.errors import Forbidden
from designer.errors import ValidationFailed
from designer.settings import settings

READ_TIMEOUT_MS = 30_000


def refuse(field, message):
    raise ValidationFailed(message, {field: message})


def hidden_schemas(names):
    """Of these target schemas, the ones this user may not read: other people's projects'
    (asked through a definer function, as row-level security hides those projects), and the
    designer's own when the target is the designer's database."""
    names = list(names)
    hidden = set(database.execute_sql("SELECT rls_schemas_of_others(%s)", (names,)).fetchone()[0])
    if target.target_url() == settings.designer_database_url:
        hidden.add("public")
    return hidden


def connection(url):
    if not url:
        return target.connect()
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
    conn = connection(url)
    try:
        with conn.cursor() as cursor:
            names = introspect.schemas(cursor)
    finally:
        conn.close()
    hidden = set() if url else hidden_schemas(names)
    return [name for name in names if name not in hidden]


def schema_ddl(user, schema, url=None):
    """The DDL of `schema` (on the deploy target unless `url`), read in a read-only transaction."""
    schema = (schema or "").strip()
    if not schema or len(schema.encode()) > 63:
        refuse("schema", "Enter the name of a schema.")
    if not url and schema in hidden_schemas([schema]):
        refuse("schema", f"There is no schema {schema} to import.")
    conn = connection(url)
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
