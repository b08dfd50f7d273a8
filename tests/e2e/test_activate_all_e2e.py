"""In the browser: import a small file, activate all its Draft tables at once, see them deployed."""

from playwright.sync_api import expect

from designer import projects
from designer.design import fields
from designer.design import tables
from designer.models import DataTable
from tests.e2e.conftest import sign_in
from tests.on_target import on_target

SMALL = """
CREATE TABLE artist (id serial PRIMARY KEY, name varchar(120) NOT NULL);
CREATE TABLE album (
    id serial PRIMARY KEY,
    title varchar(160) NOT NULL,
    artist_id integer NOT NULL REFERENCES artist (id)
);
CREATE TABLE track (
    id serial PRIMARY KEY,
    name varchar(200) NOT NULL,
    album_id integer REFERENCES album (id),
    milliseconds integer NOT NULL
);
"""


def test_import_then_activate_all_draft_tables(page, user, tmp_path):
    music = projects.create_project(user, "Music")
    source = tmp_path / "music.sql"
    source.write_text(SMALL)
    sign_in(page)
    page.goto(f"/projects/{music.id}")
    page.get_by_role("link", name="Import & export").click()
    page.get_by_label("File").set_input_files(str(source))
    page.get_by_role("button", name="Preview import").click()
    page.locator("#import-preview").get_by_role("button", name="Import").last.click()
    expect(page.locator(".flash-success")).to_contain_text("Imported 3 tables")
    expect(page.locator("#activate-selected")).to_contain_text("3 Draft tables not deployed.")
    page.get_by_role("button", name="Activate all Draft tables").click()
    body = page.locator("#activation-body")
    expect(body.get_by_role("heading", name="Activate 3 Draft tables")).to_be_visible()
    expect(body.locator(".kinds")).to_contain_text("safe")
    body.get_by_role("button", name="Dry run").click()
    expect(body).to_contain_text("Dry run passed")
    assert {t.status for t in DataTable.select()} == {"draft"}
    page.once("dialog", lambda dialog: dialog.accept())
    body.get_by_role("button", name="Activate 3 tables").click()
    expect(page.locator(".flash-success")).to_contain_text(
        "3 tables are now Active and deployed to"
    )
    expect(page.locator("#deploy-body")).to_contain_text("Nothing pending")
    page.get_by_role("link", name="Tables").click()
    statuses = page.locator("#table-list .status")
    expect(statuses).to_have_text(["Active", "Active", "Active"])
    deployed = on_target(
        "SELECT tablename FROM pg_tables WHERE schemaname = %s ORDER BY 1", (music.target_schema,)
    )
    assert [row[0] for row in deployed] == ["album", "artist", "track"]


def test_ticked_tables_stay_ticked_through_a_live_refresh_and_are_the_ones_reviewed(page, user):
    shop = projects.create_project(user, "Shop")
    for name in ("Orders", "Customers"):
        table = tables.create_table(user, shop.id, name)
        fields.create_field(user, table.id, {"name": "Note"})
    sign_in(page)
    page.goto(f"/projects/{shop.id}")
    page.get_by_label("Select Orders to activate").check()
    # A change from elsewhere: the list is swapped in anew by the page's poll.
    tables.create_table(user, shop.id, "Invoices")
    expect(page.locator("#table-list")).to_contain_text("invoices")
    expect(page.get_by_label("Select Orders to activate")).to_be_checked()
    expect(page.get_by_label("Select Customers to activate")).not_to_be_checked()
    page.get_by_role("button", name="Activate selected").click()
    body = page.locator("#activation-body")
    expect(body.get_by_role("heading", name="Activate 1 Draft table")).to_be_visible()
    expect(body.locator(".chosen-tables")).to_contain_text("orders")
