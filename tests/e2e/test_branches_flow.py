"""In the browser (#28): alice forks a branch, renames a column and adds a table on it; bob
renames another column on main; alice opens a merge request, bob approves it, alice merges
it and deploys main, and the target holds both renames."""

import pytest
from playwright.sync_api import expect

from designer import accounts
from designer import projects
from designer.database import deploy
from designer.design import fields
from designer.design import tables
from tests.conftest import PASSWORD
from tests.e2e.conftest import sign_in
from tests.on_target import on_target


@pytest.fixture
def shop(user):
    """Shop with customers(email) and orders(total), both deployed; bob edits it too."""
    accounts.create_user("bob", "bob@example.com", PASSWORD)
    project = projects.create_project(user, "Shop")
    projects.add_member(user, project.id, "bob", "editor")
    customers = tables.create_table(user, project.id, "Customers")
    fields.create_field(user, customers.id, {"name": "Email"})
    orders = tables.create_table(user, project.id, "Orders")
    fields.create_field(user, orders.id, {"name": "Total", "data_type": "number"})
    deploy.transition(user, customers.id, "active")
    deploy.transition(user, orders.id, "active")
    return project


def rename_column(page, table, field, new_name):
    page.get_by_role("link", name=table, exact=True).click()
    page.get_by_role("button", name=f"Edit {field}").click()
    page.get_by_label("Column name").fill(new_name)
    page.get_by_label("Column name").press("Enter")
    expect(page.locator("#field-rows")).to_contain_text(new_name)
    expect(page.get_by_label("Column name")).to_have_count(0)


def test_fork_edit_review_approve_merge_and_deploy(page, windows, user, shop):
    sign_in(page)
    page.goto(f"/projects/{shop.id}")
    page.get_by_role("link", name="Branches").click()
    page.get_by_label("Branch name").fill("redesign")
    page.get_by_role("button", name="Fork branch").click()
    banner = page.locator(".branch-banner")
    expect(banner).to_contain_text("Branch redesign of Shop")
    expect(page.get_by_label("Branch", exact=True)).to_have_value(page.url.rsplit("/", 1)[-1])

    rename_column(page, "Orders", "Total", "amount")
    expect(page.locator(".branch-banner")).to_contain_text("Branch redesign of Shop")
    # The switcher opens the same table on main, and back, as a tab would.
    page.get_by_label("Branch", exact=True).select_option(label="main: Shop")
    expect(page.locator(".branch-banner")).to_have_count(0)
    expect(page.get_by_role("heading", name="Orders")).to_be_visible()
    expect(page.locator("#field-rows")).to_contain_text("total")
    page.get_by_label("Branch", exact=True).select_option(label="redesign")
    expect(page.locator(".branch-banner")).to_contain_text("Branch redesign of Shop")
    expect(page.locator("#field-rows")).to_contain_text("amount")
    page.get_by_role("link", name="redesign", exact=True).click()
    page.get_by_role("button", name="Add table").click()
    page.get_by_label("Name", exact=True).press_sequentially("Invoices")
    expect(page.get_by_label("Table name")).to_have_value("invoices")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name="Invoices")).to_be_visible()

    bob = windows()
    sign_in(bob, "bob")
    bob.goto(f"/projects/{shop.id}")
    expect(bob.locator(".branch-banner")).to_have_count(0)
    rename_column(bob, "Customers", "Email", "mail")

    page.get_by_role("link", name="redesign", exact=True).click()
    page.get_by_role("link", name="Compare with main").click()
    expect(page.locator(".side-ours")).to_contain_text("customers.email to mail")
    expect(page.locator(".side-theirs")).to_contain_text("orders.total to amount")
    expect(page.locator(".side-theirs")).to_contain_text("invoices")
    expect(page.get_by_text("No conflicts")).to_be_visible()
    page.get_by_text("Open a merge request").click()
    page.get_by_label("Title").fill("Amount, and invoices")
    page.get_by_role("button", name="Open merge request").click()
    expect(page.get_by_role("heading", name="!1 Amount, and invoices")).to_be_visible()
    merge = page.get_by_role("button", name="Merge", exact=True)
    expect(merge).to_be_disabled()
    expect(page.get_by_text("an editor other than its author approves it")).to_be_visible()

    bob.get_by_role("link", name="Shop", exact=True).click()
    bob.get_by_role("link", name="Branches").click()
    bob.get_by_role("link", name="!1 Amount, and invoices").first.click()
    expect(bob.locator(".side-theirs")).to_contain_text("orders.total to amount")
    bob.get_by_label("Your comment").fill("Looks right")
    bob.get_by_role("button", name="Comment").click()
    expect(bob.locator("#comment-list")).to_contain_text("Looks right")
    bob.get_by_role("button", name="Approve").click()
    expect(bob.locator("#approvals")).to_contain_text("stands")

    # Alice's page follows: bob's comment and approval arrive without a reload.
    expect(page.locator("#comment-list")).to_contain_text("Looks right")
    expect(page.locator("#approvals")).to_contain_text("bob")
    expect(merge).to_be_enabled()
    page.once("dialog", lambda dialog: dialog.accept())
    merge.click()
    expect(page.locator("#review-body")).to_contain_text("Merged into Shop as version")

    page.get_by_role("link", name="Deploy it from the Deploy tab").click()
    expect(page.locator("#deploy-body")).to_contain_text('RENAME COLUMN "total" TO "amount"')
    expect(page.locator("#deploy-body")).to_contain_text('RENAME COLUMN "email" TO "mail"')
    page.get_by_role("button", name="Deploy", exact=True).click()
    expect(page.get_by_role("heading", name="Deployed")).to_be_visible()
    columns = on_target(
        "SELECT table_name, column_name FROM information_schema.columns"
        " WHERE table_schema = 'shop' AND column_name <> 'id' ORDER BY 1, 2"
    )
    assert columns == [("customers", "mail"), ("orders", "amount")]
