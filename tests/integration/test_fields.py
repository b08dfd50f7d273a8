"""Fields: every type and its settings, validation, stale edits, order, schema_definition."""

import pytest
from peewee import SQL

from designer import locks
from designer import projects
from designer.design import fields
from designer.design import tables
from designer.errors import Conflict
from designer.errors import Locked
from designer.errors import ValidationFailed
from designer.models import DataField
from designer.models import DataTable


@pytest.fixture
def orders(alice):
    project = projects.create_project(alice, "Shop")
    return tables.create_table(alice, project.id, "Orders")


def add(user, table, **data):
    return fields.create_field(user, table.id, data)


def columns(table):
    return DataTable.get_by_id(table.id).schema_definition["columns"]


@pytest.mark.parametrize(
    ("data", "pg_type"),
    [
        ({"name": "Notes"}, "text"),
        ({"name": "Email", "max_length": "200"}, "varchar(200)"),
        ({"name": "Qty", "data_type": "number"}, "integer"),
        ({"name": "Views", "data_type": "number", "number_type": "bigint"}, "bigint"),
        (
            {
                "name": "Price",
                "data_type": "number",
                "number_type": "decimal",
                "precision": "10",
                "scale": "2",
            },
            "numeric(10,2)",
        ),
        ({"name": "Born", "data_type": "date"}, "date"),
        ({"name": "Seen", "data_type": "date", "date_type": "timestamptz"}, "timestamptz"),
        ({"name": "Opens", "data_type": "date", "date_type": "time"}, "time"),
        ({"name": "Paid", "data_type": "boolean"}, "boolean"),
    ],
)
def test_each_type_and_setting_maps_to_a_postgresql_type(alice, orders, data, pg_type):
    field = add(alice, orders, **data)
    assert field.field_name == fields.validated(data)["field_name"]
    assert columns(orders)[-1]["pg_type"] == pg_type


def test_schema_definition_follows_every_change(alice, orders):
    email = add(alice, orders, name="Email", is_required="1", unique="1")
    assert [c["field_name"] for c in columns(orders)] == ["id", "email"]
    assert columns(orders)[1]["nullable"] is False
    assert columns(orders)[1]["unique"] is True
    fields.update_field(alice, email.id, 1, {"name": "Email", "field_name": "contact_email"})
    assert [c["field_name"] for c in columns(orders)] == ["id", "contact_email"]
    token = locks.acquire(orders.id, alice, "critical").lock_token
    fields.delete_field(alice, email.id, token)
    assert [c["field_name"] for c in columns(orders)] == ["id"]


@pytest.mark.parametrize(
    ("data", "key", "message"),
    [
        ({"name": ""}, "name", "Enter a name"),
        ({"name": "A", "field_name": "Bad"}, "field_name", "lowercase"),
        ({"name": "A", "field_name": "order"}, "field_name", "reserved word"),
        ({"name": "A", "field_name": "xmin"}, "field_name", "system column"),
        ({"name": "A", "data_type": "json"}, "data_type", "Choose one of"),
        ({"name": "A", "max_length": "0"}, "max_length", "from 1"),
        ({"name": "A", "max_length": "ten"}, "max_length", "whole number"),
        ({"name": "A", "min_length": "5", "max_length": "3"}, "min_length", "above the maximum"),
        ({"name": "A", "pattern": "(unclosed"}, "pattern", "PostgreSQL regular expression"),
        ({"name": "A", "max_length": "3", "default_value": "toolong"}, "default_value", "longer"),
        ({"name": "A", "pattern": "^[0-9]+$", "default_value": "abc"}, "default_value", "pattern"),
        ({"name": "A", "data_type": "number", "default_value": "1.5"}, "default_value", "whole"),
        ({"name": "A", "data_type": "number", "default_value": "x"}, "default_value", "number"),
        (
            {"name": "A", "data_type": "number", "default_value": "3000000000"},
            "default_value",
            "Out of range",
        ),
        (
            {"name": "A", "data_type": "number", "min": "10", "default_value": "5"},
            "default_value",
            "below the minimum",
        ),
        ({"name": "A", "data_type": "number", "min": "9", "max": "1"}, "min", "above the maximum"),
        (
            {
                "name": "A",
                "data_type": "number",
                "number_type": "decimal",
                "precision": "4",
                "scale": "2",
                "default_value": "123.45",
            },
            "default_value",
            "Too large",
        ),
        (
            {
                "name": "A",
                "data_type": "number",
                "number_type": "decimal",
                "precision": "3",
                "scale": "5",
            },
            "scale",
            "cannot exceed",
        ),
        ({"name": "A", "data_type": "date", "default_value": "31/12/2024"}, "default_value", "ISO"),
        (
            {"name": "A", "data_type": "date", "date_type": "time", "default_value": "now()"},
            "default_value",
            "current_time",
        ),
        ({"name": "A", "data_type": "boolean", "default_value": "maybe"}, "default_value", "true"),
    ],
)
def test_invalid_fields_are_refused_with_a_message_per_input(alice, orders, data, key, message):
    with pytest.raises(ValidationFailed) as caught:
        add(alice, orders, **data)
    assert message in caught.value.fields[key]
    assert DataField.select().count() == 1


