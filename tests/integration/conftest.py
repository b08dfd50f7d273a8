"""Integration fixtures: a clean database per test, users, browsers and API clients."""

import contextlib
import datetime
import time

import psycopg2
import pytest

from designer import accounts
from designer import api_tokens
from designer import branches
from designer import create_app
from designer import db
from designer import projects
from designer import rls
from designer.db import database
from designer.design import fields
from designer.design import tables
from designer.history import versions
from designer.models import DataField
from designer.models import DataTable
from designer.models import Project
from designer.settings import configure
from designer.signin_limits import limiter
from designer.web import csrf
from tests.conftest import PASSWORD
from tests.conftest import csrf_token_of
from tests.conftest import truncate_all


@pytest.fixture(autouse=True)
def clean_database(app):
    truncate_all()
    limiter.reset()
    # No snapshot read by an earlier test may stand in for what the database holds, nor
    # hold a share of the caches' pool that the next test's answers would be trimmed for.
    versions.cache.clear()
    branches.compared_kept.clear()
    yield


@pytest.fixture
def make_user(app):
    def make(username="alice"):
        return accounts.create_user(username, f"{username}@example.com", PASSWORD)

    return make


@pytest.fixture
def alice(make_user):
    return make_user("alice")


@pytest.fixture
def shop(alice):
    """A project named Shop, owned by alice."""
    return projects.create_project(alice, "Shop")


@pytest.fixture
def notes(alice, shop):
    """A Draft table Notes with one text field, body (the deploy tests' subject)."""
    table = tables.create_table(alice, shop.id, "Notes")
    fields.create_field(alice, table.id, {"name": "Body"})
    return table


@pytest.fixture
def bob(make_user):
    return make_user("bob")


def column_names(project_id):
    """(table, column) of the project's columns but the designer's ids, sorted."""
    rows = (
        DataField.select(DataTable.table_name, DataField.field_name)
        .join(DataTable)
        .where(DataTable.project == project_id, DataField.field_name != "id")
        .tuples()
    )
    return sorted(rows)


@contextlib.contextmanager
def as_app_role(app_database_url):
    """While entered, work outside a request connects as the app's role (bound by row-level
    security, acting for whom it says), as a server's threads do; outside, the tests' own
    setup and checks run as a superuser (tests/rls_harness.py)."""
    router = db._pools[app_database_url]
    admin = router.admin_pool
    router.admin_pool = router.app_pool
    try:
        yield
    finally:
        router.app_pool.close_all()
        router.admin_pool = admin


@pytest.fixture
def designed(alice, shop, bob):
    """Shop with customers(email) and orders(total), saved as version 1; bob edits it (the
    branch tests' design to fork)."""
    projects.add_member(alice, shop.id, "bob", "editor")
    customers = tables.create_table(alice, shop.id, "Customers")
    email = fields.create_field(alice, customers.id, {"name": "Email"})
    orders = tables.create_table(alice, shop.id, "Orders")
    total = fields.create_field(alice, orders.id, {"name": "Total", "data_type": "number"})
    versions.save_version(alice, shop.id, "start")
    return {"customers": customers, "email": email, "orders": orders, "total": total}


class WebClient:
    """A Flask test client that signs in and sends CSRF tokens like a page would."""

    def __init__(self, client):
        self.client = client
        self.token = None

    def login(self, user):
        page = self.client.get("/login")
        self.token = csrf_token_of(page.text)
        response = self.client.post(
            "/login",
            data={"username": user.username, "password": PASSWORD, "csrf_token": self.token},
        )
        assert response.status_code == 302, response.text
        self.token = csrf_token_of(self.client.get("/projects").text)
        return self

    def request(self, method, url, htmx=True, **kwargs):
        headers = kwargs.pop("headers", {})
        if self.token:
            headers.setdefault("X-CSRFToken", self.token)
        if htmx:
            headers.setdefault("HX-Request", "true")
        return self.client.open(url, method=method, headers=headers, **kwargs)

    def get(self, url, **kwargs):
        return self.request("GET", url, **kwargs)

    def post(self, url, **kwargs):
        return self.request("POST", url, **kwargs)

    def put(self, url, **kwargs):
        return self.request("PUT", url, **kwargs)

    def delete(self, url, **kwargs):
        return self.request("DELETE", url, **kwargs)


@pytest.fixture
def signed_in(app):
    """A factory of web clients: signed_in(user) is signed in, signed_in() is anonymous."""

    def make(user=None):
        b = WebClient(app.test_client())
        return b.login(user) if user is not None else b

    return make


