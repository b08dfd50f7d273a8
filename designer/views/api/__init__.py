"""The JSON API under /api/v1: the blueprint, bearer-token authentication and its routes."""

from flask import Blueprint
from flask import g
from flask import request

from designer import api_tokens
from designer.errors import Forbidden
from designer.errors import Unauthorized
from designer.web import csrf

bp = Blueprint("api", __name__, url_prefix="/api/v1")
# The API reads no cookies, only the Authorization header, so CSRF cannot
# reach it; browsers use the CSRF-protected HTML routes instead.
csrf.exempt(bp)

PUBLIC_ENDPOINTS = {"api.create_token", "api.openapi"}
# What a read-only token may send (designer.api_tokens).
READING = {"GET", "HEAD", "OPTIONS"}


@bp.before_request
def authenticate():
    if request.endpoint in PUBLIC_ENDPOINTS:
        return
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    # user_for_token makes the connection act for the token's owner: cleared at the end.
    g.acting_for = "token"
    user = api_tokens.user_for_token(token.strip()) if scheme.lower() == "bearer" else None
    if user is None:
        raise Unauthorized("Send a valid token: Authorization: Bearer <token>.")
    g.api_user = user
    if user.token_read_only and request.method not in READING:
        raise Forbidden("This token is read-only: it cannot change anything.")


# The route modules attach their views to bp; they come last because they import it.
from designer.views.api import branches  # noqa: E402, F401
from designer.views.api import deployments  # noqa: E402, F401
from designer.views.api import enums  # noqa: E402, F401
from designer.views.api import locks  # noqa: E402, F401
from designer.views.api import merge_requests  # noqa: E402, F401
from designer.views.api import openapi  # noqa: E402, F401
from designer.views.api import projects  # noqa: E402, F401
from designer.views.api import relationships  # noqa: E402, F401
from designer.views.api import tables  # noqa: E402, F401
from designer.views.api import tokens  # noqa: E402, F401
from designer.views.api import transfer  # noqa: E402, F401
from designer.views.api import versions  # noqa: E402, F401
