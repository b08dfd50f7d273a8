"""Tables: the project's list with search, inline creation, the table page, lifecycle."""

from flask import Blueprint
from flask import flash
from flask import render_template
from flask import request
from flask import url_for
from flask_login import current_user
from flask_login import login_required

from designer import activity
from designer import locks
from designer import projects
from designer.database import deploy
from designer.database import pending
from designer.database import plans
from designer.database import records
from designer.db import utcnow
from designer.design import page_stamps
from designer.design import primary_keys
from designer.design import relationships
from designer.design import table_list
from designer.design import table_partitions
from designer.design import table_structure
from designer.design import tables
from designer.design.dependents import foreign_keys_into
from designer.design.dependents import using_table
from designer.design.keys import chosen_key
from designer.design.keys import primary_key_fields
from designer.design.naming import suggestion
from designer.errors import Conflict
from designer.errors import ValidationFailed
from designer.views import begin_edit
from designer.views import block
from designer.views import blocks
from designer.views import critical_for_change
from designer.views import end_edit
from designer.views import form_revision
from designer.views import go
from designer.views import lock_context
from designer.views import page_or_block
from designer.views import polled_table
from designer.views import save_inline
from designer.views import session_lock
from designer.views import stop_polling
from designer.web import htmx

bp = Blueprint("tables", __name__)
PROJECT = "projects/show.html"
TABLE = "tables/show.html"
STATUS_FILTERS = [
    ("", "In use"),
    ("draft", "Draft"),
    ("active", "Active"),
    ("deprecated", "Deprecated"),
    ("deleted", "Deleted"),
    ("all", "All"),
]


def list_context(granted, **extra):
    query, status = request.args.get("q", ""), request.args.get("status", "")
    rows, after = table_list.list_tables(
        granted.project.id, query, status, request.args.get("after") or None
    )
    return {
        "access": granted,
        "project": granted.project,
        "tables": rows,
        "next_after": after,
        "query": query,
        "status_filter": status,
        "status_options": STATUS_FILTERS,
        "form": None,
        "errors": {},
        **extra,
    }


def project_context(granted, **extra):
    return list_context(
        granted,
        counts=table_list.status_counts(granted.project.id),
        activity=activity.recent(granted.project.id),
        deployed=records.has_applied(granted.project.id),
        **extra,
    )


@bp.get("/projects/<project_id>/tables")
@login_required
def table_rows(project_id):
    """Table rows matching the search, one page at a time.

    A new search puts itself in the address bar (the project page's URL with
    q and status), so reload, Back and a shared link show the same list.
    """
    granted = projects.access(current_user, project_id)
    if request.args.get("after"):
        return page_or_block(PROJECT, "table_rows", **project_context(granted))
    body, status = page_or_block(PROJECT, "table_list", **project_context(granted))
    search = {k: request.args[k] for k in ("q", "status") if request.args.get(k)}
    shown = url_for("projects.show", project_id=granted.project.id, **search)
    return body, status, {"HX-Push-Url": shown} if htmx else {}


@bp.get("/projects/<project_id>/live")
@login_required
def project_live(project_id):
    """The project page's table list, counts and feed once they changed since `v`, or 204."""
    granted = projects.access(current_user, project_id)
    stamp = page_stamps.project_stamp(granted.project.id)
    if request.args.get("v") == stamp:
        return "", 204
    names = ["table_list", "table_count", "activate_offer", "activity_feed"]
    body, status = blocks(PROJECT, names, live_oob=True, **project_context(granted))
    return body, status, {"X-Live-Version": stamp}


@bp.get("/projects/<project_id>/tables/new")
@login_required
def new_table(project_id):
    """The inline form adding a table."""
    granted = projects.access(current_user, project_id, "editor")
    form = {"name": "", "table_name": "", "description": ""}
    return page_or_block(PROJECT, "new_table_form", **project_context(granted, form=form))


@bp.get("/projects/<project_id>/tables/suggest")
@login_required
def suggest_table_name(project_id):
    """The Table name input, filled with the identifier suggested from the Name."""
    projects.access(current_user, project_id, "editor")
    if request.args.get("table_name_edited"):
        return "", 204
    identifier, shortened = suggestion(request.args.get("name", ""), "table")
    return block(
        PROJECT,
        "table_name_input",
        form={"table_name": identifier},
        errors={},
        shortened=shortened,
    )


