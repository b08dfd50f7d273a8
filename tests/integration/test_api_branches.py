"""The JSON API of branches and merge requests (#28): every route's answer, who may use it,
and what PostgreSQL holds afterwards."""

import pytest

from designer import api_tokens
from designer import branches
from designer import projects
from designer.design import fields
from designer.design import tables
from designer.history import versions
from designer.models import BranchOrigin
from designer.models import DataField
from designer.models import MergeApproval
from designer.models import MergeComment
from designer.models import MergeRequest
from designer.models import Project
from designer.models import SchemaVersion
from tests.integration.conftest import Api
from tests.integration.conftest import writes_nothing


@pytest.fixture
def people(alice, bob, make_user):
    return {"alice": alice, "bob": bob, "carol": make_user("carol"), "dave": make_user("dave")}


@pytest.fixture
def designed(designed, alice, shop, people):
    """The branch tests' shop (tests/integration/conftest.py): bob edits it, carol views it,
    dave is a stranger."""
    projects.add_member(alice, shop.id, "carol", "viewer")
    return designed


class Documented(Api):
    """An API client that checks each success against what openapi.json says it answers
    (designer.api_output, extra keys refused)."""

    def call(self, method, url, json=None, headers=None):
        response = super().call(method, url, json, headers)
        if response.status_code < 300:
            app = self.client.application
            endpoint, _ = app.url_map.bind("localhost").match(
                "/api/v1" + url.split("?")[0], method=method
            )
            answer = getattr(app.view_functions[endpoint], "response_model", None)
            if answer is not None:
                status, model, many = answer
                assert response.status_code == status, (method, url)
                for item in response.json if many else [response.json]:
                    model.model_validate(item, strict=True)
        return response


@pytest.fixture
def as_(api, people, designed):
    """as_["bob"]: an API client with bob's token (of all his projects, reading and writing)."""
    clients = {name: api(user) for name, user in people.items()}
    return {name: Documented(c.client, c.token) for name, c in clients.items()}


def rename(user, field_id, field_name):
    field = DataField.get_by_id(field_id)
    data = {"name": field_name.title(), "field_name": field_name, "data_type": "number"}
    fields.update_field(user, field.id, field.revision, data)


def local_of(branch_id, origin_id):
    return BranchOrigin.get(
        BranchOrigin.branch == branch_id, BranchOrigin.origin_id == origin_id
    ).local_id


def fork(client, shop, name="redesign", **body):
    response = client.post(f"/projects/{shop.id}/branches", json={"name": name, **body})
    assert response.status_code == 201, response.text
    return response.json


def renamed_on_branch(bob, designed, branch, to="amount"):
    rename(bob, local_of(branch["id"], designed["total"].id), to)


def opened(client, shop, branch, title="Rename total"):
    body = {"branch_id": branch["id"], "title": title, "description": "why"}
    response = client.post(f"/projects/{shop.id}/merge_requests", json=body)
    assert response.status_code == 201, response.text
    return response.json


def column_of(field_id):
    return DataField.get_by_id(field_id).field_name


def branch_rows(shop):
    return list(Project.select().where(Project.branch_of == shop.id))


def test_a_fork_is_listed_read_and_a_project_of_its_own(as_, shop, designed):
    branch = fork(as_["bob"], shop, version=1, description="bigger orders")
    stored = Project.get_by_id(branch["id"])
    assert stored.branch_of_id == shop.id and stored.description == "bigger orders"
    assert (branch["branch_of"], branch["fork_version"]) == (str(shop.id), 1)
    assert (branch["merged_at"], branch["merge_request"], branch["role"]) == (None, None, "editor")
    listed = as_["carol"].get(f"/projects/{shop.id}/branches")
    assert [b["id"] for b in listed.json] == [branch["id"]]
    one = as_["carol"].get(f"/branches/{branch['id']}")
    assert (one.status_code, one.json["name"], one.json["role"]) == (200, "redesign", "viewer")
    # A branch is a project: its own routes by its id say it is one, and list its versions.
    project = as_["bob"].get(f"/projects/{branch['id']}").json
    assert (project["branch_of"], project["fork_version"]) == (str(shop.id), 1)
    assert as_["bob"].get(f"/projects/{shop.id}").json["branch_of"] is None
    assert [p["id"] for p in as_["bob"].get("/projects").json] == [str(shop.id)]
    own = as_["bob"].get(f"/projects/{branch['id']}/versions").json["versions"]
    main_first = SchemaVersion.get(
        SchemaVersion.project == shop.id, SchemaVersion.version_number == 1
    )
    assert [(v["version_number"], v["parent_version_id"]) for v in own] == [(1, str(main_first.id))]
    # A main project's id is no branch.
    assert as_["bob"].get(f"/branches/{shop.id}").status_code == 404


