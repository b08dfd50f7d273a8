"""Schema versions: snapshots and hashes, saving, concurrency, diffs, restore."""

import uuid

import pytest
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from designer import locks
from designer import projects
from designer.db import database
from designer.design import fields
from designer.design import relationships
from designer.design import table_structure
from designer.design import tables
from designer.errors import Conflict
from designer.errors import Locked
from designer.history import snapshot
from designer.history import versions
from designer.history.diff import apply_changes
from designer.models import DataField
from designer.models import DataTable
from designer.models import SchemaVersion
from tests.conftest import truncate_all
from tests.integration.conftest import writes_nothing
from tests.integration.races import race


def field_of(table, field_name):
    return DataField.get(DataField.data_table == table.id, DataField.field_name == field_name)


# The same schema, built in any order, has the same hash.

SCHEMA = [
    ("Customers", ["Email", "Name", "Born"]),
    ("Orders", ["Total", "Placed"]),
    ("Invoices", ["Number"]),
]
IDS = {name: uuid.UUID(int=i + 1) for i, name in enumerate(
    [t for t, _ in SCHEMA] + [f"{t}.{f}" for t, fs in SCHEMA for f in fs]
)}  # fmt: skip


def build_in_order(user, owner_project_id, table_order, field_orders):
    """Insert the SCHEMA's rows (fixed ids) in the given orders."""
    for table_name in table_order:
        DataTable.create(id=IDS[table_name], project=owner_project_id, name=table_name,
                         table_name=table_name.lower(), created_by=user)  # fmt: skip
    for table_name, field_names in SCHEMA:
        for field_name in field_orders[table_name]:
            DataField.create(
                id=IDS[f"{table_name}.{field_name}"], data_table=IDS[table_name], name=field_name,
                field_name=field_name.lower(), data_type="text",
                sort_order=field_names.index(field_name) + 1,
            )  # fmt: skip


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_hash_is_the_same_whatever_order_the_schema_was_built_in(app, data):
    truncate_all()
    from designer import accounts

    user = accounts.create_user("hasher", "hasher@example.com", "long enough password")
    project = projects.create_project(user, "P")
    hashes = set()
    for _ in range(2):
        DataTable.delete().execute()
        table_order = data.draw(st.permutations([t for t, _ in SCHEMA]))
        field_orders = {t: data.draw(st.permutations(fs)) for t, fs in SCHEMA}
        build_in_order(user, project.id, table_order, field_orders)
        hashes.add(snapshot.snapshot_hash(snapshot.build(project.id)))
    assert len(hashes) == 1


def test_any_change_changes_the_hash(alice, shop):
    table = tables.create_table(alice, shop.id, "Orders")
    before = snapshot.snapshot_hash(snapshot.build(shop.id))
    fields.create_field(alice, table.id, {"name": "Total"})
    after = snapshot.snapshot_hash(snapshot.build(shop.id))
    assert before != after
    assert len(after) == 64


# Saving


def test_versions_number_on_and_record_their_changes(alice, shop):
    table = tables.create_table(alice, shop.id, "Orders")
    first = versions.save_version(alice, shop.id, "first")
    fields.create_field(alice, table.id, {"name": "Total"})
    second = versions.save_version(alice, shop.id, "")
    assert (first.version_number, second.version_number) == (1, 2)
    assert second.parent_version_id == first.id
    assert [c["op"] for c in second.changes] == ["add_field"]
    assert second.message == "Added column orders.total", "an empty message: named from the change"
    assert first.schema_hash == snapshot.snapshot_hash(versions.snapshot_of(first))


def test_a_save_without_changes_is_refused(alice, shop):
    tables.create_table(alice, shop.id, "Orders")
    versions.save_version(alice, shop.id, "first")
    with writes_nothing(), pytest.raises(Conflict) as caught:
        versions.save_version(alice, shop.id, "again")
    assert "No changes since version 1" in caught.value.message
    assert SchemaVersion.select().count() == 1


def test_a_rename_is_recorded_as_a_rename(alice, shop):
    table = tables.create_table(alice, shop.id, "Orders")
    email = fields.create_field(alice, table.id, {"name": "Email"})
    versions.save_version(alice, shop.id, "first")
    fields.update_field(alice, email.id, 1, {"name": "Email", "field_name": "contact_email"})
    tables.update_table(alice, table.id, 1, name="Orders", table_name="purchases")
    ops = [c["op"] for c in versions.save_version(alice, shop.id, "renames").changes]
    assert ops == ["rename_table", "rename_field"]


