"""Hostile input on every route: nothing answers 5xx, and a refused request (or a preview)
changes nothing.

The routes are the access matrix's (tests/integration/test_access.py) plus
the routes outside a project. Each is sent a corpus of bad input as the
project's owner (who gets furthest into the code): NUL characters and lone
surrogates in every text and in the query string, numbers beyond any type,
wrong JSON types, JSON nested 1,000 levels deep, bodies that are not JSON,
and a 20 MB body.
"""

import json
import re
from urllib.parse import urlencode

import pytest
from peewee import DataError
from peewee import IntegrityError

from designer import api_tokens
from designer import error_pages
from tests.conftest import PASSWORD
from tests.conftest import csrf_token_of
from tests.integration import test_access
from tests.integration.conftest import fingerprint

# The access matrix's world: built once per module, its rows put back before each test.
built_world = test_access.built_world
world = test_access.world

# Routes outside a project: (kind, method, path, body, who sends it).
OUTSIDE = [
    ("html", "GET", "/projects", None, "owner"),
    ("html", "POST", "/projects", {"name": "New", "description": "d"}, "owner"),
    ("html", "POST", "/projects/sample", None, "owner"),
    ("html", "GET", "/projects/new", None, "owner"),
    ("html", "GET", "/settings/tokens", None, "owner"),
    ("html", "POST", "/settings/tokens", {"name": "laptop"}, "owner"),
    ("html", "GET", "/login", None, "anonymous"),
    (
        "html",
        "POST",
        "/login",
        {"username": "olga", "password": PASSWORD, "name": "n"},
        "anonymous",
    ),
    ("html", "GET", "/signup", None, "anonymous"),
    (
        "html",
        "POST",
        "/signup",
        {"username": "newbie", "email": "newbie@example.com", "password": PASSWORD},
        "anonymous",
    ),
    ("html", "GET", "/account", None, "owner"),
    ("html", "POST", "/account/sign-out-everywhere", None, "owner"),
    ("html", "DELETE", "/settings/tokens/{token}", None, "owner"),
    ("html", "GET", "/", None, "owner"),
    ("html", "GET", "/vendor/htmx.min.js", None, "anonymous"),
    ("html", "GET", "/static/css/app.css", None, "anonymous"),
    ("html", "GET", "/assets/0123456789abcdef/css/app.css", None, "anonymous"),
    ("html", "POST", "/logout", None, "owner"),
    ("api", "GET", "/projects", None, "owner"),
    ("api", "POST", "/projects", {"name": "New", "description": "d"}, "owner"),
    ("api", "POST", "/projects/sample", None, "owner"),
    ("api", "GET", "/tokens", None, "owner"),
    (
        "api",
        "POST",
        "/tokens",
        {"username": "olga", "password": PASSWORD, "name": "n"},
        "anonymous",
    ),
    ("api", "GET", "/openapi.json", None, "anonymous"),
    ("api", "DELETE", "/tokens/{token}", None, "owner"),
    ("html", "GET", "/projects/import", None, "owner"),
    (
        "html",
        "POST",
        "/projects/import/preview",
        {"format": "sql", "source": "CREATE TABLE a ()"},
        "owner",
    ),
    ("html", "POST", "/projects/import", {"format": "sql", "source": "CREATE TABLE a ()"}, "owner"),
    ("api", "POST", "/projects/import?format=sql", {"source": "CREATE TABLE a ()"}, "owner"),
    ("api", "POST", "/projects/import/database", {"schema": "none"}, "owner"),
    ("html", "POST", "/projects/import/database/preview", {"schema": "none"}, "owner"),
    ("html", "POST", "/projects/import/database", {"schema": "none"}, "owner"),
]
ALL_ROUTES = [route[:4] + ("owner",) for route in test_access.ROUTES] + OUTSIDE

FIELD_RULES = [
    # An invalid pattern together with a default the pattern would have to judge.
    {"name": "Code", "data_type": "text", "pattern": "([", "default_value": "a"},
    {
        "name": "Amount",
        "data_type": "number",
        "number_type": "decimal",
        "min": "1e1000000",
        "max": "1e1000000",
        "default_value": "1e1000000",
    },
    {"name": "Tiny", "data_type": "number", "number_type": "decimal", "min": "-1e-1000000"},
]
TWENTY_MB = b"x" * (20 * 1024 * 1024)
DEEP_LIST = b"[" * 1000 + b"]" * 1000
DEEP_OBJECT = b'{"a":' * 1000 + b"1" + b"}" * 1000
WRONG_TYPES = ([], {}, None, True, 2**70, 1.5, -1, "")
HUGE_NUMBER = "__HUGE__"


