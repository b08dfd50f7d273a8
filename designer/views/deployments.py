"""Deploy: the Deploy tab (pending SQL, dry run, deploy, history), drift, export, drop."""

import contextlib

from flask import Blueprint
from flask import flash
from flask import render_template
from flask import request
from flask_login import current_user
from flask_login import login_required

from designer import merge_requests
from designer import projects
from designer.database import activations
from designer.database import branch_dry_run
from designer.database import deploy
from designer.database import drift
from designer.database import pending
from designer.database import plans
from designer.database import records
from designer.database.ddl_terms import KINDS
from designer.design import table_list
from designer.design import tables
from designer.errors import Conflict
from designer.errors import Locked
from designer.errors import ValidationFailed
from designer.interchange import downloads
from designer.interchange import exports
from designer.settings import settings
from designer.views import block
from designer.views import critical_for_change
from designer.views import go
from designer.views import page_or_block
from designer.web import htmx

bp = Blueprint("deployments", __name__)
PAGE = "deployments/index.html"
ACTIVATE = "deployments/activate.html"
SHOW = "deployments/show.html"


def table_names(plan):
    names = {tid: t["table_name"] for tid, t in plan.deployed["tables"].items()}
    names.update({tid: t["table_name"] for tid, t in plan.desired["tables"].items()})
    return names


def grouped(plan):
    """A plan's steps by table name, and how many steps of each safety class."""
    names = table_names(plan)
    groups = {}
    for step in plan.steps:
        groups.setdefault(names.get(step.table_id, "schema"), []).append(step)
    counted = [step.kind for step in plan.steps]
    return groups, {kind: counted.count(kind) for kind in KINDS if kind in counted}


def start_of(values):
    return max(values.get("start", 0, type=int), 0)


def deploy_context(granted, start=0, **extra):
    found = pending.viewed(granted.project, start)
    return {
        "access": granted, "project": granted.project, "pending": found,
        "history": records.history(granted.project.id), "result": None, "message": None,
        "drafts": table_list.status_counts(granted.project.id)["draft"],
        "shown_steps": settings.page_size, **extra,
    }  # fmt: skip


@bp.get("/projects/<project_id>/deploy")
@login_required
def index(project_id):
    """The Deploy tab: what is pending, as exact SQL with its safety classes, and history."""
    granted = projects.access(current_user, project_id)
    start = start_of(request.args)
    context = deploy_context(granted, start)
    if start and htmx:
        return block(PAGE, "pending_items", **context)
    return page_or_block(PAGE, "deploy_body", **context)


@contextlib.contextmanager
def critical_locks(table_ids):
    """Critical locks on these tables for one confirmed destructive deploy."""
    with contextlib.ExitStack() as stack:
        for table_id in sorted(table_ids):
            stack.enter_context(critical_for_change(table_id))
        yield


@bp.post("/projects/<project_id>/deployments")
@login_required
def run(project_id):
    """Dry-run or deploy the pending changes; shows each step's outcome."""
    granted = projects.access(current_user, project_id, "editor")
    dry_run = request.form.get("action") != "deploy"
    confirm = bool(request.form.get("confirm_destructive")) and not dry_run

    def act():
        steps = plans.Plan(granted.project).steps if confirm else []
        with critical_locks(destructive_tables(steps)):
            return deploy.deploy(current_user, granted.project.id, None, dry_run, confirm)

    return answered(granted, act)


@bp.post("/projects/<project_id>/branch-dry-run")
@login_required
def dry_run_branch(project_id):
    """Dry-run a branch's merged plan on main's database (rolled back): its risks."""
    granted = projects.access(current_user, project_id, "editor")
    offered = merge_requests.request_for_branch(granted.project.id)
    resolutions = offered.resolutions if offered is not None and offered.state == "open" else None
    shown = {"project": granted.project, "access": granted, "branch_run": None}
    try:
        shown["branch_run"] = branch_dry_run.dry_run(current_user, granted.project.id, resolutions)
    except (Conflict, ValidationFailed) as exc:
        return block(PAGE, "branch_dry_run", 422, **shown, branch_message=exc.message)
    return block(PAGE, "branch_dry_run", **shown, branch_message=None)


