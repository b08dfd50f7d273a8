"""An edit form's lock lasts while the person works, at the production ratios.

Production: edit idle 60 s, lease 120 s, heartbeat 20 s, lock panel poll 5 s,
live poll 3 s, leave grace 5 s. Here every interval is divided by 12, so the
ratios hold (the idle time is three heartbeats, half a lease) while two
browsers on a busy machine still get a few seconds between a keystroke and
the idle time.
"""

import re

import pytest
from playwright.sync_api import expect

from designer import accounts
from designer import locks
from designer import projects
from designer.design import fields
from designer.design import relationships
from designer.design import tables
from designer.models import TableLock
from designer.settings import settings
from tests.conftest import PASSWORD
from tests.e2e.conftest import sign_in

SCALE = 12
IDLE = 60 / SCALE
LEASE = 120 / SCALE


@pytest.fixture
def production_ratios(monkeypatch):
    for name, seconds in (
        ("lock_edit_idle_seconds", 60),
        ("lock_lease_seconds", 120),
        ("lock_heartbeat_seconds", 20),
        ("lock_watch_seconds", 5),
        ("live_poll_seconds", 3),
        ("lock_leave_grace_seconds", 5),
    ):
        monkeypatch.setattr(settings, name, seconds / SCALE)


def open_as(windows, username, table):
    page = windows()
    sign_in(page, username)
    page.goto(f"/tables/{table.id}")
    return page


def panel(page):
    return page.get_by_role("region", name="Lock")


@pytest.fixture
def orders(user):
    accounts.create_user("bob", "bob@example.com", PASSWORD)
    project = projects.create_project(user, "Shop")
    projects.add_member(user, project.id, "bob", "editor")
    table = tables.create_table(user, project.id, "Orders")
    fields.create_field(user, table.id, {"name": "Email"})
    return table


def test_an_idle_edit_form_frees_the_table_and_a_keystroke_takes_it_back(
    windows, orders, production_ratios
):
    alice = open_as(windows, "alice", orders)
    bob = open_as(windows, "bob", orders)
    alice.get_by_role("button", name="Edit Email").click()
    name = alice.get_by_label("Name", exact=True)
    name.fill("E-mail")
    expect(panel(bob)).to_contain_text("alice holds an optimistic lock")
    lock = locks.active_lock(orders.id)

    # While Alice types (a key every third of the idle time, for one and a half leases: three
    # idle times), it stays hers, renewed by heartbeats.
    for _ in range(9):
        alice.wait_for_timeout(IDLE / 3 * 1000)
        name.press("End")
        name.press_sequentially("_")
    assert locks.active_lock(orders.id).id == lock.id
    expect(panel(bob)).to_contain_text("alice holds an optimistic lock")

    # She stops: within the idle time the table is free for Bob (a lease would be twice as
    # long, and heartbeats would renew it for good), and her form says so, keeping her input.
    expect(panel(bob)).to_contain_text("Available", timeout=LEASE * 1000)
    # Released by her page's idle beat, or lapsed a moment before it: never before the idle
    # time after her last keystroke.
    ended = TableLock.get_by_id(lock.id)
    assert ended.end_reason in (None, "released", "expired")
    ended_at = ended.released_at or ended.expires_at
    assert (ended_at - ended.locked_at).total_seconds() >= 4 * IDLE
    expect(bob.get_by_role("button", name="Edit Email")).to_be_enabled()
    note = alice.locator("#fields-table .edit-lock-note")
    expect(note).to_contain_text("released after 5 seconds without input")
    expect(name).to_have_value("E-mail_________")

    # A keystroke takes it back.
    name.press_sequentially(" address")
    expect(panel(alice)).to_contain_text("You hold an optimistic lock")
    expect(note).to_have_count(0)
    expect(panel(bob)).to_contain_text("alice holds an optimistic lock")

    # Idle again, Bob takes the table: Alice's next keystroke says who holds it now.
    expect(panel(bob)).to_contain_text("Available", timeout=LEASE * 1000)
    bob.get_by_label("Reason").fill("renaming")
    bob.get_by_role("button", name="Lock table").click()
    expect(panel(bob)).to_contain_text("You hold a pessimistic lock")
    name.press_sequentially("!")
    expect(note).to_contain_text("bob holds a pessimistic lock (renaming)")
    expect(alice.get_by_role("button", name="Save")).to_be_disabled()

    # Bob is done: her next keystroke takes the lock, and her typing is saved.
    bob.get_by_role("button", name="Release lock").click()
    expect(alice.get_by_role("button", name="Save")).to_be_enabled()
    name.press("Backspace")
    expect(panel(alice)).to_contain_text("You hold an optimistic lock")
    alice.get_by_role("button", name="Save").click()
    expect(bob.locator("#field-rows")).to_contain_text("E-mail_________ address")


def test_lock_table_is_offered_while_the_add_field_form_is_open(windows, orders, production_ratios):
    alice = open_as(windows, "alice", orders)
    alice.get_by_role("button", name="Add field").click()
    expect(panel(alice)).to_contain_text("You hold an optimistic lock")
    alice.get_by_label("Reason").fill("a design session")
    alice.get_by_role("button", name="Lock table").click()
    expect(panel(alice)).to_contain_text("You hold a pessimistic lock")
    # The long-term lock outlives the idle time of the form left open.
    alice.wait_for_timeout(2 * IDLE * 1000)
    assert locks.active_lock(orders.id).lock_type == "pessimistic"
    expect(panel(alice)).to_contain_text("You hold a pessimistic lock")


def test_relationship_controls_pause_while_someone_else_holds_the_table(
    windows, orders, production_ratios, user
):
    customers = tables.create_table(user, orders.project_id, "Customers")
    link = {"source_table_id": str(customers.id), "target_table_id": str(orders.id)}
    rel = relationships.create_relationship(user, orders.project_id, link)
    bob = open_as(windows, "bob", orders)
    edit = bob.get_by_role("button", name=f"Edit {rel.relationship_name}")
    expect(edit).to_be_enabled()
    locks.acquire(orders.id, user, "pessimistic", "splitting")
    expect(edit).to_be_disabled()
    expect(edit).to_have_attribute("title", re.compile(r"^Locked by alice: splitting, until "))
    expect(bob.get_by_role("button", name=f"Delete {rel.relationship_name}")).to_be_disabled()
    expect(bob.get_by_role("button", name="Add relationship")).to_be_disabled()
    locks.force_release(orders.id)
    expect(edit).to_be_enabled()
