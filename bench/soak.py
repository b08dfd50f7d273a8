"""Mixed load for minutes against `make serve` (gunicorn with designer.gunicorn_config), run by
`make soak`: 32 locust users browsing, polling, editing inline, heartbeating their locks and
saving versions, first on one app server, then on two behind nginx (when nginx is installed;
else locust's users are spread over the two servers directly), then on two servers while the
database restarts. Prints p50/p95/p99 per action, errors, and the CPU the app servers, the
database and the load generator used. Never asserts times.

SOAK_SECONDS (300) is each run's length, SOAK_USERS_COUNT (32) the users.
"""

import contextlib
import csv
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request

import psutil
from _load import Server
from _load import cpu_by_group
from _load import machine_busy_seconds
from _setup import OUT
from _setup import ROOT
from _setup import fresh_database
from _setup import postgres_server

from designer import accounts
from designer import api_tokens
from designer import create_app
from designer import locks
from designer import projects
from designer.db import database
from designer.db import upgrade
from designer.design import fields
from designer.design import tables

SECONDS = int(os.environ.get("SOAK_SECONDS") or 300)
USERS = int(os.environ.get("SOAK_USERS_COUNT") or 32)
TEAMS = 4  # projects; the users are spread over them
PASSWORD = "soak password 1"
BIN = ROOT / ".venv" / "bin"


def seed():
    """USERS editors in TEAMS projects (20 tables of 8 fields each), each holding a lock on a
    table of their own; what locust needs to act as them."""
    accounts.set_hash_cost(1, 1024)
    owners, seeded = [], []
    for team in range(TEAMS):
        owner = accounts.create_user(f"owner{team}", f"owner{team}@example.com", PASSWORD)
        project = projects.create_project(owner, f"Team {team}")
        for n in range(20):
            table = tables.create_table(owner, project.id, f"Shared {n:02d}")
            for f in range(8):
                fields.create_field(owner, table.id, {"name": f"Column {f}"})
        owners.append((owner, project))
    for i in range(USERS):
        owner, project = owners[i % TEAMS]
        user = accounts.create_user(f"soak{i:02d}", f"soak{i:02d}@example.com", PASSWORD)
        projects.add_member(owner, project.id, user.username, "editor")
        table = tables.create_table(user, project.id, f"Desk {i:02d}")
        made = [fields.create_field(user, table.id, {"name": f"Note {f}"}) for f in range(6)]
        lock = locks.acquire(table.id, user, "pessimistic", "soak")
        token, _ = api_tokens.issue_token(user, "soak")
        seeded.append(
            {
                "username": user.username,
                "password": PASSWORD,
                "token": token,
                "project_id": str(project.id),
                "table_id": str(table.id),
                "lock_token": str(lock.lock_token),
                "fields": [[str(f.id), f.revision] for f in made],
            }
        )
    return seeded


def free_port():
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_ready(port, seconds=90):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as answer:  # noqa: S310
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"nothing ready on port {port}")


@contextlib.contextmanager
def app_servers(count, db_url, name):
    """`count` gunicorns as `make serve` starts them, each with its log under bench/out."""
    started = []
    try:
        for n in range(count):
            port = free_port()
            env = {
                **{k: v for k, v in os.environ.items() if k != "TEST_DATABASE_URL"},
                "DATABASE_URL": db_url,
                "SECRET_KEY": "soak",
                "INSTANCE_PATH": str(OUT / f"soak-instance-{n}"),
                "PORT": str(port),
                "LOCK_LEASE_SECONDS": "600",
                # The soak's users all sign in from 127.0.0.1.
                "SIGNIN_CLIENT_LIMIT": "1000 per minute",
            }
            log = open(OUT / f"{name}-app{n}.log", "wb")  # noqa: SIM115
            process = subprocess.Popen(
                [str(BIN / "gunicorn"), "-c", "python:designer.gunicorn_config", "app:app"],
                cwd=ROOT, env=env, stdout=log, stderr=log,
            )  # fmt: skip
            started.append((process, log))
            wait_ready(port)
            yield_server = Server(process.pid, port)
            started[-1] = (process, log, yield_server)
        yield [entry[2] for entry in started]
    finally:
        for entry in started:
            process, log = entry[0], entry[1]
            process.terminate()
            try:
                process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                process.kill()
            log.close()