def destructive_tables(steps):
    return {s.table_id for s in steps if s.kind == "destructive" and s.table_id}


def answered(granted, act):
    """The Deploy tab showing what `act()` recorded, or why it was refused (422)."""
    try:
        result = act()
    except (Conflict, Locked, ValidationFailed) as exc:
        return block(PAGE, "deploy_body", 422, **deploy_context(granted, message=exc.message))
    return block(PAGE, "deploy_body", **deploy_context(granted, result=result))


def chosen_tables(values):
    """The tables a form or link chooses: table_ids (repeated), or all_drafts."""
    all_drafts = bool(values.get("all_drafts"))
    # "Activate all" on the table list sends the ticked boxes too: all of them wins.
    table_ids = [] if all_drafts else [raw for raw in values.getlist("table_ids") if raw]
    return table_ids, all_drafts


def activation_context(granted, table_ids, all_drafts, start=0, **extra):
    """The review of an activation: the chosen tables and what activating them runs (a page
    of its tables from `start`), or (message) why they cannot be activated."""
    context = {
        "access": granted, "project": granted.project, "table_ids": table_ids,
        "all_drafts": all_drafts, "chosen": [], "pending": None, "result": None,
        "message": None,
    }  # fmt: skip
    try:
        chosen, found = activations.preview(
            current_user, granted.project.id, table_ids, all_drafts, start
        )
    except (Conflict, ValidationFailed) as exc:
        return {**context, "message": exc.message, **extra}
    return {**context, "chosen": chosen, "pending": found, **extra}


@bp.get("/projects/<project_id>/activations/new")
@login_required
def review_activation(project_id):
    """What activating the chosen Draft tables (or all of them) would run, to dry-run or apply."""
    granted = projects.access(current_user, project_id, "editor")
    table_ids, all_drafts = chosen_tables(request.args)
    start = start_of(request.args)
    context = activation_context(granted, table_ids, all_drafts, start)
    if start and htmx and context["pending"] is not None:
        return block(ACTIVATE, "pending_items", **context)
    # Nothing to activate (or a stale link) is said on the page: reading it refuses nothing.
    return page_or_block(ACTIVATE, "activation_body", **context)


@bp.post("/projects/<project_id>/activations")
@login_required
def activate(project_id):
    """Activate the chosen Draft tables in one plan and one transaction (or dry-run it)."""
    granted = projects.access(current_user, project_id, "editor")
    table_ids, all_drafts = chosen_tables(request.form)
    dry_run = request.form.get("action") != "activate"
    confirm = bool(request.form.get("confirm_destructive")) and not dry_run
    try:
        steps = []
        if confirm:
            steps = activations.planned(current_user, granted.project.id, table_ids, all_drafts)
            steps = steps.steps
        with critical_locks(destructive_tables(steps)):
            done = activations.activate(
                current_user, granted.project.id, table_ids, all_drafts, dry_run, confirm
            )
    except (Conflict, Locked, ValidationFailed) as exc:
        context = activation_context(granted, table_ids, all_drafts)
        return page_or_block(
            ACTIVATE, "activation_body", 422, **{**context, "message": exc.message}
        )
    if dry_run:
        context = activation_context(granted, table_ids, all_drafts, result=done.deployment)
        return page_or_block(ACTIVATE, "activation_body", **context)
    count = len(done.tables)
    where = f" and deployed to {done.deployment.target_schema}" if done.deployment else ""
    flash(f"{count} table{'s are' if count != 1 else ' is'} now Active{where}.", "success")
    return go("deployments.index", project_id=granted.project.id)


