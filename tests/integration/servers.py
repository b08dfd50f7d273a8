"""Helpers for tests that start the app as its own process (flask run, gunicorn), and the
services such a test needs (redis-server)."""

import json
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import redis

ROOT = pathlib.Path(__file__).resolve().parents[2]
FLASK = [sys.executable, "-m", "flask", "--app", "app"]
GUNICORN = [sys.executable, "-m", "gunicorn"]


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url, seconds=30):
    """GET `url` until the server answers; returns (status, body)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310  (local URL)
                return response.status, response.read().decode()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


class Gunicorn:
    """The app as `make serve` runs it (gunicorn with designer.gunicorn_config), in a process
    group of its own so a test can kill it whole; spoken to through the JSON API."""

    def __init__(self, database_url, instance, log_path, wait=True, **env):
        self.port = free_port()
        self.log_path = log_path
        environment = {k: v for k, v in os.environ.items() if k != "TEST_DATABASE_URL"}
        environment.update(
            DATABASE_URL=database_url,
            DEPLOY_DATABASE_URL=database_url,
            SECRET_KEY="test",
            INSTANCE_PATH=str(instance),
            PORT=str(self.port),
            WEB_CONCURRENCY="1",
            WEB_THREADS="8",
        )
        environment.update(env)
        with open(log_path, "ab") as log:
            self.process = subprocess.Popen(
                [*GUNICORN, "-c", "python:designer.gunicorn_config", "app:app"],
                cwd=ROOT,
                env=environment,
                stdout=log,
                stderr=log,
                start_new_session=True,
            )
        if wait:
            self.wait_ready()

    def wait_ready(self):
        """Until the server answers /readyz (several servers may boot side by side first)."""
        wait_for(f"http://127.0.0.1:{self.port}/readyz", seconds=60)
        return self

    def call(self, method, path, body=None, token=None, timeout=60):
        """(status, JSON body, headers) of one request to the API (or any path with /…)."""
        url = f"http://127.0.0.1:{self.port}" + (path if path.startswith("/") else "/" + path)
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        request = urllib.request.Request(
            url,
            method=method,
            data=json.dumps(body).encode() if body is not None else None,
            headers=headers,
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
                return response.status, json.loads(response.read() or b"null"), response.headers
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null"), error.headers

    def log(self):
        return self.log_path.read_text(errors="replace")

    def stop(self, seconds=40):
        """SIGTERM (gunicorn's graceful stop); its exit status."""
        self.terminate()
        return self.process.wait(timeout=seconds)

    def terminate(self):
        """SIGTERM without waiting (stop() waits), so several servers stop side by side."""
        if self.process.poll() is None:
            self.process.terminate()

    def kill(self):
        """SIGKILL to the master and every worker at once, as a crash or an OOM kill would."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)


class RedisServer:
    """A redis-server of the test's own on a free port, keeping nothing on disk; stop() ends it.
    RedisServer.start(folder) returns None (and why, in `RedisServer.why_not`) when none can
    be started here."""

    why_not = ""

    def __init__(self, folder, log_path):
        self.port = free_port()
        self.log_path = log_path
        with open(log_path, "ab") as log:
            self.process = subprocess.Popen(
                [shutil.which("redis-server"), "--port", str(self.port), "--bind", "127.0.0.1"]
                + ["--save", "", "--appendonly", "no", "--dir", str(folder)],
                stdout=log,
                stderr=log,
                start_new_session=True,
            )
        self.url = f"redis://127.0.0.1:{self.port}/0"

    @classmethod
    def start(cls, folder, seconds=10):
        if shutil.which("redis-server") is None:
            cls.why_not = "no redis-server on this machine (.ci/run installs Debian's)"
            return None
        server = cls(folder, folder / "redis.log")
        deadline = time.monotonic() + seconds
        while not server.answers():
            if server.process.poll() is not None or time.monotonic() > deadline:
                server.stop()
                cls.why_not = f"redis-server did not start: {server.log_path.read_text()[-300:]}"
                return None
            time.sleep(0.05)
        return server

    def answers(self):
        try:
            return redis.Redis(port=self.port, socket_timeout=1).ping()
        except redis.ConnectionError:
            return False

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
        self.process.wait(timeout=30)
