"""Accounts: sign-up, sign-in, sign-out, password hashing, CSRF and API tokens."""

import re

import pytest

from designer import accounts
from designer.models import ApiToken
from designer.models import User
from tests.conftest import PASSWORD
from tests.conftest import csrf_token_of


def signup(client, **form):
    token = csrf_token_of(client.get("/signup").text)
    data = {"username": "alice", "email": "alice@example.com", "password": PASSWORD}
    return client.post("/signup", data={**data, **form, "csrf_token": token})


def test_signup_page_has_the_three_labelled_fields(app):
    page = app.test_client().get("/signup").text
    for label in ("Username", "Email", "Password"):
        assert f">{label}" in page


def test_signup_creates_an_argon2_hashed_user_and_signs_in(app):
    client = app.test_client()
    response = signup(client)
    assert response.status_code == 302
    assert response.headers["Location"] == "/projects"
    user = User.get(User.username == "alice")
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash
    assert client.get("/projects").status_code == 200


@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        ({"username": "a"}, "username", "3 to 40"),
        ({"username": "<script>"}, "username", "3 to 40"),
        ({"email": "not-an-email"}, "email", "email address"),
        ({"password": "short"}, "password", "at least 10"),
    ],
)
def test_signup_refuses_bad_input_next_to_the_field(app, form, field, message):
    response = signup(app.test_client(), **form)
    assert response.status_code == 422
    assert message in response.text
    assert f'id="{field}-error"' in response.text
    assert User.select().count() == 0


def test_signup_keeps_the_input_but_never_the_password(app):
    response = signup(app.test_client(), email="bad", username="carol")
    assert 'value="carol"' in response.text
    assert PASSWORD not in response.text


def test_signup_refuses_a_taken_username_in_any_case(app, make_user):
    make_user("alice")
    response = signup(app.test_client(), username="ALICE", email="other@example.com")
    assert response.status_code == 422
    assert "already taken" in response.text


def test_signup_refuses_a_taken_email(app, make_user):
    make_user("alice")
    response = signup(app.test_client(), username="alice2", email="ALICE@example.com")
    assert response.status_code == 422
    assert "email is already taken" in response.text


def test_login_with_username_or_email(app, make_user, signed_in):
    user = make_user("alice")
    for login in ("alice", "Alice@Example.com"):
        client = app.test_client()
        token = csrf_token_of(client.get("/login").text)
        response = client.post(
            "/login", data={"username": login, "password": PASSWORD, "csrf_token": token}
        )
        assert response.status_code == 302, login
    assert signed_in(user).get("/projects", htmx=False).status_code == 200


def test_login_refuses_a_wrong_password_without_saying_which_part(app, make_user):
    make_user("alice")
    client = app.test_client()
    token = csrf_token_of(client.get("/login").text)
    response = client.post(
        "/login", data={"username": "alice", "password": "wrong password", "csrf_token": token}
    )
    assert response.status_code == 401
    assert "Wrong username or password" in response.text
    assert client.get("/projects").status_code == 302


def test_login_never_redirects_off_site(app, make_user):
    make_user("alice")
    client = app.test_client()
    token = csrf_token_of(client.get("/login").text)
    response = client.post(
        "/login",
        data={
            "username": "alice",
            "password": PASSWORD,
            "csrf_token": token,
            "next": "https://evil.example/",
        },
    )
    assert response.headers["Location"] == "/projects"


def test_logout_ends_the_session(make_user, signed_in):
    b = signed_in(make_user())
    assert b.post("/logout", htmx=False).status_code == 302
    assert b.get("/projects", htmx=False).status_code == 302


def test_anonymous_htmx_requests_are_sent_to_sign_in(app):
    response = app.test_client().get("/projects", headers={"HX-Request": "true"})
    assert response.status_code == 401
    assert response.headers["HX-Redirect"].startswith("/login")


def test_inactive_users_cannot_sign_in(make_user):
    user = make_user()
    User.update(is_active=False).where(User.id == user.id).execute()
    assert accounts.authenticate("alice", PASSWORD) is None


# CSRF


def test_a_form_post_without_csrf_token_is_refused(app):
    response = app.test_client().post(
        "/signup",
        data={"username": "alice", "email": "alice@example.com", "password": PASSWORD},
    )
    assert response.status_code == 400
    assert User.select().count() == 0


def test_an_htmx_write_without_csrf_header_is_refused(make_user, signed_in):
    b = signed_in(make_user())
    response = b.post("/projects", data={"name": "Shop"}, headers={"X-CSRFToken": "forged"})
    assert response.status_code == 400
    response = b.client.post("/projects", data={"name": "Shop"}, headers={"HX-Request": "true"})
    assert response.status_code == 400
    assert b.post("/projects", data={"name": "Shop"}).status_code == 200


