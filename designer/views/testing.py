"""Routes that exist only when TESTING: a deliberately broken view, to show that row-level
security holds when a view forgets `access()`. Never registered in a served app."""

from flask import Blueprint
from flask import jsonify
from flask_login import current_user
from flask_login import login_required

from designer import rls
from designer.db import database
from designer.db import parse_id
from designer.models import DataField
from designer.models import DataTable
from designer.models import Project
from designer.views import api

bp = Blueprint("testing", __name__, url_prefix="/test")


@bp.get("/unchecked/projects/<project_id>")
@login_required
def unchecked_project(project_id):
    """A project's name, tables and fields WITHOUT the access() check a real view makes."""
    project_id = parse_id(project_id, "project")
    project = Project.get_or_none(Project.id == project_id)
    tables = DataTable.select(DataTable.name).where(DataTable.project == project_id)
    fields = DataField.select(DataField.name).join(DataTable).where(DataTable.project == project_id)
    return jsonify(
        {
            "project": project.name if project else None,
            "tables": [t.name for t in tables],
            "fields": [f.name for f in fields],
        }
    )


@bp.get("/acting")
def acting():
    """Which connection served this request, and the user it acts for (signed in or not)."""
    current_user.is_authenticated  # noqa: B018  (loads the session's user, as any view would)
    return backend_and_user()


@bp.get("/api/acting")
def api_acting():
    """The same, for a request authenticated by an API token as the API does it."""
    api.authenticate()
    return backend_and_user()


def backend_and_user():
    backend = database.execute_sql("SELECT pg_backend_pid()").fetchone()[0]
    return jsonify({"backend": backend, "user": rls.acting_user()})
