"""Primary keys as designed: chosen through the API, deployed, enforced, read back by drift.

A natural key, a composite key in a chosen order, the system id removed once another key
is chosen and brought back on request, composite foreign keys whose columns keep exactly
their key's type, and snapshots without chosen keys unchanged in shape (their hashes stand).
"""

import uuid

import psycopg2
import pytest

from designer.database import deploy
from designer.database import drift
from designer.design import fields
from designer.design import primary_keys
from designer.design import tables
from designer.design.dependents import using_fields
from designer.errors import Conflict
from designer.history import snapshot
from designer.interchange import exports
from designer.models import DataField
from designer.models import TableRelationship
from tests.on_target import on_target as rows


def add(user, table, name, **spec):
    return fields.create_field(user, table.id, {"name": name, **spec})


def put_key(client, table, field_ids):
    return client.put(f"/tables/{table.id}/primary_key", json={"field_ids": field_ids})


def system_id(table):
    return DataField.get(DataField.data_table == table.id, DataField.field_name == "id")


def test_a_design_without_chosen_keys_keeps_the_snapshot_shape_it_had(alice, shop, notes):
    built = snapshot.build(shop.id)
    [entry] = built["tables"].values()
    assert set(entry) == {"id", "name", "table_name", "description", "status", "fields"}
    # Written by the Python entry functions (the shape every stored snapshot has) or by the
    # one query: the same bytes, so stored hashes still verify.
    again = snapshot.build(shop.id)
    assert snapshot.snapshot_hash(built) == snapshot.snapshot_hash(again)


def test_a_natural_key_is_chosen_deployed_and_enforced_and_the_id_may_go(alice, shop, api):
    client = api(alice)
    countries = tables.create_table(alice, shop.id, "Countries")
    code = add(alice, countries, "Code", data_type="text", max_length="2")
    add(alice, countries, "Label")
    with pytest.raises(Conflict):
        fields.delete_field(alice, system_id(countries).id)  # still the key
    answer = put_key(client, countries, [str(code.id)])
    assert answer.status_code == 200, answer.json
    assert answer.json["primary_key"] == [str(code.id)]
    assert DataField.get_by_id(code.id).is_required  # a key column is required
    with pytest.raises(Conflict):
        fields.delete_field(alice, code.id)  # in the key
    fields.delete_field(alice, system_id(countries).id)
    built = snapshot.build(shop.id)["tables"][str(countries.id)]
    assert built["structure"] == {"primary_key": [str(code.id)]}
    _, deployment = deploy.transition(alice, countries.id, "active")
    assert deployment.status == "applied", deployment.error
    assert rows(
        "SELECT pg_get_constraintdef(oid) FROM pg_constraint"
        " WHERE conrelid = 'shop.countries'::regclass AND contype = 'p'"
    ) == [("PRIMARY KEY (code)",)]
    assert rows(
        "SELECT attname FROM pg_attribute WHERE attrelid = 'shop.countries'::regclass"
        " AND attnum > 0 ORDER BY attnum"
    ) == [("code",), ("label",)]
    rows("INSERT INTO shop.countries (code, label) VALUES ('FR', 'France')")
    with pytest.raises(psycopg2.errors.UniqueViolation):
        rows("INSERT INTO shop.countries (code, label) VALUES ('FR', 'again')")
    assert drift.check(alice, shop.id).differences == []


def test_a_composite_key_and_a_composite_foreign_key_keep_order_and_exact_types(alice, shop, api):
    client = api(alice)
    lines = tables.create_table(alice, shop.id, "Order lines")
    order_no = add(alice, lines, "Order no", data_type="number", number_type="integer")
    line_no = add(alice, lines, "Line no", data_type="number", number_type="integer")
    assert put_key(client, lines, [str(line_no.id), str(order_no.id)]).status_code == 200
    shipments = tables.create_table(alice, shop.id, "Shipments")
    answer = client.post(
        f"/projects/{shop.id}/relationships",
        json={
            "source_table_id": str(lines.id),
            "target_table_id": str(shipments.id),
            "pairs": [[str(order_no.id), "new"], [str(line_no.id), "new"]],
            "on_delete": "cascade",
        },
    )
    assert answer.status_code == 201, answer.json
    pairs = answer.json["pairs"]
    assert [key for key, _ in pairs] == [str(order_no.id), str(line_no.id)]
    made = [DataField.get_by_id(foreign) for _, foreign in pairs]
    assert [f.field_name for f in made] == ["order_line_order_no", "order_line_line_no"]
    # Exactly the key's type: an integer key, an integer foreign key (never widened).
    assert [f.field_config for f in made] == [{"number_type": "integer"}] * 2
    _, first = deploy.transition(alice, lines.id, "active")
    _, second = deploy.transition(alice, shipments.id, "active")
    assert second.status == "applied", second.error
    assert rows(
        "SELECT pg_get_constraintdef(oid) FROM pg_constraint"
        " WHERE conrelid = 'shop.order_lines'::regclass AND contype = 'p'"
    ) == [("PRIMARY KEY (line_no, order_no)",)]
    assert rows(
        "SELECT pg_get_constraintdef(oid) FROM pg_constraint"
        " WHERE conrelid = 'shop.shipments'::regclass AND contype = 'f'"
    ) == [
        (
            "FOREIGN KEY (order_line_order_no, order_line_line_no)"
            " REFERENCES shop.order_lines(order_no, line_no) ON DELETE CASCADE",
        )
    ]
    assert rows(
        "SELECT format_type(atttypid, atttypmod) FROM pg_attribute"
        " WHERE attrelid = 'shop.shipments'::regclass AND attname LIKE %s",
        ("order_line_%",),
    ) == [("integer",), ("integer",)]
    rows("INSERT INTO shop.order_lines (order_no, line_no) VALUES (7, 1)")
    rows("INSERT INTO shop.shipments (order_line_order_no, order_line_line_no) VALUES (7, 1)")
    with pytest.raises(psycopg2.errors.ForeignKeyViolation):
        rows("INSERT INTO shop.shipments (order_line_order_no, order_line_line_no) VALUES (1, 7)")
    with pytest.raises(psycopg2.errors.UniqueViolation):
        rows("INSERT INTO shop.order_lines (order_no, line_no) VALUES (7, 1)")
    assert drift.check(alice, shop.id).differences == []
    # The key a relationship points at cannot be changed from under it.
    made_rel = answer.json["id"]
    answer = put_key(client, lines, [str(order_no.id)])
    assert answer.status_code == 409
    # Its second column is in use as much as its first: deleting it asks about the relationship.
    assert [r.id for r in using_fields([made[1].id])] == [uuid.UUID(made_rel)]


