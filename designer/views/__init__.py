"""HTML blueprints (one per resource) and the JSON API, with their small shared helpers."""

import contextlib
import hashlib

from flask import g
from flask import redirect
from flask import render_template
from flask import request
from flask import session
from flask import url_for
from flask_htmx import make_response as htmx_response
from flask_login import current_user
from flask_wtf.csrf import validate_csrf
from jinja2_fragments.flask import render_block
from jinja2_fragments.flask import render_blocks
from wtforms import ValidationError

from designer.errors import Locked
from designer.errors import StaleRevision
from designer.errors import ValidationFailed
from designer.web import htmx


def page_or_block(template, block_name, status=200, **context):
    """The named block for htmx requests, the whole page otherwise."""
    if htmx:
        return render_block(template, block_name, **context), status
    return render_template(template, **context), status


def block(template, block_name, status=200, **context):
    """Just the named block (for partial-only URLs such as form blocks)."""
    return render_block(template, block_name, **context), status


def blocks(template, block_names, status=200, **context):
    """Several blocks in one response: the main one plus out-of-band updates."""
    return render_blocks(template, block_names, **context), status


def go(endpoint, **values):
    """Navigate to a whole page: HX-Redirect for htmx requests, a plain redirect otherwise."""
    url = url_for(endpoint, **values)
    if htmx:
        return htmx_response("", redirect=url)
    return redirect(url)


def form_revision():
    try:
        return int(request.form.get("revision", ""))
    except ValueError:
        return 0


def save_inline(save, render_form, render_saved):
    """Run `save`; on bad input or a stale revision, show the form again with the
    user's input kept: 422 with messages by the fields, 412 with the current row."""
    try:
        result = save()
    except ValidationFailed as exc:
        return render_form(422, errors=exc.fields)
    except StaleRevision as exc:
        return render_form(412, conflict=exc.message, current=exc.details["current"])
    except Locked as exc:
        if not exc.details.get("needs_critical"):
            raise
        # Offer to take the critical lock this breaking change needs.
        return render_form(423, needs_critical=exc.message)
    return render_saved(result)


# The browser's lock tokens live in its session, one per locked table.


def session_lock(table_id):
    return session.get("locks", {}).get(str(table_id))


def remember_lock(table_id, token):
    session["locks"] = {**session.get("locks", {}), str(table_id): str(token)}


def forget_lock(table_id):
    held = dict(session.get("locks", {}))
    if held.pop(str(table_id), None) is not None:
        session["locks"] = held


def mark_lock_changed():
    """Tell the page (HX-Trigger: lock-changed) to refresh its lock panel."""
    g.lock_changed = True


def begin_edit(table, reason):
    """An inline form opens: hold an optimistic lock on its table while it is open.

    Opening a form is a GET, so the lock is taken only when the request carries
    the page's CSRF header (as htmx sends it): a link from elsewhere cannot
    lock a table in the user's name.
    """
    from designer import locks

    try:
        validate_csrf(request.headers.get("X-CSRFToken", ""))
    except ValidationError:
        return
    lock = locks.acquire(table.id, current_user, "optimistic", reason)
    remember_lock(table.id, lock.lock_token)
    mark_lock_changed()


def end_edit(table_id):
    """An inline form closed (saved or cancelled): release the optimistic lock it took."""
    from designer import locks

    token = session_lock(table_id)
    if token and locks.release_if_optimistic(token, current_user):
        forget_lock(table_id)
        mark_lock_changed()


@contextlib.contextmanager
def critical_for_change(table_id):
    """A critical lock for one confirmed breaking change (see locks.critical_lock)."""
    from designer import locks

    with locks.critical_lock(table_id, current_user) as token:
        mark_lock_changed()
        yield token


@contextlib.contextmanager
def lock_for_change(table, breaking):
    """The lock token a confirmed change sends: a critical lock's when it breaks what the
    database holds (see critical_for_change), else the session's own."""
    if not breaking:
        yield session_lock(table.id)
        return
    with critical_for_change(table.id) as token:
        yield token


def lease_words(seconds):
    """“2 minutes”, “90 seconds”: how long a left page can keep its lock."""
    if seconds >= 120 and seconds % 60 == 0:
        return f"{int(seconds // 60)} minutes"
    return f"{seconds:g} seconds"


def lock_context(table, lost_oob=True):
    """The table's lock as a page shows it.

    The user's own live lock is adopted into the session (another tab may
    have taken it); a lock the session held that expired or was forced is
    reported as lost, once (out of band, into the page's notices, where it
    stays until dismissed), and forgotten.
    """
    from designer import locks
    from designer.settings import settings

    lock = locks.active_lock(table.id)
    mine = lock is not None and lock.user_id == current_user.id
    held, lost = session_lock(table.id), None
    if mine:
        remember_lock(table.id, lock.lock_token)
    elif held:
        forget_lock(table.id)
        if lost_oob and not locks.released_by(held, current_user):
            lost = locks.lost_message(held)
    shown = f"{lock.id}|{lock.lock_type}|{lock.reason}|{lock.expires_at}|{mine}" if lock else ""
    return {
        "lock": lock,
        "lock_is_mine": mine,
        "lost": lost,
        # What the panel shows, as a digest its poll sends back (`v`): 204 while equal.
        "panel_version": hashlib.sha256(f"{table.status}|{shown}".encode()).hexdigest()[:16],
        "lost_oob": lost_oob,
        "heartbeat_seconds": settings.lock_heartbeat_seconds,
        "watch_seconds": settings.lock_watch_seconds,
        "live_seconds": settings.live_poll_seconds,
        "grace_seconds": settings.lock_leave_grace_seconds,
        "lease_words": lease_words(settings.lock_lease_seconds),
        "edit_idle_seconds": settings.lock_edit_idle_seconds,
        "edit_idle_words": lease_words(settings.lock_edit_idle_seconds),
    }


def stop_polling():
    """286: htmx stops the poll that asked (its subject is gone)."""
    return "", 286


def polled_table(table_id):
    """(access, table) for a page's poll; None once the table is gone from the
    project the page belongs to (`project`), so the poll can stop."""
    from designer.design import page_stamps
    from designer.design import tables
    from designer.errors import NotFound

    try:
        return tables.table_access(current_user, table_id)
    except NotFound:
        if page_stamps.gone_from(current_user, table_id, request.args.get("project", "")):
            return None
        raise


def register_blueprints(app):
    from designer.views import api
    from designer.views import assets
    from designer.views import auth
    from designer.views import branches
    from designer.views import deployments
    from designer.views import diagram
    from designer.views import enums
    from designer.views import fields
    from designer.views import locks
    from designer.views import members
    from designer.views import merge_requests
    from designer.views import partitions
    from designer.views import projects
    from designer.views import relationships
    from designer.views import structure
    from designer.views import tables
    from designer.views import tokens
    from designer.views import transfer
    from designer.views import versions

    modules = (
        assets,
        auth,
        projects,
        members,
        tokens,
        tables,
        fields,
        structure,
        partitions,
        locks,
        relationships,
        enums,
        diagram,
        versions,
        deployments,
        transfer,
        branches,
        merge_requests,
    )
    for module in modules:
        app.register_blueprint(module.bp)
    app.register_blueprint(api.bp)
    if app.testing:
        from designer.views import testing

        app.register_blueprint(testing.bp)
