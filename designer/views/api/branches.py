"""JSON API: branches and their three-way comparison with main (designer.branches).

A branch is a project of its own: its tables, fields, relationships, locks, versions,
diff and export are the project routes with the branch's id (/projects/<branch_id>/...),
and GET /projects/<branch_id> says it is a branch. What only a branch has lives here:
main's list of branches and the fork (/projects/<id>/branches), one branch and its
comparison (/branches/<branch_id>). Merge requests are in api/merge_requests.py.

Token scopes: these routes read two projects, main and a branch. A token limited to one
project gets 404 for any other project id (as everywhere) and 403 from these routes for its
own project: it cannot see the other side. A read-only token cannot fork.
"""

from flask import g
from flask import jsonify

from designer import api_input
from designer import api_output
from designer import branches
from designer import merge_requests
from designer.database import branch_dry_run
from designer.database import ddl
from designer.errors import Forbidden
from designer.history.merge_report import comparison_report
from designer.views.api import bp
from designer.views.api.messages import accepts
from designer.views.api.messages import answers
from designer.views.api.projects import project_json

ONE_PROJECT = (
    "This token reaches one project; branches and merge requests read two (main and a "
    "branch). Use a token for all your projects."
)


def spanning(granted):
    """`granted` (a member's Access) for a route that reads main and a branch; 403 for a
    token limited to one project (which got 404 already for any project it does not reach)."""
    if g.api_user.token_project_id is not None:
        raise Forbidden(ONE_PROJECT)
    return granted


def branch_json(branch, role, fork_number, request):
    """A branch as a project, with its merge request (open, else the latest; null: none)."""
    summary = None if request is None else {"number": request.number, "state": request.state}
    return {**project_json(branch, role, fork_number), "merge_request": summary}


def branches_json(rows, role):
    numbers = branches.fork_numbers(rows)
    requests = merge_requests.requests_for_branches([b.id for b in rows])
    return [branch_json(b, role, numbers.get(b.id), requests.get(b.id)) for b in rows]


def comparison_json(found, compared, resolutions=None):
    """A comparison: both sides' changes and the conflicts (designer.history.merge_report),
    and the migration SQL main would run after the merge (null while a conflict is
    undecided)."""
    steps = branches.migration_sql(found, compared, resolutions)
    return {
        "project_id": str(found.main.id),
        "branch_id": str(found.branch.id),
        "fork_version": found.fork_version.version_number,
        **comparison_report(compared, resolutions),
        "sql": None if steps is None else ddl.script(steps),
    }


@bp.get("/projects/<project_id>/branches")
@answers(200, api_output.Branch, many=True)
def list_branches(project_id):
    """Main's branches, open ones first, newest first (409 for a branch's id)."""
    granted = spanning(branches.main_access(g.api_user, project_id))
    return jsonify(branches_json(branches.branches_of(granted.project.id), granted.role))


@bp.post("/projects/<project_id>/branches")
@answers(201, api_output.Branch)
@accepts(api_input.BranchCreate)
def fork_branch(project_id, data):
    """Fork a branch (editors): {"name", "version" (a number of main's; absent: the working
    copy), "description"}. The branch is a project: /projects/<its id>/... edits it."""
    granted = spanning(branches.main_access(g.api_user, project_id, "editor"))
    branch = branches.fork(
        g.api_user, project_id, data.get("name", ""), data.get("version"),
        data.get("description", ""),
    )  # fmt: skip
    return jsonify(branches_json([branch], granted.role)[0]), 201


@bp.get("/branches/<branch_id>")
@answers(200, api_output.Branch)
def get_branch(branch_id):
    """One branch (404 for a main project's id), with its merge request's number and state."""
    granted = spanning(branches.branch_access(g.api_user, branch_id))
    return jsonify(branches_json([granted.project], granted.role)[0])


@bp.get("/branches/<branch_id>/comparison")
@answers(200, api_output.Comparison)
def compare_branch(branch_id):
    """The three-way comparison: base the fork version, ours main now, theirs the branch
    now. Each side's changes (path, verb, before, after, sentence), the conflicts (id, kind,
    path, sentence, each side's changes) all undecided here (a merge request decides them),
    and the migration SQL main would run after the merge: null while any conflict stands."""
    spanning(branches.branch_access(g.api_user, branch_id))
    found, compared = branches.comparison(g.api_user, branch_id)
    return jsonify(comparison_json(found, compared))


@bp.post("/branches/<branch_id>/dry_run")
@answers(200, api_output.BranchDryRun)
def dry_run_branch(branch_id):
    """Run the plan main would run once the branch is merged (its open merge request's
    decisions taken) on main's database, as main's role, and roll it back (editors): each
    statement's outcome. 409 while a conflict is undecided or when there is nothing to run."""
    granted = spanning(branches.branch_access(g.api_user, branch_id, "editor"))
    offered = merge_requests.request_for_branch(granted.project.id)
    resolutions = offered.resolutions if offered is not None and offered.state == "open" else None
    ran = branch_dry_run.dry_run(g.api_user, granted.project.id, resolutions)
    return jsonify({
        "schema": ran.schema, "ok": ran.ok, "error": ran.error,
        "duration_ms": ran.duration_ms, "steps": ran.steps,
    })  # fmt: skip
