"""Sign-in resists abuse: rate limits per account and per client, a cap on hashing, a policy.

The test app allows 3 failed sign-ins per account in a moving 2-second window
and 6 per client in 30 seconds (tests/conftest.py); the `production` app has
the defaults people get. The limiter's clock is the test's (`clock`): windows
pass when the test says, never by waiting.
"""

import threading
import time

import limits.storage.memory
import limits.strategies
import pytest

from designer import accounts
from designer import signin_limits
from tests.conftest import PASSWORD
from tests.conftest import csrf_token_of


class Clock:
    """Stands in for the time module where the rate limits read the time; moves on only
    when the test advances it."""

    def __init__(self):
        self.now = time.time()

    def time(self):
        return self.now

    def advance(self, seconds):
        self.now += seconds

    def __getattr__(self, name):
        return getattr(time, name)


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    for module in (limits.storage.memory, limits.strategies, signin_limits):
        monkeypatch.setattr(module, "time", clock)
    return clock


def attempt(client, username, password):
    token = csrf_token_of(client.get("/login").text)
    return client.post(
        "/login", data={"username": username, "password": password, "csrf_token": token}
    )


def fail_until_refused(client, username, tries=10):
    for _ in range(tries):
        response = attempt(client, username, "not the password")
        if response.status_code == 429:
            return response
        assert response.status_code == 401
    pytest.fail(f"no 429 after {tries} failed sign-ins")


def test_repeated_failures_are_refused_and_the_right_password_too_until_the_window_passes(
    app, alice, clock
):
    client = app.test_client()
    refused = fail_until_refused(client, "alice")
    assert refused.headers["Retry-After"] == "2"  # the whole window: all failed just now
    assert "Too many attempts" in refused.text
    assert attempt(client, "alice", PASSWORD).status_code == 429
    clock.advance(1.9)
    assert attempt(client, "alice", PASSWORD).status_code == 429
    clock.advance(0.2)
    assert attempt(client, "alice", PASSWORD).status_code == 302


def test_by_default_ten_failed_sign_ins_per_account_in_fifteen_minutes(production, alice, clock):
    client = production.test_client()
    for _ in range(10):  # one a minute: the window moves, the first failure still counts
        assert attempt(client, "alice", "not the password").status_code == 401
        clock.advance(60)
    refused = attempt(client, "alice", PASSWORD)
    assert refused.status_code == 429
    # The first failure (10 minutes ago) leaves the window 15 minutes after it was made.
    assert refused.headers["Retry-After"] == str(5 * 60)
    elsewhere = client_from(production, "192.0.2.7")
    assert attempt(elsewhere, "alice", PASSWORD).status_code == 429
    clock.advance(5 * 60 - 1)
    assert attempt(client, "alice", PASSWORD).status_code == 429
    clock.advance(2)
    assert attempt(client, "alice", PASSWORD).status_code == 302


def client_from(app, address):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def sign_up(app, address, username, email="not an address"):
    """One sign-up attempt from its own client address (no client limit shared)."""
    client = client_from(app, address)
    token = csrf_token_of(client.get("/signup").text)
    form = {"username": username, "email": email, "password": PASSWORD, "csrf_token": token}
    return client.post("/signup", data=form).status_code


def test_by_default_five_sign_up_attempts_per_username_an_hour(production, clock):
    statuses = [sign_up(production, f"192.0.2.{n}", "newbie") for n in range(6)]
    assert statuses == [422] * 5 + [429]
    assert sign_up(production, "192.0.2.50", "somebody") == 422  # another name: its own count
    clock.advance(60 * 60 - 1)
    assert sign_up(production, "192.0.2.51", "newbie", "newbie@example.com") == 429
    clock.advance(2)
    assert sign_up(production, "192.0.2.52", "newbie", "newbie@example.com") == 302


