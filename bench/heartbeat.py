"""Lock-heartbeat throughput: the app under gunicorn against a bare Flask + psycopg2 floor.

Prints requests/s, latency and CPU per request at each concurrency, and the app/bare ratio
(target ≥ 0.5); never asserts times, exits non-zero only when requests fail. Runs on a fresh
database on TEST_DATABASE_URL's (or BENCH_DATABASE_URL's) server, else embedded.
"""

import argparse
import contextlib
import http.client
import json
import os
import pathlib
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

from _load import CPU_GROUPS
from _load import Request
from _load import Server
from _load import run_round
from _load import send
from _setup import OUT
from _setup import ROOT
from _setup import counting
from _setup import fresh_database
from _setup import postgres_server

from designer import accounts
from designer import api_tokens
from designer import create_app
from designer import locks
from designer import projects
from designer.db import database
from designer.db import open_database
from designer.db import upgrade
from designer.design import tables
from tests.rls_harness import route

USERS = 64  # one per client at the highest concurrency, so no two clients beat the same row
CONCURRENCY = (16, 64)
WORKERS = 2
WARMUP_SECONDS = 1.0
LEASE_SECONDS = 3600  # far beyond the run: no lock may expire under the load
TARGET = 0.5  # app req/s ÷ bare req/s
PASSWORD = "bench password"
# Alternated, so that neither server gets the warmer (or the busier) machine.
ROUNDS = ("bare", "app", "bare", "app")


def seed():
    """USERS editors of one project, each holding a lock on their own table; their requests.

    Each user's heartbeat names their table, their lock's token and their API token.
    """
    accounts.set_hash_cost(1, 1024)
    users = [
        accounts.create_user(f"bench{i:02d}", f"bench{i:02d}@example.com", PASSWORD)
        for i in range(USERS)
    ]
    owner = users[0]
    project = projects.create_project(owner, "Heartbeat bench")
    for user in users[1:]:
        projects.add_member(owner, project.id, user.username, "editor")
    heartbeats = []
    for i, user in enumerate(users):
        table = tables.create_table(user, project.id, f"Table {i:02d}")
        lock = locks.acquire(table.id, user, "pessimistic")
        token, _ = api_tokens.issue_token(user, "bench")
        heartbeats.append(
            Request(
                path=f"/api/v1/tables/{table.id}/lock/heartbeat",
                body=json.dumps({"lock_token": str(lock.lock_token)}).encode(),
                headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            )
        )
    return heartbeats


def queries_per_heartbeat(app, heartbeat):
    """Statements one heartbeat runs in-process, after the first requests' once-a-while work."""
    client = app.test_client()
    for _ in range(3):
        client.post(heartbeat.path, data=heartbeat.body, headers=heartbeat.headers)
    with counting() as counter:
        response = client.post(heartbeat.path, data=heartbeat.body, headers=heartbeat.headers)
    if response.status_code != 200:
        sys.exit(f"in-process heartbeat -> {response.status_code}\n{response.text[:2000]}")
    return counter.count


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_answering(process, port, heartbeat, log_path, seconds=60, ready=(200,)):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited ({process.returncode}):\n{tail(log_path)}")
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        status = send(conn, heartbeat)
        conn.close()
        if status in ready:
            return
        if isinstance(status, int):
            raise RuntimeError(f"first heartbeat -> {status}:\n{tail(log_path)}")
        time.sleep(0.1)
    raise RuntimeError(f"gunicorn did not answer in {seconds} s:\n{tail(log_path)}")


def tail(path, lines=30):
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


@contextlib.contextmanager
def gunicorn(target, env, threads, log_path, heartbeat, ready=(200,)):
    """A gunicorn serving `target` on a free local port, stopped on leaving: a Server.

    It is up once `heartbeat` (any request) gets one of the `ready` statuses.
    """
    port = free_port()
    command = [sys.executable, "-m", "gunicorn", "-w", str(WORKERS), "-b", f"127.0.0.1:{port}"]
    # Both servers would share one control socket under XDG_RUNTIME_DIR; the bench needs none.
    command.append("--no-control-socket")
    if threads:
        command += ["-k", "gthread", "--threads", str(threads)]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [*command, target], cwd=ROOT, env={**os.environ, **env}, stdout=log, stderr=log
        )
        try:
            wait_until_answering(process, port, heartbeat, log_path, ready=ready)
            yield Server(process.pid, port)
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def ms(seconds):
    return seconds * 1000


def describe(threads, processes, seconds, queries):
    worker = f"gthread, {threads} threads each" if threads else "sync"
    connections = "keep-alive" if threads else "a new connection per request: sync workers close it"
    rounds = ", ".join(ROUNDS)
    lines = (
        f"heartbeat bench: {USERS} users, each holding a lock on their own table",
        f"servers: gunicorn -w {WORKERS} ({worker}), both up, one under load at a time",
        "  app:  app:create_app(), POST /api/v1/tables/<id>/lock/heartbeat with a bearer token,",
        f"        {queries} statements per heartbeat (peewee log)",
        "  bare: bench/bare_heartbeat_app.py, the heartbeat's UPDATE alone through psycopg2",
        "load: C clients, each beating its own lock back to back: threads in"
        f" {processes} process(es)",
        f"      with http.client ({connections});",
        f"      {WARMUP_SECONDS:g} s warm-up + {seconds:g} s measured per round, rounds {rounds}",
        f"machine: {os.cpu_count()} cores shared by PostgreSQL, the gunicorn under load and the",
        "      load generator: compare the two servers, do not read the figures as capacity",
        "CPU ms/request: the server's workers (gunicorn), all of PostgreSQL, the load generator,",
        "      and the rest of the machine (other: kernel, the idle server, anything else running;",
        "      a large value means the round was disturbed)",
    )
    print("\n".join(lines))


