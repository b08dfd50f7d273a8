"""The table page's "Constraints & indexes": uniques over several columns, checks and
indexes, each added, edited and deleted inline (partials are named blocks of the page)."""

from flask import Blueprint
from flask import request
from flask_login import current_user
from flask_login import login_required

from designer.design import table_structure
from designer.design import tables
from designer.design.structure import KINDS
from designer.design.structure import NOUN
from designer.errors import NotFound
from designer.errors import ValidationFailed
from designer.views import begin_edit
from designer.views import block
from designer.views import blocks
from designer.views import end_edit
from designer.views import session_lock
from designer.views.tables import table_context

bp = Blueprint("structure", __name__)
TABLE = "tables/show.html"
FORM_KEYS = (
    "name", "comment", "columns", "expression", "method", "unique", "keys", "include", "where",
)  # fmt: skip


def checked_kind(kind):
    if kind not in KINDS:
        raise NotFound("No such kind of constraint or index.")
    return kind


def submitted(kind):
    form = {key: request.form.get(key, "") for key in FORM_KEYS}
    if kind == "indexes":
        form["unique"] = "on" if request.form.get("unique") else ""
    return form


def form_block(granted, table, kind, form, item_id=None, status=200, errors=None):
    return block(
        TABLE, "structure_form", status, access=granted, table=table, kind=kind, noun=NOUN[kind],
        form=form, item_id=item_id, errors=errors or {},
    )  # fmt: skip


def listing(granted, table, status=200):
    """The list and the add buttons again (the open form goes)."""
    context = table_context(granted, table, refocus=True)
    return blocks(
        TABLE, ["structure_buttons", "structure_list"], status, structure_oob=True, **context
    )


@bp.get("/tables/<table_id>/structure/<kind>/new")
@login_required
def new(table_id, kind):
    """The form adding a unique constraint, a check or an index."""
    granted, table = tables.table_access(current_user, table_id, "editor")
    tables.check_can_edit(current_user, table)
    begin_edit(table, f"adding a {NOUN[checked_kind(kind)]}")
    form = {"method": "btree"} if kind == "indexes" else {}
    return form_block(granted, table, kind, form)


@bp.post("/tables/<table_id>/structure/<kind>")
@login_required
def create(table_id, kind):
    return saved(table_id, kind, None)


def saved(table_id, kind, item_id):
    """Save a new item (item_id None) or an edited one; the form again, with its errors,
    when refused."""
    granted, table = tables.table_access(current_user, table_id, "editor")
    form = submitted(checked_kind(kind))
    try:
        table_structure.save_item(
            current_user, table.id, kind, form, item_id, session_lock(table.id)
        )
    except ValidationFailed as exc:
        return form_block(granted, table, kind, form, item_id, 422, exc.fields)
    end_edit(table.id)
    return listing(granted, tables.table_access(current_user, table_id)[1])


@bp.get("/tables/<table_id>/structure/<kind>/<item_id>/edit")
@login_required
def edit(table_id, kind, item_id):
    granted, table = tables.table_access(current_user, table_id, "editor")
    tables.check_can_edit(current_user, table)
    form = table_structure.form_of(table, checked_kind(kind), item_id)
    begin_edit(table, f"editing a {NOUN[kind]}")
    return form_block(granted, table, kind, form, item_id)


@bp.put("/tables/<table_id>/structure/<kind>/<item_id>")
@login_required
def update(table_id, kind, item_id):
    return saved(table_id, kind, item_id)


@bp.delete("/tables/<table_id>/structure/<kind>/<item_id>")
@login_required
def delete(table_id, kind, item_id):
    granted, table = tables.table_access(current_user, table_id, "editor")
    table_structure.delete_item(
        current_user, table.id, checked_kind(kind), item_id, session_lock(table.id)
    )
    return listing(granted, tables.table_access(current_user, table_id)[1])


@bp.post("/tables/<table_id>/structure/cancel")
@login_required
def cancel(table_id):
    """Close the form, releasing the lock it took."""
    granted, table = tables.table_access(current_user, table_id)
    end_edit(table.id)
    return listing(granted, table)
