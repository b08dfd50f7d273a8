"""API tokens have a scope: a read-only token gets 403 for every write, a token for one project
gets 404 for every other project as a non-member does; the API and PostgreSQL both hold it."""

import hashlib
import re

import psycopg2
import pytest
from peewee import IntegrityError
from psycopg2 import errors

from designer import api_tokens
from designer import projects
from designer.design import tables
from designer.models import ApiToken
from tests.conftest import PASSWORD
from tests.integration import test_access
from tests.integration.conftest import Api

# The access matrix's world: built once per module, its rows put back before each test.
built_world = test_access.built_world
world = test_access.world

READING = {"GET", "HEAD", "OPTIONS"}
# Any id fills a path the read-only check refuses before it reads one.
SOME_ID = "00000000-0000-4000-8000-000000000000"


def rows_but_tokens():
    """Every designer table's rows but api_token's (whose last use a request records)."""
    return [(name, rows) for name, rows in test_access.stored_rows() if name != "api_token"]


def client(app, token):
    return Api(app.test_client(), token)


def filled(parameter, ids):
    converter, name = parameter.groups()
    return "1" if converter == "int" else str(ids.get(name, SOME_ID))


def writes(app, ids):
    """(method, path) of every API route that is not a read, its ids filled from `ids`."""
    found = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or rule.endpoint == "api.create_token":
            continue
        if rule.endpoint.startswith("testing."):
            continue  # test-only routes (designer/views/testing.py)
        path = re.sub(r"<(?:(\w+):)?(\w+)>", lambda m: filled(m, ids), rule.rule)
        found += [(method, path[len("/api/v1") :]) for method in rule.methods - READING]
    return sorted(found)


def test_a_read_only_token_gets_403_for_every_write_and_changes_nothing(app, world):
    owner = world["actors"]["owner"]
    token, row = api_tokens.issue_token(owner, "dashboard", read_only=True)
    reader = client(app, token)
    project_id = world["ids"]["p"]
    assert reader.get(f"/projects/{project_id}").status_code == 200
    before = rows_but_tokens()
    ids = {"project_id": project_id, "table_id": world["ids"]["t"], "token_id": row.id}
    ids.update(field_id=world["ids"]["f"], rel_id=world["ids"]["r"], user_id=world["ids"]["m"])
    sent = writes(app, ids)
    # Every write route the API has, those of no project too.
    assert {("POST", "/projects"), ("DELETE", f"/tokens/{row.id}")} <= set(sent)
    refused = {(method, path): reader.call(method, path, json={}) for method, path in sent}
    assert {key: r.status_code for key, r in refused.items()} == dict.fromkeys(sent, 403)
    assert {r.json["error"]["code"] for r in refused.values()} == {"forbidden"}
    assert rows_but_tokens() == before
    assert not ApiToken.select().where(ApiToken.revoked_at.is_null(False)).exists()


def test_a_one_project_token_gets_404_for_every_other_project(app, world):
    owner = world["actors"]["owner"]
    own = projects.create_project(owner, "Own")
    token, _ = api_tokens.issue_token(owner, "own only", project_id=own.id)
    scoped = client(app, token)
    before = rows_but_tokens()
    for route in test_access.ROUTES:
        kind, method, path, body = route[:4]
        if kind != "api":
            continue
        url, body = test_access.filled(path, world["ids"]), test_access.filled(body, world["ids"])
        response = scoped.call(method, url, json=body)
        assert response.status_code == 404, (method, path, response.text[:200])
    assert rows_but_tokens() == before
    assert [p["name"] for p in scoped.get("/projects").json] == ["Own"]
    assert scoped.get(f"/projects/{own.id}").json["role"] == "owner"
    assert scoped.post(f"/projects/{own.id}/tables", json={"name": "Mine"}).status_code == 201
    created = scoped.post("/projects", json={"name": "Another"})
    assert created.status_code == 403
    assert sorted(p.name for p in projects.projects_for(owner)) == ["Own", "Shop"]


