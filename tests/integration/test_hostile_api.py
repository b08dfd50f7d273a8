"""Hostile text in each setting the API takes is refused with a 422 naming the key, and
nothing is written; hostile text where the design holds free text (names, descriptions,
defaults, patterns) is kept as a literal, and deploying it leaves the target's catalog,
roles and another tenant's rows as they were."""

import pytest

from designer.design import fields
from designer.design import tables
from designer.models import ApiToken
from tests.conftest import PASSWORD
from tests.integration.hostile import INJECTION
from tests.integration.hostile import PAYLOADS
from tests.integration.hostile import column_default
from tests.integration.hostile import design_rows
from tests.integration.hostile import other_tenant
from tests.integration.hostile import target_catalog
from tests.integration.hostile import tenant_rows
from tests.on_target import on_target

FIELD = "POST /tables/{table}/fields"
REFUSED = [
    (FIELD, {"name": "X", "data_type": "number", "number_type": INJECTION}, "number_type"),
    (FIELD, {"name": "X", "data_type": "number", "field_config": {"number_type": INJECTION}},
     "field_config"),
    (FIELD, {"name": "X", "max_length": "10); DROP TABLE x; --"}, "max_length"),
    (FIELD, {"name": "X", "max_length": 7.0}, "max_length"),
    (FIELD, {"name": "X", "min_length": True}, "min_length"),
    (FIELD, {"name": "X", "data_type": "number", "number_type": "decimal", "precision": 1001},
     "precision"),
    (FIELD, {"name": "X", "data_type": "number", "number_type": "decimal", "precision": 2,
             "scale": 5}, "scale"),
    (FIELD, {"name": "X", "field_name": INJECTION}, "field_name"),
    (FIELD, {"name": "X", "data_type": INJECTION}, "data_type"),
    (FIELD, {"name": "X", "data_type": "date", "date_type": INJECTION}, "date_type"),
    (FIELD, {"name": "X", "data_type": "number", "min": INJECTION}, "min"),
    (FIELD, {"name": "X", "data_type": "number", "default_value": INJECTION}, "default_value"),
    (FIELD, {"name": "X", "unique_with": ["x"]}, "unique_with"),
    (FIELD, {"name": "X", "pattern": "'); DROP TABLE x; --"}, "pattern"),
    ("PATCH /fields/{field}", {"data_type": "number", "number_type": INJECTION}, "number_type"),
    ("POST /projects/{project}/tables", {"name": "X", "table_name": INJECTION}, "table_name"),
    ("PATCH /tables/{table}", {"table_name": INJECTION}, "table_name"),
    ("PATCH /projects/{project}", {"target_schema": INJECTION}, "target_schema"),
    ("POST /projects/{project}/relationships",
     {"source_table_id": "{table}", "target_table_id": "{other}", "on_delete": INJECTION},
     "on_delete"),
]  # fmt: skip


def filled(body, ids):
    """The body with "{table}" and "{other}" replaced by those tables' ids."""
    places = {"{table}": str(ids["table"]), "{other}": str(ids["other"])}
    return {key: places.get(value, value) if isinstance(value, str) else value
            for key, value in body.items()}  # fmt: skip


@pytest.fixture
def design(alice, shop):
    table = tables.create_table(alice, shop.id, "Victims")
    field = fields.create_field(alice, table.id, {"name": "Note"})
    other = tables.create_table(alice, shop.id, "Orders")
    return {"project": shop.id, "table": table.id, "field": field.id, "other": other.id}


@pytest.mark.parametrize(("route", "body", "key"), REFUSED, ids=[r[2] for r in REFUSED])
def test_a_hostile_setting_sent_to_the_api_is_refused_and_writes_nothing(
    alice, api, design, route, body, key
):
    method, path = route.split(" ")
    body = filled(body, design)
    if method == "PATCH":
        current = api(alice).get(path.format(**design)).json
        body = {**body, "revision": current["revision"]}
    before = design_rows()
    response = api(alice).call(method, path.format(**design), json=body)
    assert response.status_code == 422, response.json
    assert key in response.json["error"]["fields"], response.json
    assert design_rows() == before


def test_hostile_free_text_deploys_as_literals_and_touches_nothing_else(
    alice, shop, api, make_user
):
    other_tenant(make_user)
    client = api(alice)
    before, rows = target_catalog(outside=shop), tenant_rows()
    table = client.post(
        f"/projects/{shop.id}/tables",
        json={"name": PAYLOADS[0], "table_name": "victims", "description": PAYLOADS[1]},
    ).json
    for n, payload in enumerate(PAYLOADS):
        made = client.post(
            f"/tables/{table['id']}/fields",
            json={"name": f"{payload} {n}", "field_name": f"note_{n}", "default_value": payload,
                  "description": payload},
        )  # fmt: skip
        assert made.status_code == 201, made.json
    pattern = "^x'; DROP TABLE other.customers; --$"
    made = client.post(f"/tables/{table['id']}/fields", json={"name": "P", "pattern": pattern})
    assert made.status_code == 201, made.json
    deployed = client.post(f"/tables/{table['id']}/transition", json={"status": "active"})
    assert deployed.status_code == 200, deployed.json
    assert target_catalog(outside=shop) == before
    assert tenant_rows() == rows
    for n, payload in enumerate(PAYLOADS):
        quoted = "'" + payload.replace("'", "''") + "'::text"
        assert column_default("shop", "victims", f"note_{n}") == quoted
    comment = on_target("SELECT obj_description('shop.victims'::regclass, 'pg_class')")
    assert comment == [(PAYLOADS[1],)]
    checks = on_target(
        "SELECT pg_get_constraintdef(oid) FROM pg_constraint"
        " WHERE conrelid = 'shop.victims'::regclass AND contype = 'c'"
    )
    assert checks == [("CHECK ((p ~ '^x''; DROP TABLE other.customers; --$'::text))",)]


@pytest.mark.parametrize("days", [7.0, True, "7", 8])
def test_a_token_lifetime_is_one_of_its_whole_numbers_of_days(alice, api, days):
    before = ApiToken.select().count()
    body = {"username": "alice", "password": PASSWORD, "expires_in_days": days}
    response = api().post("/tokens", json=body)
    assert response.status_code == 422, response.json
    assert "expires_in_days" in response.json["error"]["fields"]
    assert ApiToken.select().count() == before


def test_a_token_lifetime_of_seven_days_is_issued(alice, api):
    body = {"username": "alice", "password": PASSWORD, "name": "ci", "expires_in_days": 7}
    assert api().post("/tokens", json=body).status_code == 201
