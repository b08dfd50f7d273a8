"""In the browser: deploy two related tables, rename a field keeping its data, a failed deploy."""

import pytest
from playwright.sync_api import expect

from designer import projects
from designer.database import deploy
from designer.design import fields
from designer.design import relationships
from designer.design import tables
from tests.e2e.conftest import sign_in
from tests.on_target import on_target


@pytest.fixture
def shop(user):
    project = projects.create_project(user, "Shop")
    customers = tables.create_table(user, project.id, "Customers")
    fields.create_field(user, customers.id, {"name": "Email"})
    orders = tables.create_table(user, project.id, "Orders")
    fields.create_field(user, orders.id, {"name": "Total", "data_type": "number"})
    relationships.create_relationship(
        user, project.id, {"source_table_id": customers.id, "target_table_id": orders.id}
    )
    return project, customers, orders


def test_two_related_tables_dry_run_then_deploy(page, user, shop):
    project, customers, orders = shop
    sign_in(page)
    page.goto(f"/tables/{customers.id}")
    page.get_by_role("button", name="Activate").click()
    expect(page.get_by_text("“Customers” is now active. Deployed to shop.")).to_be_visible()

    tables.transition(user, orders.id, "active")  # Active in the design, waiting for a deploy
    page.get_by_role("link", name="Shop").click()
    page.get_by_role("link", name="Deploy").click()
    expect(page.locator("#deploy-body")).to_contain_text('CREATE TABLE "shop"."orders"')
    expect(page.locator("#deploy-body")).to_contain_text("FOREIGN KEY")
    expect(page.locator("#deploy-body code .hljs-keyword").first).to_be_visible()
    page.get_by_role("button", name="Dry run").click()
    expect(page.get_by_text("Dry run passed")).to_be_visible()
    # The swapped-in result is highlighted too.
    expect(page.locator(".deploy-result code .hljs-keyword").first).to_be_visible()
    assert on_target("SELECT to_regclass('shop.orders')") == [(None,)]
    page.get_by_role("button", name="Deploy", exact=True).click()
    expect(page.get_by_role("heading", name="Deployed")).to_be_visible()
    expect(page.get_by_text("Nothing pending")).to_be_visible()
    assert on_target("SELECT to_regclass('shop.orders')::text") == [("shop.orders",)]

    page.get_by_role("link", name="Tables").click()
    expect(page.locator("#table-list")).to_contain_text("Active")
    page.goto(f"/tables/{orders.id}")
    expect(page.get_by_text("the database holds this table as designed")).to_be_visible()


def test_a_renamed_field_is_deployed_with_its_data_kept(page, user, shop):
    project, customers, _ = shop
    deploy.transition(user, customers.id, "active")
    on_target("INSERT INTO shop.customers (email) VALUES ('ada@example.com')")
    email = next(f for f in tables.ordered_fields(customers.id) if f.field_name == "email")
    fields.update_field(user, email.id, email.revision, {"field_name": "mail"}, partial=True)
    sign_in(page)
    page.goto(f"/projects/{project.id}/deploy")
    expect(page.locator("#deploy-body")).to_contain_text('RENAME COLUMN "email" TO "mail"')
    page.get_by_role("button", name="Deploy", exact=True).click()
    expect(page.get_by_role("heading", name="Deployed")).to_be_visible()
    assert on_target("SELECT mail FROM shop.customers") == [("ada@example.com",)]


def test_a_failing_deploy_shows_its_statement_and_changes_nothing(page, user, shop):
    project, customers, _ = shop
    deploy.transition(user, customers.id, "active")
    on_target("INSERT INTO shop.customers (email) VALUES (NULL)")
    email = next(f for f in tables.ordered_fields(customers.id) if f.field_name == "email")
    fields.update_field(user, email.id, email.revision, {"is_required": True}, partial=True)
    sign_in(page)
    page.goto(f"/projects/{project.id}/deploy")
    page.get_by_role("button", name="Deploy", exact=True).click()
    expect(page.get_by_role("heading", name="Deploy failed")).to_be_visible()
    error = page.locator("#deploy-body pre.error").first
    expect(error).to_contain_text('VALIDATE CONSTRAINT "customers_email_not_null"')
    expect(error).to_contain_text("1 rows")
    assert on_target(
        "SELECT is_nullable FROM information_schema.columns"
        " WHERE table_schema = 'shop' AND column_name = 'email'"
    ) == [("YES",)]
