"""Comparisons from the parts that differ (issue #27, designer/history/compare.py): the same
changes and migration SQL as the whole snapshots give, and rows read in proportion to what
changed, not to the number of tables left alone."""

import pytest
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings as hypothesis_settings

from designer import projects
from designer import web
from designer.database import ddl
from designer.db import counting_queries
from designer.design import fields
from designer.design import relationships
from designer.design import tables
from designer.history import compare
from designer.history import snapshot
from designer.history import versions
from designer.history.diff import diff
from tests.integration.test_version_parts import EDITS
from tests.integration.test_version_parts import saved_versions
from tests.integration.test_version_parts import seed


def whole(project_id, reference):
    if reference == "working":
        return snapshot.build(project_id)
    return versions.snapshot_of(versions.get_version(project_id, reference))


def sql(steps):
    return [(step.sql, step.kind) for step in steps]


def by_parts_and_whole(project_id, old_ref, new_ref):
    """((changes, SQL) compared by parts, (changes, SQL) of the whole snapshots)."""
    versions.diffs.clear()
    old, new, changes = versions.compare(project_id, old_ref, new_ref)
    before, after = whole(project_id, old_ref), whole(project_id, new_ref)
    by_parts = (changes, sql(ddl.migration("app", old, new, changes)))
    return by_parts, (diff(before, after), sql(ddl.migration("app", before, after)))


@pytest.mark.timeout(900)  # designs built and saved through the app, on a busy machine
@hypothesis_settings(max_examples=6, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=EDITS)
def test_comparing_by_parts_gives_the_changes_and_sql_of_the_whole_snapshots(alice, edits):
    project = projects.create_project(alice, "P")
    steps = [*edits, ("save", 0), ("field", 3), ("link", 22), ("rename", 5)]
    saved = saved_versions(alice, project.id, steps)
    for old_ref in saved:
        for new_ref in [*saved, "working"]:
            for pair in ((old_ref, new_ref), (new_ref, old_ref)):
                by_parts, by_whole = by_parts_and_whole(project.id, *pair)
                assert by_parts[0] == by_whole[0], pair  # the changes
                assert by_parts[1] == by_whole[1], pair  # the migration SQL


def compared_work(page, api, project):
    """What the compare page and the API's diff read, by URL: (queries, rows and bytes read
    from the parts, tables in the comparison's snapshots)."""
    pid = project.id
    found = work_of(project, (
        (page, f"/projects/{pid}/diff?from=1&to=2"),
        (page, f"/projects/{pid}/diff?from=1&to=working"),
        (page, f"/projects/{pid}/diff?from=working&to=1&start=1"),
        (api, f"/projects/{pid}/diff?from=1&to=2"),
        (api, f"/projects/{pid}/diff?from=2&to=working"),
    ))  # fmt: skip
    old, new, _ = versions.compare(pid, "1", "working")
    found["tables"] = (len(old["tables"]), len(new["tables"]))
    return found


def work_of(project, asked):
    """{URL: (queries, what compare.work counted)} of (client, URL) pairs, nothing kept."""
    found = {}
    for client, url in asked:
        versions.diffs.clear()
        versions.listings.clear()
        before = dict(compare.work)
        with counting_queries() as counter:
            response = client.get(url)
        assert response.status_code == 200, url
        read = {name: count - before[name] for name, count in compare.work.items()}
        found[url.replace(str(project.id), "P")] = (counter.count, read)
    return found


def linked_and_changed(user, count):
    """A project of `count` tables, a link between two, saved; one table changed, saved;
    one more changed, unsaved."""
    project = seed(user, count, columns=2)
    first = tables.create_table(user, project.id, "Linked from").id
    second = tables.create_table(user, project.id, "Linked to").id
    # Not in the second's bucket (the first two characters of its id): two changed tables
    # sharing one, as random ids do once in 256, open one bucket where the other size opens two.
    third = versions.database.execute_sql(
        "SELECT id FROM data_table WHERE project_id = %s AND left(id::text, 2) <> left(%s, 2)"
        " ORDER BY name DESC LIMIT 1",
        (str(project.id), str(second)),
    ).fetchone()[0]
    relationships.create_relationship(
        user, project.id, {"source_table_id": str(first), "target_table_id": str(second)}
    )
    versions.save_version(user, project.id, "first")
    fields.create_field(user, second, {"name": "Added"})
    versions.save_version(user, project.id, "second")
    fields.create_field(user, third, {"name": "Unsaved"})
    return project


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_a_comparison_reads_the_same_at_100_and_3000_tables(alice, signed_in, api, monkeypatch):
    monkeypatch.setattr(web, "SWEEP_EVERY_SECONDS", float("inf"))
    small, large = linked_and_changed(alice, 100), linked_and_changed(alice, 3000)
    page, client = signed_in(alice), api(alice)
    compared_work(page, client, small)  # (a connection PREPAREs some statements once)
    work = [compared_work(page, client, p) for p in (small, large)]
    assert work[0] == work[1]
    # The changed tables and the ones at their links' ends: not the 100 or 3,000.
    assert work[1]["tables"] == (3, 3)
