"""Every GET route of the app and the API runs as many queries for 1,000 tables as for 10.

The routes come from app.url_map, so a new GET route is measured (or this test
fails naming it) without anyone listing it here.
"""

import uuid

from peewee import chunked

from designer import api_tokens
from designer import branches
from designer import merge_requests
from designer import projects
from designer import web
from designer.database import records
from designer.db import counting_queries
from designer.design import enums
from designer.design import fields
from designer.design import table_structure
from designer.design import tables
from designer.design.tables import SYSTEM_FIELD
from designer.history import snapshot
from designer.history import versions
from designer.models import DataField
from designer.models import DataTable
from designer.models import Deployment
from designer.models import TableRelationship
from designer.settings import settings

DEPLOYED = 5  # tables recorded as deployed (the target holds only these)
# Partials the pages load with htmx (they answer a block to an htmx request).
HTMX = {
    "tables.table_rows", "tables.project_live", "tables.live", "tables.header",
    "tables.edit_header", "tables.new_table", "tables.suggest_table_name", "fields.rows",
    "fields.new", "fields.type_settings", "fields.show", "fields.edit", "locks.show",
    "projects.header", "projects.edit_header", "relationships.form", "relationships.show",
    "relationships.edit", "relationships.table_choices", "deployments.drift_report",
}  # fmt: skip
# "Load more" and other query strings the pages use, by endpoint ("hx:": loaded by htmx).
VARIANTS = {
    "tables.table_rows": ["?q=table_0", "?after=Table+0001"],
    "relationships.index": ["hx:?after=table_0001_previous_id_fkey"],
    "relationships.table_choices": ["?q=table_0", "?target_table=Table+0"],
    "relationships.form": ["?source_table=Table+0001&target_table=table_0002"],
    "versions.timeline": ["hx:?before=2"],
    "versions.show": ["hx:?tables=1", "hx:?relationships=1"],
    "versions.compare": ["?from=1&to=2", "?from=1&to=working", "hx:?from=&to=1&start=1"],
    "deployments.show": ["hx:?start=1"],
    "deployments.review_activation": ["?all_drafts=1", "hx:?all_drafts=1&start=1"],
    "deployments.index": ["hx:?start=1", "?start=1"],
    "diagram.show": ["?all=1"],
    "api.list_relationships": ["?limit=5&after=table_0001_previous_id_fkey"],
    "api.list_deployments": ["?limit=1"],
    "api.diff": ["?from=1&to=2"],
}


def rows_of(project, user, count):
    """Tables (all Active), each with an id and a note column, and all but the first with a
    foreign key to the one before: (tables, fields, relationships) as insert rows."""
    made, owned, linked = [], [], []
    previous = None
    for i in range(count):
        table_id, key = uuid.uuid4(), uuid.uuid4()
        made.append({
            "id": table_id, "project": project.id, "name": f"Table {i:04d}",
            "table_name": f"table_{i:04d}", "status": "active", "created_by": user.id,
        })  # fmt: skip
        owned.append({"id": key, "data_table": table_id, **SYSTEM_FIELD})
        owned.append({"data_table": table_id, "name": "Note", "field_name": "note",
                      "data_type": "text", "sort_order": 1})  # fmt: skip
        if previous is not None:
            foreign = uuid.uuid4()
            owned.append({
                "id": foreign, "data_table": table_id, "name": "Previous ID",
                "field_name": "previous_id", "data_type": "number",
                "field_config": {"number_type": "bigint"}, "sort_order": 2,
            })  # fmt: skip
            linked.append({
                "project": project.id, "source_table": previous[0], "source_field": previous[1],
                "target_table": table_id, "target_field": foreign,
                "relationship_name": f"table_{i:04d}_previous_id_fkey",
                "cascade_config": {"on_delete": "no_action", "on_update": "no_action"},
                "created_by": user.id,
            })  # fmt: skip
        previous = (table_id, key)
    return made, owned, linked


def record_deployment(project, user):
    """A deployment of the first DEPLOYED tables, recorded as the designer records one."""
    design = snapshot.build(project.id)
    first = sorted(design["tables"].values(), key=lambda t: t["table_name"])[:DEPLOYED]
    deployed = {**design, "tables": {t["id"]: t for t in first}, "relationships": {}}
    DataTable.update(deployed_at=DataTable.created_at).where(
        DataTable.id.in_([t["id"] for t in first])
    ).execute()
    steps = [
        {"sql": f"CREATE TABLE {t['table_name']} ()", "kind": "safe", "reason": "creates"}
        for t in first
    ]
    return Deployment.create(
        project=project.id, target_schema=project.target_schema, status="applied",
        to_hash=snapshot.snapshot_hash(deployed), deployed_snapshot=deployed,
        manifest=records.deployed_manifest(project.id, deployed),
        sql="".join(f"{s['sql']};\n" for s in steps), plan=steps,
        created_by=user.id, duration_ms=1,
    )  # fmt: skip


