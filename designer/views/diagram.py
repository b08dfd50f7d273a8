"""The ER diagram page: drawn in the browser from the diagram's JSON, which the page polls
to follow teammates' edits."""

from flask import Blueprint
from flask import Response
from flask import jsonify
from flask import render_template
from flask import request
from flask import url_for
from flask_login import current_user
from flask_login import login_required

from designer import projects
from designer.design import schema_graph
from designer.interchange import exports
from designer.settings import settings

bp = Blueprint("diagram", __name__)


def requested_steps():
    raw = request.args.get("steps", "")
    return int(raw) if raw.isdigit() else raw or None


@bp.get("/projects/<project_id>/diagram")
@login_required
def show(project_id):
    """The project's ER diagram (focus=<table id>&steps=1|2|3|all chooses what is drawn)."""
    granted = projects.access(current_user, project_id)
    focus = request.args.get("focus", "")
    steps = request.args.get("steps", "")
    return render_template(
        "diagram/show.html",
        access=granted,
        project=granted.project,
        focus=focus,
        steps=steps,
        first_data_url=url_for(
            "diagram.data", project_id=project_id, focus=focus or None, steps=steps or None
        ),
        live_seconds=settings.live_poll_seconds,
        file_stem=exports.file_stem(projects.schema_of(granted.project), "diagram"),
    )


@bp.get("/projects/<project_id>/diagram.json")
@login_required
def data(project_id):
    """Tables, columns and foreign keys to draw; 204 while they still match `since`."""
    granted = projects.access(current_user, project_id)
    digest, body = schema_graph.graph_json(
        granted.project.id, request.args.get("focus") or None, requested_steps()
    )
    if request.args.get("since") == digest:
        return "", 204
    return Response(body, mimetype="application/json")


@bp.get("/projects/<project_id>/diagram/tables")
@login_required
def find_tables(project_id):
    """The tables a search of the diagram finds (q), best first: [[id, table name, name,
    rank], ...], rank 0 for a name equal to q, 1 for one starting with it."""
    granted = projects.access(current_user, project_id)
    found = schema_graph.search_tables(granted.project.id, request.args.get("q", ""))
    return jsonify({"tables": found})


@bp.get("/projects/<project_id>/diagram.mmd")
@login_required
def download(project_id):
    """The Mermaid source as a file."""
    granted = projects.access(current_user, project_id)
    return exports.download_mermaid(granted, request.args.get("focus") or None)
