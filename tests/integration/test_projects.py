"""Projects: create, rename inline, stale edits, delete, members and roles."""

import re

import pytest

from designer import projects
from designer.errors import Conflict
from designer.models import Project
from designer.models import ProjectMember
from tests.integration.races import race


def test_creating_a_project_makes_the_creator_its_owner(alice, signed_in):
    response = signed_in(alice).post("/projects", data={"name": "  Shop  "})
    assert response.status_code == 200
    project = Project.get()
    assert project.name == "Shop"
    assert response.headers["HX-Redirect"] == f"/projects/{project.id}"
    assert ProjectMember.get().role == "owner"


def test_another_users_project_of_the_same_name_does_not_stop_a_new_one(
    alice, make_user, signed_in
):
    # Under row-level security bob cannot see alice's Shop, nor the schema it deploys into.
    projects.create_project(alice, "Shop")
    bob = make_user("bob")
    made = set()
    for _ in range(2):
        response = signed_in(bob).post("/projects", data={"name": "Shop"})
        assert response.status_code == 200
        created = Project.get_by_id(response.headers["HX-Redirect"].rsplit("/", 1)[1])
        assert created.owner_id == bob.id
        # A random suffix: a counted one ("shop_2") would tell how many others hold "shop".
        assert re.fullmatch(r"shop_[0-9a-f]{6}", created.target_schema)
        made.add(created.target_schema)
    assert len(made) == 2


def test_a_project_needs_a_name(alice, signed_in):
    response = signed_in(alice).post("/projects", data={"name": "   "})
    assert response.status_code == 422
    assert "Enter a project name" in response.text
    assert Project.select().count() == 0


def test_new_project_form_is_a_partial_for_htmx_and_a_page_otherwise(alice, signed_in):
    client = signed_in(alice)
    partial = client.get("/projects/new").text
    assert "<html" not in partial
    assert 'name="name"' in partial
    page = client.get("/projects/new", htmx=False).text
    assert "<html" in page
    assert 'name="name"' in page


def test_rename_inline_returns_the_display_block(alice, shop, signed_in):
    client = signed_in(alice)
    form = client.get(f"/projects/{shop.id}/header/edit").text
    assert 'name="revision" value="1"' in form
    response = client.put(f"/projects/{shop.id}/header", data={"name": "Store", "revision": "1"})
    assert response.status_code == 200
    assert "<h1>Store</h1>" in response.text
    assert Project.get_by_id(shop.id).revision == 2


def test_a_stale_rename_shows_both_versions_and_overwrites_nothing(alice, shop, signed_in):
    client = signed_in(alice)
    client.put(f"/projects/{shop.id}/header", data={"name": "Theirs", "revision": "1"})
    response = client.put(f"/projects/{shop.id}/header", data={"name": "Mine", "revision": "1"})
    assert response.status_code == 412
    assert "Someone else saved this first" in response.text
    assert "Theirs" in response.text
    assert 'value="Mine"' in response.text
    assert 'name="revision" value="2"' in response.text
    assert Project.get_by_id(shop.id).name == "Theirs"


def test_rename_validation_error_keeps_the_input(alice, shop, signed_in):
    response = signed_in(alice).put(
        f"/projects/{shop.id}/header", data={"name": "", "description": "kept", "revision": "1"}
    )
    assert response.status_code == 422
    assert "kept" in response.text
    assert Project.get_by_id(shop.id).name == "Shop"


def test_user_text_is_escaped(alice, signed_in):
    client = signed_in(alice)
    client.post("/projects", data={"name": "<script>alert(1)</script>"})
    page = client.get("/projects", htmx=False).text
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_twenty_concurrent_renames_at_one_revision_let_exactly_one_win(alice, shop):
    outcomes = race(
        [
            lambda i=i: projects.update_project(alice, shop.id, 1, name=f"Name {i}")
            for i in range(20)
        ]
    )
    names = [type(o).__name__ for o in outcomes]
    assert names.count("Project") == 1
    assert names.count("StaleRevision") == 19
    winner = next(o for o in outcomes if type(o).__name__ == "Project")
    assert Project.get_by_id(shop.id).name == winner.name


def test_owner_deletes_a_project_with_everything_in_it(alice, shop, signed_in):
    response = signed_in(alice).delete(f"/projects/{shop.id}")
    assert response.headers["HX-Redirect"] == "/projects"
    assert Project.select().count() == 0
    assert ProjectMember.select().count() == 0


