"""What the pages show: the indexed flag, API tokens, a version, a comparison; and the
CSRF condition on the GETs that open an edit form and take a lock."""

import hashlib
import re
from html.parser import HTMLParser

import pytest

from designer import locks
from designer.design import fields
from designer.design import relationships
from designer.design import tables
from designer.history import versions
from designer.models import ApiToken
from designer.models import DataField
from designer.models import DataTable


class Rows(HTMLParser):
    """The text of each cell of each table row, with the row's class."""

    def __init__(self, html):
        super().__init__()
        self.rows, self.cell = [], None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self.rows.append((dict(attrs).get("class", ""), []))
        elif tag in ("td", "th") and self.rows:
            self.cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self.cell is not None:
            self.rows[-1][1].append(" ".join("".join(self.cell).split()))
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)


@pytest.fixture
def orders(alice, shop):
    return tables.create_table(alice, shop.id, "Orders")


def field_named(table, name):
    return DataField.get(DataField.data_table == table.id, DataField.name == name)


# The indexed flag


def test_the_indexed_flag_is_stored_defined_shown_and_kept(alice, orders, signed_in):
    client = signed_in(alice)
    for name, indexed in (("Placed", "1"), ("Note", "")):
        response = client.post(
            f"/tables/{orders.id}/fields",
            data={"name": name, "data_type": "text", "indexed": indexed},
        )
        assert response.status_code == 200, response.text
    placed, note = field_named(orders, "Placed"), field_named(orders, "Note")
    assert placed.field_config["indexed"] is True
    assert note.field_config["indexed"] is False
    columns = {
        c["field_name"]: c for c in DataTable.get_by_id(orders.id).schema_definition["columns"]
    }
    assert columns["placed"]["indexed"] is True
    assert columns["note"]["indexed"] is False

    page = Rows(client.get(f"/tables/{orders.id}").text).rows
    assert "indexed" in row_of(page, "Placed")[-2]
    assert "indexed" not in row_of(page, "Note")[-2]
    assert INDEXED_CHECKED.search(client.get(f"/fields/{placed.id}/edit").text)
    assert not INDEXED_CHECKED.search(client.get(f"/fields/{note.id}/edit").text)


INDEXED_CHECKED = re.compile(r'name="indexed" value="1"\s+checked>')


def row_of(rows, name):
    """The cells of the table row whose cells include `name`."""
    return next(cells for _, cells in rows if name in cells)


def test_the_api_takes_and_returns_the_indexed_flag(alice, orders, api):
    client = api(alice)
    created = client.post(f"/tables/{orders.id}/fields", json={"name": "Sku", "indexed": True})
    assert created.status_code == 201, created.text
    assert created.get_json()["field_config"]["indexed"] is True
    field_id = created.get_json()["id"]
    assert DataField.get_by_id(field_id).field_config["indexed"] is True


# The API tokens page


def test_a_token_is_created_shown_once_and_works(alice, signed_in, api):
    client = signed_in(alice)
    assert "No tokens." in client.get("/settings/tokens", htmx=False).text
    created = client.post("/settings/tokens", data={"name": "CI script"})
    assert created.status_code == 200
    secret = re.search(r'value="([^"]+)" aria-label="New token"', created.text).group(1)
    assert "copy it now, it will not be shown again" in created.text

    stored = ApiToken.get(ApiToken.user == alice.id)
    assert stored.name == "CI script"
    assert stored.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert api().get("/projects", headers={"Authorization": f"Bearer {secret}"}).status_code == 200

    listed = client.get("/settings/tokens", htmx=False).text
    assert "CI script" in listed
    assert secret not in listed, "the secret was shown a second time"
    assert 'aria-label="New token"' not in listed


def test_a_revoked_token_leaves_the_page_and_stops_working(alice, signed_in, api):
    client = signed_in(alice)
    created = client.post("/settings/tokens", data={"name": "old"})
    secret = re.search(r'value="([^"]+)" aria-label="New token"', created.text).group(1)
    token = ApiToken.get(ApiToken.user == alice.id)
    revoked = client.delete(f"/settings/tokens/{token.id}")
    assert revoked.status_code == 200
    assert "No tokens." in revoked.text
    assert "No tokens." in client.get("/settings/tokens", htmx=False).text
    assert api().get("/projects", headers={"Authorization": f"Bearer {secret}"}).status_code == 401


def test_nobody_revokes_someone_elses_token_from_the_page(alice, make_user, signed_in):
    client = signed_in(alice)
    client.post("/settings/tokens", data={"name": "mine"})
    token = ApiToken.get(ApiToken.user == alice.id)
    response = signed_in(make_user("mallory")).delete(f"/settings/tokens/{token.id}")
    assert response.status_code == 404
    assert ApiToken.get_by_id(token.id).revoked_at is None


