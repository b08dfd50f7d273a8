"""A file written before it is downloaded, with its progress shown (exports.prepare_design,
the Import & export tab's links): a small design's file downloads at once, a slow one
answers with its progress until it is kept, a failure is said next to the links, and the
file downloaded is the one a plain download sends."""

import threading

import pytest

from designer.design import tables
from designer.interchange import downloads
from designer.interchange import exports


@pytest.fixture(autouse=True)
def no_job_left():
    yield
    exports.writing.clear()


def prepare(browser, project, fmt="sql", version=None):
    query = f"?version={version}" if version else ""
    return browser.get(f"/projects/{project.id}/export/{fmt}/prepare{query}")


def test_a_small_designs_file_is_ready_at_once_and_downloads_as_kept(alice, shop, signed_in):
    tables.create_table(alice, shop.id, "Orders")
    browser = signed_in(alice)
    built = downloads.work["built"]
    response = prepare(browser, shop)
    assert response.status_code == 200
    target = response.headers["HX-Redirect"]
    assert target == f"/projects/{shop.id}/export/sql"
    assert downloads.work["built"] == built + 1  # (written by the job)
    file = browser.get(target, htmx=False)
    assert file.status_code == 200 and 'CREATE TABLE "shop"."orders"' in file.text
    assert downloads.work["built"] == built + 1  # (read from PostgreSQL, not written again)
    # Asked again: ready at once.
    assert prepare(browser, shop).headers["HX-Redirect"] == target


def test_a_slow_file_answers_with_its_progress_until_it_is_kept(
    alice, shop, signed_in, monkeypatch
):
    tables.create_table(alice, shop.id, "Orders")
    go_on = threading.Event()
    real = exports.Source.text_parts_here

    def slow(self):
        first = True
        for part in real(self):
            yield part
            if first:
                first = False
                go_on.wait(30)

    monkeypatch.setattr(exports.Source, "text_parts_here", slow)
    monkeypatch.setattr(exports, "PREPARE_WAIT_SECONDS", 0.2)
    browser = signed_in(alice)
    waiting = prepare(browser, shop)
    assert "HX-Redirect" not in waiting.headers
    assert "Writing the SQL file of 1 tables" in waiting.text
    assert f'hx-get="/projects/{shop.id}/export/sql/prepare"' in waiting.text
    assert 'hx-trigger="load delay:1s"' in waiting.text
    # A teammate asking meanwhile sees the same file being written, not a second one.
    again = prepare(browser, shop)
    assert "Writing the SQL file" in again.text
    go_on.set()
    job = exports.writing.current(next(iter(exports.writing.running)))
    assert job.done.wait(30)
    ready = prepare(browser, shop)
    assert ready.headers["HX-Redirect"] == f"/projects/{shop.id}/export/sql"


def test_a_file_that_cannot_be_written_is_said_next_to_the_links(
    alice, shop, signed_in, monkeypatch
):
    def failing(self):
        yield "-- a beginning"
        raise exports.export_apart.ExportFailed("The export could not be written: it stopped.")

    monkeypatch.setattr(exports.Source, "text_parts_here", failing)
    browser = signed_in(alice)
    response = prepare(browser, shop)
    assert response.status_code == 200
    assert 'role="alert"' in response.text and "could not be written" in response.text
    assert "HX-Redirect" not in response.headers


def test_only_members_may_ask_and_a_plain_request_downloads(alice, make_user, shop, signed_in):
    stranger = signed_in(make_user("mallory"))
    assert prepare(stranger, shop).status_code == 404
    assert exports.writing.running == {}
    plain = signed_in(alice).get(f"/projects/{shop.id}/export/dbml/prepare", htmx=False)
    assert plain.status_code == 302
    assert plain.headers["Location"].endswith(f"/projects/{shop.id}/export/dbml")


def test_the_tab_offers_each_format_with_its_progress_place(alice, shop, signed_in):
    page = signed_in(alice).get(f"/projects/{shop.id}/transfer", htmx=False).text
    for fmt in ("sql", "json", "dbml", "mermaid"):
        assert f'hx-get="/projects/{shop.id}/export/{fmt}/prepare"' in page
        assert f'href="/projects/{shop.id}/export/{fmt}" download' in page
    assert 'id="export-status" role="status"' in page
