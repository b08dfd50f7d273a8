"""Statements changing every table of a design, timed with and without the triggers that keep
working_part and project_change current (migrations 0030-0034 and after).

Seeds a project of N tables × 20 fields with a relationship per table (bench/all_pages.py's
SQL seed, timed), then times in its own transaction each statement below, once as the app
runs it and once with triggers off (session_replication_role = replica: the statement's own
cost), and prints the difference per table (wall time, and the backend's CPU time, which a
loaded machine distorts less), with the trigger functions' calls and time from
pg_stat_xact_user_functions. Rolled back after each, so every statement meets the same design.

    .venv/bin/python bench/bulk_statements.py [--sizes 3000,30000]

Prints, never asserts times. Runs on a fresh database on TEST_DATABASE_URL's (or
BENCH_DATABASE_URL's) server, else embedded.
"""

import argparse
import os
import pathlib
import signal
import sys
import time

from _setup import fresh_database
from _setup import postgres_server
from all_pages import PASSWORD
from all_pages import linked

from designer import accounts
from designer import projects
from designer.db import database
from designer.db import open_database
from designer.db import upgrade

STATEMENTS = {
    "mark every table active (bench seed)": (
        "UPDATE data_table SET status = 'active' WHERE project_id = %(project)s"
    ),
    "mark every table active (app: revision, updated_at)": (
        "UPDATE data_table SET status = 'active', revision = revision + 1, updated_at = now()"
        " WHERE project_id = %(project)s AND status = 'draft'"
    ),
    "bump every table's revision (part unchanged)": (
        "UPDATE data_table SET revision = revision + 1 WHERE project_id = %(project)s"
    ),
    "rename one field of every table": (
        "UPDATE data_field SET name = name || '.' WHERE project_id = %(project)s AND sort_order = 1"
    ),
    "mark every relationship active": (
        "UPDATE table_relationship SET status = 'active' WHERE project_id = %(project)s"
    ),
}


def functions():
    rows = database.execute_sql(
        "SELECT funcname, calls, total_time FROM pg_stat_xact_user_functions"
    ).fetchall()
    return {name: (calls, total) for name, calls, total in rows}


TICK = os.sysconf("SC_CLK_TCK")


def backend_cpu(pid):
    """CPU seconds a PostgreSQL backend has used (from /proc: the server runs here)."""
    fields = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def timed(sql, project_id, triggers=True):
    """(ms, backend CPU ms, {function: (calls, ms)}) of one statement and its commit's
    deferred triggers, rolled back."""
    conn = database.connection()
    with conn.cursor() as cur:
        cur.execute("SELECT pg_backend_pid()")
        pid = cur.fetchone()[0]
        cur.execute("BEGIN")
        cur.execute("SET LOCAL track_functions = 'all'")
        if not triggers:
            cur.execute("SET LOCAL session_replication_role = replica")
        cur.execute("SELECT pg_stat_clear_snapshot()")
        before = functions()
        cpu = backend_cpu(pid)
        started = time.perf_counter()
        cur.execute(sql, {"project": str(project_id)})
        cur.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the deferred triggers, as a commit
        took = (time.perf_counter() - started) * 1000
        cpu = (backend_cpu(pid) - cpu) * 1000
        # (pg_stat_user_functions shows this transaction's own calls as well)
        after = functions()
        cur.execute("ROLLBACK")
    spent = {
        name: (calls - before.get(name, (0, 0))[0], total - before.get(name, (0, 0))[1])
        for name, (calls, total) in after.items()
        if calls != before.get(name, (0, 0))[0]
    }
    return took, cpu, spent


def bench(owner, count):
    project = projects.create_project(owner, f"Bulk {count}")
    started = time.perf_counter()
    linked(project, owner, count)
    print(f"\n{count:,} tables: seeded in {time.perf_counter() - started:.1f} s", flush=True)
    for label, sql in STATEMENTS.items():
        bare, bare_cpu, _ = timed(sql, project.id, triggers=False)
        took, cpu, spent = timed(sql, project.id)
        print(
            f"  {label:<52} {took:9.0f} ms, CPU {cpu:7.0f} ms  (triggers off {bare:7.0f} ms,"
            f" CPU {bare_cpu:6.0f} ms; triggers {(took - bare) / count * 1000:6.0f} µs,"
            f" CPU {(cpu - bare_cpu) / count * 1000:5.0f} µs a table)",
            flush=True,
        )
        for name, (calls, total) in sorted(spent.items(), key=lambda kv: -kv[1][1])[:6]:
            print(f"      {name:<40} {calls:>9,} calls {total:10.1f} ms")


def main():
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="3000,30000")
    sizes = [int(s) for s in parser.parse_args().sizes.split(",")]
    started = time.perf_counter()
    with postgres_server() as server_url, fresh_database(server_url) as url:
        database.initialize(open_database(url))
        upgrade(database.obj)
        accounts.set_hash_cost(1, 1024)
        owner = accounts.create_user("bench", "bench@example.com", PASSWORD)
        for count in sizes:
            bench(owner, count)
    print(
        f"total runtime {time.perf_counter() - started:.1f} s;"
        f" load average {' '.join(f'{n:.2f}' for n in os.getloadavg())}"
    )


if __name__ == "__main__":
    main()
