"""A JSON file with hostile text or the wrong JSON type in any place is refused with a 422,
its message naming the place (under "file" in the API, beside the preview on a page), and
nothing is written: the system
`id` field (whose settings reached CREATE TABLE raw) is checked like every other field."""

import copy
import io
import json

import pytest

from designer.design import fields
from designer.design import relationships
from designer.design import tables
from designer.interchange import exports
from tests.integration.hostile import INJECTION
from tests.integration.hostile import design_rows
from tests.integration.hostile import other_tenant
from tests.integration.hostile import target_catalog
from tests.integration.hostile import tenant_rows


@pytest.fixture
def exported(alice, shop):
    """The JSON export of Shop: Victims (a field of each type) and Orders, which refers to it."""
    victims = tables.create_table(alice, shop.id, "Victims")
    for spec in (
        {"name": "Note", "max_length": "50"},
        {"name": "Amount", "data_type": "number", "number_type": "decimal"},
        {"name": "Day", "data_type": "date"},
        {"name": "Flag", "data_type": "boolean"},
    ):
        fields.create_field(alice, victims.id, spec)
    orders = tables.create_table(alice, shop.id, "Orders")
    relationships.create_relationship(
        alice, shop.id, {"source_table_id": victims.id, "target_table_id": orders.id}
    )
    return json.loads(exports.export_design(alice, shop.id, "json").text)


def table_of(design, name):
    return next(t for t in design["tables"].values() if t["table_name"] == name)


def field_of(design, name, table="victims"):
    found = table_of(design, table)["fields"].values()
    return next(f for f in found if f["field_name"] == name)


def config_of(design, name, table="victims"):
    return field_of(design, name, table)["field_config"]


def relationship_of(design):
    return next(iter(design["relationships"].values()))


# (what is broken, how, the key the message names)
BREAKS = [
    ("id number_type", lambda d: config_of(d, "id").update(number_type=INJECTION), "number_type"),
    ("id primary_key", lambda d: config_of(d, "id").update(primary_key=INJECTION), "primary_key"),
    ("id extra setting", lambda d: config_of(d, "id").update(max_length=INJECTION), "max_length"),
    ("id as text", lambda d: field_of(d, "id").update(data_type="text"), "data_type"),
    ("id name", lambda d: field_of(d, "id").update(field_name="id2"), "field_name"),
    ("max_length", lambda d: config_of(d, "note").update(max_length="50); DROP"), "max_length"),
    ("max_length as text", lambda d: config_of(d, "note").update(max_length="50"), "max_length"),
    ("min_length", lambda d: config_of(d, "note").update(min_length="1) OR (1=1"), "min_length"),
    ("min_length true", lambda d: config_of(d, "note").update(min_length=True), "min_length"),
    ("number_type", lambda d: config_of(d, "amount").update(number_type=INJECTION), "number_type"),
    ("precision", lambda d: config_of(d, "amount").update(precision="12,2); DROP"), "precision"),
    ("precision float", lambda d: config_of(d, "amount").update(precision=12.0), "precision"),
    ("scale", lambda d: config_of(d, "amount").update(scale=INJECTION), "scale"),
    ("min", lambda d: config_of(d, "amount").update(min=INJECTION), "min"),
    ("max", lambda d: config_of(d, "amount").update(max=INJECTION), "max"),
    ("date_type", lambda d: config_of(d, "day").update(date_type=INJECTION), "date_type"),
    ("unique_with", lambda d: config_of(d, "note").update(unique_with=[INJECTION]), "unique_with"),
    ("unknown setting", lambda d: config_of(d, "note").update(collation=INJECTION), "collation"),
    ("field_name", lambda d: field_of(d, "note").update(field_name=INJECTION), "field_name"),
    ("table_name", lambda d: table_of(d, "victims").update(table_name=INJECTION), "table_name"),
    ("status", lambda d: table_of(d, "victims").update(status=INJECTION), "status"),
    ("default", lambda d: field_of(d, "amount").update(default_value=INJECTION), "default_value"),
    ("is_required no", lambda d: field_of(d, "note").update(is_required="no"), "is_required"),
    ("name 5", lambda d: field_of(d, "note").update(name=5), "name"),
    ("description list", lambda d: config_of(d, "note").update(description=["x"]), "description"),
    ("table description", lambda d: table_of(d, "victims").update(description=[1]), "description"),
    ("sort_order text", lambda d: field_of(d, "note").update(sort_order="1"), "sort_order"),
    ("on_delete", lambda d: relationship_of(d)["cascade_config"].update(on_delete=INJECTION),
     "on_delete"),
    ("relationship name", lambda d: relationship_of(d).update(relationship_name=INJECTION),
     "relationship_name"),
]  # fmt: skip


def api_routes(client, project_id):
    """Each way of sending a file to the API: preview and confirm, into a project or new."""
    return [
        lambda text: client.post(f"/projects/{project_id}/import?format=json",
                                 json={"source": text}),
        lambda text: client.post(f"/projects/{project_id}/import?format=json",
                                 json={"source": text, "confirm": True}),
        lambda text: client.post("/projects/import?format=json", json={"source": text}),
        lambda text: client.post("/projects/import?format=json",
                                 json={"source": text, "name": "Copy", "confirm": True}),
    ]  # fmt: skip


def page_routes(browser, project_id):
    """Each way of uploading a file from a page."""

    def upload(url, text, **form):
        data = {"file": (io.BytesIO(text.encode()), "design.json"), **form}
        return browser.post(url, data=data, content_type="multipart/form-data")

    return [
        lambda text: upload(f"/projects/{project_id}/import/preview", text),
        lambda text: upload(f"/projects/{project_id}/import", text),
        lambda text: upload("/projects/import/preview", text),
        lambda text: upload("/projects/import", text, name="Copy"),
    ]


@pytest.mark.parametrize(("what", "breaks", "key"), BREAKS, ids=[b[0] for b in BREAKS])
def test_a_broken_json_file_is_refused_on_every_route_and_writes_nothing(
    alice, shop, exported, api, signed_in, make_user, what, breaks, key
):
    other_tenant(make_user)
    design = copy.deepcopy(exported)
    breaks(design)
    text = json.dumps(design)
    before, catalog, rows = design_rows(), target_catalog(), tenant_rows()
    for send in api_routes(api(alice), shop.id):
        response = send(text)
        assert response.status_code == 422, response.json
        assert f"{key}:" in response.json["error"]["fields"]["file"]
    for send in page_routes(signed_in(alice), shop.id):
        response = send(text)
        assert response.status_code == 422, response.text
        assert f"{key}:" in response.text and 'role="alert"' in response.text
    assert design_rows() == before
    assert target_catalog() == catalog and tenant_rows() == rows


def test_the_unbroken_export_imports_on_every_route(alice, shop, exported, api):
    """The control: the same export, unbroken, passes where the broken ones are refused."""
    text = json.dumps(exported)
    statuses = [send(text).status_code for send in api_routes(api(alice), shop.id)]
    assert statuses == [200, 201, 200, 201]
