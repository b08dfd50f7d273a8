"""In the browser: focus that follows the work, search that finds columns, narrow screens."""

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


def focused_label(page):
    return page.evaluate(
        "document.activeElement && document.activeElement.getAttribute('aria-label')"
    )


def test_focus_returns_to_the_row_after_save_escape_and_move(page, user, orders):
    sign_in(page)
    page.goto(f"/tables/{orders.id}")
    page.get_by_role("button", name="Edit Email").click()
    name = page.get_by_label("Name", exact=True)
    expect(name).to_be_focused()
    name.fill("E-mail")
    name.press("Enter")
    expect(page.get_by_role("button", name="Edit E-mail")).to_be_focused()

    page.get_by_role("button", name="Edit Total").click()
    page.get_by_label("Name", exact=True).press("Escape")
    expect(page.get_by_role("button", name="Edit Total")).to_be_focused()

    page.get_by_role("button", name="Move Total up").click()
    expect(page.get_by_role("button", name="Move Total up")).to_be_focused()
    assert focused_label(page) == "Move Total up"


def test_a_validation_error_focuses_the_input_in_error(page, user, orders):
    sign_in(page)
    page.goto(f"/tables/{orders.id}")
    page.get_by_role("button", name="Add field").click()
    page.get_by_label("Name", exact=True).fill("Comment")
    page.get_by_label("Column name").fill("select")
    page.get_by_role("button", name="Save").click()
    column = page.get_by_label("Column name")
    expect(column).to_have_attribute("aria-invalid", "true")
    expect(column).to_be_focused()


def test_skip_to_fields_reaches_the_first_edit_in_a_few_presses(page, user, orders):
    sign_in(page)
    page.goto(f"/tables/{orders.id}")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to fields")).to_be_focused()
    page.keyboard.press("Enter")
    for _ in range(3):
        page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Edit Email")).to_be_focused()


def test_search_finds_a_column_and_back_keeps_it(page, user, shop, orders):
    tables.create_table(user, shop.id, "Customers")
    sign_in(page)
    page.goto(f"/projects/{shop.id}")
    page.get_by_label("Search tables").fill("placed")
    rows = page.locator("#table-list tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Orders")
    expect(rows.first).to_contain_text("column: Placed")
    expect(page).to_have_url(f"{page.url.split('?')[0]}?q=placed")
    rows.first.get_by_role("link", name="Orders").click()
    page.wait_for_url("**/tables/*")
    page.go_back()
    expect(page.get_by_label("Search tables")).to_have_value("placed")
    expect(page.locator("#table-list tbody tr")).to_have_count(1)
    page.reload()
    expect(page.locator("#table-list tbody tr")).to_have_count(1)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_at_800_px_nothing_overflows_sideways(browser, base_url, user, orders, scheme):
    fields.create_field(
        user, orders.id, {"name": "Customer loyalty programme membership tier history by version"}
    )
    context = browser.new_context(
        base_url=base_url, viewport={"width": 800, "height": 900}, color_scheme=scheme
    )
    try:
        page = context.new_page()
        sign_in(page)
        for path in (f"/tables/{orders.id}", f"/projects/{orders.project_id}"):
            page.goto(path)
            overflowing = page.evaluate(
                """() => [...document.querySelectorAll('main *')]
                    .filter(e => e.getBoundingClientRect().right > innerWidth + 1)
                    .map(e => e.tagName + ' ' + (e.getAttribute('aria-label') || ''))"""
            )
            assert overflowing == [], (path, overflowing)
        page.goto(f"/tables/{orders.id}")
        delete = page.get_by_role("button", name="Delete Email")
        box = delete.bounding_box()
        assert box["x"] + box["width"] <= 800
    finally:
        context.close()


def test_undo_brings_back_a_deleted_field(page, user, orders):
    sign_in(page)
    page.goto(f"/tables/{orders.id}")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete Total").click()
    expect(page.locator("#field-rows")).not_to_contain_text("Total")
    page.locator("#undo-toast").get_by_role("button", name="Undo").click()
    expect(page.locator("#field-rows")).to_contain_text("Total")
    expect(page.locator("#undo-toast")).to_contain_text("Undone: Deleted Total.")
