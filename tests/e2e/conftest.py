"""Browser tests: Chromium driven by Playwright against a live server thread."""

import os
import shutil
import threading

import pytest
from playwright.sync_api import expect
from werkzeug.serving import make_server

from designer import accounts
from designer.signin_limits import limiter
from tests.conftest import PASSWORD
from tests.conftest import truncate_all

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium")
# Two cores run the browser, the server and PostgreSQL: give assertions room.
expect.set_options(timeout=10_000)
# Chromium flags for a sandboxed machine with no outside network.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    args = {**browser_type_launch_args, "args": CHROMIUM_ARGS}
    if CHROMIUM:
        args["executable_path"] = CHROMIUM
    return args


@pytest.fixture(scope="session")
def live_server(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture(scope="session")
def base_url(live_server):
    return live_server


@pytest.fixture(autouse=True)
def clean_database(app):
    truncate_all()
    limiter.reset()
    yield


@pytest.fixture
def page(page):
    page.set_default_timeout(10_000)
    return page


@pytest.fixture
def windows(browser, base_url):
    """windows(): a page in a browser context of its own (another user's window);
    every context is closed at the end, whatever the test did."""
    contexts = []

    def open_window():
        context = browser.new_context(base_url=base_url)
        contexts.append(context)
        opened = context.new_page()
        opened.set_default_timeout(10_000)
        return opened

    try:
        yield open_window
    finally:
        for context in contexts:
            context.close()


@pytest.fixture
def user(app):
    """A user named alice (created directly; sign-up itself has its own test)."""
    return accounts.create_user("alice", "alice@example.com", PASSWORD)


def sign_in(page, username="alice"):
    page.goto("/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/projects")
