"""In the browser: the small frictions of a first hour, fixed (times, narrow screens, overlap)."""

import datetime

import pytest
from playwright.sync_api import expect

from designer import projects
from designer.design import fields
from designer.design import tables
from tests.e2e.conftest import sign_in

TOKYO = datetime.timezone(datetime.timedelta(hours=9))


@pytest.fixture
def shop(user):
    return projects.create_project(user, "Shop")


@pytest.fixture
def orders(user, shop):
    table = tables.create_table(user, shop.id, "Orders")
    for name in ("Email", "Total", "Placed"):
        fields.create_field(user, table.id, {"name": name})
    return table


@pytest.fixture
def window(browser, base_url):
    """window(**context options): a page of a browser context of its own."""
    contexts = []

    def open_window(**options):
        context = browser.new_context(base_url=base_url, **options)
        contexts.append(context)
        return context.new_page()

    yield open_window
    for context in contexts:
        context.close()


def test_times_are_local_with_utc_in_the_tooltip(window, user, shop):
    page = window(timezone_id="Asia/Tokyo")
    sign_in(page)
    updated = projects.Project.get_by_id(shop.id).updated_at
    moment = page.locator("#main time").first
    expect(moment).to_have_text(f"{updated.astimezone(TOKYO):%Y-%m-%d %H:%M}")
    utc = updated.astimezone(datetime.UTC)
    expect(moment).to_have_attribute("title", f"{utc:%Y-%m-%d %H:%M:%S} UTC")


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_at_800_px_edit_and_delete_show_without_scrolling(window, user, orders, scheme):
    wide = {"name": "Album id", "data_type": "number", "number_type": "integer"}
    fields.create_field(user, orders.id, {**wide, "is_required": True, "unique": True})
    title = {"name": "Title", "max_length": 160, "is_required": True, "default_value": "none"}
    fields.create_field(user, orders.id, title)
    page = window(viewport={"width": 800, "height": 900}, color_scheme=scheme)
    sign_in(page)
    page.goto(f"/tables/{orders.id}")
    section = page.locator(".fields-section")
    hidden = section.evaluate("s => s.scrollWidth - s.clientWidth")
    assert hidden <= 0, f"{hidden} px of the fields table scroll out of sight"
    right = section.evaluate("s => s.getBoundingClientRect().right")
    for name in ("Edit Email", "Delete Email"):
        box = page.get_by_role("button", name=name).bounding_box()
        assert box["x"] + box["width"] <= right, name


@pytest.mark.parametrize("width", [1280, 800])
def test_a_filled_search_box_stays_clear_of_the_status_filter(window, user, shop, width):
    tables.create_table(user, shop.id, "Customers")
    page = window(viewport={"width": width, "height": 800})
    sign_in(page)
    page.goto(f"/projects/{shop.id}")
    search = page.get_by_label("Search tables")
    search.fill("a search long enough to fill the whole box and then some more")
    status = page.get_by_label("Status")
    search_box, status_box = search.bounding_box(), status.bounding_box()
    assert search_box["x"] + search_box["width"] + 4 <= status_box["x"]
    # Two controls of their own, not one pill whose parts share a border.
    corner = "(e, side) => getComputedStyle(e)[side]"
    assert search.evaluate(corner, "borderTopRightRadius") != "0px"
    assert status.evaluate(corner, "borderTopLeftRadius") != "0px"
    idle = page.locator("#table-filters .htmx-indicator").bounding_box()
    assert idle["width"] < 30, "the idle progress mark takes no box of its own"


def test_focus_stays_on_the_move_button_through_the_next_live_refresh(page, user, orders):
    sign_in(page)
    page.goto(f"/tables/{orders.id}")
    move = page.get_by_role("button", name="Move Placed up")
    with page.expect_response(lambda r: r.url.endswith("/order") or "/move" in r.url):
        move.click()
    expect(move).to_be_focused()
    # The page's own poll then brings the moved rows again (the version changed).
    with page.expect_response(lambda r: "/live" in r.url and r.status == 200):
        pass
    expect(page.get_by_role("button", name="Move Placed up")).to_be_focused()


def test_escape_on_the_add_field_form_returns_focus_to_add_field(page, user, orders):
    sign_in(page)
    page.goto(f"/tables/{orders.id}")
    page.get_by_role("button", name="Add field").click()
    name = page.get_by_label("Name", exact=True)
    expect(name).to_be_focused()
    name.press("Escape")
    expect(page.get_by_role("button", name="Add field")).to_be_focused()


def field_order(page):
    return page.locator("#field-rows tr.movable td:nth-child(2)").all_inner_texts()


def test_a_dragged_reorder_is_undone_from_the_toast_in_sight(window, user, orders):
    page = window(viewport={"width": 1280, "height": 800})
    sign_in(page)
    page.goto(f"/tables/{orders.id}")
    assert field_order(page) == ["Email", "Total", "Placed"]
    handles = page.locator("#field-rows tr.movable .drag-handle")
    with page.expect_response(lambda r: r.url.endswith("/fields/order")):
        handles.nth(2).drag_to(handles.nth(0))
    expect(page.locator("#field-rows tr.movable").first).to_contain_text("Placed")
    toast = page.locator("#undo-toast")
    expect(toast).to_contain_text("Reordered the fields.")
    expect(toast.get_by_role("button", name="Undo")).to_be_in_viewport()
    toast.get_by_role("button", name="Undo").click()
    expect(toast).to_contain_text("Undone: Reordered the fields.")
    assert field_order(page) == ["Email", "Total", "Placed"]


def test_ctrl_z_in_the_fields_table_undoes_a_move(page, user, orders):
    sign_in(page)
    page.goto(f"/tables/{orders.id}")
    move = page.get_by_role("button", name="Move Placed up")
    move.click()
    expect(page.locator("#undo-toast")).to_contain_text("Moved Placed.")
    expect(move).to_be_focused()
    page.keyboard.press("Control+z")
    expect(page.locator("#undo-toast")).to_contain_text("Undone: Moved Placed.")
    assert field_order(page) == ["Email", "Total", "Placed"]