def test_a_fork_of_the_working_copy_saves_main_first(as_, shop, designed, alice):
    tables.create_table(alice, shop.id, "Invoices")
    branch = fork(as_["bob"], shop, name="later")
    assert branch["fork_version"] == 2
    assert versions.latest(shop.id).version_number == 2


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "   "}, "name"),
        ({}, "name"),
        ({"name": "x", "version": 0}, "version"),
        ({"name": "x", "version": "1"}, "version"),
        ({"name": "x", "colour": "red"}, "colour"),
        ({"name": "x" * 101}, "name"),
    ],
)
def test_a_fork_refuses_bad_input_in_the_error_format(as_, shop, designed, body, field):
    with writes_nothing():
        response = as_["bob"].post(f"/projects/{shop.id}/branches", json=body)
    assert response.status_code == 422, response.text
    assert response.json["error"]["code"] == "validation"
    assert field in response.json["error"]["fields"]
    assert response.json["error"]["message"]


def test_a_fork_refuses_a_taken_name_a_missing_version_and_a_branch_of_a_branch(
    as_, shop, designed
):
    branch = fork(as_["bob"], shop, name="one", version=1)
    taken = as_["bob"].post(f"/projects/{shop.id}/branches", json={"name": " ONE "})
    assert (taken.status_code, list(taken.json["error"]["fields"])) == (422, ["name"])
    missing = as_["bob"].post(f"/projects/{shop.id}/branches", json={"name": "two", "version": 9})
    assert missing.status_code == 404
    nested = as_["bob"].post(f"/projects/{branch['id']}/branches", json={"name": "three"})
    assert nested.status_code == 409
    assert as_["bob"].get(f"/projects/{branch['id']}/branches").status_code == 409
    assert [b.name for b in branch_rows(shop)] == ["one"]


def test_the_comparison_gives_both_sides_sentences_paths_and_the_merge_sql(
    as_, shop, designed, alice, bob
):
    branch = fork(as_["bob"], shop, version=1)
    renamed_on_branch(bob, designed, branch)
    rename(alice, designed["email"].id, "mail")
    response = as_["carol"].get(f"/branches/{branch['id']}/comparison")
    assert response.status_code == 200, response.text
    compared = response.json
    assert (compared["project_id"], compared["branch_id"]) == (str(shop.id), branch["id"])
    assert compared["fork_version"] == 1 and compared["conflicts"] == []
    ours = {tuple(c["path"][-1:]): c for c in compared["ours"]}
    renamed = ours[("field_name",)]
    # By main's ids, on both sides.
    assert renamed["path"][3] == str(designed["email"].id)
    assert (renamed["verb"], renamed["before"], renamed["after"]) == ("renamed", "email", "mail")
    assert "renamed column customers.email to mail" in [c["sentence"] for c in compared["ours"]]
    theirs = [c for c in compared["theirs"] if c["path"][-1] == "field_name"]
    assert theirs[0]["path"][3] == str(designed["total"].id)
    assert "renamed column orders.total to amount" in [c["sentence"] for c in compared["theirs"]]
    assert 'RENAME COLUMN "total" TO "amount"' in compared["sql"]
    assert "email" not in compared["sql"]