@pytest.fixture
def token_connection(app_database_url):
    """token_connection(token): a cursor of the app role, signed in by `token` as an API
    request is (the same statement), so acting within its scope."""
    opened = []

    def connect(token):
        conn = psycopg2.connect(app_database_url)
        conn.autocommit = True
        opened.append(conn)
        cursor = conn.cursor()
        cursor.execute(api_tokens.TOKEN_OWNER, (hashlib.sha256(token.encode()).hexdigest(),))
        assert cursor.rowcount == 1
        return cursor

    yield connect
    for conn in opened:
        conn.close()


def test_postgresql_holds_a_tokens_scope_whatever_the_app_forgets(alice, shop, token_connection):
    other = projects.create_project(alice, "Other")
    for project in (shop, other):
        tables.create_table(alice, project.id, "Orders")
    read_only, _ = api_tokens.issue_token(alice, "reader", read_only=True)
    cursor = token_connection(read_only)
    cursor.execute("SELECT count(*) FROM data_table")
    assert cursor.fetchone() == (2,)
    cursor.execute("UPDATE data_table SET description = 'changed'")
    assert cursor.rowcount == 0
    for statement, values in (
        ("INSERT INTO data_table (project_id, name, table_name) VALUES (%s, 'X', 'x')", (shop.id,)),
        ("INSERT INTO project (name, owner_id) VALUES ('New', %s)", (alice.id,)),
    ):
        with pytest.raises(errors.InsufficientPrivilege, match="row-level security"):
            cursor.execute(statement, values)
    one_project, _ = api_tokens.issue_token(alice, "shop only", project_id=shop.id)
    cursor = token_connection(one_project)
    for table in ("project", "data_table", "project_member", "activity_entry"):
        key = "id" if table == "project" else "project_id"
        cursor.execute(f"SELECT DISTINCT {key} FROM {table}")
        assert cursor.fetchall() == [(shop.id,)], table
    cursor.execute("UPDATE data_table SET description = 'changed'")
    assert cursor.rowcount == 1
    with pytest.raises(errors.InsufficientPrivilege, match="row-level security"):
        cursor.execute("INSERT INTO project (name, owner_id) VALUES ('New', %s)", (alice.id,))


def test_a_token_for_a_project_its_user_is_not_in_is_refused(
    alice, make_user, api, app_database_url
):
    bob = make_user("bob")
    theirs = projects.create_project(bob, "Theirs")
    body = {"username": "alice", "password": PASSWORD, "name": "x"}
    response = api().post("/tokens", json={**body, "project_id": str(theirs.id)})
    assert response.status_code == 422
    assert response.json["error"]["fields"] == {"project_id": "Choose one of your projects."}
    conn = psycopg2.connect(app_database_url)
    try:
        cursor = conn.cursor()
        cursor.execute("SELECT set_config('designer.user_id', %s, false)", (str(alice.id),))
        with pytest.raises(errors.InsufficientPrivilege, match="row-level security"):
            cursor.execute(
                "INSERT INTO api_token (user_id, name, token_hash, project_id)"
                " VALUES (%s, 'forged', 'h', %s)",
                (alice.id, theirs.id),
            )
    finally:
        conn.close()
    assert not ApiToken.select().exists()


def test_a_token_needs_a_name_and_lives_90_days_unless_told(alice, api, signed_in):
    body = {"username": "alice", "password": PASSWORD}
    for named in ({}, {"name": "   "}):
        response = api().post("/tokens", json={**body, **named})
        assert response.status_code == 422
        assert "name" in response.json["error"]["fields"]
    page = signed_in(alice).post("/settings/tokens", data={"name": " ", "expires_in_days": "90"})
    assert page.status_code == 422
    assert 'id="name-error"' in page.text and "Name the token" in page.text
    assert not ApiToken.select().exists()
    created = api().post("/tokens", json={**body, "name": "ci"}).json
    assert (created["name"], created["read_only"], created["project_id"]) == ("ci", False, None)
    stored = ApiToken.get_by_id(created["id"])
    assert round((stored.expires_at - stored.created_at).total_seconds() / 86400) == 90
    forever = api().post("/tokens", json={**body, "name": "cron", "expires_in_days": None}).json
    assert ApiToken.get_by_id(forever["id"]).expires_at is None


