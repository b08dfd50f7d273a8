"""A version page reads the parts of the entries it shows, each by its whole key, whatever
the planner believes of the project's parts: statistics taken before the first version was
saved (no parts then) once made the page read every part of the project for each entry."""

import contextlib

import psycopg2

from designer import rls
from designer.history import versions
from tests.integration.test_search_index import explained
from tests.integration.test_search_index import statements
from tests.integration.test_version_parts import seed

TABLES = 300  # six pages (50) of a version's tables, of 20 columns: the bench's smallest project
PAGE = 50


def parts_read(nodes):
    """Rows the plan read from schema_part, over all its loops."""
    return sum(
        n["Actual Rows"] * n["Actual Loops"] + n.get("Rows Removed by Filter", 0)
        for n in nodes
        if n.get("Relation Name") == "schema_part"
    )


def test_a_version_page_reads_its_entries_parts_by_key_under_stale_statistics(
    alice, database_url, app_database_url
):
    project = seed(alice, TABLES)
    with contextlib.closing(psycopg2.connect(database_url)) as admin:
        # As a server's statistics stand right after the project's tables were added: the
        # parts its first version writes are not in them yet (the bench's at 300 tables).
        admin.autocommit = True
        admin.cursor().execute("VACUUM ANALYZE schema_part")
    version = versions.save_version(alice, project.id, "first")
    with contextlib.closing(psycopg2.connect(app_database_url)) as conn:
        conn.autocommit = True
        cursor = conn.cursor()
        cursor.execute(rls.ACT_FOR, (str(alice.id),))
        versions.entries_page(version, "tables", 0, PAGE)  # orders the entries once
        with statements() as sent:
            entries, total = versions.entries_page(version, "tables", PAGE, PAGE)
        assert [e["table_name"] for e in entries] == [f"t{i:05d}" for i in range(51, 101)]
        assert total == TABLES
        (page,) = [s for s in sent if "entry_order" in s[0]]
        assert parts_read(explained(cursor, page)) == PAGE
        # The names a page of relationships shows: each through its bucket, then its leaf.
        ids = [e["id"] for e in entries]
        with statements() as sent:
            names = versions.labels_of(version, "tables", ids)
        assert sorted(names.values()) == [e["table_name"] for e in entries]
        (labels,) = [s for s in sent if "leaves" in s[0]]
        assert parts_read(explained(cursor, labels)) <= 2 * PAGE
