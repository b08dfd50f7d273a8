"""In the browser: save two versions, compare them on the timeline, restore the first."""

import pytest
from playwright.sync_api import expect

from designer import projects
from designer.design import fields
from designer.design import tables
from tests.e2e.conftest import sign_in


@pytest.fixture
def orders(user):
    project = projects.create_project(user, "Shop")
    table = tables.create_table(user, project.id, "Orders")
    fields.create_field(user, table.id, {"name": "Email"})
    return table


def save_version(page, message):
    page.get_by_role("link", name="Timeline").click()
    page.get_by_label("Message").fill(message)
    page.get_by_role("button", name="Save version").click()
    expect(page.get_by_role("cell", name=message)).to_be_visible()


def test_save_compare_and_restore(page, user, orders):
    sign_in(page)
    page.goto(f"/projects/{orders.project_id}")
    page.get_by_role("link", name="Timeline").click()
    expect(page.get_by_text("+1 table not saved yet")).to_be_visible()
    save_version(page, "First cut")

    page.goto(f"/tables/{orders.id}")
    page.get_by_role("button", name="Edit Email").click()
    page.get_by_label("Column name").fill("contact_email")
    page.get_by_label("Column name").press("Enter")
    expect(page.locator("#field-rows")).to_contain_text("contact_email")
    page.get_by_role("link", name="Shop").click()
    save_version(page, "Clearer names")

    page.get_by_label("From", exact=True).select_option("1")
    page.get_by_label("To", exact=True).select_option("2")
    page.get_by_role("button", name="Compare").click()
    expect(page.get_by_role("heading", name="v1 → v2")).to_be_visible()
    change = page.get_by_role("row").filter(has_text="renamed column orders.email to contact_email")
    expect(change).to_contain_text("email")
    expect(change).to_contain_text("contact_email")

    page.get_by_role("link", name="Back to the timeline").click()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Restore version 1").click()
    expect(page.get_by_text("Restored version 1 as version 3.")).to_be_visible()
    expect(page.get_by_role("cell", name="Restored version 1")).to_be_visible()
    page.goto(f"/tables/{orders.id}")
    expect(page.locator("#field-rows")).to_contain_text("email")
    expect(page.locator("#field-rows")).not_to_contain_text("contact_email")
