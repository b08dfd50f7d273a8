"""Tables: inline creation with suggested identifiers, editing, search, lifecycle, activity."""

import pytest

from designer import locks
from designer import projects
from designer.design import fields
from designer.design import table_list
from designer.design import tables
from designer.errors import Conflict
from designer.errors import Locked
from designer.errors import ValidationFailed
from designer.models import ActivityEntry
from designer.models import DataField
from designer.models import DataTable


def add_table(user, project, name, **kw):
    return tables.create_table(user, project.id, name, **kw)


def test_a_new_table_is_a_draft_with_a_system_id_column(alice, shop):
    table = add_table(alice, shop, "Customer Orders")
    assert table.table_name == "customer_orders"
    assert table.status == "draft"
    (system,) = tables.ordered_fields(table.id)
    assert system.field_name == "id"
    assert system.sort_order == 0
    assert system.field_config["system"] is True
    definition = DataTable.get_by_id(table.id).schema_definition
    assert definition["columns"][0]["pg_type"] == "bigint"
    assert definition["columns"][0]["primary_key"] is True


def test_add_table_inline_navigates_to_the_new_table(alice, shop, signed_in):
    response = signed_in(alice).post(
        f"/projects/{shop.id}/tables", data={"name": "Line items", "table_name": ""}
    )
    table = DataTable.get()
    assert response.headers["HX-Redirect"] == f"/tables/{table.id}"
    assert table.table_name == "line_items"


def test_the_name_suggests_a_table_name(alice, shop, signed_in):
    response = signed_in(alice).get(
        f"/projects/{shop.id}/tables/suggest", query_string={"name": "Order Line"}
    )
    assert 'value="order_line"' in response.text


def test_no_suggestion_once_the_user_typed_a_table_name(alice, shop, signed_in):
    response = signed_in(alice).get(
        f"/projects/{shop.id}/tables/suggest",
        query_string={"name": "Order Line", "table_name_edited": "1"},
    )
    assert response.status_code == 204


@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        ({"name": ""}, "name", "Enter a table name"),
        ({"name": "X", "table_name": "Bad Name"}, "table_name", "lowercase"),
        ({"name": "X", "table_name": "select"}, "table_name", "reserved word"),
        ({"name": "X", "table_name": "a" * 64}, "table_name", "63"),
        ({"name": "X", "table_name": "x;drop"}, "table_name", "“;”"),
    ],
)
def test_bad_table_input_is_shown_next_to_the_field(alice, shop, signed_in, form, field, message):
    response = signed_in(alice).post(f"/projects/{shop.id}/tables", data=form)
    assert response.status_code == 422
    assert message in response.text
    assert f'id="{field}-error"' in response.text
    assert DataTable.select().count() == 0


def test_duplicate_names_are_refused_by_field(alice, shop):
    add_table(alice, shop, "Orders")
    with pytest.raises(ValidationFailed) as caught:
        add_table(alice, shop, "Orders", table_name="orders_2")
    assert "name" in caught.value.fields
    with pytest.raises(ValidationFailed) as caught:
        add_table(alice, shop, "Orders 2", table_name="orders")
    assert "table_name" in caught.value.fields


def test_edit_header_inline_and_refuse_stale_revisions(alice, shop, signed_in):
    table = add_table(alice, shop, "Orders")
    client = signed_in(alice)
    form = {"name": "Purchases", "table_name": "purchases", "description": "d", "revision": "1"}
    response = client.put(f"/tables/{table.id}/header", data=form)
    assert response.status_code == 200
    assert "Purchases" in response.text
    stale = client.put(f"/tables/{table.id}/header", data={**form, "name": "Mine"})
    assert stale.status_code == 412
    assert "Someone else saved this first" in stale.text
    assert 'value="Mine"' in stale.text
    assert DataTable.get_by_id(table.id).name == "Purchases"
    assert DataTable.get_by_id(table.id).schema_definition["table_name"] == "purchases"


def make_tables(user, project, count):
    for i in range(count):
        add_table(user, project, f"Table {i:03d}")


def test_search_filters_by_name_or_table_name(alice, shop, signed_in):
    add_table(alice, shop, "Customers")
    add_table(alice, shop, "Orders", table_name="purchase_orders")
    add_table(alice, shop, "Invoices")
    client = signed_in(alice)
    text = client.get(f"/projects/{shop.id}/tables", query_string={"q": "purch"}).text
    assert "Orders" in text
    assert "Customers" not in text
    text = client.get(f"/projects/{shop.id}/tables", query_string={"q": "CUST"}).text
    assert "Customers" in text


