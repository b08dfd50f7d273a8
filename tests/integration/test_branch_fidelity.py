"""A branch holds exactly its main's design (#28), on every real schema in tests/data: forked
and left alone, it compares equal to main on both sides, exports the same SQL byte for
byte, and a merge of one added table changes main by that table alone."""

import pytest

from designer import branches
from designer.design import tables
from designer.history import snapshot as snapshots
from designer.history import versions
from designer.interchange import exports
from designer.interchange import imports
from designer.models import DataTable
from tests import fidelity


def sql_of(user, project_id):
    return "".join(exports.Source(user, project_id, "sql").text_parts())


@pytest.mark.parametrize("name", fidelity.schema_files())
def test_a_fork_of_a_real_schema_is_that_schema_and_merges_back_only_what_changed(alice, name):
    text = (fidelity.DATA / name).read_text()
    project, _, _ = imports.import_new_project(alice, name.removesuffix(".sql"), "sql", text)
    before = snapshots.build(project.id)
    branch = branches.fork(alice, project.id, "as is")
    found, compared = branches.comparison(alice, branch.id)
    assert (compared.ours, compared.theirs, compared.conflicts) == ([], [], [])
    # Read back in main's ids, the branch is main's snapshot exactly.
    assert snapshots.snapshot_hash(found.theirs) == snapshots.snapshot_hash(before)
    assert sql_of(alice, branch.id) == sql_of(alice, project.id)
    tables.create_table(alice, branch.id, "Branch Only")
    version = branches.merge(alice, branch.id)
    after = versions.snapshot_of(version)
    added = set(after["tables"]) - set(before["tables"])
    assert [after["tables"][t]["table_name"] for t in added] == ["branch_only"]
    assert {k: v for k, v in after["tables"].items() if k not in added} == before["tables"]
    assert after["relationships"] == before["relationships"]
    assert after.get("enums") == before.get("enums")


@pytest.mark.parametrize("name", fidelity.schema_files())
def test_a_real_schema_with_every_table_renamed_merges_and_restores_exactly(alice, name):
    """A merge writes main through the restore's steps, which rewrite only the rows that
    differ and park only the renamed ones: every table of a real schema renamed on a branch
    (names swapped along a cycle, so each takes one another had) merges into main as the
    branch has it, and restoring main's first version gives the schema back exactly."""
    text = (fidelity.DATA / name).read_text()
    project, _, _ = imports.import_new_project(alice, name.removesuffix(".sql"), "sql", text)
    first = versions.latest(project.id)  # the import saved it
    branch = branches.fork(alice, project.id, "every name")
    made = list(DataTable.select().where(DataTable.project == branch.id).order_by(DataTable.id))
    names = [(t.name, t.table_name) for t in made]
    for table in made:  # parked first: the cycle's names are all taken
        tables.update_table(alice, table.id, table.revision, name=f"Parked {table.id}",
                            table_name=f"p_{table.id.hex}")  # fmt: skip
    for table, (shown, table_name) in zip(made, names[1:] + names[:1], strict=True):
        table = DataTable.get_by_id(table.id)
        tables.update_table(alice, table.id, table.revision, name=shown, table_name=table_name)
    found, _ = branches.comparison(alice, branch.id)
    branches.merge(alice, branch.id)
    assert snapshots.snapshot_hash(snapshots.build(project.id)) == snapshots.snapshot_hash(
        found.theirs
    )
    versions.restore(alice, project.id, first.version_number, confirm=True)
    assert snapshots.snapshot_hash(snapshots.build(project.id)) == first.schema_hash
