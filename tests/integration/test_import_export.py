"""Import and export: formats, previews, real public schemas, round trips, versions."""

import gc
import json
import pathlib
import subprocess

import pytest

from designer import kept
from designer.database import schema_objects
from designer.design import fields
from designer.design import relationships
from designer.design import tables
from designer.design.field_types import pg_type
from designer.history import snapshot as snapshots
from designer.history import versions
from designer.interchange import export_formats
from designer.interchange import export_repair
from designer.interchange import exports
from designer.interchange import imports
from designer.models import ActivityEntry
from designer.models import DataTable
from designer.models import Project

DATA = pathlib.Path(__file__).parent.parent / "data"
ROOT = pathlib.Path(__file__).parent.parent.parent


def read(name):
    return (DATA / name).read_text()


def with_schema(sql, schema):
    return sql.replace(f'"{schema}"', '"S"')


@pytest.fixture
def rich(alice, shop):
    """A project using every type, setting and relationship rule, plus a deleted table."""
    imports.import_into(alice, shop.id, "sql", read("every_setting.sql"))
    gone = tables.create_table(alice, shop.id, "Gone")
    fields.create_field(alice, gone.id, {"name": "Note"})
    # Straight to Deleted: its way through the lifecycle is not what is tested here.
    DataTable.update(status="deleted").where(DataTable.id == gone.id).execute()
    return shop


def test_sql_export_import_export_gives_the_same_sql(alice, rich):
    first = exports.export_design(alice, rich.id, "sql")
    project, _, version = imports.import_new_project(alice, "Again", "sql", first.text)
    assert version.schema_hash == snapshots.snapshot_hash(snapshots.build(project.id))
    assert versions.changes_since(project.id, version) == []
    again = exports.export_design(alice, project.id, "sql")
    assert with_schema(again.text, project.target_schema) == with_schema(
        first.text, rich.target_schema
    )
    assert "CONSTRAINT" in first.text and "ON DELETE SET NULL ON UPDATE RESTRICT" in first.text


def test_json_export_imports_back_to_the_same_snapshot_hash(alice, rich):
    exported = exports.export_design(alice, rich.id, "json")
    original = snapshots.snapshot_hash(snapshots.build(rich.id))
    # Another server holds none of these ids: remove them here to stand for one.
    Project.delete().where(Project.id == rich.id).execute()
    project, plan, version = imports.import_new_project(alice, "Copy", "json", exported.text)
    assert snapshots.snapshot_hash(snapshots.build(project.id)) == original
    assert version.schema_hash == original
    assert not plan.findings and not plan.renames


def test_json_import_beside_its_source_gets_new_ids_and_says_so(alice, rich):
    exported = exports.export_design(alice, rich.id, "json")
    project, plan, _ = imports.import_new_project(alice, "Copy", "json", exported.text)
    assert [f.subject for f in plan.findings] == ["ids"]
    copy = snapshots.build(project.id)
    assert not set(copy["tables"]) & set(snapshots.build(rich.id)["tables"])
    sql = exports.export_design(alice, project.id, "sql").text
    first = exports.export_design(alice, rich.id, "sql").text
    assert with_schema(sql, project.target_schema) == with_schema(first, rich.target_schema)


def test_a_json_file_that_breaks_the_rules_is_refused_naming_the_place(alice, shop):
    exported = json.loads(exports.export_design(alice, shop.id, "json").text)
    table = {"id": "7c4a1c0e-0000-4000-8000-000000000001", "name": "T", "table_name": "Bad Name",
             "description": "", "status": "draft", "fields": {}}  # fmt: skip
    exported["tables"][table["id"]] = table
    with pytest.raises(Exception) as caught:
        imports.preview(alice, shop.id, "json", json.dumps(exported))
    assert "table 'Bad Name'" in caught.value.message


