"""Snapshots built from per-table parts: the same canonical JSON and hash as encoding the
whole snapshot, unchanged tables shared between builds, and versions stored and read back
through the same parts."""

import json

import pytest

from designer.db import database
from designer.design import fields
from designer.design import relationships
from designer.design import tables
from designer.errors import Conflict
from designer.history import snapshot
from designer.history import versions
from designer.models import DataField
from designer.models import SchemaVersion

AWKWARD_CONFIG = {
    "zeta": [1, 2.5, None, True, {"b": "x", "a": "é"}],
    "alpha": {"nested": {"z": 1e20, "a": -0.0}},
    "Ünïcode ✓": 'tab\there "quoted" back\\slash \x01',
    "10": "digits sort as text",
}


@pytest.fixture
def awkward(alice, shop):
    """A project whose texts and settings need escaping and key sorting."""
    customers = tables.create_table(alice, shop.id, 'Clients «été» "quoted"', "clients")
    tables.update_table(alice, customers.id, customers.revision, description="tab\there\nline ✓")
    orders = tables.create_table(alice, shop.id, "Orders")
    email = fields.create_field(alice, customers.id, {"name": "Naïve \\ name"})
    DataField.update(field_config=AWKWARD_CONFIG).where(DataField.id == email.id).execute()
    relationships.create_relationship(
        alice, shop.id, {"source_table_id": str(customers.id), "target_table_id": str(orders.id)}
    )
    tables.create_table(alice, shop.id, "Empty")  # only its id column
    return shop


@pytest.fixture(autouse=True)
def no_parts_kept():
    snapshot.parts.clear()
    versions.cache.clear()
    yield
    snapshot.parts.clear()
    versions.cache.clear()


def test_canonical_json_from_parts_is_the_whole_snapshots(awkward):
    cold = snapshot.build_with_canonical(awkward.id)
    assert cold.canonical == snapshot.canonical_json(cold.snapshot)
    warm = snapshot.build_with_canonical(awkward.id)  # every part already parsed
    assert warm.canonical == cold.canonical
    assert snapshot.canonical_of(warm.snapshot) == cold.canonical
    # The hash (a Merkle root of the parts, designer.history.parts) is the whole snapshot's.
    assert snapshot.snapshot_hash(warm.snapshot) == snapshot.snapshot_hash(
        json.loads(cold.canonical)
    )


def test_canonical_json_of_a_snapshot_mixing_parts_and_new_dicts(awkward):
    built = snapshot.build(awkward.id)
    first_id = sorted(built["tables"])[0]
    mixed = {
        **built,
        "tables": {**built["tables"], first_id: {**built["tables"][first_id], "name": "Ω"}},
        "relationships": {},
    }
    assert snapshot.canonical_of(mixed) == snapshot.canonical_json(mixed)
    assert snapshot.canonical_of(mixed) != snapshot.canonical_of(built)
    odd = {**built, "extra": 1}
    assert snapshot.canonical_of(odd) == snapshot.canonical_json(odd)


def test_a_rebuild_shares_the_unchanged_tables_and_reads_the_changed_one_afresh(alice, awkward):
    before = snapshot.build(awkward.id)
    orders = tables.create_table(alice, awkward.id, "Invoices")
    after = snapshot.build(awkward.id)
    kept = before["tables"].keys()
    assert all(after["tables"][tid] is before["tables"][tid] for tid in kept)
    assert str(orders.id) in after["tables"]
    fields.create_field(alice, orders.id, {"name": "Total"})
    again = snapshot.build(awkward.id)
    assert again["tables"][str(orders.id)] is not after["tables"][str(orders.id)]
    assert len(again["tables"][str(orders.id)]["fields"]) == 2


def test_a_version_reads_back_through_its_parts_equal_and_with_its_hash(alice, awkward):
    version = versions.save_version(alice, awkward.id, "first")
    built = snapshot.build(awkward.id)
    snapshot.parts.clear()
    versions.cache.clear()
    read = versions.snapshot_of(version)
    assert read == built
    assert snapshot.snapshot_hash(read) == version.schema_hash
    # Read again with the parts already parsed: the very same table entries.
    versions.cache.clear()
    again = versions.snapshot_of(version)
    assert all(again["tables"][tid] is read["tables"][tid] for tid in read["tables"])


@pytest.mark.parametrize(
    "text",
    [
        '{"format": 1, "tables": {}, "relationships": {}, "note": "kept"}',
        '{"format": 1, "tables": [], "relationships": {}}',
        '{"format": 1, "relationships": {}}',
        # json keeps a repeated key; read whole, the last one wins as in json.loads.
        '{"format": 1, "tables": {"t": {"id": "t"}}, "relationships": {}, "tables": {}}',
    ],
)
def test_a_stored_snapshot_of_another_shape_is_read_whole(alice, awkward, text):
    version = versions.save_version(alice, awkward.id, "first")
    database.execute_sql(
        "UPDATE schema_version SET schema_snapshot = %s WHERE id = %s", (text, str(version.id))
    )
    versions.cache.clear()
    assert versions.snapshot_of(version) == json.loads(text)


def test_a_refused_save_leaves_no_row_and_numbers_stay_consecutive(alice, awkward):
    first = versions.save_version(alice, awkward.id, "first")
    with pytest.raises(Conflict, match="No changes since version 1"):
        versions.save_version(alice, awkward.id, "again")
    assert SchemaVersion.select().where(SchemaVersion.project == awkward.id).count() == 1
    tables.create_table(alice, awkward.id, "Invoices")
    second = versions.save_version(alice, awkward.id, "second")
    assert second.version_number == 2
    assert second.parent_version_id == first.id
    stored = SchemaVersion.get_by_id(second.id)
    assert (
        stored.schema_hash == second.schema_hash == snapshot.snapshot_hash(stored.schema_snapshot)
    )
    assert stored.message == "second"
    assert [c["op"] for c in stored.changes] == ["add_table", "add_field"]
    assert stored.change_summary["tables"]["added"] == 1
