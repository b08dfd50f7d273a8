"""A unique index is not a UNIQUE constraint: both come back from every export as they were
(MusicBrainz's area_idx_gid and 93 more, OpenStreetMap's users_email_idx), beside a
foreign key whose column the file indexes already."""

from designer.history import snapshot as snapshots
from designer.interchange import exports
from designer.interchange import imports
from tests.integration.test_exact_round_trips import dbml_core
from tests.integration.test_import_export import with_schema
from tests.integration.test_round_trips import design_in_names

SQL = """
CREATE TABLE area (id integer PRIMARY KEY, gid uuid NOT NULL, code text, name text,
  CONSTRAINT area_code_name_key UNIQUE (code, name));
CREATE UNIQUE INDEX area_idx_gid ON area (gid);
CREATE UNIQUE INDEX area_idx_name_code ON area (name, code);
CREATE TABLE place (id integer PRIMARY KEY, area integer REFERENCES area (id));
CREATE UNIQUE INDEX place_idx_area ON place (area);
CREATE TABLE stop (id integer PRIMARY KEY, area integer REFERENCES area (id));
CREATE UNIQUE INDEX stop_area_idx ON stop (area);
"""


def kinds(project_id):
    """Each table's uniques and indexes: (table, kind, name, unique)."""
    found = set()
    for table in snapshots.build(project_id)["tables"].values():
        for kind, entries in (table.get("structure") or {}).items():
            if kind in ("uniques", "indexes"):
                for item in entries.values():
                    found.add((table["table_name"], kind, item["name"], item.get("unique")))
    return found


def test_unique_indexes_stay_indexes_through_sql_json_and_dbml(alice):
    project, _, _ = imports.import_new_project(alice, "Areas", "sql", SQL)
    expected = {
        ("area", "uniques", "area_code_name_key", None),
        ("area", "indexes", "area_idx_gid", True),
        ("area", "indexes", "area_idx_name_code", True),
        ("place", "indexes", "place_idx_area", True),
        ("stop", "indexes", "stop_area_idx", True),
    }
    assert kinds(project.id) == expected
    design = design_in_names(snapshots.build(project.id))
    for fmt in ("sql", "dbml", "json"):
        first = exports.export_design(alice, project.id, fmt).text
        if fmt == "dbml":
            assert len(dbml_core(first)["tables"]) == 3
        again, _, _ = imports.import_new_project(alice, f"Areas {fmt}", fmt, first)
        assert kinds(again.id) == expected, fmt
        assert design_in_names(snapshots.build(again.id)) == design, fmt
        second = exports.export_design(alice, again.id, fmt).text
        if fmt == "sql":
            assert with_schema(second, again.target_schema) == with_schema(
                first, project.target_schema
            )
