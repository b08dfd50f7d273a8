"""What a first-time user met on the designer's pages: readable comparisons and hints."""

import pytest

from designer import fields
from designer import locks
from designer import tables
from designer import versions


@pytest.fixture
def orders(alice, shop):
    table = tables.create_table(alice, shop.id, "Orders")
    fields.create_field(
        alice, table.id, {"name": "Email", "max_length": "120", "indexed": "1", "pattern": "^a"}
    )
    return table


def email(table):
    return next(f for f in tables.ordered_fields(table.id) if f.field_name == "email")


def test_a_settings_change_reads_as_words_on_the_compare_page(alice, shop, orders, signed_in):
    versions.save_version(alice, shop.id, "first")
    field = email(orders)
    data = {"max_length": "200", "unique": "1", "indexed": "", "pattern": ""}
    token = locks.acquire(orders.id, alice, "critical").lock_token  # widening is a retype
    fields.update_field(alice, field.id, field.revision, data, token, partial=True)
    page = signed_in(alice).get(f"/projects/{shop.id}/diff?from=1&to=working", htmx=False).text
    assert "now unique; no longer indexed; max length 120 → 200; pattern removed" in page
    assert "settings: unique, max length 200" in page
    body = page.split("<main", 1)[1]
    assert '{"' not in body and "&#34;" not in body  # no raw JSON


def test_a_version_page_shows_unique_indexed_and_rules(alice, shop, orders, signed_in):
    version = versions.save_version(alice, shop.id, "first")
    page = (
        signed_in(alice)
        .get(f"/projects/{shop.id}/versions/{version.version_number}", htmx=False)
        .text
    )
    assert "varchar(120), indexed, pattern ^a" in page


def test_a_shortened_table_name_suggestion_says_so(alice, shop, signed_in):
    web = signed_in(alice)
    long_name = "Customer loyalty programme membership tier history by version twenty two"
    shown = web.get(f"/projects/{shop.id}/tables/suggest", query_string={"name": long_name}).text
    assert 'value="customer_loyalty_programme_membership_tier_history_by_version"' in shown
    assert "shortened at a whole word" in shown
    plain = web.get(f"/projects/{shop.id}/tables/suggest", query_string={"name": "Orders"}).text
    assert "shortened" not in plain


def test_search_finds_tables_by_column_and_names_the_column(alice, shop, orders, signed_in):
    tables.create_table(alice, shop.id, "Customers")
    page = signed_in(alice).get(f"/projects/{shop.id}/tables?q=mai").text
    assert "Orders" in page and "Customers" not in page.split('id="table-list"')[1]
    assert "column: Email" in page


def test_a_search_puts_itself_in_the_address_bar(alice, shop, signed_in):
    response = signed_in(alice).get(f"/projects/{shop.id}/tables?q=ord&status=draft")
    assert response.headers["HX-Push-Url"] == f"/projects/{shop.id}?q=ord&status=draft"
