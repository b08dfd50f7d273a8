"""Every export format against the design it came from, not against itself.

An export that lost something (a CHECK, a default, a key) and is read back
gives the same loss again, so comparing an export with its own re-export
proves nothing. Here the SQL, JSON and DBML exports are imported into a new
project and the design that comes back is compared, name by name, with the
source design; the Mermaid diagram, which no importer reads, is compared
with what the source design says a diagram shows.
"""

import re

import pytest

from designer.history import snapshot as snapshots
from designer.interchange import exports
from designer.interchange import imports
from designer.models import Project
from tests.integration import test_import_export

# A design using every type, setting and relationship rule, plus a deleted table.
rich = test_import_export.rich


def design_in_names(snapshot):
    """What a snapshot designs, with names for ids: each live table's description and its
    fields in order (type, required, default, every setting: CHECK rules, keys, indexes,
    notes), and each relationship's ends and rules. Statuses and ids are left out: an import
    makes new drafts."""
    live = [t for t in snapshot["tables"].values() if t["status"] != "deleted"]
    name_of = {
        field_id: (table["table_name"], field["field_name"])
        for table in live
        for field_id, field in table["fields"].items()
    }
    # A foreign key's column is always indexed (the DDL adds the index), and the SQL
    # export's CREATE INDEX for it reads back as "indexed": the same database either way.
    keyed = {r["target_field_id"] for r in snapshot["relationships"].values()}

    def config(field_id, field):
        if field_id in keyed:
            return {**field["field_config"], "indexed": "implied by the foreign key"}
        return field["field_config"]

    tables = {
        table["table_name"]: {
            "name": table["name"],
            "description": table["description"],
            "fields": [
                (f["field_name"], f["name"], f["data_type"], f["is_required"])
                + (f["default_value"], config(field_id, f))
                for field_id, f in sorted(table["fields"].items(), key=lambda i: i[1]["sort_order"])
            ],
        }
        for table in live
    }
    relationships = sorted(
        (
            r["relationship_name"],
            r["relationship_type"],
            name_of[r["source_field_id"]],
            name_of[r["target_field_id"]],
            sorted(r["cascade_config"].items()),
        )
        for r in snapshot["relationships"].values()
    )
    return {"tables": tables, "relationships": relationships}


def test_the_source_design_has_what_the_round_trips_must_keep(rich):
    """The design every round trip starts from holds each thing an export could lose."""
    design = design_in_names(snapshots.build(rich.id))
    configs = [f[5] for t in design["tables"].values() for f in t["fields"]]
    for setting in ("pattern", "min_length", "unique", "indexed", "primary_key"):
        assert any(config.get(setting) for config in configs), setting
    # The file's bounds (score >= 0 AND score <= 100, total >= 0) are table CHECKs, as written
    # (min and max rules are drawn by the round-trip properties, tests.hostile_designs).
    built = snapshots.build(rich.id)
    assert any(t.get("structure", {}).get("checks") for t in built["tables"].values())
    assert any(f[4] for t in design["tables"].values() for f in t["fields"])  # defaults
    assert any(config.get("description") for config in configs)  # column notes
    assert {rule for *_, rules in design["relationships"] for _, rule in rules} > {"no_action"}
    assert "gone" not in design["tables"]  # a deleted table is no part of an export


@pytest.mark.parametrize("fmt", ["sql", "dbml"])
def test_an_export_imports_back_to_the_design_it_came_from(alice, rich, fmt):
    source = design_in_names(snapshots.build(rich.id))
    text = exports.export_design(alice, rich.id, fmt).text
    project, _, _ = imports.import_new_project(alice, "Again", fmt, text)
    assert design_in_names(snapshots.build(project.id)) == source


