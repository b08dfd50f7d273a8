"""In the browser: two differences between the design and its schema, resolved one line at a
time from the Deploy tab, one put back on the database and one taken into the design."""

import os
import pathlib

import pytest
from playwright.sync_api import expect

from designer import projects
from designer.database import deploy
from designer.design import fields
from designer.design import tables
from tests.e2e.conftest import sign_in
from tests.on_target import as_owner_of
from tests.on_target import on_target

SHOTS = os.environ.get("SCREENSHOTS_DIR")


@pytest.fixture
def shop(user):
    project = projects.create_project(user, "Shop")
    orders = tables.create_table(user, project.id, "Orders")
    fields.create_field(user, orders.id, {"name": "Note", "max_length": "40"})
    fields.create_field(
        user, orders.id, {"name": "Paid", "data_type": "boolean", "default_value": "false"}
    )
    deploy.transition(user, orders.id, "active")
    return project, orders


def test_one_line_put_back_and_one_adopted(page, user, shop):
    project, orders = shop
    behind_the_back = as_owner_of("shop")
    behind_the_back("ALTER TABLE shop.orders ALTER COLUMN paid SET DEFAULT true")
    behind_the_back("ALTER TABLE shop.orders ALTER COLUMN note TYPE varchar(80)")
    sign_in(page)
    page.goto(f"/projects/{project.id}/deploy")
    lines = page.locator("#drift li.drift-line")
    expect(lines).to_have_count(2)
    paid = lines.filter(has_text="orders.paid")
    note = lines.filter(has_text="orders.note")

    # The default goes back on the database; the other line stays.
    paid.get_by_role("button", name="Dry run").click()
    expect(page.get_by_role("heading", name="Dry run passed")).to_be_visible()
    expect(page.locator(".deploy-result")).to_contain_text("SET DEFAULT false")
    paid.get_by_role("button", name="Put back").click()
    expect(page.get_by_role("heading", name="Deployed")).to_be_visible()
    expect(lines).to_have_count(1)
    expect(lines.first).to_contain_text("orders.note")
    default = on_target(
        "SELECT column_default FROM information_schema.columns"
        " WHERE table_schema = 'shop' AND table_name = 'orders' AND column_name = 'paid'"
    )
    assert default == [("false",)]

    # The wider type comes into the design; nothing runs on the database.
    page.once("dialog", lambda dialog: dialog.accept())
    note.get_by_role("button", name="Adopt").click()
    expect(page.get_by_role("heading", name="Adopted what shop holds")).to_be_visible()
    expect(page.locator("#drift")).to_contain_text("In sync")
    field = next(f for f in tables.ordered_fields(orders.id) if f.field_name == "note")
    assert field.field_config["max_length"] == 80
    page.goto(f"/projects/{project.id}/timeline")
    adopted = "Adopted from the database: column orders.note"
    expect(page.locator("#timeline")).to_contain_text(adopted)


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width", [1280, 800])
def test_each_lines_buttons_fit_the_window(browser, base_url, user, shop, width, scheme):
    project, _ = shop
    behind_the_back = as_owner_of("shop")
    behind_the_back("ALTER TABLE shop.orders ALTER COLUMN paid SET DEFAULT true")
    behind_the_back("ALTER TABLE shop.orders ADD COLUMN sneaky integer")
    behind_the_back("CREATE TABLE shop.scratch (id int PRIMARY KEY, label text)")
    options = {"viewport": {"width": width, "height": 800}, "color_scheme": scheme}
    context = browser.new_context(base_url=base_url, **options)
    try:
        page = context.new_page()
        sign_in(page)
        page.goto(f"/projects/{project.id}/deploy")
        lines = page.locator("#drift li.drift-line")
        expect(lines).to_have_count(3)
        scratch = lines.filter(has_text="table not in the design: scratch")
        expect(scratch).to_contain_text("lines that go with it")
        # What drops data asks for its confirmation on its own line.
        expect(scratch.get_by_label("drop it, with its data")).to_be_visible()
        for button in lines.get_by_role("button").all():
            box = button.bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= width
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        if SHOTS:
            pathlib.Path(SHOTS).mkdir(parents=True, exist_ok=True)
            page.locator("#drift").screenshot(path=f"{SHOTS}/drift-lines-{width}-{scheme}.png")
    finally:
        context.close()
