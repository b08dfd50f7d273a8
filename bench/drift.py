"""The live drift check at 300 and 3,000 tables: where its time goes.

Seeds the project bench/all_pages.py seeds (deployed, then changed), then times a cold check
(nothing kept; a drift page's requests a second apart, the first starting the check on its
thread and waiting for it DRIFT_BUILD_SECONDS, the others answering with its progress), one
reading the tables' expected catalogs kept in PostgreSQL, and one after a one-table change
(profiled with --profile), with the tables each built and the shares it read; then
`drift.check` as the drift pages call it, and each catalog query it runs on the target: the
server's own time (EXPLAIN ANALYZE), the time to execute and receive the rows, to turn them
into Python tuples and to sort them; then the comparison of the two catalogs. Prints medians,
never asserts times. Runs on a fresh database on TEST_DATABASE_URL's (or BENCH_DATABASE_URL's)
server, else embedded; the deploy target is a schema of that same database.

    .venv/bin/python bench/drift.py [--sizes 300,3000] [--runs 9] [--cold-only] [--profile]
"""

import argparse
import cProfile
import json
import os
import pstats
import signal
import statistics
import sys
import tempfile
import time

from _setup import OUT
from _setup import fresh_database
from _setup import postgres_server
from all_pages import PASSWORD
from all_pages import seed

from designer import accounts
from designer import create_app
from designer.database import catalog
from designer.database import deploy
from designer.database import drift
from designer.database import expectations
from designer.database import records
from designer.database import target
from designer.db import database
from designer.db import upgrade
from designer.settings import settings


def ms(seconds):
    return seconds * 1000


def median_of(runs, action):
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return ms(statistics.median(times))


def server_ms(cursor, query, params):
    """What the server says running the query took (planning + execution)."""
    cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + query, params)
    (plan,) = cursor.fetchone()
    plan = plan[0] if isinstance(plan, list) else json.loads(plan)[0]
    return plan["Planning Time"] + plan["Execution Time"]


def catalog_parts(schema, runs):
    """{part: (server ms, execute+receive ms, fetch ms, sort ms, rows)} medians."""
    conn = target.connect()
    figures = {}
    try:
        with conn.cursor() as cursor:
            cursor.execute("SELECT set_config('search_path', %s, true)", (f'"{schema}"',))
            params = {"schema": f'"{schema}"', "prefix": catalog.quoted_prefix(cursor, schema)}
            params["name"] = schema
            queries = {**catalog.QUERIES, "fingerprint": catalog.FINGERPRINT}
            for part, query in queries.items():
                rows = []
                server, execute, fetch, order = [], [], [], []
                for _ in range(runs):
                    server.append(server_ms(cursor, query, params))
                    started = time.perf_counter()
                    cursor.execute(query, params)
                    executed = time.perf_counter()
                    rows = cursor.fetchall()
                    fetched = time.perf_counter()
                    sorted(rows, key=repr)
                    done = time.perf_counter()
                    execute.append(ms(executed - started))
                    fetch.append(ms(fetched - executed))
                    order.append(ms(done - fetched))
                figures[part] = tuple(
                    statistics.median(f) for f in (server, execute, fetch, order)
                ) + (len(rows),)
        conn.rollback()
    finally:
        conn.close()
    return figures


def check(user, project, forget=()):
    for kept in forget:
        kept.clear()
    drift.check(user, project.id)


def load():
    return "load {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


def once(label, action, profiled=False):
    """Run `action` once, printing its time, the tables it built and the shares it read (and
    its top functions when `profiled`)."""
    expectations.work.update(built=0, read=0)
    profiler = cProfile.Profile() if profiled else None
    started = time.perf_counter()
    if profiler is not None:
        profiler.runcall(action)
    else:
        action()
    took = ms(time.perf_counter() - started)
    work = expectations.work
    print(f"  {label}: {took:,.0f} ms, {work['built']:,} tables built,"
          f" {work['read']:,} shares read ({load()})")  # fmt: skip
    if profiler is not None:
        pstats.Stats(profiler, stream=sys.stdout).sort_stats("cumulative").print_stats(30)


def polls(user, project):
    """The requests a drift page makes, a second apart, until it shows the report (the first
    starts the check on its thread and waits for it settings.drift_build_seconds): (how many,
    the first's ms, the median and the longest of the others in ms, seconds in all)."""
    times, began = [], time.perf_counter()
    while True:
        started = time.perf_counter()
        found = drift.check(user, project.id, settings.drift_build_seconds)
        times.append(time.perf_counter() - started)
        if not isinstance(found, drift.Progress):
            others = times[1:] or [0.0]
            median = ms(statistics.median(others))
            return len(times), ms(times[0]), median, ms(max(others)), time.perf_counter() - began
        time.sleep(1)


