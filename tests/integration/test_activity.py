"""Every change is recorded in the project's feed, in the same transaction as the change.

The proof of "same transaction": while PostgreSQL refuses the change's
activity entry, the change may not be stored either. A change that wrote its entry after
committing would be stored and leave the feed without it.
"""

from types import SimpleNamespace

import pytest
from peewee import DatabaseError

from designer import locks
from designer import projects
from designer.db import database
from designer.design import fields
from designer.design import relationships
from designer.design import tables
from designer.history import snapshot
from designer.history import versions
from designer.models import ActivityEntry
from designer.models import DataField
from designer.models import DataTable
from designer.models import Project
from designer.models import ProjectMember
from designer.models import SchemaVersion
from designer.models import TableRelationship


@pytest.fixture
def world(alice, shop, make_user):
    bob, _ = make_user("bob"), make_user("carol")
    projects.add_member(alice, shop.id, "bob", "editor")
    customers = tables.create_table(alice, shop.id, "Customers")
    orders = tables.create_table(alice, shop.id, "Orders")
    tables.create_table(alice, shop.id, "Invoices")
    fields.create_field(alice, customers.id, {"name": "Email", "unique": "1"})
    fields.create_field(alice, orders.id, {"name": "Total", "data_type": "number"})
    fields.create_field(alice, orders.id, {"name": "Placed", "data_type": "date"})
    relationships.create_relationship(
        alice, shop.id, {"source_table_id": customers.id, "target_table_id": orders.id}
    )
    versions.save_version(alice, shop.id, "first")
    tables.create_table(alice, shop.id, "Unsaved idea")
    return SimpleNamespace(alice=alice, bob=bob, shop=shop)


def table(name):
    return DataTable.get(DataTable.name == name)


def field(name):
    return DataField.get(DataField.name == name)


def critical(name, user):
    return locks.acquire(table(name).id, user, "critical").lock_token


def the_relationship():
    return TableRelationship.get()


# Each kind of change: (the action it records, the change as a function of the world).
CHANGES = {
    "create a table": ("table.created", lambda w: tables.create_table(
        w.alice, w.shop.id, "Refunds")),
    "rename a table": ("table.updated", lambda w: tables.update_table(
        w.alice, table("Orders").id, table("Orders").revision, name="Sales", table_name="sales")),
    "move a table along its lifecycle": ("table.status", lambda w: tables.transition(
        w.alice, table("Orders").id, "active")),
    "discard a draft table": ("table.deleted", lambda w: tables.delete_table(
        w.alice, table("Unsaved idea").id, critical("Unsaved idea", w.alice))),
    "add a field": ("field.created", lambda w: fields.create_field(
        w.alice, table("Orders").id, {"name": "Note"})),
    "edit a field": ("field.updated", lambda w: fields.update_field(
        w.alice, field("Total").id, field("Total").revision,
        {"name": "Amount", "field_name": "amount", "data_type": "number"})),
    "delete a field": ("field.deleted", lambda w: fields.delete_field(
        w.alice, field("Placed").id, critical("Orders", w.alice))),
    "reorder fields": ("field.reordered", lambda w: fields.move(w.alice, field("Placed").id, -1)),
    "link two tables": ("relationship.created", lambda w: relationships.create_relationship(
        w.alice, w.shop.id,
        {"source_table_id": table("Orders").id, "target_table_id": table("Invoices").id})),
    "link through a junction": ("relationship.created", lambda w: relationships.create_relationship(
        w.alice, w.shop.id,
        {"source_table_id": table("Orders").id, "target_table_id": table("Invoices").id,
         "relationship_type": "many_to_many"})),
    "edit a relationship": ("relationship.updated", lambda w: relationships.update_relationship(
        w.alice, the_relationship().id, the_relationship().revision, {"on_delete": "restrict"})),
    "delete a relationship": ("relationship.deleted", lambda w: relationships.delete_relationship(
        w.alice, the_relationship().id)),
    "add a member": ("member.added", lambda w: projects.add_member(
        w.alice, w.shop.id, "carol", "viewer")),
    "change a member's role": ("member.role", lambda w: projects.change_role(
        w.alice, w.shop.id, w.bob.id, "viewer")),
    "remove a member": ("member.removed", lambda w: projects.remove_member(
        w.alice, w.shop.id, w.bob.id)),
    "rename the project": ("project.updated", lambda w: projects.update_project(
        w.alice, w.shop.id, Project.get_by_id(w.shop.id).revision, name="Store")),
    "save a version": ("version.saved", lambda w: versions.save_version(
        w.alice, w.shop.id, "second")),
    "restore a version": ("version.restored", lambda w: versions.restore(
        w.alice, w.shop.id, 1, confirm=True)),
}  # fmt: skip


def state(project_id):
    """Everything a change can alter: the design, versions, members, the project row."""
    return (
        snapshot.build(project_id),
        [
            (t.id, t.revision, t.schema_definition)
            for t in DataTable.select().order_by(DataTable.id)
        ],
        [v.schema_hash for v in SchemaVersion.select().order_by(SchemaVersion.version_number)],
        sorted((str(m.user_id), m.role) for m in ProjectMember.select()),
        Project.get_by_id(project_id).name,
    )


def actions():
    return [e.action for e in ActivityEntry.select().order_by(ActivityEntry.created_at)]


@pytest.fixture
def refuse_activity(app):
    """refuse_activity(action): PostgreSQL refuses to insert entries of that action."""
    database.execute_sql(
        "CREATE FUNCTION refuse_activity() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'activity refused by the test'; END $$"
    )

    def refuse(action):
        database.execute_sql(
            "CREATE TRIGGER refuse_activity BEFORE INSERT ON activity_entry FOR EACH ROW "
            f"WHEN (NEW.action = '{action}') EXECUTE FUNCTION refuse_activity()"
        )

    yield refuse
    database.execute_sql("DROP TRIGGER IF EXISTS refuse_activity ON activity_entry")
    database.execute_sql("DROP FUNCTION refuse_activity()")


@pytest.mark.parametrize("change", CHANGES)
def test_each_kind_of_change_is_recorded_in_the_feed(change, world):
    action, make = CHANGES[change]
    before = actions()
    make(world)
    assert actions()[len(before) :].count(action) >= 1, actions()[len(before) :]


@pytest.mark.parametrize("change", CHANGES)
def test_a_change_whose_activity_cannot_be_written_is_not_stored(change, world, refuse_activity):
    action, make = CHANGES[change]
    before = state(world.shop.id)
    refuse_activity(action)
    with pytest.raises(DatabaseError, match="activity refused by the test"):
        make(world)
    assert state(world.shop.id) == before