def test_search_treats_like_wildcards_literally(alice, shop):
    add_table(alice, shop, "Plain")
    add_table(alice, shop, "Hundred %", table_name="hundred_pct")
    rows, _ = table_list.list_tables(shop.id, "%")
    assert [t.name for t in rows] == ["Hundred %"]
    rows, _ = table_list.list_tables(shop.id, "_")
    assert [t.name for t in rows] == ["Hundred %"]


def test_search_finds_tables_by_their_columns_as_the_columns_change(alice, shop):
    def found(text):
        return [t.name for t in table_list.list_tables(shop.id, text)[0]]

    orders = add_table(alice, shop, "Orders")
    add_table(alice, shop, "Customers")
    total = fields.create_field(alice, orders.id, {"name": "Grand Total"})
    assert found("GRAND") == found("grand_total") == ["Orders"]
    assert found("total") == ["Orders"]
    changed = fields.update_field(
        alice, total.id, total.revision, {"name": "Sum", "description": "Before Tax"}
    )
    assert found("grand") == [] and found("before tax") == ["Orders"] and found("sum") == ["Orders"]
    fields.delete_field(alice, changed.id)
    assert found("sum") == []
    revision = DataTable.get_by_id(orders.id).revision
    tables.update_table(alice, orders.id, revision, description="What people bought")
    assert found("people") == ["Orders"]
    # Another project's columns are not this project's.
    elsewhere = add_table(alice, projects.create_project(alice, "Elsewhere"), "Invoices")
    fields.create_field(alice, elsewhere.id, {"name": "Grand Total"})
    assert found("grand") == []


def test_search_is_deep_linkable(alice, shop, signed_in):
    add_table(alice, shop, "Customers")
    add_table(alice, shop, "Orders")
    page = signed_in(alice).get(f"/projects/{shop.id}?q=ord", htmx=False).text
    assert 'value="ord"' in page
    assert ">Orders</a>" in page
    assert ">Customers</a>" not in page


def test_tables_load_a_page_at_a_time(alice, shop, signed_in):
    make_tables(alice, shop, 60)
    client = signed_in(alice)
    first = client.get(f"/projects/{shop.id}", htmx=False).text
    assert ">Table 049</a>" in first
    assert ">Table 050</a>" not in first
    assert "Load more tables" in first
    more = client.get(f"/projects/{shop.id}/tables", query_string={"after": "Table 049"}).text
    assert ">Table 050</a>" in more
    assert ">Table 059</a>" in more
    assert "Load more tables" not in more


def test_field_counts_are_listed(alice, shop):
    table = add_table(alice, shop, "Orders")
    fields.create_field(alice, table.id, {"name": "Total", "data_type": "number"})
    rows, _ = table_list.list_tables(shop.id)
    assert rows[0].field_count == 2


# Lifecycle


def with_a_field(user, table):
    fields.create_field(user, table.id, {"name": "Title"})
    return table


def critical(user, table):
    return locks.acquire(table.id, user, "critical").lock_token


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        ([], ["active"]),
        (["active"], ["deprecated", "draft"]),
        (["active", "deprecated"], ["deleted", "draft"]),
        (["active", "deprecated", "deleted"], ["draft"]),
    ],
)
def test_only_the_spec_transitions_are_allowed(alice, shop, path, allowed):
    table = with_a_field(alice, add_table(alice, shop, "Orders"))
    token = critical(alice, table)
    for status in path:
        tables.transition(alice, table.id, status, confirm=True, lock_token=token)
    for status in ("draft", "active", "deprecated", "deleted"):
        if status in allowed:
            continue
        with pytest.raises(Conflict):
            tables.transition(alice, table.id, status, confirm=True, lock_token=token)
    assert DataTable.get_by_id(table.id).status == (path[-1] if path else "draft")


def test_activation_validates_the_table(alice, shop):
    table = add_table(alice, shop, "Orders")
    with pytest.raises(ValidationFailed) as caught:
        tables.transition(alice, table.id, "active")
    assert "at least one field" in caught.value.message
    with_a_field(alice, table)
    assert tables.transition(alice, table.id, "active").status == "active"


