"""The deployment API: deployments, transition, drift, export, diff SQL and target_schema."""

import re

from designer import projects
from designer.design import tables
from tests.on_target import on_target as execute_on_target


def test_transition_dry_run_then_deploy(alice, shop, notes, api):
    client = api(alice)
    dry = client.post(f"/tables/{notes.id}/transition", json={"status": "active", "dry_run": True})
    assert dry.status_code == 200, dry.json
    assert dry.json["status"] == "draft"
    assert dry.json["deployment"]["status"] == "dry_run_ok"
    done = client.post(f"/tables/{notes.id}/transition", json={"status": "active"})
    assert done.json["status"] == "active"
    deployment = done.json["deployment"]
    assert deployment["status"] == "applied"
    assert 'CREATE TABLE "shop"."notes"' in deployment["sql"]
    kinds = {step["kind"] for step in deployment["steps"]}
    assert kinds == {"safe"}
    listed = client.get(f"/projects/{shop.id}/deployments").json["deployments"]
    assert [d["status"] for d in listed] == ["applied", "dry_run_ok"]
    one = client.get(f"/projects/{shop.id}/deployments/{deployment['id']}")
    assert one.json["sql"] == deployment["sql"]


def test_destructive_steps_are_refused_with_409_until_confirmed(alice, shop, notes, api):
    client = api(alice)
    client.post(f"/tables/{notes.id}/transition", json={"status": "active"})
    execute_on_target("INSERT INTO shop.notes (body) VALUES ('keep me')")
    body = next(f for f in tables.ordered_fields(notes.id) if f.field_name == "body")
    lock = client.post(f"/tables/{notes.id}/lock", json={"lock_type": "critical"}).json
    headers = {"X-Lock-Token": lock["lock_token"]}
    assert client.delete(f"/fields/{body.id}", headers=headers).status_code == 204
    refused = client.post(f"/projects/{shop.id}/deployments", json={"dry_run": False})
    assert refused.status_code == 409
    assert refused.json["steps"][0]["kind"] == "destructive"
    assert refused.json["steps"][0]["affected_rows"] == 1
    dry = client.post(f"/projects/{shop.id}/deployments", json={"dry_run": True})
    assert dry.status_code == 201 and dry.json["status"] == "dry_run_ok"
    done = client.post(
        f"/projects/{shop.id}/deployments", json={"dry_run": False, "confirm_destructive": True}
    )
    assert done.status_code == 201 and done.json["status"] == "applied"


def test_drift_reports_changes_made_behind_the_designers_back(alice, shop, notes, api):
    client = api(alice)
    assert client.get(f"/projects/{shop.id}/drift").json == {
        "in_sync": True,
        "differences": [],
        "items": [],
    }
    client.post(f"/tables/{notes.id}/transition", json={"status": "active"})
    assert client.get(f"/projects/{shop.id}/drift").json["in_sync"] is True
    execute_on_target("ALTER TABLE shop.notes ADD COLUMN sneaky integer")
    report = client.get(f"/projects/{shop.id}/drift").json
    assert report["in_sync"] is False
    assert any("sneaky" in line and "not in the design" in line for line in report["differences"])


def test_export_sql_is_the_full_create_script(alice, shop, notes, api):
    response = api(alice).get(f"/projects/{shop.id}/export?format=sql")
    assert response.status_code == 200
    assert 'filename="shop.sql"' in response.headers["Content-Disposition"]
    assert 'CREATE TABLE "shop"."notes"' in response.text
    assert api(alice).get(f"/projects/{shop.id}/export?format=xml").status_code == 422


def test_the_diff_carries_its_migration_sql(alice, shop, notes, api):
    client = api(alice)
    client.post(f"/projects/{shop.id}/versions", json={"message": "one"})
    tables.update_table(alice, notes.id, notes.revision, table_name="memos")
    diff = client.get(f"/projects/{shop.id}/diff?from=1&to=working").json
    assert diff["sql"] == (
        'ALTER TABLE "shop"."notes" RENAME TO "memos";\n'
        'ALTER TABLE "shop"."memos" RENAME CONSTRAINT "notes_pkey" TO "memos_pkey";\n'
        'ALTER SEQUENCE "shop"."notes_id_seq" RENAME TO "memos_id_seq";\n'
    )


def test_target_schema_is_derived_unique_and_owner_editable_until_deployed(
    alice, make_user, shop, notes, api
):
    client = api(alice)
    assert client.get(f"/projects/{shop.id}").json["target_schema"] == "shop"
    second = client.post("/projects", json={"name": "Shop"}).json
    # A random suffix: "shop_2" would tell that one other project holds "shop".
    assert re.fullmatch(r"shop_[0-9a-f]{6}", second["target_schema"])
    bad = client.patch(f"/projects/{shop.id}", json={"target_schema": "pg_x", "revision": 1})
    assert bad.status_code == 422 and "target_schema" in bad.json["error"]["fields"]
    taken = client.patch(
        f"/projects/{shop.id}", json={"target_schema": second["target_schema"], "revision": 1}
    )
    assert taken.status_code == 422
    eddie = make_user("eddie")
    projects.add_member(alice, shop.id, "eddie", "editor")
    as_editor = api(eddie).patch(f"/projects/{shop.id}", json={"target_schema": "x", "revision": 1})
    assert as_editor.status_code == 403
    moved = client.patch(f"/projects/{shop.id}", json={"target_schema": "store", "revision": 1})
    assert moved.json["target_schema"] == "store"
    client.post(f"/tables/{notes.id}/transition", json={"status": "active"})
    revision = moved.json["revision"]
    frozen = client.patch(f"/projects/{shop.id}", json={"target_schema": "y", "revision": revision})
    assert frozen.status_code == 422


def test_breaking_changes_need_a_critical_lock_only_once_deployed(alice, shop, notes, api):
    client = api(alice)
    body = next(f for f in tables.ordered_fields(notes.id) if f.field_name == "body")
    retype = {"data_type": "number", "revision": body.revision}
    assert client.patch(f"/fields/{body.id}", json=retype).status_code == 200
    client.post(f"/tables/{notes.id}/transition", json={"status": "active"})
    refused = client.patch(f"/fields/{body.id}", json={"data_type": "text", "revision": 2})
    assert refused.status_code == 423
    assert client.delete(f"/fields/{body.id}").status_code == 423


def test_dropping_a_deleted_table_from_the_database(alice, shop, notes, api):
    client = api(alice)
    client.post(f"/tables/{notes.id}/transition", json={"status": "active"})
    execute_on_target("INSERT INTO shop.notes (body) VALUES ('x')")
    lock = client.post(f"/tables/{notes.id}/lock", json={"lock_type": "critical"}).json
    headers = {"X-Lock-Token": lock["lock_token"]}
    for status in ("deprecated", "deleted"):
        moved = client.post(
            f"/tables/{notes.id}/transition",
            json={"status": status, "confirm": True},
            headers=headers,
        )
        assert moved.status_code == 200, moved.json
    wrong = client.post(f"/tables/{notes.id}/drop", json={"confirm_name": "memos"})
    assert wrong.status_code == 422
    dropped = client.post(f"/tables/{notes.id}/drop", json={"confirm_name": "notes"})
    assert dropped.status_code == 201, dropped.json
    assert dropped.json["steps"][0]["sql"] == 'DROP TABLE "shop"."notes"'
    assert dropped.json["steps"][0]["affected_rows"] == 1
    assert execute_on_target("SELECT to_regclass('shop.notes')") == [(None,)]
