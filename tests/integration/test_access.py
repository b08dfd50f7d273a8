"""Every project route, HTML and JSON, for anonymous, non-member, viewer, editor, owner.

A non-member gets 404 (the project's existence is not revealed), a member
whose role is too low gets 403, anyone signed out is sent to sign in.
New project routes must be added to ROUTES: a test checks none is missed.
"""

import json
import re

import pytest
from peewee import sort_models

from designer import accounts
from designer import branches
from designer import merge_requests
from designer import projects
from designer.database import deploy
from designer.db import database
from designer.design import enums
from designer.design import fields
from designer.design import relationships
from designer.design import table_partitions
from designer.design import table_structure
from designer.design import tables
from designer.history import versions
from designer.models import MODELS
from designer.models import Project
from tests.conftest import PASSWORD
from tests.conftest import truncate_all
from tests.integration.conftest import fingerprint

UNKNOWN_TOKEN = "00000000-0000-4000-8000-000000000000"
ACTORS = ("anonymous", "stranger", "viewer", "editor", "owner")
RANK = {"viewer": 0, "editor": 1, "owner": 2}

# (kind, method, path, body, role needed[, status codes meaning "allowed"]).
# {p} is the project, {m} a member to manage, {t} a draft table, {f} and {g} its fields.
# A file an import reads (its table name is free in the world below).
IMPORTED = "CREATE TABLE imported (a int);"
# {v} is a table partitioned by hash of its id, {w} its one partition. {b} is a branch of
# {p} (eddie's), {q} the number of its open merge request.
HASH_0 = "FOR VALUES WITH (MODULUS 2, REMAINDER 0)"
HASH_1 = "FOR VALUES WITH (MODULUS 2, REMAINDER 1)"
ROUTES = [
    ("html", "GET", "/projects/{p}", None, "viewer"),
    ("html", "GET", "/projects/{p}/header", None, "viewer"),
    ("html", "GET", "/projects/{p}/header/edit", None, "editor"),
    ("html", "PUT", "/projects/{p}/header", {"name": "Renamed", "revision": "1"}, "editor"),
    ("html", "DELETE", "/projects/{p}", None, "owner"),
    ("html", "GET", "/projects/{p}/members", None, "viewer"),
    ("html", "POST", "/projects/{p}/members", {"login": "frank", "role": "viewer"}, "owner"),
    ("html", "PUT", "/projects/{p}/members/{m}", {"role": "editor"}, "owner"),
    ("html", "DELETE", "/projects/{p}/members/{m}", None, "owner"),
    ("html", "GET", "/projects/{p}/tables", None, "viewer"),
    ("html", "GET", "/projects/{p}/tables/new", None, "editor"),
    ("html", "GET", "/projects/{p}/tables/suggest?name=X", None, "editor"),
    ("html", "POST", "/projects/{p}/tables", {"name": "New"}, "editor"),
    ("html", "GET", "/tables/{t}", None, "viewer"),
    ("html", "GET", "/tables/{t}/header", None, "viewer"),
    ("html", "GET", "/tables/{t}/header/edit", None, "editor"),
    (
        "html",
        "PUT",
        "/tables/{t}/header",
        {"name": "T2", "table_name": "t2", "revision": "1"},
        "editor",
    ),
    ("html", "POST", "/tables/{t}/header/cancel", None, "viewer"),
    ("html", "POST", "/tables/{t}/transition", {"status": "active"}, "editor"),
    ("html", "DELETE", "/tables/{t}", None, "editor"),
    ("html", "GET", "/tables/{t}/fields", None, "viewer"),
    ("html", "GET", "/tables/{t}/fields/new", None, "editor"),
    ("html", "GET", "/tables/{t}/fields/settings?data_type=number", None, "viewer"),
    ("html", "POST", "/tables/{t}/fields", {"name": "New"}, "editor"),
    ("html", "POST", "/tables/{t}/fields/new/cancel", None, "viewer"),
    ("html", "POST", "/tables/{t}/fields/order", {"field_ids": ["{g}", "{f}"]}, "editor"),
    ("html", "GET", "/tables/{u}/structure/{k}/new", None, "editor"),
    ("html", "POST", "/tables/{u}/structure/{k}", {"expression": "id > 1"}, "editor"),
    ("html", "GET", "/tables/{u}/structure/{k}/{s}/edit", None, "editor"),
    ("html", "PUT", "/tables/{u}/structure/{k}/{s}", {"expression": "id > 2"}, "editor"),
    ("html", "DELETE", "/tables/{u}/structure/{k}/{s}", None, "editor"),
    ("html", "POST", "/tables/{u}/structure/cancel", None, "viewer"),
    ("html", "POST", "/tables/{v}/partition-key", {"method": "hash", "keys": "id"}, "editor"),
    (
        "html",
        "POST",
        "/tables/{v}/partitions",
        {"table_name": "events_1", "bound": HASH_1},
        "editor",
    ),
    ("html", "PUT", "/tables/{v}/partitions/{w}", {"bound": HASH_0}, "editor"),
    ("html", "DELETE", "/tables/{v}/partitions/{w}", None, "editor"),
    ("html", "POST", "/tables/{t}/primary_key", {"key_choice": "designer"}, "editor"),
    ("html", "GET", "/fields/{f}", None, "viewer"),
    ("html", "GET", "/fields/{f}/edit", None, "editor"),
    ("html", "PUT", "/fields/{f}", {"name": "F2", "data_type": "text", "revision": "1"}, "editor"),
    ("html", "POST", "/fields/{f}/cancel", None, "viewer"),
    ("html", "DELETE", "/fields/{g}", None, "editor"),
    ("html", "POST", "/fields/{f}/move", {"direction": "down"}, "editor"),
    ("html", "GET", "/tables/{t}/lock", None, "viewer"),
    ("html", "POST", "/tables/{t}/lock", {"lock_type": "pessimistic"}, "editor"),
    ("html", "POST", "/tables/{t}/lock/heartbeat", None, "viewer"),
    ("html", "POST", "/tables/{t}/lock/leave", None, "viewer"),
    ("html", "POST", "/tables/{t}/lock/resume", {"reason": "editing"}, "editor"),
    # Nothing was changed in this session, so there is nothing to undo: 409.
    ("html", "POST", "/tables/{t}/undo", None, "editor", {409}),
    ("html", "GET", "/tables/{t}/live?v=x", None, "viewer"),
    ("html", "GET", "/projects/{p}/live?v=x", None, "viewer"),
    ("html", "POST", "/tables/{t}/lock/release", None, "viewer"),
    ("html", "POST", "/tables/{t}/lock/force", None, "owner"),
    ("html", "GET", "/projects/{p}/relationships", None, "viewer"),
    ("html", "GET", "/projects/{p}/relationships/form", None, "editor"),
    ("html", "GET", "/projects/{p}/relationships/tables?q=t", None, "viewer"),
    (
        "html",
        "POST",
        "/projects/{p}/relationships",
        {"source_table_id": "{u}", "target_table_id": "{t}"},
        "editor",
    ),
    ("html", "GET", "/projects/{p}/enums", None, "viewer"),
    ("html", "POST", "/projects/{p}/enums", {"name": "size", "labels": "s\nm"}, "editor"),
    (
        "html",
        "POST",
        "/enums/{e}",
        {"name": "mood", "labels": "sad\nok\nfine", "revision": "1"},
        "editor",
    ),
    ("html", "GET", "/relationships/{r}", None, "viewer"),
    ("html", "GET", "/relationships/{r}/edit", None, "editor"),
    (
        "html",
        "PUT",
        "/relationships/{r}",
        {"relationship_name": "renamed", "on_delete": "cascade", "revision": "1"},
        "editor",
    ),
    ("html", "DELETE", "/relationships/{r}", None, "editor"),
    ("html", "GET", "/projects/{p}/diagram", None, "viewer"),
    ("html", "GET", "/projects/{p}/diagram.json", None, "viewer"),
    ("html", "GET", "/projects/{p}/diagram/tables?q=orders", None, "viewer"),
    ("html", "GET", "/projects/{p}/diagram.mmd", None, "viewer"),
    ("html", "GET", "/projects/{p}/timeline", None, "viewer"),
    ("html", "POST", "/projects/{p}/versions", {"message": "next"}, "editor"),
    ("html", "GET", "/projects/{p}/versions/{n}", None, "viewer"),
    ("html", "GET", "/projects/{p}/diff?from=1&to=working", None, "viewer"),
    ("html", "GET", "/projects/{p}/diff.sql?from=1&to=working", None, "viewer"),
    ("html", "POST", "/projects/{p}/versions/{n}/restore", None, "editor"),
    ("html", "GET", "/projects/{p}/deploy", None, "viewer"),
    # Nothing is Active in this world: 422 "nothing to deploy" shows the role check passed.
    ("html", "POST", "/projects/{p}/deployments", {"action": "dry_run"}, "editor", {422}),
    # A branch's dry run: the world's project is a main, not a branch (404 once allowed).
    ("html", "POST", "/projects/{p}/branch-dry-run", None, "editor", {404}),
    ("html", "GET", "/projects/{p}/activations/new?all_drafts=1", None, "editor"),
    # No table chosen: 422 shows the role check passed.
    ("html", "POST", "/projects/{p}/activations", {"action": "dry_run"}, "editor", {422}),
    ("html", "GET", "/projects/{p}/deployments/{d}", None, "viewer"),
    ("html", "GET", "/projects/{p}/deployments/{d}/deployment.sql", None, "viewer"),
    ("html", "GET", "/projects/{p}/drift", None, "viewer"),
    # Nothing deployed, nothing to put back or adopt: 422 shows the role check passed.
    ("html", "POST", "/projects/{p}/drift/redeploy", {"action": "dry_run"}, "editor", {422}),
    ("html", "POST", "/projects/{p}/drift/adopt", None, "editor", {422}),
    ("html", "GET", "/projects/{p}/export.sql", None, "viewer"),
    # A draft is not in the database: 409 shows the role check passed.
    ("html", "POST", "/tables/{t}/drop", {"confirm_name": "orders"}, "editor", {409}),
    ("api", "GET", "/projects/{p}", None, "viewer"),
    ("api", "PATCH", "/projects/{p}", {"name": "Renamed", "revision": 1}, "editor"),
    ("api", "DELETE", "/projects/{p}", None, "owner"),
    ("api", "GET", "/projects/{p}/members", None, "viewer"),
    ("api", "POST", "/projects/{p}/members", {"username": "frank", "role": "viewer"}, "owner"),
    ("api", "PATCH", "/projects/{p}/members/{m}", {"role": "editor"}, "owner"),
    ("api", "DELETE", "/projects/{p}/members/{m}", None, "owner"),
    ("api", "GET", "/projects/{p}/tables", None, "viewer"),
    ("api", "POST", "/projects/{p}/tables", {"name": "New"}, "editor"),
    ("api", "GET", "/tables/{t}", None, "viewer"),
    ("api", "PATCH", "/tables/{t}", {"name": "T2", "revision": 1}, "editor"),
    # A never-deployed draft is discarded without a critical lock.
    ("api", "DELETE", "/tables/{t}", None, "editor"),
    ("api", "POST", "/tables/{t}/transition", {"status": "active"}, "editor"),
    ("api", "GET", "/tables/{t}/fields", None, "viewer"),
    ("api", "POST", "/tables/{t}/fields", {"name": "New"}, "editor"),
    ("api", "POST", "/tables/{t}/fields/order", {"field_ids": ["{g}", "{f}"]}, "editor"),
    ("api", "GET", "/tables/{u}/structure", None, "viewer"),
    ("api", "POST", "/tables/{u}/structure/{k}", {"expression": "id > 1"}, "editor"),
    ("api", "PUT", "/tables/{u}/structure/{k}/{s}", {"expression": "id > 2"}, "editor"),
    ("api", "DELETE", "/tables/{u}/structure/{k}/{s}", None, "editor"),
    ("api", "PUT", "/tables/{t}/primary_key", {"field_ids": ["{f}"]}, "editor"),
    ("api", "GET", "/tables/{v}/partitioning", None, "viewer"),
    ("api", "PUT", "/tables/{v}/partition_key", {"method": "hash", "keys": "id"}, "editor"),
    (
        "api",
        "POST",
        "/tables/{v}/partitions",
        {"table_name": "events_1", "bound": HASH_1},
        "editor",
    ),
    ("api", "PUT", "/tables/{v}/partitions/{w}", {"bound": HASH_0}, "editor"),
    ("api", "DELETE", "/tables/{v}/partitions/{w}", None, "editor"),
    ("api", "GET", "/fields/{f}", None, "viewer"),
    ("api", "PATCH", "/fields/{f}", {"name": "F2", "revision": 1}, "editor"),
    ("api", "DELETE", "/fields/{g}", None, "editor"),
    ("api", "GET", "/tables/{t}/lock", None, "viewer"),
    ("api", "POST", "/tables/{t}/lock", {"lock_type": "pessimistic"}, "editor"),
    # Nobody holds this token: 409 shows the caller got as far as the lock itself.
    ("api", "POST", "/tables/{t}/lock/heartbeat", {"lock_token": UNKNOWN_TOKEN}, "viewer", {409}),
    ("api", "DELETE", "/tables/{t}/lock", {"force": True}, "owner"),
    ("api", "GET", "/projects/{p}/relationships", None, "viewer"),
    (
        "api",
        "POST",
        "/projects/{p}/relationships",
        {"source_table_id": "{u}", "target_table_id": "{t}"},
        "editor",
    ),
    ("api", "GET", "/projects/{p}/enums", None, "viewer"),
    ("api", "POST", "/projects/{p}/enums", {"name": "size", "labels": ["s", "m"]}, "editor"),
    ("api", "GET", "/enums/{e}", None, "viewer"),
    ("api", "PATCH", "/enums/{e}", {"labels": ["sad", "ok", "fine"], "revision": 1}, "editor"),
    ("api", "DELETE", "/enums/{e}", None, "editor"),
    ("api", "GET", "/relationships/{r}", None, "viewer"),
    ("api", "PATCH", "/relationships/{r}", {"on_delete": "cascade", "revision": 1}, "editor"),
    ("api", "DELETE", "/relationships/{r}", None, "editor"),
    ("api", "GET", "/projects/{p}/versions", None, "viewer"),
    ("api", "POST", "/projects/{p}/versions", {"message": "next"}, "editor"),
    ("api", "GET", "/projects/{p}/versions/{n}", None, "viewer"),
    ("api", "POST", "/projects/{p}/versions/{n}/restore", {"confirm": True}, "editor"),
    ("api", "GET", "/projects/{p}/diff?from=1", None, "viewer"),
    ("api", "GET", "/projects/{p}/diff.sql?from=1", None, "viewer"),
    # Nothing is Active in this world: 409 "nothing to deploy" shows the role check passed.
    ("api", "POST", "/projects/{p}/deployments", {"dry_run": True}, "editor", {409}),
    ("api", "GET", "/projects/{p}/deployments", None, "viewer"),
    # No table chosen: 422 shows the role check passed.
    ("api", "POST", "/projects/{p}/activations", {"table_ids": []}, "editor", {422}),
    ("api", "GET", "/projects/{p}/deployments/{d}", None, "viewer"),
    ("api", "GET", "/projects/{p}/drift", None, "viewer"),
    ("api", "POST", "/projects/{p}/drift", {"resolve": "adopt"}, "editor", {409}),
    # A draft is not in the database: 409 shows the role check passed.
    ("api", "POST", "/tables/{t}/drop", {"confirm_name": "orders"}, "editor", {409}),
    ("api", "GET", "/projects/{p}/export?format=sql", None, "viewer"),
    ("html", "GET", "/projects/{p}/transfer", None, "viewer"),
    ("html", "GET", "/projects/{p}/export/{x}", None, "viewer"),
    ("html", "GET", "/projects/{p}/export/{x}/prepare", None, "viewer"),
    (
        "html",
        "POST",
        "/projects/{p}/import/preview",
        {"format": "sql", "source": IMPORTED},
        "editor",
    ),
    ("html", "POST", "/projects/{p}/import", {"format": "sql", "source": IMPORTED}, "editor"),
    ("api", "POST", "/projects/{p}/import?format=sql", {"source": IMPORTED}, "editor"),
    (
        "api",
        "POST",
        "/projects/{p}/import?format=sql",
        {"source": IMPORTED, "confirm": True},
        "editor",
    ),
    # No such schema: 422 shows the role check passed (before any connection).
    ("html", "POST", "/projects/{p}/import/database/preview", {"schema": "none"}, "editor", {422}),
    ("api", "POST", "/projects/{p}/import/database", {"schema": "none"}, "editor", {422}),
    ("api", "GET", "/projects/{p}/branches", None, "viewer"),
    ("api", "POST", "/projects/{p}/branches", {"name": "another", "version": 1}, "editor"),
    ("api", "GET", "/branches/{b}", None, "viewer"),
    ("api", "GET", "/branches/{b}/comparison", None, "viewer"),
    ("api", "POST", "/branches/{b}/dry_run", None, "editor"),
    ("api", "GET", "/projects/{p}/merge_requests", None, "viewer"),
    # The branch has an open request already: 409 shows the role check passed.
    (
        "api",
        "POST",
        "/projects/{p}/merge_requests",
        {"branch_id": "{b}", "title": "T"},
        "editor",
        {409},
    ),
    ("api", "GET", "/projects/{p}/merge_requests/{q}", None, "viewer"),
    # No such conflict: 422 shows the role check passed.
    (
        "api",
        "POST",
        "/projects/{p}/merge_requests/{q}/decisions",
        {"conflict_id": "changed:x", "side": "ours"},
        "editor",
        {422},
    ),
    # eddie wrote it: his own approval is refused (403), the owner's is given.
    (
        "api",
        "POST",
        "/projects/{p}/merge_requests/{q}/approval",
        None,
        "editor",
        {*range(200, 300), 403},
    ),
    ("api", "DELETE", "/projects/{p}/merge_requests/{q}/approval", None, "editor"),
    ("api", "GET", "/projects/{p}/merge_requests/{q}/comments", None, "viewer"),
    ("api", "POST", "/projects/{p}/merge_requests/{q}/comments", {"body": "Yes."}, "editor"),
    # Its author (eddie) or an owner.
    ("api", "POST", "/projects/{p}/merge_requests/{q}/close", None, "editor"),
    ("api", "POST", "/projects/{p}/merge_requests/{q}/merge", {}, "editor"),
    # The branch and merge request pages (#28).
    ("html", "GET", "/projects/{p}/branches", None, "viewer"),
    ("html", "POST", "/projects/{p}/branches", {"name": "another"}, "editor"),
    ("html", "GET", "/projects/{p}/switch?to={b}&page=projects.show", None, "viewer", {302}),
    ("html", "GET", "/branches/{b}/compare", None, "viewer"),
    # The branch already has an open request: 409 shows the role check passed.
    ("html", "POST", "/branches/{b}/merge-requests", {"title": "Again"}, "editor", {409}),
    ("html", "GET", "/projects/{p}/merge-requests/{q}", None, "viewer"),
    ("html", "GET", "/projects/{p}/merge-requests/{q}/live?v=x", None, "viewer"),
    ("html", "POST", "/projects/{p}/merge-requests/{q}/conflicts", {"conflict": "x"}, "editor"),
    # eddie, the editor here, wrote the request, and its author may not approve it.
    ("html", "POST", "/projects/{p}/merge-requests/{q}/approval", None, "owner"),
    ("html", "DELETE", "/projects/{p}/merge-requests/{q}/approval", None, "editor"),
    ("html", "POST", "/projects/{p}/merge-requests/{q}/comments", {"body": "Fine"}, "editor"),
    ("html", "POST", "/projects/{p}/merge-requests/{q}/merge", None, "editor"),
    ("html", "POST", "/projects/{p}/merge-requests/{q}/close", None, "editor"),
]
ID_PARAMETERS = ("<project_id>", "<table_id>", "<field_id>", "<rel_id>")