@pytest.mark.parametrize(
    ("data", "stored"),
    [
        ({"data_type": "boolean", "default_value": "Yes"}, "true"),
        ({"data_type": "number", "default_value": "042"}, "42"),
        ({"data_type": "date", "default_value": "NOW()"}, "now()"),
        ({"data_type": "date", "date_type": "date", "default_value": "2024-02-29"}, "2024-02-29"),
        (
            {"data_type": "date", "date_type": "timestamptz", "default_value": "2024-01-01T10:00"},
            "2024-01-01T10:00:00+00:00",
        ),
        ({"pattern": "^[a-z]+$", "default_value": "abc"}, "abc"),
    ],
)
def test_defaults_are_stored_in_canonical_form(alice, orders, data, stored):
    assert add(alice, orders, name="A", **data).default_value == stored


def test_names_are_unique_within_a_table(alice, orders):
    add(alice, orders, name="Email")
    with pytest.raises(ValidationFailed) as caught:
        add(alice, orders, name="Email", field_name="email_2")
    assert "name" in caught.value.fields
    with pytest.raises(ValidationFailed) as caught:
        add(alice, orders, name="E-mail", field_name="email")
    assert "field_name" in caught.value.fields


def test_the_id_column_cannot_be_changed_or_dropped(alice, orders):
    system = tables.ordered_fields(orders.id)[0]
    with pytest.raises(Conflict):
        fields.update_field(alice, system.id, 1, {"name": "Key"})
    token = locks.acquire(orders.id, alice, "critical").lock_token
    with pytest.raises(Conflict):
        fields.delete_field(alice, system.id, token)


def test_a_stale_field_edit_shows_both_and_changes_nothing(alice, orders, signed_in):
    email = add(alice, orders, name="Email")
    client = signed_in(alice)
    form = {"name": "Mail", "field_name": "mail", "data_type": "text", "revision": "1"}
    assert client.put(f"/fields/{email.id}", data=form).status_code == 200
    response = client.put(f"/fields/{email.id}", data={**form, "name": "Courriel"})
    assert response.status_code == 412
    assert "Someone else saved this first" in response.text
    assert "Now: Mail" in response.text
    assert 'value="Courriel"' in response.text
    assert DataField.get_by_id(email.id).name == "Mail"


def test_validation_error_keeps_the_input_in_the_row_form(alice, orders, signed_in):
    email = add(alice, orders, name="Email")
    response = signed_in(alice).put(
        f"/fields/{email.id}",
        data={"name": "Email", "field_name": "Bad Name", "max_length": "12", "revision": "1"},
    )
    assert response.status_code == 422
    assert 'value="Bad Name"' in response.text
    assert 'value="12"' in response.text
    assert 'id="field_name-error"' in response.text


def test_changing_the_type_needs_a_critical_lock(alice, orders, signed_in):
    qty = add(alice, orders, name="Qty", data_type="number")
    DataTable.update(deployed_at=SQL("now()")).where(DataTable.id == orders.id).execute()
    with pytest.raises(Locked):
        fields.update_field(alice, qty.id, 1, {"name": "Qty", "data_type": "text"})
    client = signed_in(alice)
    form = {"name": "Qty", "data_type": "text", "revision": "1"}
    offered = client.put(f"/fields/{qty.id}", data=form)
    assert offered.status_code == 423
    assert "Take a critical lock and save" in offered.text
    saved = client.put(f"/fields/{qty.id}", data={**form, "take_lock": "1"})
    assert saved.status_code == 200
    assert DataField.get_by_id(qty.id).data_type == "text"
    assert locks.active_lock(orders.id) is None


