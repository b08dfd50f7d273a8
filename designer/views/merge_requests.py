"""Merge requests: a request's page (its comparison, conflicts, approvals, comments and
merge), followed live, and the actions on it."""

from flask import Blueprint
from flask import flash
from flask import render_template
from flask import request
from flask_login import current_user
from flask_login import login_required

from designer import merge_requests
from designer import projects
from designer.errors import ValidationFailed
from designer.models import Project
from designer.models import SchemaVersion
from designer.models import UserName
from designer.settings import settings
from designer.views import blocks
from designer.views import go
from designer.views.branches import comparison_context

bp = Blueprint("merge_requests", __name__)
SHOW = "branches/request.html"
# What changes when a teammate acts or edits either design: swapped in out of band.
LIVE = ["request_state", "review_body", "approvals", "merge_panel", "comment_list"]


def request_context(project_id, number, **extra):
    """Everything the request page shows, as it is now."""
    review, shown = merge_requests.review(current_user, project_id, number)
    granted = projects.access(current_user, project_id)
    context = {
        "access": granted, "project": granted.project, "mr": shown, "review": review,
        "branch": Project.get_by_id(shown.branch_id),
        "author": UserName.get_or_none(UserName.id == shown.author_id),
        "approvals": review.approvals if review else merge_requests.approvals_of(shown),
        "comments": merge_requests.comments_of(shown),
        "merged_version": shown.merged_version_id and SchemaVersion.get_by_id(
            shown.merged_version_id),
        "live_stamp": merge_requests.live_stamp(shown), "live_seconds": settings.live_poll_seconds,
        "comment_form": {}, "errors": {}, **extra,
    }  # fmt: skip
    if review is not None:
        context.update(comparison_context(review.sides, review.comparison, shown.resolutions))
    return context


@bp.get("/projects/<project_id>/merge-requests/<int:number>")
@login_required
def show(project_id, number):
    """A merge request: the comparison, conflicts to decide, approvals, comments, merge."""
    return render_template(SHOW, **request_context(project_id, number))


@bp.get("/projects/<project_id>/merge-requests/<int:number>/live")
@login_required
def live(project_id, number):
    """The page's changing parts once main or the branch moved since `v`, else 204."""
    _, shown = merge_requests.get_request(current_user, project_id, number)
    if request.args.get("v") == merge_requests.live_stamp(shown):
        return "", 204
    context = request_context(project_id, number)
    body, status = blocks(SHOW, LIVE, live_oob=True, **context)
    return body, status, {"X-Live-Version": context["live_stamp"]}


def refreshed(project_id, number, **extra):
    """After an action: the page's changing parts, out of band."""
    return blocks(SHOW, LIVE, live_oob=True, **request_context(project_id, number, **extra))


@bp.post("/projects/<project_id>/merge-requests/<int:number>/conflicts")
@login_required
def decide(project_id, number):
    """Keep one side of a conflict (or reopen it)."""
    side = request.form.get("side", "")
    merge_requests.decide(current_user, project_id, number, request.form.get("conflict", ""),
                          side)  # fmt: skip
    return refreshed(project_id, number)


@bp.post("/projects/<project_id>/merge-requests/<int:number>/approval")
@login_required
def approve(project_id, number):
    """Approve the request as it is now."""
    merge_requests.approve(current_user, project_id, number)
    return refreshed(project_id, number)


@bp.delete("/projects/<project_id>/merge-requests/<int:number>/approval")
@login_required
def unapprove(project_id, number):
    """Withdraw one's approval."""
    merge_requests.unapprove(current_user, project_id, number)
    return refreshed(project_id, number)


@bp.post("/projects/<project_id>/merge-requests/<int:number>/comments")
@login_required
def comment(project_id, number):
    """Add a comment; an empty one is refused next to the box."""
    body = request.form.get("body", "")
    try:
        merge_requests.comment(current_user, project_id, number, body)
    except ValidationFailed as exc:
        context = request_context(project_id, number, comment_form={"body": body},
                                  errors=exc.fields)  # fmt: skip
        return blocks(SHOW, ["comment_form"], 422, **context)
    return blocks(SHOW, ["comment_form", *LIVE], live_oob=True,
                  **request_context(project_id, number))  # fmt: skip


@bp.post("/projects/<project_id>/merge-requests/<int:number>/merge")
@login_required
def merge(project_id, number):
    """Merge the branch into main, then show the request as merged."""
    version = merge_requests.merge(current_user, project_id, number)
    flash(f"Merged into main as version {version.version_number}.", "success")
    return go("merge_requests.show", project_id=project_id, number=number)


@bp.post("/projects/<project_id>/merge-requests/<int:number>/close")
@login_required
def close(project_id, number):
    """Close the request without merging."""
    merge_requests.close(current_user, project_id, number)
    flash(f"Merge request !{number} closed.", "success")
    return go("merge_requests.show", project_id=project_id, number=number)
