"""Run in a fresh process by test_versions_stored: compare and restore with an empty cache."""

import sys


def compare_and_restore(database_url, user_id, project_id, old, new, restore):
    """The changes from version `old` to `new`, then restore version `restore`.

    A new interpreter has read no snapshot yet: everything comes from the
    stored versions. Returns (changes, number of the version the restore saved).
    """
    from designer.db import database
    from designer.db import open_database

    database.initialize(open_database(database_url))
    from designer.history import versions
    from designer.models import User

    user = User.get_by_id(user_id)
    assert not versions.cache.entries, "a fresh process starts with an empty snapshot cache"
    _, _, changes = versions.compare(project_id, old, new)
    restored = versions.restore(user, project_id, restore, confirm=True)
    database.close()
    return changes, restored.version_number


if __name__ == "__main__":
    sys.exit("imported by tests/integration/test_versions_stored.py")
