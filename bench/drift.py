"""The live drift check at 300 and 3,000 tables: where its time goes.

Seeds the project bench/all_pages.py seeds (deployed, then changed), then times `drift.check`
as the drift pages call it, and each catalog query it runs on the target: the server's own
time (EXPLAIN ANALYZE), the time to execute and receive the rows, to turn them into Python
tuples and to sort them; then the comparison of the two catalogs. Prints medians, never
asserts times. Runs on a fresh database on TEST_DATABASE_URL's (or BENCH_DATABASE_URL's)
server, else embedded; the deploy target is a schema of that same database.

    .venv/bin/python bench/drift.py [--sizes 300,3000] [--runs 9]
"""

import argparse
import json
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
from designer.database import drift
from designer.database import records
from designer.database import target
from designer.db import database
from designer.db import upgrade


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


def profile(project, user, runs):
    schema = project.target_schema
    checks = {
        "answer kept (catalog unchanged)": (),
        "answer not kept, expected catalog kept": (drift.checked,),
        "nothing kept": (drift.checked, drift.expected),
    }
    for label, forget in checks.items():
        took = median_of(runs, lambda forget=forget: check(user, project, forget))
        print(f"  drift.check, {label}: {took:.1f} ms")
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
    args = parser.parse_args()
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
                profile(data["project"], owner, args.runs)


if __name__ == "__main__":
    main()
