"""Shared fixtures: a real PostgreSQL (embedded, or TEST_DATABASE_URL) and the app."""

import os
import pathlib
import re
import time
import uuid
from urllib.parse import urlsplit
from urllib.parse import urlunsplit

import psycopg2
import pytest
from hypothesis import settings as hypothesis_settings

from tests import strays

ROOT = pathlib.Path(__file__).resolve().parent.parent
RUNTIME = ROOT / ".run"
RUNTIME.mkdir(mode=0o700, exist_ok=True)
os.environ.setdefault("XDG_RUNTIME_DIR", str(RUNTIME))
strays.mark_this_run()

PASSWORD = "correct horse battery"

# Property tests: a quick default for every run, a wide search for `make test-slow`. A failure
# prints the @reproduce_failure line that replays it, in any test order and on any machine
# (hypothesis draws its own seeds; pytest-randomly's reseeding of `random` does not touch them).
hypothesis_settings.register_profile("default", max_examples=100, deadline=None, print_blob=True)
hypothesis_settings.register_profile("slow", max_examples=1000, deadline=None, print_blob=True)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

E2E_DIR = ROOT / "tests" / "e2e"


def pytest_collection_modifyitems(config, items):
    """Browser tests are `e2e` (and `slow`) by where they live, so `-m "not e2e"` skips them."""
    for item in items:
        if E2E_DIR in item.path.parents:
            item.add_marker(pytest.mark.e2e)
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session", autouse=True)
def no_server_left_behind():
    """Once the run is over (this is set up first, so it ends last, after the fixtures that
    stop their servers), no PostgreSQL, Redis or gunicorn the run started may still run."""
    yield
    left = strays.left_behind()
    named = [f"{p.pid} {' '.join(p.info['cmdline'] or [p.info['name']]).strip()}" for p in left]
    strays.stop(left)
    assert not left, f"the test run left {len(left)} server(s) running (now stopped): {named}"


def pytest_terminal_summary(terminalreporter, config):
    """The order's seed once more at the end, beside the failures (-q hides the header)."""
    seed = getattr(config.option, "randomly_seed", None)
    if isinstance(seed, int) and config.pluginmanager.hasplugin("randomly"):
        terminalreporter.write_line(f"Tests ran in the order of --randomly-seed={seed}")


def with_database(url, name):
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))


def admin_execute(url, sql):
    conn = psycopg2.connect(url)
    conn.autocommit = True
    try:
        conn.cursor().execute(sql)
    finally:
        conn.close()


@pytest.fixture(scope="session")
def server_url(tmp_path_factory):
    """A PostgreSQL server's maintenance URL, for creating test databases."""
    external = os.environ.get("TEST_DATABASE_URL")
    if external:
        yield with_database(external, "postgres")
        return
    import pgserver

    server = pgserver.get_server(tmp_path_factory.mktemp("pg"), cleanup_mode="delete")
    yield server.get_uri("postgres")
    server.cleanup()


@pytest.fixture(scope="session")
def roles(server_url):
    """This session's owner and app roles (names of its own: roles are server-wide, and
    other sessions may share the server), dropped after the session's databases."""
    suffix = uuid.uuid4().hex[:10]
    names = {
        "owner": f"dmd_owner_{suffix}",
        "app": f"dmd_app_{suffix}",
        "target": f"dmd_target_{suffix}",
    }
    yield names
    for name in names.values():
        admin_execute(server_url, f"DROP ROLE IF EXISTS {name}")


