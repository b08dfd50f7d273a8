"""API tokens of the signed-in user, managed from the browser."""

from flask import Blueprint
from flask import render_template
from flask import request
from flask_login import current_user
from flask_login import login_required

from designer import api_tokens
from designer.db import parse_id
from designer.views import block

bp = Blueprint("tokens", __name__)
TEMPLATE = "tokens/index.html"


@bp.get("/settings/tokens")
@login_required
def index():
    """The user's API tokens."""
    return render_template(TEMPLATE, tokens=api_tokens.tokens_of(current_user), new_token=None)


@bp.post("/settings/tokens")
@login_required
def create():
    """Issue a token; its secret is shown once."""
    token, _ = api_tokens.issue_token(
        current_user, request.form.get("name", ""), request.form.get("expires_in_days")
    )
    return block(TEMPLATE, "token_list", tokens=api_tokens.tokens_of(current_user), new_token=token)


@bp.delete("/settings/tokens/<token_id>")
@login_required
def revoke(token_id):
    """Revoke a token."""
    api_tokens.revoke_token(current_user, parse_id(token_id, "token"))
    return block(TEMPLATE, "token_list", tokens=api_tokens.tokens_of(current_user), new_token=None)