class Api:
    """A JSON API client holding one user's bearer token."""

    def __init__(self, client, token=None):
        self.client = client
        self.token = token

    def call(self, method, url, json=None, headers=None):
        headers = dict(headers or {})
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return self.client.open("/api/v1" + url, method=method, json=json, headers=headers)

    def get(self, url, **kw):
        return self.call("GET", url, **kw)

    def post(self, url, json=None, **kw):
        return self.call("POST", url, json=json if json is not None else {}, **kw)

    def patch(self, url, json=None, **kw):
        return self.call("PATCH", url, json=json if json is not None else {}, **kw)

    def put(self, url, json=None, **kw):
        return self.call("PUT", url, json=json if json is not None else {}, **kw)

    def delete(self, url, json=None, **kw):
        return self.call("DELETE", url, json=json, **kw)


@pytest.fixture
def api(app):
    """A factory of API clients: api(user) signs in with a fresh token, api() has none."""

    def make(user=None):
        if user is None:
            return Api(app.test_client())
        token, _ = api_tokens.issue_token(user, "tests")
        return Api(app.test_client(), token)

    return make


# Kept answers, not the design: a version page viewed writes its order (migrations/0032),
# a download keeps its file (0040), a drift check its tables' expected catalogs (0046), an
# export the tables the rules accepted (0050).
NOT_STATE = (
    "schema_migration", "entry_order", "export_file", "export_member", "drift_expectation",
    "sound_part",
)  # fmt: skip


def fingerprint():
    """A digest of every row of the designer's tables (a token's last use and the order
    kept for version pages aside)."""
    parts = []
    for table in sorted(t for t in database.get_tables() if t not in NOT_STATE):
        parts.append(
            f"SELECT '{table}', md5(coalesce(string_agg((to_jsonb(x) - 'last_used_at')::text,"
            f" '|' ORDER BY (to_jsonb(x) - 'last_used_at')::text), '')) FROM {table} x"
        )
    # Sorted here: UNION ALL promises no order (a parallel append interleaves its branches).
    return sorted(database.execute_sql(" UNION ALL ".join(parts)).fetchall())


@contextlib.contextmanager
def writes_nothing():
    """Fails the test when the block changed any stored row: a refusal leaves no trace."""
    before = fingerprint()
    yield
    assert fingerprint() == before, "refused, but stored rows changed"


def time_passes_for_locks(seconds):
    """As if `seconds` had gone by for every table lock: its times move back that far.
    Exact, where sleeping for a lease to lapse was slow and at the mercy of the machine."""
    database.execute_sql(
        "UPDATE table_lock SET locked_at = locked_at - %(gone)s,"
        " heartbeat_at = heartbeat_at - %(gone)s, expires_at = expires_at - %(gone)s,"
        " released_at = released_at - %(gone)s",
        {"gone": datetime.timedelta(seconds=seconds)},
    )


def wait_for(condition, seconds=30):
    """Wait until condition() holds (a state the test can see, not a guess at a duration);
    fails the test after `seconds`."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"waited {seconds} s for {condition.__doc__ or condition}")
        time.sleep(0.01)


def raise_sqlstate(condition):
    """Have PostgreSQL itself fail the statement with that SQLSTATE."""
    database.execute_sql(
        f"DO $$ BEGIN RAISE EXCEPTION 'raised by the test' USING ERRCODE = '{condition}'; END $$"
    )


@pytest.fixture(scope="session")
def production(app):
    """The app with exceptions handled as in production (not re-raised to the test)."""
    served = create_app(
        {
            "DATABASE_URL": app.config["DATABASE_URL"],
            # create_app sets the shared settings: the deploy target must stay the tests' one.
            "DEPLOY_DATABASE_URL": app.config["DEPLOY_DATABASE_URL"],
            "SECRET_KEY": "test-secret",
            "INSTANCE_PATH": app.instance_path,
        }
    )
    assert not served.testing and not served.config["PROPAGATE_EXCEPTIONS"]
    # Making an app configures the shared settings: put back the test app's (its deploy
    # target above all, which this app leaves to the default), for the tests that follow.
    configure(app.config)

    @served.post("/test/broken")
    @served.post("/api/v1/test/broken")
    def broken():
        raise RuntimeError("a bug")

    @served.post("/test/refused/<condition>")
    @served.post("/api/v1/test/refused/<condition>")
    def refused(condition):
        with database.atomic():
            Project.update(name="Renamed").execute()
            raise_sqlstate(condition)
        return "unreachable"

    csrf.exempt(broken)
    csrf.exempt(refused)
    return served


@pytest.fixture
def raw(app_database_url):
    """raw(user or None): an autocommitting cursor of the app's role, acting for `user`."""
    opened = []

    def connect(user=None):
        conn = psycopg2.connect(app_database_url)
        conn.autocommit = True
        opened.append(conn)
        cursor = conn.cursor()
        cursor.execute(rls.ACT_FOR, (str(user.id) if user else "",))
        return cursor

    yield connect
    for conn in opened:
        conn.close()
