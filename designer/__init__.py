"""Data Model Designer: design PostgreSQL schemas together in the browser."""

import os
import pathlib
import secrets

from flask import Flask

from designer.settings import CACHE_BUDGETS
from designer.settings import Settings

ROOT = pathlib.Path(__file__).resolve().parent.parent

# Settings read from the environment, with their defaults.
ENVIRONMENT = {
    "DATABASE_URL": None,
    # The role migrations run as (the tables' owner); DATABASE_URL's role is bound by RLS.
    "OWNER_DATABASE_URL": None,
    # Development only: start even when DATABASE_URL's role could bypass row-level security.
    "ALLOW_RLS_BYPASS": False,
    "DEPLOY_DATABASE_URL": None,
    "SECRET_KEY": None,
    "SESSION_COOKIE_SECURE": False,
    "LOCK_LEASE_SECONDS": 120.0,
    "LOCK_HEARTBEAT_SECONDS": 20.0,
    "LOCK_WATCH_SECONDS": 5.0,
    "LIVE_POLL_SECONDS": 3.0,
    "LOCK_LEAVE_GRACE_SECONDS": 5.0,
    # An open edit form's optimistic lock ends after this long without input.
    "LOCK_EDIT_IDLE_SECONDS": 60.0,
    "ACTIVITY_KEEP": 500,
    # Failed sign-ins allowed per account and per client (address) in a moving window.
    "SIGNIN_ACCOUNT_LIMIT": "10 per 15 minutes",
    "SIGNIN_CLIENT_LIMIT": "50 per 15 minutes",
    "SIGNUP_ACCOUNT_LIMIT": "5 per hour",
    "SIGNUP_CLIENT_LIMIT": "10 per hour",
    # memory:// keeps counts per process; redis://host:6379 shares them between servers.
    "RATELIMIT_STORAGE_URI": "memory://",
    # How many proxies of our own stand in front (their X-Forwarded-* headers are trusted).
    "TRUSTED_PROXIES": 0,
    # Password hashes computed at once (argon2 takes 64 MiB each); others wait their turn.
    "PASSWORD_HASH_CONCURRENCY": 4,
    "DEPLOY_LOCK_TIMEOUT_MS": 5000,
    "DEPLOY_STATEMENT_TIMEOUT_MS": 60000,
    # Whether an import may read a database at any URL a user gives (the server connects
    # to hosts it is told); the deploy target's schemas can always be imported.
    "IMPORT_ALLOW_URLS": False,
    # Schemas of the deploy target that no project reserved which users may import (and
    # take over), comma-separated; any other schema no project of theirs reserved is refused.
    "IMPORT_TARGET_SCHEMAS": "",
    # What one import may hold, refused before it is read (README, "Import limits"): a
    # 3,000-table schema fits, and the preview of the largest file allowed stays within
    # 10 s and 512 MB (bench/import_limits.py). DBML has a smaller cap: pydbml reads
    # about 100 KB a second.
    "IMPORT_MAX_BYTES": 16 * 1024 * 1024,
    "IMPORT_MAX_DBML_BYTES": 384 * 1024,
    "IMPORT_MAX_STATEMENTS": 100_000,
    "IMPORT_MAX_TABLES": 5_000,
    "IMPORT_MAX_SECONDS": 8.0,
    # Bytes the in-process caches may hold, when a worker returns freed memory, and drift's
    # kept catalog and build time: their defaults are designer/settings.py's, the one place
    # they are said (bench/all_pages.py prints the worker's RSS they leave).
    **{name.upper(): getattr(Settings, name) for name in CACHE_BUDGETS},
}


def settings_from_environment():
    settings = {}
    for key, default in ENVIRONMENT.items():
        raw = os.environ.get(key)
        if raw in (None, ""):
            settings[key] = default
        elif isinstance(default, bool):
            settings[key] = raw.lower() in ("1", "true", "yes", "on")
        elif isinstance(default, int):
            settings[key] = int(raw)
        elif isinstance(default, float):
            settings[key] = float(raw)
        else:
            settings[key] = raw
    return settings


def persistent_secret_key(instance_path):
    """A random key kept under instance/ so sessions survive restarts."""
    path = pathlib.Path(instance_path) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
    return path.read_text().strip()


def create_app(test_config=None):
    """Build the Flask app: configuration, database, extensions, blueprints."""
    config = dict(test_config or {})
    app = Flask(
        __name__,
        instance_path=str(
            config.pop("INSTANCE_PATH", None)
            or os.environ.get("INSTANCE_PATH")
            or ROOT / "instance"
        ),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        WTF_CSRF_TIME_LIMIT=None,
        MAX_CONTENT_LENGTH=16 * 1024 * 1024,
        NODE_MODULES=str(ROOT / "node_modules"),
    )
    app.config.update(settings_from_environment())
    app.config.update(config)
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = persistent_secret_key(app.instance_path)

    from designer import accounts
    from designer import db
    from designer import settings
    from designer import web

    db.init_app(app)  # resolves DATABASE_URL, which the deploy target defaults from
    settings.configure(app.config)
    accounts.limit_concurrent_hashing(app.config["PASSWORD_HASH_CONCURRENCY"])
    web.init_app(app)
    return app
