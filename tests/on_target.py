"""Reading and writing the deploy target directly, as a user of the deployed tables would:
as a superuser of the target's database (conftest sets the URL), not as any project's role."""

import psycopg2

# The deploy database as a superuser sees it; set by the `app` fixture.
SUPERUSER_URL = [None]


def connect():
    return psycopg2.connect(SUPERUSER_URL[0])


def on_target(statement, params=()):
    """Run one statement on the deploy target and commit; its rows, if it returns any."""
    conn = connect()
    try:
        with conn.cursor() as cursor:
            cursor.execute(statement, params)
            result = cursor.fetchall() if cursor.description else None
        conn.commit()
        return result
    finally:
        conn.close()


def as_owner_of(schema):
    """on_target, run as the role that owns `schema` (the project's role): what someone
    holding the project's own credentials could do behind the designer's back."""

    def run(statement, params=()):
        conn = connect()
        try:
            with conn.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = %s",
                    (schema,),
                )
                owner = cursor.fetchone()
                # Schemas themselves are made and renamed by a superuser: no project role may.
                if owner is not None and not statement.startswith(
                    ("ALTER SCHEMA", "CREATE SCHEMA")
                ):
                    cursor.execute("SELECT set_config('role', %s, false)", (owner[0],))
                cursor.execute(statement, params)
                result = cursor.fetchall() if cursor.description else None
            conn.commit()
            return result
        finally:
            conn.close()

    return run