def test_twenty_concurrent_saves_each_with_a_change_get_consecutive_numbers(alice, shop):
    def change_and_save(i):
        def contender():
            with database.atomic():
                tables.create_table(alice, shop.id, f"Table {i:02d}")
                return versions.save_version(alice, shop.id, f"save {i}")

        return contender

    outcomes = race([change_and_save(i) for i in range(20)])

    assert [o for o in outcomes if isinstance(o, Exception)] == []
    assert sorted(v.version_number for v in outcomes) == list(range(1, 21))
    for version in SchemaVersion.select().order_by(SchemaVersion.version_number):
        # Each save carries exactly its own new table, on top of the versions before it.
        number = int(version.message.split()[1])
        added = [c["after"]["name"] for c in version.changes if c["op"] == "add_table"]
        assert added == [f"Table {number:02d}"], version.version_number
    assert len(snapshot.build(shop.id)["tables"]) == 20


def test_viewers_cannot_save_versions(alice, shop, make_user, api):
    make_user("vera")
    projects.add_member(alice, shop.id, "vera", "viewer")
    tables.create_table(alice, shop.id, "Orders")
    from designer.models import User

    viewer = api(User.get(User.username == "vera"))
    with writes_nothing():
        assert viewer.post(f"/projects/{shop.id}/versions", json={}).status_code == 403


# Restore


def test_restore_round_trip(alice, shop):
    customers = tables.create_table(alice, shop.id, "Customers")
    orders = tables.create_table(alice, shop.id, "Orders")
    email = fields.create_field(alice, customers.id, {"name": "Email", "unique": "1"})
    fields.create_field(alice, orders.id, {"name": "Total", "data_type": "number"})
    relationships.create_relationship(
        alice, shop.id, {"source_table_id": customers.id, "target_table_id": orders.id}
    )
    first = versions.save_version(alice, shop.id, "first")

    # Rename, swap names, drop, add: everything a restore has to undo.
    fields.update_field(alice, email.id, 1, {"name": "Mail", "field_name": "total"})
    tables.update_table(alice, customers.id, 1, name="Temp", table_name="temp")
    tables.update_table(alice, orders.id, 1, name="Customers", table_name="customers")
    tables.update_table(alice, customers.id, 2, name="Orders", table_name="orders")
    token = locks.acquire(orders.id, alice, "critical").lock_token
    fields.delete_field(alice, field_of(orders, "total").id, token, with_relationships=False)
    locks.release(token, alice)
    tables.create_table(alice, shop.id, "Extra")
    versions.save_version(alice, shop.id, "second")

    with writes_nothing(), pytest.raises(Conflict) as caught:
        versions.restore(alice, shop.id, 1)
    assert "drops table extra" in caught.value.message
    restored = versions.restore(alice, shop.id, 1, confirm=True)
    assert restored.version_number == 3
    assert restored.message == "Restored version 1"
    assert restored.schema_hash == first.schema_hash
    assert snapshot.snapshot_hash(snapshot.build(shop.id)) == first.schema_hash
    assert DataTable.get_by_id(customers.id).table_name == "customers"
    definition = DataTable.get_by_id(customers.id).schema_definition
    assert [c["field_name"] for c in definition["columns"]] == ["id", "email"]


