"""Project members and their roles (managed by owners)."""

from flask import Blueprint
from flask import render_template
from flask import request
from flask_login import current_user
from flask_login import login_required

from designer import projects
from designer.errors import Conflict
from designer.errors import StaleRevision
from designer.errors import ValidationFailed
from designer.views import block

bp = Blueprint("members", __name__)
TEMPLATE = "projects/members.html"


def context(project_id, **extra):
    granted = projects.access(current_user, project_id)
    return {
        "access": granted,
        "project": granted.project,
        "members": projects.members_of(granted.project, granted.can("owner")),
        "roles": projects.ROLES,
        "role_options": [(role, role.capitalize()) for role in projects.ROLES],
        "form": {},
        "errors": {},
        "notice": None,
        # A deployed project's Delete asks what becomes of its schema, not "are you sure?".
        "deployed": granted.can("owner") and projects.has_deployed(granted.project),
        **extra,
    }


def section(project_id, status=200, **extra):
    """The members section, read afresh (a refused change shows the role still held)."""
    return block(TEMPLATE, "members_section", status, **context(project_id, **extra))


@bp.get("/projects/<project_id>/members")
@login_required
def index(project_id):
    """Who belongs to the project, and with which role."""
    return render_template(TEMPLATE, **context(project_id))


@bp.post("/projects/<project_id>/members")
@login_required
def add(project_id):
    """Add a member by username or email."""
    form = {"login": request.form.get("login", ""), "role": request.form.get("role", "editor")}
    try:
        member = projects.add_member(current_user, project_id, form["login"], form["role"])
    except ValidationFailed as exc:
        return section(project_id, 422, form=form, errors=exc.fields)
    return section(
        project_id, notice=("success", f"Added {member.user.username} as {member.role}.")
    )


@bp.put("/projects/<project_id>/members/<user_id>")
@login_required
def change_role(project_id, user_id):
    """Give a member another role."""
    revision = request.form.get("revision", type=int)
    try:
        member = projects.change_role(
            current_user, project_id, user_id, request.form.get("role", ""), revision
        )
    except (Conflict, StaleRevision, ValidationFailed) as exc:
        return section(project_id, exc.status, notice=("error", exc.message))
    return section(project_id, notice=("success", f"{member.user.username} is now {member.role}."))


@bp.delete("/projects/<project_id>/members/<user_id>")
@login_required
def remove(project_id, user_id):
    """Remove a member from the project."""
    try:
        projects.remove_member(current_user, project_id, user_id)
    except Conflict as exc:
        return section(project_id, exc.status, notice=("error", exc.message))
    return section(project_id, notice=("success", "Member removed."))
