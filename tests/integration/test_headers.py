"""Headers and small leaks: no caching of private answers, HSTS over HTTPS, no version
banner, no probing of other projects' ids, members' emails for owners only."""

import threading
import urllib.request
import uuid

import pytest
from werkzeug.serving import make_server

from designer import projects
from designer.design import tables


def test_authenticated_pages_and_json_are_not_stored(alice, shop, signed_in, api):
    page = signed_in(alice).get(f"/projects/{shop.id}", htmx=False)
    assert page.headers["Cache-Control"] == "no-store"
    listing = api(alice).get("/projects")
    assert listing.headers["Cache-Control"] == "no-store"


def test_static_files_may_be_cached(app):
    response = app.test_client().get("/static/css/app.css")
    assert response.status_code == 200
    assert "no-store" not in response.headers.get("Cache-Control", "")


def test_hsts_only_over_https(app):
    client = app.test_client()
    assert "Strict-Transport-Security" not in client.get("/login").headers
    secure = client.get("/login", base_url="https://localhost")
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=")


def test_the_server_names_no_versions(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/login"
        with urllib.request.urlopen(url) as response:  # noqa: S310 (a local test server)
            banner = response.headers["Server"]
    finally:
        server.shutdown()
    assert "Werkzeug" not in banner
    assert "Python" not in banner


def test_a_table_of_another_project_is_answered_like_no_table(alice, shop, make_user, api):
    orders = tables.create_table(alice, shop.id, "Orders")
    mallory = make_user("mallory")
    theirs = projects.create_project(mallory, "Theirs")
    probe = api(mallory)
    tables.create_table(mallory, theirs.id, "Mine")
    mine = tables.create_table(mallory, theirs.id, "Mine2")

    def answer(source_id):
        response = probe.post(
            f"/projects/{theirs.id}/relationships",
            json={"source_table_id": str(source_id), "target_table_id": str(mine.id)},
        )
        return response.status_code, response.json

    assert answer(orders.id) == answer(uuid.uuid4())


@pytest.fixture
def team(alice, shop, make_user):
    for name, role in (("vera", "viewer"), ("eddie", "editor")):
        make_user(name)
        projects.add_member(alice, shop.id, name, role)
    return shop


@pytest.mark.parametrize("who", ["vera", "eddie"])
def test_only_owners_see_members_emails(who, team, make_user, api, signed_in):
    from designer.models import User

    user = User.get(User.username == who)
    emails = {m["username"]: m["email"] for m in api(user).get(f"/projects/{team.id}/members").json}
    assert emails == {"alice": None, "vera": None, "eddie": None, who: f"{who}@example.com"}
    page = signed_in(user).get(f"/projects/{team.id}/members", htmx=False).text
    assert "alice@example.com" not in page


def test_owners_see_members_emails(alice, team, api, signed_in):
    listed = api(alice).get(f"/projects/{team.id}/members").json
    assert {m["email"] for m in listed} == {
        "alice@example.com",
        "vera@example.com",
        "eddie@example.com",
    }
    assert "vera@example.com" in signed_in(alice).get(f"/projects/{team.id}/members").text
