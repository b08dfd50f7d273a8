"""JSON API: merge requests of a main project (designer.merge_requests), by their number.

/projects/<id>/merge_requests lists and opens them; /projects/<id>/merge_requests/<n> is
one with its review: the comparison with the conflicts it decided, its approvals and
whether each still stands, and whether it is mergeable. Members of main read them, its
editors write them; a token for one project gets 403 (api/branches.py says why).
"""

from flask import g
from flask import jsonify
from flask import request

from designer import api_input
from designer import api_output
from designer import branches
from designer import merge_requests
from designer.errors import NotFound
from designer.errors import ValidationFailed
from designer.models import MERGE_STATES
from designer.views.api import bp
from designer.views.api.branches import comparison_json
from designer.views.api.branches import spanning
from designer.views.api.messages import accepts
from designer.views.api.messages import answers
from designer.views.api.messages import iso
from designer.views.api.messages import query
from designer.views.api.versions import version_json

REQUEST = "/projects/<project_id>/merge_requests/<int:number>"


def request_json(merge_request):
    return {
        "number": merge_request.number,
        "project_id": str(merge_request.project_id),
        "branch_id": str(merge_request.branch_id),
        "title": merge_request.title,
        "description": merge_request.description,
        "state": merge_request.state,
        "author_id": str(merge_request.author_id) if merge_request.author_id else None,
        "resolutions": merge_request.resolutions,
        "created_at": iso(merge_request.created_at),
        "updated_at": iso(merge_request.updated_at),
        "merged_at": iso(merge_request.merged_at),
        "merged_by": str(merge_request.merged_by_id) if merge_request.merged_by_id else None,
        "merged_version_id": (
            str(merge_request.merged_version_id) if merge_request.merged_version_id else None
        ),
        "revision": merge_request.revision,
    }


def approval_json(approval, stands):
    return {
        "user_id": str(approval.user.id),
        "username": approval.user.username,
        "approved_at": iso(approval.approved_at),
        "stands": stands,
    }


def review_json(project_id, number):
    """The request with its review as it is now; a merged or closed one has no comparison."""
    review, merge_request = merge_requests.review(g.api_user, project_id, number)
    data = request_json(merge_request)
    if review is None:
        approvals = merge_requests.approvals_of(merge_request)
        return {
            **data, "approvals": [approval_json(a, None) for a in approvals],
            "approvals_required": None, "approved": None, "undecided": [],
            "mergeable": False, "comparison": None,
        }  # fmt: skip
    resolutions = merge_request.resolutions
    return {
        **data,
        "approvals": [approval_json(a, a.stands) for a in review.approvals],
        "approvals_required": review.required,
        "approved": review.approved,
        "undecided": [conflict.id for conflict in review.undecided],
        "mergeable": review.mergeable,
        "comparison": comparison_json(review.sides, review.comparison, resolutions),
    }


def comment_json(comment, username):
    return {
        "id": str(comment.id),
        "author_id": str(comment.author_id) if comment.author_id else None,
        "username": username,
        "body": comment.body,
        "created_at": iso(comment.created_at),
    }


def member_of(project_id, need="viewer"):
    return spanning(branches.main_access(g.api_user, project_id, need))


@bp.get("/projects/<project_id>/merge_requests")
@answers(200, api_output.MergeRequest, many=True)
@query(state=("string", "only those open, merged or closed"))
def list_merge_requests(project_id):
    """Main's merge requests, newest first (state= one of open, merged, closed)."""
    granted = member_of(project_id)
    state = request.args.get("state") or None
    if state is not None and state not in MERGE_STATES:
        message = f"state is one of {', '.join(MERGE_STATES)}."
        raise ValidationFailed(message, {"state": message})
    rows = merge_requests.requests_of(granted.project.id, state)
    return jsonify([request_json(r) for r in rows])