@bp.post("/projects/<project_id>/tables")
@login_required
def create_table(project_id):
    """Add a Draft table, then open it."""
    form = {key: request.form.get(key, "") for key in ("name", "table_name", "description")}
    try:
        table = tables.create_table(current_user, project_id, **form)
    except ValidationFailed as exc:
        granted = projects.access(current_user, project_id)
        return block(
            PROJECT,
            "new_table_form",
            422,
            project=granted.project,
            form=form,
            errors=exc.fields,
            access=granted,
        )
    flash(f"Table “{table.name}” added. Add its fields below.", "success")
    return go("tables.show", table_id=table.id)


def table_context(granted, table, **extra):
    """What the table page's blocks read: fields and which relationships use each."""
    field_links = {}
    for rel in using_table(table.id):
        for field_id in {rel.source_field_id, rel.target_field_id} - {None}:
            field_links.setdefault(field_id, []).append(rel.relationship_name)
    fields = tables.ordered_fields(table.id)
    entry = {
        "fields": {str(f.id): {"field_config": f.field_config} for f in fields},
        "structure": (table.schema_definition or {}).get("structure") or {},
    }
    key_fields = primary_key_fields(entry)
    names = {str(f.id): f.field_name for f in fields}
    return {
        "access": granted,
        "project": granted.project,
        "table": table,
        "fields": fields,
        "structure_items": table_structure.listed(table, fields),
        # The key's field ids in order, and whether it is the designer's own id.
        "key_fields": key_fields,
        "key_names": [names[f] for f in key_fields if f in names],
        "key_chosen": chosen_key(entry) is not None,
        "field_links": field_links,
        "foreign_keys": foreign_keys_into(table.id),
        "partitioning": table_partitions.shown(current_user, table),
        **extra,
    }


def live_context(granted, table):
    """The parts of the table page that follow other people's changes."""
    return {
        "lock_history": locks.history(table.id, limit=10),
        "relationships": relationships.described(table.project_id, table_id=table.id),
        # What a deploy would still change in the database ("N changes not deployed").
        "pending": pending.for_table(granted.project, table),
        "now": utcnow(),
    }


@bp.get("/tables/<table_id>")
@login_required
def show(table_id):
    """A table's page: its header, lifecycle, lock panel and history, and fields."""
    granted, table = tables.table_access(current_user, table_id)
    stamp = page_stamps.table_stamp(table.id)
    context = table_context(granted, table, **live_context(granted, table), stamp=stamp)
    return render_template(TABLE, **context, **lock_context(table, lost_oob=False))


LIVE_BLOCKS = [
    "table_header", "deploy_status", "field_rows", "structure_list", "table_relationships",
    "lock_history",
]  # fmt: skip


@bp.get("/tables/<table_id>/live")
@login_required
def live(table_id):
    """What changed on the table page since version `v` (out of band), or 204."""
    found = polled_table(table_id)
    if found is None:
        return stop_polling()
    granted, table = found
    stamp = page_stamps.table_stamp(table.id)
    if request.args.get("v") == stamp:
        return "", 204
    context = table_context(granted, table, **live_context(granted, table))
    body, status = blocks(TABLE, LIVE_BLOCKS, live_oob=True, field_rows_oob=True, **context)
    return body, status, {"X-Live-Version": stamp}


@bp.get("/tables/<table_id>/header")
@login_required
def header(table_id):
    """The table's name, identifier, description and status."""
    granted, table = tables.table_access(current_user, table_id)
    return page_or_block(TABLE, "table_header", **table_context(granted, table))


def header_form(granted, table, form, status=200, **extra):
    return block(
        TABLE,
        "table_header_form",
        status,
        access=granted,
        project=granted.project,
        table=table,
        form=form,
        errors=extra.pop("errors", {}),
        **extra,
    )


@bp.get("/tables/<table_id>/header/edit")
@login_required
def edit_header(table_id):
    """The inline form editing the table's name, identifier and description."""
    granted, table = tables.table_access(current_user, table_id, "editor")
    tables.check_can_edit(current_user, table)
    begin_edit(table, "editing the table")
    form = {"name": table.name, "table_name": table.table_name, "description": table.description}
    return header_form(granted, table, form, revision=table.revision)