def stored_rows():
    """Every designer table's rows, dependencies first, as PostgreSQL encodes them in JSON
    (so json_populate_recordset puts back exactly the same values)."""
    rows = []
    for model in sort_models(MODELS):
        name = model._meta.table_name
        query = f"SELECT coalesce(json_agg(t), '[]') FROM \"{name}\" t"
        rows.append((name, database.execute_sql(query).fetchone()[0]))
    return rows


# Rows triggers write from the others (migrations 0030, 0047, 0051): put back by them, not by
# hand.
# project_change counts the transactions that changed a project (migration 0031): putting
# the world back is one more, so its counter is not compared.
DERIVED = ("working_part", "project_change", "search_gram", "search_name")
COUNTED = ("project_change",)


def put_back(rows):
    with database.atomic():
        for name, values in rows:
            if name in DERIVED:
                continue
            database.execute_sql(
                f'INSERT INTO "{name}" SELECT * FROM json_populate_recordset(NULL::"{name}", %s)',
                (json.dumps(values),),
            )


@pytest.fixture(scope="module")
def built_world(app):
    """The world below, built once per module by the designer's own functions, and its rows.
    Each test starts from an empty database (clean_database) and gets these rows back, so
    it sees the same world as if it had been built for it alone."""
    truncate_all()
    made = build_world(lambda name: accounts.create_user(name, f"{name}@example.com", PASSWORD))
    rows = stored_rows()
    truncate_all()
    return made, rows