def test_the_account_limit_holds_from_another_client_and_over_the_api(app, alice, api):
    fail_until_refused(app.test_client(), "alice")
    other = app.test_client()
    assert attempt(other, "ALICE", PASSWORD).status_code == 429
    response = api().post("/tokens", json={"username": "alice", "password": PASSWORD})
    assert response.status_code == 429
    assert response.json["error"]["code"] == "too_many_requests"
    assert int(response.headers["Retry-After"]) >= 1


def test_one_client_failing_on_many_accounts_is_refused(app, make_user):
    client = app.test_client()
    statuses = [attempt(client, f"nobody{n}", "not the password").status_code for n in range(8)]
    assert statuses[:6] == [401] * 6
    assert 429 in statuses[6:]


def test_successful_sign_ins_do_not_count(app, alice):
    client = app.test_client()
    for _ in range(10):
        assert attempt(client, "alice", PASSWORD).status_code == 302
        client.post("/logout", data={"csrf_token": csrf_token_of(client.get("/projects").text)})


def test_signing_up_is_limited_per_client(app):
    client = app.test_client()
    statuses = []
    for n in range(12):
        token = csrf_token_of(client.get("/signup").text)
        form = {"username": f"u{n}x", "email": "bad", "password": PASSWORD, "csrf_token": token}
        statuses.append(client.post("/signup", data=form).status_code)
    assert statuses[:10] == [422] * 10
    assert statuses[10:] == [429, 429]


def test_a_sign_in_waits_for_a_free_hashing_slot_or_is_told_to_come_back(app, alice, monkeypatch):
    monkeypatch.setattr(accounts, "HASH_WAIT_SECONDS", 0)
    client = app.test_client()
    token = csrf_token_of(client.get("/login").text)
    form = {"username": "alice", "password": PASSWORD, "csrf_token": token}
    accounts.limit_concurrent_hashing(1)
    try:
        with accounts.hashing_slot():
            busy = client.post("/login", data=form)
        assert busy.status_code == 503
        assert busy.headers["Retry-After"] == "1"
        assert client.post("/login", data=form).status_code == 302
    finally:
        accounts.limit_concurrent_hashing(app.config["PASSWORD_HASH_CONCURRENCY"])


class CountingHasher:
    """The real hasher, counting how many verifications run at the same moment."""

    def __init__(self, real):
        self.real = real
        self.running = self.most = 0
        self.guard = threading.Lock()

    def verify(self, *args):
        with self.guard:
            self.running += 1
            self.most = max(self.most, self.running)
        try:
            time.sleep(0.02)  # long enough for the other threads to pile up behind
            return self.real.verify(*args)
        finally:
            with self.guard:
                self.running -= 1

    def __getattr__(self, name):
        return getattr(self.real, name)


def test_no_more_hashes_run_at_once_than_the_slots(app, alice, monkeypatch):
    counting = CountingHasher(accounts.hasher)
    monkeypatch.setattr(accounts, "hasher", counting)
    accounts.limit_concurrent_hashing(2)
    try:
        threads = [
            threading.Thread(target=accounts.authenticate, args=("alice", PASSWORD))
            for _ in range(8)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        accounts.limit_concurrent_hashing(app.config["PASSWORD_HASH_CONCURRENCY"])
    assert 1 <= counting.most <= 2


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short", "at least 10"),
        ("1234567890", "most used"),
        ("Password123", "most used"),
        ("newcomer99", "username or email"),
        ("NEWCOMER99", "username or email"),
        ("someone.else@example.com", "username or email"),
        ("Someone.Else@Example.com", "username or email"),
        ("someone.else", "username or email"),
    ],
)
def test_passwords_are_long_uncommon_and_not_the_username_nor_the_email(app, password, message):
    with pytest.raises(accounts.ValidationFailed) as refused:
        accounts.create_user("newcomer99", "someone.else@example.com", password)
    assert message in refused.value.fields["password"]


def test_a_long_uncommon_passphrase_is_accepted(app):
    assert accounts.create_user("newcomer", "n@example.com", PASSWORD).username == "newcomer"