def test_chinook_maps_with_a_report_and_keeps_its_foreign_keys(alice, shop):
    plan = imports.preview(alice, shop.id, "sql", read("chinook.sql"))
    # Every table keeps its own key, composite ones included: no designer's id is added.
    assert plan.summary() == {"tables": 11, "fields": 64, "relationships": 11}
    assert not [f for f in plan.findings if "key" in f.message]
    keys = {
        t["table_name"]: [t["fields"][f]["field_name"] for f in t["structure"]["primary_key"]]
        for t in plan.snapshot["tables"].values()
    }
    assert keys["playlist_track"] == ["playlist_id", "track_id"]
    assert keys["album"] == ["album_id"]
    assert all(len(key) == 1 for name, key in keys.items() if name != "playlist_track")
    assert DataTable.select().count() == 0, "a preview writes nothing"


def test_pagila_lists_what_cannot_be_represented_with_lines(alice, shop):
    plan = imports.preview(alice, shop.id, "sql", read("pagila_excerpt.sql"))
    found = {(f.subject, f.line): f.message for f in plan.of_kind("unrepresentable")}
    assert not [f for f in plan.findings if f.subject == "mpaa_rating"], "an enum is kept"
    assert "domain" in found[("year", 18)]
    assert "view" in found[("actor_info", 80)]
    assert found[("actor", 122)] == "a trigger (last_updated) cannot be represented"
    # The gist index on fulltext is kept with its column's type (tsvector, a named type).
    assert ("film", 110) not in found and ("film.fulltext", 65) not in found
    subjects = {f.subject for f in plan.findings}
    assert not {"film.fulltext", "language.name", "film.length"} & subjects, "kept exactly"
    film = next(t for t in plan.snapshot["tables"].values() if t["table_name"] == "film")
    types = {
        f["field_name"]: pg_type(f["data_type"], f["field_config"]) for f in film["fields"].values()
    }
    assert (types["fulltext"], types["length"], types["rental_rate"]) == (
        "tsvector", "smallint", "numeric(4,2)",
    )  # fmt: skip
    # The composite key is kept as the table's key.
    assert not any("composite" in message for message in found.values())
    [film_actor] = [t for t in plan.snapshot["tables"].values() if t["table_name"] == "film_actor"]
    key = [film_actor["fields"][f]["field_name"] for f in film_actor["structure"]["primary_key"]]
    assert key == ["actor_id", "film_id"]
    names = sorted(r["relationship_name"] for r in plan.snapshot["relationships"].values())
    assert "film_language_id_fkey" in names and len(names) == 6


def test_importing_into_a_project_renames_clashes_and_saves_a_version(alice, shop):
    tables.create_table(alice, shop.id, "Album")
    versions.save_version(alice, shop.id, "mine")
    tables.create_table(alice, shop.id, "Unsaved")
    plan, version = imports.import_into(alice, shop.id, "sql", read("chinook.sql"))
    assert [(r.before, r.after) for r in plan.renames] == [("album", "album_2")]
    numbers = [v.version_number for v in versions.page_of(shop.id)[0]]
    assert numbers == [3, 2, 1] and version.version_number == 3
    assert versions.changes_since(shop.id, versions.latest(shop.id)) == []
    album = DataTable.get(DataTable.project == shop.id, DataTable.table_name == "album_2")
    first = album.schema_definition["columns"][0]
    assert album.status == "draft" and first["field_name"] == "album_id"
    assert album.schema_definition["structure"] == {"primary_key": [first["id"]]}
    entry = ActivityEntry.get(ActivityEntry.action == "project.imported")
    assert "imported 11 tables" in entry.summary


def test_imported_foreign_keys_are_relationships_the_designer_can_use(alice, shop):
    imports.import_into(alice, shop.id, "sql", read("chinook.sql"))
    rels = relationships.project_relationships(shop.id)
    assert len(rels) == 11
    track = DataTable.get(DataTable.project == shop.id, DataTable.table_name == "track")
    fields.create_field(alice, track.id, {"name": "Rating", "data_type": "number"})
    result = tables.transition(alice, track.id, "active")
    assert result.status == "active"


