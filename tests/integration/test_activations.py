"""Activating many Draft tables at once: one plan, one transaction, all or nothing."""

import html

import pytest

from designer import locks
from designer import projects
from designer.database import activations
from designer.design import fields
from designer.design import relationships
from designer.design import tables
from designer.errors import Conflict
from designer.errors import ValidationFailed
from designer.models import ActivityEntry
from designer.models import DataTable
from designer.models import Deployment
from tests.on_target import on_target


def table_with_field(user, project, name):
    table = tables.create_table(user, project.id, name)
    fields.create_field(user, table.id, {"name": "Label"})
    return table


@pytest.fixture
def linked(alice, shop):
    """Two Draft tables, alpha pointing at zulu: by name the child comes first."""
    zulu = table_with_field(alice, shop, "Zulu")
    alpha = table_with_field(alice, shop, "Alpha")
    relationships.create_relationship(
        alice, shop.id, {"source_table_id": str(zulu.id), "target_table_id": str(alpha.id)}
    )
    return alpha, zulu


def target_tables(schema):
    rows = on_target("SELECT tablename FROM pg_tables WHERE schemaname = %s ORDER BY 1", (schema,))
    return [row[0] for row in rows]


def foreign_keys(schema):
    rows = on_target(
        "SELECT conrelid::regclass::text, confrelid::regclass::text FROM pg_constraint"
        " WHERE contype = 'f' AND connamespace = to_regnamespace(%s)",
        (schema,),
    )
    return sorted(rows)


def statuses(*rows):
    return [DataTable.get_by_id(row.id).status for row in rows]


def test_a_dry_run_then_the_activation_of_linked_tables_in_one_deployment(alice, shop, linked, api):
    alpha, zulu = linked
    client = api(alice)
    ids = [str(alpha.id), str(zulu.id)]
    url = f"/projects/{shop.id}/activations"
    dry = client.post(url, json={"table_ids": ids, "dry_run": True})
    assert dry.status_code == 201, dry.json
    assert dry.json["dry_run"] is True
    assert dry.json["deployment"]["status"] == "dry_run_ok"
    assert [t["status"] for t in dry.json["tables"]] == ["draft", "draft"]
    assert statuses(alpha, zulu) == ["draft", "draft"]
    assert target_tables(shop.target_schema) == []
    done = client.post(url, json={"table_ids": ids})
    assert done.status_code == 201, done.json
    assert [(t["table_name"], t["status"]) for t in done.json["tables"]] == [
        ("alpha", "active"),
        ("zulu", "active"),
    ]
    sql = done.json["deployment"]["sql"]
    # Both tables exist before the key between them is added, whatever their names.
    assert sql.index('CREATE TABLE "shop"."zulu"') < sql.index("FOREIGN KEY")
    assert sql.index('CREATE TABLE "shop"."alpha"') < sql.index("FOREIGN KEY")
    assert statuses(alpha, zulu) == ["active", "active"]
    assert target_tables(shop.target_schema) == ["alpha", "zulu"]
    assert foreign_keys(shop.target_schema) == [("shop.alpha", "shop.zulu")]
    applied = Deployment.select().where(Deployment.status == "applied").count()
    assert applied == 1
    assert all(t.deployed_at is not None for t in DataTable.select())
    entry = ActivityEntry.select().where(ActivityEntry.action == "table.status").get()
    assert entry.summary == "activated 2 tables: alpha, zulu"


def test_all_drafts_activates_only_the_drafts(alice, shop, linked, notes, api):
    client = api(alice)
    client.post(f"/tables/{notes.id}/transition", json={"status": "active"})
    done = client.post(f"/projects/{shop.id}/activations", json={"all_drafts": True})
    assert done.status_code == 201, done.json
    assert [t["table_name"] for t in done.json["tables"]] == ["alpha", "zulu"]
    assert 'CREATE TABLE "shop"."notes"' not in done.json["deployment"]["sql"]
    assert target_tables(shop.target_schema) == ["alpha", "notes", "zulu"]
    again = client.post(f"/projects/{shop.id}/activations", json={"all_drafts": True})
    assert again.status_code == 409
    assert "no Draft table" in again.json["error"]["message"]


