"""JSON API: relationships."""

from flask import g
from flask import jsonify
from flask import request

from designer import api_input
from designer import projects
from designer.design import relationships
from designer.history.snapshot import relationship_entry
from designer.views.api import bp
from designer.views.api.messages import accepts
from designer.views.api.messages import iso
from designer.views.api.messages import lock_token
from designer.views.api.messages import query
from designer.views.api.messages import revision_of

PAGE = 50  # relationships a page holds unless `limit` says otherwise
MAX_PAGE = 500


def relationship_json(rel):
    """The relationship as versions store it, plus its project, times and revision."""
    return {
        **relationship_entry(rel),
        "project_id": str(rel.project_id),
        "created_at": iso(rel.created_at),
        "updated_at": iso(rel.updated_at),
        "revision": rel.revision,
    }


@bp.get("/projects/<project_id>/relationships")
@query(
    limit=("integer", f"relationships per page, 1–{MAX_PAGE} (default {PAGE})"),
    after=("string", "the name to continue after: the previous page's next"),
)
def list_relationships(project_id):
    """A page of the project's relationships by name: {"relationships", "next"}; "next"
    (null on the last page) is the `after` of the next page."""
    granted = projects.access(g.api_user, project_id)
    limit = min(max(request.args.get("limit", PAGE, type=int), 1), MAX_PAGE)
    rows, after = relationships.page_of(granted.project.id, request.args.get("after"), limit)
    return jsonify({"relationships": [relationship_json(r) for r in rows], "next": after})


@bp.post("/projects/<project_id>/relationships")
@accepts(api_input.RelationshipCreate)
def create_relationship(project_id, data):
    """Link tables: source (one) / target (many), target_field_id or a new <source>_id,
    cascade_config; relationship_type "many_to_many" builds a junction table."""
    rel = relationships.create_relationship(g.api_user, project_id, data, lock_token())
    return jsonify(relationship_json(rel)), 201


@bp.get("/relationships/<rel_id>")
def get_relationship(rel_id):
    """One relationship."""
    _, rel = relationships.relationship_access(g.api_user, rel_id)
    return jsonify(relationship_json(rel))


@bp.patch("/relationships/<rel_id>")
@accepts(api_input.RelationshipChange)
def patch_relationship(rel_id, data):
    """Rename or change cascade_config / on_delete / on_update, at a known revision."""
    if isinstance(data.get("cascade_config"), dict):
        data = {**data["cascade_config"], **data}
    rel = relationships.update_relationship(
        g.api_user, rel_id, revision_of(data), data, lock_token()
    )
    return jsonify(relationship_json(rel))


@bp.delete("/relationships/<rel_id>")
def delete_relationship(rel_id):
    """Remove a relationship (the foreign key field stays)."""
    relationships.delete_relationship(g.api_user, rel_id, lock_token())
    return "", 204
