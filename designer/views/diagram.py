"""The ER diagram page: Mermaid source rendered in the browser, refreshed as the schema changes."""

import hashlib

from flask import Blueprint
from flask import Response
from flask import render_template
from flask import request
from flask_login import current_user
from flask_login import login_required
from slugify import slugify

from designer import diagram
from designer import projects
from designer.history import snapshot
from designer.views import block

bp = Blueprint("diagram", __name__)
TEMPLATE = "diagram/show.html"
# Beyond this many tables the page starts focused on one table and its neighbours.
FOCUS_ABOVE = 60


def diagram_context(project_id):
    schema = snapshot.build(project_id)
    tables = sorted(diagram.live_tables(schema).values(), key=lambda t: t["table_name"])
    focus = request.args.get("focus") or None
    show_all = request.args.get("all") == "1"
    if focus is None and not show_all and len(tables) > FOCUS_ABOVE:
        focus = tables[0]["id"]
    source = diagram.mermaid(schema, focus)
    return {
        "source": source,
        "source_hash": hashlib.sha256(source.encode()).hexdigest()[:16],
        "tables": tables,
        "focus": focus,
        "show_all": show_all,
        "too_many": len(tables) > FOCUS_ABOVE,
    }


@bp.get("/projects/<project_id>/diagram")
@login_required
def show(project_id):
    """The project's ER diagram (focus=<table id> shows one table and its neighbours)."""
    granted = projects.access(current_user, project_id)
    return render_template(
        TEMPLATE, access=granted, project=granted.project, **diagram_context(granted.project.id)
    )


@bp.get("/projects/<project_id>/diagram/source")
@login_required
def source(project_id):
    """The Mermaid source, or 204 while it still matches the page's (`since`)."""
    granted = projects.access(current_user, project_id)
    context = diagram_context(granted.project.id)
    if request.args.get("since") == context["source_hash"]:
        return "", 204
    return block(TEMPLATE, "diagram_source", project=granted.project, **context)


@bp.get("/projects/<project_id>/diagram.mmd")
@login_required
def download(project_id):
    """The Mermaid source as a file."""
    granted = projects.access(current_user, project_id)
    text = diagram.mermaid(snapshot.build(granted.project.id), request.args.get("focus") or None)
    name = slugify(granted.project.name, separator="_")[:60] or "schema"
    return Response(
        text,
        mimetype="text/plain",
        headers={"Content-Disposition": f'attachment; filename="{name}.mmd"'},
    )
