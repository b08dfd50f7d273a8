"""API tokens: issued for a username and password, listed and revoked by their owner."""

from flask import g
from flask import jsonify

from designer import accounts
from designer import api_input
from designer import api_tokens
from designer.db import parse_id
from designer.errors import Unauthorized
from designer.signin_limits import signin_limited
from designer.views.api import bp
from designer.views.api.messages import accepts
from designer.views.api.messages import iso
from designer.web import act_for


@bp.post("/tokens")
@signin_limited
@accepts(api_input.TokenRequest)
def create_token(data):
    """Exchange a username and password for an API token."""
    user = accounts.authenticate(str(data.get("username", "")), str(data.get("password", "")))
    if user is None:
        raise Unauthorized("Wrong username or password.")
    act_for(user)
    token, row = api_tokens.issue_token(
        user,
        data["name"],
        data.get("expires_in_days", api_tokens.DEFAULT_LIFETIME),
        data.get("read_only", False),
        data.get("project_id"),
    )
    return jsonify({"token": token, **token_json(row)}), 201


def token_json(row):
    """A token as listed: never its secret."""
    return {
        "id": str(row.id),
        "name": row.name,
        "created_at": iso(row.created_at),
        "last_used_at": iso(row.last_used_at),
        "expires_at": iso(row.expires_at),
        "read_only": row.read_only,
        "project_id": str(row.project_id) if row.project_id else None,
    }


@bp.get("/tokens")
def list_tokens():
    """The caller's unrevoked tokens, never their secrets (a one-project token lists itself)."""
    return jsonify([token_json(t) for t in api_tokens.tokens_of(g.api_user)])


@bp.delete("/tokens/<token_id>")
def revoke_token(token_id):
    """Revoke one of the caller's tokens."""
    api_tokens.revoke_token(g.api_user, parse_id(token_id, "token"))
    return "", 204
