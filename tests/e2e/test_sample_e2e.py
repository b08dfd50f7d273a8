"""In the browser: "Try a sample" on an empty projects page opens a project with something on
every tab; the empty page itself at two widths, light and dark."""

import os
import pathlib
import re

import pytest
from playwright.sync_api import expect

from designer import projects
from tests.e2e.conftest import sign_in


def test_the_sample_project_opens_with_every_tab_populated(page, user):
    sign_in(page)
    page.get_by_role("button", name="Try a sample").click()
    # A server's first relationship waits for the inflector it loads at start (seconds under load).
    page.wait_for_url(re.compile(r"/projects/[0-9a-f-]{36}$"), timeout=90_000)
    expect(page.locator("#flash")).to_contain_text("every tab has something in it")
    expect(page.get_by_role("heading", name="Bookshop (sample)")).to_be_visible()
    # Tables, and the activity that made them.
    expect(page.locator("#table-list tbody tr")).to_have_count(11)
    expect(page.locator("#table-list")).to_contain_text("Active")
    expect(page.locator("#activity-feed li").first).to_be_visible()
    # The deployed table's schema holds what was deployed.
    expect(page.locator("#drift")).to_contain_text("In sync")

    page.get_by_role("link", name="Relationships").click()
    rows = page.locator("table.relationships tbody tr")
    expect(rows.first).to_be_visible()
    assert rows.count() >= 11
    expect(page.locator("table.relationships")).to_contain_text("book_authors")

    page.get_by_role("link", name="Diagram").click()
    expect(page.locator("#diagram[data-drawn]")).to_have_count(1)
    expect(page.locator("#diagram svg a.table")).to_have_count(11)
    expect(page.locator("#diagram svg g.link")).to_have_count(11)

    page.get_by_role("link", name="Timeline").click()
    for number in (1, 3, 4, 5):
        expect(page.locator(f"#version-{number}")).to_be_visible()
    expect(page.locator("#version-3")).to_contain_text("Orders and reviews")
    expect(page.locator("#version-5")).to_contain_text("keys of our own")

    page.get_by_role("link", name="Deploy").click()
    body = page.locator("#deploy-body")
    expect(body).to_contain_text("marketing_opt_in")  # pending since the deploy
    expect(body.locator("table.history tbody tr")).to_have_count(4)
    expect(body.locator("table.history")).to_contain_text("customers")
    expect(body.locator("table.history")).to_contain_text("stock_levels")
    expect(page.get_by_role("button", name="Dry run")).to_be_visible()


def test_with_projects_the_new_project_form_offers_it(page, user):
    projects.create_project(user, "Shop")
    sign_in(page)
    expect(page.get_by_role("button", name="Try a sample")).to_have_count(0)
    page.get_by_role("button", name="New project").click()
    page.get_by_role("button", name="Try a sample").click()
    page.wait_for_url(re.compile(r"/projects/[0-9a-f-]{36}$"), timeout=90_000)
    expect(page.get_by_role("heading", name="Bookshop (sample)")).to_be_visible()


SHOTS = os.environ.get("SCREENSHOTS_DIR")


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width", [1280, 800])
def test_the_empty_projects_page_offers_the_sample_at_any_width(
    browser, base_url, user, width, scheme
):
    context = browser.new_context(
        base_url=base_url, viewport={"width": width, "height": 800}, color_scheme=scheme
    )
    try:
        page = context.new_page()
        sign_in(page)
        offer = page.get_by_role("button", name="Try a sample")
        expect(offer).to_be_in_viewport()
        expect(page.get_by_role("heading", name="Start here")).to_be_visible()
        expect(page.locator(".sample-card")).to_contain_text("No projects yet.")
        # Nothing wider than the window: no sideways scrolling.
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        box = page.locator(".sample-card").bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= width
        if SHOTS:
            pathlib.Path(SHOTS).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=f"{SHOTS}/projects-empty-{width}-{scheme}.png", full_page=True)
    finally:
        context.close()