def test_conflicts_have_ids_kinds_paths_and_sentences_and_no_sql_until_decided(
    as_, shop, designed, alice, bob
):
    branch = fork(as_["bob"], shop, version=1)
    renamed_on_branch(bob, designed, branch)
    rename(alice, designed["total"].id, "sum")
    compared = as_["alice"].get(f"/branches/{branch['id']}/comparison").json
    kinds = sorted((c["kind"], c["path"][-1]) for c in compared["conflicts"])
    assert kinds == [("changed", "field_name"), ("changed", "name")]
    column = next(c for c in compared["conflicts"] if c["path"][-1] == "field_name")
    assert column["id"] == "changed:" + "/".join(column["path"])
    assert column["sentence"].startswith("Both sides changed this: ours renamed column")
    assert [c["after"] for c in column["ours"] + column["theirs"]] == ["sum", "amount"]
    assert column["decided"] is None
    assert sorted(compared["undecided"]) == sorted(c["id"] for c in compared["conflicts"])
    assert compared["sql"] is None


def test_a_merge_request_is_reviewed_approved_by_another_editor_and_merged(
    as_, shop, designed, bob, alice
):
    branch = fork(as_["bob"], shop, version=1)
    renamed_on_branch(bob, designed, branch)
    made = opened(as_["bob"], shop, branch)
    assert (made["number"], made["state"], made["author_id"]) == (1, "open", str(bob.id))
    assert (made["approvals"], made["approvals_required"], made["mergeable"]) == ([], 1, False)
    assert 'RENAME COLUMN "total" TO "amount"' in made["comparison"]["sql"]
    assert as_["carol"].get(f"/branches/{branch['id']}").json["merge_request"] == {
        "number": 1,
        "state": "open",
    }
    listed = as_["carol"].get(f"/projects/{shop.id}/merge_requests")
    assert [r["number"] for r in listed.json] == [1]
    assert as_["carol"].get(f"/projects/{shop.id}/merge_requests?state=merged").json == []
    url = f"/projects/{shop.id}/merge_requests/1"
    # Its author cannot approve it; without an approval it does not merge.
    refused = as_["bob"].post(f"{url}/approval")
    assert (refused.status_code, refused.json["error"]["code"]) == (403, "forbidden")
    assert not MergeApproval.select().exists()
    early = as_["bob"].post(f"{url}/merge", json={})
    assert early.status_code == 409 and "needs 1 approval" in early.json["error"]["message"]
    assert column_of(designed["total"].id) == "total"
    approved = as_["alice"].post(f"{url}/approval")
    assert approved.status_code == 200, approved.text
    assert [(a["username"], a["stands"]) for a in approved.json["approvals"]] == [("alice", True)]
    assert approved.json["approved"] and approved.json["mergeable"]
    said = as_["alice"].post(f"{url}/comments", json={"body": "Looks right."})
    assert (said.status_code, said.json["username"], said.json["body"]) == (
        201,
        "alice",
        "Looks right.",
    )
    comments = as_["carol"].get(f"{url}/comments").json
    assert [(c["username"], c["body"]) for c in comments] == [("alice", "Looks right.")]
    merged = as_["bob"].post(f"{url}/merge", json={"message": "Amount it is"})
    assert merged.status_code == 201, merged.text
    assert (merged.json["message"], merged.json["project_id"]) == ("Amount it is", str(shop.id))
    # Main's own field, renamed in the database; the request and the branch are merged.
    assert column_of(designed["total"].id) == "amount"
    stored = MergeRequest.get(MergeRequest.project == shop.id, MergeRequest.number == 1)
    assert stored.state == "merged" and str(stored.merged_version_id) == merged.json["id"]
    assert Project.get_by_id(branch["id"]).merged_at is not None
    after = as_["carol"].get(url).json
    assert (after["state"], after["comparison"], after["mergeable"]) == ("merged", None, False)
    assert as_["carol"].get(f"/projects/{branch['id']}").json["merged_at"]
    again = as_["bob"].post(f"{url}/merge", json={})
    assert again.status_code == 409


