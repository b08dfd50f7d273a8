"""The table page's "Partitioning": a table's partition key, and its partitions added with a
bound, re-bounded and removed inline; a partition's page names its parent (partials are named
blocks of the page)."""

from flask import Blueprint
from flask import request
from flask_login import current_user
from flask_login import login_required

from designer.design import table_partitions
from designer.design import tables
from designer.errors import Conflict
from designer.errors import ValidationFailed
from designer.views import block
from designer.views import session_lock

bp = Blueprint("partitions", __name__)
TABLE = "tables/show.html"


def section(table_id, status=200, form=None, errors=None):
    """The partitioning section again, with what was typed and its errors when refused."""
    granted, table = tables.table_access(current_user, table_id)
    return block(
        TABLE, "partitioning", status, access=granted, project=granted.project, table=table,
        partitioning=table_partitions.shown(current_user, table), partition_form=form or {},
        partition_errors=errors or {},
    )  # fmt: skip


def refused(table_id, form, exc):
    errors = exc.fields if isinstance(exc, ValidationFailed) else {"form": str(exc)}
    return section(table_id, 422 if isinstance(exc, ValidationFailed) else 409, form, errors)


def saved(table_id, keys, save):
    """Run `save` with the form's `keys`; the section again, or the form with its errors."""
    form = {key: request.form.get(key, "") for key in keys}
    try:
        save(form)
    except (ValidationFailed, Conflict) as exc:
        return refused(table_id, form, exc)
    return section(table_id)


@bp.post("/tables/<table_id>/partition-key")
@login_required
def set_key(table_id):
    return saved(
        table_id, ("method", "keys"),
        lambda form: table_partitions.set_partition_key(
            current_user, table_id, form["method"] or None, form["keys"], session_lock(table_id)
        ),
    )  # fmt: skip


@bp.post("/tables/<table_id>/partitions")
@login_required
def add(table_id):
    return saved(
        table_id, ("table_name", "bound"),
        lambda form: table_partitions.add_partition(
            current_user, table_id, form["table_name"], form["bound"], session_lock(table_id)
        ),
    )  # fmt: skip


@bp.put("/tables/<table_id>/partitions/<partition_id>")
@login_required
def rebound(table_id, partition_id):
    """A partition's new bound (deployed: detached, then attached again with it)."""
    form = {"bound": request.form.get("bound", "")}
    try:
        table = table_partitions.partition_row(current_user, table_id, partition_id)
        table_partitions.set_bound(current_user, table.id, form["bound"], session_lock(table.id))
    except (ValidationFailed, Conflict) as exc:
        return refused(table_id, form, with_partition(exc, partition_id))
    return section(table_id)


def with_partition(exc, partition_id):
    """The refusal, saying which partition's form it answers (its errors go next to it)."""
    if isinstance(exc, ValidationFailed):
        exc.fields = {**exc.fields, "partition_id": partition_id}
    return exc


@bp.delete("/tables/<table_id>/partitions/<partition_id>")
@login_required
def remove(table_id, partition_id):
    try:
        table_partitions.remove_partition(current_user, table_id, partition_id)
    except (ValidationFailed, Conflict) as exc:
        return refused(table_id, {}, exc)
    return section(table_id)
