"""Settings come from environment variables; `flask db status|upgrade|downgrade` work."""

import os
import subprocess
from urllib.parse import urlsplit

import pytest
from flask import session

from designer import activity
from designer import create_app
from designer import locks
from designer import rls
from designer.design import tables
from designer.settings import CACHE_BUDGETS
from designer.settings import Settings
from designer.settings import configure
from designer.settings import settings
from tests.integration.servers import FLASK
from tests.integration.servers import ROOT

ENVIRONMENT = (
    "DATABASE_URL", "DEPLOY_DATABASE_URL", "SECRET_KEY", "SESSION_COOKIE_SECURE",
    "LOCK_LEASE_SECONDS", "LOCK_HEARTBEAT_SECONDS", "ACTIVITY_KEEP", "INSTANCE_PATH",
)  # fmt: skip


@pytest.fixture
def environment(app, monkeypatch, tmp_path):
    """No designer variable set; the shared settings are put back afterwards."""
    for name in ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "instance"))
    yield monkeypatch
    configure(app.config)


def test_every_setting_is_read_from_the_environment(environment, app_database_url, alice, shop):
    environment.setenv("DATABASE_URL", app_database_url)
    environment.setenv("DEPLOY_DATABASE_URL", "postgresql://deploy@db.example:5432/deployed")
    environment.setenv("SECRET_KEY", "from the environment")
    environment.setenv("SESSION_COOKIE_SECURE", "true")
    environment.setenv("LOCK_LEASE_SECONDS", "90")
    environment.setenv("LOCK_HEARTBEAT_SECONDS", "7")
    environment.setenv("ACTIVITY_KEEP", "3")

    app = create_app()

    assert app.config["DATABASE_URL"] == app_database_url
    assert app.config["DEPLOY_DATABASE_URL"] == "postgresql://deploy@db.example:5432/deployed"
    assert app.config["SECRET_KEY"] == "from the environment"
    assert app.instance_path == os.environ["INSTANCE_PATH"]
    with app.test_request_context("http://localhost/"):
        assert app.session_interface.get_cookie_secure(app) is True
    assert (settings.lock_lease_seconds, settings.lock_heartbeat_seconds) == (90, 7)
    lock = locks.acquire(tables.create_table(alice, shop.id, "Orders").id, alice, "pessimistic")
    assert (lock.expires_at - lock.heartbeat_at).total_seconds() == pytest.approx(90, abs=1)
    for number in range(5):
        tables.create_table(alice, shop.id, f"Table {number}")
    assert len(activity.recent(shop.id)) == 3


def test_without_environment_the_defaults_apply(environment, app_database_url, tmp_path):
    app = create_app({"DATABASE_URL": app_database_url})
    assert app.config["DEPLOY_DATABASE_URL"] is None
    assert app.config["SESSION_COOKIE_SECURE"] is False
    assert (settings.lock_lease_seconds, settings.lock_heartbeat_seconds) == (120, 20)
    assert settings.activity_keep == 500
    # A random secret key, kept under INSTANCE_PATH so sessions survive a restart.
    kept = (tmp_path / "instance" / "secret_key").read_text().strip()
    assert app.config["SECRET_KEY"] == kept and len(kept) == 64
    assert create_app({"DATABASE_URL": app_database_url}).config["SECRET_KEY"] == kept
    with app.test_request_context("http://localhost/"):
        session["probe"] = 1
        assert app.session_interface.get_cookie_secure(app) is False


def test_cache_budgets_have_one_default(environment, app_database_url):
    """create_app's cache budgets are designer/settings.py's defaults (a 48 MB default in one
    and 192 MB in the other left the app serving with a budget nobody read), and each can be
    set from the environment."""
    for name in CACHE_BUDGETS:
        environment.delenv(name.upper(), raising=False)
    app = create_app({"DATABASE_URL": app_database_url})
    for name in CACHE_BUDGETS:
        assert app.config[name.upper()] == getattr(Settings, name), name
        assert getattr(settings, name) == getattr(Settings, name), name
    environment.setenv("CACHE_BYTES", str(5 * 1024 * 1024))
    create_app({"DATABASE_URL": app_database_url})
    assert settings.cache_bytes == 5 * 1024 * 1024


@pytest.mark.slow
def test_make_run_serves_the_address_host_and_port_name():
    env = {**os.environ, "HOST": "0.0.0.0", "PORT": "5123"}  # noqa: S104  (only printed)
    planned = subprocess.run(
        ["make", "-n", "run"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert planned.returncode == 0, planned.stderr
    assert '--host "0.0.0.0" --port "5123"' in planned.stdout


def flask_db(command, urls):
    """`flask db <command>` serving as the app role, migrating as the owner role."""
    env = {k: v for k, v in os.environ.items() if k != "TEST_DATABASE_URL"}
    env["OWNER_DATABASE_URL"], env["DATABASE_URL"] = urls
    done = subprocess.run(
        [*FLASK, "db", command], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


MIGRATIONS = sorted(path.stem for path in (ROOT / "migrations").glob("0*.py"))


@pytest.mark.slow
def test_db_status_upgrade_and_downgrade_commands(fresh_database, roles):
    admin_url = fresh_database("dmd_commands")
    name = urlsplit(admin_url).path.lstrip("/")
    url = rls.provision(admin_url, name, roles["owner"], roles["app"])
    assert flask_db("status", url) == [f"[ ] {name}" for name in MIGRATIONS]
    assert flask_db("upgrade", url)[-1] == f"{len(MIGRATIONS)} applied"
    assert flask_db("status", url) == [f"[x] {name}" for name in MIGRATIONS]
    assert flask_db("downgrade", url) == [f"reverted: {MIGRATIONS[-1]}"]
    assert flask_db("status", url) == [f"[x] {name}" for name in MIGRATIONS[:-1]] + [
        f"[ ] {MIGRATIONS[-1]}"
    ]
    assert flask_db("upgrade", url) == [f"applied: {MIGRATIONS[-1]}", "1 applied"]
    assert flask_db("upgrade", url) == ["database is up to date"]