def test_an_approval_stops_standing_when_the_branch_changes_after_it(
    as_, shop, designed, bob, alice
):
    branch = fork(as_["bob"], shop, version=1)
    renamed_on_branch(bob, designed, branch)
    opened(as_["bob"], shop, branch)
    url = f"/projects/{shop.id}/merge_requests/1"
    as_["alice"].post(f"{url}/approval")
    renamed_on_branch(bob, designed, branch, to="grand_total")
    review = as_["carol"].get(url).json
    assert [a["stands"] for a in review["approvals"]] == [False]
    assert (review["approved"], review["mergeable"]) == (False, False)
    with writes_nothing():
        refused = as_["bob"].post(f"{url}/merge", json={})
    assert refused.status_code == 409
    assert "changed since it was approved" in refused.json["error"]["message"]
    assert column_of(designed["total"].id) == "total"
    # Approved again as it is now, it merges.
    as_["alice"].post(f"{url}/approval")
    assert as_["bob"].post(f"{url}/merge", json={}).status_code == 201
    assert column_of(designed["total"].id) == "grand_total"


def test_conflicts_are_decided_on_the_request_then_the_sql_shows_and_it_merges(
    as_, shop, designed, bob, alice
):
    branch = fork(as_["bob"], shop, version=1)
    renamed_on_branch(bob, designed, branch)
    rename(alice, designed["total"].id, "sum")
    made = opened(as_["bob"], shop, branch)
    url = f"/projects/{shop.id}/merge_requests/1"
    ids = sorted(made["undecided"])
    assert len(ids) == 2 and made["comparison"]["sql"] is None
    with writes_nothing():
        refused = as_["bob"].post(f"{url}/merge", json={})
    # Every reason at once: no approval, and the conflicts.
    message = refused.json["error"]["message"]
    assert refused.status_code == 409
    assert "needs 1 approval" in message and "2 conflicts to resolve" in message
    for bad, field in (({"conflict_id": ids[0], "side": "both"}, "side"),
                       ({"side": "ours"}, "conflict_id")):  # fmt: skip
        response = as_["bob"].post(f"{url}/decisions", json=bad)
        assert (response.status_code, list(response.json["error"]["fields"])) == (422, [field])
    unknown = as_["bob"].post(f"{url}/decisions", json={"conflict_id": "changed:x", "side": "ours"})
    assert unknown.status_code == 422
    for conflict_id in ids:
        decided = as_["bob"].post(
            f"{url}/decisions", json={"conflict_id": conflict_id, "side": "theirs"}
        )
        assert decided.status_code == 200, decided.text
    assert decided.json["undecided"] == [] and decided.json["resolutions"] == dict.fromkeys(
        ids, "theirs"
    )
    assert {c["decided"] for c in decided.json["comparison"]["conflicts"]} == {"theirs"}
    assert 'RENAME COLUMN "sum" TO "amount"' in decided.json["comparison"]["sql"]
    # Main's side picked instead: main keeps sum, nothing to rename.
    for conflict_id in ids:
        picked = {"conflict_id": conflict_id, "side": "ours"}
        mine = as_["bob"].post(f"{url}/decisions", json=picked)
    assert "amount" not in mine.json["comparison"]["sql"]
    for conflict_id in ids:
        as_["bob"].post(f"{url}/decisions", json={"conflict_id": conflict_id, "side": "theirs"})
    # Undecided again with null, then decided back.
    undone = as_["bob"].post(f"{url}/decisions", json={"conflict_id": ids[0], "side": None})
    assert undone.json["undecided"] == [ids[0]] and undone.json["comparison"]["sql"] is None
    as_["bob"].post(f"{url}/decisions", json={"conflict_id": ids[0], "side": "theirs"})
    as_["alice"].post(f"{url}/approval")
    assert as_["bob"].post(f"{url}/merge", json={}).status_code == 201
    assert column_of(designed["total"].id) == "amount"


