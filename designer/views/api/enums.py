"""JSON API: a project's enum types (fields of the text family name them by id)."""

from flask import g
from flask import jsonify

from designer import api_input
from designer import projects
from designer.design import enums
from designer.models import ProjectEnum
from designer.views.api import bp
from designer.views.api.messages import accepts
from designer.views.api.messages import iso
from designer.views.api.messages import revision_of


def enum_json(enum):
    return {
        **enums.entry(enum),
        "project_id": str(enum.project_id),
        "created_at": iso(enum.created_at),
        "updated_at": iso(enum.updated_at),
        "revision": enum.revision,
    }


@bp.get("/projects/<project_id>/enums")
def list_enums(project_id):
    """The project's enums by name: {"enums": [...]}."""
    granted = projects.access(g.api_user, project_id)
    rows = ProjectEnum.select().where(ProjectEnum.project == granted.project.id)
    return jsonify({"enums": [enum_json(e) for e in rows.order_by(ProjectEnum.name)]})


@bp.post("/projects/<project_id>/enums")
@accepts(api_input.EnumInput)
def create_enum(project_id, data):
    """A new enum type: name, labels (in order)."""
    enum = enums.create_enum(g.api_user, project_id, data.get("name"), data.get("labels"))
    return jsonify(enum_json(enum)), 201


@bp.get("/enums/<enum_id>")
def get_enum(enum_id):
    """One enum."""
    _, enum = enums.enum_access(g.api_user, enum_id)
    return jsonify(enum_json(enum))


@bp.patch("/enums/<enum_id>")
@accepts(api_input.EnumChange)
def patch_enum(enum_id, data):
    """Rename it, or give its labels (only added or renamed in place), at a known revision."""
    enum = enums.update_enum(
        g.api_user, enum_id, revision_of(data), data.get("name"), data.get("labels")
    )
    return jsonify(enum_json(enum))


@bp.delete("/enums/<enum_id>")
def delete_enum(enum_id):
    """Remove an enum no field uses."""
    enums.delete_enum(g.api_user, enum_id)
    return "", 204
