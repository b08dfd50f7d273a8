"""Enums: the project's enum types, created and evolved (labels added or renamed in place)."""

from flask import Blueprint
from flask import flash
from flask import render_template
from flask import request
from flask_login import current_user
from flask_login import login_required

from designer import projects
from designer.design import enums
from designer.errors import ValidationFailed
from designer.models import ProjectEnum
from designer.views import form_revision
from designer.views import go

bp = Blueprint("enums", __name__)
TEMPLATE = "projects/enums.html"


def page(granted, status=200, form=None, errors=None, editing=None):
    rows = ProjectEnum.select().where(ProjectEnum.project == granted.project.id)
    return (
        render_template(
            TEMPLATE,
            access=granted,
            project=granted.project,
            enums=list(rows.order_by(ProjectEnum.name)),
            form=form or {},
            errors=errors or {},
            editing=editing,
        ),
        status,
    )


@bp.get("/projects/<project_id>/enums")
@login_required
def index(project_id):
    """The project's enums and the form adding one."""
    return page(projects.access(current_user, project_id))


@bp.post("/projects/<project_id>/enums")
@login_required
def create(project_id):
    granted = projects.access(current_user, project_id, "editor")
    form = {key: request.form.get(key, "") for key in ("name", "labels")}
    try:
        enum = enums.create_enum(current_user, granted.project.id, form["name"], form["labels"])
    except ValidationFailed as exc:
        return page(granted, 422, form=form, errors=exc.fields)
    flash(f"Enum {enum.name} created.", "success")
    return go("enums.index", project_id=granted.project.id)


@bp.post("/enums/<enum_id>")
@login_required
def update(enum_id):
    granted, enum = enums.enum_access(current_user, enum_id, "editor")
    form = {key: request.form.get(key, "") for key in ("name", "labels")}
    try:
        enums.update_enum(current_user, enum.id, form_revision(), form["name"], form["labels"])
    except ValidationFailed as exc:
        return page(granted, 422, form=form, errors=exc.fields, editing=str(enum.id))
    flash(f"Enum {form['name'].strip()} saved.", "success")
    return go("enums.index", project_id=granted.project.id)
