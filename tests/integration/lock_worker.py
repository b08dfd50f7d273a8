"""Run in a separate process by test_locks: acquire one table's lock over its own connection."""

import sys


def attempt(database_url, table_id, user_ids, barrier):
    """Try to lock the table once per user; returns the outcomes ("won" or "refused")."""
    from designer.db import database
    from designer.db import open_database
    from designer.errors import Locked
    from designer.models import User

    database.initialize(open_database(database_url))
    from designer import locks

    users = [User.get_by_id(user_id) for user_id in user_ids]
    barrier.wait()
    outcomes = []
    for user in users:
        try:
            locks.acquire(table_id, user, "pessimistic", "from another process")
            outcomes.append("won")
        except Locked:
            outcomes.append("refused")
    database.close()
    return outcomes


if __name__ == "__main__":
    sys.exit("imported by tests/integration/test_locks.py")
