"""`make run`'s path: no DATABASE_URL, so an embedded PostgreSQL under instance/."""

import os
import signal
import subprocess
import sys

import psutil
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


def ctrl_c_as_in_a_terminal():
    """A suite started in the background (`make test &`) ignores SIGINT, and its children
    would inherit that; in a terminal Ctrl-C reaches the app, so the child starts so."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


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
        preexec_fn=ctrl_c_as_in_a_terminal,
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


def postmaster_pid(instance):
    return int((instance / "pgdata" / "postmaster.pid").read_text().split()[0])


def gone(pid):
    """Whether the process has ended (a zombie has: it only waits to be reaped)."""
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def default_sigint():
    # Ctrl-C reaches `make run` with SIGINT's default action, whatever ours is.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_the_embedded_database_stops_with_the_app(signum, environment, tmp_path):
    """As `make run` does: migrate, serve; then Ctrl-C (or a SIGTERM) stops PostgreSQL too,
    even when an earlier run was killed and left its process id behind."""
    instance = tmp_path / "instance"
    upgrade = subprocess.run(
        [*FLASK, "db", "upgrade"], cwd=ROOT, env=environment, capture_output=True, timeout=120
    )
    assert upgrade.returncode == 0, upgrade.stderr
    (instance / "pgdata" / ".handle_pids.json").write_text("[4194303]")  # no such process
    port = free_port()
    server = subprocess.Popen(
        [*FLASK, "run", "--host", "127.0.0.1", "--port", str(port), "--with-threads"],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=default_sigint,
    )
    try:
        wait_for(f"http://127.0.0.1:{port}/login")
        postgres = postmaster_pid(instance)
        assert not gone(postgres)
    finally:
        server.send_signal(signum)
        _, said = server.communicate(timeout=60)
    try:
        assert gone(postgres)
        assert not (instance / "pgdata" / "postmaster.pid").exists()
        assert f"data in {instance / 'pgdata'}" in said
        assert "Embedded PostgreSQL stopped" in said
    finally:
        if not gone(postgres):
            os.kill(postgres, signal.SIGINT)  # leave no server behind, even on failure


def test_a_first_start_logs_cleanly_and_leaves_no_server_behind(environment, tmp_path):
    """`make run` migrates first on a new instance/: that process restarts PostgreSQL once
    (for room in its lock table) and must still stop it, and say nothing alarming."""
    pgdata = tmp_path / "instance" / "pgdata"
    upgrade = subprocess.run(
        [*FLASK, "db", "upgrade"], cwd=ROOT, env=environment, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    try:
        assert upgrade.returncode == 0, upgrade.stderr
        assert not (pgdata / "postmaster.pid").exists(), upgrade.stderr
        said = upgrade.stderr.splitlines()
        assert said == [
            f"Embedded PostgreSQL: data in {pgdata}; it stops with the app.",
            f"Embedded PostgreSQL stopped; its data stay in {pgdata}.",
        ]
    finally:
        if (pgdata / "postmaster.pid").exists():
            os.kill(postmaster_pid(tmp_path / "instance"), signal.SIGINT)


DEPLOY_OUT_OF_THE_BOX = """
from designer import accounts, create_app, projects, rls
from designer.database import deploy, target
from designer.design import fields, tables
from designer.db import owner_database, upgrade
app = create_app()
with app.app_context():
    upgrade(owner_database())
    user = accounts.create_user("dora", "dora@example.com", "long enough pw")
    rls.act_for(user.id)  # a script acts for a user explicitly, as a request does
    project = projects.create_project(user, "Out of the box")
    table = tables.create_table(user, project.id, "Notes")
    fields.create_field(user, table.id, {"name": "Body"})
    moved, deployment = deploy.transition(user, table.id, "active")
    conn = target.connect()
    cursor = conn.cursor()
    cursor.execute(
        "SELECT current_database(), (SELECT n.nspname || '.' || c.relname FROM pg_class c"
        " JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE (n.nspname, c.relname) = ('out_of_the_box', 'notes')), current_user"
    )
    print(moved.status, deployment.status, *cursor.fetchone())
    # Room in the lock table for a deploy of thousands of tables in one transaction.
    cursor.execute("SHOW max_locks_per_transaction")
    print(*cursor.fetchone())
"""


def test_deploying_works_out_of_the_box_with_the_embedded_server(environment, tmp_path):
    """A first start (which restarts the new server once, for room in its lock table)
    deploys, and its PostgreSQL stops when the script ends."""
    environment.pop("DEPLOY_DATABASE_URL", None)
    data_dir = tmp_path / "instance" / "pgdata"
    try:
        result = subprocess.run(
            [sys.executable, "-c", DEPLOY_OUT_OF_THE_BOX],
            cwd=ROOT,
            env=environment,
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout.split() == [
            "active", "applied", "designer_deploy", "out_of_the_box.notes", "designer_target",
            "1024",
        ]  # fmt: skip
        assert not (data_dir / "postmaster.pid").exists(), "the embedded PostgreSQL still runs"
        assert not serving(data_dir)
    finally:
        for postgres in serving(data_dir):
            postgres.send_signal(signal.SIGINT)  # leave no server behind, even on failure


def serving(data_dir):
    """The PostgreSQL postmasters serving `data_dir`."""
    return [
        process
        for process in psutil.process_iter(["name", "cmdline"])
        if process.info["name"] == "postgres" and str(data_dir) in (process.info["cmdline"] or [])
    ]


def test_ctrl_c_on_make_run_stops_the_embedded_server(environment, tmp_path):
    port = free_port()
    run = subprocess.Popen(
        ["make", "run", f"PORT={port}"],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group, as a terminal's foreground job
        preexec_fn=ctrl_c_as_in_a_terminal,
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
