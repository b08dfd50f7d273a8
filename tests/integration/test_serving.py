"""Serving in production: health answers, JSON logs with request ids, 503 without a database."""

import importlib
import io
import json
import logging

import pytest

from designer import gunicorn_config
from designer import serving
from designer.db import migration_runner
from designer.db import open_database
from designer.db import upgrade
from designer.models import Project
from tests.integration.races import race


def test_healthz_answers_without_touching_the_database(app):
    response = app.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}
    assert "Set-Cookie" not in response.headers


def test_readyz_says_ready_when_the_database_holds_every_migration(app):
    response = app.test_client().get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ready"}


def test_readyz_is_503_while_a_migration_is_pending(app, monkeypatch):
    checks = app.wsgi_app
    while not isinstance(checks, serving.HealthChecks):
        checks = checks.app
    expected = checks.expected_migrations() | {"9999_from_newer_code"}
    monkeypatch.setattr(checks, "expected", expected)
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    pending = {"status": "migrations pending", "pending": ["9999_from_newer_code"]}
    assert response.get_json() == pending


@pytest.fixture
def log_lines():
    """What the app logs while the test runs, as gunicorn's JSON handler writes it."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(serving.json_formatter())
    handler.addFilter(serving.RequestIdFilter())
    logger = logging.getLogger("designer.access")
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.INFO)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    logger.removeHandler(handler)
    logger.setLevel(level)


def test_every_request_is_logged_as_json_with_the_proxys_request_id(app, log_lines):
    response = app.test_client().get("/login", headers={"X-Request-ID": "req-1234abcd"})
    assert response.headers["X-Request-ID"] == "req-1234abcd"
    (line,) = log_lines()
    assert line["request_id"] == "req-1234abcd"
    assert (line["method"], line["path"], line["status"]) == ("GET", "/login", 200)
    assert line["level"] == "INFO" and line["logger"] == "designer.access" and line["time"]


@pytest.mark.parametrize("given", [None, "short", "has spaces in it", "x" * 200, 'quote"d-id'])
def test_a_missing_or_odd_request_id_is_replaced_by_a_new_one(app, log_lines, given):
    headers = {"X-Request-ID": given} if given else {}
    response = app.test_client().get("/login", headers=headers)
    made = response.headers["X-Request-ID"]
    assert made != given and len(made) == 32
    assert log_lines()[0]["request_id"] == made


def test_two_requests_get_different_ids(app):
    client = app.test_client()
    assert (
        client.get("/login").headers["X-Request-ID"] != client.get("/login").headers["X-Request-ID"]
    )


GONE = ["admin_shutdown", "cannot_connect_now", "connection_failure"]


@pytest.mark.parametrize("condition", GONE)
def test_a_database_going_away_is_a_json_503_try_again(production, shop, condition):
    response = production.test_client().post(f"/api/v1/test/refused/{condition}")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    error = response.get_json()["error"]
    assert error["code"] == "unavailable"
    assert "nothing was saved" in error["message"] and "Try again" in error["message"]
    assert Project.get_by_id(shop.id).name == "Shop"  # the route's rename was rolled back


def test_a_database_going_away_is_a_503_page_that_needs_no_database(production, shop):
    response = production.test_client().post("/test/refused/admin_shutdown")
    assert response.status_code == 503
    assert "Try again in a moment" in response.text
    inline = production.test_client().post(
        "/test/refused/crash_shutdown", headers={"HX-Request": "true"}
    )
    assert inline.status_code == 503 and inline.headers["HX-Retarget"] == "#flash"


def test_a_statement_timeout_is_not_taken_for_an_absent_database(production, shop):
    """A cancelled statement is our fault, not the database's absence: no "try again in a
    moment" (a retry would time out the same), but an error answer, and nothing saved."""
    response = production.test_client().post("/api/v1/test/refused/query_canceled")
    assert response.status_code == 500
    assert "Retry-After" not in response.headers
    error = response.get_json()["error"]
    assert error["code"] == "error" and "Nothing was changed" in error["message"]
    assert Project.get_by_id(shop.id).name == "Shop"


def test_serve_settings_come_from_the_environment(monkeypatch):
    for name, value in {
        "HOST": "0.0.0.0",  # noqa: S104  (a setting's value, not a bind)
        "PORT": "9001",
        "WEB_CONCURRENCY": "3",
        "WEB_THREADS": "5",
        "LOG_LEVEL": "WARNING",
    }.items():
        monkeypatch.setenv(name, value)
    config = importlib.reload(gunicorn_config)
    try:
        assert config.bind == "0.0.0.0:9001"
        assert (config.workers, config.threads, config.worker_class) == (3, 5, "gthread")
        assert config.logconfig_dict["root"]["level"] == "WARNING"
    finally:
        monkeypatch.undo()
        importlib.reload(gunicorn_config)


def test_serve_defaults(monkeypatch):
    for name in ("HOST", "PORT", "WEB_CONCURRENCY", "WEB_THREADS", "LOG_LEVEL"):
        monkeypatch.delenv(name, raising=False)
    config = importlib.reload(gunicorn_config)
    assert config.bind == "127.0.0.1:8000"
    assert (config.workers, config.threads) == (2, 8)
    assert (config.timeout, config.graceful_timeout) == (60, 30)
    assert config.logconfig_dict["root"]["level"] == "INFO"


def test_servers_upgrading_one_database_at_once_each_migration_runs_once(fresh_database):
    url = fresh_database()
    outcomes = race([lambda: upgrade(open_database(url)) for _ in range(3)])
    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    applied = sorted(name for names in outcomes for name in names)
    expected = sorted(m.name for m in migration_runner(open_database(url)).migrations())
    assert applied == expected
    open_database(url).close_all()
