"""gunicorn's settings for `make serve`: gunicorn -c python:designer.gunicorn_config app:app.

Threads, not processes, carry the concurrency: most of a request's time is spent
waiting on PostgreSQL, and each worker keeps its own pool of connections.
"""

import os

bind = f"{os.environ.get('HOST') or '127.0.0.1'}:{os.environ.get('PORT') or '8000'}"
# One worker per core is a good start on a machine of its own; several app servers
# behind a proxy scale further (see README, Production).
workers = int(os.environ.get("WEB_CONCURRENCY") or 2)
worker_class = "gthread"
threads = int(os.environ.get("WEB_THREADS") or 8)
# A worker silent this long is restarted. gthread workers keep beating while a request
# runs, so a deploy's statement_timeout (60 s) is not cut short by it.
timeout = 60
# SIGTERM: stop accepting, let requests in flight finish for up to this long, then exit.
graceful_timeout = 30
# Idle keep-alive connections from the proxy are kept this long.
keepalive = 5
# The app is built once in the master (the embedded database starts once, and stops
# with the master); workers are forked from it with no connection open yet.
preload_app = True
# Only the app decides which proxy headers to believe (TRUSTED_PROXIES, ProxyFix).
forwarded_allow_ips = ""
# Several app servers on one machine must not share one control socket.
control_socket_disable = True
# Access lines come from the app itself, in JSON with the request id.
accesslog = None
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "designer.serving.json_formatter"}},
    "filters": {"request_id": {"()": "designer.serving.RequestIdFilter"}},
    "handlers": {
        "stderr": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "filters": ["request_id"],
            "stream": "ext://sys.stderr",
        }
    },
    "root": {"level": os.environ.get("LOG_LEVEL") or "INFO", "handlers": ["stderr"]},
    "loggers": {
        "gunicorn.error": {"level": "INFO", "handlers": ["stderr"], "propagate": False},
        "peewee": {"level": "INFO"},
        # pgserver narrates every start and stop of the embedded server at INFO.
        "pgserver": {"level": "WARNING"},
    },
}


def worker_exit(server, worker):
    """A worker leaving (graceful stop, restart) closes its database connections."""
    from designer.db import database

    if database.obj is not None:
        database.obj.close_all()
