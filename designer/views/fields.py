"""Fields: the grid on the table page, edited inline row by row."""

import time

from flask import Blueprint
from flask import request
from flask import session
from flask_login import current_user
from flask_login import login_required
from jinja2_fragments.flask import render_block

from designer.design import fields
from designer.design import tables
from designer.design import undo
from designer.design.dependents import foreign_keys_into
from designer.design.dependents import using_fields
from designer.design.field_types import field_as_input
from designer.design.field_types import picked_type
from designer.errors import ValidationFailed
from designer.views import begin_edit
from designer.views import block
from designer.views import blocks
from designer.views import critical_for_change
from designer.views import end_edit
from designer.views import form_revision
from designer.views import lock_for_change
from designer.views import page_or_block
from designer.views import save_inline
from designer.views import session_lock
from designer.views.tables import table_context

bp = Blueprint("fields", __name__)
TABLE = "tables/show.html"
# How long "Undone: …" stays in the corner.
DONE_SHOWN = 5
FORM_KEYS = (
    "name", "field_name", "data_type", "is_required", "default_value", "description",
    "max_length", "min_length", "pattern", "number_type", "precision", "scale", "min", "max",
    "date_type", "unique", "indexed", "text_type", "enum_id", "named_type", "time_precision",
    "array_dimensions", "default_empty", "exact_type", "collation",
    "identity", "serial", "generated", "virtual", "sequence_start", "sequence_increment",
)  # fmt: skip


def submitted():
    """The field form as submitted (checkboxes absent mean false), the type picker's choice
    applied."""
    return picked_type({key: request.form.get(key, "") for key in FORM_KEYS})


def grid(granted, table, *names, status=200, **extra):
    """The field rows (and any other blocks) of the table page."""
    return blocks(TABLE, list(names), status, **table_context(granted, table, **extra))


@bp.get("/tables/<table_id>/fields")
@login_required
def rows(table_id):
    """The table's field rows."""
    granted, table = tables.table_access(current_user, table_id)
    return page_or_block(TABLE, "field_rows", **table_context(granted, table))


def new_form(granted, table, form=None, status=200, errors=None):
    form = form or {"data_type": "text"}
    return block(
        TABLE, "new_field_form", status, access=granted, table=table, form=form, errors=errors or {}
    )


@bp.get("/tables/<table_id>/fields/new")
@login_required
def new(table_id):
    """The form adding a field."""
    granted, table = tables.table_access(current_user, table_id, "editor")
    tables.check_can_edit(current_user, table)
    begin_edit(table, "adding a field")
    return new_form(granted, table)


@bp.get("/tables/<table_id>/fields/settings")
@login_required
def type_settings(table_id):
    """The settings of the chosen type, swapped in when Type changes."""
    _, table = tables.table_access(current_user, table_id)
    form = {key: request.args.get(key, "") for key in FORM_KEYS}
    picked = bool(form.get("exact_type"))
    form = picked_type(form)
    return block(
        TABLE, "type_settings", form=form, errors={}, prefix=request.args.get("prefix", ""),
        table=table, picked=picked,
    )  # fmt: skip


@bp.post("/tables/<table_id>/fields")
@login_required
def create(table_id):
    """Add a field; the form stays open, empty, for the next one."""
    granted, table = tables.table_access(current_user, table_id, "editor")
    form = submitted()
    try:
        fields.create_field(current_user, table.id, form, session_lock(table.id))
    except ValidationFailed as exc:
        return new_form(granted, table, form, 422, exc.fields)
    # The form stays open for the next field, and so does the lock it took: Cancel ends it.
    return grid(
        granted,
        table,
        "new_field_form",
        "field_rows",
        field_rows_oob=True,
        # A fresh form: the next field starts as text, not as the last one's type.
        form={"data_type": "text"},
        errors={},
    )


@bp.post("/tables/<table_id>/fields/new/cancel")
@login_required
def cancel_new(table_id):
    """Close the new-field form, releasing the lock it took."""
    granted, table = tables.table_access(current_user, table_id)
    end_edit(table.id)
    return block(TABLE, "add_field_button", access=granted, table=table, refocus=True)


def row(granted, field, table, name="field_row", status=200, **extra):
    """One field's row (display or form): needs no other field, nor the lock."""
    keys = foreign_keys_into(table.id)
    return block(
        TABLE, name, status, access=granted, table=table, field=field, foreign_keys=keys, **extra
    )