@bp.put("/tables/<table_id>/header")
@login_required
def update_header(table_id):
    """Save the table's name, identifier and description."""
    granted, table = tables.table_access(current_user, table_id, "editor")
    form = {key: request.form.get(key, "") for key in ("name", "table_name", "description")}
    revision = form_revision()

    def save():
        return tables.update_table(current_user, table.id, revision, session_lock(table.id), **form)

    def again(status, current=None, **extra):
        shown = current or table
        return header_form(granted, shown, form, status, revision=shown.revision, **extra)

    def saved(updated):
        end_edit(table.id)
        return block(TABLE, "table_header", **table_context(granted, updated))

    return save_inline(save, again, saved)


@bp.post("/tables/<table_id>/header/cancel")
@login_required
def cancel_header(table_id):
    """Close the header form, releasing the lock it took."""
    granted, table = tables.table_access(current_user, table_id)
    end_edit(table.id)
    return block(TABLE, "table_header", **table_context(granted, table))


@bp.post("/tables/<table_id>/transition")
@login_required
def transition(table_id):
    """Move the table along its lifecycle, then show the page as the new status allows."""
    _, table = tables.table_access(current_user, table_id, "editor")
    status, confirm = request.form.get("status", ""), bool(request.form.get("confirm"))
    try:
        if status in tables.BREAKING_STATUSES and request.form.get("take_lock"):
            with critical_for_change(table.id) as token:
                moved, deployed = deploy.transition(current_user, table.id, status, confirm, token)
        else:
            token = session_lock(table.id)
            moved, deployed = deploy.transition(current_user, table.id, status, confirm, token)
    except Conflict as exc:
        if "deployment_id" not in exc.details:
            raise
        flash(exc.message, "error")
        return go("tables.show", table_id=table.id)
    note = f" Deployed to {deployed.target_schema}." if deployed else ""
    waiting = plans.held_back_by(moved.id) if deployed and moved.status == "active" else []
    if waiting:
        one = len(waiting) == 1
        links, verb, ends = ("link", "is", "that table is") if one else ("links", "are", "they are")
        note += f" Its {links} to {', '.join(waiting)} {verb} deployed once {ends} Active."
    flash(f"“{moved.name}” is now {moved.status}.{note}", "success")
    return go("tables.show", table_id=moved.id)


def chosen_key_fields(form):
    """The key the table page's form chose: None for the designer's id, [] for none, or
    field ids by their position (1, 2, ...)."""
    choice = form.get("key_choice", "designer")
    if choice == "designer":
        return None
    if choice == "none":
        return []
    positions = {}
    for name, value in form.items():
        if not name.startswith("key_position_") or not value:
            continue
        if not value.isascii() or not value.isdigit():
            raise ValidationFailed("Choose a position for each key column.", {"key": value})
        if int(value) in positions:
            message = f"Two columns are at position {int(value)} of the key: give each its own."
            raise ValidationFailed(message, {"key": message})
        positions[int(value)] = name.removeprefix("key_position_")
    if not positions:
        message = "Choose the key's columns by giving each a position."
        raise ValidationFailed(message, {"key": message})
    return [positions[n] for n in sorted(positions)]


@bp.post("/tables/<table_id>/primary_key")
@login_required
def choose_key(table_id):
    """Make the designer's id, no column, or the columns given positions the primary key."""
    _, table = tables.table_access(current_user, table_id, "editor")
    try:
        field_ids = chosen_key_fields(request.form)
        primary_keys.set_primary_key(current_user, table.id, field_ids, session_lock(table.id))
    except (ValidationFailed, Conflict) as exc:
        flash(exc.message, "error")
        return go("tables.show", table_id=table.id)
    flash(f"The primary key of “{table.name}” is saved.", "success")
    return go("tables.show", table_id=table.id)


@bp.delete("/tables/<table_id>")
@login_required
def discard(table_id):
    """Discard a Draft table."""
    granted, table = tables.table_access(current_user, table_id, "editor")
    # Only a never-deployed draft is discarded: nothing the database holds breaks.
    tables.delete_table(current_user, table.id, session_lock(table.id))
    flash(f"Draft table “{table.name}” discarded.", "success")
    return go("projects.show", project_id=granted.project.id)
