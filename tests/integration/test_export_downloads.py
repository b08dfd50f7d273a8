"""Downloads kept in PostgreSQL and streamed (designer/interchange/downloads.py, #27): the
bytes a client gets, gzip or not, first or kept, are the export written whole; a repeat
download writes nothing; an export after a one-table change writes one table's piece."""

import gzip
import pathlib

import pytest

from designer.design import fields
from designer.design import tables
from designer.history import versions
from designer.interchange import downloads
from designer.interchange import export_formats
from designer.interchange import exports
from designer.interchange import imports
from designer.models import DataTable
from designer.models import ExportFile
from designer.settings import settings

DATA = pathlib.Path(__file__).parent.parent / "data"


@pytest.fixture
def rich(alice, shop):
    """A project of every setting the SQL import reads (tests/data/every_setting.sql)."""
    imports.import_into(alice, shop.id, "sql", (DATA / "every_setting.sql").read_text())
    return shop


@pytest.fixture
def small_members(monkeypatch):
    """Members of 500 bytes of text: every file here is many members."""
    monkeypatch.setattr(downloads, "MEMBER_BYTES", 500)


def whole(project, fmt):
    snapshot, _ = versions.resolve(project.id, "working")
    return export_formats.full_text(snapshot, fmt, project.target_schema)


@pytest.mark.parametrize("fmt", export_formats.FORMATS)
def test_a_download_kept_and_streamed_is_the_export_written_whole(
    alice, rich, signed_in, api, small_members, fmt
):
    expected = whole(rich, fmt)
    browser = signed_in(alice)
    path = f"/projects/{rich.id}/export/{fmt}"
    built = downloads.work["built"]
    written = browser.get(path, htmx=False, headers={"Accept-Encoding": "gzip"})
    assert written.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(written.get_data()).decode() == expected
    assert downloads.work["built"] == built + 1
    kept = ExportFile.get(ExportFile.project == rich.id)
    assert kept.members == -(-len(expected.encode()) // 500) > 1
    # Kept: streamed member by member, gzip as it is, or unpacked for a client without gzip;
    # through the API too. Nothing is written again.
    # (Each answer read before the next request: a stream runs in its request's context.)
    for ask in (
        lambda: browser.get(path, htmx=False, headers={"Accept-Encoding": "gzip"}),
        lambda: browser.get(path, htmx=False),
        lambda: api(alice).get(f"/projects/{rich.id}/export?format={fmt}"),
    ):
        response = ask()
        assert response.status_code == 200
        assert response.is_streamed
        data = response.get_data()
        assert len(data) == response.content_length
        if response.headers.get("Content-Encoding") == "gzip":
            data = gzip.decompress(data)
        assert data.decode("utf-8") == expected
    assert downloads.work["built"] == built + 1
    named = browser.get(path, htmx=False)
    named.get_data()
    assert named.headers["Content-Disposition"].endswith(f'.{export_formats.FILE_TYPES[fmt][0]}"')


def test_a_browser_holding_the_file_gets_a_304_until_the_design_changes(alice, rich, signed_in):
    browser = signed_in(alice)
    path = f"/projects/{rich.id}/export/sql"
    first = browser.get(path, htmx=False)
    etag = first.headers["ETag"].strip('"')
    again = browser.get(path, htmx=False, headers={"If-None-Match": f'"{etag}"'})
    assert again.status_code == 304 and again.get_data() == b""
    orders = DataTable.get(DataTable.project == rich.id, DataTable.table_name == "orders")
    fields.create_field(alice, orders.id, {"name": "Later"})
    changed = browser.get(path, htmx=False, headers={"If-None-Match": f'"{etag}"'})
    assert changed.status_code == 200 and '"later"' in changed.get_data(as_text=True)
    # A browser signed out is asked who it is first.
    anonymous = signed_in().get(path, htmx=False, headers={"If-None-Match": f'"{etag}"'})
    assert anonymous.status_code == 302


def test_a_working_copy_file_is_replaced_by_the_next_and_versions_keep_theirs(
    alice, rich, signed_in, monkeypatch
):
    monkeypatch.setattr(downloads, "KEEP_SECONDS", 0)
    browser = signed_in(alice)
    assert browser.get(f"/projects/{rich.id}/export/sql?version=1", htmx=False).status_code == 200
    for name in ("One", "Two", "Three"):
        tables.create_table(alice, rich.id, name)
        assert browser.get(f"/projects/{rich.id}/export/sql", htmx=False).status_code == 200
    # The version's file and the working copy's latest.
    assert ExportFile.select().where(ExportFile.project == rich.id).count() == 2
    assert '"three"' in browser.get(f"/projects/{rich.id}/export/sql", htmx=False).text


@pytest.mark.parametrize("fmt", export_formats.FORMATS)
def test_an_export_after_a_one_table_change_writes_one_piece(alice, rich, fmt):
    exports.export_design(alice, rich.id, fmt)
    orders = DataTable.get(DataTable.project == rich.id, DataTable.table_name == "orders")
    tables.update_table(alice, orders.id, orders.revision, description="Changed.")
    before = export_formats.work["pieces"]
    after = exports.export_design(alice, rich.id, fmt).text
    assert after == whole(rich, fmt)
    assert export_formats.work["pieces"] - before == 1


def test_the_diagram_downloads_as_a_kept_file(alice, rich, signed_in):
    browser = signed_in(alice)
    path = f"/projects/{rich.id}/diagram.mmd"
    snapshot, _ = versions.resolve(rich.id, "working")
    for _ in range(2):
        response = browser.get(path, htmx=False, headers={"Accept-Encoding": "gzip"})
        assert gzip.decompress(response.get_data()).decode() == exports.diagram.mermaid(snapshot)


@pytest.mark.parametrize("fmt", export_formats.FORMATS)
def test_pieces_weigh_their_text_so_a_small_budget_still_keeps_them(alice, rich, monkeypatch, fmt):
    # 64 KB: some 40 pieces' texts, and less than two of this design's table entries as
    # kept.weight estimates them (a piece weighed with its entry was dropped as it was kept).
    monkeypatch.setattr(settings, "cache_bytes", 64 * 1024)
    exports.export_design(alice, rich.id, fmt)
    orders = DataTable.get(DataTable.project == rich.id, DataTable.table_name == "orders")
    tables.update_table(alice, orders.id, orders.revision, description="Changed.")
    before = export_formats.work["pieces"]
    exports.export_design(alice, rich.id, fmt)
    assert export_formats.work["pieces"] - before == 1
