"""In the browser: designing a table and its fields inline."""

import re
import threading
import time

import pytest
from playwright.sync_api import expect

from designer import projects
from designer.design import fields
from designer.design import tables
from tests.e2e.conftest import sign_in


@pytest.fixture
def shop(user):
    return projects.create_project(user, "Shop")


@pytest.fixture
def orders(user, shop):
    table = tables.create_table(user, shop.id, "Orders")
    for name in ("Email", "Total", "Placed"):
        fields.create_field(user, table.id, {"name": name})
    return table


def row(page, name):
    return page.locator("#field-rows tr").filter(
        has=page.get_by_role("cell", name=name, exact=True)
    )


def field_names(page):
    return page.locator("#field-rows tr td:nth-child(3) code").all_inner_texts()


def add_field(page, name, data_type="text", **settings):
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("Type", exact=True).select_option(data_type)
    for label, value in settings.items():
        control = page.get_by_label(label.replace("_", " "), exact=True)
        if value is True:
            control.check()
        elif control.evaluate("el => el.tagName") == "SELECT":
            control.select_option(value)
        else:
            control.fill(value)
    page.get_by_role("button", name="Save").click()
    expect(row(page, name)).to_have_count(1)


def test_what_is_typed_while_the_type_settings_load_is_kept(page, app, user, orders):
    """On a slow server the settings of a newly chosen type arrive after the person has
    typed on: their typing stays, the new settings come around it."""
    settings_view = app.view_functions["fields.type_settings"]
    answered = threading.Event()

    def slow(*args, **kwargs):
        time.sleep(1.0)
        try:
            return settings_view(*args, **kwargs)
        finally:
            answered.set()

    sign_in(page)
    page.goto(f"/tables/{orders.id}")
    page.get_by_role("button", name="Add field").click()
    page.get_by_label("Name", exact=True).fill("Price")
    page.get_by_label("Type", exact=True).select_option("number")
    expect(page.get_by_label("Number type", exact=True)).to_be_visible()
    app.view_functions["fields.type_settings"] = slow
    try:
        page.get_by_label("Number type", exact=True).select_option("decimal")
        page.get_by_label("Precision", exact=True).fill("10")
        page.get_by_label("Scale", exact=True).fill("3")
        page.get_by_label("Minimum", exact=True).fill("5")
        assert not answered.is_set()  # typed before the settings came
        answered.wait(10)
    finally:
        app.view_functions["fields.type_settings"] = settings_view
    page.wait_for_load_state("networkidle")
    expect(page.get_by_label("Number type", exact=True)).to_have_value("decimal")
    expect(page.get_by_label("Precision", exact=True)).to_have_value("10")
    expect(page.get_by_label("Scale", exact=True)).to_have_value("3")
    expect(page.get_by_label("Minimum", exact=True)).to_have_value("5")
    page.get_by_role("button", name="Save").click()
    expect(row(page, "Price")).to_contain_text("numeric(10,3)")
    expect(row(page, "Price")).to_contain_text("≥ 5")


def test_add_a_table_with_fields_of_all_four_types(page, user, shop):
    sign_in(page)
    page.goto(f"/projects/{shop.id}")
    page.get_by_role("button", name="Add table").click()
    page.get_by_label("Name", exact=True).press_sequentially("Customer Orders")
    expect(page.get_by_label("Table name")).to_have_value("customer_orders")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name="Customer Orders")).to_be_visible()

    page.get_by_role("button", name="Add field").click()
    add_field(page, "Email", Max_length="120", Required=True, Unique=True)
    add_field(
        page, "Total", "number", Number_type="decimal", Precision="10", Scale="2", Minimum="0"
    )
    add_field(page, "Placed at", "date", Date_type="timestamptz", Default="now()")
    add_field(page, "Paid", "boolean", Default="no")

    expect(row(page, "Email")).to_contain_text("varchar(120)")
    expect(row(page, "Email")).to_contain_text("unique")
    expect(row(page, "Total")).to_contain_text("numeric(10,2)")
    expect(row(page, "Total")).to_contain_text("≥ 0")
    expect(row(page, "Placed at")).to_contain_text("timestamptz")
    expect(row(page, "Placed at")).to_contain_text("now()")
    expect(row(page, "Paid")).to_contain_text("false")
    assert field_names(page) == ["id", "email", "total", "placed_at", "paid"]
    page.reload()
    assert field_names(page) == ["id", "email", "total", "placed_at", "paid"]


