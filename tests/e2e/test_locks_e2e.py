"""Two people, two browsers, locks at the production ratios.

Production: lease 120 s, heartbeat 20 s, lock panel poll 5 s, live poll 3 s,
leave grace 5 s, edit idle 60 s. Here every interval is divided by 40, so the
ratios hold: the heartbeat is four times slower than the panel's poll (the
setting at which a heartbeat inside the panel never fired), a lease is six
beats, and an edit form's lock lasts three beats past the last keystroke (1.5 s:
test_edit_locks_e2e.py types into forms at ÷12, which leaves a busy machine room
between keystrokes).
"""

import contextlib
import threading
import time

import pytest
from playwright.sync_api import expect

from designer import accounts
from designer import locks
from designer import projects
from designer.design import fields
from designer.design import tables
from designer.settings import settings
from tests.conftest import PASSWORD
from tests.e2e.conftest import sign_in

SCALE = 40
LEASE = 120 / SCALE
HEARTBEAT = 20 / SCALE


@pytest.fixture
def production_ratios(monkeypatch):
    for name, seconds in (
        ("lock_lease_seconds", 120),
        ("lock_heartbeat_seconds", 20),
        ("lock_watch_seconds", 5),
        ("live_poll_seconds", 3),
        ("lock_leave_grace_seconds", 5),
        ("lock_edit_idle_seconds", 60),
    ):
        monkeypatch.setattr(settings, name, seconds / SCALE)


@pytest.fixture
def orders(user):
    accounts.create_user("bob", "bob@example.com", PASSWORD)
    project = projects.create_project(user, "Shop")
    projects.add_member(user, project.id, "bob", "editor")
    table = tables.create_table(user, project.id, "Orders")
    fields.create_field(user, table.id, {"name": "Email"})
    return table


@pytest.fixture
def contexts(browser, base_url):
    """Browser contexts (one per person), closed whatever happens."""
    opened = []

    def new():
        context = browser.new_context(base_url=base_url)
        opened.append(context)
        return context

    yield new
    for context in opened:
        with contextlib.suppress(Exception):
            context.close()


def open_as(contexts, username, table):
    context = contexts()
    page = context.new_page()
    page.set_default_timeout(10_000)
    sign_in(page, username)
    page.goto(f"/tables/{table.id}")
    return context, page


def panel(page):
    return page.get_by_role("region", name="Lock")


def held_lock(table):
    return locks.active_lock(table.id)


def test_a_lock_holds_for_three_leases_while_the_page_is_open(contexts, orders, production_ratios):
    alice_context, alice = open_as(contexts, "alice", orders)
    _, bob = open_as(contexts, "bob", orders)

    alice.get_by_label("Reason").fill("splitting the address")
    alice.get_by_role("button", name="Lock table").click()
    expect(panel(alice)).to_contain_text("You hold a pessimistic lock")
    lock = held_lock(orders)

    # Bob sees it without reloading, and his edit controls are paused with a hint.
    expect(panel(bob)).to_contain_text("alice holds a pessimistic lock")
    edit_email = bob.get_by_role("button", name="Edit Email")
    expect(edit_email).to_be_disabled()
    expect(edit_email).to_have_attribute("title", "Locked by alice: splitting the address, until "
                                         + lock.expires_at.strftime("%H:%M") + " UTC")  # fmt: skip
    expect(bob.get_by_role("button", name="Add field")).to_be_disabled()

    # A field Alice adds shows up on Bob's page without a reload.
    alice.get_by_role("button", name="Add field").click()
    alice.get_by_label("Name", exact=True).fill("Coupon code")
    alice.get_by_role("button", name="Save").click()
    expect(bob.locator("#field-rows")).to_contain_text("Coupon code")

    # Three leases later the same lock is still Alice's, renewed by heartbeats.
    bob.wait_for_timeout(3 * LEASE * 1000)
    expect(panel(bob)).to_contain_text("alice holds")
    renewed = held_lock(orders)
    assert renewed.id == lock.id
    assert (renewed.heartbeat_at - lock.locked_at).total_seconds() >= 3 * LEASE - 2 * HEARTBEAT
    assert renewed.expires_at > lock.expires_at

    # Alice closes her tab: the beacon frees the lock within the grace, far
    # sooner than a lease, and Bob's controls come back.
    alice_context.close()
    expect(panel(bob)).to_contain_text("Available", timeout=LEASE * 1000)
    expect(edit_email).to_be_enabled()
    bob.get_by_role("button", name="Lock table").click()
    expect(panel(bob)).to_contain_text("You hold")


def test_the_panel_refreshes_at_once_when_the_page_takes_a_lock(
    contexts, orders, production_ratios, monkeypatch
):
    # A panel poll far slower than the test: only lock-changed can refresh it.
    monkeypatch.setattr(settings, "lock_watch_seconds", 60)
    _, alice = open_as(contexts, "alice", orders)
    expect(panel(alice)).to_contain_text("Available")
    alice.get_by_role("button", name="Edit Email").click()
    expect(panel(alice)).to_contain_text("You hold an optimistic lock", timeout=3_000)
    alice.get_by_role("button", name="Cancel").click()
    expect(panel(alice)).to_contain_text("Available", timeout=3_000)