def test_the_delete_button_is_on_the_members_page_and_asks_for_confirmation(alice, shop, signed_in):
    web = signed_in(alice)
    page = web.get(f"/projects/{shop.id}/members", htmx=False).text
    assert "hx-confirm=" in page
    assert ">Delete</button>" in page
    for tab in ("", "/relationships", "/diagram", "/timeline"):
        assert "Delete this project" not in web.get(f"/projects/{shop.id}{tab}", htmx=False).text


def test_only_owners_see_the_delete_button(alice, shop, make_user, signed_in):
    projects.add_member(alice, shop.id, make_user("bob").username, "editor")
    page = signed_in(ProjectMember.get(ProjectMember.role == "editor").user).get(
        f"/projects/{shop.id}/members", htmx=False
    )
    assert ">Delete</button>" not in page.text


def test_members_are_added_by_username_or_email(alice, shop, make_user, api):
    make_user("bob")
    make_user("carol")
    client = api(alice)
    assert (
        client.post(
            f"/projects/{shop.id}/members", json={"username": "bob", "role": "editor"}
        ).status_code
        == 201
    )
    assert (
        client.post(
            f"/projects/{shop.id}/members", json={"email": "carol@example.com", "role": "viewer"}
        ).status_code
        == 201
    )
    roles = {m["username"]: m["role"] for m in client.get(f"/projects/{shop.id}/members").json}
    assert roles == {"alice": "owner", "bob": "editor", "carol": "viewer"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"username": "nobody", "role": "editor"}, "login"),
        ({"username": "alice", "role": "editor"}, "login"),
        ({"username": "bob", "role": "admin"}, "role"),
    ],
)
def test_bad_member_additions_are_refused(alice, shop, make_user, api, body, field):
    make_user("bob")
    response = api(alice).post(f"/projects/{shop.id}/members", json=body)
    assert response.status_code == 422
    assert field in response.json["error"]["fields"]


def test_the_last_owner_cannot_leave_or_be_demoted(alice, shop):
    with pytest.raises(Conflict):
        projects.remove_member(alice, shop.id, alice.id)
    with pytest.raises(Conflict):
        projects.change_role(alice, shop.id, alice.id, "editor")
    assert ProjectMember.get().role == "owner"


def test_an_owner_can_step_down_once_another_owner_exists(alice, shop, make_user):
    bob = make_user("bob")
    projects.add_member(alice, shop.id, "bob", "owner")
    projects.change_role(alice, shop.id, alice.id, "editor")
    assert projects.access(bob, shop.id).role == "owner"
    assert projects.access(alice, shop.id).role == "editor"


def test_members_page_lets_owners_change_roles(alice, shop, make_user, signed_in):
    bob = make_user("bob")
    projects.add_member(alice, shop.id, "bob", "viewer")
    client = signed_in(alice)
    response = client.put(f"/projects/{shop.id}/members/{bob.id}", data={"role": "editor"})
    assert response.status_code == 200
    assert projects.access(bob, shop.id).role == "editor"


def test_api_patch_needs_a_revision(alice, shop, api):
    response = api(alice).patch(f"/projects/{shop.id}", json={"name": "X"})
    assert response.status_code == 422
    assert "revision" in response.json["error"]["fields"]


def test_api_patch_with_a_stale_revision_is_refused(alice, shop, api):
    client = api(alice)
    assert (
        client.patch(f"/projects/{shop.id}", json={"name": "A", "revision": 1}).status_code == 200
    )
    response = client.patch(f"/projects/{shop.id}", json={"name": "B", "revision": 1})
    assert response.status_code == 412
    assert response.json["error"]["code"] == "stale_revision"
    assert Project.get_by_id(shop.id).name == "A"


def test_api_accepts_if_match_for_the_revision(alice, shop, api):
    response = api(alice).patch(
        f"/projects/{shop.id}", json={"name": "A"}, headers={"If-Match": '"1"'}
    )
    assert response.status_code == 200
    assert response.json["revision"] == 2


def test_api_refuses_non_json_bodies(alice, api):
    client = api(alice)
    response = client.client.post(
        "/api/v1/projects", data="name=x", headers={"Authorization": f"Bearer {client.token}"}
    )
    assert response.status_code == 422
    assert response.json["error"]["code"] == "validation"


def test_openapi_lists_the_routes(api):
    document = api().get("/openapi.json").json
    assert "/projects/{project_id}/members" in document["paths"]
    assert document["paths"]["/projects"]["post"]["summary"]