def test_edit_inline_with_a_validation_error_then_a_correction(page, user, orders):
    sign_in(page)
    page.goto(f"/tables/{orders.id}")
    row(page, "Email").get_by_role("button", name="Edit").click()
    column = page.get_by_label("Column name")
    column.fill("Contact Email")
    column.press("Enter")
    expect(page.get_by_text("only lowercase letters")).to_be_visible()
    expect(column).to_have_attribute("aria-invalid", "true")
    expect(column).to_have_value("Contact Email")
    column.fill("contact_email")
    column.press("Enter")
    expect(row(page, "Email")).to_contain_text("contact_email")
    expect(page.get_by_label("Column name")).to_have_count(0)


def test_escape_cancels_a_field_edit(page, user, orders):
    sign_in(page)
    page.goto(f"/tables/{orders.id}")
    row(page, "Email").get_by_role("button", name="Edit").click()
    page.get_by_label("Name", exact=True).fill("Changed")
    page.get_by_label("Name", exact=True).press("Escape")
    expect(row(page, "Email")).to_have_count(1)
    expect(page.get_by_text("Nobody is reshaping this table")).to_be_visible()


def test_reorder_with_the_keyboard_and_by_dragging(page, user, orders):
    sign_in(page)
    page.goto(f"/tables/{orders.id}")
    page.get_by_role("button", name="Move Placed up").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#field-rows tr").nth(2)).to_contain_text("Placed")
    assert field_names(page) == ["id", "email", "placed", "total"]

    handle = row(page, "Total").locator(".drag-handle")
    with page.expect_response(lambda response: "/fields/order" in response.url):
        handle.drag_to(row(page, "Email").locator(".drag-handle"))
    expect(page.locator("#field-rows tr").nth(1)).to_contain_text("Total")
    page.reload()
    assert field_names(page)[0:2] == ["id", "total"]


def test_delete_a_field_after_confirming(page, user, orders):
    sign_in(page)
    page.goto(f"/tables/{orders.id}")
    page.once("dialog", lambda dialog: dialog.accept())
    row(page, "Total").get_by_role("button", name="Delete").click()
    expect(row(page, "Total")).to_have_count(0)
    page.reload()
    assert field_names(page) == ["id", "email", "placed"]


def test_a_stale_edit_in_a_second_window_shows_the_conflict(windows, user, orders):
    a, b = windows(), windows()
    for page in (a, b):
        sign_in(page)
        page.goto(f"/tables/{orders.id}")
        row(page, "Email").get_by_role("button", name="Edit").click()
        expect(page.get_by_label("Name", exact=True)).to_be_visible()
    a.get_by_label("Name", exact=True).fill("E-mail address")
    a.get_by_role("button", name="Save").click()
    expect(row(a, "E-mail address")).to_have_count(1)

    b.get_by_label("Name", exact=True).fill("Courriel")
    b.get_by_role("button", name="Save").click()
    expect(b.get_by_text("Someone else saved this first")).to_be_visible()
    expect(b.get_by_text("Now: E-mail address")).to_be_visible()
    expect(b.get_by_label("Name", exact=True)).to_have_value("Courriel")
    b.get_by_role("button", name="Save").click()
    expect(row(b, "Courriel")).to_have_count(1)


def test_status_transitions(page, user, orders):
    sign_in(page)
    page.goto(f"/tables/{orders.id}")
    heading = page.get_by_role("heading", level=1)
    page.on("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Activate").click()
    expect(heading).to_contain_text("Active")
    page.get_by_role("button", name="Deprecate").click()
    expect(heading).to_contain_text("Deprecated")
    page.get_by_role("button", name="Delete", exact=True).click()
    expect(heading).to_contain_text("Deleted")
    expect(page.get_by_role("button", name="Add field")).to_have_count(0)
    page.get_by_role("button", name="Restore to draft").click()
    expect(heading).to_contain_text("Draft")
    page.goto(f"/projects/{orders.project_id}")
    expect(page.get_by_role("link", name="Orders")).to_be_visible()
    expect(page.get_by_role("cell", name=re.compile("Draft"))).to_be_visible()
