"""The lock panel of a table page: take, keep alive, release, force, leave."""

from flask import Blueprint
from flask import request
from flask_login import current_user
from flask_login import login_required

from designer import locks
from designer.design import tables
from designer.errors import Conflict
from designer.errors import Locked
from designer.settings import settings
from designer.views import block
from designer.views import forget_lock
from designer.views import lock_context
from designer.views import mark_lock_changed
from designer.views import polled_table
from designer.views import remember_lock
from designer.views import session_lock
from designer.views import stop_polling

bp = Blueprint("locks", __name__)
TABLE = "tables/show.html"


def panel(granted, table, status=200, **extra):
    return block(
        TABLE, "lock_panel", status, access=granted, table=table, **lock_context(table), **extra
    )


@bp.get("/tables/<table_id>/lock")
@login_required
def show(table_id):
    """The lock panel (polled by every open table page): 204 while it would show the
    same as the page has (`v`), 286 once the table is gone."""
    found = polled_table(table_id)
    if found is None:
        return stop_polling()
    granted, table = found
    context = lock_context(table)
    if not context["lost"] and request.args.get("v") == context["panel_version"]:
        return "", 204
    return block(TABLE, "lock_panel", access=granted, table=table, **context)


@bp.post("/tables/<table_id>/lock")
@login_required
def acquire(table_id):
    """Take a lock of the chosen type, or upgrade one's own."""
    granted, table = tables.table_access(current_user, table_id, "editor")
    tables.refuse_if_deleted(table)
    lock_type = request.form.get("lock_type", "pessimistic")
    lock = locks.acquire(table.id, current_user, lock_type, request.form.get("reason", ""))
    remember_lock(table.id, lock.lock_token)
    return panel(granted, table)


def idle_for():
    """Seconds since the person's last input on the page, as its keeper reports it."""
    try:
        reported = float(request.form.get("idle_ms", "0")) / 1000
    except ValueError:
        return 0.0
    return reported if 0 <= reported < float("inf") else 0.0


@bp.post("/tables/<table_id>/lock/heartbeat")
@login_required
def heartbeat(table_id):
    """Renew the user's lock on the table while the page is open (204).

    Sent by the page's keeper whether or not it holds a lock; a lock found
    lost makes the page refresh its panel, which then says so. An edit form's
    optimistic lock is renewed up to the last input the page reports, and
    ends once the page has been idle for LOCK_EDIT_IDLE_SECONDS
    (X-Edit-Lock: idle tells the page's open forms to say so).
    """
    _, table = tables.table_access(current_user, table_id)
    token = session_lock(table.id)
    if not token:
        return "", 204
    idle = idle_for()
    if idle >= settings.lock_edit_idle_seconds and locks.release_idle_edit(token, current_user):
        forget_lock(table.id)
        mark_lock_changed()
        return "", 200, {"X-Edit-Lock": "idle"}
    try:
        locks.heartbeat(token, current_user, table.id, idle, request.form.get("page"))
    except Conflict:
        mark_lock_changed()
        return "", 200
    return "", 204


@bp.post("/tables/<table_id>/lock/resume")
@login_required
def resume(table_id):
    """Input in an edit form whose lock went idle: take the optimistic lock again (204),
    or say who holds the table now (423, as text)."""
    _, table = tables.table_access(current_user, table_id, "editor")
    tables.refuse_if_deleted(table)
    try:
        lock = locks.acquire(table.id, current_user, "optimistic", request.form.get("reason", ""))
    except Locked as exc:
        return exc.message.rstrip(".") + ".", 423, {"Content-Type": "text/plain; charset=utf-8"}
    remember_lock(table.id, lock.lock_token)
    mark_lock_changed()
    return "", 204


@bp.post("/tables/<table_id>/lock/leave")
@login_required
def leave(table_id):
    """The page is going away (sent as a beacon): cut the lease to a short grace."""
    _, table = tables.table_access(current_user, table_id)
    token = session_lock(table.id)
    if token:
        locks.leave(token, current_user, table.id, request.form.get("page"))
    return "", 204


@bp.post("/tables/<table_id>/lock/release")
@login_required
def release(table_id):
    """Release the user's lock."""
    granted, table = tables.table_access(current_user, table_id)
    token = session_lock(table.id)
    if token:
        locks.release(token, current_user, quietly=True)
        forget_lock(table.id)
    return panel(granted, table)


@bp.post("/tables/<table_id>/lock/force")
@login_required
def force(table_id):
    """End someone's lock (project owners)."""
    granted, table = tables.table_access(current_user, table_id, "owner")
    locks.force_release(table.id)
    mark_lock_changed()
    return panel(granted, table)