NGINX_TEMPLATE = ROOT / "production" / "nginx-two-servers.conf"


@contextlib.contextmanager
def proxy(servers):
    """nginx in front of the servers (the README's recipe), or None when nginx is missing."""
    nginx = shutil.which("nginx") or (
        "/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None
    )
    if nginx is None:
        yield None
        return
    port = free_port()
    run_dir = OUT / "nginx"
    run_dir.mkdir(parents=True, exist_ok=True)
    conf = NGINX_TEMPLATE.read_text()
    conf = conf.replace("LISTEN_PORT", str(port)).replace("RUN_DIR", str(run_dir))
    conf = conf.replace("APP_ONE", f"127.0.0.1:{servers[0].port}")
    conf = conf.replace("APP_TWO", f"127.0.0.1:{servers[1].port}")
    (run_dir / "nginx.conf").write_text(conf)
    process = subprocess.Popen(
        [nginx, "-p", str(run_dir), "-c", str(run_dir / "nginx.conf"), "-g", "daemon off;"],
        stdout=subprocess.DEVNULL, stderr=open(run_dir / "stderr.log", "wb"),  # noqa: SIM115
    )  # fmt: skip
    try:
        wait_ready(port)
        yield port, process.pid
    finally:
        process.send_signal(signal.SIGQUIT)  # nginx's graceful stop
        process.wait(timeout=30)


def cpu_now(servers, db_url, extra_pids=()):
    """CPU seconds so far: app servers (workers), database, proxy."""
    groups = {"app": {}, "database": {}, "proxy": {}}
    for server in servers:
        used = cpu_by_group(server, db_url)
        groups["app"].update(used["gunicorn"])
        groups["database"].update(used["postgres"])
    for pid in extra_pids:
        with contextlib.suppress(psutil.Error):
            process = psutil.Process(pid)
            for member in [process, *process.children()]:
                times = member.cpu_times()
                groups["proxy"][member.pid] = times.user + times.system
    return groups


def spent(before, after):
    return {
        group: sum(cpu - before[group].get(pid, 0.0) for pid, cpu in used.items())
        for group, used in after.items()
    }