@bp.post("/projects/<project_id>/merge_requests")
@answers(201, api_output.Review)
@accepts(api_input.MergeRequestCreate)
def open_merge_request(project_id, data):
    """Offer a branch of this project to it (editors): {"branch_id", "title", "description"};
    409 when the branch has an open request already."""
    granted = member_of(project_id, "editor")
    try:
        branch = branches.branch_access(g.api_user, data["branch_id"]).project
    except NotFound:
        branch = None
    if branch is None or branch.branch_of_id != granted.project.id:
        message = "Choose a branch of this project."
        raise ValidationFailed(message, {"branch_id": message})
    made = merge_requests.open_request(
        g.api_user, branch.id, data.get("title", ""), data.get("description", "")
    )
    return jsonify(review_json(project_id, made.number)), 201


@bp.get(REQUEST)
@answers(200, api_output.Review)
def get_merge_request(project_id, number):
    """One merge request and its review: the comparison (conflicts with the side decided,
    the migration SQL once none is undecided), approvals (each saying whether it still
    stands: the branch unchanged and nothing new conflicting since), approvals_required,
    undecided conflict ids and whether it is mergeable."""
    member_of(project_id)
    return jsonify(review_json(project_id, number))


@bp.post(f"{REQUEST}/decisions")
@answers(200, api_output.Review)
@accepts(api_input.ConflictDecision)
def decide_conflict(project_id, number, data):
    """Decide a conflict (editors): {"conflict_id", "side": "ours" | "theirs" | null}."""
    member_of(project_id, "editor")
    merge_requests.decide(g.api_user, project_id, number, data["conflict_id"], data["side"])
    return jsonify(review_json(project_id, number))


@bp.post(f"{REQUEST}/approval")
@answers(200, api_output.Review)
def approve(project_id, number):
    """Approve the request as it is now (editors other than its author: the author gets 403)."""
    member_of(project_id, "editor")
    merge_requests.approve(g.api_user, project_id, number)
    return jsonify(review_json(project_id, number))


@bp.delete(f"{REQUEST}/approval")
@answers(200, api_output.Review)
def unapprove(project_id, number):
    """Withdraw your approval (none given: nothing changes)."""
    member_of(project_id, "editor")
    merge_requests.unapprove(g.api_user, project_id, number)
    return jsonify(review_json(project_id, number))


@bp.get(f"{REQUEST}/comments")
@answers(200, api_output.Comment, many=True)
def list_comments(project_id, number):
    """The request's comments, oldest first."""
    member_of(project_id)
    _, merge_request = merge_requests.get_request(g.api_user, project_id, number)
    rows = merge_requests.comments_of(merge_request)
    return jsonify([comment_json(c, c.author.username if c.author else None) for c in rows])


@bp.post(f"{REQUEST}/comments")
@answers(201, api_output.Comment)
@accepts(api_input.CommentCreate)
def add_comment(project_id, number, data):
    """Comment on the request (editors): {"body"}."""
    member_of(project_id, "editor")
    made = merge_requests.comment(g.api_user, project_id, number, data.get("body", ""))
    return jsonify(comment_json(made, g.api_user.username)), 201


@bp.post(f"{REQUEST}/close")
@answers(200, api_output.MergeRequest)
def close(project_id, number):
    """Close the request without merging (its author or an owner of main)."""
    member_of(project_id, "editor")
    return jsonify(request_json(merge_requests.close(g.api_user, project_id, number)))


@bp.post(f"{REQUEST}/merge")
@answers(201, api_output.Version)
@accepts(api_input.MergeRequestMerge)
def merge(project_id, number, data):
    """Merge the branch into main (editors): the new version of main. 409 saying every
    reason when it is not mergeable: approvals missing or no longer standing (the branch or
    main changed since), conflicts undecided, the request closed or merged."""
    member_of(project_id, "editor")
    version = merge_requests.merge(g.api_user, project_id, number, data.get("message", ""))
    return jsonify(version_json(version)), 201
