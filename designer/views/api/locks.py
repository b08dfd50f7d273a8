"""JSON API: a table's lock and its history."""

from flask import g
from flask import jsonify

from designer import api_input
from designer import locks
from designer.db import parse_id
from designer.design import tables
from designer.errors import Conflict
from designer.errors import ValidationFailed
from designer.views.api import bp
from designer.views.api.messages import accepts
from designer.views.api.messages import iso


def lock_json(lock, viewer):
    data = {
        "id": str(lock.id),
        "table_id": str(lock.table_id),
        "user_id": str(lock.user_id),
        "username": lock.user.username if lock.user else None,
        "lock_type": lock.lock_type,
        "reason": lock.reason,
        "locked_at": iso(lock.locked_at),
        "expires_at": iso(lock.expires_at),
        "heartbeat_at": iso(lock.heartbeat_at),
        "released_at": iso(lock.released_at),
        "end_reason": lock.end_reason,
    }
    if lock.user_id == viewer.id:
        data["lock_token"] = str(lock.lock_token)
    return data


def token_of(data):
    token = data.get("lock_token")
    if not token:
        raise ValidationFailed("Send the lock_token.", {"lock_token": "Required."})
    return str(token)


@bp.get("/tables/<table_id>/lock")
def get_lock(table_id):
    """The table's live lock (or null) and its recent history."""
    _, table = tables.table_access(g.api_user, table_id)
    current = locks.active_lock(table.id)
    return jsonify(
        {
            "lock": lock_json(current, g.api_user) if current else None,
            "history": [lock_json(row, g.api_user) for row in locks.history(table.id)],
        }
    )


@bp.post("/tables/<table_id>/lock")
@accepts(api_input.LockRequest)
def acquire_lock(table_id, data):
    """Take a lock {"lock_type", "reason"}, or upgrade one's own; 423 when held by another."""
    _, table = tables.table_access(g.api_user, table_id, "editor")
    tables.refuse_if_deleted(table)
    lock = locks.acquire(
        table.id, g.api_user, str(data.get("lock_type", "pessimistic")), str(data.get("reason", ""))
    )
    return jsonify(lock_json(lock, g.api_user)), 201 if lock.created else 200


@bp.post("/tables/<table_id>/lock/heartbeat")
@accepts(api_input.LockToken)
def heartbeat_lock(table_id, data):
    """Extend the caller's lock by one lease: {"lock_token"}; 409 once it is lost."""
    token = token_of(data)
    try:
        lock = locks.heartbeat(token, g.api_user, parse_id(table_id, "table"))
    except Conflict:
        tables.table_access(g.api_user, table_id)  # a stranger learns nothing but 404
        raise
    return jsonify(lock_json(lock, g.api_user))


@bp.delete("/tables/<table_id>/lock")
@accepts(api_input.LockRelease)
def release_lock(table_id, data):
    """Release: {"lock_token"}; project owners may force: {"force": true} (idempotent)."""
    if data.get("force") is True:
        _, table = tables.table_access(g.api_user, table_id, "owner")
        locks.force_release(table.id)
        return "", 204
    tables.table_access(g.api_user, table_id)
    locks.release(token_of(data), g.api_user)
    return "", 204
