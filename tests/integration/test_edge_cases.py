"""Edge cases: access before locking, type changes, odd input, writes racing locks."""

import threading

import pytest
from peewee import SQL

from designer import locks
from designer import projects
from designer.db import database
from designer.design import fields
from designer.design import relationships
from designer.design import tables
from designer.errors import Conflict
from designer.errors import Locked
from designer.errors import ValidationFailed
from designer.models import DataField
from designer.models import DataTable
from tests.integration.conftest import wait_for
from tests.integration.conftest import writes_nothing


@pytest.fixture
def orders(alice, shop):
    table = tables.create_table(alice, shop.id, "Orders")
    fields.create_field(alice, table.id, {"name": "Total", "data_type": "number"})
    return table


def test_a_stranger_cannot_lock_a_table_through_the_lifecycle_form(orders, make_user, signed_in):
    stranger = signed_in(make_user("mallory"))
    with writes_nothing():
        response = stranger.post(
            f"/tables/{orders.id}/transition",
            data={"status": "deprecated", "confirm": "1", "take_lock": "1"},
        )
        assert response.status_code == 404
        malformed = stranger.post("/tables/not-a-uuid/transition", data={"take_lock": "1"})
        assert malformed.status_code == 404


def test_a_stranger_learns_nothing_about_a_locked_table(orders, alice, make_user, signed_in):
    locks.acquire(orders.id, alice, "pessimistic", "secret plans")
    stranger = signed_in(make_user("mallory"))
    with writes_nothing():
        response = stranger.post(
            f"/tables/{orders.id}/transition", data={"status": "deprecated", "take_lock": "1"}
        )
    assert response.status_code == 404
    assert "secret plans" not in response.text


def number_field(table):
    return DataField.get(DataField.data_table == table.id, DataField.field_name == "total")


def test_narrowing_a_number_type_is_a_breaking_change(alice, orders):
    total = number_field(orders)
    DataTable.update(deployed_at=SQL("now()")).where(DataTable.id == orders.id).execute()
    change = {"number_type": "bigint"}
    with writes_nothing(), pytest.raises(Locked):
        fields.update_field(alice, total.id, 1, change, partial=True)
    token = locks.acquire(orders.id, alice, "critical").lock_token
    fields.update_field(alice, total.id, 1, change, token, partial=True)
    assert DataField.get_by_id(total.id).field_config["number_type"] == "bigint"


def test_a_partial_update_applies_a_nested_field_config(alice, orders, api):
    note = fields.create_field(alice, orders.id, {"name": "Note", "max_length": "10"})
    response = api(alice).patch(
        f"/fields/{note.id}", json={"revision": 1, "field_config": {"unique": True}}
    )
    assert response.status_code == 200
    assert response.json["field_config"]["unique"] is True
    assert response.json["field_config"]["max_length"] == 10


def test_a_relationship_key_must_stay_unique(alice, shop, orders):
    countries = tables.create_table(alice, shop.id, "Countries")
    code = fields.create_field(alice, countries.id, {"name": "Code", "unique": "1"})
    relationships.create_relationship(
        alice, shop.id,
        {"source_table_id": countries.id, "source_field_id": code.id, "target_table_id": orders.id},
    )  # fmt: skip
    with writes_nothing(), pytest.raises(ValidationFailed) as caught:
        fields.update_field(alice, code.id, 1, {"unique": False}, partial=True)
    assert "must stay unique" in caught.value.fields["unique"]


def test_a_retyped_form_save_leaves_no_critical_lock_behind(alice, orders, signed_in):
    total = number_field(orders)
    client = signed_in(alice)
    client.get(f"/fields/{total.id}/edit")
    assert locks.active_lock(orders.id).lock_type == "optimistic"
    form = {"name": "Total", "data_type": "text", "revision": "1", "take_lock": "1"}
    assert client.put(f"/fields/{total.id}", data=form).status_code == 200
    assert locks.active_lock(orders.id) is None


@pytest.mark.parametrize("sort_order", [-1, "²", 10**12, 1.5, "x", True])
def test_bad_sort_orders_are_refused_not_errors(alice, orders, api, sort_order):
    client = api(alice)
    with writes_nothing():
        response = client.post(
            f"/tables/{orders.id}/fields", json={"name": "X", "sort_order": sort_order}
        )
    assert response.status_code == 422
    assert "sort_order" in response.json["error"]["fields"]


