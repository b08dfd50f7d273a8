"""Branches: main's Branches tab, forking, switching branch, and a branch's comparison."""

from flask import Blueprint
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_login import current_user
from flask_login import login_required

from designer import branches
from designer import merge_requests
from designer import projects
from designer.database import ddl
from designer.errors import Conflict
from designer.errors import ValidationFailed
from designer.history import merge_words
from designer.views import block
from designer.views import go
from designer.views import page_or_block
from designer.views.versions import choices

bp = Blueprint("branches", __name__)
INDEX = "branches/index.html"
COMPARE = "branches/compare.html"
# Tabs every project has: switching branch keeps the tab.
TABS = {
    "projects.show", "relationships.index", "enums.index", "diagram.show",
    "versions.timeline", "deployments.index", "transfer.index", "members.index",
}  # fmt: skip


def index_context(granted, form=None, errors=None):
    return {
        "access": granted, "project": granted.project,
        "branches": branches.listed(granted.project.id),
        "requests": merge_requests.requests_of(granted.project.id),
        "version_choices": [("", "The working copy now")] + choices(granted.project.id),
        "form": form or {"version": request.args.get("version", "")}, "errors": errors or {},
    }  # fmt: skip


@bp.get("/projects/<project_id>/branches")
@login_required
def index(project_id):
    """Main's Branches tab: its branches, its merge requests, and the form to fork one."""
    granted = projects.access(current_user, project_id)
    if granted.project.is_branch:
        return redirect(url_for("branches.index", project_id=granted.project.branch_of_id))
    return page_or_block(INDEX, "branches_body", **index_context(granted))


@bp.post("/projects/<project_id>/branches")
@login_required
def fork(project_id):
    """Fork a branch from the working copy or a saved version, then open it."""
    form = {key: request.form.get(key, "") for key in ("name", "version", "description")}
    try:
        branch = branches.fork(current_user, project_id, form["name"], form["version"] or None,
                               form["description"])  # fmt: skip
    except (ValidationFailed, Conflict) as exc:
        granted = branches.main_access(current_user, project_id)
        errors = exc.fields or {"name": exc.message}
        return block(INDEX, "fork_form", 422, **index_context(granted, form, errors))
    flash(f"Branch “{branch.name}” forked: you are on it now.", "success")
    return go("projects.show", project_id=branch.id)


@bp.get("/projects/<project_id>/switch")
@login_required
def switch(project_id):
    """Open the same tab (or table) on main or another of its branches."""
    here = projects.access(current_user, project_id).project
    there = projects.access(current_user, request.args.get("to") or project_id).project
    if branches.main_of(there).id != branches.main_of(here).id:
        return redirect(url_for("projects.show", project_id=there.id))
    page = request.args.get("page", "")
    if page == "tables.show":
        table_id = branches.counterpart_table(request.args.get("table", ""), here, there)
        if table_id is not None:
            return redirect(url_for("tables.show", table_id=table_id))
    if page in TABS:
        return redirect(url_for(page, project_id=there.id))
    if page == "branches.compare" and not there.is_branch:
        return redirect(url_for("branches.index", project_id=there.id))
    if page == "branches.compare":
        return redirect(url_for("branches.compare", branch_id=there.id))
    return redirect(url_for("projects.show", project_id=there.id))


@bp.get("/branches/<branch_id>/compare")
@login_required
def compare(branch_id):
    """The branch against main since the fork, side by side, with main's migration after a
    merge; and the form opening a merge request (or a link to the open one)."""
    found, compared = branches.comparison(current_user, branch_id)
    granted = projects.access(current_user, branch_id)
    return render_template(
        COMPARE, **comparison_context(found, compared), access=granted,
        project=found.branch, request_shown=merge_requests.request_for_branch(found.branch.id),
        form={"title": found.branch.name}, errors={},
    )  # fmt: skip


def comparison_context(found, compared, resolutions=None):
    """What templates/branches/_comparison.html shows of a comparison."""
    sql = branches.migration_sql(found, compared, resolutions)
    return {
        "sides": found, "compared": compared, "resolutions": resolutions or {},
        "ours_sentences": merge_words.side_sentences(compared, "ours"),
        "theirs_sentences": merge_words.side_sentences(compared, "theirs"),
        "conflict_words": [merge_words.conflict_sentence(c, compared) for c in compared.conflicts],
        "conflicted_paths": conflicted_paths(compared),
        "sql": None if sql is None else ddl.script(sql),
    }  # fmt: skip


def conflicted_paths(compared):
    """{side: the paths of that side's changes caught in a conflict}: the sentences marked."""
    marked = {"ours": set(), "theirs": set()}
    for conflict in compared.conflicts:
        for side in marked:
            marked[side].update(change.path for change in conflict.changes(side))
    return marked


@bp.post("/branches/<branch_id>/merge-requests")
@login_required
def open_request(branch_id):
    """Offer the branch to main: open a merge request, then show it."""
    form = {key: request.form.get(key, "") for key in ("title", "description")}
    try:
        made = merge_requests.open_request(current_user, branch_id, **form)
    except ValidationFailed as exc:
        granted = projects.access(current_user, branch_id)
        return block(COMPARE, "request_form", 422, access=granted, project=granted.project,
                     form=form, errors=exc.fields)  # fmt: skip
    flash(f"Merge request !{made.number} opened.", "success")
    return go("merge_requests.show", project_id=made.project_id, number=made.number)


@bp.app_template_global("branch_switcher")
def branch_switcher(project):
    """The switcher of a project page: main and its open branches."""
    return branches.switcher(project)


@bp.app_template_global("branch_request")
def branch_request(project):
    """A branch's merge request (the open one, else its latest), or None."""
    return merge_requests.request_for_branch(project.id)
