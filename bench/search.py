"""Table search on the project page at 300 and 3,000 tables, over HTTP, as the app role.

Seeds a project of N tables × 20 fields (names "<adjective> <noun> <n>", fields "Column <i>")
and times GET /projects/<id>/tables for searches of every rank group: one exact name, a
prefix group (1% of the tables), a contains group (10%), and a query every table matches
only by a column (all of them sorted by rank and name), next to the unsearched page and the
floor (GET /login, anonymous) of the same run. Prints, never asserts times.

    .venv/bin/python bench/search.py [--sizes 300,3000] [--runs 30]
"""

import argparse
import statistics
import tempfile

from _setup import OUT
from _setup import design
from _setup import fresh_database
from _setup import insert_all
from _setup import postgres_server
from all_pages import PASSWORD
from all_pages import Client
from all_pages import Served
from all_pages import timed

from designer import accounts
from designer import create_app
from designer import projects
from designer import web
from designer.db import open_database
from designer.db import upgrade
from designer.design import naming
from designer.models import DataField
from designer.models import DataTable
from tests.rls_harness import route

SEARCHES = {
    "unsearched (by name)": "",
    "exact name": "?q=coral+parcel+00022",
    "prefix (1%)": "?q=coral+parcel",
    "contains (10%)": "?q=parcel",
    "columns only (100%)": "?q=column+1",
    "no match": "?q=zebra",
}


def seed(owner, count):
    project = projects.create_project(owner, f"Search {count}")
    made, columns_of = design(project, owner, count)
    insert_all((DataTable, made), (DataField, [c for cs in columns_of.values() for c in cs]))
    return project


def median_ms(client, path, warmup, runs):
    for _ in range(warmup):
        timed(client, path, htmx=True)
    figures = [timed(client, path, htmx=True) for _ in range(runs)]
    times = [f[0] for f in figures]
    return statistics.median(times), max(times), figures[-1][1]


def run_size(port, owner, count, args):
    project = seed(owner, count)
    client = Client(port).sign_in(owner)
    anonymous = Client(port)
    timed(anonymous, "/login")
    naming.inflector()  # loaded in the background after the first request: not the floor's
    floor, _, _ = median_ms(anonymous, "/login", args.warmup, args.runs)
    print(f"\n{count:,} tables; floor GET /login {floor:.1f} ms")
    print(f"  {'search':<24} {'median ms':>9} {'−floor':>8} {'max ms':>8} {'bytes':>8}")
    base = f"/projects/{project.id}/tables"
    for label, query in SEARCHES.items():
        median, worst, size = median_ms(client, base + query, args.warmup, args.runs)
        print(f"  {label:<24} {median:>9.1f} {median - floor:>8.1f} {worst:>8.1f} {size:>8,}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="300,3000")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    web.SWEEP_EVERY_SECONDS = float("inf")
    with (
        postgres_server() as server_url,
        fresh_database(server_url, roles=True) as (url, owner_url, app_url),
        tempfile.TemporaryDirectory(prefix="instance-", dir=OUT) as instance,
    ):
        upgrade(open_database(owner_url))
        open_database(owner_url).close_all()
        route(app_url, url)
        config = {"SECRET_KEY": "bench", "INSTANCE_PATH": instance}
        config |= {"DATABASE_URL": app_url, "OWNER_DATABASE_URL": owner_url}
        app = create_app(config)
        accounts.set_hash_cost(1, 1024)
        owner = accounts.create_user("bench", "bench@example.com", PASSWORD)
        server = Served(app)
        try:
            for count in (int(s) for s in args.sizes.split(",")):
                run_size(server.port, owner, count, args)
        finally:
            server.shutdown()


if __name__ == "__main__":
    main()