@pytest.fixture
def world(built_world, clean_database):
    made, rows = built_world
    put_back(rows)
    return made


def test_the_world_put_back_is_the_world_built(built_world):
    """What the other tests rely on: the stored rows come back value for value, in every
    table and column (triggers that derive columns give the same values again)."""
    made, rows = built_world
    put_back(rows)

    def by_table(stored):
        return {
            name: sorted(json.dumps(v, sort_keys=True) for v in values)
            for name, values in stored
            if name not in COUNTED
        }

    assert by_table(stored_rows()) == by_table(rows)
    # (A version's entry_order is written when one of its pages is first viewed, a kept
    # download's export_file and export_member when it is first downloaded, a table's
    # drift_expectation when a drift check first builds it, sound_part when a file is first
    # exported.)
    empty = (
        "table_lock", "api_token", "entry_order", "export_file", "export_member",
        "drift_expectation", "sound_part",
    )  # fmt: skip
    assert all(values for name, values in rows if name not in empty)
    assert Project.get_by_id(made["project"].id).name == "Shop"


def build_world(make_user):
    users = {name: make_user(name) for name in ("olga", "eddie", "vera", "sam", "erin", "frank")}
    project = projects.create_project(users["olga"], "Shop")
    projects.add_member(users["olga"], project.id, "eddie", "editor")
    projects.add_member(users["olga"], project.id, "vera", "viewer")
    projects.add_member(users["olga"], project.id, "erin", "viewer")
    actors = {"stranger": users["sam"], "viewer": users["vera"], "editor": users["eddie"]}
    actors["owner"] = users["olga"]
    table = tables.create_table(users["olga"], project.id, "Orders")
    first = fields.create_field(users["olga"], table.id, {"name": "Total"})
    second = fields.create_field(users["olga"], table.id, {"name": "Note"})
    customers = tables.create_table(users["olga"], project.id, "Customers")
    check = table_structure.save_item(
        users["olga"], customers.id, "checks", {"expression": "id > 0"}
    )
    parent = relationships.create_relationship(
        users["olga"],
        project.id,
        {"source_table_id": customers.id, "target_table_id": customers.id},
    )
    mood = enums.create_enum(users["olga"], project.id, "mood", ["sad", "ok"])
    versions.save_version(users["olga"], project.id, "first")
    _, dry_run = deploy.transition(users["olga"], customers.id, "active", dry_run=True)
    tables.create_table(users["olga"], project.id, "Unsaved")
    ids = {"p": project.id, "m": users["erin"].id, "t": table.id, "f": first.id, "g": second.id}
    ids.update(u=customers.id, r=parent.id, n=1, d=dry_run.id, x="dbml", k="checks", s=check["id"])
    ids.update(e=mood.id)
    events = tables.create_table(users["olga"], project.id, "Events")
    table_partitions.set_partition_key(users["olga"], events.id, "hash", "id")
    events_0 = table_partitions.add_partition(users["olga"], events.id, "events_0", HASH_0)
    ids.update(v=events.id, w=events_0.id)
    # {b} is eddie's branch adding a table, offered as merge request {q} (approved by olga,
    # commented on), forked from version 1, so main keeps its unsaved changes (#28).
    branch = branches.fork(users["eddie"], project.id, "invoices", version_number=1)
    tables.create_table(users["eddie"], branch.id, "Invoices")
    request = merge_requests.open_request(users["eddie"], branch.id, "Add invoices")
    merge_requests.approve(users["olga"], project.id, request.number)
    merge_requests.comment(users["olga"], project.id, request.number, "Looks right")
    ids.update(b=branch.id, q=request.number)
    return {"project": project, "ids": ids, "actors": actors}