def test_logout_needs_a_csrf_token(make_user, signed_in):
    b = signed_in(make_user())
    assert b.client.post("/logout").status_code == 400
    assert b.get("/projects", htmx=False).status_code == 200


def test_the_htmx_csrf_header_is_set_on_the_body(make_user, signed_in):
    # The page's own token, not the one signed in with: tokens carry the second they were
    # signed in, so comparing with an earlier one failed whenever a second passed between.
    b = signed_in(make_user())
    page = b.get("/projects", htmx=False).text
    header = re.search(r"<body[^>]*hx-headers='\{\"X-CSRFToken\": \"([^\"]+)\"\}'", page)
    assert header, "the body carries no htmx CSRF header"
    assert header.group(1) == csrf_token_of(page)
    # And htmx's requests carry it: a change sent with it alone is accepted, without it refused.
    b.token = None
    refused = b.post("/projects", data={"name": "Without"}, headers={})
    accepted = b.post("/projects", data={"name": "With"}, headers={"X-CSRFToken": header.group(1)})
    assert refused.status_code == 400 and accepted.status_code < 400


# API tokens


def test_token_is_issued_for_valid_credentials_and_stored_hashed(api, make_user):
    make_user("alice")
    response = api().post("/tokens", json={"username": "alice", "password": PASSWORD, "name": "ci"})
    assert response.status_code == 201
    token = response.json["token"]
    stored = ApiToken.get()
    assert token not in stored.token_hash
    assert len(stored.token_hash) == 64


def test_token_is_refused_for_wrong_credentials(api, make_user):
    make_user("alice")
    body = {"username": "alice", "password": "nope nope nope", "name": "ci"}
    response = api().post("/tokens", json=body)
    assert response.status_code == 401
    assert response.json["error"]["code"] == "unauthorized"


def test_api_refuses_missing_malformed_and_unknown_tokens(api, make_user):
    make_user()
    client = api()
    assert client.get("/projects").status_code == 401
    for header in ("Bearer", "Basic abc", "Bearer dmd_unknown", "Token dmd_x"):
        response = client.get("/projects", headers={"Authorization": header})
        assert response.status_code == 401, header
        assert set(response.json["error"]) == {"code", "message", "fields"}


def test_revoked_tokens_stop_working(api, make_user):
    client = api(make_user())
    assert client.get("/projects").status_code == 200
    token_id = client.get("/tokens").json[0]["id"]
    assert client.delete(f"/tokens/{token_id}").status_code == 204
    assert client.get("/projects").status_code == 401


def test_a_user_cannot_revoke_someone_elses_token(api, make_user):
    alice, bob = api(make_user("alice")), api(make_user("bob"))
    alice_token = alice.get("/tokens").json[0]["id"]
    assert bob.delete(f"/tokens/{alice_token}").status_code == 404
    assert bob.delete("/tokens/not-a-uuid").status_code == 404
    assert alice.get("/projects").status_code == 200


def test_api_ignores_session_cookies(app, make_user, signed_in):
    b = signed_in(make_user())
    response = b.client.get("/api/v1/projects")
    assert response.status_code == 401


def test_api_needs_no_csrf_token_with_a_bearer_token(api, make_user):
    response = api(make_user()).post("/projects", json={"name": "Shop"})
    assert response.status_code == 201


def test_session_cookie_is_http_only_and_same_site(app):
    cookie = session_cookie(signup(app.test_client()))
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def session_cookie(response):
    (cookie,) = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    return cookie


def test_session_cookie_is_secure_over_https(app):
    client = app.test_client()
    token = csrf_token_of(client.get("/signup", base_url="https://localhost").text)
    response = client.post(
        "/signup",
        base_url="https://localhost",
        data={"username": "alice", "email": "a@example.com", "password": PASSWORD,
              "csrf_token": token},
    )  # fmt: skip
    assert "Secure" in session_cookie(response)
    plain = signup(app.test_client(), username="bob", email="b@example.com")
    assert "Secure" not in session_cookie(plain)


def test_pages_send_security_headers(app):
    response = app.test_client().get("/login")
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "HX-Request" in response.headers["Vary"]


def test_users_create_command(app):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["users", "create", "scripted", "--email", "s@example.com", "--password", PASSWORD]
    )
    assert result.exit_code == 0, result.output
    assert accounts.authenticate("scripted", PASSWORD) is not None
    result = runner.invoke(
        args=["users", "create", "scripted", "--email", "t@example.com", "--password", PASSWORD]
    )
    assert result.exit_code == 1
    assert "already taken" in result.output
