"""JSON API: export a design, preview and run imports."""

from flask import g
from flask import jsonify
from flask import request

from designer import api_input
from designer import projects
from designer.interchange import exports
from designer.interchange import import_database
from designer.interchange import imports
from designer.views.api import bp
from designer.views.api.messages import accepts


@bp.get("/projects/<project_id>/export")
def export(project_id):
    """The design as a file: format=sql|json|dbml|mermaid, version=<n> for a saved version."""
    fmt = request.args.get("format", "sql")
    version = request.args.get("version")
    return exports.download_design(g.api_user, project_id, fmt, version)


def imported_json(plan, version, project_id):
    return {
        **plan.as_dict(),
        "project_id": str(project_id),
        "version_number": version.version_number,
    }


@bp.post("/projects/<project_id>/import")
@accepts(api_input.ImportRequest)
def import_into(project_id, data):
    """Preview ({"source"}) or import ({"source", "confirm": true}) as a new version."""
    fmt = request.args.get("format", "sql")
    if not data.get("confirm"):
        return jsonify(imports.preview(g.api_user, project_id, fmt, data["source"]).as_dict())
    plan, version = imports.import_into(g.api_user, project_id, fmt, data["source"])
    return jsonify(imported_json(plan, version, version.project_id)), 201


@bp.post("/projects/import")
@accepts(api_input.ProjectImport)
def import_project(data):
    """Preview ({"source"}) or import ({"name", "source", "confirm": true}) as a new project."""
    fmt = request.args.get("format", "sql")
    if not data.get("confirm"):
        return jsonify(imports.preview(g.api_user, None, fmt, data["source"]).as_dict())
    project, plan, version = imports.import_new_project(
        g.api_user, data.get("name", ""), fmt, data["source"], data.get("description", "")
    )
    return jsonify(imported_json(plan, version, project.id)), 201


@bp.post("/projects/<project_id>/import/database")
@accepts(api_input.DatabaseImport)
def import_database_into(project_id, data):
    """Preview or import ({"schema", "url"?, "confirm"}) a live schema into a project."""
    projects.access(g.api_user, project_id, "editor")  # before connecting anywhere
    text = import_database.schema_ddl(g.api_user, data["schema"], data.get("url"))
    if not data.get("confirm"):
        return jsonify(
            {**imports.preview(g.api_user, project_id, "sql", text).as_dict(), "sql": text}
        )
    label = f"Imported schema {data['schema']}"
    plan, version = imports.import_into(g.api_user, project_id, "sql", text, label)
    return jsonify(imported_json(plan, version, version.project_id)), 201


@bp.post("/projects/import/database")
@accepts(api_input.DatabaseImport)
def import_database_project(data):
    """Preview or import ({"schema", "url"?, "name", "confirm"}) a live schema as a new
    project; a deploy target's schema that is exactly the design is taken over, deployed."""
    schema, url = data["schema"], data.get("url")
    text = import_database.schema_ddl(g.api_user, schema, url)
    if not data.get("confirm"):
        plan = (
            imports.preview(g.api_user, None, "sql", text)
            if url
            else imports.preview_schema_project(g.api_user, schema, text)
        )
        return jsonify({**plan.as_dict(), "sql": text})
    name, description = data.get("name") or schema, data.get("description", "")
    if url:
        project, plan, version = imports.import_new_project(
            g.api_user, name, "sql", text, description
        )
    else:
        project, plan, version = imports.import_schema_project(
            g.api_user, name, schema, text, description
        )
    return jsonify(imported_json(plan, version, project.id)), 201
