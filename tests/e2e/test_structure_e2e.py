"""In the browser: a table's constraints and indexes, added and corrected on its page."""

import pytest
from playwright.sync_api import expect

from designer import projects
from designer.design import fields
from designer.design import tables
from designer.design.table_structure import listed
from designer.models import DataTable
from tests.e2e.conftest import sign_in


@pytest.fixture
def orders(user):
    shop = projects.create_project(user, "Shop")
    table = tables.create_table(user, shop.id, "Orders")
    for name, extra in (("Customer", {}), ("Code", {}), ("Deleted at", {"data_type": "date"})):
        fields.create_field(user, table.id, {"name": name, **extra})
    fields.create_field(user, table.id, {"name": "Amount", "data_type": "number"})
    return table


def section(page):
    return page.locator("#structure-list")


def test_add_a_unique_pair_a_check_and_a_partial_index(page, user, orders):
    sign_in(page)
    page.goto(f"/tables/{orders.id}")
    page.get_by_role("button", name="Add unique").click()
    page.get_by_role("textbox", name="Columns", exact=True).fill("customer, code")
    page.get_by_label("Name", exact=True).fill("orders_customer_code_key")
    page.get_by_role("button", name="Save").click()
    expect(section(page)).to_contain_text("UNIQUE (customer, code)")

    page.get_by_role("button", name="Add check").click()
    page.get_by_label("Expression").fill("amount > (SELECT 1)")
    page.get_by_role("button", name="Save").click()
    # Refused next to its input, the form still open with what was typed.
    expect(page.locator("#expression-error")).to_contain_text("subquery")
    expect(page.get_by_label("Expression")).to_have_value("amount > (SELECT 1)")
    page.get_by_label("Expression").fill("amount >= 0")
    page.get_by_role("button", name="Save").click()
    expect(section(page)).to_contain_text("CHECK (amount >= 0)")

    page.get_by_role("button", name="Add index").click()
    page.get_by_label("Keys").fill("lower(code), customer DESC")
    page.get_by_label("Only rows where").fill("deleted_at IS NULL")
    page.get_by_label("Name", exact=True).fill("orders_open_idx")
    page.get_by_label("Comment").fill("Open orders by code")
    page.get_by_role("button", name="Save").click()
    expect(section(page)).to_contain_text(
        "USING btree ((lower(code)), customer DESC) WHERE deleted_at IS NULL"
    )
    expect(page.get_by_role("button", name="Add index")).to_be_visible()

    kinds = [kind for kind, _ in listed(DataTable.get_by_id(orders.id))]
    assert kinds == ["uniques", "checks", "indexes"]

    # Edit the index's name; delete the check.
    page.get_by_role("button", name="Edit orders_open_idx").click()
    expect(page.get_by_label("Keys")).to_have_value("(lower(code)), customer DESC")
    page.get_by_label("Name", exact=True).fill("orders_live_idx")
    page.get_by_role("button", name="Save").click()
    expect(section(page)).to_contain_text("orders_live_idx")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete (generated name)").click()
    expect(section(page)).not_to_contain_text("CHECK")
