"""The database restarting under load: clean 503s meanwhile, and recovery without an app restart.

The app runs on a PostgreSQL server of the test's own (pgserver, its own data directory),
so stopping and starting it disturbs nothing else.
"""

import os
import re
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

import pgserver
import pytest
from pgserver._commands import pg_ctl

from designer.db import open_database
from designer.db import upgrade
from tests.integration.servers import FLASK
from tests.integration.servers import ROOT
from tests.integration.servers import Gunicorn

pytestmark = pytest.mark.slow

PASSWORD = "restart password"


@pytest.fixture
def own_server(tmp_path):
    """A private PostgreSQL server and a migrated designer database on it."""
    server = pgserver.get_server(tmp_path / "pg", cleanup_mode="delete")
    server.psql("CREATE DATABASE designer;")
    url = server.get_uri("designer")
    db = open_database(url)
    upgrade(db)
    db.close_all()
    yield server, url
    server.cleanup()


def create_user(url, tmp_path):
    subprocess.run(
        [
            *FLASK,
            "users",
            "create",
            "restarter",
            "--email",
            "r@example.com",
            "--password",
            PASSWORD,
        ],
        cwd=ROOT,
        env={
            **{k: v for k, v in os.environ.items() if k != "TEST_DATABASE_URL"},
            "DATABASE_URL": url,
            "ALLOW_RLS_BYPASS": "1",  # this private server has only its superuser
            "SECRET_KEY": "test",
            "INSTANCE_PATH": str(tmp_path / "cli"),
        },
        check=True,
        capture_output=True,
    )


def signed_in_opener(server):
    """A urllib opener holding a signed-in session cookie (as a browser would)."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
    base = f"http://127.0.0.1:{server.port}"
    page = opener.open(base + "/login", timeout=30).read().decode()  # noqa: S310
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    form = urllib.parse.urlencode(
        {"username": "restarter", "password": PASSWORD, "csrf_token": token}
    ).encode()
    opener.open(base + "/login", data=form, timeout=30)  # noqa: S310
    return opener, base


def page(opener, url, htmx):
    """(status, None, headers) of a page (or an htmx partial) the session asks for."""
    headers = {"HX-Request": "true"} if htmx else {}
    request = urllib.request.Request(url, headers=headers)  # noqa: S310  (local URL)
    try:
        with opener.open(request, timeout=30) as response:
            response.read()
            return response.status, None, response.headers
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace"), error.headers


class Load:
    """Clients reading and writing through the API, and a signed-in browser asking for pages
    and htmx partials, back to back; every answer kept in order."""

    def __init__(self, server, token, clients=4):
        self.server, self.token = server, token
        self.opener, self.base = signed_in_opener(server)
        self.answers = []  # (monotonic time sent, status, body, Retry-After)
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self.client, args=(i,)) for i in range(clients)]
        for thread in self.threads:
            thread.start()

    def client(self, i):
        n = 0
        while not self.stopping.is_set():
            n += 1
            sent = time.monotonic()
            try:
                if n % 4 == 0:
                    call = ("GET", "/api/v1/projects", None)
                    status, body, headers = self.server.call(*call, token=self.token)
                elif n % 4 == 1:
                    call = ("POST", "/api/v1/projects", {"name": f"Project {i}-{n}"})
                    status, body, headers = self.server.call(*call, token=self.token)
                else:
                    status, body, headers = page(self.opener, self.base + "/projects", n % 4 == 2)
                retry = headers.get("Retry-After")
            except OSError as exc:
                status, body, retry = repr(exc), None, None
            with self.lock:
                self.answers.append((sent, status, body, retry))
            time.sleep(0.02)

    def wait_until(self, enough, seconds=30):
        """Until enough(answers so far) holds: the load has been felt, not a fixed time."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            with self.lock:
                if enough(list(self.answers)):
                    return
            time.sleep(0.05)
        raise AssertionError(f"the load never got there ({len(self.answers)} answers)")

    def stop(self):
        self.stopping.set()
        for thread in self.threads:
            thread.join(60)


def test_requests_during_a_database_restart_get_503_and_the_app_recovers_alone(
    own_server, tmp_path
):
    pg, url = own_server
    # The private server has only its superuser: row-level security is not what this tests.
    # It boots while the CLI creates the user (two processes, side by side).
    app = Gunicorn(
        url,
        tmp_path / "instance",
        tmp_path / "app.log",
        wait=False,
        WEB_THREADS="4",
        ALLOW_RLS_BYPASS="1",
    )
    try:
        create_user(url, tmp_path)
        app.wait_ready()
        sign_in = {"username": "restarter", "password": PASSWORD, "name": "load"}
        status, body, _ = app.call("POST", "/api/v1/tokens", sign_in)
        assert status == 201, body
        load = Load(app, body["token"])
        # Each of the four clients is answered a few times before the database goes.
        load.wait_until(lambda answers: len(answers) >= 40)
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pg.pgdata, user=pg.system_user, timeout=30)
        stopped_at = time.monotonic()
        # Down long enough for many requests of both kinds (API and pages) to be refused.
        load.wait_until(lambda answers: down_answers(answers, stopped_at) >= 40)
        down = (app.call("GET", "/readyz")[0], app.call("GET", "/healthz")[0])
        pg.ensure_postgres_running()
        back_at = time.monotonic()
        recovered = wait_until_ready(app)
        # Many requests sent after the server came back, each client's several times.
        load.wait_until(lambda answers: sum(1 for a in answers if a[0] > back_at) >= 100)
        load.stop()
    finally:
        exit_status = app.stop()
    assert down == (503, 200)
    assert recovered
    statuses = [status for _, status, _, _ in load.answers]
    assert set(statuses) <= {200, 201, 503}, sorted(set(map(str, statuses)))
    unavailable = [a for a in load.answers if a[1] == 503]
    assert unavailable, "the restart was not felt"
    for _, _, body, retry in unavailable:
        assert retry == "5"
        if isinstance(body, dict):
            assert body["error"]["code"] == "unavailable"
        else:
            assert "nothing was saved" in body and "Try again" in body
    assert {type(a[2]) for a in unavailable} == {dict, str}  # API answers and pages both
    # Once the server is back, requests sent after the first success all succeed.
    after = [a for a in load.answers if a[0] > back_at]
    first_ok = next(i for i, a in enumerate(after) if a[1] in (200, 201))
    assert [a[1] for a in after[first_ok:] if a[1] not in (200, 201)] == []
    assert exit_status == 0


def down_answers(answers, stopped_at):
    """How many 503s of each kind (API bodies, pages) came after the stop; the fewer."""
    refused = [a for a in answers if a[0] > stopped_at and a[1] == 503]
    return min(
        sum(isinstance(a[2], dict) for a in refused), sum(isinstance(a[2], str) for a in refused)
    )


def wait_until_ready(app, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if app.call("GET", "/readyz")[0] == 200:
            return True
        time.sleep(0.2)
    return False
