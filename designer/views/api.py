"""The JSON API under /api/v1: bearer-token authentication, errors, tokens."""

import functools
import re

from flask import Blueprint
from flask import current_app
from flask import g
from flask import jsonify
from flask import request

from designer import accounts
from designer import api_input
from designer.db import parse_id
from designer.errors import Unauthorized
from designer.errors import ValidationFailed
from designer.signin_limits import signin_limited
from designer.web import csrf

bp = Blueprint("api", __name__, url_prefix="/api/v1")
# The API reads no cookies, only the Authorization header, so CSRF cannot
# reach it; browsers use the CSRF-protected HTML routes instead.
csrf.exempt(bp)

PUBLIC_ENDPOINTS = {"api.create_token", "api.openapi"}


@bp.before_request
def authenticate():
    if request.endpoint in PUBLIC_ENDPOINTS:
        return
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    user = accounts.user_for_token(token.strip()) if scheme.lower() == "bearer" else None
    if user is None:
        raise Unauthorized("Send a valid token: Authorization: Bearer <token>.")
    g.api_user = user


def body():
    """The request's JSON object; anything else is a 422 (for routes without a model)."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ValidationFailed("Send a JSON object with Content-Type: application/json.")
    return data


def accepts(model):
    """The view takes its JSON body as `model` (designer.api_input) allows it: passed in as
    `data`, with only the keys sent; any other body is a 422 naming the wrong keys."""

    def decorate(view):
        @functools.wraps(view)
        def checked(*args, **kwargs):
            raw = request.get_data()
            # A form body was already parsed away, so ask its length too.
            if (raw or request.content_length) and not request.is_json:
                raise ValidationFailed("Send a JSON object with Content-Type: application/json.")
            return view(*args, data=api_input.parse_body(model, raw), **kwargs)

        checked.request_model = model
        return checked

    return decorate


def revision_of(data):
    """The revision a write is based on, from the body or an If-Match header."""
    raw = data.get("revision", request.headers.get("If-Match", "").strip('"'))
    if isinstance(raw, bool) or raw in (None, ""):
        raise ValidationFailed(
            "Send the revision you last read, so no one's change is overwritten.",
            {"revision": "Required."},
        )
    try:
        return int(raw)
    except (TypeError, ValueError):
        raise ValidationFailed("Invalid revision.", {"revision": "Must be an integer."}) from None


def lock_token():
    """The lock token a holder sends with its writes (X-Lock-Token), or None."""
    return request.headers.get("X-Lock-Token") or None


def iso(moment):
    return moment.isoformat() if moment else None


@bp.post("/tokens")
@signin_limited
@accepts(api_input.TokenRequest)
def create_token(data):
    """Exchange a username and password for an API token."""
    user = accounts.authenticate(str(data.get("username", "")), str(data.get("password", "")))
    if user is None:
        raise Unauthorized("Wrong username or password.")
    token, row = accounts.issue_token(user, str(data.get("name", "")), data.get("expires_in_days"))
    return jsonify(
        {"token": token, "id": str(row.id), "name": row.name, "expires_at": iso(row.expires_at)}
    ), 201


@bp.get("/tokens")
def list_tokens():
    """The caller's unrevoked tokens (never their secrets)."""
    rows = accounts.tokens_of(g.api_user)
    return jsonify(
        [
            {
                "id": str(t.id),
                "name": t.name,
                "created_at": iso(t.created_at),
                "last_used_at": iso(t.last_used_at),
                "expires_at": iso(t.expires_at),
            }
            for t in rows
        ]
    )


@bp.delete("/tokens/<token_id>")
def revoke_token(token_id):
    """Revoke one of the caller's tokens."""
    accounts.revoke_token(g.api_user, parse_id(token_id, "token"))
    return "", 204


# <converter:name> in a Flask rule; the converter becomes the parameter's schema.
PATH_PARAMETER = re.compile(r"<(?:(\w+):)?(\w+)>")


def path_parameters(rule):
    return {
        name: {"type": "integer"} if converter == "int" else {"type": "string"}
        for converter, name in PATH_PARAMETER.findall(rule.rule)
    }


def request_body(model, schemas):
    """The OpenAPI request body of a model, adding its schemas to `schemas`."""
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(schema.pop("$defs", {}))
    schemas[model.__name__] = schema
    reference = {"$ref": f"#/components/schemas/{model.__name__}"}
    return {"content": {"application/json": {"schema": reference}}}


@bp.get("/openapi.json")
def openapi():
    """This API's routes as an OpenAPI 3.1 document."""
    paths, schemas = {}, {}
    for rule in current_app.url_map.iter_rules():
        if not rule.endpoint.startswith("api."):
            continue
        path = PATH_PARAMETER.sub(r"{\2}", rule.rule.replace("/api/v1", "", 1))
        view = current_app.view_functions[rule.endpoint]
        model = getattr(view, "request_model", None)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            operation = paths.setdefault(path, {})[method.lower()] = {
                "operationId": rule.endpoint.split(".", 1)[1],
                "summary": (view.__doc__ or "").strip(),
                "parameters": [
                    {"name": arg, "in": "path", "required": True, "schema": schema}
                    for arg, schema in sorted(path_parameters(rule).items())
                ],
                "responses": {"default": {"description": "JSON, or an error object"}},
            }
            if model is not None:
                operation["requestBody"] = request_body(model, schemas)
    return jsonify(
        {
            "openapi": "3.1.0",
            "info": {"title": "Data Model Designer API", "version": "1"},
            "servers": [{"url": "/api/v1"}],
            "components": {
                "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
                "schemas": dict(sorted(schemas.items())),
            },
            "security": [{"bearer": []}],
            "paths": dict(sorted(paths.items())),
        }
    )