PROFILE = False


def cold(project, user, data):
    """A cold check with nothing kept anywhere, then with the shares kept in PostgreSQL
    only (another worker), then after a one-table change deployed."""

    def forget(everywhere=False):
        drift.checked.clear()
        drift.expected.clear()
        if everywhere:
            database.execute_sql(
                "DELETE FROM drift_expectation WHERE project_id = %s", (str(project.id),)
            )

    forget(everywhere=True)
    count, first, median, longest, took = polls(user, project)
    print(
        f"  a drift page, nothing kept: {count} requests in {took:.1f} s, the first {first:,.0f}"
        f" ms, the others median {median:,.1f} ms, longest {longest:,.1f} ms ({load()})"
    )
    forget(everywhere=True)
    once("drift.check, nothing kept anywhere", lambda: check(user, project))
    forget()
    once("drift.check, shares kept in PostgreSQL only", lambda: check(user, project))
    once("drift.check, answer kept", lambda: check(user, project))
    deployed = deploy.deploy(user, project.id, [data["table"].id])
    assert deployed.status == "applied", deployed.error
    forget()
    once("drift.check after a one-table change", lambda: check(user, project), PROFILE)
    held = database.execute_sql(
        "SELECT count(*), sum(size) FROM drift_expectation WHERE project_id = %s",
        (str(project.id),),
    ).fetchone()
    print(f"  shares kept: {held[0]:,}, {held[1] or 0:,} bytes")


def profile(project, user, runs):
    schema = project.target_schema
    checks = {
        "answer kept (catalog unchanged)": (),
        "answer not kept, expected catalog kept": (drift.checked,),
        "nothing kept in this process": (drift.checked, drift.expected),
    }
    for label, forget in checks.items():
        took = median_of(runs, lambda forget=forget: check(user, project, forget))
        print(f"  drift.check, {label}: {took:.1f} ms ({load()})")
    parts = catalog_parts(schema, runs)
    columns = ("query", "server ms", "exec+recv", "to tuples", "sort", "rows")
    print("  {:<12} {:>9} {:>9} {:>9} {:>7} {:>7}".format(*columns))
    for part, (server, execute, fetch, order, rows) in parts.items():
        print(f"  {part:<12} {server:9.1f} {execute:9.1f} {fetch:9.1f} {order:7.1f} {rows:7,}")
    total = [sum(p[i] for k, p in parts.items() if k != "fingerprint") for i in range(4)]
    print(f"  {'catalog':<12} {total[0]:9.1f} {total[1]:9.1f} {total[2]:9.1f} {total[3]:7.1f}")
    found = drift.read_catalogs(project)
    compare = median_of(runs, lambda: found.expected == found.actual)
    print(f"  comparing the two catalogs (==): {compare:.1f} ms")
    last = records.last_applied(project.id)
    print(f"  last deployed snapshot read: {median_of(runs, lambda: deployed(last)):.1f} ms")
    connect = median_of(runs, lambda: target.connect().close())
    print(f"  connecting to the target: {connect:.1f} ms")


def deployed(last):
    records.deployed_snapshot(last)


def main():
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="300,3000")
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--cold-only", action="store_true", help="no medians, no query parts")
    parser.add_argument(
        "--profile", action="store_true", help="profile the check after a one-table change"
    )
    args = parser.parse_args()
    global PROFILE
    PROFILE = args.profile
    OUT.mkdir(parents=True, exist_ok=True)
    with (
        postgres_server() as server_url,
        fresh_database(server_url) as url,
        tempfile.TemporaryDirectory(prefix="instance-", dir=OUT) as instance,
    ):
        config = {"SECRET_KEY": "bench", "INSTANCE_PATH": instance, "DATABASE_URL": url}
        config |= {"DEPLOY_DATABASE_URL": url, "ALLOW_RLS_BYPASS": True}
        app = create_app(config)
        with app.app_context():
            upgrade(database.obj)
            accounts.set_hash_cost(1, 1024)
            owner = accounts.create_user("bench", "bench@example.com", PASSWORD)
            member = accounts.create_user("member", "member@example.com", PASSWORD)
            for count in (int(s) for s in args.sizes.split(",")):
                data = seed(owner, member, count)
                print(f"{count:,} tables")
                cold(data["project"], owner, data)
                if not args.cold_only:
                    profile(data["project"], owner, args.runs)


if __name__ == "__main__":
    main()
