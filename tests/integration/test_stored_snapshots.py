"""Designs stored before a rule existed: old versions and working copies that hold settings
the rules now refuse (a JSON import's raw system-field settings, a min_length that is no
number). Each export still renders, without them and saying so; a restore, a compare or a
deploy refuses them with a 422 and writes nothing; an adopted table is checked too."""

import copy
import json

import pytest

from designer.database import deploy
from designer.db import database
from designer.design import fields
from designer.design import tables
from designer.history import snapshot as snapshots
from designer.history import versions
from designer.interchange import exports
from designer.models import DataField
from tests.integration.hostile import INJECTION
from tests.integration.hostile import design_rows
from tests.integration.hostile import other_tenant
from tests.integration.hostile import target_catalog
from tests.integration.hostile import tenant_rows
from tests.on_target import on_target
from tests.sql_statements import script_statements


@pytest.fixture
def victims(alice, shop):
    table = tables.create_table(alice, shop.id, "Victims")
    fields.create_field(alice, table.id, {"name": "Note", "min_length": "2"})
    fields.create_field(alice, table.id, {"name": "Amount", "data_type": "number"})
    versions.save_version(alice, shop.id, "v1")
    return table


def poisoned(snapshot):
    """The snapshot as an old JSON import could store it: settings no rule would let in."""
    for table in snapshot["tables"].values():
        for field in table["fields"].values():
            config = field["field_config"]
            if config.get("system"):
                config["number_type"] = INJECTION
            elif field["field_name"] == "note":
                config["min_length"] = True
            elif field["field_name"] == "amount":
                config["max"] = "1); DROP TABLE other.customers; --"
    return snapshot


def poison_version(project_id, number=1):
    version = versions.get_version(project_id, number)
    snapshot = poisoned(copy.deepcopy(versions.snapshot_of(version)))
    database.execute_sql(
        "UPDATE schema_version SET schema_snapshot = %s::json"
        " WHERE project_id = %s AND version_number = %s",
        (json.dumps(snapshot), str(project_id), number),
    )
    forget_kept()


def poison_working_copy(table, field_name, **settings):
    field = DataField.get(DataField.data_table == table.id, DataField.field_name == field_name)
    DataField.update(field_config={**field.field_config, **settings}).where(
        DataField.id == field.id
    ).execute()
    forget_kept()


def forget_kept():
    versions.cache.clear()
    versions.working.clear()
    exports.exported.clear()


@pytest.mark.parametrize(("fmt", "mark"), [("sql", "--"), ("dbml", "//"), ("mermaid", "%%")])
def test_an_old_version_with_refused_settings_exports_without_them_saying_so(
    alice, shop, victims, api, fmt, mark
):
    poison_version(shop.id)
    response = api(alice).get(f"/projects/{shop.id}/export?format={fmt}&version=1")
    assert response.status_code == 200, response.text
    text = response.text
    assert "DROP TABLE" not in text and "bigint)" not in text
    assert f"{mark}   victims.id written as the designer's bigint identity" in text
    assert f"{mark}   victims.note: setting min_length left out" in text
    assert f"{mark}   victims.amount: setting max left out" in text
    if fmt == "sql":
        script_statements(text, shop.target_schema)


def test_a_working_copy_with_a_json_imported_min_length_still_exports_as_dbml(
    alice, shop, victims, api
):
    poison_working_copy(victims, "note", min_length=True)
    response = api(alice).get(f"/projects/{shop.id}/export?format=dbml")
    assert response.status_code == 200, response.text
    assert "//   victims.note: setting min_length left out" in response.text


def test_restoring_a_version_with_refused_settings_is_refused_and_writes_nothing(
    alice, shop, victims, api
):
    tables.create_table(alice, shop.id, "Later")
    poison_version(shop.id)
    before, design = design_rows(), snapshots.build(shop.id)
    response = api(alice).post(f"/projects/{shop.id}/versions/1/restore", json={"confirm": True})
    assert response.status_code == 422, response.json
    assert "number_type:" in response.json["error"]["fields"]["version"]
    assert design_rows() == before and snapshots.build(shop.id) == design


def test_comparing_with_such_a_version_is_refused_and_its_page_still_shows(
    alice, shop, victims, api, signed_in
):
    poison_version(shop.id)
    compared = api(alice).get(f"/projects/{shop.id}/diff?from=1&to=working")
    assert compared.status_code == 422, compared.json
    page = signed_in(alice).get(f"/projects/{shop.id}/versions/1", htmx=False)
    assert page.status_code == 200
    assert "DROP TABLE" not in page.text.replace("&#39;", "'").split("<code>")[0]


def test_a_working_copy_with_a_refused_setting_does_not_deploy(
    alice, shop, victims, api, make_user
):
    other_tenant(make_user)
    poison_working_copy(victims, "amount", number_type=INJECTION)
    before, catalog, rows = design_rows(), target_catalog(), tenant_rows()
    response = api(alice).post(f"/tables/{victims.id}/transition", json={"status": "active"})
    assert response.status_code == 422, response.json
    assert "number_type" in response.json["error"]["fields"]
    assert target_catalog() == catalog and tenant_rows() == rows
    assert design_rows()["Deployment"] == before["Deployment"]


def test_adopting_a_table_whose_name_the_rules_refuse_is_refused(alice, shop, victims, api):
    deploy.transition(alice, victims.id, "active")
    on_target(
        'CREATE TABLE shop."Evil); DROP TABLE other.customers; --"'
        " (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY)"
    )
    before = design_rows()
    response = api(alice).post(f"/projects/{shop.id}/drift", json={"resolve": "adopt"})
    assert response.status_code == 422, response.json
    assert "table_name:" in response.json["error"]["fields"]["resolve"]
    assert design_rows() == before


def test_a_deployed_tables_page_says_what_keeps_it_from_being_planned(
    alice, shop, victims, signed_in
):
    deploy.transition(alice, victims.id, "active")
    poison_working_copy(victims, "amount", number_type=INJECTION)
    browser = signed_in(alice)
    page = browser.get(f"/tables/{victims.id}", htmx=False)
    assert page.status_code == 200
    assert "cannot be planned: Column &#39;amount&#39;: number_type:" in page.text
    assert browser.get(f"/projects/{shop.id}/deploy", htmx=False).status_code == 422
