"""In the browser: what users write is drawn as text, never read as Mermaid syntax."""

from playwright.sync_api import expect

from designer import projects
from designer.design import fields
from designer.design import tables
from tests.e2e.conftest import sign_in

DIRECTIVE = "Amount %%{init: {'themeCSS': 'svg {display: none}'}}%%"


def test_a_mermaid_directive_in_a_name_is_drawn_as_literal_text(page, user):
    shop = projects.create_project(user, "Shop")
    orders = tables.create_table(user, shop.id, "Orders")
    fields.create_field(user, orders.id, {"name": DIRECTIVE, "field_name": "amount"})
    fields.create_field(user, orders.id, {"name": 'Note "quoted" %% not a comment'})
    sign_in(page)
    page.goto(f"/projects/{shop.id}/diagram")
    svg = page.locator("#diagram svg")
    expect(svg).to_contain_text(DIRECTIVE)
    expect(svg).to_contain_text('Note "quoted" %% not a comment')
    expect(svg).to_be_visible()
    expect(page.get_by_text("could not be drawn")).to_have_count(0)
