"""Every project route, HTML and JSON, for anonymous, non-member, viewer, editor, owner.

A non-member gets 404 (the project's existence is not revealed), a member
whose role is too low gets 403, anyone signed out is sent to sign in.
New project routes must be added to ROUTES: a test checks none is missed.
"""

import re

import pytest

from designer import projects
from designer.models import Project

ACTORS = ("anonymous", "stranger", "viewer", "editor", "owner")
RANK = {"viewer": 0, "editor": 1, "owner": 2}

# (kind, method, path, body, role needed). {p} is the project, {m} a member to manage.
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
    ("api", "GET", "/projects/{p}", None, "viewer"),
    ("api", "PATCH", "/projects/{p}", {"name": "Renamed", "revision": 1}, "editor"),
    ("api", "DELETE", "/projects/{p}", None, "owner"),
    ("api", "GET", "/projects/{p}/members", None, "viewer"),
    ("api", "POST", "/projects/{p}/members", {"username": "frank", "role": "viewer"}, "owner"),
    ("api", "PATCH", "/projects/{p}/members/{m}", {"role": "editor"}, "owner"),
    ("api", "DELETE", "/projects/{p}/members/{m}", None, "owner"),
]


@pytest.fixture
def world(make_user):
    users = {name: make_user(name) for name in ("olga", "eddie", "vera", "sam", "erin", "frank")}
    project = projects.create_project(users["olga"], "Shop")
    projects.add_member(users["olga"], project.id, "eddie", "editor")
    projects.add_member(users["olga"], project.id, "vera", "viewer")
    projects.add_member(users["olga"], project.id, "erin", "viewer")
    actors = {"stranger": users["sam"], "viewer": users["vera"], "editor": users["eddie"]}
    actors["owner"] = users["olga"]
    return {"project": project, "member": users["erin"], "actors": actors}


def expected_status(actor, need, kind):
    if actor == "anonymous":
        return 401
    if actor == "stranger":
        return 404
    return 403 if RANK[actor] < RANK[need] else "ok"


def send(kind, method, path, body, actor, world, api, signed_in):
    user = world["actors"].get(actor)
    if kind == "api":
        return api(user).call(method, path, json=body)
    client = signed_in(user)
    if actor == "anonymous":
        client.token = client.client.get("/login").text.split('name="csrf-token" content="')[1]
        client.token = client.token.split('"')[0]
    return client.request(method, path, data=body)


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize(("kind", "method", "path", "body", "need"), ROUTES)
def test_project_routes_are_scoped_by_role(
    kind, method, path, body, need, actor, world, api, signed_in
):
    url = path.format(p=world["project"].id, m=world["member"].id)
    response = send(kind, method, url, body, actor, world, api, signed_in)
    expected = expected_status(actor, need, kind)
    if expected == "ok":
        assert 200 <= response.status_code < 300, (response.status_code, response.text[:300])
    else:
        assert response.status_code == expected, response.text[:300]
    if kind == "api" and expected != "ok":
        assert response.json["error"]["code"]


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


def test_every_project_route_is_in_the_matrix(app):
    covered = {(method, re.sub(r"\{\w\}", "<>", path)) for _, method, path, _, _ in ROUTES}
    covered |= {
        (method, "/api/v1" + re.sub(r"\{\w\}", "<>", path))
        for kind, method, path, _, _ in ROUTES
        if kind == "api"
    }
    missing = []
    for rule in app.url_map.iter_rules():
        if "<project_id>" not in rule.rule:
            continue
        shape = re.sub(r"<\w+>", "<>", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            if (method, shape) not in covered:
                missing.append(f"{method} {rule.rule}")
    assert not missing
