"""This API described as an OpenAPI 3.1 document, generated from its routes and models."""

import re

from flask import current_app
from flask import jsonify

from designer.views.api import bp

# <converter:name> in a Flask rule; the converter becomes the parameter's schema.
PATH_PARAMETER = re.compile(r"<(?:(\w+):)?(\w+)>")


def path_parameters(rule):
    return {
        name: {"type": "integer"} if converter == "int" else {"type": "string"}
        for converter, name in PATH_PARAMETER.findall(rule.rule)
    }


def query_parameters(view):
    """The optional query parameters a view documents (api.messages.query)."""
    return [
        {"name": name, "in": "query", "required": False, "description": text,
         "schema": {"type": kind}}
        for name, (kind, text) in getattr(view, "query_parameters", {}).items()
    ]  # fmt: skip


def request_body(model, schemas):
    """The OpenAPI request body of a model, adding its schemas to `schemas`."""
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(schema.pop("$defs", {}))
    schemas[model.__name__] = schema
    reference = {"$ref": f"#/components/schemas/{model.__name__}"}
    return {"content": {"application/json": {"schema": reference}}}


def responses(view, schemas):
    """The view's documented answer (api.messages.answers), adding its schemas to `schemas`;
    every operation may answer an error object."""
    found = {"default": {"description": "JSON, or an error object"}}
    answer = getattr(view, "response_model", None)
    if answer is None:
        return found
    status, model, many = answer
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(schema.pop("$defs", {}))
    schemas[model.__name__] = schema
    reference = {"$ref": f"#/components/schemas/{model.__name__}"}
    content = {"type": "array", "items": reference} if many else reference
    described = (model.__doc__ or model.__name__).strip().splitlines()[0]
    found[str(status)] = {
        "description": described, "content": {"application/json": {"schema": content}}
    }  # fmt: skip
    return found


# A token's scope (POST /tokens: read_only, project_id) bounds every operation.
TOKEN_SCHEME = {
    "type": "http",
    "scheme": "bearer",
    "description": "An API token from POST /tokens. A read-only token gets 403 for every "
    "method but GET; a token for one project gets 404 for every other project, as a "
    "non-member does, and 403 for creating projects and from the routes of branches and "
    "merge requests, which read two projects (main and a branch; a branch is a project of "
    "its own id).",
}


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
                    *(
                        {"name": arg, "in": "path", "required": True, "schema": schema}
                        for arg, schema in sorted(path_parameters(rule).items())
                    ),
                    *query_parameters(view),
                ],
                "responses": responses(view, schemas),
            }
            if model is not None:
                operation["requestBody"] = request_body(model, schemas)
    return jsonify(
        {
            "openapi": "3.1.0",
            "info": {"title": "Data Model Designer API", "version": "1"},
            "servers": [{"url": "/api/v1"}],
            "components": {
                "securitySchemes": {"bearer": TOKEN_SCHEME},
                "schemas": dict(sorted(schemas.items())),
            },
            "security": [{"bearer": []}],
            "paths": dict(sorted(paths.items())),
        }
    )