def test_a_cycle_in_the_file_is_reported_not_imported(alice, shop):
    sql = (
        "CREATE TABLE a (id bigint PRIMARY KEY, b_id bigint);\n"
        "CREATE TABLE b (id bigint PRIMARY KEY, a_id bigint REFERENCES a);\n"
        "ALTER TABLE a ADD FOREIGN KEY (b_id) REFERENCES b;\n"
    )
    plan = imports.preview(alice, shop.id, "sql", sql)
    assert len(plan.snapshot["relationships"]) == 1
    [cycle] = [f for f in plan.findings if "cycle" in f.message]
    assert cycle.line == 3


def test_bad_sql_is_a_422_naming_the_line(alice, shop, api):
    response = api(alice).post(
        f"/projects/{shop.id}/import?format=sql",
        json={"source": "CREATE TABLE a (\n id int,\n oops oops oops);"},
    )
    assert response.status_code == 422
    assert "line 3" in response.json["error"]["message"]


def test_api_exports_every_format_with_a_file_name(alice, rich, api):
    client = api(alice)
    for fmt, extension in (("sql", "sql"), ("json", "json"), ("dbml", "dbml"), ("mermaid", "mmd")):
        response = client.get(f"/projects/{rich.id}/export?format={fmt}")
        assert response.status_code == 200
        disposition = response.headers["Content-Disposition"]
        assert disposition == f'attachment; filename="{rich.target_schema}.{extension}"'
    assert client.get(f"/projects/{rich.id}/export?format=xml").status_code == 422
    assert client.get(f"/projects/{rich.id}/export?format=sql&version=1").status_code == 200
    assert client.get(f"/projects/{rich.id}/export?format=sql&version=99").status_code == 404


def test_a_version_exports_as_it_was(alice, rich, api):
    before = api(alice).get(f"/projects/{rich.id}/export?format=dbml&version=1").text
    tables.create_table(alice, rich.id, "Later")
    assert "later" in api(alice).get(f"/projects/{rich.id}/export?format=dbml").text
    assert api(alice).get(f"/projects/{rich.id}/export?format=dbml&version=1").text == before
    assert "later" not in before


def test_api_previews_then_imports_as_a_new_project(alice, api):
    client = api(alice)
    preview = client.post("/projects/import?format=sql", json={"source": read("chinook.sql")})
    assert preview.status_code == 200 and preview.json["creates"]["tables"] == 11
    assert Project.select().count() == 0
    done = client.post(
        "/projects/import?format=sql",
        json={"source": read("chinook.sql"), "name": "Music", "confirm": True},
    )
    assert done.status_code == 201, done.json
    assert done.json["version_number"] == 1
    assert client.get(f"/projects/{done.json['project_id']}").json["name"] == "Music"


