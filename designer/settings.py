"""Tunables the Flask-free modules read; create_app copies them from the config."""

from dataclasses import dataclass


@dataclass
class Settings:
    lock_lease_seconds: int = 60
    lock_heartbeat_seconds: int = 20
    activity_keep: int = 500
    page_size: int = 50


settings = Settings()


def configure(config):
    settings.lock_lease_seconds = int(config["LOCK_LEASE_SECONDS"])
    settings.lock_heartbeat_seconds = int(config["LOCK_HEARTBEAT_SECONDS"])
    settings.activity_keep = int(config["ACTIVITY_KEEP"])