def test_a_restore_rewrites_only_the_rows_that_differ(alice, shop):
    """Names swapped within a table come back (the two are parked first); a field and a
    table the restore does not change keep their revisions; a table whose check is all that
    changed gets its check back."""
    customers = tables.create_table(alice, shop.id, "Customers")
    email = fields.create_field(alice, customers.id, {"name": "Email"})
    name = fields.create_field(alice, customers.id, {"name": "Name"})
    born = fields.create_field(alice, customers.id, {"name": "Born"})
    orders = tables.create_table(alice, shop.id, "Orders")
    table_structure.save_item(alice, orders.id, "checks", {"expression": "id > 0"})
    versions.save_version(alice, shop.id, "first")
    fields.update_field(alice, email.id, 1, {"field_name": "swapping"}, partial=True)
    fields.update_field(alice, name.id, 1, {"field_name": "email"}, partial=True)
    fields.update_field(alice, email.id, 2, {"field_name": "name"}, partial=True)
    checks = tables.structure_of(orders.id)["checks"]
    [check_id] = checks
    table_structure.delete_item(alice, orders.id, "checks", check_id)
    versions.save_version(alice, shop.id, "second")
    before = {f.id: f.revision for f in DataField.select()}
    table_revisions = {t.id: t.revision for t in DataTable.select()}

    versions.restore(alice, shop.id, 1)

    assert field_of(customers, "email").id == email.id
    assert field_of(customers, "name").id == name.id
    after = {f.id: f.revision for f in DataField.select()}
    assert after[born.id] == before[born.id]
    assert after[email.id] == before[email.id] + 1
    assert {t.id: t.revision for t in DataTable.select()} == table_revisions
    assert tables.structure_of(orders.id)["checks"] == checks
    definition = DataTable.get_by_id(customers.id).schema_definition
    assert [c["field_name"] for c in definition["columns"]] == ["id", "email", "name", "born"]


def test_restore_saves_unsaved_work_first(alice, shop):
    tables.create_table(alice, shop.id, "Orders")
    versions.save_version(alice, shop.id, "first")
    tables.create_table(alice, shop.id, "Unsaved idea")
    versions.restore(alice, shop.id, 1, confirm=True)
    messages = [v.message for v in SchemaVersion.select().order_by(SchemaVersion.version_number)]
    assert messages == ["first", "Before restoring version 1", "Restored version 1"]
    assert not DataTable.select().where(DataTable.name == "Unsaved idea").exists()


def test_restore_respects_other_peoples_locks(alice, shop, make_user):
    bob = make_user("bob")
    projects.add_member(alice, shop.id, "bob", "editor")
    table = tables.create_table(alice, shop.id, "Orders")
    versions.save_version(alice, shop.id, "first")
    fields.create_field(alice, table.id, {"name": "Total"})
    versions.save_version(alice, shop.id, "second")
    locks.acquire(table.id, bob, "pessimistic", "busy")
    with writes_nothing(), pytest.raises(Locked) as caught:
        versions.restore(alice, shop.id, 1)
    assert "bob holds a pessimistic lock" in caught.value.message
    assert DataField.select().where(DataField.data_table == table.id).count() == 2
    assert SchemaVersion.select().count() == 2


def test_restoring_the_current_state_is_refused(alice, shop):
    tables.create_table(alice, shop.id, "Orders")
    versions.save_version(alice, shop.id, "first")
    with writes_nothing(), pytest.raises(Conflict):
        versions.restore(alice, shop.id, 1)


# Diff and API


def test_diff_between_versions_and_the_working_copy(alice, shop, api):
    table = tables.create_table(alice, shop.id, "Orders")
    versions.save_version(alice, shop.id, "first")
    fields.create_field(alice, table.id, {"name": "Total"})
    versions.save_version(alice, shop.id, "second")
    tables.create_table(alice, shop.id, "Unsaved")
    client = api(alice)
    response = client.get(f"/projects/{shop.id}/diff?from=1&to=2")
    assert [c["op"] for c in response.json["changes"]] == ["add_field"]
    assert response.json["sql"] == 'ALTER TABLE "shop"."orders" ADD COLUMN "total" text;\n'
    working = client.get(f"/projects/{shop.id}/diff?from=2&to=working")
    assert [c["op"] for c in working.json["changes"]] == ["add_table", "add_field"]
    old = versions.snapshot_of(versions.get_version(shop.id, 1))
    new = versions.snapshot_of(versions.get_version(shop.id, 2))
    assert apply_changes(old, response.json["changes"]) == new