def test_an_approval_is_withdrawn_and_a_request_closed_by_its_author(
    as_, shop, designed, bob, alice
):
    branch = fork(as_["bob"], shop, version=1)
    renamed_on_branch(bob, designed, branch)
    opened(as_["bob"], shop, branch)
    url = f"/projects/{shop.id}/merge_requests/1"
    as_["alice"].post(f"{url}/approval")
    withdrawn = as_["alice"].delete(f"{url}/approval")
    assert withdrawn.status_code == 200 and withdrawn.json["approvals"] == []
    assert not MergeApproval.select().exists()
    closed = as_["bob"].post(f"{url}/close")
    assert (closed.status_code, closed.json["state"]) == (200, "closed")
    assert MergeRequest.get().state == "closed"
    assert as_["alice"].post(f"{url}/approval").status_code == 409
    assert as_["bob"].post(f"{url}/merge", json={}).status_code == 409
    assert column_of(designed["total"].id) == "total"
    # Closed, the branch may be offered again.
    assert opened(as_["bob"], shop, branch, "Second try")["number"] == 2


def test_only_its_author_or_an_owner_closes_a_request(as_, shop, designed, alice, bob, people):
    projects.add_member(alice, shop.id, "dave", "editor")
    branch = fork(as_["bob"], shop, version=1)
    renamed_on_branch(bob, designed, branch)
    opened(as_["bob"], shop, branch)
    url = f"/projects/{shop.id}/merge_requests/1"
    with writes_nothing():
        assert as_["dave"].post(f"{url}/close").status_code == 403
    assert as_["alice"].post(f"{url}/close").json["state"] == "closed"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": "x"}, "branch_id"),
        ({"branch_id": "{branch}"}, "title"),
        ({"branch_id": "{branch}", "title": "   "}, "title"),
        ({"branch_id": "{branch}", "title": "x" * 201}, "title"),
        ({"branch_id": "nonsense", "title": "x"}, "branch_id"),
        ({"branch_id": "{other}", "title": "x"}, "branch_id"),
        ({"branch_id": "{main}", "title": "x"}, "branch_id"),
    ],
)
def test_opening_a_request_refuses_bad_input(as_, shop, designed, alice, body, field):
    branch = fork(as_["bob"], shop, version=1)
    other = projects.create_project(alice, "Other")
    other_branch = branches.fork(alice, other.id, "elsewhere")
    ids = {"branch": branch["id"], "other": str(other_branch.id), "main": str(shop.id)}
    body = {key: value.format(**ids) for key, value in body.items()}
    with writes_nothing():
        response = as_["alice"].post(f"/projects/{shop.id}/merge_requests", json=body)
    assert response.status_code == 422, response.text
    assert list(response.json["error"]["fields"]) == [field]


def test_a_second_open_request_for_a_branch_and_bad_comments_and_states_are_refused(
    as_, shop, designed, bob
):
    branch = fork(as_["bob"], shop, version=1)
    renamed_on_branch(bob, designed, branch)
    opened(as_["bob"], shop, branch)
    url = f"/projects/{shop.id}/merge_requests"
    with writes_nothing():
        twice = as_["bob"].post(url, json={"branch_id": branch["id"], "title": "again"})
        assert twice.status_code == 409
        for body in ({"body": "  "}, {}, {"body": "x" * 5001}):
            response = as_["bob"].post(f"{url}/1/comments", json=body)
            assert (response.status_code, list(response.json["error"]["fields"])) == (422, ["body"])
        listed = as_["bob"].get(f"{url}?state=pending")
        assert (listed.status_code, list(listed.json["error"]["fields"])) == (422, ["state"])
        assert as_["bob"].get(f"{url}/2").status_code == 404
        assert as_["bob"].get(f"{url}/2/comments").status_code == 404