def filled(value, ids):
    if isinstance(value, str):
        return value.format(**ids)
    if isinstance(value, list):
        return [filled(item, ids) for item in value]
    if isinstance(value, dict):
        return {key: filled(item, ids) for key, item in value.items()}
    return value


def expected_status(actor, need, kind):
    if actor == "anonymous":
        return 401
    if actor == "stranger":
        return 404
    return 403 if RANK[actor] < RANK[need] else "ok"


def previews(kind, method, path, body):
    """Whether a request only shows something (a page, an import's preview): it writes
    nothing even when it is allowed. (Opening an edit form may take the table's lock.)"""
    shows = method == "GET" and not path.endswith(("/edit", "/new"))
    unconfirmed_import = kind == "api" and "/import" in path and "confirm" not in (body or {})
    return shows or path.endswith("/preview") or unconfirmed_import


def sender(kind, actor, world, api, signed_in):
    """send(method, path, body) as `actor`, signed in (or given a CSRF token) beforehand."""
    user = world["actors"].get(actor)
    if kind == "api":
        client = api(user)
        return lambda method, path, body: client.call(method, path, json=body)
    client = signed_in(user)
    if actor == "anonymous":
        client.token = client.client.get("/login").text.split('name="csrf-token" content="')[1]
        client.token = client.token.split('"')[0]
    return lambda method, path, body: client.request(method, path, data=body)


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{r[0]} {r[1]} {r[2]}")
def test_project_routes_are_scoped_by_role(route, actor, world, api, signed_in):
    kind, method, path, body, need = route[:5]
    allowed = route[5] if len(route) > 5 else set(range(200, 300))
    url, filled_body = filled(path, world["ids"]), filled(body, world["ids"])
    send = sender(kind, actor, world, api, signed_in)
    before = fingerprint()
    response = send(method, url, filled_body)
    expected = expected_status(actor, need, kind)
    if expected == "ok":
        assert response.status_code in allowed, (response.status_code, response.text[:300])
    else:
        assert response.status_code == expected, response.text[:300]
    if kind == "api" and expected != "ok":
        assert response.json["error"]["code"]
    if response.status_code >= 400 or previews(kind, method, path, body):
        assert fingerprint() == before, f"{response.status_code} but stored rows changed"