# A version's page and the comparison of two


@pytest.fixture
def history(alice, shop, orders):
    """Version 1: customers and orders, linked; version 2: a rename, an edit, a drop, an add."""
    customers = tables.create_table(alice, shop.id, "Customers")
    fields.create_field(alice, customers.id, {"name": "Email", "unique": "1", "is_required": "1"})
    fields.create_field(alice, orders.id, {"name": "Total", "data_type": "number",
                                            "number_type": "decimal", "precision": "10",
                                            "scale": "2"})  # fmt: skip
    fields.create_field(alice, orders.id, {"name": "Note", "default_value": "none"})
    relationships.create_relationship(
        alice, shop.id, {"source_table_id": customers.id, "target_table_id": orders.id}
    )
    versions.save_version(alice, shop.id, "customers and orders")
    email = field_named(customers, "Email")
    renamed = {"name": "Mail", "field_name": "mail", "unique": "1", "is_required": "1"}
    fields.update_field(alice, email.id, email.revision, renamed)
    token = locks.acquire(orders.id, alice, "critical").lock_token
    fields.delete_field(alice, field_named(orders, "Note").id, token)
    locks.release(token, alice)
    tables.create_table(alice, shop.id, "Invoices")
    versions.save_version(alice, shop.id, "mail, no note, invoices")
    return shop


def test_the_version_page_shows_that_versions_schema(alice, history, signed_in):
    client = signed_in(alice)
    page = client.get(f"/projects/{history.id}/versions/1", htmx=False).text
    assert "Version 1" in page
    assert "customers and orders" in page
    text = " ".join(re.sub(r"<[^>]+>", " ", page).split())
    assert "Changes from the previous version: +2 tables, +1 relationship" in text
    assert "Customers customers draft" in text
    assert "email text text, required" in text
    assert "total number numeric(10,2)" in text
    assert "note text text, default none" in text
    assert "orders_customer_id_fkey : customers → orders" in text
    assert "invoices" not in text, "a table of a later version is shown"
    assert " mail text" not in text

    later = " ".join(
        re.sub(r"<[^>]+>", " ", client.get(f"/projects/{history.id}/versions/2").text).split()
    )
    assert "mail text text, required" in later
    assert "Invoices invoices draft" in later
    assert "note text" not in later


def test_the_compare_page_shows_each_change_with_before_and_after(alice, history, signed_in):
    page = signed_in(alice).get(f"/projects/{history.id}/diff?from=1&to=2", htmx=False).text
    rows = Rows(page).rows
    assert rows[0][1] == ["Change", "Before", "After"]
    assert rows[1:] == [
        ("op-drop_field", ["dropped column orders.note", "note text text, default none", "—"]),
        ("op-add_table", ["added table invoices", "—", "Invoices invoices"]),
        ("op-add_field", ["added column invoices.id", "—", "id number bigint, required"]),
        ("op-rename_field", ["renamed column customers.email to mail", "email", "mail"]),
        (
            "op-alter_field",
            ["changed column customers.mail: name Email → Mail", "name: Email", "name: Mail"],
        ),
    ]


def test_the_compare_page_says_when_two_are_the_same(alice, history, signed_in):
    page = signed_in(alice).get(f"/projects/{history.id}/diff?from=2&to=working", htmx=False)
    assert "These two are the same schema." in page.text
    assert '<th scope="col">Before</th>' not in page.text


# Opening an edit form is a GET that takes an optimistic lock: only with the page's CSRF header


def edit_forms(table, field):
    return {
        "field row": f"/fields/{field.id}/edit",
        "table header": f"/tables/{table.id}/header/edit",
        "new field": f"/tables/{table.id}/fields/new",
    }


@pytest.mark.parametrize("form", ["field row", "table header", "new field"])
def test_opening_an_edit_form_with_the_csrf_header_takes_an_optimistic_lock(
    alice, orders, signed_in, form
):
    field = fields.create_field(alice, orders.id, {"name": "Total"})
    response = signed_in(alice).get(edit_forms(orders, field)[form])
    assert response.status_code == 200
    lock = locks.active_lock(orders.id)
    assert lock is not None and lock.user_id == alice.id and lock.lock_type == "optimistic"


@pytest.mark.parametrize("header", [None, "", "forged-token"])
@pytest.mark.parametrize("form", ["field row", "table header", "new field"])
def test_opening_an_edit_form_without_a_valid_csrf_header_locks_nothing(
    alice, orders, signed_in, form, header
):
    field = fields.create_field(alice, orders.id, {"name": "Total"})
    client = signed_in(alice)
    headers = {"HX-Request": "true"}
    if header is not None:
        headers["X-CSRFToken"] = header
    response = client.client.get(edit_forms(orders, field)[form], headers=headers)
    assert response.status_code == 200
    assert locks.active_lock(orders.id) is None
