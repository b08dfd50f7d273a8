"""Merge requests (#28): approvals by editors other than the author, approvals that stand
only while nothing new conflicts, decided conflicts, comments, and the merge itself."""

import pytest

from designer import branches
from designer import merge_requests
from designer import projects
from designer.design import fields
from designer.design import tables
from designer.errors import Conflict
from designer.errors import Forbidden
from designer.errors import ValidationFailed
from designer.history import versions
from designer.models import ActivityEntry
from designer.models import BranchOrigin
from designer.models import DataField
from designer.models import MergeRequest
from designer.models import Project


@pytest.fixture
def team(alice, shop, make_user):
    """alice owns Shop, bob and carol edit it, dan views it; orders(total, note), saved."""
    bob, carol, dan = make_user("bob"), make_user("carol"), make_user("dan")
    projects.add_member(alice, shop.id, "bob", "editor")
    projects.add_member(alice, shop.id, "carol", "editor")
    projects.add_member(alice, shop.id, "dan", "viewer")
    orders = tables.create_table(alice, shop.id, "Orders")
    total = fields.create_field(alice, orders.id, {"name": "Total", "data_type": "number"})
    note = fields.create_field(alice, orders.id, {"name": "Note"})
    versions.save_version(alice, shop.id, "start")
    return {"bob": bob, "carol": carol, "dan": dan, "total": total, "note": note}


def renamed(user, field_id, name):
    field = DataField.get_by_id(field_id)
    data = {"name": name.title(), "field_name": name, "data_type": field.data_type}
    return fields.update_field(user, field.id, field.revision, data)


def branch_field(branch, origin):
    local = BranchOrigin.get(BranchOrigin.branch == branch.id, BranchOrigin.origin_id == origin.id)
    return local.local_id


@pytest.fixture
def offered(alice, shop, team):
    """bob's branch renaming total to amount, offered as merge request !1."""
    branch = branches.fork(team["bob"], shop.id, "amount")
    renamed(team["bob"], branch_field(branch, team["total"]), "amount")
    request = merge_requests.open_request(team["bob"], branch.id, "Call it amount")
    return branch, request


def test_only_editors_other_than_the_author_approve(shop, team, offered):
    _, request = offered
    with pytest.raises(Forbidden):
        merge_requests.approve(team["bob"], shop.id, request.number)
    with pytest.raises(Forbidden):
        merge_requests.approve(team["dan"], shop.id, request.number)
    with pytest.raises(Conflict, match="approval"):
        merge_requests.merge(team["bob"], shop.id, request.number)
    assert DataField.get_by_id(team["total"].id).field_name == "total"
    merge_requests.approve(team["carol"], shop.id, request.number)
    review, _ = merge_requests.review(team["bob"], shop.id, request.number)
    assert review.mergeable and [a.user.username for a in review.standing] == ["carol"]
    version = merge_requests.merge(team["bob"], shop.id, request.number)
    assert DataField.get_by_id(team["total"].id).field_name == "amount"
    done = MergeRequest.get_by_id(request.id)
    assert done.state == "merged" and done.merged_version_id == version.id
    assert "!1" in version.message and "amount" in version.message
    actions = {a.action for a in ActivityEntry.select().where(ActivityEntry.project == shop.id)}
    assert {"branch.created", "merge_request.opened", "merge_request.approved",
            "branch.merged", "merge_request.merged"} <= actions  # fmt: skip


def test_an_approval_stands_while_main_moves_without_new_conflicts(alice, shop, team, offered):
    _, request = offered
    merge_requests.approve(team["carol"], shop.id, request.number)
    renamed(alice, team["note"].id, "remark")  # main moves, touching nothing of the branch's
    review, _ = merge_requests.review(team["bob"], shop.id, request.number)
    assert review.mergeable
    merge_requests.merge(team["bob"], shop.id, request.number)
    orders = DataField.select().where(DataField.data_table == team["total"].table_id)
    field_names = {f.field_name for f in orders}
    assert {"amount", "remark"} <= field_names


def test_a_new_conflict_voids_the_approval(alice, shop, team, offered):
    _, request = offered
    merge_requests.approve(team["carol"], shop.id, request.number)
    renamed(alice, team["total"].id, "sum")  # main renames the same column: a conflict
    review, _ = merge_requests.review(team["bob"], shop.id, request.number)
    assert review.undecided and not review.standing
    with pytest.raises(Conflict):
        merge_requests.merge(team["bob"], shop.id, request.number)
    for conflict in review.undecided:
        merge_requests.decide(team["bob"], shop.id, request.number, conflict.id, "theirs")
    with pytest.raises(Conflict, match="again"):
        merge_requests.merge(team["bob"], shop.id, request.number)
    merge_requests.approve(team["carol"], shop.id, request.number)
    merge_requests.merge(team["bob"], shop.id, request.number)
    assert DataField.get_by_id(team["total"].id).field_name == "amount"


def test_a_branch_changed_after_approval_needs_approving_again(shop, team, offered):
    branch, request = offered
    merge_requests.approve(team["carol"], shop.id, request.number)
    tables.create_table(team["bob"], branch.id, "Invoices")
    review, _ = merge_requests.review(team["bob"], shop.id, request.number)
    assert not review.approved
    with pytest.raises(Conflict, match="again"):
        merge_requests.merge(team["bob"], shop.id, request.number)


def test_main_can_ask_for_no_approval_or_for_two(alice, shop, team, offered):
    _, request = offered
    projects.update_project(alice, shop.id, Project.get_by_id(shop.id).revision,
                            approvals_required="2")  # fmt: skip
    merge_requests.approve(team["carol"], shop.id, request.number)
    with pytest.raises(Conflict, match="2 approvals"):
        merge_requests.merge(team["bob"], shop.id, request.number)
    merge_requests.approve(alice, shop.id, request.number)
    merge_requests.merge(team["bob"], shop.id, request.number)


def test_one_open_request_per_branch_and_comments(alice, shop, team, offered):
    branch, request = offered
    with pytest.raises(Conflict, match="open merge request"):
        merge_requests.open_request(team["bob"], branch.id, "Again")
    with pytest.raises(ValidationFailed):
        merge_requests.comment(team["carol"], shop.id, request.number, "   ")
    with pytest.raises(Forbidden):
        merge_requests.comment(team["dan"], shop.id, request.number, "viewer says")
    merge_requests.comment(team["carol"], shop.id, request.number, "Looks right")
    said = merge_requests.comments_of(request)
    assert [(c.author.username, c.body) for c in said] == [("carol", "Looks right")]
    with pytest.raises(Forbidden):
        merge_requests.close(team["carol"], shop.id, request.number)
    closed = merge_requests.close(team["bob"], shop.id, request.number)
    assert closed.state == "closed"
    again = merge_requests.open_request(team["bob"], branch.id, "Second try")
    assert again.number == 2


def test_deciding_names_a_conflict_and_a_side(alice, shop, team, offered):
    _, request = offered
    with pytest.raises(ValidationFailed):
        merge_requests.decide(team["bob"], shop.id, request.number, "nothing", "ours")
    renamed(alice, team["total"].id, "sum")
    review, _ = merge_requests.review(team["bob"], shop.id, request.number)
    conflict = review.undecided[0]
    with pytest.raises(ValidationFailed):
        merge_requests.decide(team["bob"], shop.id, request.number, conflict.id, "mine")
    decided = merge_requests.decide(team["bob"], shop.id, request.number, conflict.id, "ours")
    assert decided.resolutions == {conflict.id: "ours"}
    undone = merge_requests.decide(team["bob"], shop.id, request.number, conflict.id, "")
    assert undone.resolutions == {}
