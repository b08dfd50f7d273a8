"""Every response carries the security headers: pages, API, static files and errors."""

import pytest

# Written out in full, not imported: a change to the policy must change this test too.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'self'"
)
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}

# (method, path, body, expected status) as served by the production app.
RESPONSES = {
    "sign-in page": ("GET", "/login", None, 200),
    "sign-up page": ("GET", "/signup", None, 200),
    "redirect to sign in": ("GET", "/projects", None, 302),
    "API document": ("GET", "/api/v1/openapi.json", None, 200),
    "API refusal": ("GET", "/api/v1/projects", None, 401),
    "API token issue": (
        "POST",
        "/api/v1/tokens",
        {"username": "x", "password": "y", "name": "n"},
        401,
    ),  # noqa: E501
    "static stylesheet": ("GET", "/static/css/app.css", None, 200),
    "static script": ("GET", "/static/js/app.js", None, 200),
    "npm package file": ("GET", "/vendor/htmx.min.js", None, 200),
    "404 page": ("GET", "/no/such/page", None, 404),
    "API 404": ("GET", "/api/v1/no/such/thing", None, 404),
    "405 page": ("PUT", "/login", None, 405),
    "CSRF refusal": ("POST", "/login", {}, 400),
    "500 page": ("POST", "/test/broken", None, 500),
    "API 500": ("POST", "/api/v1/test/broken", None, 500),
    "409 page": ("POST", "/test/refused/deadlock_detected", None, 409),
}


@pytest.mark.parametrize("name", RESPONSES)
def test_every_response_sends_the_security_headers(production, name):
    method, path, body, status = RESPONSES[name]
    client = production.test_client()
    if path.startswith("/api/"):
        response = client.open(path, method=method, json=body)
    else:
        response = client.open(path, method=method, data=body)
    assert response.status_code == status
    for header, value in HEADERS.items():
        assert response.headers.get(header) == value, header


def test_pages_vary_on_htmx_requests_but_the_api_does_not(production):
    client = production.test_client()
    assert "HX-Request" in client.get("/login").headers["Vary"]
    assert "HX-Request" not in client.get("/api/v1/openapi.json").headers.get("Vary", "")
