"""Search that ranks, in the browser: the table named as searched comes first."""

from playwright.sync_api import expect

from designer.interchange import imports
from tests.e2e.conftest import sign_in
from tests.integration.test_search_ranking import DATA
from tests.integration.test_search_ranking import PARTITIONS
from tests.integration.test_search_ranking import PAYMENT
from tests.integration.test_search_ranking import RENTAL


def test_searching_rental_in_an_imported_pagila_puts_the_rental_table_first(page, user):
    sql = (DATA / "pagila_excerpt.sql").read_text() + RENTAL
    sql += "".join(PAYMENT.format(year=y, month=m) for y, m in PARTITIONS)
    project, _, _ = imports.import_new_project(user, "Pagila", "sql", sql)
    sign_in(page)
    page.goto(f"/projects/{project.id}")
    page.get_by_role("searchbox", name="Search tables").fill("rental")
    rows = page.locator("#table-list tbody tr")
    expect(rows.first.get_by_role("link")).to_have_text("Rental")
    expect(rows.nth(1).get_by_role("link")).to_have_text("Film")
