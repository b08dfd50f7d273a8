"""Strict, documented API input: wrong JSON types are refused, not coerced; free texts
have limits; openapi.json's request bodies are the models that validate."""

import pytest

from designer import api_input
from designer import projects
from designer.design import tables
from designer.models import Project
from tests.integration.conftest import writes_nothing


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": None}, "name"),
        ({"name": ["Shop"]}, "name"),
        ({"name": 5}, "name"),
        ({"name": "Shop", "description": "x" * 10_001}, "description"),
        ({"name": "Shop", "colour": "red"}, "colour"),
        (["Shop"], "body"),
    ],
)
def test_a_project_body_of_the_wrong_shape_is_refused_and_nothing_is_made(
    payload, field, alice, api
):
    response = api(alice).post("/projects", json=payload)
    assert response.status_code == 422
    assert field in response.json["error"]["fields"]
    assert Project.select().count() == 0


@pytest.mark.parametrize("value", ["false", "maybe", 0, None])
def test_is_active_takes_only_true_or_false(value, alice, shop, api):
    response = api(alice).patch(f"/projects/{shop.id}", json={"is_active": value, "revision": 1})
    assert response.status_code == 422
    assert "is_active" in response.json["error"]["fields"]
    assert Project.get_by_id(shop.id).is_active is True


def test_editors_cannot_archive_a_project_owners_can(alice, shop, make_user, api):
    make_user("eddie")
    projects.add_member(alice, shop.id, "eddie", "editor")
    from designer.models import User

    eddie = User.get(User.username == "eddie")
    refused = api(eddie).patch(f"/projects/{shop.id}", json={"is_active": False, "revision": 1})
    assert refused.status_code == 403
    assert Project.get_by_id(shop.id).is_active is True
    done = api(alice).patch(f"/projects/{shop.id}", json={"is_active": False, "revision": 1})
    assert done.status_code == 200
    assert done.json["is_active"] is False


def test_an_unknown_relationship_type_is_refused_not_made_one_to_many(alice, shop, api):
    customers = tables.create_table(alice, shop.id, "Customers")
    orders = tables.create_table(alice, shop.id, "Orders")
    response = api(alice).post(
        f"/projects/{shop.id}/relationships",
        json={
            "source_table_id": str(customers.id),
            "target_table_id": str(orders.id),
            "relationship_type": "one_to_one",
        },
    )
    assert response.status_code == 422
    assert "relationship_type" in response.json["error"]["fields"]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": "Total", "is_required": "false"}, "is_required"),
        ({"name": "Total", "data_type": "money"}, "data_type"),
        ({"name": "Total", "field_config": {"unique": "yes"}}, "field_config"),
        ({"name": "Total", "sort_order": "1"}, "sort_order"),
    ],
)
def test_field_bodies_are_strict(payload, field, alice, shop, api):
    orders = tables.create_table(alice, shop.id, "Orders")
    client = api(alice)
    with writes_nothing():
        response = client.post(f"/tables/{orders.id}/fields", json=payload)
    assert response.status_code == 422
    assert list(response.json["error"]["fields"]) == [field]


def test_a_nan_is_not_json(alice, shop, api):
    orders = tables.create_table(alice, shop.id, "Orders")
    client = api(alice)
    payload = {"name": "Total", "data_type": "number", "min": float("nan")}
    with writes_nothing():
        response = client.post(f"/tables/{orders.id}/fields", json=payload)
    assert response.status_code == 400
    assert response.json["error"]["code"] == "bad_request"
    assert "not valid JSON" in response.json["error"]["message"]


def test_well_typed_bodies_still_work(alice, shop, api):
    orders = tables.create_table(alice, shop.id, "Orders")
    response = api(alice).post(
        f"/tables/{orders.id}/fields",
        json={
            "name": "Total",
            "data_type": "number",
            "is_required": True,
            "field_config": {"number_type": "decimal", "precision": 10, "scale": 2, "min": 0},
            "default_value": 1.5,
        },
    )
    assert response.status_code == 201, response.json
    assert response.json["default_value"] == "1.5"


def test_openapi_request_bodies_are_the_validating_models(api):
    document = api().get("/openapi.json").json
    operation = document["paths"]["/projects"]["post"]
    reference = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert reference == "#/components/schemas/ProjectCreate"
    schema = document["components"]["schemas"]["ProjectCreate"]
    expected = api_input.ProjectCreate.model_json_schema(
        ref_template="#/components/schemas/{model}"
    )
    assert schema == expected
    assert schema["properties"]["description"]["maxLength"] == 10_000
    assert schema["additionalProperties"] is False
    field_body = document["paths"]["/tables/{table_id}/fields"]["post"]["requestBody"]
    assert field_body["content"]["application/json"]["schema"]["$ref"].endswith("/FieldInput")
    assert "FieldSettings" in document["components"]["schemas"]


def test_descriptions_have_a_limit_in_the_browser_too(alice, shop, signed_in):
    response = signed_in(alice).put(
        f"/projects/{shop.id}/header",
        data={"name": "Shop", "description": "x" * 10_001, "revision": "1"},
    )
    assert response.status_code == 422
    assert Project.get_by_id(shop.id).description == ""


def test_a_field_description_has_a_limit(alice, shop, api):
    orders = tables.create_table(alice, shop.id, "Orders")
    response = api(alice).post(
        f"/tables/{orders.id}/fields",
        json={"name": "Total", "field_config": {"description": "x" * 10_001}},
    )
    assert response.status_code == 422


def test_a_form_body_is_refused_as_not_json(alice, api):
    client = api(alice)
    response = client.client.post(
        "/api/v1/projects",
        data={"name": "Shop"},
        headers={"Authorization": f"Bearer {client.token}"},
    )
    assert response.status_code == 422
    assert "JSON" in response.json["error"]["message"]
    assert Project.select().count() == 0
