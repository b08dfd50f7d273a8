"""A fuzz over every operation /api/v1/openapi.json describes: bodies drawn from its
request schemas (and beyond them), path ids and queries; the API answers below 500."""

import uuid

from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from tests.integration import test_access

built_world = test_access.built_world
world = test_access.world

# Every key some API body or query reads, so drawn bodies reach the code behind them.
KEYS = (
    "name", "description", "table_name", "field_name", "data_type", "is_required",
    "default_value", "field_config", "sort_order", "status", "confirm", "revision",
    "username", "email", "password", "role", "lock_type", "reason", "lock_token", "force",
    "source_table_id", "target_table_id", "source_field_id", "target_field_id",
    "relationship_name", "relationship_type", "cascade_config", "on_delete", "on_update",
    "field_ids", "message", "max_length", "min_length", "pattern", "number_type",
    "precision", "scale", "min", "max", "date_type", "unique", "indexed", "is_active",
    "expires_in_days", "columns", "expression", "keys", "include", "where", "method",
    "comment", "column", "collation", "opclass", "descending", "nulls", "text_type", "enum_id",
    "named_type", "time_precision", "array_dimensions", "default_empty", "labels",
    "branch_id", "title", "body", "conflict_id", "side", "version",
)  # fmt: skip
NASTY = ("\x00", "\ud800", "1e1000000", "-1", "0", "one_to_one", "([", "now()", "true", "NaN")
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
    st.sampled_from(NASTY),
    st.builds(lambda: str(uuid.uuid4())),
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(KEYS), inner),
    max_leaves=8,
)
bodies = st.one_of(st.dictionaries(st.sampled_from(KEYS), values, max_size=6), values)
queries = st.dictionaries(
    st.sampled_from(("q", "after", "from", "to", "format", "focus", "status")),
    # A query string cannot carry a lone surrogate (it is percent-encoded UTF-8).
    st.one_of(st.text(max_size=10), st.sampled_from([n for n in NASTY if n != "\ud800"])),
    max_size=3,
)


# The API's OpenAPI document, read once: building it took about a second a draw under
# load, most of the test's 120 s.
documents = []


def operations(api):
    """(method, path, the properties of its request body's schema) for every operation."""
    if not documents:
        documents.append(api().get("/openapi.json").json)
    document = documents[0]
    schemas = document["components"]["schemas"]
    found = []
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            if path == "/tokens" and method == "post":
                continue  # sign-in is rate limited; test_bad_input covers it
            content = operation.get("requestBody", {}).get("content", {})
            reference = content.get("application/json", {}).get("schema", {}).get("$ref", "")
            schema = schemas.get(reference.rsplit("/", 1)[-1], {})
            found.append((method.upper(), path, schema.get("properties", {})))
    return found


def body_for(properties):
    """Bodies shaped by the schema's properties (valid choices among them), or anything."""
    if not properties:
        return bodies
    fields = {
        key: st.one_of(values, st.sampled_from(spec["enum"])) if "enum" in spec else values
        for key, spec in properties.items()
    }
    return st.one_of(st.fixed_dictionaries({}, optional=fields), bodies)


def path_ids(world):
    ids = world["ids"]
    return {
        "project_id": str(ids["p"]),
        "table_id": str(ids["t"]),
        "field_id": str(ids["f"]),
        "rel_id": str(ids["r"]),
        "enum_id": str(ids["e"]),
        "user_id": str(ids["m"]),
        "number": "1",
        "token_id": str(uuid.uuid4()),
        "deployment_id": str(ids["d"]) if "d" in ids else str(uuid.uuid4()),
        "kind": ids["k"],
        "item_id": str(ids["s"]),
        "partition_id": str(ids["t"]),
        "branch_id": str(ids["b"]),
    }


@settings(
    max_examples=100,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_no_api_operation_answers_5xx_whatever_it_is_sent(data, world, api):
    client = api(world["actors"]["owner"])
    method, path, properties = data.draw(st.sampled_from(operations(api)))
    real = path_ids(world)
    fills = {
        name: data.draw(st.sampled_from([real[name], str(uuid.uuid4()), "x\x00"])) for name in real
    }
    url = path.format(**fills)
    body = data.draw(body_for(properties)) if method in ("POST", "PUT", "PATCH", "DELETE") else None
    query = data.draw(queries)
    response = client.client.open(
        "/api/v1" + url,
        method=method,
        json=body,
        query_string=query,
        headers={"Authorization": f"Bearer {client.token}"},
    )
    assert response.status_code < 500, (method, url, body, query, response.text[:300])


def test_openapi_names_path_parameters_without_flask_converters(api):
    document = api().get("/openapi.json").json
    version = document["paths"]["/projects/{project_id}/versions/{number}"]["get"]
    assert {p["name"]: (p["in"], p["schema"]["type"]) for p in version["parameters"]} == {
        "project_id": ("path", "string"),
        "number": ("path", "integer"),
        "include": ("query", "string"),
    }
    assert not [path for path in document["paths"] if ":" in path]
