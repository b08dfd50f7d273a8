"""In the browser: import a DDL file through the preview, see tables and diagram, export DBML."""

import pathlib
import threading

from playwright.sync_api import expect

from designer import projects
from designer.models import DataTable
from designer.models import Project
from tests.e2e.conftest import sign_in

CHINOOK = pathlib.Path(__file__).parent.parent / "data" / "chinook.sql"
PAGILA = pathlib.Path(__file__).parent.parent / "data" / "pagila_schema.sql"


def test_import_a_ddl_file_through_the_preview_then_export_dbml(page, user, tmp_path):
    shop = projects.create_project(user, "Music")
    sign_in(page)
    page.goto(f"/projects/{shop.id}")
    page.get_by_role("link", name="Import & export").click()
    page.get_by_label("File").set_input_files(str(CHINOOK))
    page.get_by_role("button", name="Preview import").click()
    preview = page.locator("#import-preview")
    expect(preview).to_contain_text("Will create 11 tables")
    # Chinook's keys and types are all kept: nothing in it is unrepresentable any more.
    expect(preview.locator(".findings-unrepresentable")).to_have_count(0)
    assert DataTable.select().count() == 0, "the preview imported nothing"
    preview.get_by_role("button", name="Import").last.click()
    expect(page.locator("#table-list")).to_contain_text("invoice_line")
    expect(page.locator(".flash-success")).to_contain_text("Imported 11 tables")
    playlist_track = DataTable.get(DataTable.table_name == "playlist_track")
    assert len(playlist_track.schema_definition["structure"]["primary_key"]) == 2
    page.get_by_role("link", name="Diagram").click()
    expect(page.locator("#diagram svg")).to_contain_text("playlist_track")
    page.get_by_role("link", name="Import & export").click()
    with page.expect_download() as caught:
        page.get_by_role("button", name="Export DBML").click()
    download = caught.value
    assert download.suggested_filename == f"{shop.target_schema}.dbml"
    saved = tmp_path / "out.dbml"
    download.save_as(saved)
    assert 'Table "invoice_line" {' in saved.read_text()


def test_the_pagila_preview_fits_a_screen_and_cancel_leaves_no_project(page, user):
    page.set_viewport_size({"width": 1280, "height": 800})
    sign_in(page)
    page.goto("/projects/import")
    page.get_by_label("File").set_input_files(str(PAGILA))
    page.get_by_role("button", name="Preview import").click()
    preview = page.locator("#import-preview")
    expect(preview).to_contain_text("Will create 71 tables")
    expect(preview).to_contain_text("OWNER TO ×106")
    expect(preview.locator(".import-decision").first).to_be_in_viewport()
    box = preview.bounding_box()
    assert box["height"] <= 800, box
    assert preview.locator("details[open]").count() == 0
    preview.get_by_role("button", name="Cancel").first.click()
    expect(page.locator("#import-preview")).to_be_empty()
    assert page.url.endswith("/projects/import")
    assert Project.select().count() == 0


def test_a_slow_export_shows_its_progress_then_downloads(page, user, tmp_path, monkeypatch):
    """A file that takes a while is written first: the tab says so, and counts, until the
    browser downloads it (the file is the one a plain download sends)."""
    from designer.design import tables
    from designer.interchange import exports

    shop = projects.create_project(user, "Shop")
    tables.create_table(user, shop.id, "Orders")
    go_on = threading.Event()
    real = exports.Source.text_parts_here

    def slow(self):
        for number, part in enumerate(real(self)):
            yield part
            if number == 0:
                go_on.wait(30)

    monkeypatch.setattr(exports.Source, "text_parts_here", slow)
    monkeypatch.setattr(exports, "PREPARE_WAIT_SECONDS", 0.2)
    sign_in(page)
    page.goto(f"/projects/{shop.id}/transfer")
    with page.expect_download() as caught:
        page.get_by_role("button", name="Export SQL").click()
        status = page.get_by_role("status").filter(has_text="Writing the SQL file")
        expect(status).to_contain_text("It downloads when it is ready.")
        go_on.set()
    saved = tmp_path / "out.sql"
    caught.value.save_as(saved)
    assert 'CREATE TABLE "shop"."orders"' in saved.read_text()
    assert caught.value.suggested_filename == f"{shop.target_schema}.sql"
    exports.writing.clear()
