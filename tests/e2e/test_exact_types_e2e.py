"""In the browser: choosing an exact PostgreSQL type with the searchable picker, and an enum
made on the project's Enums page."""

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
    return tables.create_table(user, shop.id, "Orders")


def row(page, name):
    return page.locator("#field-rows tr").filter(
        has=page.get_by_role("cell", name=name, exact=True)
    )


def pick(page, word):
    picker = page.get_by_label("Find a type")
    picker.fill(word)
    picker.press("Tab")


def test_the_picker_finds_an_exact_type_and_its_family(page, user, orders):
    sign_in(page)
    page.goto(f"/tables/{orders.id}")
    page.get_by_role("button", name="Add field").click()
    page.get_by_label("Name", exact=True).fill("Token")
    pick(page, "uuid")
    expect(page.get_by_label("Text type")).to_have_value("uuid")
    page.get_by_label("Default", exact=True).fill("gen_random_uuid()")
    page.get_by_role("button", name="Save").click()
    expect(row(page, "Token")).to_contain_text("uuid")
    expect(row(page, "Token")).to_contain_text("gen_random_uuid()")

    page.get_by_label("Name", exact=True).fill("Quantity")
    pick(page, "smallint")
    expect(page.get_by_label("Type", exact=True)).to_have_value("number")
    expect(page.get_by_label("Number type")).to_have_value("smallint")
    page.get_by_role("button", name="Save").click()
    expect(row(page, "Quantity")).to_contain_text("smallint")

    page.get_by_label("Name", exact=True).fill("Placed at")
    pick(page, "timestamptz")
    page.get_by_label("Fractional digits").fill("3")
    page.get_by_role("button", name="Save").click()
    expect(row(page, "Placed at")).to_contain_text("timestamptz(3)")


def test_an_enum_made_on_the_enums_page_types_a_field(page, user, shop, orders):
    sign_in(page)
    page.goto(f"/projects/{shop.id}")
    page.get_by_role("link", name="Enums").click()
    page.locator("#new-enum-name").fill("mood")
    page.locator("#new-enum-labels").fill("sad\nok\nhappy")
    page.get_by_role("button", name="Create enum").click()
    expect(page.get_by_text("Enum mood created.")).to_be_visible()
    labels = page.locator("#enum-mood textarea")
    labels.fill("blue\nok\nhappy\necstatic")
    page.get_by_role("button", name="Save mood").click()
    expect(page.get_by_text("Enum mood saved.")).to_be_visible()
    expect(page.locator("#enum-mood textarea")).to_have_value("blue\nok\nhappy\necstatic")
    page.locator("#enum-mood textarea").fill("blue\nhappy")
    page.get_by_role("button", name="Save mood").click()
    expect(page.get_by_text("cannot be removed")).to_be_visible()

    page.goto(f"/tables/{orders.id}")
    page.get_by_role("button", name="Add field").click()
    page.get_by_label("Name", exact=True).fill("Mood")
    pick(page, "enum")
    page.get_by_label("Enum", exact=True).select_option(label="mood")
    page.get_by_label("Default", exact=True).fill("ok")
    page.get_by_role("button", name="Save").click()
    expect(row(page, "Mood")).to_contain_text('"mood"')


def test_a_column_made_generated_on_the_field_form(page, user, orders):
    fields.create_field(user, orders.id, {"name": "Length", "data_type": "number"})
    sign_in(page)
    page.goto(f"/tables/{orders.id}")
    page.get_by_role("button", name="Add field").click()
    page.get_by_label("Name", exact=True).fill("Hours")
    pick(page, "numeric")
    generated = page.get_by_label("Generated as")
    generated.fill("nextval('s')")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("nextval() is not a function a design may call")).to_be_visible()
    expect(generated).to_have_attribute("aria-invalid", "true")
    generated.fill("round(length / 60.0, 2)")
    page.get_by_role("button", name="Save").click()
    expect(row(page, "Hours")).to_contain_text("generated")
    expect(row(page, "Hours")).to_contain_text("round(length / 60.0, 2)")
    # Renaming the column it reads: the expression reads the new name (stored by field id).
    page.keyboard.press("Escape")
    row(page, "Length").get_by_role("button", name="Edit").click()
    page.get_by_label("Column name").fill("minutes")
    page.get_by_label("Column name").press("Enter")
    expect(row(page, "Hours")).to_contain_text("round(minutes / 60.0, 2)")
    row(page, "Hours").get_by_role("button", name="Edit").click()
    expect(page.get_by_label("Generated as")).to_have_value("round(minutes / 60.0, 2)")