def test_closing_one_of_two_tabs_keeps_the_lock(contexts, orders, production_ratios, app):
    context, first = open_as(contexts, "alice", orders)
    second = context.new_page()
    second.goto(f"/tables/{orders.id}")
    first.get_by_role("button", name="Lock table").click()
    expect(panel(second)).to_contain_text("You hold")
    lock = held_lock(orders)
    # A network (or a background tab's timers) slower than the leave grace: a renewal by the
    # other tab would land after a beacon's grace had ended the lock. The leaving tab knows
    # the other is open, so it sends no beacon, and the lease is never cut.
    beat = app.view_functions["locks.heartbeat"]

    def slow_beat(*args, **kwargs):
        time.sleep(2 * settings.lock_leave_grace_seconds)
        return beat(*args, **kwargs)

    app.view_functions["locks.heartbeat"] = slow_beat
    try:
        first.close()
        second.wait_for_timeout(1.5 * LEASE * 1000)
        assert held_lock(orders).id == lock.id
        expect(panel(second)).to_contain_text("You hold")
    finally:
        app.view_functions["locks.heartbeat"] = beat
    # The last tab leaving still frees the lock within the grace, even with one of its slow
    # renewals still on its way: landing after the beacon, it renews nothing.
    second.close()
    context.new_page().wait_for_timeout(4 * settings.lock_leave_grace_seconds * 1000)
    assert held_lock(orders) is None


def test_a_beat_on_its_way_as_the_last_tab_closes_does_not_keep_the_lock(
    contexts, orders, production_ratios, app
):
    context, page = open_as(contexts, "alice", orders)
    page.get_by_role("button", name="Lock table").click()
    expect(panel(page)).to_contain_text("You hold")
    # The page's beat reaches the server just as the page closes, and is handled after the
    # leave beacon (two connections, no order between them): it must not renew the lease
    # the beacon cut, or the lock outlives the page by a whole lease.
    arrived, left, handled = threading.Event(), threading.Event(), threading.Event()
    beat, leave = app.view_functions["locks.heartbeat"], app.view_functions["locks.leave"]

    def late_beat(*args, **kwargs):
        arrived.set()
        left.wait(10)
        try:
            return beat(*args, **kwargs)
        finally:
            handled.set()

    def noted_leave(*args, **kwargs):
        try:
            return leave(*args, **kwargs)
        finally:
            left.set()

    app.view_functions["locks.heartbeat"] = late_beat
    app.view_functions["locks.leave"] = noted_leave
    try:
        page.evaluate("htmx.trigger(document.getElementById('lock-keeper'), 'lock-keep')")
        assert arrived.wait(10)
        page.close()
        assert left.wait(10) and handled.wait(10)
    finally:
        app.view_functions["locks.heartbeat"] = beat
        app.view_functions["locks.leave"] = leave
    context.new_page().wait_for_timeout(4 * settings.lock_leave_grace_seconds * 1000)
    assert held_lock(orders) is None


def test_a_lost_lock_notice_stays_until_dismissed_and_the_input_is_kept(
    contexts, orders, production_ratios
):
    _, bob = open_as(contexts, "bob", orders)
    _, alice = open_as(contexts, "alice", orders)
    # A long-term lock: an edit form's alone would end by itself once he stops typing.
    bob.get_by_role("button", name="Lock table").click()
    expect(panel(bob)).to_contain_text("You hold a pessimistic lock")
    # His page's live refresh of that lock is in before he opens a form (see the live-swap
    # race in app.js).
    expect(bob.locator("#lock-history")).to_contain_text("pessimistic")
    bob.get_by_role("button", name="Edit Email").click()
    bob.get_by_label("Name", exact=True).fill("Contact e-mail")
    expect(panel(alice)).to_contain_text("bob holds a pessimistic lock")
    alice.once("dialog", lambda dialog: dialog.accept())
    alice.get_by_role("button", name="Force release").click()

    notice = bob.locator("#lock-notices")
    expect(notice).to_contain_text("released by a project owner")
    bob.wait_for_timeout(4 * settings.lock_watch_seconds * 1000)  # several panel polls
    expect(notice).to_contain_text("released by a project owner")
    expect(bob.get_by_label("Name", exact=True)).to_have_value("Contact e-mail")
    notice.get_by_role("button", name="Dismiss").click()
    expect(notice).to_be_empty()


def test_a_page_on_a_discarded_table_stops_polling(contexts, orders, production_ratios):
    _, alice = open_as(contexts, "alice", orders)
    _, bob = open_as(contexts, "bob", orders)
    polls = []
    bob.on("response", lambda r: polls.append(r.status) if "project=" in r.url else None)
    alice.once("dialog", lambda dialog: dialog.accept())
    alice.get_by_role("button", name="Discard draft").click()
    alice.wait_for_url("**/projects/*")
    bob.wait_for_timeout(10 * settings.lock_watch_seconds * 1000)
    # The polls were answered 286 and stopped: nothing more is asked, and no 404.
    asked = len(polls)
    bob.wait_for_timeout(10 * settings.lock_watch_seconds * 1000)
    assert len(polls) == asked
    assert polls[-1] == 286 and polls.count(286) >= 2
    assert 404 not in polls
