"""Projects: list, create, rename inline, delete."""

from flask import Blueprint
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_login import current_user
from flask_login import login_required

from designer import projects
from designer.design import page_stamps
from designer.errors import ValidationFailed
from designer.sample import create_sample
from designer.settings import settings
from designer.views import block
from designer.views import form_revision
from designer.views import go
from designer.views import page_or_block
from designer.views import save_inline
from designer.web import htmx

bp = Blueprint("projects", __name__)
INDEX = "projects/index.html"
SHOW = "projects/show.html"


@bp.get("/")
def home():
    """Send visitors to their projects, or to sign in."""
    if current_user.is_authenticated:
        return redirect(url_for("projects.index"))
    return redirect(url_for("auth.login"))


@bp.get("/projects")
@login_required
def index():
    """The signed-in user's projects."""
    rows = projects.projects_for(current_user)
    return page_or_block(INDEX, "project_list", projects=rows, form=None, errors={})


@bp.get("/projects/new")
@login_required
def new():
    """The new-project form (inline for htmx, on the list page otherwise)."""
    rows = [] if request.headers.get("HX-Request") else projects.projects_for(current_user)
    return page_or_block(INDEX, "new_project_form", projects=rows, form={}, errors={})


@bp.post("/projects")
@login_required
def create():
    """Create a project owned by the signed-in user."""
    form = {
        "name": request.form.get("name", ""),
        "description": request.form.get("description", ""),
    }
    try:
        project = projects.create_project(current_user, **form)
    except ValidationFailed as exc:
        return block(INDEX, "new_project_form", 422, form=form, errors=exc.fields)
    flash(f"Project “{project.name}” created.", "success")
    return go("projects.show", project_id=project.id)


@bp.post("/projects/sample")
@login_required
def sample():
    """Create the sample project and open it; says so when its table could not be deployed."""
    made = create_sample(current_user)
    flash(
        f"Sample project “{made.project.name}” created: every tab has something in it.", "success"
    )
    if made.note:
        flash(made.note, "info")
    return go("projects.show", project_id=made.project.id)


@bp.get("/projects/<project_id>")
@login_required
def show(project_id):
    """A project's page: its tables (searchable) and recent activity."""
    from designer.views.tables import project_context

    granted = projects.access(current_user, project_id)
    stamp = page_stamps.project_stamp(granted.project.id)
    return render_template(
        SHOW, **project_context(granted), stamp=stamp, live_seconds=settings.live_poll_seconds
    )


@bp.get("/projects/<project_id>/header")
@login_required
def header(project_id):
    """The project's name and description (display block)."""
    granted = projects.access(current_user, project_id)
    if htmx:
        return block(SHOW, "project_header", access=granted, project=granted.project)
    return show(project_id)


@bp.get("/projects/<project_id>/header/edit")
@login_required
def edit_header(project_id):
    """The inline form renaming the project."""
    granted = projects.access(current_user, project_id, "editor")
    project = granted.project
    form = {
        "name": project.name,
        "description": project.description,
        "target_schema": project.target_schema,
        "approvals_required": project.approvals_required,
    }
    return block(
        SHOW,
        "project_header_form",
        project=project,
        form=form,
        errors={},
        revision=project.revision,
        owner=granted.can("owner"),
    )


@bp.put("/projects/<project_id>/header")
@login_required
def update_header(project_id):
    """Save the project's name and description."""
    granted = projects.access(current_user, project_id, "editor")
    form = {
        "name": request.form.get("name", ""),
        "description": request.form.get("description", ""),
    }
    for key in ("target_schema", "approvals_required"):
        if granted.can("owner") and key in request.form:
            form[key] = request.form[key]
    revision = form_revision()

    def save():
        return projects.update_project(current_user, granted.project.id, revision, **form)

    def again(status, current=None, **extra):
        shown = current or granted.project
        revision_shown = shown.revision if current else revision
        return block(SHOW, "project_header_form", status, project=shown, form=form,
                     revision=revision_shown, errors=extra.pop("errors", {}),
                     owner=granted.can("owner"), **extra)  # fmt: skip

    def saved(project):
        return block(SHOW, "project_header", access=granted, project=project)

    return save_inline(save, again, saved)


@bp.delete("/projects/<project_id>")
@login_required
def delete(project_id):
    """Delete the project and everything in it (owners only)."""
    granted = projects.access(current_user, project_id, "owner")
    name = granted.project.name
    choice = {key: request.values.get(key) for key in ("schema", "confirm_name")}
    try:
        projects.delete_project(current_user, project_id, **choice)
    except ValidationFailed as exc:
        left = projects.schema_on_delete(granted.project)
        return block("projects/members.html", "danger_zone", 422, access=granted,
                     project=granted.project, left=left, choice=choice, deployed=True,
                     errors=exc.fields)  # fmt: skip
    flash(f"Project “{name}” deleted.", "success")
    return go("projects.index")
