"""Serving in production: health answers, a request id on every request, JSON log lines.

/healthz and /readyz are answered before Flask (no session, no CSRF, no lock sweep):
a load balancer polls them every few seconds. /healthz says the process serves;
/readyz says the database answers and holds every migration this code expects.
"""

import json
import logging
import re
import time
import uuid

from flask import g
from flask import has_request_context
from flask import request
from playhouse.migrations import Migration
from pythonjsonlogger.json import JsonFormatter

from designer.db import MIGRATIONS_DIR
from designer.db import database

# A request id a proxy sends is kept when it looks like one (not any text a client sends).
REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,128}$")
access_log = logging.getLogger("designer.access")


class HealthChecks:
    """WSGI middleware answering /healthz and /readyz itself, everything else through Flask."""

    def __init__(self, app):
        self.app = app
        self.expected = None

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO")
        if path == "/healthz":
            return answer(start_response, 200, {"status": "ok"})
        if path == "/readyz":
            status, body = self.readiness()
            return answer(start_response, status, body)
        return self.app(environ, start_response)

    def expected_migrations(self):
        if self.expected is None:
            self.expected = {m.name for m in Migration.load_directory(str(MIGRATIONS_DIR))}
        return self.expected

    def readiness(self):
        """(status, body): 200 when the database answers and is fully migrated, else 503."""
        opened = False
        try:
            opened = database.connect(reuse_if_open=True)
            applied = {row[0] for row in database.execute_sql(APPLIED)}
        except Exception as exc:  # noqa: BLE001  (any failure means: not ready)
            # Idle pooled connections are most likely to a server that went away.
            database.close_idle()
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            return 503, {"status": "unavailable", "database": first}
        finally:
            if opened:
                database.close()
        pending = sorted(self.expected_migrations() - applied)
        if pending:
            return 503, {"status": "migrations pending", "pending": pending}
        return 200, {"status": "ready"}


APPLIED = "SELECT name FROM schema_migration"


def answer(start_response, status, body):
    payload = json.dumps(body).encode()
    reason = {200: "OK", 503: "Service Unavailable"}[status]
    start_response(
        f"{status} {reason}",
        [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(payload))),
            ("Cache-Control", "no-store"),
        ],
    )
    return [payload]


def start_request():
    """The request's id (the proxy's X-Request-ID when well-formed, else a new one)."""
    given = request.headers.get("X-Request-ID", "")
    g.request_id = given if REQUEST_ID.match(given) else uuid.uuid4().hex
    g.request_started = time.monotonic()


def finish_request(response):
    """Echo the request id and log one access line for the request."""
    request_id = g.get("request_id")
    if request_id is None:
        return response
    response.headers["X-Request-ID"] = request_id
    access_log.info(
        "request",
        extra={
            "method": request.method,
            "path": request.path,
            "status": response.status_code,
            "duration_ms": round((time.monotonic() - g.request_started) * 1000, 1),
            "remote_addr": request.remote_addr,
        },
    )
    return response


class RequestIdFilter(logging.Filter):
    """Puts the current request's id on every log record made while serving it."""

    def filter(self, record):
        if not hasattr(record, "request_id"):
            record.request_id = g.get("request_id") if has_request_context() else None
        return True


def json_formatter():
    """One JSON object per log line: time, level, logger, message and the record's extras."""
    return JsonFormatter(
        "{levelname}{name}{message}",
        style="{",
        rename_fields={"levelname": "level", "name": "logger"},
        timestamp="time",
    )


def init_app(app):
    app.before_request(start_request)
    app.after_request(finish_request)
    app.wsgi_app = HealthChecks(app.wsgi_app)
