"""`make run`'s path: no DATABASE_URL, so an embedded PostgreSQL under instance/."""

import os
import signal
import subprocess

import pytest

from tests.integration.servers import FLASK
from tests.integration.servers import ROOT
from tests.integration.servers import free_port
from tests.integration.servers import wait_for

pytestmark = pytest.mark.slow


@pytest.fixture
def environment(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "TEST_DATABASE_URL")}
    env["INSTANCE_PATH"] = str(tmp_path / "instance")
    return env


def test_embedded_database_serves_the_signup_page_and_keeps_data(environment, tmp_path):
    upgrade = subprocess.run(
        [*FLASK, "db", "upgrade"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert upgrade.returncode == 0, upgrade.stderr
    assert "applied: 0001" in upgrade.stdout
    assert (tmp_path / "instance" / "pgdata" / "PG_VERSION").exists()

    created = subprocess.run(
        [
            *FLASK,
            "users",
            "create",
            "kept",
            "--email",
            "kept@example.com",
            "--password",
            "long enough pw",
        ],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert created.returncode == 0, created.stderr

    port = free_port()
    server = subprocess.Popen(
        [*FLASK, "run", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        status, body = wait_for(f"http://127.0.0.1:{port}/signup")
        assert status == 200
        assert "Create your account" in body
    finally:
        # Ctrl-C, as a user stops `make run`: the embedded server stops with it.
        server.send_signal(signal.SIGINT)
        server.wait(timeout=30)

    # A second start finds the same data: the user made before the restart exists.
    again = subprocess.run(
        [
            *FLASK,
            "users",
            "create",
            "kept",
            "--email",
            "other@example.com",
            "--password",
            "long enough pw",
        ],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert again.returncode == 1
    assert "already taken" in again.stderr


def test_ctrl_c_on_make_run_stops_the_embedded_server(environment, tmp_path):
    port = free_port()
    run = subprocess.Popen(
        ["make", "run", f"PORT={port}"],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group, as a terminal's foreground job
    )
    pid_file = tmp_path / "instance" / "pgdata" / "postmaster.pid"
    try:
        status, _ = wait_for(f"http://127.0.0.1:{port}/signup", seconds=120)
        assert status == 200
        postgres = int(pid_file.read_text().split()[0])
        # PostgreSQL runs detached: Ctrl-C does not reach it, only `make run` can stop it.
        assert os.getpgid(postgres) != run.pid
    finally:
        os.killpg(run.pid, signal.SIGINT)  # what Ctrl-C in the terminal does
        run.wait(timeout=60)
    assert not pid_file.exists(), "the embedded PostgreSQL is still running"
    assert not running(postgres)


def running(pid):
    """Whether the process lives (a zombie nobody reaped yet has stopped)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rpartition(")")[2].split()[0] != "Z"
    except FileNotFoundError:
        return False
