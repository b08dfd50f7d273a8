"""Reading and writing the deploy target directly, as a user of the deployed tables would."""

from designer.database import target


def on_target(statement, params=()):
    """Run one statement on the deploy target and commit; its rows, if it returns any."""
    conn = target.connect()
    try:
        with conn.cursor() as cursor:
            cursor.execute(statement, params)
            result = cursor.fetchall() if cursor.description else None
        conn.commit()
        return result
    finally:
        conn.close()
