"""JSON API: deployments and drift."""

from flask import g
from flask import jsonify
from flask import request

from designer import api_input
from designer import projects
from designer.database import activations
from designer.database import deploy
from designer.database import drift
from designer.database import records
from designer.error_pages import error_body
from designer.errors import Conflict
from designer.errors import Locked
from designer.settings import settings
from designer.views.api import bp
from designer.views.api.messages import accepts
from designer.views.api.messages import iso

STEP_KEYS = ("sql", "kind", "reason", "affected_rows", "outcome", "duration_ms", "error")


def deployment_json(row, full=True):
    """The deployment; a listing's leave out its steps and SQL (None)."""
    return {
        "id": str(row.id),
        "project_id": str(row.project_id),
        "status": row.status,
        "version_id": str(row.version_id) if row.version_id else None,
        "target_schema": row.target_schema,
        "from_hash": row.from_hash,
        "to_hash": row.to_hash,
        "steps": [{k: step.get(k) for k in STEP_KEYS} for step in row.plan] if full else None,
        "sql": row.sql if full else None,
        "error": row.error,
        "duration_ms": row.duration_ms,
        "created_by": str(row.created_by_id) if row.created_by_id else None,
        "created_at": iso(row.created_at),
    }


def recorded(run, shown=deployment_json):
    """201 with the Deployment `run` recorded, or 409/423 listing the steps to confirm."""
    try:
        row = run()
    except (Conflict, Locked) as exc:
        if "steps" not in exc.details:
            raise
        response, status = error_body(exc.status, exc.code, exc.message)
        return jsonify({**response.json, "steps": exc.details["steps"]}), status
    return jsonify(shown(row)), 201


@bp.post("/projects/<project_id>/deployments")
@accepts(api_input.DeploymentRequest)
def create_deployment(project_id, data):
    """Dry-run or deploy pending changes: {"table_ids"?, "dry_run", "confirm_destructive"}."""
    table_ids = data.get("table_ids")
    dry_run, confirm = data.get("dry_run") is True, data.get("confirm_destructive") is True
    return recorded(lambda: deploy.deploy(g.api_user, project_id, table_ids, dry_run, confirm))


def activation_json(done):
    return {
        "dry_run": done.dry_run,
        "tables": [
            {"id": str(t.id), "table_name": t.table_name, "status": t.status} for t in done.tables
        ],
        "deployment": deployment_json(done.deployment) if done.deployment else None,
    }


@bp.post("/projects/<project_id>/activations")
@accepts(api_input.ActivationRequest)
def create_activation(project_id, data):
    """Activate several Draft tables in one plan and one transaction, in dependency order:
    {"table_ids": [...]} or {"all_drafts": true}, with "dry_run" and "confirm_destructive"."""
    dry_run, confirm = data.get("dry_run") is True, data.get("confirm_destructive") is True
    table_ids, all_drafts = data.get("table_ids"), data.get("all_drafts") is True

    def run():
        return activations.activate(g.api_user, project_id, table_ids, all_drafts, dry_run, confirm)

    return recorded(run, activation_json)


@bp.get("/projects/<project_id>/deployments")
def list_deployments(project_id):
    """The project's deployments and dry runs, newest first, without their steps and SQL
    (before=<deployment id>, limit); "next" continues the list."""
    granted = projects.access(g.api_user, project_id)
    limit = min(max(request.args.get("limit", 50, type=int), 1), 200)
    before = request.args.get("before") or None
    rows = records.history(granted.project.id, limit + 1, before)
    more = len(rows) > limit
    listed = [deployment_json(r, full=False) for r in rows[:limit]]
    return jsonify({"deployments": listed, "next": listed[-1]["id"] if more else None})


@bp.get("/projects/<project_id>/deployments/<deployment_id>")
def get_deployment(project_id, deployment_id):
    """One deployment with its steps, SQL and outcome."""
    return jsonify(deployment_json(records.get_deployment(g.api_user, project_id, deployment_id)))


@bp.post("/tables/<table_id>/drop")
@accepts(api_input.TableDrop)
def drop_table(table_id, data):
    """Drop a Deleted table from the database: {"confirm_name"}, holding its critical lock."""
    typed = data.get("confirm_name", "")
    return recorded(lambda: deploy.drop_table(g.api_user, table_id, typed))


@bp.get("/projects/<project_id>/drift")
def get_drift(project_id):
    """Whether the target schema still holds what was last deployed; 202 with the progress
    of building the expected catalog while that is under way (ask again after Retry-After)."""
    report = drift.check(g.api_user, project_id, settings.drift_build_seconds)
    if isinstance(report, drift.Progress):
        checking = {"checking": True, "tables_built": report.built, "tables": report.total}
        return jsonify(checking), 202, {"Retry-After": "1"}
    items = [
        {"key": d.key, "line": d.line, "folded": d.folded, "destructive": d.destructive}
        for d in report.items
    ]
    return jsonify(
        {"in_sync": not report.differences, "differences": report.differences, "items": items}
    )


@bp.post("/projects/<project_id>/drift")
@accepts(api_input.DriftResolution)
def resolve_drift(project_id, data):
    """Resolve drift: {"resolve": "redeploy"} puts back what was deployed (with "dry_run",
    "confirm_destructive"); {"resolve": "adopt"} takes the database's schema as the design.
    With "difference" (an item's "key" from GET), only that difference is resolved."""
    difference = data.get("difference")
    if data["resolve"] == "adopt":
        return recorded(lambda: drift.adopt(g.api_user, project_id, difference))
    dry_run, confirm = data.get("dry_run") is True, data.get("confirm_destructive") is True
    return recorded(lambda: drift.redeploy(g.api_user, project_id, confirm, dry_run, difference))