def replaced(body, make):
    """The body with every value replaced by make(value)."""
    return {key: make(value) for key, value in (body or {}).items()}


# Free texts some routes read though the matrix's bodies leave them out.
TEXT_KEYS = ("name", "description", "reason", "message", "default_value", "pattern", "login")


def appended(body, suffix):
    """The body with `suffix` after every value, and after each free text it may read."""
    texts = {**dict.fromkeys(TEXT_KEYS, "x"), **(body or {})}
    return replaced(texts, lambda v: f"{v}{suffix}" if isinstance(v, str) else f"x{suffix}")


def corpus(kind, method, path, body):
    """(label, query string, request keyword arguments) for each bad input."""
    json_type = "application/json"
    form_type = "application/x-www-form-urlencoded"
    yield "nul in query", {"q": "a\x00", "after": "\x00"}, {}
    yield "surrogate in query", "q=%ED%A0%80&after=%ED%A0%80", {}
    if method == "GET":
        return
    if kind == "api":
        yield "nul in body", None, {"json": appended(body, "\x00")}
        yield "surrogate in body", None, {"json": appended(body, "\ud800")}
        yield "surrogate in a key", None, {"json": {**(body or {}), "\ud800": "x"}}
        huge = json.dumps(replaced(body or {"name": 1}, lambda v: HUGE_NUMBER))
        raw = huge.replace(f'"{HUGE_NUMBER}"', "1e1000000").encode()
        yield "huge JSON numbers", None, {"data": raw, "content_type": json_type}
        yield "huge numbers as text", None, {"json": replaced(body, lambda v: "1e1000000")}
        for wrong in WRONG_TYPES:
            yield f"every value {wrong!r}", None, {"json": replaced(body, lambda v, w=wrong: w)}
        for whole in ([], "text", 1, None):
            yield f"body {whole!r}", None, {"json": whole}
        yield "NaN", None, {"data": b'{"name": NaN, "revision": NaN}', "content_type": json_type}
        yield "not JSON", None, {"data": b'{"name": ', "content_type": json_type}
        yield "not UTF-8", None, {"data": b'{"name": "\xff"}', "content_type": json_type}
        yield "JSON as a form", None, {"data": b"name=x", "content_type": form_type}
    else:
        yield "nul in form", None, {"data": appended(body, "\x00")}
        yield "nul in a form key", None, {"data": {**(body or {}), "na\x00me": "x"}}
        surrogate = b"&".join(k.encode() + b"=%ED%A0%80" for k in (body or {"name": 1}))
        yield "surrogate in form", None, {"data": surrogate, "content_type": form_type}
        yield "huge numbers", None, {"data": replaced(body, lambda v: "1e1000000")}
        yield "JSON to a form", None, {"json": body or {}}
    yield "deep list", None, {"data": DEEP_LIST, "content_type": json_type}
    yield "deep object", None, {"data": DEEP_OBJECT, "content_type": json_type}
    yield "20 MB", None, {"data": TWENTY_MB, "content_type": json_type}
    yield "20 MB form", None, {"data": TWENTY_MB, "content_type": form_type}
    if "/fields" in path:
        for rules in FIELD_RULES:
            rules = {**rules, "revision": 1 if kind == "api" else "1"}
            yield f"field rules {rules['name']}", None, {"json" if kind == "api" else "data": rules}


def client_for(kind, actor, world, api, signed_in):
    user = world["actors"].get(actor)
    if kind == "api":
        return api(user)
    client = signed_in(user)
    if user is None:
        client.token = csrf_token_of(client.client.get("/login").text)
    return client


def send(client, kind, method, url, query, kwargs):
    url, _, own = url.partition("?")
    if own and query is not None:
        query = own + "&" + (query if isinstance(query, str) else urlencode(query))
    elif own:
        query = own
    if kind == "api":
        headers = {"Authorization": f"Bearer {client.token}"} if client.token else {}
        return client.client.open(
            "/api/v1" + url, method=method, query_string=query, headers=headers, **kwargs
        )
    return client.request(method, url, query_string=query, **kwargs)


