"""Tunables the Flask-free modules read; create_app copies them from the config."""

from dataclasses import dataclass


@dataclass
class Settings:
    lock_lease_seconds: int = 60
    lock_heartbeat_seconds: int = 20
    activity_keep: int = 500
    page_size: int = 50
    designer_database_url: str | None = None
    deploy_database_url: str | None = None
    deploy_lock_timeout_ms: int = 5000
    deploy_statement_timeout_ms: int = 60000


settings = Settings()


def configure(config):
    settings.lock_lease_seconds = int(config["LOCK_LEASE_SECONDS"])
    settings.lock_heartbeat_seconds = int(config["LOCK_HEARTBEAT_SECONDS"])
    settings.activity_keep = int(config["ACTIVITY_KEEP"])
    settings.designer_database_url = config.get("DATABASE_URL")
    settings.deploy_database_url = config.get("DEPLOY_DATABASE_URL")
    settings.deploy_lock_timeout_ms = int(config["DEPLOY_LOCK_TIMEOUT_MS"])
    settings.deploy_statement_timeout_ms = int(config["DEPLOY_STATEMENT_TIMEOUT_MS"])
