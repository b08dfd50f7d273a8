"""A live refresh never replaces a form on its way in.

The table page polls /live for teammates' changes. When the user opens an
edit form while a poll is in flight, the poll's answer may land between the
edit request and its form: the form must still appear, and the teammate's
change too. The test holds both answers (Playwright routes) and releases
them in the losing order, every time.
"""

import time

import pytest
from playwright.sync_api import expect

from designer.design import fields
from designer.settings import settings
from tests.e2e import test_locks_e2e
from tests.e2e.test_locks_e2e import open_as

# The lock tests' people and table: alice and bob, both editors of Shop's Orders.
contexts = test_locks_e2e.contexts
orders = test_locks_e2e.orders


class Held:
    """Requests to URLs matching `pattern` on `page`, held until the test releases them."""

    def __init__(self, page, pattern):
        self.page = page
        self.routes = []
        page.route(pattern, lambda route: self.routes.append(route))

    def first(self, seconds=10):
        """The first held request, once the page has sent it."""
        deadline = time.monotonic() + seconds
        while not self.routes:
            assert time.monotonic() < deadline, "the page sent no such request"
            self.page.wait_for_timeout(20)  # lets Playwright deliver the request
        return self.routes[0]


@pytest.fixture
def quick_polls(monkeypatch):
    monkeypatch.setattr(settings, "live_poll_seconds", 0.2)


@pytest.mark.parametrize("opened", ["field", "header"])
def test_a_form_opened_while_a_live_refresh_is_in_flight_always_wins(
    contexts,
    orders,
    user,
    quick_polls,
    opened,
):
    _, alice = open_as(contexts, "alice", orders)
    polls = Held(alice, "**/tables/*/live?*")
    poll = polls.first()
    if opened == "field":
        edit, button, name = "**/fields/*/edit", "Edit Email", "Email"
    else:
        edit, button, name = "**/tables/*/header/edit", "Edit table", "Orders"
    edits = Held(alice, edit)
    alice.get_by_role("button", name=button).click()
    opening = edits.first()
    # A teammate's change, so the poll's answer replaces the rows and the header.
    fields.create_field(user, orders.id, {"name": "Coupon code"})
    poll.continue_()
    expect(alice.locator("#field-rows")).to_contain_text("Coupon code")
    opening.continue_()
    expect(alice.get_by_label("Name", exact=True)).to_have_value(name)
    alice.get_by_label("Name", exact=True).fill("Renamed")
    for held in polls.routes[1:]:
        held.continue_()
    alice.unroute("**/tables/*/live?*")
    for _ in range(2):  # later polls land too
        with alice.expect_response(lambda response: "/live?" in response.url):
            pass
    expect(alice.get_by_label("Name", exact=True)).to_have_value("Renamed")