def test_one_incomplete_table_keeps_every_table_draft(alice, shop, linked, api):
    alpha, zulu = linked
    empty = tables.create_table(alice, shop.id, "Empty")
    refused = api(alice).post(f"/projects/{shop.id}/activations", json={"all_drafts": True})
    assert refused.status_code == 422
    assert "empty: Add at least one field besides id." in refused.json["error"]["message"]
    assert statuses(alpha, zulu, empty) == ["draft", "draft", "draft"]
    assert Deployment.select().count() == 0
    assert target_tables(shop.target_schema) == []


@pytest.mark.parametrize(
    "body",
    [
        {"table_ids": []},
        {},
        {"table_ids": ["not-an-id"]},
        {"table_ids": ["00000000-0000-0000-0000-000000000000"]},
        {"all_drafts": True, "table_ids": ["00000000-0000-0000-0000-000000000000"]},
    ],
)
def test_a_choice_naming_no_draft_table_of_the_project_is_refused(alice, shop, linked, api, body):
    refused = api(alice).post(f"/projects/{shop.id}/activations", json=body)
    assert refused.status_code == 422, refused.json
    assert statuses(*linked) == ["draft", "draft"]


def test_tables_of_another_project_or_not_draft_are_refused(alice, shop, linked, notes, api):
    client = api(alice)
    other = projects.create_project(alice, "Other")
    stranger = table_with_field(alice, other, "Stranger")
    client.post(f"/tables/{notes.id}/transition", json={"status": "active"})
    url = f"/projects/{shop.id}/activations"
    foreign = client.post(url, json={"table_ids": [str(linked[0].id), str(stranger.id)]})
    assert foreign.status_code == 422
    active = client.post(url, json={"table_ids": [str(linked[0].id), str(notes.id)]})
    assert active.status_code == 422
    assert "notes is active" in active.json["error"]["message"]
    assert statuses(*linked, stranger) == ["draft", "draft", "draft"]


def test_only_editors_activate(alice, make_user, shop, linked, api):
    vera = make_user("vera")
    projects.add_member(alice, shop.id, "vera", "viewer")
    viewer = api(vera)
    refused = viewer.post(f"/projects/{shop.id}/activations", json={"all_drafts": True})
    assert refused.status_code == 403
    outsider = api(make_user("mallory"))
    hidden = outsider.post(f"/projects/{shop.id}/activations", json={"all_drafts": True})
    assert hidden.status_code == 404
    assert statuses(*linked) == ["draft", "draft"]


def test_a_table_locked_by_someone_else_keeps_all_draft(alice, make_user, shop, linked, api):
    bob = make_user("bob")
    projects.add_member(alice, shop.id, "bob", "editor")
    locks.acquire(linked[1].id, bob, "optimistic")
    refused = api(alice).post(f"/projects/{shop.id}/activations", json={"all_drafts": True})
    assert refused.status_code == 423
    assert "zulu (by bob)" in refused.json["error"]["message"]
    assert statuses(*linked) == ["draft", "draft"]
    assert target_tables(shop.target_schema) == []


