"""Exact round trips at every size, and files as they are published (psql meta-commands).

Each export format of the 375-table design (tests/big_designs.py) is read back and
compared with the design it came from: SQL export → import → export is the same file, a
JSON export imports back to the same snapshot hash, a DBML export is read by both
@dbml/core and pydbml and imports back to the same design."""

import json
import subprocess

import pytest

from designer.history import snapshot as snapshots
from designer.interchange import exports
from designer.interchange import imports
from designer.models import Project
from tests.big_designs import music_sql
from tests.integration.test_import_export import ROOT
from tests.integration.test_import_export import with_schema
from tests.integration.test_round_trips import design_in_names

# A file as published for psql: meta-commands one per line, and lines inside quoted text
# and comments that begin with a backslash too (those are not meta-commands).
PSQL_FILE = r"""-- For psql: psql -f music.sql
\set ON_ERROR_STOP on
\connect music
CREATE TABLE artist (
    id serial PRIMARY KEY,
    name text NOT NULL DEFAULT 'one
\not a meta-command'
);
/* a comment
\nor this */
\i more.sql
  \echo 'artists done'
CREATE TABLE album (id serial PRIMARY KEY, artist_id integer REFERENCES artist (id));
\unset ON_ERROR_STOP
"""


def test_psql_meta_commands_import_each_a_finding_with_its_line(alice, api):
    client = api(alice)
    preview = client.post("/projects/import?format=sql", json={"source": PSQL_FILE})
    assert preview.status_code == 200, preview.json
    assert preview.json["creates"]["tables"] == 2
    found = [
        (f["line"], f["kind"], f["subject"])
        for f in preview.json["findings"]
        if "psql's" in f["message"]
    ]
    assert sorted(found) == [
        (2, "ignored", r"\set ON_ERROR_STOP on"),
        (3, "ignored", r"\connect music"),
        (11, "unrepresentable", r"\i more.sql"),
        (12, "ignored", r"\echo 'artists done'"),
        (14, "ignored", r"\unset ON_ERROR_STOP"),
    ]
    done = client.post(
        "/projects/import?format=sql", json={"source": PSQL_FILE, "name": "Music", "confirm": True}
    )
    assert done.status_code == 201, done.json
    exported = client.get(f"/projects/{done.json['project_id']}/export?format=sql").text
    assert "DEFAULT 'one\n\\not a meta-command'" in exported
    assert Project.select().count() == 1


@pytest.fixture
def music(alice):
    """The 375-table design, imported from its DDL file."""
    project, _, _ = imports.import_new_project(alice, "Music", "sql", music_sql())
    return project


def dbml_core(text):
    """What dbdiagram's own parser (@dbml/core) reads of a DBML file."""
    checked = subprocess.run(
        ["node", str(ROOT / "tests" / "dbml_check.js")],
        input=text, capture_output=True, text=True, cwd=ROOT,
    )  # fmt: skip
    assert checked.returncode == 0, checked.stdout[:2000] + checked.stderr[:2000]
    return json.loads(checked.stdout)


def test_the_big_design_holds_what_its_round_trips_must_keep(alice, music):
    design = snapshots.build(music.id)
    assert len(design["tables"]) == 375
    fields = [f for t in design["tables"].values() for f in t["fields"].values()]
    assert sum(len(t["fields"]) for t in design["tables"].values()) > 2500
    assert any(str(f["default_value"]).startswith("-") for f in fields)  # negative numbers
    assert len(design["relationships"]) > 300
    # Table structure (multi-column uniques, table CHECKs, indexes), where the model holds it.
    structure = [t.get("structure") or {} for t in design["tables"].values()]
    held = {kind for entry in structure for kind, items in entry.items() if items}
    assert {"uniques", "checks", "indexes"} <= held, held


def test_the_big_sql_export_imports_and_exports_to_the_same_file(alice, music):
    first = exports.export_design(alice, music.id, "sql").text
    project, _, version = imports.import_new_project(alice, "Again", "sql", first)
    again = exports.export_design(alice, project.id, "sql").text
    assert with_schema(again, project.target_schema) == with_schema(first, music.target_schema)
    assert design_in_names(snapshots.build(project.id)) == design_in_names(
        snapshots.build(music.id)
    )


def test_the_big_dbml_export_reads_back_in_both_parsers_to_the_same_design(alice, music):
    source = snapshots.build(music.id)
    text = exports.export_design(alice, music.id, "dbml").text
    read = dbml_core(text)
    assert len(read["tables"]) == 375 and read["refs"] == len(source["relationships"])
    project, _, _ = imports.import_new_project(alice, "From DBML", "dbml", text)  # pydbml
    assert design_in_names(snapshots.build(project.id)) == design_in_names(source)


def test_the_big_json_export_imports_back_to_the_same_snapshot_hash(alice, music):
    text = exports.export_design(alice, music.id, "json").text
    original = snapshots.snapshot_hash(snapshots.build(music.id))
    # Another server holds none of these ids: remove them here to stand for one.
    Project.delete().where(Project.id == music.id).execute()
    project, plan, version = imports.import_new_project(alice, "Copy", "json", text)
    assert snapshots.snapshot_hash(snapshots.build(project.id)) == original
    assert version.schema_hash == original
    assert not plan.findings


# A key that is itself a foreign key, settled only by the file's last statement: the
# relationship to it is read first.
LATE_KEY = """
CREATE TABLE a (id bigserial PRIMARY KEY, name text);
CREATE TABLE b (a_id integer PRIMARY KEY, note text);
CREATE TABLE c (id serial PRIMARY KEY, b_ref integer REFERENCES b (a_id));
ALTER TABLE b ADD FOREIGN KEY (a_id) REFERENCES a (id);
"""


def test_a_foreign_key_keeps_its_own_type_whatever_the_order_of_the_file(alice):
    """No widening: b.a_id stays integer though it refers to a bigint (PostgreSQL compares
    them), so the order foreign keys are read in changes nothing."""
    project, _, _ = imports.import_new_project(alice, "Late", "sql", LATE_KEY)
    design = snapshots.build(project.id)
    types = {}
    for rel in design["relationships"].values():
        key = design["tables"][rel["source_table_id"]]["fields"][rel["source_field_id"]]
        foreign = design["tables"][rel["target_table_id"]]["fields"][rel["target_field_id"]]
        types[foreign["field_name"]] = (
            foreign["field_config"].get("number_type"),
            key["field_config"].get("number_type"),
        )
    assert types == {"a_id": ("integer", "bigint"), "b_ref": ("integer", "integer")}
    text = exports.export_design(alice, project.id, "json").text
    Project.delete().where(Project.id == project.id).execute()
    again, _, _ = imports.import_new_project(alice, "Copy", "json", text)
    assert snapshots.snapshot_hash(snapshots.build(again.id)) == snapshots.snapshot_hash(design)
