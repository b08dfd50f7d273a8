"""What a first-time user met on the designer's pages: readable comparisons and hints."""

import re
import time

import pytest

from designer import locks
from designer import projects
from designer.db import counting_queries
from designer.design import fields
from designer.design import relationships
from designer.design import tables
from designer.design import undo
from designer.history import versions
from designer.models import DataField
from designer.models import TableRelationship
from designer.settings import settings
from tests.conftest import csrf_token_of


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
    changes = page.split('class="diff', 1)[1].split("</table>", 1)[0]
    assert '{"' not in changes and "&#34;" not in changes  # no raw JSON


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


# ---- undo --------------------------------------------------------------------


def field_named(table, name):
    return next((f for f in tables.ordered_fields(table.id) if f.name == name), None)


def test_undo_takes_back_a_save(alice, orders, signed_in):
    web = signed_in(alice)
    field = email(orders)
    web.get(f"/fields/{field.id}/edit")
    saved = web.put(
        f"/fields/{field.id}",
        data={"name": "Contact", "field_name": "email", "data_type": "text",
              "max_length": "120", "indexed": "1", "pattern": "^a", "revision": field.revision},
    )  # fmt: skip
    assert saved.status_code == 200
    assert 'hx-swap-oob="innerHTML"' in saved.text and ">Undo</button>" in saved.text
    assert field_named(orders, "Contact") is not None
    undone = web.post(f"/tables/{orders.id}/undo")
    assert undone.status_code == 200
    assert "Undone: Saved Contact." in undone.text
    assert field_named(orders, "Email").field_config["pattern"] == "^a"
    assert web.post(f"/tables/{orders.id}/undo").status_code == 409  # once only


def test_undo_brings_back_a_deleted_field_with_its_relationships(alice, shop, orders, signed_in):
    customers = tables.create_table(alice, shop.id, "Customers")
    rel = relationships.create_relationship(
        alice, shop.id, {"source_table_id": customers.id, "target_table_id": orders.id}
    )
    foreign = DataField.get_by_id(rel.target_field_id)
    web = signed_in(alice)
    response = web.delete(f"/fields/{foreign.id}", data={"with_relationships": "1"})
    assert response.status_code == 200
    assert DataField.get_or_none(DataField.id == foreign.id) is None
    assert web.post(f"/tables/{orders.id}/undo").status_code == 200
    back = DataField.get_by_id(foreign.id)
    assert (back.field_name, back.sort_order) == (foreign.field_name, foreign.sort_order)
    assert TableRelationship.get_by_id(rel.id).target_field_id == foreign.id


def test_undo_takes_back_a_move(alice, orders, signed_in):
    fields.create_field(alice, orders.id, {"name": "Total", "data_type": "number"})
    web = signed_in(alice)
    total = field_named(orders, "Total")
    web.post(f"/fields/{total.id}/move", data={"direction": "up"})
    assert [f.name for f in tables.ordered_fields(orders.id)][1:] == ["Total", "Email"]
    web.post(f"/tables/{orders.id}/undo")
    assert [f.name for f in tables.ordered_fields(orders.id)][1:] == ["Email", "Total"]


def test_undo_respects_someone_elses_lock(alice, shop, orders, make_user, signed_in):
    bob = make_user("bob")
    projects.add_member(alice, shop.id, "bob", "editor")
    web = signed_in(alice)
    total = fields.create_field(alice, orders.id, {"name": "Total", "data_type": "number"})
    web.post(f"/fields/{total.id}/move", data={"direction": "up"})
    locks.acquire(orders.id, bob, "pessimistic")
    assert web.post(f"/tables/{orders.id}/undo").status_code == 423
    assert [f.name for f in tables.ordered_fields(orders.id)][1:] == ["Total", "Email"]


def test_undo_is_offered_only_for_a_short_while(alice, orders, signed_in, monkeypatch):
    web = signed_in(alice)
    total = fields.create_field(alice, orders.id, {"name": "Total", "data_type": "number"})
    web.post(f"/fields/{total.id}/move", data={"direction": "up"})
    later = time.time() + undo.UNDO_SECONDS + 1
    monkeypatch.setattr(undo.time, "time", lambda: later)
    response = web.post(f"/tables/{orders.id}/undo")
    assert response.status_code == 409
    assert "30 seconds" in response.text


def test_sign_up_shows_every_problem_at_once_and_the_hint_only_without_an_error(alice, signed_in):
    web = signed_in()
    token = csrf_token_of(web.get("/signup", htmx=False).text)
    response = web.post(
        "/signup",
        data={
            "username": "ALICE",
            "email": "alice@example.com",
            "password": "short",
            "csrf_token": token,
        },  # fmt: skip
        htmx=False,
    )
    assert response.status_code == 422
    assert "This username is already taken." in response.text
    assert "This email is already taken." in response.text
    assert "At least 10 characters." not in response.text  # the error says it instead
    fresh = web.get("/signup", htmx=False).text
    assert fresh.count("At least 10 characters.") == 1


def test_the_relationships_tab_comes_a_page_at_a_time(alice, shop, signed_in, monkeypatch):
    monkeypatch.setattr(settings, "page_size", 3)
    hub = tables.create_table(alice, shop.id, "Hub")
    for n in range(5):
        spoke = tables.create_table(alice, shop.id, f"Spoke {n}")
        relationships.create_relationship(
            alice, shop.id, {"source_table_id": hub.id, "target_table_id": spoke.id}
        )
    web = signed_in(alice)
    first = web.get(f"/projects/{shop.id}/relationships", htmx=False).text
    assert first.count('<tr id="rel-') == 3
    after = re.search(r"relationships\?after=([a-z0-9_]+)", first).group(1)
    rest = web.get(f"/projects/{shop.id}/relationships?after={after}").text
    assert rest.count('<tr id="rel-') == 2
    assert "Load more relationships" not in rest


def test_the_timeline_reuses_the_unsaved_changes_until_something_changes(alice, shop, orders):
    versions.save_version(alice, shop.id, "first")
    assert versions.unsaved_changes(shop.id) == []
    with counting_queries() as counter:
        assert versions.unsaved_changes(shop.id) == []
    assert counter.count <= 3  # the newest version and the stamp: no working copy built
    fields.create_field(alice, orders.id, {"name": "Note"})
    [added] = versions.unsaved_changes(shop.id)
    assert added["op"] == "add_field"
    versions.save_version(alice, shop.id, "second")
    assert versions.unsaved_changes(shop.id) == []


def test_a_new_foreign_key_reads_in_the_singular(alice, shop):
    customers = tables.create_table(alice, shop.id, "Customers")
    orders = tables.create_table(alice, shop.id, "Orders")
    rel = relationships.create_relationship(
        alice, shop.id, {"source_table_id": customers.id, "target_table_id": orders.id}
    )
    column = DataField.get_by_id(rel.target_field_id)
    assert (column.name, column.field_name) == ("Customer ID", "customer_id")
    staff = tables.create_table(alice, shop.id, "Staff")
    boss = relationships.create_relationship(
        alice, shop.id, {"source_table_id": staff.id, "target_table_id": staff.id}
    )
    parent = DataField.get_by_id(boss.target_field_id)
    assert (parent.name, parent.field_name) == ("Parent ID", "parent_id")
