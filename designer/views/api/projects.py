"""JSON API: projects and members."""

from flask import g
from flask import jsonify

from designer import api_input
from designer import branches
from designer import projects
from designer import sample
from designer.views.api import bp
from designer.views.api.messages import accepts
from designer.views.api.messages import iso
from designer.views.api.messages import revision_of


def project_json(project, role, fork_number=None):
    """A project; a branch (a project of its own, designer.branches) says which project it
    branches (branch_of), the number of that project's version it forked from, and when it
    was merged (null for a main project)."""
    return {
        "id": str(project.id),
        "name": project.name,
        "description": project.description,
        "owner_id": str(project.owner_id),
        "is_active": project.is_active,
        "created_at": iso(project.created_at),
        "updated_at": iso(project.updated_at),
        "revision": project.revision,
        "target_schema": project.target_schema,
        "approvals_required": project.approvals_required,
        "role": role,
        "branch_of": str(project.branch_of_id) if project.branch_of_id else None,
        "fork_version": fork_number,
        "merged_at": iso(project.merged_at),
    }


def member_json(member):
    """A membership; the email only for owners (projects.members_of) and the member themself."""
    own = member.user.id == g.api_user.id
    return {
        "user_id": str(member.user.id),
        "username": member.user.username,
        "email": g.api_user.email if own else member.user.email,
        "role": member.role,
        "revision": member.revision,
        "created_at": iso(member.created_at),
    }


@bp.get("/projects")
def list_projects():
    """The caller's projects."""
    return jsonify([project_json(p, p.role) for p in projects.projects_for(g.api_user)])


@bp.post("/projects")
@accepts(api_input.ProjectCreate)
def create_project(data):
    """Create a project; the caller becomes its owner."""
    project = projects.create_project(
        g.api_user, str(data.get("name", "")), str(data.get("description", ""))
    )
    return jsonify(project_json(project, "owner")), 201


@bp.post("/projects/sample")
@accepts(api_input.SampleRequest)
def create_sample(data):
    """Create the sample project (the page's "Try a sample"): the project, the tables deployed,
    and "note", why none was when the deploy target is missing or refused."""
    made = sample.create_sample(g.api_user)
    body = {**project_json(made.project, "owner"), "deployed": made.deployed, "note": made.note}
    return jsonify(body), 201


@bp.get("/projects/<project_id>")
def get_project(project_id):
    """One project (a branch too: branch_of, fork_version and merged_at say so)."""
    granted = projects.access(g.api_user, project_id)
    fork_number = branches.fork_numbers([granted.project]).get(granted.project.id)
    return jsonify(project_json(granted.project, granted.role, fork_number))


@bp.patch("/projects/<project_id>")
@accepts(api_input.ProjectChange)
def patch_project(project_id, data):
    """Change name or description (editors); is_active, target_schema or approvals_required
    (owners), at a revision."""
    keys = ("name", "description", "is_active", "target_schema", "approvals_required")
    fields = {key: data[key] for key in keys if key in data}
    for key in ("name", "description", "target_schema"):
        if key in fields:
            fields[key] = str(fields[key])
    project = projects.update_project(g.api_user, project_id, revision_of(data), **fields)
    fork_number = branches.fork_numbers([project]).get(project.id)
    return jsonify(project_json(project, projects.access(g.api_user, project_id).role, fork_number))


@bp.delete("/projects/<project_id>")
@accepts(api_input.ProjectDelete)
def delete_project(project_id, data):
    """Delete a project and all it holds (owners). When it deployed tables, the body says
    {"schema": "drop", "confirm_name": <its name>} or {"schema": "keep"}."""
    projects.delete_project(g.api_user, project_id, data.get("schema"), data.get("confirm_name"))
    return "", 204


@bp.get("/projects/<project_id>/members")
def list_members(project_id):
    """The project's members and roles."""
    granted = projects.access(g.api_user, project_id)
    members = projects.members_of(granted.project, granted.can("owner"))
    return jsonify([member_json(m) for m in members])


@bp.post("/projects/<project_id>/members")
@accepts(api_input.MemberAdd)
def add_member(project_id, data):
    """Add a member by "username" or "email" with a "role" (owners)."""
    login = str(data.get("username") or data.get("email") or "")
    member = projects.add_member(g.api_user, project_id, login, str(data.get("role", "")))
    return jsonify(member_json(member)), 201


@bp.patch("/projects/<project_id>/members/<user_id>")
@accepts(api_input.MemberChange)
def change_member(project_id, user_id, data):
    """Change a member's role (owners)."""
    revision = revision_of(data) if "revision" in data else None
    member = projects.change_role(
        g.api_user, project_id, user_id, str(data.get("role", "")), revision
    )
    return jsonify(
        {"user_id": str(member.user_id), "role": member.role, "revision": member.revision}
    )


@bp.delete("/projects/<project_id>/members/<user_id>")
def remove_member(project_id, user_id):
    """Remove a member (owners)."""
    projects.remove_member(g.api_user, project_id, user_id)
    return "", 204
