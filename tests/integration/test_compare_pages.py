"""A comparison of most of the design, a page at a time (issue #27, versions.compare_page):
the pages together give the whole comparison's changes, the counts come from the manifests,
and a page reads the same whatever the cut's size."""

import json

import pytest
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from designer import api_tokens
from designer import projects
from designer import web
from designer.database import ddl
from designer.db import database
from designer.design import enums
from designer.history import versions
from designer.history.diff import diff
from designer.history.diff import summarize
from tests.integration.test_compare_parts import whole
from tests.integration.test_compare_parts import work_of
from tests.integration.test_version_parts import EDITS
from tests.integration.test_version_parts import saved_versions
from tests.integration.test_version_parts import seed


def every_page(project_id, old_ref, new_ref, size):
    """The pages of a paged comparison, first to last (None when it is not paged)."""
    pages, start = [], 0
    while start is not None:
        paged = versions.compare_page(project_id, old_ref, new_ref, start, size)
        if paged is None:
            assert not pages
            return None
        pages.append(paged)
        start = paged.next_start
    return pages


def in_any_order(changes):
    return sorted(json.dumps(change, sort_keys=True) for change in changes)


def counts_of(before, after):
    """{kind: {added, changed, dropped}} of the entries of two whole snapshots."""
    found = {}
    for key in ("tables", "relationships"):
        was, now = before[key], after[key]
        found[key] = {
            "added": len(now.keys() - was.keys()),
            "changed": sum(1 for i in was.keys() & now.keys() if was[i] != now[i]),
            "dropped": len(was.keys() - now.keys()),
        }
    return found


@pytest.mark.timeout(900)  # designs built and saved through the app, on a busy machine
@hypothesis_settings(max_examples=6, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=EDITS, size=st.integers(1, 3), enum=st.booleans())
def test_a_paged_comparisons_pages_together_are_the_whole_comparison(
    alice, monkeypatch, edits, size, enum
):
    monkeypatch.setattr(versions, "LARGE_CUT", 1)  # every comparison of a table is paged
    project = projects.create_project(alice, "P")
    steps = [("table", 0), *edits, ("save", 0), ("field", 3), ("link", 22), ("rename", 5)]

    def mood():
        if enum:
            enums.create_enum(alice, project.id, "mood", ["ok", "sad"])

    saved = saved_versions(alice, project.id, steps, mood)
    for old_ref in saved:
        for new_ref in [*saved, "working"]:
            for pair in ((old_ref, new_ref), (new_ref, old_ref)):
                versions.listings.clear()
                before, after = whole(project.id, pair[0]), whole(project.id, pair[1])
                pages = every_page(project.id, *pair, size)
                if pages is None:  # no table differs: compared whole by parts
                    assert before["tables"] == after["tables"], pair
                    continue
                changes = [change for paged in pages for change in paged.changes]
                assert in_any_order(changes) == in_any_order(diff(before, after)), pair
                expected = counts_of(before, after)
                if "enums" in summarize(diff(before, after)):
                    expected["enums"] = summarize(diff(before, after))["enums"]
                assert all(paged.counts == expected for paged in pages), pair
                # Each page holds its own entries' changes, in the diff engine's order.
                for paged in pages:
                    assert paged.changes == diff(paged.old, paged.new), pair


def all_changed(user, count):
    """A project of `count` tables saved, then every table changed (made Active) and
    saved again, then one more column (unsaved)."""
    project = seed(user, count, columns=2)
    versions.save_version(user, project.id, "first")
    database.execute_sql(
        "UPDATE data_table SET status = 'active' WHERE project_id = %s", (str(project.id),)
    )
    versions.save_version(user, project.id, "all active")
    database.execute_sql(
        "UPDATE data_table SET name = name || '!' WHERE project_id = %s AND table_name = 't00002'",
        (str(project.id),),
    )
    return project


def page_work(page, api, project):
    """(queries, entries and bytes read, entries listed) of a large cut's pages, by URL."""
    pid = project.id
    found = work_of(project, (
        (page, f"/projects/{pid}/diff?from=1&to=2"),
        (page, f"/projects/{pid}/diff?from=1&to=2&start=50"),
        (page, f"/projects/{pid}/diff?from=2&to=1"),
        (page, f"/projects/{pid}/diff?from=1&to=working"),
        (api, f"/projects/{pid}/diff?from=1&to=2&start=100"),
    ))  # fmt: skip
    return {url: (queries, read, read.pop("listed")) for url, (queries, read) in found.items()}


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_a_page_of_a_large_cut_reads_the_same_at_1500_and_3000_changed_tables(
    alice, signed_in, api, monkeypatch
):
    monkeypatch.setattr(web, "SWEEP_EVERY_SECONDS", float("inf"))
    # A token records its use once a minute: not one of the pages' queries.
    monkeypatch.setattr(api_tokens, "TOKEN_TOUCH_SECONDS", float("inf"))
    small, large = all_changed(alice, 1500), all_changed(alice, 3000)
    page, client = signed_in(alice), api(alice)
    page_work(page, client, small)  # (a connection PREPAREs some statements once)
    work = [page_work(page, client, p) for p in (small, large)]
    for url in work[0]:
        queries, read, listed = work[0][url]
        assert (queries, read) == work[1][url][:2], url
        # Only the list of what differs (ids and names, from the manifests) grows.
        assert listed * 2 in range(work[1][url][2] - 2, work[1][url][2] + 3), url
    assert work[1]["/projects/P/diff?from=1&to=2"][1]["rows"] < 200


def test_a_large_cuts_pages_and_sql_download(alice, signed_in, api, monkeypatch):
    monkeypatch.setattr(versions, "LARGE_CUT", 10)
    project = all_changed(alice, 12)
    page, client = signed_in(alice), api(alice)
    pid = project.id
    shown = page.get(f"/projects/{pid}/diff?from=1&to=2")
    assert shown.status_code == 200
    assert "a page of tables and relationships at a time" in shown.text
    assert "~12 tables" in shown.text
    assert f"/projects/{pid}/diff.sql?" in shown.text
    before, after = whole(pid, 1), whole(pid, 2)
    script = ddl.script(ddl.migration(project.target_schema, before, after))
    assert page.get(f"/projects/{pid}/diff.sql?from=1&to=2").text == script
    answered = client.get(f"/projects/{pid}/diff?from=1&to=2").get_json()
    assert answered["paged"] and answered["sql"] is None and answered["next_start"] is None
    assert answered["summary"]["tables"] == {"added": 0, "changed": 12, "dropped": 0}
    assert in_any_order(answered["changes"]) == in_any_order(diff(before, after))
    assert client.get(answered["sql_url"].removeprefix("/api/v1")).text == script
    # Not paged below LARGE_CUT: the whole changes and SQL, as before.
    monkeypatch.setattr(versions, "LARGE_CUT", 1000)
    versions.diffs.clear()
    answered = client.get(f"/projects/{pid}/diff?from=1&to=2").get_json()
    assert "paged" not in answered and answered["sql"] == script
