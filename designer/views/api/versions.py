"""JSON API: versions, restore and diff."""

from flask import Response
from flask import g
from flask import jsonify
from flask import request
from flask import url_for

from designer import api_input
from designer import projects
from designer.database import ddl
from designer.database import plans
from designer.errors import ValidationFailed
from designer.history import versions
from designer.history.diff import summarize
from designer.views.api import bp
from designer.views.api.messages import accepts
from designer.views.api.messages import iso
from designer.views.api.messages import query

# What a version's GET adds only when asked (include=): each can be megabytes.
HEAVY = ("changes", "snapshot")
# Tables and relationships a large diff gives a page at a time.
PAGE = 100


def version_json(version, full=False, include=HEAVY):
    data = {
        "id": str(version.id),
        "project_id": str(version.project_id),
        "version_number": version.version_number,
        "schema_hash": version.schema_hash,
        "message": version.message,
        "parent_version_id": str(version.parent_version_id) if version.parent_version_id else None,
        "is_merged": version.is_merged,
        "automatic": version.automatic,
        "created_by": str(version.created_by_id) if version.created_by_id else None,
        "created_at": iso(version.created_at),
        "summary": version.change_summary,
    }
    if full and "changes" in include:
        data["changes"] = versions.changes_of(version)
    if full and "snapshot" in include:
        data["schema_snapshot"] = versions.snapshot_of(version)
    return data


@bp.get("/projects/<project_id>/versions")
def list_versions(project_id):
    """Versions newest first (before=<n>, limit); "next" continues the list."""
    granted = projects.access(g.api_user, project_id)
    limit = min(max(request.args.get("limit", 25, type=int), 1), 200)
    rows, before = versions.page_of(granted.project.id, request.args.get("before", type=int), limit)
    return jsonify({"versions": [version_json(v) for v in rows], "next": before})


@bp.post("/projects/<project_id>/versions")
@accepts(api_input.VersionCreate)
def save_version(project_id, data):
    """Save the working copy as a new version: {"message"}; 409 when nothing changed."""
    version = versions.save_version(g.api_user, project_id, data.get("message", ""))
    return jsonify(version_json(version, full=True)), 201


@bp.get("/projects/<project_id>/versions/<int:number>")
@query(
    include=("string", "heavy parts to add, comma-separated: changes, snapshot (the whole "
             "schema_snapshot, megabytes for thousands of tables); none by default"),
)  # fmt: skip
def get_version(project_id, number):
    """One version: its summary, and with include=changes,snapshot its changes and schema
    snapshot (export?version=<n> gives the design in other formats)."""
    granted = projects.access(g.api_user, project_id)
    asked = {part.strip() for part in request.args.get("include", "").split(",")}
    unknown = asked - {"", *HEAVY}
    if unknown:
        raise ValidationFailed(
            f"include takes {', '.join(HEAVY)}; not {', '.join(sorted(unknown))}.",
            {"include": "Unknown part."},
        )
    version = versions.get_version(granted.project.id, number)
    return jsonify(version_json(version, full=True, include=asked))


@bp.post("/projects/<project_id>/versions/<int:number>/restore")
@accepts(api_input.Restore)
def restore_version(project_id, number, data):
    """Make the working copy's design equal to version <n> ({"confirm": true} when that
    drops or retypes anything); returns the new version recording it."""
    confirmed = data.get("confirm") is True
    version = versions.restore(g.api_user, project_id, number, confirmed)
    return jsonify(version_json(version, full=True)), 201


@bp.get("/projects/<project_id>/diff")
@query(**{
    "from": ("string", "a version number; empty or absent: the working copy"),
    "to": ("string", "a version number or working (the default)"),
    "start": ("integer", "where a large diff's page starts (its next_start)"),
})  # fmt: skip
def diff(project_id):
    """Changes from=<n> to=<m|working>, and the migration SQL that makes them. When most
    of the design changed (1,000 tables or more), a page of tables and relationships at a
    time: "paged" is true, "next_start" continues, "summary" counts tables and
    relationships (a table changed: anything in it), and "sql" is null, "sql_url" giving
    the whole script."""
    granted = projects.access(g.api_user, project_id)
    old_ref, new_ref = request.args.get("from") or None, request.args.get("to", "working")
    start = max(request.args.get("start", 0, type=int), 0)
    paged = versions.compare_page(granted.project.id, old_ref, new_ref, start, PAGE)
    if paged is not None:
        where = {"project_id": project_id, "from": old_ref or "", "to": new_ref}
        return jsonify({
            "changes": paged.changes, "summary": paged.counts, "paged": True,
            "start": start, "next_start": paged.next_start, "sql": None,
            "sql_url": url_for("api.diff_sql", **where),
        })  # fmt: skip
    old, new, changes, key = versions.compare_keyed(granted.project.id, old_ref, new_ref)
    steps = plans.migration_between(projects.schema_of(granted.project), old, new, changes, key)
    sql = ddl.script(steps)
    return jsonify({"changes": changes, "summary": summarize(changes), "sql": sql})


@bp.get("/projects/<project_id>/diff.sql")
@query(**{
    "from": ("string", "a version number; empty or absent: the working copy"),
    "to": ("string", "a version number or working (the default)"),
})  # fmt: skip
def diff_sql(project_id):
    """The migration SQL from=<n> to=<m|working>, whole, as text (a large diff's sql_url)."""
    granted = projects.access(g.api_user, project_id)
    old_ref, new_ref = request.args.get("from") or None, request.args.get("to", "working")
    old, new, changes, key = versions.compare_keyed(granted.project.id, old_ref, new_ref)
    steps = plans.migration_between(projects.schema_of(granted.project), old, new, changes, key)
    return Response(ddl.script(steps), mimetype="text/plain")
