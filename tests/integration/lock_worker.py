"""Run in a separate process by test_locks: acquire one table's lock over its own connection."""

import sys


def attempt(database_url, table_id, user_ids, barrier):
    """Each user tries to lock the table from its own thread, all released by `barrier`
    (shared with the other process); returns the outcomes ("won", "refused" or an error)."""
    import threading

    from designer.db import database
    from designer.db import open_database
    from designer.errors import Locked
    from designer.models import User

    database.initialize(open_database(database_url))
    from designer import locks

    users = [User.get_by_id(user_id) for user_id in user_ids]
    database.close()
    outcomes = []

    def contend(user):
        try:
            barrier.wait()
            locks.acquire(table_id, user, "pessimistic", "from another process")
            outcomes.append("won")
        except Locked:
            outcomes.append("refused")
        except Exception as exc:  # noqa: BLE001  (reported to the test, which fails on it)
            outcomes.append(repr(exc))
        finally:
            database.close()

    threads = [threading.Thread(target=contend, args=(user,), daemon=True) for user in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return outcomes


if __name__ == "__main__":
    sys.exit("imported by tests/integration/test_locks.py")