def test_a_relationship_must_name_a_key_and_the_designers_id_comes_back(alice, shop, api):
    client = api(alice)
    people = tables.create_table(alice, shop.id, "People")
    email = add(alice, people, "Email", is_required="on")
    nick = add(alice, people, "Nick")
    pets = tables.create_table(alice, shop.id, "Pets")
    answer = client.post(
        f"/projects/{shop.id}/relationships",
        json={
            "source_table_id": str(people.id),
            "target_table_id": str(pets.id),
            "pairs": [[str(email.id), "new"], [str(nick.id), "new"]],
        },
    )
    assert answer.status_code == 422
    assert "neither the key" in answer.json["error"]["message"]
    assert put_key(client, people, [str(email.id)]).status_code == 200
    fields.delete_field(alice, system_id(people).id)
    answer = client.put(f"/tables/{people.id}/primary_key", json={"field_ids": None})
    assert answer.status_code == 200, answer.json
    assert answer.json["primary_key"] is None
    back = system_id(people)
    assert back.field_config["system"] and back.field_config["primary_key"]
    entry = snapshot.build(shop.id)["tables"][str(people.id)]
    assert "structure" not in entry  # reads exactly as a table that never chose a key


def test_the_diagram_marks_the_chosen_key_not_the_designers_id(alice, shop, api, signed_in):
    lines = tables.create_table(alice, shop.id, "Order lines")
    order_no = add(alice, lines, "Order no", data_type="number")
    line_no = add(alice, lines, "Line no", data_type="number")
    assert put_key(api(alice), lines, [str(line_no.id), str(order_no.id)]).status_code == 200
    data = signed_in(alice).get(f"/projects/{shop.id}/diagram.json", htmx=False).json
    [drawn] = data["tables"]
    assert {c["column"]: c["pk"] for c in drawn["columns"]} == {
        "id": False,
        "order_no": True,
        "line_no": True,
    }
    mermaid = exports.export_design(alice, shop.id, "mermaid").text
    assert 'bigint id "ID"\n' in mermaid and "integer line_no PK" in mermaid


def test_the_relationship_form_links_to_a_composite_key_with_a_column_for_each(
    alice, shop, signed_in
):
    lines = tables.create_table(alice, shop.id, "Order lines")
    order_no = add(alice, lines, "Order no", data_type="number")
    line_no = add(alice, lines, "Line no", data_type="number")
    primary_keys.set_primary_key(alice, lines.id, [str(line_no.id), str(order_no.id)])
    tables.create_table(alice, shop.id, "Shipments")
    form = {"source_table": "Order lines", "target_table": "Shipments", "source_field_id": "",
            "target_field_id": "new", "relationship_type": "one_to_many"}  # fmt: skip
    answer = signed_in(alice).post(f"/projects/{shop.id}/relationships", data=form)
    assert answer.status_code == 200 and "HX-Redirect" in answer.headers
    [rel] = TableRelationship.select().where(TableRelationship.project == shop.id)
    assert [key for key, _ in rel.field_pairs] == [str(line_no.id), str(order_no.id)]
    made = [DataField.get_by_id(foreign).field_name for _, foreign in rel.field_pairs]
    assert made == ["order_line_line_no", "order_line_order_no"]
    # The table page marks each column of the foreign key, not only the first.
    page = signed_in(alice).get(f"/tables/{rel.target_table_id}").text
    assert page.count('title="Foreign key to order_lines"') == 2
