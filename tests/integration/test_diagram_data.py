"""diagram.json: what the diagram draws, kept while nothing changes, never a 500."""

import pytest

from designer.design import fields
from designer.design import relationships
from designer.design import schema_graph
from designer.design import tables


@pytest.fixture
def linked(alice, shop):
    customers = tables.create_table(alice, shop.id, "Customers")
    orders = tables.create_table(alice, shop.id, "Orders")
    fields.create_field(alice, orders.id, {"name": "<b>Total</b> %%", "field_name": "total"})
    rel = relationships.create_relationship(
        alice, shop.id, {"source_table_id": str(customers.id), "target_table_id": str(orders.id)}
    )
    return customers, orders, rel


def get(web, shop, **params):
    return web.get(f"/projects/{shop.id}/diagram.json", query_string=params, htmx=False)


def test_tables_typed_columns_and_the_column_each_foreign_key_starts_at(
    alice, shop, linked, signed_in
):
    customers, orders, rel = linked
    data = get(signed_in(alice), shop).json
    assert data["steps"] == "all" and data["total"] == 2
    assert [t["table_name"] for t in data["tables"]] == ["customers", "orders"]
    drawn = {t["table_name"]: t for t in data["tables"]}
    columns = {c["column"]: c for c in drawn["orders"]["columns"]}
    assert columns["id"]["pk"] and columns["id"]["type"] == "bigint"
    assert columns["customer_id"]["fk"] and not columns["total"]["fk"]
    assert columns["total"]["name"] == "<b>Total</b> %%"
    [line] = data["links"]
    assert line["name"] == rel.relationship_name
    assert (line["from_table"], line["from_column"]) == (
        str(orders.id),
        columns["customer_id"]["id"],
    )
    customers_id = drawn["customers"]["columns"][0]
    assert (line["to_table"], line["to_column"]) == (str(customers.id), customers_id["id"])
    assert "index" not in data  # the names of tables not drawn are searched for instead


def test_an_unchanged_schema_answers_204_and_any_edit_a_new_drawing(alice, shop, linked, signed_in):
    web = signed_in(alice)
    first = get(web, shop).json
    assert get(web, shop, since=first["hash"]).status_code == 204
    fields.create_field(alice, linked[0].id, {"name": "Email"})
    changed = get(web, shop, since=first["hash"])
    assert changed.status_code == 200
    assert "email" in str(changed.json["tables"])
    tables.delete_table(alice, linked[1].id, with_relationships=True)
    gone = get(web, shop, since=changed.json["hash"]).json
    assert [t["table_name"] for t in gone["tables"]] == ["customers"]
    assert gone["links"] == [] and gone["total"] == 1


def test_a_big_schema_is_drawn_as_a_neighbourhood_and_its_other_tables_are_searched(
    alice, shop, linked, signed_in, monkeypatch
):
    monkeypatch.setattr(schema_graph, "DRAW_LIMIT", 1)
    customers, orders, _ = linked
    alone = tables.create_table(alice, shop.id, "Alone")
    data = get(signed_in(alice), shop, focus=str(orders.id), steps="all").json
    assert (data["focus"], data["steps"]) == (str(orders.id), 1)
    assert [t["table_name"] for t in data["tables"]] == ["orders"]
    assert data["tables"][0]["links_outside"] == 1
    assert data["left_out"] == 1
    assert "index" not in data
    web = signed_in(alice)
    found = web.get(f"/projects/{shop.id}/diagram/tables", query_string={"q": "alone"}).json
    assert found["tables"] == [[str(alone.id), "alone", "Alone", 0]]
    found = web.get(f"/projects/{shop.id}/diagram/tables", query_string={"q": "o"}).json
    assert [(row[1], row[3]) for row in found["tables"]] == [
        ("orders", 1), ("alone", 2), ("customers", 2)
    ]  # fmt: skip
    everything = web.get(f"/projects/{shop.id}/diagram/tables").json["tables"]
    assert [row[1] for row in everything] == ["alone", "customers", "orders"]


@pytest.mark.parametrize(
    "params",
    [{"focus": "'; drop table x; --"}, {"focus": "\u00e9" * 300}, {"steps": "-1"},
     {"steps": "9" * 40}, {"steps": "all", "focus": ""}, {"since": "x" * 1000}],
)  # fmt: skip
def test_odd_parameters_fall_back_to_the_defaults(alice, shop, linked, signed_in, params):
    response = get(signed_in(alice), shop, **params)
    assert response.status_code == 200
    assert len(response.json["tables"]) == 2