@bp.get("/fields/<field_id>")
@login_required
def show(field_id):
    """One field's row."""
    granted, field, table = fields.field_access(current_user, field_id)
    return row(granted, field, table)


@bp.get("/fields/<field_id>/edit")
@login_required
def edit(field_id):
    """The row's inline form."""
    granted, field, table = fields.field_access(current_user, field_id, "editor")
    fields.refuse_system(field)
    tables.check_can_edit(current_user, table)
    begin_edit(table, f"editing {field.name}")
    form = {key: "" if value is None else value for key, value in field_as_input(field).items()}
    form["generated"] = fields.generated_text(field) or ""  # by the columns' names
    return row(granted, field, table, "field_form", form=form, errors={}, revision=field.revision)


@bp.put("/fields/<field_id>")
@login_required
def update(field_id):
    """Save the row; a stale revision shows both versions."""
    granted, field, table = fields.field_access(current_user, field_id, "editor")
    form = submitted()
    revision = form_revision()

    def save():
        if request.form.get("take_lock"):
            with critical_for_change(table.id) as token:
                return fields.update_field(current_user, field.id, revision, form, token)
        return fields.update_field(current_user, field.id, revision, form, session_lock(table.id))

    def again(status, current=None, **extra):
        shown = current or field
        return row(
            granted,
            shown,
            table,
            "field_form",
            status,
            form=form,
            revision=shown.revision,
            errors=extra.pop("errors", {}),
            **extra,
        )

    def saved(updated):
        end_edit(table.id)
        return offering_undo(row(granted, updated, table), table, undo.for_update(field, updated))

    return save_inline(save, again, saved)


@bp.post("/fields/<field_id>/cancel")
@login_required
def cancel(field_id):
    """Close the row's form, releasing the lock it took."""
    granted, field, table = fields.field_access(current_user, field_id)
    end_edit(table.id)
    return row(granted, field, table)


@bp.delete("/fields/<field_id>")
@login_required
def delete(field_id):
    """Drop a field after confirmation (a deployed table's takes a critical lock for it)."""
    granted, field, table = fields.field_access(current_user, field_id, "editor")
    confirmed = bool(request.form.get("with_relationships"))
    entry = undo.for_delete(field, using_fields([field.id]))
    # Dropping a column breaks only what the database holds: a never-deployed draft's is free.
    with lock_for_change(table, tables.is_deployed(table)) as token:
        fields.delete_field(current_user, field.id, token, with_relationships=confirmed)
    return offering_undo(grid(granted, table, "field_rows"), table, entry)


@bp.post("/fields/<field_id>/move")
@login_required
def move(field_id):
    """Move a field one place up or down."""
    granted, field, table = fields.field_access(current_user, field_id, "editor")
    offset = -1 if request.form.get("direction") == "up" else 1
    fields.move(current_user, field.id, offset, session_lock(table.id))
    response = grid(granted, table, "field_rows", moved=field.id)
    return offering_undo(response, table, undo.for_move(field, offset))


def offering_undo(response, table, entry):
    """The response, with a flash offering to undo the change for a short while."""
    session["undo"] = entry
    body, status = response
    flash = render_block(TABLE, "undo_flash", table=table, undo=entry)
    return body + flash, status


@bp.post("/tables/<table_id>/undo")
@login_required
def take_back(table_id):
    """Undo the user's last change to this table's fields (offered for a short while)."""
    granted, table = tables.table_access(current_user, table_id, "editor")
    entry = session.get("undo")
    undo.undo(current_user, entry, table.id, session_lock(table.id))
    session.pop("undo", None)
    done = {**entry, "text": f"Undone: {entry['text']}", "until": time.time() + DONE_SHOWN}
    return grid(granted, table, "field_rows", "undo_done", field_rows_oob=True, undo=done)


@bp.post("/tables/<table_id>/fields/order")
@login_required
def order(table_id):
    """Save the order the user dragged the fields into."""
    granted, table = tables.table_access(current_user, table_id, "editor")
    entry = undo.for_order(table)
    fields.reorder(
        current_user, table.id, request.form.getlist("field_ids"), session_lock(table.id)
    )
    return offering_undo(grid(granted, table, "field_rows"), table, entry)