@pytest.mark.parametrize("actor", ["stranger", "viewer"])
def test_refused_writes_change_nothing(actor, world, api):
    project = world["project"]
    api(world["actors"][actor]).patch(f"/projects/{project.id}", json={"name": "X", "revision": 1})
    api(world["actors"][actor]).delete(f"/projects/{project.id}")
    assert Project.get_by_id(project.id).name == "Shop"


def test_project_lists_show_only_the_users_projects(world, make_user, api, signed_in):
    outsider = world["actors"]["stranger"]
    projects.create_project(outsider, "Secret plans")
    assert [p["name"] for p in api(outsider).get("/projects").json] == ["Secret plans"]
    page = signed_in(world["actors"]["viewer"]).get("/projects", htmx=False).text
    assert "Shop" in page
    assert "Secret plans" not in page


def test_malformed_ids_are_not_found_not_errors(world, api, signed_in):
    owner = world["actors"]["owner"]
    assert api(owner).get("/projects/not-a-uuid").status_code == 404
    assert signed_in(owner).get("/projects/1;drop", htmx=False).status_code == 404


def shape(path):
    return re.sub(r"\{\w\}", "<>", path.split("?")[0])


def test_every_project_route_is_in_the_matrix(app):
    covered = {
        (route[1], ("/api/v1" if route[0] == "api" else "") + shape(route[2])) for route in ROUTES
    }
    missing = []
    for rule in app.url_map.iter_rules():
        if not any(parameter in rule.rule for parameter in ID_PARAMETERS):
            continue
        if rule.endpoint.startswith("testing."):
            continue  # test-only routes (designer/views/testing.py), broken on purpose
        rule_shape = re.sub(r"<[^>]+>", "<>", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            if (method, rule_shape) not in covered:
                missing.append(f"{method} {rule.rule}")
    assert not missing
