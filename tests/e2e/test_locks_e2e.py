"""Two people, two browsers: a lock appears, is refused, kept alive, then expires."""

import pytest
from playwright.sync_api import expect

from designer import accounts
from designer import fields
from designer import projects
from designer import tables
from designer.settings import settings
from tests.conftest import PASSWORD
from tests.e2e.conftest import sign_in

LEASE = 3


@pytest.fixture
def short_lease(monkeypatch):
    monkeypatch.setattr(settings, "lock_lease_seconds", LEASE)
    monkeypatch.setattr(settings, "lock_heartbeat_seconds", 1)


@pytest.fixture
def orders(user):
    accounts.create_user("bob", "bob@example.com", PASSWORD)
    project = projects.create_project(user, "Shop")
    projects.add_member(user, project.id, "bob", "editor")
    table = tables.create_table(user, project.id, "Orders")
    fields.create_field(user, table.id, {"name": "Email"})
    return table


def open_as(browser, base_url, username, table):
    context = browser.new_context(base_url=base_url)
    page = context.new_page()
    page.set_default_timeout(10_000)
    sign_in(page, username)
    page.goto(f"/tables/{table.id}")
    return context, page


def test_a_lock_is_seen_refused_kept_alive_and_expires(browser, base_url, orders, short_lease):
    alice_context, alice = open_as(browser, base_url, "alice", orders)
    bob_context, bob = open_as(browser, base_url, "bob", orders)
    bob_panel = bob.get_by_role("region", name="Lock")

    alice.get_by_label("Reason").fill("splitting the address")
    alice.get_by_role("button", name="Lock table").click()
    expect(alice.get_by_role("region", name="Lock")).to_contain_text("You hold")

    # Bob sees it without reloading, and his edit is refused.
    expect(bob_panel).to_contain_text("alice holds a pessimistic lock")
    expect(bob_panel).to_contain_text("splitting the address")
    bob.get_by_role("button", name="Edit Email").click()
    expect(bob.locator("#flash")).to_contain_text("alice holds a pessimistic lock")
    expect(bob.get_by_label("Column name")).to_have_count(0)

    # Alice's open page keeps the lock past one lease.
    bob.wait_for_timeout((LEASE + 1.5) * 1000)
    expect(bob_panel).to_contain_text("alice holds")

    # Alice leaves: within a lease the lock expires, Bob sees it go and takes it.
    alice_context.close()
    expect(bob_panel).to_contain_text("Available", timeout=(LEASE + 4) * 1000)
    bob.get_by_role("button", name="Lock table").click()
    expect(bob_panel).to_contain_text("You hold")
    bob_context.close()


def test_a_holder_is_told_at_once_when_an_owner_forces_the_lock(
    browser, base_url, orders, short_lease
):
    bob_context, bob = open_as(browser, base_url, "bob", orders)
    alice_context, alice = open_as(browser, base_url, "alice", orders)
    bob.get_by_role("button", name="Lock table").click()
    expect(alice.get_by_role("region", name="Lock")).to_contain_text("bob holds")
    alice.once("dialog", lambda dialog: dialog.accept())
    alice.get_by_role("button", name="Force release").click()
    expect(alice.get_by_role("region", name="Lock")).to_contain_text("Available")
    expect(bob.get_by_role("region", name="Lock")).to_contain_text("released by a project owner")
    alice_context.close()
    bob_context.close()