def test_a_json_export_imports_back_to_the_design_it_came_from(alice, rich):
    source = design_in_names(snapshots.build(rich.id))
    text = exports.export_design(alice, rich.id, "json").text
    # Another server holds none of these ids: remove them here to stand for one.
    Project.delete().where(Project.id == rich.id).execute()
    project, _, _ = imports.import_new_project(alice, "Copy", "json", text)
    assert design_in_names(snapshots.build(project.id)) == source


# The column types a diagram shows, written here from the design's own words.
NUMBER_TYPES = {
    "integer": "integer", "bigint": "bigint", "smallint": "smallint", "real": "real",
    "double": "double_precision", "numeric": "numeric",
}  # fmt: skip


def column_type(field):
    config = field["field_config"]
    return element_type(field) + "[]" * config.get("array_dimensions", 0)


def element_type(field):
    config = field["field_config"]
    if field["data_type"] == "text":
        kind, length = config.get("text_type"), config.get("max_length")
        if kind in (None, "varchar", "char") and length:
            return f"{kind or 'varchar'}({length})"
        if kind == "named":
            return re.sub(r"[^A-Za-z0-9_(),]", "_", config["named_type"])
        return kind or "text"
    if field["data_type"] == "number":
        if config.get("number_type") == "decimal":
            return f"numeric({config['precision']},{config['scale']})"
        return NUMBER_TYPES[config["number_type"]]
    if field["data_type"] == "date":
        digits = config.get("time_precision")
        return config["date_type"] + (f"({digits})" if digits is not None else "")
    return field["data_type"]


def diagram_of(snapshot):
    """What a Mermaid ER diagram of the design shows: each live table's columns (type, name,
    keys, display name) and each relationship (ends, cardinality, name)."""
    live = {tid: t for tid, t in snapshot["tables"].items() if t["status"] != "deleted"}
    rels = snapshot["relationships"].values()
    foreign = {r["target_field_id"] for r in rels}
    entities = {}
    for table in live.values():
        columns = []
        for field_id, f in sorted(table["fields"].items(), key=lambda i: i[1]["sort_order"]):
            config = f["field_config"]
            keys = [k for k, on in (("PK", config.get("primary_key")),
                                    ("FK", field_id in foreign),
                                    ("UK", config.get("unique"))) if on]  # fmt: skip
            columns.append((column_type(f), f["field_name"], ",".join(keys), f["name"]))
        entities[table["table_name"]] = columns
    lines = set()
    for r in rels:
        target = live[r["target_table_id"]]
        required = target["fields"][r["target_field_id"]]["is_required"]
        one = "||" if required else "|o"
        many = "o{" if r["relationship_type"] == "one_to_many" else "o|"
        source = live[r["source_table_id"]]["table_name"]
        lines.add((source, f"{one}--{many}", target["table_name"], r["relationship_name"]))
    return entities, lines


ENTITY = re.compile(r"^    (\w+) \{$")
COLUMN = re.compile(r'^        (\S+) (\w+)(?: ((?:PK|FK|UK)(?:,(?:PK|FK|UK))*))? "([^"]*)"$')
LINE = re.compile(r'^    (\w+) (\S+) (\w+) : "([^"]*)"$')


def read_diagram(text):
    """Parse an erDiagram as the export writes it; any other line fails the test."""
    lines = text.splitlines()
    assert lines[0] == "erDiagram"
    entities, links, current = {}, set(), None
    for line in lines[1:]:
        if match := ENTITY.match(line):
            current = entities.setdefault(match[1], [])
        elif (match := COLUMN.match(line)) and current is not None:
            current.append((match[1], match[2], match[3] or "", match[4]))
        elif line == "    }":
            current = None
        elif match := LINE.match(line):
            links.add(match.groups())
        else:
            pytest.fail(f"unexpected diagram line: {line!r}")
    return entities, links


def test_the_mermaid_diagram_shows_the_design_it_came_from(alice, rich):
    text = exports.export_design(alice, rich.id, "mermaid").text
    assert read_diagram(text) == diagram_of(snapshots.build(rich.id))
