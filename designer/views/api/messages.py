"""What the API's views read from a request and how they write times back."""

import functools

from flask import request

from designer import api_input
from designer.errors import ValidationFailed


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


def query(**parameters):
    """Document the view's query parameters, name=(JSON type, what it does), in the OpenAPI
    document (api/openapi.py); the view still reads them itself."""

    def decorate(view):
        view.query_parameters = parameters
        return view

    return decorate


def answers(status, model, many=False):
    """Document what the view answers when it succeeds: `status` with a `model` of
    designer.api_output (a list of them when `many`), in the OpenAPI document."""

    def decorate(view):
        view.response_model = (status, model, many)
        return view

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