def test_postgresql_refuses_an_unnamed_token(alice):
    with pytest.raises(IntegrityError, match="api_token_name_check"):
        ApiToken.create(user=alice, name=" ", token_hash="0" * 64)


def test_the_tokens_page_offers_scopes_shows_them_and_a_copy_button(alice, shop, signed_in):
    browser = signed_in(alice)
    page = browser.get("/settings/tokens", htmx=False).text
    assert '<option value="90" selected>in 90 days</option>' in page
    assert '<option value="read">read only</option>' in page
    assert f'<option value="{shop.id}">Shop</option>' in page
    form = {"name": "dashboard", "expires_in_days": "30", "access": "read", "project_id": shop.id}
    made = browser.post("/settings/tokens", data=form)
    assert made.status_code == 200
    assert 'data-copy="new-token"' in made.text and ">Copy</button>" in made.text
    secret = re.search(r'value="(dmd_[^"]+)"', made.text).group(1)
    assert "read-only · project Shop" in made.text
    stored = ApiToken.get(ApiToken.name == "dashboard")
    assert (stored.read_only, stored.project_id) == (True, shop.id)
    assert stored.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    api_tokens.issue_token(alice, "everything")
    assert "read and write · all projects" in browser.get("/settings/tokens", htmx=False).text


def test_openapi_describes_a_tokens_name_lifetime_and_scope(api):
    document = api().get("/openapi.json").json
    request = document["components"]["schemas"]["TokenRequest"]
    assert {"username", "password", "name"} <= set(request["required"])
    assert request["properties"]["expires_in_days"]["default"] == 90
    assert request["properties"]["read_only"]["type"] == "boolean"
    assert "project" in request["properties"]["project_id"]["description"]
    scheme = document["components"]["securitySchemes"]["bearer"]["description"]
    assert "read-only" in scheme and "403" in scheme and "404" in scheme


def test_sign_out_everywhere_revokes_api_tokens_only_when_asked(alice, signed_in, api):
    scripts = [api(alice), api(alice)]
    browser = signed_in(alice)
    assert "Also revoke my 2 API tokens" in browser.get("/account", htmx=False).text
    browser.post("/account/sign-out-everywhere", htmx=False, data={})
    assert [s.get("/projects").status_code for s in scripts] == [200, 200]
    browser = signed_in(alice)
    browser.post("/account/sign-out-everywhere", htmx=False, data={"revoke_tokens": "yes"})
    assert [s.get("/projects").status_code for s in scripts] == [401, 401]
    assert not ApiToken.select().where(ApiToken.revoked_at.is_null()).exists()
    assert browser.get("/projects", htmx=False).status_code == 302


def test_a_one_project_token_sees_and_revokes_only_itself(alice, app):
    shop = projects.create_project(alice, "Shop")
    other = projects.create_project(alice, "Other")
    everything, everything_row = api_tokens.issue_token(alice, "laptop")
    elsewhere, elsewhere_row = api_tokens.issue_token(alice, "other", project_id=str(other.id))
    scoped, scoped_row = api_tokens.issue_token(alice, "shop ci", project_id=str(shop.id))
    shop_client = client(app, scoped)
    listed = shop_client.get("/tokens").json
    assert [t["id"] for t in listed] == [str(scoped_row.id)]
    for row in (everything_row, elsewhere_row):
        assert shop_client.delete(f"/tokens/{row.id}").status_code == 404
    live = ApiToken.select().where(ApiToken.revoked_at.is_null())
    assert {t.id for t in live} == {everything_row.id, elsewhere_row.id, scoped_row.id}
    # A token for all projects still manages every token; the scoped one can end itself.
    assert len(client(app, everything).get("/tokens").json) == 3
    assert shop_client.delete(f"/tokens/{scoped_row.id}").status_code == 204
    assert client(app, elsewhere).get("/tokens").status_code == 200
    assert ApiToken.get_by_id(scoped_row.id).revoked_at is not None
