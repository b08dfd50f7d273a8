"""API tokens of the signed-in user, managed from the browser."""

from flask import Blueprint
from flask import render_template
from flask import request
from flask_login import current_user
from flask_login import login_required

from designer import api_tokens
from designer import projects
from designer.db import parse_id
from designer.errors import ValidationFailed
from designer.views import block

bp = Blueprint("tokens", __name__)
TEMPLATE = "tokens/index.html"
LIFETIMES = [(str(days), f"in {days} days") for days in api_tokens.TOKEN_LIFETIMES] + [
    ("", "never")
]
NEW_FORM = {"name": "", "expires_in_days": str(api_tokens.DEFAULT_LIFETIME), "access": "write"}


def context(form=None, errors=None, new_token=None):
    mine = projects.projects_for(current_user)
    return {
        "tokens": api_tokens.tokens_of(current_user),
        "scope_words": api_tokens.scope_words,
        "new_token": new_token,
        "form": form or NEW_FORM,
        "errors": errors or {},
        "lifetimes": LIFETIMES,
        "project_options": [("", "all my projects")] + [(str(p.id), p.name) for p in mine],
    }


@bp.get("/settings/tokens")
@login_required
def index():
    """The user's API tokens."""
    return render_template(TEMPLATE, **context())


@bp.post("/settings/tokens")
@login_required
def create():
    """Issue a token (named, 90 days by default, optionally read-only or for one project);
    its secret is shown once."""
    form = {key: request.form.get(key, "") for key in ("name", "expires_in_days", "project_id")}
    form["access"] = request.form.get("access", "write")
    try:
        token, _ = api_tokens.issue_token(
            current_user,
            form["name"],
            form["expires_in_days"],
            read_only=form["access"] == "read",
            project_id=form["project_id"],
        )
    except ValidationFailed as exc:
        return block(TEMPLATE, "token_list", 422, **context(form, exc.fields))
    return block(TEMPLATE, "token_list", **context(new_token=token))


@bp.delete("/settings/tokens/<token_id>")
@login_required
def revoke(token_id):
    """Revoke a token."""
    api_tokens.revoke_token(current_user, parse_id(token_id, "token"))
    return block(TEMPLATE, "token_list", **context())