@bp.get("/projects/<project_id>/deployments/<deployment_id>")
@login_required
def show(project_id, deployment_id):
    """One deployment: its SQL, each step's outcome, the error if any."""
    granted = projects.access(current_user, project_id)
    start = max(request.args.get("start", 0, type=int), 0)
    page = (start, settings.page_size)
    row = records.get_deployment(current_user, granted.project.id, deployment_id, page)
    end = start + settings.page_size
    context = {
        "access": granted, "project": granted.project, "deployment": row,
        "next_start": end if end < row.step_count else None,
    }  # fmt: skip
    if start and htmx:
        return block(SHOW, "step_items", **context)
    return render_template(SHOW, **context)


@bp.get("/projects/<project_id>/deployments/<deployment_id>/deployment.sql")
@login_required
def sql(project_id, deployment_id):
    """Download the SQL a deployment ran."""
    granted = projects.access(current_user, project_id)
    row = records.deployment_heading(granted.project.id, deployment_id)
    stem = exports.file_stem(row.target_schema, "deploy", f"{row.created_at:%Y%m%d-%H%M%S}")
    # A deployment's SQL is written with its row and never changes: kept under its id.
    return downloads.download(
        granted.project.id,
        ["deployment", str(row.id)],
        ["deployment", str(row.id)],
        f"{stem}.sql",
        "application/sql",
        lambda: records.deployment_sql(granted.project.id, row.id),
    )


@bp.get("/projects/<project_id>/drift")
@login_required
def drift_report(project_id):
    """Whether the target schema still holds what was deployed (loaded after the page)."""
    granted = projects.access(current_user, project_id)
    # A check still building the expected catalog answers with its progress, and asks again.
    report = drift.check(current_user, granted.project.id, settings.drift_build_seconds)
    on_tab = request.args.get("from") == "deploy"
    context = {"access": granted, "project": granted.project, "report": report}
    if isinstance(report, drift.Progress):
        return block(PAGE, "drift_progress", poll_url=request.full_path, **context)
    return block(PAGE, "drift", on_deploy_tab=on_tab, **context)


@bp.post("/projects/<project_id>/drift/redeploy")
@login_required
def redeploy(project_id):
    """Put the target back to what was last deployed (dry run first, like a deploy)."""
    granted = projects.access(current_user, project_id, "editor")
    dry_run = request.form.get("action") != "redeploy"
    confirm = bool(request.form.get("confirm_destructive")) and not dry_run
    # One line of the report only, when its form names it.
    difference = request.form.get("difference") or None

    def act():
        steps = drift.repair_steps(current_user, granted.project.id, difference) if confirm else []
        with critical_locks(destructive_tables(steps)):
            return drift.redeploy(current_user, granted.project.id, confirm, dry_run, difference)

    return answered(granted, act)


@bp.post("/projects/<project_id>/drift/adopt")
@login_required
def adopt(project_id):
    """Take the target's schema (or one line of the report) as the design of its tables."""
    granted = projects.access(current_user, project_id, "editor")
    difference = request.form.get("difference") or None
    return answered(granted, lambda: drift.adopt(current_user, granted.project.id, difference))


@bp.get("/projects/<project_id>/export.sql")
@login_required
def export(project_id):
    """Download the design's full CREATE script (the Import & export tab's SQL export)."""
    return exports.download_design(current_user, project_id, "sql")


@bp.post("/tables/<table_id>/drop")
@login_required
def drop(table_id):
    """Drop a Deleted table from the database: critical lock, its name typed, a confirmed plan."""
    _, table = tables.table_access(current_user, table_id, "editor")
    typed = request.form.get("confirm_name", "")
    deploy.refuse_drop(table, typed)  # before the critical lock, which leaves a history row
    with critical_for_change(table.id):
        result = deploy.drop_table(current_user, table.id, typed)
    if result.status == "applied":
        flash(f"Dropped {table.table_name} from {result.target_schema}.", "success")
    else:
        flash(f"Dropping {table.table_name} failed; nothing changed. {result.error}", "error")
    return go("tables.show", table_id=table.id)