def every_route(shop, branch):
    """(method, path, body, role needed) of every branch and merge-request route, for a shop
    whose branch has merge request !1."""
    url = f"/projects/{shop.id}/merge_requests/1"
    return [
        ("GET", f"/projects/{shop.id}/branches", None, "viewer"),
        ("POST", f"/projects/{shop.id}/branches", {"name": "another"}, "editor"),
        ("GET", f"/branches/{branch['id']}", None, "viewer"),
        ("GET", f"/branches/{branch['id']}/comparison", None, "viewer"),
        ("GET", f"/projects/{shop.id}/merge_requests", None, "viewer"),
        ("POST", f"/projects/{shop.id}/merge_requests",
         {"branch_id": branch["id"], "title": "t"}, "editor"),
        ("GET", url, None, "viewer"),
        ("POST", f"{url}/decisions", {"conflict_id": "changed:x", "side": "ours"}, "editor"),
        ("POST", f"{url}/approval", None, "editor"),
        ("DELETE", f"{url}/approval", None, "editor"),
        ("GET", f"{url}/comments", None, "viewer"),
        ("POST", f"{url}/comments", {"body": "hello"}, "editor"),
        ("POST", f"{url}/close", None, "editor"),
        ("POST", f"{url}/merge", {}, "editor"),
    ]  # fmt: skip


@pytest.fixture
def reviewed(as_, shop, designed, bob):
    """A branch renaming orders.total, offered as merge request !1."""
    branch = fork(as_["bob"], shop, version=1)
    renamed_on_branch(bob, designed, branch)
    opened(as_["bob"], shop, branch)
    return branch


def test_strangers_get_404_from_every_route_and_nothing_is_stored(as_, shop, reviewed):
    routes = every_route(shop, reviewed)
    with writes_nothing():
        answers = {(m, p): as_["dave"].call(m, p, json=b) for m, p, b, _ in routes}
    assert {key: r.status_code for key, r in answers.items()} == dict.fromkeys(answers, 404)
    assert {r.json["error"]["code"] for r in answers.values()} == {"not_found"}
    assert [b.name for b in branch_rows(shop)] == ["redesign"]
    assert MergeRequest.select().count() == 1 and not MergeComment.select().exists()


def test_viewers_read_every_route_and_get_403_for_every_write(as_, shop, reviewed):
    routes = every_route(shop, reviewed)
    with writes_nothing():
        answers = {(m, p, need): as_["carol"].call(m, p, json=b) for m, p, b, need in routes}
    assert {key: r.status_code for key, r in answers.items()} == {
        key: 200 if key[2] == "viewer" else 403 for key in answers
    }


def test_a_read_only_token_gets_403_for_every_write(api, alice, shop, reviewed):
    token, _ = api_tokens.issue_token(alice, "reader", read_only=True)
    reader = api()
    reader.token = token
    routes = every_route(shop, reviewed)
    with writes_nothing():
        answers = {(m, p, need): reader.call(m, p, json=b) for m, p, b, need in routes}
    assert {key: r.status_code for key, r in answers.items()} == {
        key: 200 if key[0] == "GET" else 403 for key in answers
    }


def test_a_one_project_token_gets_403_here_and_404_for_the_branch_as_a_project(
    api, alice, shop, reviewed
):
    token, _ = api_tokens.issue_token(alice, "shop only", project_id=shop.id)
    scoped = api()
    scoped.token = token
    routes = every_route(shop, reviewed)
    with writes_nothing():
        answers = {(m, p): scoped.call(m, p, json=b) for m, p, b, _ in routes}
    # The branch is another project: not reached at all. Main's routes here read the
    # branch too: refused, saying why.
    expected = {key: 404 if key[1].startswith("/branches/") else 403 for key in answers}
    assert {key: r.status_code for key, r in answers.items()} == expected
    refused = answers[("GET", f"/projects/{shop.id}/branches")].json["error"]
    assert refused["code"] == "forbidden" and "one project" in refused["message"]
    assert scoped.get(f"/projects/{reviewed['id']}").status_code == 404
    assert scoped.get(f"/projects/{shop.id}").status_code == 200
    # A token for the branch edits it as a project, but cannot see main's side.
    token, _ = api_tokens.issue_token(alice, "branch only", project_id=reviewed["id"])
    scoped.token = token
    assert scoped.get(f"/projects/{reviewed['id']}").json["branch_of"] == str(shop.id)
    assert scoped.get(f"/branches/{reviewed['id']}/comparison").status_code == 403
    assert scoped.get(f"/projects/{shop.id}/branches").status_code == 404


