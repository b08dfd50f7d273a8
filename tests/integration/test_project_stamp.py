"""The project's change stamp (migrations/0031): one row read, moved by every committed
change to what the project page shows or the design holds, once per transaction, and
never the reason two transactions editing one project deadlock."""

import contextlib
import threading

import psycopg2
import pytest

from designer import projects
from designer.db import database
from designer.design import enums
from designer.design import fields
from designer.design import page_stamps
from designer.design import relationships
from designer.design import tables


@pytest.fixture
def shop(make_user):
    alice = make_user("alice")
    project = projects.create_project(alice, "Shop")
    one = tables.create_table(alice, project.id, "Customers")
    two = tables.create_table(alice, project.id, "Orders")
    enums.create_enum(alice, project.id, "mood", ["sad", "ok"])
    relationships.create_relationship(
        alice, project.id, {"source_table_id": one.id, "target_table_id": two.id}
    )
    return {"user": alice, "project": project, "tables": (one, two)}


@contextlib.contextmanager
def connection(database_url):
    conn = psycopg2.connect(database_url)
    try:
        yield conn
    finally:
        conn.close()


# A change to each table the stamp watches, made by SQL as another app server would.
CHANGES = {
    "data_table": "UPDATE data_table SET description = 'x' WHERE project_id = %s",
    "data_field": "UPDATE data_field SET name = name || ' x' WHERE project_id = %s",
    "table_relationship": "UPDATE table_relationship SET status = status WHERE project_id = %s",
    "project_enum": "UPDATE project_enum SET name = name WHERE project_id = %s",
    "activity_entry": "INSERT INTO activity_entry (project_id, action, summary)"
    " VALUES (%s, 'x', 'x')",
}


@pytest.mark.parametrize("table", sorted(CHANGES))
def test_a_committed_change_to_each_watched_table_moves_the_stamp(shop, database_url, table):
    before = page_stamps.project_stamp(shop["project"].id)
    with connection(database_url) as conn, conn, conn.cursor() as cursor:
        cursor.execute(CHANGES[table], (str(shop["project"].id),))
        assert cursor.rowcount >= 1
        # Not yet committed: nobody else sees the change, nor a new stamp.
        assert page_stamps.project_stamp(shop["project"].id) == before
    assert page_stamps.project_stamp(shop["project"].id) != before


def counter(project):
    return database.execute_sql(
        "SELECT counter FROM project_change WHERE project_id = %s", (str(project.id),)
    ).fetchone()[0]


def test_a_transaction_moves_the_counter_once_however_many_rows_it_writes(shop, database_url):
    before = counter(shop["project"])
    with connection(database_url) as conn, conn, conn.cursor() as cursor:
        cursor.execute(
            "INSERT INTO data_field (table_id, name, field_name, data_type, sort_order)"
            " SELECT %s, 'F ' || i, 'f_' || i, 'text', 100 + i FROM generate_series(1, 2000) i",
            (str(shop["tables"][0].id),),
        )
        cursor.execute(CHANGES["data_table"], (str(shop["project"].id),))
    assert counter(shop["project"]) == before + 1


def test_inside_a_transaction_that_wrote_the_stamp_is_its_own(shop):
    project = shop["project"]
    with database.atomic():
        fields.create_field(shop["user"], shop["tables"][0].id, {"name": "Note"})
        first = page_stamps.project_stamp(project.id)
        assert first != page_stamps.project_stamp(project.id)


def test_two_transactions_editing_the_same_tables_in_turn_do_not_deadlock(shop, database_url):
    """T1 edits A, T2 edits B, then T1 waits for B. Had the counter's row been taken at
    T1's first edit, T2 would wait for it while T1 waits for T2: a deadlock."""
    one, two = (str(t.id) for t in shop["tables"])
    before = counter(shop["project"])
    update = "UPDATE data_table SET description = %s WHERE id = %s"
    with connection(database_url) as first, connection(database_url) as second:
        a, b = first.cursor(), second.cursor()
        a.execute(update, ("first", one))
        b.execute(update, ("second", two))

        def then_b():
            a.execute(update, ("first", two))
            first.commit()

        waited = threading.Thread(target=then_b)
        waited.start()
        waited.join(0.5)
        assert waited.is_alive()  # T1 waits for T2's row
        second.commit()
        waited.join(10)
        assert not waited.is_alive()
    assert counter(shop["project"]) == before + 2


def test_a_deleted_project_leaves_no_counter(shop, database_url):
    projects.delete_project(shop["user"], shop["project"].id)
    with connection(database_url) as conn, conn.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM project_change WHERE project_id = %s", (str(shop["project"].id),)
        )
        assert cursor.fetchone()[0] == 0
