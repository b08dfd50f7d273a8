"""Sessions that end: logout and "Sign out everywhere" stop every copy of the cookie,
CSRF tokens rotate at sign-in and sign-out, proxies are trusted only when configured,
and API tokens may expire."""

import datetime

import pytest

from designer import api_tokens
from designer import create_app
from designer.models import ApiToken
from tests.conftest import PASSWORD
from tests.conftest import csrf_token_of


def session_cookie(client):
    return client.get_cookie("session").value


def browser_with(app, cookie):
    other = app.test_client()
    other.set_cookie("session", cookie)
    return other


def sign_in(client, username="alice"):
    token = csrf_token_of(client.get("/login").text)
    response = client.post(
        "/login", data={"username": username, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302
    return csrf_token_of(client.get("/projects").text)


def test_a_cookie_copied_before_logout_is_sent_to_sign_in_after_it(app, alice):
    client = app.test_client()
    token = sign_in(client)
    copied = session_cookie(client)
    assert browser_with(app, copied).get("/projects").status_code == 200
    client.post("/logout", data={"csrf_token": token})
    response = browser_with(app, copied).get("/projects")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_sign_out_everywhere_ends_the_sessions_of_other_browsers(app, alice):
    laptop, phone = app.test_client(), app.test_client()
    sign_in(laptop)
    token = sign_in(phone)
    assert "Sign out everywhere" in phone.get("/account").text
    response = phone.post("/account/sign-out-everywhere", data={"csrf_token": token})
    assert response.headers["Location"].startswith("/login")
    assert laptop.get("/projects").status_code == 302
    assert phone.get("/projects").status_code == 302
    sign_in(laptop)
    assert laptop.get("/projects").status_code == 200


def test_the_csrf_token_changes_at_sign_in_and_the_old_one_stops_working(app, alice):
    client = app.test_client()
    before = csrf_token_of(client.get("/login").text)
    after = sign_in(client)
    assert after != before
    refused = client.post("/projects", data={"name": "Shop", "csrf_token": before})
    assert refused.status_code == 400
    assert client.post("/projects", data={"name": "Shop", "csrf_token": after}).status_code == 302


def test_the_csrf_token_changes_at_sign_out(app, alice):
    client = app.test_client()
    signed_in = sign_in(client)
    client.post("/logout", data={"csrf_token": signed_in})
    assert csrf_token_of(client.get("/login").text) != signed_in
    response = client.post("/login", data={"username": "alice", "csrf_token": signed_in})
    assert response.status_code == 400


def test_a_client_sent_forwarded_for_neither_ends_the_session_nor_escapes_the_limits(app, alice):
    client = app.test_client()
    sign_in(client)
    moved = client.get("/projects", headers={"X-Forwarded-For": "203.0.113.9"})
    assert moved.status_code == 200
    statuses = []
    for n in range(8):
        anonymous = app.test_client()
        token = csrf_token_of(anonymous.get("/login").text)
        form = {"username": f"nobody{n}", "password": "wrong password", "csrf_token": token}
        headers = {"X-Forwarded-For": f"198.51.100.{n}"}
        statuses.append(anonymous.post("/login", data=form, headers=headers).status_code)
    assert 429 in statuses


@pytest.fixture
def proxied_app(app):
    """The same app behind one trusted proxy."""
    return create_app({**app.config, "TRUSTED_PROXIES": 1, "INSTANCE_PATH": app.instance_path})


def test_behind_a_trusted_proxy_each_forwarded_client_has_its_own_limit(proxied_app, alice):
    def attempts(address, count):
        statuses = []
        for n in range(count):
            client = proxied_app.test_client()
            headers = {"X-Forwarded-For": address}
            token = csrf_token_of(client.get("/login", headers=headers).text)
            form = {"username": f"nobody{n}", "password": "wrong password", "csrf_token": token}
            statuses.append(client.post("/login", data=form, headers=headers).status_code)
        return statuses

    assert 429 in attempts("198.51.100.1", 8)
    assert attempts("198.51.100.2", 1) == [401]


def test_api_tokens_may_expire_and_expired_ones_are_refused(alice, api):
    client = api()
    created = client.post(
        "/tokens",
        json={"username": "alice", "password": PASSWORD, "expires_in_days": 7, "name": "ci"},
    )
    assert created.status_code == 201
    assert created.json["expires_at"]
    token = created.json["token"]
    headers = {"Authorization": f"Bearer {token}"}
    listed = client.client.get("/api/v1/tokens", headers=headers)
    assert listed.status_code == 200
    assert listed.json[0]["last_used_at"]
    past = datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=1)
    ApiToken.update(expires_at=past).where(ApiToken.id == created.json["id"]).execute()
    assert client.client.get("/api/v1/tokens", headers=headers).status_code == 401


def test_a_token_lifetime_must_be_one_of_the_offered_ones(alice, api):
    response = api().post(
        "/tokens", json={"username": "alice", "password": PASSWORD, "expires_in_days": 10**6}
    )
    assert response.status_code == 422
    assert "expires_in_days" in response.json["error"]["fields"]


def test_the_tokens_page_shows_expiry_and_last_use(alice, signed_in):
    api_tokens.issue_token(alice, "ci", expires_in_days=30)
    page = signed_in(alice).get("/settings/tokens", htmx=False).text
    assert "Expires" in page
    assert "Last used" in page
    assert "never" in page