def test_openapi_documents_every_branch_and_merge_request_route(api):
    document = api().get("/openapi.json").json
    paths = document["paths"]
    wanted = {
        "/projects/{project_id}/branches": {"get", "post"},
        "/branches/{branch_id}": {"get"},
        "/branches/{branch_id}/comparison": {"get"},
        "/projects/{project_id}/merge_requests": {"get", "post"},
        "/projects/{project_id}/merge_requests/{number}": {"get"},
        "/projects/{project_id}/merge_requests/{number}/decisions": {"post"},
        "/projects/{project_id}/merge_requests/{number}/approval": {"post", "delete"},
        "/projects/{project_id}/merge_requests/{number}/comments": {"get", "post"},
        "/projects/{project_id}/merge_requests/{number}/close": {"post"},
        "/projects/{project_id}/merge_requests/{number}/merge": {"post"},
    }
    for path, methods in wanted.items():
        assert set(paths[path]) == methods, path
        assert all(paths[path][m]["summary"] for m in methods), path
    bodies = {
        ("/projects/{project_id}/branches", "post"): "BranchCreate",
        ("/projects/{project_id}/merge_requests", "post"): "MergeRequestCreate",
        ("/projects/{project_id}/merge_requests/{number}/decisions", "post"): "ConflictDecision",
        ("/projects/{project_id}/merge_requests/{number}/comments", "post"): "CommentCreate",
        ("/projects/{project_id}/merge_requests/{number}/merge", "post"): "MergeRequestMerge",
    }
    schemas = document["components"]["schemas"]
    for (path, method), name in bodies.items():
        content = paths[path][method]["requestBody"]["content"]["application/json"]
        assert content["schema"]["$ref"] == f"#/components/schemas/{name}"
    assert set(schemas["ConflictDecision"]["required"]) == {"conflict_id", "side"}
    answered = {
        ("/projects/{project_id}/branches", "get"): ("200", "Branch", True),
        ("/projects/{project_id}/branches", "post"): ("201", "Branch", False),
        ("/branches/{branch_id}/comparison", "get"): ("200", "Comparison", False),
        ("/projects/{project_id}/merge_requests/{number}", "get"): ("200", "Review", False),
        ("/projects/{project_id}/merge_requests/{number}/merge", "post"): ("201", "Version", False),
    }
    for (path, method), (status, name, many) in answered.items():
        schema = paths[path][method]["responses"][status]["content"]["application/json"]["schema"]
        assert (schema["items"] if many else schema) == {"$ref": f"#/components/schemas/{name}"}
    conflict = schemas["MergeConflict"]["properties"]
    assert conflict["kind"]["enum"] == ["changed", "deleted", "name", "rules"]
    assert "null while any conflict is undecided" in str(schemas["Comparison"]["properties"]["sql"])
    assert schemas["BranchCreate"]["properties"]["version"]["description"]
    number = paths["/projects/{project_id}/merge_requests/{number}"]["get"]["parameters"]
    assert {p["name"]: p["schema"]["type"] for p in number} == {
        "project_id": "string",
        "number": "integer",
    }
    assert "read two projects" in document["components"]["securitySchemes"]["bearer"]["description"]


def test_a_branch_dry_runs_the_merged_plan_on_mains_database_and_keeps_nothing(
    as_, shop, designed, bob
):
    branch = fork(as_["bob"], shop, version=1)
    tables.create_table(bob, branch["id"], "Invoices")
    url = f"/branches/{branch['id']}/dry_run"
    assert as_["carol"].post(url).status_code == 403
    assert as_["dave"].post(url).status_code == 404
    with writes_nothing():
        ran = as_["bob"].post(url)
    assert ran.status_code == 200, ran.text
    assert ran.json["ok"] and ran.json["error"] is None
    assert ran.json["schema"] == Project.get_by_id(shop.id).target_schema
    created = [s for s in ran.json["steps"] if s["sql"].startswith("CREATE TABLE")]
    assert {s["outcome"] for s in created} == {"ok"}
    assert any('"invoices"' in s["sql"] for s in created)