def summarize(rounds, server, clients):
    """(req/s, table row) of one server at one concurrency, over its rounds."""
    mine = [r for r in rounds if r.server == server and r.clients == clients]
    latencies = sorted(x for r in mine for x in r.latencies)
    done = len(latencies)
    rate = done / sum(r.seconds for r in mine)
    per_round = " / ".join(f"{len(r.latencies) / r.seconds:.0f}" for r in mine)
    median = statistics.median(latencies) if done else 0
    p95 = statistics.quantiles(latencies, n=20, method="inclusive")[18] if done > 1 else 0
    errors = sum(len(r.errors) for r in mine)
    cpu = " ".join(
        f"{ms(sum(r.cpu[group] for r in mine) / max(done, 1)):>8.2f}" for group in CPU_GROUPS
    )
    row = (
        f"{clients:>7}  {server:<6} {rate:>6.0f}  {per_round:<13} {ms(median):>9.1f}"
        f" {ms(p95):>7.1f} {errors:>6}   {cpu}"
    )
    return rate, row


def report(rounds):
    """The table and the ratio per concurrency; returns how many requests failed."""
    print()
    print(f"{'':49}CPU ms/request:")
    print(
        f"{'clients':>7}  {'server':<6} {'req/s':>6}  {'per round':<13} {'median ms':>9}"
        f" {'p95 ms':>7} {'errors':>6}   " + " ".join(f"{group:>8}" for group in CPU_GROUPS)
    )
    for clients in CONCURRENCY:
        rates = {}
        for server in ("bare", "app"):
            rates[server], row = summarize(rounds, server, clients)
            print(row)
        ratio = rates["app"] / rates["bare"] if rates["bare"] else 0
        verdict = "meets" if ratio >= TARGET else "MISSES"
        print(f"{clients:>7}  app/bare = {ratio:.2f}: {verdict} the target (≥ {TARGET})")
    for r in rounds:
        if r.errors:
            print(f"{r.server} at {r.clients} clients, first errors: {r.errors[:3]}")
    return sum(len(r.errors) for r in rounds)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=0, help="gthread threads; 0: sync")
    parser.add_argument("--processes", type=int, default=1, help="load generator processes")
    parser.add_argument("--seconds", type=float, default=8.0, help="measured per round")
    parser.add_argument(
        "--rls-off",
        action="store_true",
        help="serve the app as a superuser (ALLOW_RLS_BYPASS): what the policies cost",
    )
    args = parser.parse_args()
    # A killed bench must still stop its gunicorns and drop its database.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    started = time.perf_counter()
    OUT.mkdir(parents=True, exist_ok=True)
    with (
        postgres_server() as server_url,
        fresh_database(server_url, roles=True) as (url, owner_url, app_url),
        tempfile.TemporaryDirectory(prefix="heartbeat-", dir=OUT) as scratch,
    ):
        env = {"DATABASE_URL": url, "LOCK_LEASE_SECONDS": str(LEASE_SECONDS)}
        # The app runs as its role, bound by row-level security, as `make run` serves it;
        # the bare floor stays a superuser's plain UPDATE.
        roles = {"DATABASE_URL": app_url, "OWNER_DATABASE_URL": owner_url}
        if args.rls_off:
            roles = {"DATABASE_URL": url, "OWNER_DATABASE_URL": owner_url, "ALLOW_RLS_BYPASS": "1"}
        upgrade(open_database(owner_url))
        open_database(owner_url).close_all()
        route(app_url, url)  # seeding runs as a superuser, requests as the app role
        app = create_app({**env, **roles, "SECRET_KEY": "bench", "INSTANCE_PATH": scratch})
        heartbeats = seed()
        queries = queries_per_heartbeat(app, heartbeats[0])
        # The load processes are forked: they must not inherit this process's pooled sockets.
        database.obj.close_all()
        app_env = {
            **env,
            **roles,
            "SECRET_KEY": "bench",
            "XDG_RUNTIME_DIR": str(ROOT / ".run"),
            "INSTANCE_PATH": scratch,
        }
        logs = pathlib.Path(scratch)
        with (
            gunicorn(
                "app:create_app()", app_env, args.threads, logs / "app.log", heartbeats[0]
            ) as app_server,
            gunicorn(
                "bare_heartbeat_app:app",
                {**env, "PYTHONPATH": str(ROOT / "bench")},
                args.threads,
                logs / "bare.log",
                heartbeats[0],
            ) as bare_server,
        ):
            servers = {"app": app_server, "bare": bare_server}
            rounds = [
                run_round(
                    name,
                    servers[name],
                    heartbeats[:clients],
                    args.processes,
                    WARMUP_SECONDS,
                    args.seconds,
                    url,
                )
                for clients in CONCURRENCY
                for name in ROUNDS
            ]
        describe(args.threads, args.processes, args.seconds, queries)
        if args.rls_off:
            print("RLS OFF: the app served as a superuser, which no policy binds")
        failed = report(rounds)
        for name in sorted({r.server for r in rounds if r.errors}):
            print(f"last lines of the {name} server's log:\n{tail(logs / f'{name}.log')}")
    print(f"total runtime {time.perf_counter() - started:.1f} s")
    if failed:
        sys.exit(f"{failed} heartbeats failed")


if __name__ == "__main__":
    main()
