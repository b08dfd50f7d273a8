"""Round trips as properties over designs: whatever a valid design holds (tests.hostile_designs:
every type and setting, hostile free text, negative numbers), each export reads back to it.

SQL export → import → export is the same file; a JSON export imports to the same snapshot
hash; a DBML export reads back (pydbml) to the same design as the SQL export does. As the
design model grows (exact types, keys, enums, table structure), designs() grows with it
and so do these. Pure: the importers' planners, no database.
"""

from hypothesis import assume
from hypothesis import given

from designer.history.snapshot import snapshot_hash
from designer.interchange import export_formats
from designer.interchange.export_repair import sound_design
from designer.interchange.import_dbml import read_dbml
from designer.interchange.import_json import plan_json
from designer.interchange.import_plan import plan_import
from designer.interchange.import_sql import read_sql
from tests.hostile_designs import SCHEMA
from tests.hostile_designs import designs
from tests.integration.test_round_trips import design_in_names


def export(design, fmt):
    return export_formats.export_file(design, fmt, SCHEMA, SCHEMA).text


def designed(snapshot):
    """design_in_names without display names: SQL and DBML carry identifiers, and an import
    names each table and field after its identifier."""
    found = design_in_names(snapshot)
    for table in found["tables"].values():
        del table["name"]
        table["fields"] = [(f[0], *f[2:]) for f in table["fields"]]
    return found


def stored(design):
    """The design as the rules of a stored design take it (what a project can hold: no two
    tables of one display name either, which data_table's unique index refuses)."""
    design = sound_design(design)[0]
    names = [table["name"] for table in design["tables"].values()]
    assume(len(set(names)) == len(names))
    return design


@given(designs())
def test_sql_export_import_export_is_the_same_file(design):
    design = stored(design)
    first = export(design, "sql")
    plan = plan_import(read_sql(first))
    assert export(plan.snapshot, "sql") == first
    assert designed(plan.snapshot) == designed(design)


@given(designs())
def test_a_json_export_imports_to_the_same_snapshot_hash(design):
    design = stored(design)
    plan = plan_json(export(design, "json"))
    assert snapshot_hash(plan.snapshot) == snapshot_hash(design)
    # Active tables say they are not deployed here yet; nothing else is found.
    assert {f.message for f in plan.findings} <= {
        "comes in Active, not yet in this project's database"
    }


@given(designs())
def test_a_dbml_export_reads_back_to_the_design_it_came_from(design):
    design = stored(design)
    plan = plan_import(read_dbml(export(design, "dbml")))
    assert designed(plan.snapshot) == designed(design)
