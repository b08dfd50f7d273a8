"""Every export and download route at 3,000 and 30,000 tables, over HTTP (#27).

Seeds the project bench/all_pages.py seeds (tables × 20 fields, one relationship per table,
versions, a deployment, unsaved work), serves the app as the app role under row-level
security from a process of its own (forked before the seeding, as a worker), and for each
download route prints: the first download (the file written), then the median of `--runs`
downloads of the kept file: time to first byte and to last byte, as a browser asks
(Accept-Encoding: gzip) and as a client that takes no gzip, the bytes sent each way, and a
browser's repeat download with its ETag (304). Then one table changes and the first
download after it is timed again. Prints the serving process's RSS after each size and the
load average; never asserts times.

    .venv/bin/python bench/exports.py [--sizes 3000,30000] [--runs 15] [--skip-deploy]
        [--routes json,diagram]

--routes times only the routes whose label holds one of the words (the serving process's
peak RSS is then theirs alone).
"""

import argparse
import logging
import os
import signal
import statistics
import sys
import tempfile
import time

import all_pages
from _setup import OUT
from _setup import fresh_database
from _setup import postgres_server
from werkzeug.serving import make_server

from designer import accounts
from designer import create_app
from designer import web
from designer.db import open_database
from designer.db import upgrade
from designer.history import versions
from designer.interchange import export_formats
from tests.rls_harness import route


def serve_plainly(app, ready, trace=False):
    """all_pages.serve_forever without its query counting (which reads a body whole)."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    server.RequestHandlerClass.protocol_version = "HTTP/1.1"
    ready.put(server.server_port)
    server.serve_forever()


# Words one of which a route's label holds to be timed (None: every route).
ONLY = None


def routes(data):
    return [r for r in every_route(data) if ONLY is None or any(w in r[0] for w in ONLY)]


def every_route(data):
    project = data["project"]
    base = f"/projects/{project.id}"
    latest = versions.latest(project.id).version_number
    found = [
        *(
            (f"transfer.export {fmt}", f"{base}/export/{fmt}", False)
            for fmt in export_formats.FORMATS
        ),
        (f"transfer.export sql v{latest}", f"{base}/export/sql?version={latest}", False),
        *(
            (f"api.export {fmt}", f"/api/v1{base}/export?format={fmt}", True)
            for fmt in export_formats.FORMATS
        ),
        (f"api.export json v{latest}", f"/api/v1{base}/export?format=json&version={latest}", True),
        ("deployments.export", f"{base}/export.sql", False),
        ("diagram.download", f"{base}/diagram.mmd", False),
        ("diagram.download focus", f"{base}/diagram.mmd?focus={data['table'].id}", False),
    ]
    if data["deployment"] is not None:
        found.append(
            ("deployments.sql", f"{base}/deployments/{data['deployment'].id}/deployment.sql", False)
        )
    return found


def get(client, path, api, gzip=False, etag=None):
    """(ms to first byte, ms to last byte, bytes, status, etag)."""
    headers = {}
    if client.cookie:
        headers["Cookie"] = client.cookie
    if api:
        headers["Authorization"] = f"Bearer {client.bearer}"
    if gzip:
        headers["Accept-Encoding"] = "gzip"
    if etag:
        headers["If-None-Match"] = etag
    started = time.perf_counter()
    client.conn.request("GET", path, headers=headers)
    response = client.conn.getresponse()
    first = time.perf_counter()
    size = 0
    while chunk := response.read(1 << 20):
        size += len(chunk)
    last = time.perf_counter()
    if response.status not in (200, 304):
        sys.exit(f"GET {path} -> {response.status}")
    return (
        (first - started) * 1000,
        (last - started) * 1000,
        size,
        response.status,
        response.getheader("ETag"),
    )


def patient(client):
    """The client waiting up to 10 minutes for an answer (all_pages' 60 s is less than a
    30,000-table file's first write took on a loaded machine)."""
    client.conn.timeout = 600
    if client.conn.sock is not None:
        client.conn.sock.settimeout(600)
    return client


def median(figures, at):
    return statistics.median(f[at] for f in figures)


def load():
    return "load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


def run_size(server, owner, member, count, runs):
    started = time.perf_counter()
    data = all_pages.seed(owner, member, count)
    print(f"seeded {count:,} tables in {time.perf_counter() - started:.1f} s ({load()})")
    token, _ = all_pages.api_tokens.issue_token(owner, "bench")
    client = patient(all_pages.Client(server.port).sign_in(owner))
    client.bearer = token
    anonymous = all_pages.Client(server.port)
    floor = [get(anonymous, "/login", False) for _ in range(runs)]
    print(f"  floor GET /login: {median(floor, 1):.1f} ms")
    header = (
        f"  {'route':<34} {'written':>9} | {'gzip TTFB':>9} {'TTLB':>7} {'bytes':>11}"
        f" | {'plain TTFB':>10} {'TTLB':>7} {'bytes':>11} | {'304':>6}"
    )
    print(header)
    for label, path, api in routes(data):
        written = get(client, path, api, gzip=True)
        zipped = [get(client, path, api, gzip=True) for _ in range(runs)]
        plain = [get(client, path, api) for _ in range(runs)]
        again = [get(client, path, api, gzip=True, etag=written[4]) for _ in range(runs)]
        assert all(a[3] == 304 for a in again), label
        print(
            f"  {label:<34} {written[1]:7.0f}ms | {median(zipped, 0):7.1f}ms"
            f" {median(zipped, 1):5.1f}ms {zipped[-1][2]:>11,} | {median(plain, 0):8.1f}ms"
            f" {median(plain, 1):5.1f}ms {plain[-1][2]:>11,} | {median(again, 1):4.1f}ms",
            flush=True,
        )
    # One table changes: the first download after it writes the file again.
    table = data["table"]
    all_pages.DataTable.update(description="changed by the bench").where(
        all_pages.DataTable.id == table.id
    ).execute()
    changed = [r for r in routes(data) if r[0].startswith("transfer.export") and " v" not in r[0]]
    for label, path, api in changed + [r for r in routes(data) if r[0] == "diagram.download"]:
        after = get(client, path, api, gzip=True)
        print(f"  after a one-table change: {label:<24} written in {after[1]:7.0f} ms")
    now, peak = all_pages.rss(server.pid)
    print(f"  RSS of the serving process after {count:,} tables: {now:.0f} MB (peak {peak:.0f} MB)")
    print(f"  {load()}", flush=True)


def main():
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="3000,30000")
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--skip-deploy", action="store_true")
    parser.add_argument("--routes", default=None)
    args = parser.parse_args()
    all_pages.SKIP_DEPLOY = args.skip_deploy
    global ONLY
    ONLY = args.routes.split(",") if args.routes else None
    all_pages.serve_forever = serve_plainly
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
        config = {"SECRET_KEY": "bench", "INSTANCE_PATH": instance}
        config |= {"DATABASE_URL": app_url, "OWNER_DATABASE_URL": owner_url}
        config |= {"DEPLOY_DATABASE_URL": url}
        app = create_app(config)
        accounts.set_hash_cost(1, 1024)
        server = all_pages.Served(app)
        owner = accounts.create_user("bench", "bench@example.com", all_pages.PASSWORD)
        member = accounts.create_user("member", "member@example.com", all_pages.PASSWORD)
        try:
            for count in (int(s) for s in args.sizes.split(",")):
                run_size(server, owner, member, count, args.runs)
        finally:
            server.shutdown()


if __name__ == "__main__":
    main()