def test_deprecating_needs_a_critical_lock_and_a_confirmation(alice, shop):
    table = with_a_field(alice, add_table(alice, shop, "Orders"))
    tables.transition(alice, table.id, "active")
    with pytest.raises(Locked):
        tables.transition(alice, table.id, "deprecated", confirm=True)
    token = critical(alice, table)
    with pytest.raises(Conflict):
        tables.transition(alice, table.id, "deprecated", confirm=False, lock_token=token)
    moved = tables.transition(alice, table.id, "deprecated", confirm=True, lock_token=token)
    assert moved.status == "deprecated"


def test_deleted_tables_leave_the_list_but_show_with_a_filter(alice, shop, signed_in):
    table = with_a_field(alice, add_table(alice, shop, "Orders"))
    add_table(alice, shop, "Customers")
    token = critical(alice, table)
    for status in ("active", "deprecated", "deleted"):
        tables.transition(alice, table.id, status, confirm=True, lock_token=token)
    client = signed_in(alice)
    assert ">Orders</a>" not in client.get(f"/projects/{shop.id}", htmx=False).text
    deleted = client.get(f"/projects/{shop.id}/tables", query_string={"status": "deleted"}).text
    assert ">Orders</a>" in deleted
    assert ">Customers</a>" not in deleted


def test_deleted_tables_are_read_only_until_restored(alice, shop):
    table = with_a_field(alice, add_table(alice, shop, "Orders"))
    token = critical(alice, table)
    for status in ("active", "deprecated", "deleted"):
        tables.transition(alice, table.id, status, confirm=True, lock_token=token)
    with pytest.raises(Conflict):
        fields.create_field(alice, table.id, {"name": "Late"}, token)
    tables.transition(alice, table.id, "draft", lock_token=token)
    assert fields.create_field(alice, table.id, {"name": "Late"}, token).name == "Late"


def test_the_lifecycle_buttons_take_the_critical_lock_they_need(alice, shop, signed_in):
    table = with_a_field(alice, add_table(alice, shop, "Orders"))
    tables.transition(alice, table.id, "active")
    response = signed_in(alice).post(
        f"/tables/{table.id}/transition",
        data={"status": "deprecated", "confirm": "1", "take_lock": "1"},
    )
    assert response.headers["HX-Redirect"] == f"/tables/{table.id}"
    assert DataTable.get_by_id(table.id).status == "deprecated"
    assert locks.active_lock(table.id) is None


def test_draft_tables_can_be_discarded_from_the_page(alice, shop, signed_in):
    table = add_table(alice, shop, "Scratch")
    response = signed_in(alice).delete(f"/tables/{table.id}")
    assert response.headers["HX-Redirect"] == f"/projects/{shop.id}"
    assert DataTable.select().count() == 0
    assert DataField.select().count() == 0


def test_active_tables_cannot_be_discarded(alice, shop):
    table = with_a_field(alice, add_table(alice, shop, "Orders"))
    token = critical(alice, table)
    tables.transition(alice, table.id, "active", lock_token=token)
    with pytest.raises(Conflict):
        tables.delete_table(alice, table.id, token)


# Activity


def test_each_change_is_recorded_in_the_activity_feed(alice, shop, signed_in):
    table = add_table(alice, shop, "Orders")
    fields.create_field(alice, table.id, {"name": "Total", "data_type": "number"})
    summaries = [e.summary for e in ActivityEntry.select().order_by(ActivityEntry.created_at)]
    assert summaries == ["created table Orders (orders)", "added Total (total) to Orders"]
    page = signed_in(alice).get(f"/projects/{shop.id}", htmx=False).text
    assert "added Total (total) to Orders" in page


def test_a_failed_change_records_no_activity(alice, shop):
    add_table(alice, shop, "Orders")
    with pytest.raises(ValidationFailed):
        add_table(alice, shop, "Orders")
    assert ActivityEntry.select().count() == 1


def test_old_activity_rotates_out(alice, shop, monkeypatch):
    from designer.settings import settings

    monkeypatch.setattr(settings, "activity_keep", 3)
    for name in ("A", "B", "C", "D", "E"):
        add_table(alice, shop, name)
    kept = [e.summary for e in ActivityEntry.select().order_by(ActivityEntry.created_at)]
    assert kept == ["created table C (c)", "created table D (d)", "created table E (e)"]
