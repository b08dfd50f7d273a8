"""The compare page and the API's diff at 3,000 and 30,000 tables (issue #27), over HTTP.

Seeds (by SQL, as bench/all_pages.py does) a project of N tables × 20 fields, each holding a
foreign key to the one before; saves version 1, changes one table and saves version 2, then
changes another table (unsaved). Times each compare variant over HTTP as a signed-in browser
loads it: the first view (nothing kept: the server's kept answers are cleared first) and the
median of repeated views, with the RSS of the serving process. Prints, never asserts.
Version 3 and the working copy differ from versions 1 and 2 in every table: a cut paged by
versions.compare_page; --sql-download times its whole migration SQL once.

    .venv/bin/python bench/compare_pages.py [--sizes 3000,30000] [--runs 10] [--profile]
"""

import argparse
import cProfile
import os
import pstats
import statistics
import tempfile
import time

from _setup import OUT
from _setup import fresh_database
from _setup import postgres_server
from all_pages import PASSWORD
from all_pages import Client
from all_pages import Served
from all_pages import linked
from all_pages import rss

from designer import accounts
from designer import create_app
from designer import projects
from designer import web
from designer.db import database
from designer.db import open_database
from designer.db import upgrade
from designer.design import fields
from designer.history import versions
from designer.models import DataTable
from tests.rls_harness import route