def run_locust(name, host, users_file, seconds, during=None):
    """A headless locust run; (its stats rows by action, its failures, locust's CPU seconds).

    `host` may list several servers, comma-separated: each user then keeps to one of them."""
    prefix = OUT / name
    command = [
        str(BIN / "locust"), "-f", str(ROOT / "bench" / "locustfile.py"), "--headless",
        "-u", str(USERS), "-r", str(max(1, USERS // 8)), "-t", f"{seconds}s",
        "--host", host.split(",")[0],
        "--csv", str(prefix), "--only-summary", "--stop-timeout", "10",
    ]  # fmt: skip
    env = {**os.environ, "SOAK_USERS": str(users_file), "SOAK_HOSTS": host}
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with open(OUT / f"{name}-locust.log", "wb") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log)
        worker = threading.Thread(target=during, daemon=True) if during else None
        if worker:
            worker.start()
        process.wait()
        if worker:
            worker.join()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    load_cpu = (children.ru_utime + children.ru_stime) - (
        children_before.ru_utime + children_before.ru_stime
    )
    with open(f"{prefix}_stats.csv") as handle:
        stats = {f"{row['Type']} {row['Name']}".strip(): row for row in csv.DictReader(handle)}
    with open(f"{prefix}_failures.csv") as handle:
        failures = list(csv.DictReader(handle))
    return stats, failures, load_cpu


def report(title, stats, failures, cpu, busy, seconds):
    print(f"\n== {title}: {USERS} users, {seconds} s")
    print(f"{'action':22} {'requests':>9} {'errors':>7} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7}")
    for action, row in stats.items():
        print(
            f"{action:22} {row['Request Count']:>9} {row['Failure Count']:>7} {row['50%']:>7}"
            f" {row['95%']:>7} {row['99%']:>7}"
        )
    total = stats["Aggregated"]
    print(f"requests/s {float(total['Requests/s']):.1f}; errors {total['Failure Count']}")
    for failure in failures[:10]:
        print(f"  error x{failure['Occurrences']}: {failure['Method']} {failure['Name']}: "
              f"{failure['Error'][:160]}")  # fmt: skip
    parts = ", ".join(f"{group} {used:.1f} s ({used / seconds * 100:.0f}% of a core)"
                      for group, used in cpu.items())  # fmt: skip
    print(f"CPU: {parts}; whole machine busy {busy:.1f} s (other sessions included)")


def leg(
    title, name, servers, host, users_file, db_url, extra_pids=(), during=None, seconds=SECONDS
):
    before, busy_before = cpu_now(servers, db_url, extra_pids), machine_busy_seconds()
    stats, failures, load_cpu = run_locust(name, host, users_file, seconds, during)
    cpu = spent(before, cpu_now(servers, db_url, extra_pids))
    cpu["load (locust)"] = load_cpu
    report(title, stats, failures, cpu, machine_busy_seconds() - busy_before, seconds)


def restarts(pg_data, count, every):
    """Stop the database for 2 s, `count` times, `every` seconds apart (run beside locust)."""
    import pgserver
    from pgserver._commands import pg_ctl

    def run():
        for _ in range(count):
            time.sleep(every)
            server = pgserver.get_server(pg_data, cleanup_mode=None)
            pg_ctl(["-w", "-m", "fast", "stop"], pgdata=server.pgdata, user=server.system_user)
            time.sleep(2)
            server.ensure_postgres_running()
            print(f"  database restarted at {time.strftime('%H:%M:%S')}", flush=True)

    return run


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    with postgres_server() as server_url, fresh_database(server_url) as db_url:
        create_app({"DATABASE_URL": db_url, "SECRET_KEY": "soak", "INSTANCE_PATH": str(OUT)})
        upgrade(database.obj)
        users_file = OUT / "soak-users.json"
        users_file.write_text(json.dumps(seed()))
        database.close()
        with app_servers(1, db_url, "soak-one") as servers:
            host = f"http://127.0.0.1:{servers[0].port}"
            leg("one app server", "soak-one", servers, host, users_file, db_url)
        with app_servers(2, db_url, "soak-two") as servers, proxy(servers) as front:
            if front is None:
                print("\n(nginx not installed: locust spreads its users over both servers)")
                host = ",".join(f"http://127.0.0.1:{s.port}" for s in servers)
                extra = ()
            else:
                host, extra = f"http://127.0.0.1:{front[0]}", (front[1],)
            leg("two app servers behind nginx", "soak-two", servers, host, users_file, db_url,
                extra)  # fmt: skip
            data_dir = pg_data_dir(db_url)
            if data_dir is None:
                print("\n(database restarts skipped: the server is not an embedded one)")
                return
            length = min(120, SECONDS)
            restarting = restarts(data_dir, 3, length // 4)
            title = "two app servers, database restarted 3 times"
            leg(title, "soak-restarts", servers, host, users_file, db_url, extra, restarting,
                seconds=length)  # fmt: skip


def pg_data_dir(db_url):
    """The database's data folder when it is an embedded server this bench started, else None."""
    if os.environ.get("TEST_DATABASE_URL") or os.environ.get("BENCH_DATABASE_URL"):
        return None
    import psycopg2

    conn = psycopg2.connect(db_url)
    try:
        with conn.cursor() as cursor:
            cursor.execute("SHOW data_directory")
            return cursor.fetchone()[0]
    finally:
        conn.close()


if __name__ == "__main__":
    sys.exit(main())
