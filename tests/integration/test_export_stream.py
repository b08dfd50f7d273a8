"""The JSON export written from stored parts, a page of tables at a time (designer/
interchange/export_stream.py, #27): its text is the export written whole from the snapshot,
for the working copy and for versions, and a file after a one-table change reads and
writes that table's piece only, however many tables did not change."""

import gzip
import pathlib

import pytest

from designer.db import counting_queries
from designer.db import database
from designer.design import enums
from designer.design import fields
from designer.design import relationships
from designer.design import tables
from designer.history import versions
from designer.interchange import downloads
from designer.interchange import export_formats
from designer.interchange import export_stream
from designer.interchange import exports
from designer.interchange import imports
from designer.models import DataTable

DATA = pathlib.Path(__file__).parent.parent / "data"


@pytest.fixture
def pages(monkeypatch):
    """Pages of 3 entries: every file here is written over many pages."""
    monkeypatch.setattr(export_stream, "PAGE", 3)


@pytest.fixture
def no_snapshot(monkeypatch):
    """A JSON file written here never builds the snapshot (it would fail)."""

    def refused(self):
        raise AssertionError("the JSON export built the snapshot")

    monkeypatch.setattr(exports.Source, "snapshot", refused)


def whole_json(project_id, version=None):
    snapshot, _ = versions.resolve(project_id, version or "working")
    return export_formats.full_json_text(snapshot)


def downloaded(browser, project_id, version=None):
    query = f"?version={version}" if version else ""
    response = browser.get(
        f"/projects/{project_id}/export/json{query}",
        htmx=False,
        headers={"Accept-Encoding": "gzip"},
    )
    assert response.status_code == 200
    return gzip.decompress(response.get_data()).decode("utf-8")


def test_the_streamed_json_is_the_export_written_whole(alice, shop, signed_in, pages, no_snapshot):
    imports.import_into(alice, shop.id, "sql", (DATA / "every_setting.sql").read_text())
    made = [tables.create_table(alice, shop.id, f"Extra {i}") for i in range(5)]
    price = fields.create_field(alice, made[0].id, {"name": "Price"})
    # A float the triggers leave to Python (working_part's hash is NULL for that table).
    database.execute_sql(
        "UPDATE data_field SET field_config = %s::jsonb WHERE id = %s",
        ('{"step": 0.5, "n": [1.5e300]}', str(price.id)),
    )
    relationships.create_relationship(
        alice,
        shop.id,
        {"source_table_id": str(made[1].id), "target_table_id": str(made[2].id),
         "relationship_type": "one_to_many"},
    )  # fmt: skip
    tables.delete_table(alice, made[3].id)
    enums.create_enum(alice, shop.id, "mood", ["glad", "sad"])
    saved = versions.save_version(alice, shop.id).version_number
    tables.update_table(alice, made[4].id, made[4].revision, description="Changed.")
    expected = {None: whole_json(shop.id), saved: whole_json(shop.id, saved)}
    assert '"step": 0.5' in expected[None] and '"mood"' in expected[None]
    assert expected[None] != expected[saved]
    browser = signed_in(alice)
    for version, text in expected.items():
        assert downloaded(browser, shop.id, version) == text


def test_a_design_without_relationships_or_tables_streams_as_written_whole(
    alice, shop, signed_in, no_snapshot
):
    browser = signed_in(alice)
    assert downloaded(browser, shop.id) == whole_json(shop.id)
    tables.create_table(alice, shop.id, "Alone")
    assert downloaded(browser, shop.id) == whole_json(shop.id)


def test_a_file_after_a_one_table_change_reads_and_writes_one_piece(
    alice, shop, signed_in, pages, no_snapshot
):
    browser = signed_in(alice)
    downloaded(browser, shop.id)  # (a session's first request does more)
    made, queries = [], []
    for count in (6, 30):
        made += [tables.create_table(alice, shop.id, f"T{i}") for i in range(len(made), count)]
        with counting_queries() as counted:
            downloaded(browser, shop.id)  # (its new tables read, a page of 3 at a time)
        queries.append(counted.count)
        table = DataTable.get(DataTable.id == made[1].id)
        tables.update_table(alice, table.id, table.revision, description=f"Changed at {count}.")
        read, pieces = export_stream.work["read"], export_formats.work["pieces"]
        built = downloads.work["built"]
        with counting_queries() as counted:
            text = downloaded(browser, shop.id)
        queries.append(counted.count)
        assert downloads.work["built"] == built + 1
        # The same at 6 tables as at 30: the changed table's text, read and indented.
        assert export_stream.work["read"] - read == 1
        assert export_formats.work["pieces"] - pieces == 1
        assert f"Changed at {count}." in text
    # Read a page of 3 at a time, through one cursor: as many statements at 30 as at 6.
    assert queries[:2] == queries[2:]


