"""Pages and partials run the same number of queries for 10 tables as for 200."""

import threading

from designer import projects
from designer import web
from designer.db import PreparedStatement
from designer.db import counting_queries
from designer.db import database
from designer.design import fields
from designer.models import DataField
from designer.models import DataTable


def seed(user, table_count, field_count):
    """A project of `table_count` tables, the first with `field_count` fields."""
    project = projects.create_project(user, f"P{table_count}")
    rows = [
        {
            "project": project.id,
            "name": f"T{i:04d}",
            "table_name": f"t{i:04d}",
            "created_by": user.id,
        }
        for i in range(table_count)
    ]
    DataTable.insert_many(rows).execute()
    first = DataTable.get(DataTable.project == project.id, DataTable.name == "T0000")
    DataField.insert_many(
        [
            {
                "data_table": first.id,
                "name": f"F{i}",
                "field_name": f"f{i}",
                "data_type": "text",
                "sort_order": i + 1,
            }
            for i in range(field_count)
        ]
    ).execute()
    field = fields.create_field(user, first.id, {"name": "Probe"})
    return project, first, field


def requests_for(project, table, field):
    return {
        "project page": ("GET", f"/projects/{project.id}", None, False),
        "search partial": ("GET", f"/projects/{project.id}/tables?q=T0", None, True),
        "load more": ("GET", f"/projects/{project.id}/tables?after=T0010", None, True),
        "table page": ("GET", f"/tables/{table.id}", None, False),
        "field rows": ("GET", f"/tables/{table.id}/fields", None, True),
        "field form": ("GET", f"/fields/{field.id}/edit", None, True),
        "field save": (
            "PUT",
            f"/fields/{field.id}",
            {"name": "Probe", "data_type": "text", "revision": str(field.revision)},
            True,
        ),
        "add field": ("POST", f"/tables/{table.id}/fields", {"name": "Another"}, True),
        "lock panel": ("GET", f"/tables/{table.id}/lock", None, True),
        "table header form": ("GET", f"/tables/{table.id}/header/edit", None, True),
        "new field form": ("GET", f"/tables/{table.id}/fields/new", None, True),
        "relationships page": ("GET", f"/projects/{project.id}/relationships", None, False),
        "relationship form": ("GET", f"/projects/{project.id}/relationships/form", None, True),
        "diagram page": ("GET", f"/projects/{project.id}/diagram", None, False),
        "diagram data": ("GET", f"/projects/{project.id}/diagram.json", None, False),
        "timeline": ("GET", f"/projects/{project.id}/timeline", None, False),
        "members page": ("GET", f"/projects/{project.id}/members", None, False),
        "projects list": ("GET", "/projects", None, False),
    }


def measure(client, project, table, field):
    counts = {}
    for name, (method, url, data, htmx) in requests_for(project, table, field).items():
        with counting_queries() as counter:
            response = client.request(method, url, htmx=htmx, data=data)
        assert response.status_code == 200, (name, response.text[:200])
        counts[name] = counter.count
    return counts


def test_query_counts_do_not_grow_with_tables_or_fields(alice, signed_in, monkeypatch):
    # The lock sweep runs in some request every ten seconds: not one of the pages' queries.
    monkeypatch.setattr(web, "SWEEP_EVERY_SECONDS", float("inf"))
    client = signed_in(alice)
    small = measure(client, *seed(alice, 10, 5))
    large = measure(client, *seed(alice, 200, 60))
    assert small == large
    assert max(small.values()) <= 20, small


def test_the_query_counter_counts_only_its_own_threads_queries(app):
    busy, stop = threading.Event(), threading.Event()

    def other_thread():
        try:
            while not stop.is_set():
                database.execute_sql("SELECT 1")
                busy.set()
        finally:
            database.close()

    thread = threading.Thread(target=other_thread, daemon=True)
    thread.start()
    try:
        assert busy.wait(30)
        with counting_queries() as counter:
            database.execute_sql("SELECT 1")
            busy.clear()
            assert busy.wait(30), "the other thread ran no query while counting"
    finally:
        stop.set()
        thread.join(30)
    assert not thread.is_alive()
    assert counter.count == 1


def test_a_statements_per_connection_prepare_is_not_counted_as_a_requests_query(app):
    # The pool hands a request whichever connection it holds; only the first EXECUTE on each
    # connection also PREPAREs. Counted, that made a route's count depend on the pool's past
    # (the 1,000-table route test saw 6 and 7 queries for the same route in a random order).
    statement = PreparedStatement("counted_once_probe", "SELECT %s::int + 1", ("int",))
    with counting_queries() as counter:
        assert statement.execute((1,)).fetchone() == (2,)
    assert counter.count == 1
    with counting_queries() as counter:
        statement.execute((2,))
        database.execute_sql("SELECT 1")
    assert counter.count == 2
