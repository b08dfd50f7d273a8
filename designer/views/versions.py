"""Versions: the timeline, saving, reading a version, comparing two, restoring one."""

from flask import Blueprint
from flask import flash
from flask import render_template
from flask import request
from flask_login import current_user
from flask_login import login_required

from designer import projects
from designer.database import ddl
from designer.errors import Conflict
from designer.errors import ValidationFailed
from designer.history import versions
from designer.history.diff import counts_text
from designer.history.diff import describe
from designer.history.diff import summarize
from designer.history.diff import summary_text
from designer.views import block
from designer.views import go
from designer.views import page_or_block

bp = Blueprint("versions", __name__)
TIMELINE = "versions/timeline.html"


def choices(project_id):
    """Every version number for the compare form (numbers and messages only)."""
    rows, _ = versions.page_of(project_id, limit=1000)
    return [(str(v.version_number), f"v{v.version_number} — {v.message[:40]}") for v in rows]


def timeline_context(granted, **extra):
    rows, before = versions.page_of(granted.project.id, request.args.get("before", type=int))
    unsaved = versions.unsaved_changes(granted.project.id)
    return {
        "access": granted,
        "project": granted.project,
        "versions": rows,
        "next_before": before,
        "unsaved": unsaved,
        "unsaved_text": summary_text(unsaved),
        "counts_text": counts_text,
        "version_choices": choices(granted.project.id),
        "form": {},
        "errors": {},
        **extra,
    }


@bp.get("/projects/<project_id>/timeline")
@login_required
def timeline(project_id):
    """Versions newest first, with the working copy's unsaved changes on top."""
    granted = projects.access(current_user, project_id)
    name = "version_rows" if request.args.get("before") else "timeline_body"
    return page_or_block(TIMELINE, name, **timeline_context(granted))


@bp.post("/projects/<project_id>/versions")
@login_required
def save(project_id):
    """Save the working copy as a new version, with a message."""
    message = request.form.get("message", "")
    try:
        version = versions.save_version(current_user, project_id, message)
    except (ValidationFailed, Conflict) as exc:
        granted = projects.access(current_user, project_id)
        errors = exc.fields or {"message": exc.message}
        context = timeline_context(granted, form={"message": message}, errors=errors)
        return block(TIMELINE, "timeline_body", 422, **context)
    flash(f"Saved version {version.version_number}.", "success")
    return go("versions.timeline", project_id=project_id)


@bp.get("/projects/<project_id>/versions/<int:number>")
@login_required
def show(project_id, number):
    """One version's schema, read-only."""
    granted = projects.access(current_user, project_id)
    version = versions.get_version(granted.project.id, number)
    schema = versions.snapshot_of(version)
    return render_template(
        "versions/show.html", access=granted, project=granted.project, version=version,
        schema=schema, describe=describe, summary=counts_text(version.change_summary),
    )  # fmt: skip


@bp.get("/projects/<project_id>/diff")
@login_required
def compare(project_id):
    """Two versions (or a version and the working copy) side by side."""
    granted = projects.access(current_user, project_id)
    old_ref, new_ref = request.args.get("from", ""), request.args.get("to", "working")
    old, new, changes = versions.compare(granted.project.id, old_ref or None, new_ref)
    return render_template(
        "versions/diff.html", access=granted, project=granted.project, changes=changes,
        old=old, new=new, old_ref=old_ref, new_ref=new_ref, describe=describe,
        counts=summarize(changes), summary=summary_text(changes),
        version_choices=choices(granted.project.id),
        sql=ddl.script(ddl.migration(granted.project.target_schema, old, new, changes)),
    )  # fmt: skip


@bp.post("/projects/<project_id>/versions/<int:number>/restore")
@login_required
def restore(project_id, number):
    """Make the working copy equal to a version (saved as a new version)."""
    # The page's confirmation dialog names what a restore may drop.
    version = versions.restore(current_user, project_id, number, confirm=True)
    flash(f"Restored version {number} as version {version.version_number}.", "success")
    return go("versions.timeline", project_id=project_id)