PARTITIONED = """
CREATE TABLE measurements (city_id integer NOT NULL, logdate date NOT NULL)
    PARTITION BY RANGE (logdate);
CREATE TABLE measurements_rest PARTITION OF measurements DEFAULT;
"""


def diagram_downloaded(browser, project_id, focus=None):
    query = f"?focus={focus}" if focus else ""
    response = browser.get(
        f"/projects/{project_id}/diagram.mmd{query}",
        htmx=False,
        headers={"Accept-Encoding": "gzip"},
    )
    assert response.status_code == 200
    return gzip.decompress(response.get_data()).decode("utf-8")


def test_the_streamed_diagram_is_the_diagram_drawn_whole(
    alice, shop, signed_in, pages, monkeypatch
):
    # Partitions, keys of every kind, required and optional foreign keys (every_setting.sql).
    text = (DATA / "every_setting.sql").read_text() + PARTITIONED
    imports.import_into(alice, shop.id, "sql", text)
    made = [tables.create_table(alice, shop.id, f"Extra {i}") for i in range(5)]
    for source, target in ((0, 1), (1, 2), (3, 0), (4, 2)):
        relationships.create_relationship(
            alice,
            shop.id,
            {"source_table_id": str(made[source].id), "target_table_id": str(made[target].id),
             "relationship_type": "one_to_many"},
        )  # fmt: skip
    tables.delete_table(alice, made[3].id, with_relationships=True)
    # A table marked Deleted (and its relationship) is not drawn.
    DataTable.update(status="deleted").where(DataTable.id == made[4].id).execute()
    snapshot, _ = versions.resolve(shop.id, "working")
    expected = {
        focus: exports.diagram.mermaid(snapshot, focus)
        for focus in (None, str(made[1].id), str(made[3].id), "orders")
    }
    assert " FK" in expected[None] and "||--o{" in expected[None]
    assert "measurements {" in expected[None] and "measurements_rest" not in expected[None]
    assert "    extra_4 {" not in expected[None]
    assert expected[str(made[1].id)] != expected[None]

    def refused(*args, **kwargs):
        raise AssertionError("the diagram built the snapshot")

    monkeypatch.setattr(versions, "resolve", refused)
    browser = signed_in(alice)
    for focus, text in expected.items():
        assert diagram_downloaded(browser, shop.id, focus) == text


def test_a_diagram_holding_a_part_left_to_python_is_drawn_from_the_snapshot(alice, shop, signed_in):
    table = tables.create_table(alice, shop.id, "Priced")
    price = fields.create_field(alice, table.id, {"name": "Price"})
    database.execute_sql(
        "UPDATE data_field SET field_config = %s::jsonb WHERE id = %s",
        ('{"step": 0.5}', str(price.id)),
    )
    snapshot, _ = versions.resolve(shop.id, "working")
    assert diagram_downloaded(signed_in(alice), shop.id) == exports.diagram.mermaid(snapshot)


def test_a_diagram_after_a_one_table_change_reads_and_draws_one_entity(
    alice, shop, signed_in, pages
):
    browser = signed_in(alice)
    diagram_downloaded(browser, shop.id)  # (a session's first request does more)
    made, queries = [], []
    for count in (6, 30):
        made += [tables.create_table(alice, shop.id, f"T{i}") for i in range(len(made), count)]
        relationships.create_relationship(
            alice,
            shop.id,
            {"source_table_id": str(made[count - 2].id), "target_table_id": str(made[1].id),
             "relationship_type": "one_to_many"},
        )  # fmt: skip
        with counting_queries() as counted:
            diagram_downloaded(browser, shop.id)
        queries.append(counted.count)
        fields.create_field(alice, made[1].id, {"name": f"Added {count}"})
        read, pieces = export_stream.work["read"], export_formats.work["pieces"]
        with counting_queries() as counted:
            text = diagram_downloaded(browser, shop.id)
        queries.append(counted.count)
        assert export_stream.work["read"] - read == 1
        assert export_formats.work["pieces"] - pieces == 1
        assert f" added_{count}" in text and " FK" in text
    assert queries[:2] == queries[2:]