def seed(user, member, count):
    """A project of `count` tables as people use it: linked, deployed in part, two versions
    and unsaved work, two members. Returns the path parameters of its routes."""
    project = projects.create_project(user, f"P{count}")
    projects.add_member(user, project.id, member.username, "editor")
    made, owned, linked = rows_of(project, user, count)
    for model, rows in ((DataTable, made), (DataField, owned), (TableRelationship, linked)):
        for batch in chunked(rows, 1000):
            model.insert_many(batch).execute()
    versions.save_version(user, project.id, "first")
    deployment = record_deployment(project, user)
    table = DataTable.get(DataTable.project == project.id, DataTable.name == "Table 0002")
    fields.create_field(user, table.id, {"name": "Pending"})
    check = table_structure.save_item(user, table.id, "checks", {"expression": "id > 0"})
    versions.save_version(user, project.id, "second")
    tables.create_table(user, project.id, "Unsaved")
    mood = enums.create_enum(user, project.id, "mood", ["sad", "ok"])
    # A branch with a table of its own, its first merge request closed, the second open
    # (number 2, as the version), approved and commented on.
    branch = branches.fork(user, project.id, "wide", 2)
    tables.create_table(user, branch.id, "Branch only")
    merge_requests.open_request(user, branch.id, "First")
    merge_requests.close(user, project.id, 1)
    merge_requests.open_request(user, branch.id, "Second")
    merge_requests.approve(member, project.id, 2)
    merge_requests.comment(member, project.id, 2, "Fine by me.")
    return {
        "branch_id": branch.id,
        "enum_id": mood.id,
        "project_id": project.id, "table_id": table.id,
        "field_id": DataField.get(DataField.data_table == table.id, DataField.sort_order == 1).id,
        "rel_id": TableRelationship.get(TableRelationship.target_table == table.id).id,
        "deployment_id": deployment.id, "number": 2, "user_id": member.id,
        "name": "htmx.min.js", "filename": "js/app.js", "fmt": "dbml",
        "kind": "checks", "item_id": check["id"],
    }  # fmt: skip


# Path values that only make sense for one endpoint.
PER_ENDPOINT = {
    "assets.fingerprinted": lambda app: {
        "name": "css/app.css",
        "digest": app.extensions["asset_files"].digest("css/app.css"),
    },
}


def get_routes(app, values):
    """(name, path, htmx) of every GET route filled from `values`, and of its variants."""
    routes = []
    for rule in app.url_map.iter_rules():
        # testing.*: routes registered only under TESTING, to prove what row-level security holds.
        if "GET" not in rule.methods or rule.endpoint.startswith("testing."):
            continue
        filled = {**values, **PER_ENDPOINT.get(rule.endpoint, lambda app: {})(app)}
        path = rule.build({a: str(filled[a]) for a in rule.arguments})[1]
        routes.append((rule.endpoint, path, rule.endpoint in HTMX))
        for extra in VARIANTS.get(rule.endpoint, []):
            query = extra.removeprefix("hx:")
            routes.append((f"{rule.endpoint} {query}", path + query, extra != query))
    return routes


def counts(app, browser, api_client, values):
    """Queries each GET route ran, by endpoint (and variant)."""
    counted = {}
    for name, path, htmx in get_routes(app, values):
        with counting_queries() as counter:
            if path.startswith("/api/v1/"):
                response = api_client.get(path.removeprefix("/api/v1"))
            else:
                response = browser.get(path, htmx=htmx)
        assert response.status_code < 400, (name, response.status_code, response.text[:300])
        counted[name] = counter.count
    return counted


def test_no_get_route_runs_more_queries_for_1000_tables_than_for_10(
    app, alice, make_user, signed_in, api, monkeypatch
):
    # The lock sweep runs in some request every ten seconds: not one of the routes' queries.
    monkeypatch.setattr(web, "SWEEP_EVERY_SECONDS", float("inf"))
    # A token records its use once a minute: here once, before anything is counted.
    monkeypatch.setattr(api_tokens, "TOKEN_TOUCH_SECONDS", float("inf"))
    # The target the app fixture names (another app built in this session may have reset it).
    monkeypatch.setattr(settings, "deploy_database_url", app.config["DEPLOY_DATABASE_URL"])
    # Nothing kept by another test, nor by the small project, may answer for the large one.
    versions.cache.clear()
    bob = make_user("bob")
    browser, api_client = signed_in(alice), api(alice)
    assert api_client.get("/tokens").status_code == 200
    measured = {}
    for count in (10, 1000):
        measured[count] = counts(app, browser, api_client, seed(alice, bob, count))
    small, large = measured[10], measured[1000]
    grew = {name: (small[name], large[name]) for name in small if small[name] != large[name]}
    assert not grew, f"queries at 10 tables, at 1,000: {grew}"
    endpoints = {
        r.endpoint
        for r in app.url_map.iter_rules()
        if "GET" in r.methods and not r.endpoint.startswith("testing.")
    }
    assert endpoints <= set(small), endpoints - set(small)
    assert settings.page_size < 1000  # the listings really are paged at this size