@pytest.mark.parametrize("route", ALL_ROUTES, ids=lambda r: f"{r[0]} {r[1]} {r[2]}")
def test_bad_input_never_gets_a_server_error_nor_changes_anything(route, world, api, signed_in):
    kind, method, path, body, actor = route
    ids = {
        **world["ids"],
        "token": api_tokens.issue_token(world["actors"]["owner"], "bad input")[1].id,
    }
    url, body = test_access.filled(path, ids), test_access.filled(body, ids)
    client = client_for(kind, actor, world, api, signed_in)
    failures = []
    for label, query, kwargs in corpus(kind, method, path, body):
        before = fingerprint()
        response = send(client, kind, method, url, query, kwargs)
        if response.status_code >= 500:
            failures.append(f"{label}: {response.status_code} {response.text[:200]}")
        elif (
            response.status_code >= 400 or test_access.previews(kind, method, path, body)
        ) and fingerprint() != before:
            failures.append(f"{label}: answered {response.status_code} but changed data")
    assert not failures, failures


@pytest.mark.parametrize(
    ("kind", "payload", "field"),
    [
        ("api", {"name": "Shop\x00"}, "name"),
        ("api", {"name": "Shop", "description": "\ud800"}, "description"),
        ("html", {"name": "Shop\x00"}, "name"),
    ],
)
def test_unstorable_text_is_refused_with_422_naming_the_field(
    kind, payload, field, world, api, signed_in
):
    client = client_for(kind, "owner", world, api, signed_in)
    if kind == "api":
        response = client.post("/projects", json=payload)
        assert list(response.json["error"]["fields"]) == [field]
    else:
        response = client.post("/projects", data=payload)
        assert f"Field {field}:" in response.text
    assert response.status_code == 422


def test_nul_in_a_search_is_refused_naming_the_parameter(world, api):
    response = api(world["actors"]["owner"]).get(f"/projects/{world['ids']['p']}/tables?q=a%00")
    assert response.status_code == 422
    assert "q" in response.json["error"]["fields"]


def test_deep_json_is_an_unreadable_request(world, api):
    client = api(world["actors"]["owner"])
    response = client.client.post(
        "/api/v1/projects",
        data=DEEP_LIST,
        content_type="application/json",
        headers={"Authorization": f"Bearer {client.token}"},
    )
    assert response.status_code == 400
    assert response.json["error"]["code"] == "bad_request"


def test_invalid_pattern_with_a_default_names_the_pattern(world, api):
    response = api(world["actors"]["owner"]).post(
        f"/tables/{world['ids']['t']}/fields", json=FIELD_RULES[0]
    )
    assert response.status_code == 422
    assert "pattern" in response.json["error"]["fields"]


def test_a_decimal_beyond_any_precision_names_each_number(world, api):
    response = api(world["actors"]["owner"]).post(
        f"/tables/{world['ids']['t']}/fields", json=FIELD_RULES[1]
    )
    assert response.status_code == 422
    assert {"min", "max", "default_value"} <= set(response.json["error"]["fields"])


@pytest.mark.parametrize(
    ("path", "error"), [("/api/v1/projects", DataError), ("/projects", DataError)]
)
def test_a_value_the_database_refuses_unexpectedly_is_a_422(app, path, error):
    with app.test_request_context(path, method="POST"):
        response = app.make_response(error_pages.render_data_error(error("value too long")))
    assert response.status_code == 422


def test_a_constraint_hit_unexpectedly_is_a_409(app):
    with app.test_request_context("/api/v1/projects", method="POST"):
        response = app.make_response(
            error_pages.render_integrity_error(IntegrityError("duplicate"))
        )
    assert response.status_code == 409
    assert response.json["error"]["code"] == "conflict"


def test_every_route_is_in_the_corpus(app):
    covered = {
        (
            method,
            ("/api/v1" if kind == "api" else "") + re.sub(r"\{\w+\}", "<>", path.split("?")[0]),
        )
        for kind, method, path, *_ in ALL_ROUTES
    }
    shapes = {
        "/vendor/<>": "/vendor/htmx.min.js",
        "/static/<>": "/static/css/app.css",
        "/assets/<>/<>": "/assets/0123456789abcdef/css/app.css",
    }
    missing = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("testing."):
            continue  # test-only routes (designer/views/testing.py)
        shape = re.sub(r"<[^>]+>", "<>", rule.rule)
        shape = shapes.get(shape, shape)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            if (method, shape) not in covered:
                missing.append(f"{method} {rule.rule}")
    assert not missing
