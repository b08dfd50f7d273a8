"""Exports never fail on a stored design, and never paste its text.

Old versions stay exportable, and one may hold what the rules now refuse. Whatever a
design holds (tests.hostile_designs), its SQL export is statements of the kinds a plan
makes in its own schema, its DBML reads back with pydbml, and each line of its Mermaid is
one of the shapes the diagram writes; what the rules refuse is left out with a comment.
"""

import re

from hypothesis import given
from pydbml import PyDBML

from designer.interchange import export_formats
from tests.hostile_designs import SCHEMA
from tests.hostile_designs import base_design
from tests.hostile_designs import mutated
from tests.sql_statements import script_statements

NAME = r"[a-z_][a-z0-9_]*"
LABEL = r'"[^"%\n]*"'
MERMAID_LINES = [
    re.compile(r"erDiagram"),
    re.compile(r"%% [A-Za-z0-9_.?:,'() -]*"),
    re.compile(rf"    {NAME} \{{"),
    re.compile(rf"        [A-Za-z0-9_(),\[\]-]+ {NAME}( (PK|FK|UK)(, (PK|FK|UK))*)?( {LABEL})?"),
    re.compile(r"    \}"),
    re.compile(rf"    {NAME} (\|\||\|o)--o\{{ {NAME} : {LABEL}"),
]


def export(design, fmt):
    return export_formats.export_file(design, fmt, SCHEMA, SCHEMA).text


@given(mutated())
def test_any_stored_design_exports_as_sql_of_its_own_schema_only(design):
    text = export(design, "sql")
    trees = script_statements(text, SCHEMA)  # asserts each statement's kind and names
    made = {t["relation"]["relname"] for t in trees if t["@"] == "CreateStmt"}
    assert all(t["relation"]["schemaname"] == SCHEMA for t in trees if t["@"] == "CreateStmt")
    # A table of the design is created, or the script says in a comment what it left out.
    for table in design["tables"].values():
        name = table.get("table_name")
        assert (isinstance(name, str) and name in made) or comment_lines(text), name


def comment_lines(text):
    return "\n".join(line for line in text.splitlines() if line.startswith("--"))


@given(mutated())
def test_any_stored_design_exports_as_dbml_that_reads_back(design):
    parsed = PyDBML(export(design, "dbml"))
    names = {t["table_name"] for t in design["tables"].values() if isinstance(t["table_name"], str)}
    assert {table.name for table in parsed.tables} <= names


@given(mutated())
def test_any_stored_design_exports_as_mermaid_of_the_shapes_the_diagram_writes(design):
    for line in export(design, "mermaid").splitlines():
        assert any(shape.fullmatch(line) for shape in MERMAID_LINES), line


def test_a_refused_setting_is_left_out_with_a_comment_naming_it():
    design = base_design()
    table = next(iter(design["tables"].values()))
    system = next(f for f in table["fields"].values() if f["field_config"].get("system"))
    system["field_config"]["number_type"] = "bigint); DROP TABLE x; --"
    note = next(f for f in table["fields"].values() if f["field_name"] == "note")
    note["field_config"]["min_length"] = True
    for fmt, mark in (("sql", "--"), ("dbml", "//"), ("mermaid", "%%")):
        text = export(design, fmt)
        assert "DROP TABLE x" not in text
        assert f"{mark}   a.id written as the designer's bigint identity" in text
        assert f"{mark}   a.note: setting min_length left out" in text


def test_blank_descriptions_are_left_out_of_dbml_so_it_reads_back():
    """Found by the property above: a note of only spaces crashed pydbml reading it."""
    design = base_design()
    table = next(iter(design["tables"].values()))
    table["description"] = " "
    field = next(f for f in table["fields"].values() if f["field_name"] != "id")
    field["field_config"]["description"] = "\n  "
    text = export(design, "dbml")
    assert "Note:" not in text
    PyDBML(text)