def seed(owner, count):
    project = projects.create_project(owner, f"Compare {count}")
    started = time.perf_counter()
    linked(project, owner, count)
    print(f"  seeded {count:,} tables in {time.perf_counter() - started:.1f} s", flush=True)
    started = time.perf_counter()
    versions.save_version(owner, project.id, "First")
    print(f"  saved version 1 in {time.perf_counter() - started:.1f} s", flush=True)
    ids = [
        t.id
        for t in DataTable.select(DataTable.id)
        .where(DataTable.project == project.id)
        .order_by(DataTable.table_name)
    ]
    fields.create_field(owner, ids[count // 3], {"name": "One more column"})
    started = time.perf_counter()
    versions.save_version(owner, project.id, "One table changed")
    print(f"  saved version 2 in {time.perf_counter() - started:.1f} s", flush=True)
    # Every table changed (its display name: the seed's tables are Active already).
    DataTable.update(name=DataTable.name.concat(" v3")).where(
        DataTable.project == project.id
    ).execute()
    started = time.perf_counter()
    versions.save_version(owner, project.id, "Every table renamed")
    print(f"  saved version 3 in {time.perf_counter() - started:.1f} s", flush=True)
    fields.create_field(owner, ids[count // 2], {"name": "Pending column"})
    return project


def paths(project):
    pid = project.id
    page, api = f"/projects/{pid}/diff", f"/api/v1/projects/{pid}/diff"
    return [
        ("versions.compare ?from=1&to=2", f"{page}?from=1&to=2", False, False),
        ("versions.compare ?from=1&to=working", f"{page}?from=1&to=working", False, False),
        ("versions.compare ?from=2", f"{page}?from=2", False, False),
        ("versions.compare hx ?from=&to=1&start=1", f"{page}?from=&to=1&start=1", True, False),
        ("api.diff ?from=1&to=2", f"{api}?from=1&to=2", False, True),
        ("api.diff ?from=2", f"{api}?from=2", False, True),
        ("versions.compare ?from=1&to=3 (every table)", f"{page}?from=1&to=3", False, False),
        ("versions.compare hx ?from=1&to=3&start=50 (every)", f"{page}?from=1&to=3&start=50",
         True, False),
        ("versions.compare ?from=3&to=1 (every table)", f"{page}?from=3&to=1", False, False),
        ("api.diff ?from=1&to=3 (every table)", f"{api}?from=1&to=3", False, True),
        ("api.diff ?from=1&to=3&start=100 (every table)", f"{api}?from=1&to=3&start=100",
         False, True),
    ]  # fmt: skip


def load():
    return "load average " + " ".join(f"{n:.2f}" for n in os.getloadavg())


def get(client, path, htmx, api):
    headers = {"HX-Request": "true"} if htmx else {}
    if api:
        headers["Authorization"] = f"Bearer {client.bearer}"
    started = time.perf_counter()
    response, data = client.send("GET", path, headers=headers)
    elapsed = (time.perf_counter() - started) * 1000
    if response.status >= 400:
        raise SystemExit(f"GET {path} -> {response.status}: {data[:300]!r}")
    return elapsed, len(data)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="3000,30000")
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--profile", action="store_true", help="profile first views in-process")
    parser.add_argument(
        "--sql-download",
        action="store_true",
        help="also time a large cut's whole migration SQL download, once",
    )
    args = parser.parse_args()
    web.SWEEP_EVERY_SECONDS = float("inf")
    OUT.mkdir(parents=True, exist_ok=True)
    with (
        postgres_server() as server_url,
        fresh_database(server_url, roles=True) as urls,
        tempfile.TemporaryDirectory(prefix="instance-", dir=OUT) as instance,
    ):
        url, owner_url, app_url = urls
        upgrade(open_database(owner_url))
        open_database(owner_url).close_all()
        route(app_url, url)
        app = create_app(
            {
                "SECRET_KEY": "bench", "INSTANCE_PATH": instance, "DATABASE_URL": app_url,
                "OWNER_DATABASE_URL": owner_url, "DEPLOY_DATABASE_URL": url,
            }
        )  # fmt: skip
        accounts.set_hash_cost(1, 1024)
        server = Served(app)
        owner = accounts.create_user("bench", "bench@example.com", PASSWORD)
        token, _ = __import__("designer.api_tokens", fromlist=["x"]).issue_token(owner, "bench")
        try:
            for count in (int(s) for s in args.sizes.split(",")):
                project = seed(owner, count)
                database.execute_sql("ANALYZE")
                client = Client(server.port).sign_in(owner)
                client.bearer = token
                floor = statistics.median(get(Client(server.port), "/login", False, False)[0]
                                          for _ in range(args.runs))  # fmt: skip
                print(f"{count:,} tables; floor GET /login {floor:.1f} ms;"
                      f" {load()}", flush=True)  # fmt: skip
                for label, path, htmx, api in paths(project):
                    # A first view: a new change stamp makes the working copy's key new; the
                    # versions' pairs are new to this process until viewed.
                    first = get(client, path, htmx, api)
                    times = [get(client, path, htmx, api)[0] for _ in range(args.runs)]
                    print(
                        f"  {label:<46} first {first[0]:8.1f} ms"
                        f"  median {statistics.median(times):7.1f} ms  {first[1]:>9,} B",
                        flush=True,
                    )
                if args.sql_download:
                    # A large cut's migration SQL, whole: off the compare page, timed once.
                    path = f"/projects/{project.id}/diff.sql?from=1&to=3"
                    took, size = get(client, path, False, False)
                    print(
                        f"  {'versions.compare_sql ?from=1&to=3 (once)':<46} first {took:8.1f} ms"
                        f"  {size:>26,} B; RSS {rss(server.pid)[0]:.0f} MB",
                        flush=True,
                    )
                if args.profile:
                    with app.test_request_context():
                        profiler = cProfile.Profile()
                        profiler.enable()
                        versions.diffs.clear()
                        versions.listings.clear()
                        versions.compare_keyed(project.id, "1", "working")
                        versions.diffs.clear()
                        versions.compare_keyed(project.id, "1", "2")
                        versions.diffs.clear()
                        versions.compare_page(project.id, "1", "3", 0, 50)
                        profiler.disable()
                        pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
                now, peak = rss(server.pid)
                print(f"  RSS of the serving process: {now:.0f} MB (peak {peak:.0f} MB);"
                      f" {load()}", flush=True)  # fmt: skip
        finally:
            server.shutdown()


if __name__ == "__main__":
    main()