def test_long_table_names_make_a_valid_junction(alice, shop):
    left = tables.create_table(alice, shop.id, "L" * 150, table_name="left_side")
    right = tables.create_table(alice, shop.id, "R" * 150, table_name="right_side")
    relationships.create_relationship(
        alice, shop.id,
        {"source_table_id": left.id, "target_table_id": right.id,
         "relationship_type": "many_to_many"},
    )  # fmt: skip
    junction = tables.DataTable.get(tables.DataTable.table_name == "left_side_right_side")
    assert len(junction.name) == 200


def test_a_member_revision_of_the_wrong_type_is_refused(alice, shop, make_user, api):
    bob = make_user("bob")
    projects.add_member(alice, shop.id, "bob", "viewer")
    client = api(alice)
    with writes_nothing():
        for revision in ("abc", [1], {"a": 1}):
            response = client.patch(
                f"/projects/{shop.id}/members/{bob.id}",
                json={"role": "editor", "revision": revision},
            )
            assert response.status_code == 422


def test_the_diagram_downloads_under_any_project_name(alice, signed_in):
    project = projects.create_project(alice, "Проект “Ω”\nline")
    response = signed_in(alice).get(f"/projects/{project.id}/diagram.mmd", htmx=False)
    assert response.status_code == 200
    response.headers["Content-Disposition"].encode("latin-1")
    assert response.text.startswith("erDiagram")


def test_deleted_tables_cannot_be_locked_from_the_page(alice, orders, signed_in):
    token = locks.acquire(orders.id, alice, "critical").lock_token
    for status in ("active", "deprecated", "deleted"):
        tables.transition(alice, orders.id, status, confirm=True, lock_token=token)
    locks.release(token, alice)
    client = signed_in(alice)
    with writes_nothing():
        response = client.post(f"/tables/{orders.id}/lock", data={"lock_type": "critical"})
    assert response.status_code == 409


def test_the_id_column_is_not_a_foreign_key(alice, shop, orders):
    system = DataField.get(DataField.data_table == orders.id, DataField.field_name == "id")
    with writes_nothing(), pytest.raises(ValidationFailed):
        relationships.create_relationship(
            alice, shop.id,
            {"source_table_id": orders.id, "target_table_id": orders.id,
             "target_field_id": system.id},
        )  # fmt: skip


def test_a_malformed_lock_token_is_refused_as_locked(alice, orders, api):
    client = api(alice)
    with writes_nothing():
        response = client.patch(
            f"/tables/{orders.id}",
            json={"name": "X", "revision": 1},
            headers={"X-Lock-Token": "junk"},
        )
    assert response.status_code == 423


def test_a_member_demoted_to_viewer_cannot_keep_a_lock_alive(alice, shop, orders, make_user):
    bob = make_user("bob")
    projects.add_member(alice, shop.id, "bob", "editor")
    lock = locks.acquire(orders.id, bob, "pessimistic")
    projects.change_role(alice, shop.id, bob.id, "viewer")
    with writes_nothing(), pytest.raises(Conflict):
        locks.heartbeat(lock.lock_token, bob)


def test_a_lock_waits_for_a_write_already_past_its_check(alice, orders, make_user):
    bob = make_user("bob")
    projects.add_member(alice, orders.project_id, "bob", "editor")
    holding, events = threading.Event(), []

    def acquirer_waits_or_has_taken_the_lock():
        """the lock's acquirer to wait on the row the write holds (or to have taken it)"""
        database.execute_sql("SELECT pg_stat_clear_snapshot()")  # fresh activity, not cached
        waiting = database.execute_sql(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND wait_event_type = 'Lock'"
        ).fetchone()[0]
        return waiting > 0 or events

    def write():
        with database.atomic():
            tables.check_writable(alice, orders)
            holding.set()
            wait_for(acquirer_waits_or_has_taken_the_lock)
            tables.DataTable.update(description="written").where(
                tables.DataTable.id == orders.id
            ).execute()
            events.append("write committed")
        database.close()

    def lock():
        assert holding.wait(60)
        locks.acquire(orders.id, bob, "pessimistic")
        events.append("lock taken")
        database.close()

    threads = [
        threading.Thread(target=write, daemon=True),
        threading.Thread(target=lock, daemon=True),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not any(t.is_alive() for t in threads)
    assert events == ["write committed", "lock taken"]