def test_deleting_from_the_page_takes_and_returns_the_critical_lock(alice, orders, signed_in):
    email = add(alice, orders, name="Email")
    response = signed_in(alice).delete(f"/fields/{email.id}")
    assert response.status_code == 200
    assert 'id="field-rows"' in response.text
    assert DataField.get_or_none(DataField.id == email.id) is None
    assert locks.active_lock(orders.id) is None


def order_of(table):
    return [f.field_name for f in tables.ordered_fields(table.id)]


def test_move_up_and_down(alice, orders, signed_in):
    a, b, c = (add(alice, orders, name=n) for n in ("A", "B", "C"))
    client = signed_in(alice)
    client.post(f"/fields/{c.id}/move", data={"direction": "up"})
    assert order_of(orders) == ["id", "a", "c", "b"]
    client.post(f"/fields/{a.id}/move", data={"direction": "up"})
    assert order_of(orders) == ["id", "a", "c", "b"]
    client.post(f"/fields/{a.id}/move", data={"direction": "down"})
    assert order_of(orders) == ["id", "c", "a", "b"]
    assert [c["field_name"] for c in columns(orders)] == ["id", "c", "a", "b"]
    assert all(f.sort_order >= 0 for f in tables.ordered_fields(orders.id))


def test_drag_order_is_saved(alice, orders, signed_in):
    a, b, c = (add(alice, orders, name=n) for n in ("A", "B", "C"))
    response = signed_in(alice).post(
        f"/tables/{orders.id}/fields/order", data={"field_ids": [str(c.id), str(a.id), str(b.id)]}
    )
    assert response.status_code == 200
    assert order_of(orders) == ["id", "c", "a", "b"]


def test_an_order_must_list_every_field_once(alice, orders):
    a, b = add(alice, orders, name="A"), add(alice, orders, name="B")
    for ids in ([a.id], [a.id, a.id], [a.id, b.id, b.id]):
        with pytest.raises(ValidationFailed):
            fields.reorder(alice, orders.id, ids)
    assert order_of(orders) == ["id", "a", "b"]


def test_the_form_for_a_type_shows_its_settings(alice, orders, signed_in):
    client = signed_in(alice)
    number = client.get(
        f"/tables/{orders.id}/fields/settings", query_string={"data_type": "number"}
    )
    assert "Number type" in number.text
    assert "Precision" in number.text
    date = client.get(f"/tables/{orders.id}/fields/settings", query_string={"data_type": "date"})
    assert "timestamptz" in date.text
    text = client.get(f"/tables/{orders.id}/fields/settings", query_string={"data_type": "text"})
    assert "Max length" in text.text
    assert "Pattern" in text.text


def test_adding_a_field_in_the_page_returns_the_rows_and_a_fresh_form(alice, orders, signed_in):
    response = signed_in(alice).post(
        f"/tables/{orders.id}/fields", data={"name": "Email", "data_type": "text"}
    )
    assert response.status_code == 200
    assert 'hx-swap-oob="true"' in response.text
    assert "Email" in response.text
    assert 'id="new-field-form"' in response.text


def test_the_new_field_form_keeps_its_lock_for_the_next_field_until_cancelled(
    alice, make_user, orders, signed_in
):
    bob = make_user("bob")
    projects.add_member(alice, orders.project_id, "bob", "editor")
    client = signed_in(alice)
    client.get(f"/tables/{orders.id}/fields/new")
    saved = client.post(f"/tables/{orders.id}/fields", data={"name": "Email", "data_type": "text"})
    assert 'id="new-field-form"' in saved.text
    # The form is still open for the next field: a teammate cannot slip in between.
    lock = locks.active_lock(orders.id)
    assert lock is not None and lock.user_id == alice.id and lock.lock_type == "optimistic"
    with pytest.raises(Locked):
        fields.create_field(bob, orders.id, {"name": "Phone"})
    client.post(f"/tables/{orders.id}/fields/new/cancel")
    assert locks.active_lock(orders.id) is None
