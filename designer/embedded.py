"""The embedded PostgreSQL (pgserver) that `make run` and `make test` use when no
DATABASE_URL is given: started under instance/, shared by the processes using it, and
stopped with the last of them."""

import atexit
import json
import os
import pathlib
import signal
import threading

import click
import psutil

from designer import rls

EMBEDDED_DB_NAME = "designer"
EMBEDDED_OWNER = "designer_owner"
EMBEDDED_APP = "designer_app"
EMBEDDED_TARGET = "designer_target"


def embedded_url(instance_path):
    """Start (or join) the embedded PostgreSQL under instance/; returns the URLs of the app,
    the owner and the deploy target.

    The designer's database belongs to the owner role (migrations run as it) and the app
    connects as a role bound by row-level security; the deploy target's database belongs
    to a role of its own, which makes a role per project there and never serves the
    designer. It stops when the last process using it exits, Ctrl-C and SIGTERM included.
    """
    import pgserver  # only when embedded: a server given by URL never loads it

    data_dir = pathlib.Path(instance_path) / "pgdata"
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    forget_dead_users(pgserver.PostgresServer, data_dir)
    # Registered before pgserver's own exit hook, so it runs after it and can tell.
    atexit.register(say_whether_stopped, data_dir)
    exit_cleanly_on_signals()
    server = pgserver.get_server(data_dir, cleanup_mode="stop")
    room_for_large_schemas(server)
    click.echo(f"Embedded PostgreSQL: data in {data_dir}; it stops with the app.", err=True)
    admin = server.get_uri("postgres")
    owner_url, app_url = rls.provision(admin, EMBEDDED_DB_NAME, EMBEDDED_OWNER, EMBEDDED_APP)
    target_url = rls.provision_target(
        admin, f"{EMBEDDED_DB_NAME}_deploy", EMBEDDED_TARGET, former_owner=EMBEDDED_APP
    )
    return app_url, owner_url, target_url


# A deploy, and drift's scratch copy, create every table of a project in one transaction,
# and each table, index and sequence takes a lock. PostgreSQL's default lock table (64 per
# connection) runs out near a thousand tables; this much holds several thousand (about
# 30 MB of shared memory). An external server needs the same setting (see README).
LOCKS_PER_TRANSACTION = 1024


def room_for_large_schemas(server):
    """Raise the embedded server's max_locks_per_transaction, restarting it once if needed."""
    from pgserver._commands import pg_ctl

    shown = server.psql("SHOW max_locks_per_transaction;")
    current = int("".join(ch for ch in shown.split("\n")[2] if ch.isdigit()) or 0)
    if current >= LOCKS_PER_TRANSACTION:
        return
    server.psql(f"ALTER SYSTEM SET max_locks_per_transaction = {LOCKS_PER_TRANSACTION};")
    pg_ctl(["-w", "restart"], pgdata=server.pgdata, user=server.system_user, timeout=30)
    # The restarted server is a new process: pgserver must know it, or at exit it finds the
    # old one gone and leaves the new one running.
    with type(server)._lock:
        server.ensure_postgres_running()


def forget_dead_users(server_class, data_dir):
    """Drop processes that no longer exist from pgserver's list of the server's users.

    pgserver stops the server when the last process in that list exits; a
    process killed without its exit hooks never leaves the list, and then the
    server would never be stopped again by anyone.
    """
    path = data_dir / ".handle_pids.json"
    with server_class._lock:
        if not path.exists():
            return
        pids = json.loads(path.read_text() or "[]")
        alive = [pid for pid in pids if pid != os.getpid() and psutil.pid_exists(pid)]
        if alive != pids:
            path.write_text(json.dumps(alive))


def exit_cleanly_on_signals():
    """SIGTERM and SIGHUP end the process through its exit hooks, as Ctrl-C already does,
    so the embedded server stops; handlers someone else installed (gunicorn's) stay."""
    if threading.current_thread() is not threading.main_thread():
        return
    for signum in (signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(signum) == signal.SIG_DFL:
            signal.signal(signum, exit_on_signal)


def exit_on_signal(signum, frame):
    raise SystemExit(128 + signum)


def say_whether_stopped(data_dir):
    if (data_dir / "postmaster.pid").exists():
        click.echo(
            f"Embedded PostgreSQL keeps running for another process using it (data in {data_dir}).",
            err=True,
        )
    else:
        click.echo(f"Embedded PostgreSQL stopped; its data stay in {data_dir}.", err=True)