def test_api_versions_round_trip(alice, shop, api):
    client = api(alice)
    tables.create_table(alice, shop.id, "Orders")
    created = client.post(f"/projects/{shop.id}/versions", json={"message": "first"})
    assert created.status_code == 201
    assert created.json["version_number"] == 1
    with writes_nothing():
        assert client.post(f"/projects/{shop.id}/versions", json={}).status_code == 409
    listed = client.get(f"/projects/{shop.id}/versions").json
    assert [v["message"] for v in listed["versions"]] == ["first"]
    assert "schema_snapshot" not in listed["versions"][0]
    # The heavy parts only when asked: a snapshot of thousands of tables is megabytes.
    brief = client.get(f"/projects/{shop.id}/versions/1").json
    assert brief["summary"] and not {"schema_snapshot", "changes"} & brief.keys()
    detail = client.get(f"/projects/{shop.id}/versions/1?include=snapshot,changes").json
    assert detail["schema_snapshot"]["tables"]
    assert "add_table" in [c["op"] for c in detail["changes"]]
    only = client.get(f"/projects/{shop.id}/versions/1?include=changes").json
    assert "changes" in only and "schema_snapshot" not in only
    unknown = client.get(f"/projects/{shop.id}/versions/1?include=everything")
    assert unknown.status_code == 422
    assert client.get(f"/projects/{shop.id}/versions/9").status_code == 404
    tables.create_table(alice, shop.id, "More")
    client.post(f"/projects/{shop.id}/versions", json={"message": "second"})
    with writes_nothing():
        assert client.post(f"/projects/{shop.id}/versions/1/restore").status_code == 409
    restored = client.post(f"/projects/{shop.id}/versions/1/restore", json={"confirm": True})
    assert restored.status_code == 201
    assert restored.json["schema_hash"] == detail["schema_hash"]


def test_timeline_pages_through_hundreds_of_versions(alice, shop, signed_in):
    table = tables.create_table(alice, shop.id, "Orders")
    for i in range(60):
        tables.update_table(alice, table.id, i + 1, description=f"step {i}")
        versions.save_version(alice, shop.id, f"step {i}")
    client = signed_in(alice)
    page = client.get(f"/projects/{shop.id}/timeline", htmx=False).text
    assert ">v60</a>" in page
    assert ">v36</a>" in page
    assert ">v35</a>" not in page
    more = client.get(f"/projects/{shop.id}/timeline", query_string={"before": 36}).text
    assert ">v35</a>" in more
    assert ">v11</a>" in more


def test_snapshots_are_served_from_the_cache_by_hash(alice, shop):
    tables.create_table(alice, shop.id, "Orders")
    version = versions.save_version(alice, shop.id, "first")
    SchemaVersion.update(schema_snapshot={"format": 1, "tables": {}, "relationships": {}}).where(
        SchemaVersion.id == version.id
    ).execute()
    assert versions.snapshot_of(version)["tables"], "the cached snapshot was not used"


def test_restore_keeps_lifecycle_statuses(alice, shop):
    table = tables.create_table(alice, shop.id, "Orders")
    fields.create_field(alice, table.id, {"name": "Total"})
    versions.save_version(alice, shop.id, "draft design")
    token = locks.acquire(table.id, alice, "critical").lock_token
    tables.transition(alice, table.id, "active", lock_token=token)
    tables.update_table(alice, table.id, 2, token, description="live now")
    locks.release(token, alice)
    versions.restore(alice, shop.id, 1)
    restored = DataTable.get_by_id(table.id)
    assert restored.status == "active"
    assert restored.description == ""


def test_restore_never_drops_a_table_in_use(alice, shop):
    tables.create_table(alice, shop.id, "Orders")
    versions.save_version(alice, shop.id, "one table")
    live = tables.create_table(alice, shop.id, "Invoices")
    fields.create_field(alice, live.id, {"name": "Number"})
    token = locks.acquire(live.id, alice, "critical").lock_token
    tables.transition(alice, live.id, "active", lock_token=token)
    locks.release(token, alice)
    with writes_nothing(), pytest.raises(Conflict) as caught:
        versions.restore(alice, shop.id, 1, confirm=True)
    assert "invoices, which is in use" in caught.value.message
    assert DataTable.get_by_id(live.id).status == "active"


def test_restore_brings_a_discarded_table_back_as_a_draft(alice, shop):
    table = tables.create_table(alice, shop.id, "Orders")
    versions.save_version(alice, shop.id, "with orders")
    token = locks.acquire(table.id, alice, "critical").lock_token
    tables.delete_table(alice, table.id, token)
    versions.save_version(alice, shop.id, "without")
    versions.restore(alice, shop.id, 1)
    assert DataTable.get_by_id(table.id).status == "draft"