def test_dbml_export_parses_with_pydbml_and_dbml_core_and_imports_back(alice, rich):
    dbml = exports.export_design(alice, rich.id, "dbml").text
    checked = subprocess.run(
        ["node", str(ROOT / "tests" / "dbml_check.js")],
        input=dbml,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    parsed = json.loads(checked.stdout)
    assert parsed["tables"] == ["customers", "orders"]
    assert parsed["refs"] == 3
    assert {"delete": "set null", "update": "restrict"} in parsed["actions"]
    plan = imports.preview(alice, None, "dbml", dbml)
    original = snapshots.build(rich.id)
    kept = {t["table_name"] for t in original["tables"].values() if t["status"] != "deleted"}
    assert {t["table_name"] for t in plan.snapshot["tables"].values()} == kept
    project, _, _ = imports.import_new_project(alice, "From DBML", "dbml", dbml)
    again = exports.export_design(alice, project.id, "sql").text
    first = exports.export_design(alice, rich.id, "sql").text
    assert with_schema(again, project.target_schema) == with_schema(first, rich.target_schema)


def test_mermaid_export_is_the_diagram_source(alice, rich, api):
    text = api(alice).get(f"/projects/{rich.id}/export?format=mermaid").text
    assert text.startswith("erDiagram\n")
    assert "customers ||--o{ orders" in text


def test_an_active_table_from_json_keeps_its_status_and_the_preview_says_so(alice, rich):
    orders = DataTable.get(DataTable.project == rich.id, DataTable.table_name == "orders")
    DataTable.update(status="active").where(DataTable.id == orders.id).execute()
    plan = imports.preview(alice, None, "json", exports.export_design(alice, rich.id, "json").text)
    found = [(f.subject, f.message) for f in plan.findings if f.subject != "ids"]
    assert found == [("orders", "comes in Active, not yet in this project's database")]


def test_an_export_is_kept_until_the_design_changes(alice, shop):
    table = tables.create_table(alice, shop.id, "Notes")
    fields.create_field(alice, table.id, {"name": "Body"})
    first = exports.export_design(alice, shop.id, "sql")
    assert exports.export_design(alice, shop.id, "sql") is first  # kept, not written again
    fields.create_field(alice, table.id, {"name": "Title"})
    second = exports.export_design(alice, shop.id, "sql")
    assert '"title" text' in second.text and '"title"' not in first.text
    versions.save_version(alice, shop.id, "v1")
    saved = exports.export_design(alice, shop.id, "sql", 1)
    assert saved.filename.endswith("-v1.sql") and saved.text == second.text


@pytest.mark.parametrize("fmt", export_formats.FORMATS)
def test_an_export_joined_from_kept_table_pieces_equals_one_written_whole(alice, rich, fmt):
    def whole():
        snapshot, _ = versions.resolve(rich.id, "working")
        return export_formats.full_text(snapshot, fmt, rich.target_schema)

    first = exports.export_design(alice, rich.id, fmt).text
    assert first == whole()
    # One table changes (a field renamed, so its keys and indexes are renamed too); the
    # others' pieces are taken as kept.
    orders = DataTable.get(DataTable.project == rich.id, DataTable.table_name == "orders")
    field = next(f for f in orders.fields if f.sort_order > 0)
    fields.update_field(alice, field.id, field.revision, {"field_name": "renamed"}, partial=True)
    kept = len(export_formats.fragments.entries)
    after = exports.export_design(alice, rich.id, fmt).text
    assert after != first and "renamed" in after
    assert after == whole()
    # Only the changed table's piece is written again (and, for SQL, a table whose foreign
    # key names the renamed column).
    assert len(export_formats.fragments.entries) - kept <= 2


@pytest.mark.parametrize("fmt", ["sql", "dbml", "mermaid"])
def test_kept_export_pieces_hold_no_entry_of_the_design(alice, rich, fmt):
    """The pieces, sound tables and object names an export keeps are texts and hashes: once
    the snapshot caches let the design go, none of its table entries stays alive (keyed by
    an entry's identity, they held every entry, 1.3 GB of a 30,000-table design)."""
    text = "".join(exports.Source(alice, rich.id, fmt).text_parts())
    assert "orders" in text
    assert export_formats.fragments.entries and export_repair.sound_tables.entries
    if fmt == "sql":  # (the next SQL export's object names are lent)
        assert export_formats.last_names.entries
    names = {t.table_name for t in DataTable.select().where(DataTable.project == rich.id)}
    exports.exported.clear()
    # What may hold the design: the caches of snapshots and their parts, which weigh it.
    exporting = (export_formats.fragments, export_repair.sound_tables, export_formats.last_names)
    for store in list(kept.pooled):
        if store not in exporting:
            store.clear()
    snapshots.parts.clear()
    schema_objects._recent.clear()
    gc.collect()
    alive = [
        o
        for o in gc.get_objects()
        if isinstance(o, dict) and "fields" in o and o.get("table_name") in names
    ]
    assert alive == []
    # And the kept pieces still serve: a second export writes none again.
    written = export_formats.work["pieces"]
    again = "".join(exports.Source(alice, rich.id, fmt).text_parts())
    assert again == text and export_formats.work["pieces"] == written
