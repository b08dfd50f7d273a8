"""Versions: the timeline, saving, reading a version, comparing two, restoring one."""

from flask import Blueprint
from flask import Response
from flask import flash
from flask import render_template
from flask import request
from flask_login import current_user
from flask_login import login_required

from designer import projects
from designer.database import ddl
from designer.database import plans
from designer.errors import Conflict
from designer.errors import ValidationFailed
from designer.history import versions
from designer.history.diff import counts_text
from designer.history.diff import describe
from designer.history.diff import summarize
from designer.history.diff import summary_text
from designer.settings import settings
from designer.views import block
from designer.views import go
from designer.views import page_or_block
from designer.web import htmx

bp = Blueprint("versions", __name__)
TIMELINE = "versions/timeline.html"
DIFF = "versions/diff.html"
SHOW = "versions/show.html"
# The compare page shows this many statements of the migration; the API gives them all.
SQL_SHOWN = 200


def choices(project_id):
    """Every version number for the compare form (numbers and messages only)."""
    rows, _ = versions.page_of(project_id, limit=1000)
    return [(str(v.version_number), f"v{v.version_number} — {v.message[:40]}") for v in rows]


def timeline_context(granted, **extra):
    # Versions the designer saved by itself (deploys, before imports) are folded until asked.
    shown = request.args.get("automatic") == "shown"
    before = request.args.get("before", type=int)
    rows, next_before = versions.page_of(granted.project.id, before, automatic=shown)
    unsaved = versions.unsaved_changes(granted.project.id)
    return {
        "access": granted,
        "project": granted.project,
        "versions": rows,
        "next_before": next_before,
        "automatic_shown": shown,
        "automatic_count": versions.automatic_count(granted.project.id),
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
    """One version's schema, read-only: its tables, then its relationships, a page at a time
    (`tables` and `relationships`: how many of each were shown before)."""
    granted = projects.access(current_user, project_id)
    version = versions.get_version(granted.project.id, number)
    tables_from = max(request.args.get("tables", 0, type=int), 0)
    rels_from = max(request.args.get("relationships", 0, type=int), 0)
    paged = paged_schema(version, tables_from, rels_from)
    if paged is not None:
        schema, tables, next_tables, rels, next_rels = paged
    else:
        schema = versions.snapshot_of(version)
        tables, next_tables = page(schema["tables"], "table_name", tables_from)
        rels, next_rels = page(schema["relationships"], "relationship_name", rels_from)
    context = {
        "access": granted, "project": granted.project, "version": version, "schema": schema,
        "tables": tables, "next_tables": next_tables,
        "relationships": rels, "next_relationships": next_rels,
    }  # fmt: skip
    if htmx and "tables" in request.args:
        return block(SHOW, "table_cards", **context)
    if htmx and "relationships" in request.args:
        return block(SHOW, "relationship_items", **context)
    return render_template(SHOW, **context, summary=counts_text(version.change_summary))


class Counted(dict):
    """Some entries of a version, by id, that count as all of them (a page's `schema`)."""

    def __init__(self, total, shown=()):
        super().__init__(shown)
        self.total = total

    def __len__(self):
        return self.total

    def __bool__(self):
        return self.total > 0


def paged_schema(version, tables_from, rels_from):
    """(schema, tables, next, relationships, next) of a version stored in parts, read a page
    at a time (its schema holds the counts and the names the page shows); else None."""
    size = settings.page_size
    found = versions.entries_page(version, "tables", tables_from, size)
    if found is None:
        return None
    tables, table_count = found
    rels, rel_count = versions.entries_page(version, "relationships", rels_from, size)
    ends = [r[side] for r in rels for side in ("source_table_id", "target_table_id")]
    names = versions.labels_of(version, "tables", ends)
    schema = {
        "tables": Counted(table_count, {i: {"table_name": n} for i, n in names.items()}),
        "relationships": Counted(rel_count),
    }
    next_tables = tables_from + size if tables_from + size < table_count else None
    next_rels = rels_from + size if rels_from + size < rel_count else None
    return schema, tables, next_tables, rels, next_rels


def page(entries, order, start):
    """A page of a snapshot's `entries` (by id) sorted by `order`, and where the next starts."""
    ordered = sorted(entries.values(), key=lambda entry: entry[order])
    end = start + settings.page_size
    return ordered[start:end], (end if end < len(ordered) else None)


@bp.get("/projects/<project_id>/diff")
@login_required
def compare(project_id):
    """Two versions (or a version and the working copy) side by side, a page of changes
    at a time (`start`: the index of the first change shown)."""
    granted = projects.access(current_user, project_id)
    old_ref, new_ref = request.args.get("from", ""), request.args.get("to", "working")
    start = max(request.args.get("start", 0, type=int), 0)
    size = settings.page_size
    paged = versions.compare_page(granted.project.id, old_ref or None, new_ref, start, size)
    if paged is not None:
        return compare_paged(granted, old_ref, new_ref, start, paged)
    old, new, changes, key = versions.compare_keyed(granted.project.id, old_ref or None, new_ref)
    end = start + size
    context = {
        "access": granted, "project": granted.project, "old": old, "new": new,
        "old_ref": old_ref, "new_ref": new_ref, "describe": describe,
        "changes": changes, "shown": changes[start:end],
        "next_start": end if end < len(changes) else None,
        "left": f"{max(len(changes) - end, 0):,} left",
    }  # fmt: skip
    if start and htmx:
        return block(DIFF, "change_rows", **context)
    steps = plans.migration_between(projects.schema_of(granted.project), old, new, changes, key)
    return render_template(
        DIFF, **context, counts=summarize(changes), summary=summary_text(changes),
        version_choices=choices(granted.project.id), sql=ddl.script(steps[:SQL_SHOWN]),
        sql_hidden=max(len(steps) - SQL_SHOWN, 0),
    )  # fmt: skip


def compare_paged(granted, old_ref, new_ref, start, paged):
    """The compare page of a cut of most of the design (versions.compare_page): a page of
    tables and relationships at a time, its counts from the manifests, and the migration
    SQL as a download (the whole cut's, off the page's way)."""
    context = {
        "access": granted, "project": granted.project, "old": paged.old, "new": paged.new,
        "old_ref": old_ref, "new_ref": new_ref, "describe": describe, "paged": True,
        "changes": paged.changes, "shown": paged.changes, "next_start": paged.next_start,
        "left": f"{paged.left:,} tables and relationships left",
    }  # fmt: skip
    if start and htmx:
        return block(DIFF, "change_rows", **context)
    return render_template(
        DIFF, **context, summary=counts_text(paged.counts), counts=paged.counts,
        version_choices=choices(granted.project.id),
    )  # fmt: skip


@bp.get("/projects/<project_id>/diff.sql")
@login_required
def compare_sql(project_id):
    """The migration SQL between two versions (or a version and the working copy), whole,
    as a download: a large cut's compare page links here rather than build it."""
    granted = projects.access(current_user, project_id)
    old_ref, new_ref = request.args.get("from", ""), request.args.get("to", "working")
    return sql_download(granted, old_ref or None, new_ref)


def sql_download(granted, old_ref, new_ref):
    """The whole migration script between two references, as a text/plain download."""
    old, new, changes, key = versions.compare_keyed(granted.project.id, old_ref, new_ref)
    steps = plans.migration_between(projects.schema_of(granted.project), old, new, changes, key)
    name = f"migration-{old_ref or 'working'}-{new_ref or 'working'}.sql"
    return Response(
        ddl.script(steps), mimetype="text/plain",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )  # fmt: skip


@bp.post("/projects/<project_id>/versions/<int:number>/restore")
@login_required
def restore(project_id, number):
    """Make the working copy equal to a version (saved as a new version)."""
    # The page's confirmation dialog names what a restore may drop.
    version = versions.restore(current_user, project_id, number, confirm=True)
    flash(f"Restored version {number} as version {version.version_number}.", "success")
    return go("versions.timeline", project_id=project_id)