def test_a_failing_statement_leaves_every_table_draft_and_the_target_as_it_was(alice, shop, linked):
    activations.activate(alice, shop.id, all_drafts=True, dry_run=True)  # makes the schema
    on_target(f'CREATE TABLE "{shop.target_schema}"."zulu" (x integer)')
    with pytest.raises(Conflict) as failed:
        activations.activate(alice, shop.id, all_drafts=True)
    assert "already exists" in failed.value.message
    assert statuses(*linked) == ["draft", "draft"]
    assert target_tables(shop.target_schema) == ["zulu"]
    failed_row = Deployment.select().where(Deployment.status == "failed").get()
    # The steps ran together in one round trip: still each step has its own outcome.
    outcomes = [(step["sql"].split(" (")[0], step["outcome"]) for step in failed_row.plan]
    zulu = next(i for i, (sql, _) in enumerate(outcomes) if sql.endswith('"zulu"'))
    assert outcomes[zulu][1] == "failed"
    assert {outcome for _, outcome in outcomes[:zulu]} == {"ok"}
    assert {outcome for _, outcome in outcomes[zulu + 1 :]} == {"not_run"}
    assert "already exists" in failed_row.plan[zulu]["error"]


def test_both_ways_of_choosing_are_not_mixed(alice, shop, linked):
    with pytest.raises(ValidationFailed):
        activations.activate(alice, shop.id, [str(linked[0].id)], all_drafts=True)


def test_the_pages_offer_review_dry_run_and_activate(alice, shop, linked, signed_in):
    alpha, zulu = linked
    browser = signed_in(alice)
    listing = browser.get(f"/projects/{shop.id}", htmx=False).text
    assert "2 Draft tables not deployed." in listing
    assert f'name="table_ids" value="{alpha.id}"' in listing
    deploy_tab = browser.get(f"/projects/{shop.id}/deploy", htmx=False).text
    assert f"/projects/{shop.id}/activations/new?all_drafts=1" in deploy_tab
    review = browser.get(f"/projects/{shop.id}/activations/new?all_drafts=1", htmx=False)
    assert review.status_code == 200
    assert "Activate 2 Draft tables" in review.text
    assert html.unescape(review.text).count('CREATE TABLE "shop".') == 2
    url = f"/projects/{shop.id}/activations"
    dry = browser.post(url, data={"all_drafts": "1", "action": "dry_run"})
    assert dry.status_code == 200
    assert "Dry run passed" in dry.text
    assert statuses(alpha, zulu) == ["draft", "draft"]
    done = browser.post(
        url, data={"table_ids": [str(alpha.id), str(zulu.id)], "action": "activate"}
    )
    assert done.headers["HX-Redirect"] == f"/projects/{shop.id}/deploy"
    assert statuses(alpha, zulu) == ["active", "active"]
    assert target_tables(shop.target_schema) == ["alpha", "zulu"]
    after = browser.get(f"/projects/{shop.id}/deploy", htmx=False).text
    assert "2 tables are now Active and deployed to shop." in after
    assert "activations/new" not in after


def test_the_page_form_needs_its_csrf_token(alice, shop, linked, signed_in):
    browser = signed_in(alice)
    browser.token = None
    refused = browser.post(
        f"/projects/{shop.id}/activations", data={"all_drafts": "1", "action": "activate"}
    )
    assert refused.status_code == 400
    assert statuses(*linked) == ["draft", "draft"]


def test_the_review_says_why_tables_cannot_be_activated(alice, shop, linked, notes, signed_in):
    browser = signed_in(alice)
    tables.create_table(alice, shop.id, "Empty")
    review = browser.get(f"/projects/{shop.id}/activations/new?all_drafts=1", htmx=False)
    assert review.status_code == 200
    assert "empty: Add at least one field besides id." in review.text
    assert "Activate 3 tables" not in review.text
    chosen = browser.get(
        f"/projects/{shop.id}/activations/new?table_ids={linked[0].id}", htmx=False
    )
    assert chosen.status_code == 200 and "Activate 1 Draft table" in chosen.text


def test_the_api_documents_activations(alice, api):
    document = api(alice).get("/openapi.json").json
    operation = document["paths"]["/projects/{project_id}/activations"]["post"]
    assert operation["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ActivationRequest"
    }
    fields = document["components"]["schemas"]["ActivationRequest"]["properties"]
    assert set(fields) == {"table_ids", "all_drafts", "dry_run", "confirm_destructive"}
