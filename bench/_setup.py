"""What the bench scripts share: a fresh database on a throwaway or configured server.

Importing it puts the project root on the path, so the scripts can import designer after it.
"""

import contextlib
import logging
import os
import pathlib
import sys
import uuid
from urllib.parse import urlsplit
from urllib.parse import urlunsplit

import psycopg2

# Run as a script, only bench/ is on the path; designer lives one level up.
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

from designer.db import database

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"


def with_database(url, name):
    return urlunsplit(urlsplit(url)._replace(path="/" + name))


def admin_execute(url, sql):
    conn = psycopg2.connect(url)
    conn.autocommit = True  # CREATE/DROP DATABASE refuse to run in a transaction
    try:
        conn.cursor().execute(sql)
    finally:
        conn.close()


@contextlib.contextmanager
def postgres_server():
    """A maintenance URL: the configured server's, or an embedded server's (deleted after)."""
    external = os.environ.get("TEST_DATABASE_URL") or os.environ.get("BENCH_DATABASE_URL")
    if external:
        yield with_database(external, "postgres")
        return
    runtime = ROOT / ".run"
    runtime.mkdir(mode=0o700, exist_ok=True)
    os.environ["XDG_RUNTIME_DIR"] = str(runtime)
    import pgserver

    server = pgserver.get_server(OUT / f"pg-{uuid.uuid4().hex[:8]}", cleanup_mode="delete")
    try:
        yield server.get_uri("postgres")
    finally:
        server.cleanup()


@contextlib.contextmanager
def fresh_database(server_url):
    name = f"bench_{uuid.uuid4().hex[:10]}"
    admin_execute(server_url, f"CREATE DATABASE {name}")
    try:
        yield with_database(server_url, name)
    finally:
        if database.obj is not None:
            database.obj.close_all()
        admin_execute(server_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


class QueryCounter(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.count = 0

    def emit(self, record):
        if record.name == "peewee":  # not peewee.pool's connection messages
            self.count += 1


@contextlib.contextmanager
def counting():
    logger = logging.getLogger("peewee")
    counter, level = QueryCounter(), logger.level
    logger.addHandler(counter)
    logger.setLevel(logging.DEBUG)
    try:
        yield counter
    finally:
        logger.removeHandler(counter)
        logger.setLevel(level)
