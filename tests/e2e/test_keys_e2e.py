"""In the browser: choosing a table's primary key on its page, a natural one and a
composite one in a chosen order, and linking a table to a composite key."""

import pytest
from playwright.sync_api import expect

from designer import projects
from designer.design import fields
from designer.design import primary_keys
from designer.design import tables
from designer.history import snapshot
from tests.e2e.conftest import sign_in
from tests.on_target import on_target


@pytest.fixture
def shop(user):
    return projects.create_project(user, "Shop")


def key_of(shop, table):
    entry = snapshot.build(shop.id)["tables"][str(table.id)]
    return [entry["fields"][f]["field_name"] for f in entry["structure"]["primary_key"]]


def test_a_natural_key_is_chosen_on_the_table_page(page, user, shop):
    countries = tables.create_table(user, shop.id, "Countries")
    code = fields.create_field(user, countries.id, {"name": "Code", "max_length": "2"})
    fields.create_field(user, countries.id, {"name": "Label"})
    sign_in(page)
    page.goto(f"/tables/{countries.id}")
    expect(page.locator("#primary-key")).to_contain_text("the designer's id")
    page.get_by_text("Choose the primary key").click()
    page.get_by_label("These columns, in this order").check()
    page.get_by_label("Key position of Code").select_option("1")
    page.get_by_role("button", name="Save key").click()
    expect(page.locator("#primary-key")).to_contain_text("code")
    expect(page.locator(f"#field-{code.id}")).to_contain_text("primary key")
    assert key_of(shop, countries) == ["code"]
    # The designer's id is no longer the key: it may go now.
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete ID").click()
    expect(page.locator("#field-rows")).not_to_contain_text("system")


def test_a_composite_key_keeps_the_order_chosen_and_takes_a_composite_link(page, user, shop):
    lines = tables.create_table(user, shop.id, "Order lines")
    fields.create_field(user, lines.id, {"name": "Order no", "data_type": "number"})
    fields.create_field(user, lines.id, {"name": "Line no", "data_type": "number"})
    tables.create_table(user, shop.id, "Shipments")
    sign_in(page)
    page.goto(f"/tables/{lines.id}")
    page.get_by_text("Choose the primary key").click()
    page.get_by_label("These columns, in this order").check()
    page.get_by_label("Key position of Line no").select_option("1")
    page.get_by_label("Key position of Order no").select_option("2")
    page.get_by_role("button", name="Save key").click()
    expect(page.locator("#primary-key")).to_contain_text("line_no, order_no")
    expect(page.locator("#field-rows")).to_contain_text("key 2")
    assert key_of(shop, lines) == ["line_no", "order_no"]
    # Two columns at one position are refused, saying why; the key stays as it was.
    page.get_by_text("Choose the primary key").click()
    page.get_by_label("Key position of Order no").select_option("1")
    page.get_by_role("button", name="Save key").click()
    expect(page.locator("#flash")).to_contain_text("Two columns are at position 1")
    assert key_of(shop, lines) == ["line_no", "order_no"]

    # The relationship form offers that key whole (tests/integration/test_keys.py posts it).
    page.goto(f"/projects/{shop.id}/relationships")
    page.get_by_label("One table").fill("Order lines")
    page.get_by_label("Many table").fill("Shipments")
    page.get_by_label("Many table").press("Tab")  # the change refreshes the form's choices
    # The first refresh names the new column with inflect, loaded on first use: slow on a
    # busy machine, so this waits longer than the page's default.
    expect(page.get_by_label("Key", exact=True)).to_contain_text(
        "(line_no, order_no) (primary key)", timeout=60_000
    )


def test_a_composite_relationship_is_added_in_the_browser_and_deploys(page, user, shop):
    """The relationship form's submit to a two-column key: a new column for each key column,
    in the key's order, shown on the table page and deployed as one foreign key."""
    lines = tables.create_table(user, shop.id, "Order lines")
    order_no = fields.create_field(
        user, lines.id, {"name": "Order no", "data_type": "number", "number_type": "integer"}
    )
    line_no = fields.create_field(
        user, lines.id, {"name": "Line no", "data_type": "number", "number_type": "smallint"}
    )
    primary_keys.set_primary_key(user, lines.id, [str(order_no.id), str(line_no.id)])
    shipments = tables.create_table(user, shop.id, "Shipments")
    sign_in(page)
    page.goto(f"/tables/{shipments.id}")
    page.get_by_role("button", name="Add relationship").click()
    expect(page.get_by_label("Many table")).to_have_value("Shipments")
    page.get_by_label("One table").fill("Order lines")
    page.get_by_label("One table").press("Tab")  # the change refreshes the form's choices
    # The first refresh names the new column with inflect, loaded on first use: slow on a
    # busy machine, so this waits longer than the page's default.
    expect(page.get_by_label("Key", exact=True)).to_contain_text(
        "(order_no, line_no) (primary key)", timeout=60_000
    )
    page.get_by_label("On delete").select_option("cascade")
    page.get_by_role("button", name="Add relationship").click()
    expect(page.locator("#flash")).to_contain_text("added.", timeout=30_000)
    rows = page.locator("#field-rows")
    expect(rows).to_contain_text("order_line_order_no")
    expect(rows).to_contain_text("order_line_line_no")
    expect(rows).to_contain_text("FK → order_lines")
    entry = snapshot.build(shop.id)
    [rel] = entry["relationships"].values()
    made = entry["tables"][str(shipments.id)]["fields"]
    assert [made[f]["field_name"] for _, f in rel["pairs"]] == [
        "order_line_order_no", "order_line_line_no",
    ]  # fmt: skip

    # Activated, both tables deploy with one foreign key over the two columns.
    page.goto(f"/tables/{lines.id}")
    page.get_by_role("button", name="Activate").click()
    expect(page.get_by_text("“Order lines” is now active.")).to_be_visible()
    page.goto(f"/tables/{shipments.id}")
    page.get_by_role("button", name="Activate").click()
    expect(page.get_by_text("“Shipments” is now active.")).to_be_visible()
    assert on_target(
        "SELECT pg_get_constraintdef(oid) FROM pg_constraint"
        " WHERE conrelid = 'shop.shipments'::regclass AND contype = 'f'"
    ) == [
        (
            "FOREIGN KEY (order_line_order_no, order_line_line_no)"
            " REFERENCES shop.order_lines(order_no, line_no) ON DELETE CASCADE",
        )
    ]
    types = on_target(
        "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute"
        " WHERE attrelid = 'shop.shipments'::regclass AND attname LIKE 'order_line_%%'"
        " ORDER BY attnum"
    )
    assert types == [("order_line_order_no", "integer"), ("order_line_line_no", "smallint")]