@pytest.fixture(scope="session")
def fresh_database(server_url, roles):
    """A factory of new, empty databases on the test server, dropped at the end."""
    created = []

    def make(prefix="dmd_test"):
        name = f"{prefix}_{uuid.uuid4().hex[:10]}"
        admin_execute(server_url, f"CREATE DATABASE {name}")
        # A test database need not survive a crash: commits skip waiting for the disk.
        admin_execute(server_url, f"ALTER DATABASE {name} SET synchronous_commit TO off")
        created.append(name)
        return with_database(server_url, name)

    yield make
    for name in created:
        admin_execute(server_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(scope="session")
def database_url(fresh_database, roles):
    """The app's database, as a superuser sees it (the tests' own setup and checks)."""
    url = fresh_database()
    from designer import rls

    name = urlsplit(url).path.lstrip("/")
    rls.provision(url, name, roles["owner"], roles["app"], app_creates_schemas=True)
    return url


@pytest.fixture(scope="session")
def owner_database_url(database_url, roles):
    """The app's database as its tables' owner (migrations run so)."""
    from designer import rls

    return rls.with_user(database_url, roles["owner"])


@pytest.fixture(scope="session")
def app_database_url(database_url, roles):
    """The app's database as the app role, which row-level security binds."""
    from designer import rls

    return rls.with_user(database_url, roles["app"])


@pytest.fixture(scope="session")
def deploy_database_url(server_url, roles):
    """The deploy target, as a superuser sees it (tests read and write deployed rows so)."""
    from designer import rls

    name = f"dmd_deploy_{uuid.uuid4().hex[:10]}"
    rls.provision_target(server_url, name, roles["target"])
    url = with_database(server_url, name)
    yield url
    drop_tenant_roles(url, roles["target"])
    admin_execute(server_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(scope="session")
def target_url(deploy_database_url, roles):
    """The deploy target as its own connection role (the app's DEPLOY_DATABASE_URL)."""
    from designer import rls

    return rls.with_user(deploy_database_url, roles["target"])


@pytest.fixture(scope="session")
def app(database_url, owner_database_url, app_database_url, target_url, deploy_database_url,
        tmp_path_factory):  # fmt: skip
    from designer import accounts
    from designer import create_app
    from designer import db
    from designer.db import upgrade
    from tests.rls_harness import route

    upgrade(db.open_database(owner_database_url))
    db.open_database(owner_database_url).close_all()
    # Requests run as the app role; the tests' own setup and checks as a superuser. Every app
    # made from this URL (create_app, the `production` fixture) routes so.
    route(app_database_url, database_url)
    from tests import on_target

    on_target.SUPERUSER_URL[0] = deploy_database_url
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": app_database_url,
            "OWNER_DATABASE_URL": owner_database_url,
            "DEPLOY_DATABASE_URL": target_url,
            "SECRET_KEY": "test-secret",
            "INSTANCE_PATH": str(tmp_path_factory.mktemp("instance")),
            # A short account window, so a test can wait one out.
            "SIGNIN_ACCOUNT_LIMIT": "3 per 2 seconds",
            "SIGNIN_CLIENT_LIMIT": "6 per 30 seconds",
        }
    )
    # Real argon2id hashes, at a cost that keeps hundreds of sign-ups fast.
    accounts.set_hash_cost(time_cost=1, memory_kib=1024)
    return app


def csrf_token_of(html):
    match = re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert match, "page carries no CSRF token"
    return match.group(1)


# More fields than this left by a test are emptied by TRUNCATE rather than DELETE.
BIG_LEFTOVERS = 5_000


def truncate_all():
    """Empty every table of the designer (not the migration history).

    DELETE, dependents first, rather than TRUNCATE: on tables this small it
    takes a millisecond where TRUNCATE took a tenth of a second per test.
    """
    from peewee import OperationalError
    from peewee import sort_models

    from designer.database import drift
    from designer.db import database
    from designer.interchange import exports
    from designer.models import MODELS

    # No drift check or file a test left being written on its thread may see the next test's
    # rows.
    drift.jobs.clear()
    exports.writing.clear()
    # After a test of thousands of tables, row by row (each field's delete also refreshes its
    # table's search text) took minutes on a busy machine: one TRUNCATE empties those at once.
    fields = database.execute_sql("SELECT count(*) FROM data_field").fetchone()[0]
    if fields > BIG_LEFTOVERS:
        names = ", ".join(f'"{model._meta.table_name}"' for model in MODELS)
        with database.atomic():
            database.execute_sql(f"TRUNCATE {names}")
    # A browser test's server may still answer the last beacon or poll of a closed page;
    # PostgreSQL then picks this DELETE as a deadlock's victim, and it is simply retried.
    for attempt in range(5):
        try:
            with database.atomic():
                for model in reversed(sort_models(MODELS)):
                    model.delete().execute()
            break
        except OperationalError as exc:
            if "deadlock" not in str(exc) or attempt == 4:
                raise
            time.sleep(0.2)
    drop_deployed_schemas()


def drop_deployed_schemas():
    """Drop the schemas deploys made on the target, and the projects' roles."""
    from designer.database import tenant_roles
    from tests import on_target

    url = on_target.SUPERUSER_URL[0]
    if url is not None:
        drop_tenant_roles(url, None)
    tenant_roles.forget_all()


TENANT_ROLES = "SELECT quote_ident(rolname) FROM pg_roles WHERE rolname LIKE 'dmd\\_p\\_%%'"
SCHEMAS = (
    "SELECT quote_ident(nspname) FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%%'"
    " AND nspname NOT IN ('public', 'information_schema')"
)


def drop_tenant_roles(url, _target_role):
    """Every schema of the deploy database at `url`, and the project roles (a superuser's)."""
    conn = psycopg2.connect(url)
    conn.autocommit = True
    try:
        with conn.cursor() as cursor:
            cursor.execute(SCHEMAS)
            schemas = [row[0] for row in cursor.fetchall()]
            if schemas:
                cursor.execute("DROP SCHEMA " + ", ".join(schemas) + " CASCADE")
            cursor.execute(TENANT_ROLES)
            for (role,) in cursor.fetchall():
                cursor.execute(f"DROP OWNED BY {role}")
                cursor.execute(f"DROP ROLE {role}")
    finally:
        conn.close()
