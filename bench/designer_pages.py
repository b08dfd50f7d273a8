"""Server time of the designer's busiest pages at 300 and 3,000 tables; prints, never asserts.

Runs on a fresh database on TEST_DATABASE_URL's (or BENCH_DATABASE_URL's) server, else embedded.
"""

import re
import statistics
import sys
import tempfile
import time

from _setup import FIELDS_PER_TABLE
from _setup import OUT
from _setup import counting
from _setup import design
from _setup import fresh_database
from _setup import insert_all
from _setup import postgres_server

from designer import accounts
from designer import create_app
from designer import projects
from designer.db import database
from designer.db import open_database
from designer.db import upgrade
from designer.models import ActivityEntry
from designer.models import DataField
from designer.models import DataTable
from designer.settings import settings
from tests.rls_harness import route

SIZES = ((300, 50), (3000, 100))  # tables, target median in ms
WARMUP, RUNS = 5, 50
PASSWORD = "bench password"
# URL-encoded "coral parcel": one of _setup's adjective-noun pairs, so 1% of the tables.
SEARCH = "coral+parcel"


def seed(user, count):
    """A project of `count` tables, inserted in bulk: (project, its middle table, a field)."""
    project = projects.create_project(user, f"Bench {count}")
    tables, columns_of = design(project, user, count)
    fields = [field for table in tables for field in columns_of[table.id]]
    # A full activity feed, as a project in use has (the project page shows its newest).
    activity = [
        ActivityEntry(
            project=project.id,
            user=user.id,
            action="field.updated",
            summary=f"edited {field.name} ({field.field_name})",
            subject_id=field.id,
        )
        for field in fields[: settings.activity_keep]
    ]
    insert_all((DataTable, tables), (DataField, fields), (ActivityEntry, activity))
    # A live server's autovacuum would have gathered statistics on these rows by now.
    database.execute_sql("ANALYZE")
    middle = sorted(tables, key=lambda t: t.name)[count // 2]
    return project, middle, columns_of[middle.id][1]


class Browser:
    """A Flask test client sending the CSRF token and htmx header a page would."""

    def __init__(self, app):
        self.client = app.test_client()
        self.token = None

    def sign_in(self, user):
        self.token = csrf_token(self.client.get("/login").text)
        form = {"username": user.username, "password": PASSWORD, "csrf_token": self.token}
        response = self.client.post("/login", data=form)
        if response.status_code != 302:
            sys.exit(f"sign-in failed: {response.status_code}\n{response.text[:2000]}")
        self.token = csrf_token(self.client.get("/projects").text)
        return self

    def request(self, method, url, htmx=False, data=None):
        headers = {"X-CSRFToken": self.token} if self.token else {}
        if htmx:
            headers["HX-Request"] = "true"
        return self.client.open(url, method=method, headers=headers, data=data)


def csrf_token(html):
    return re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)


def send(browser, label, request):
    """Milliseconds a (method, url, htmx, form) request took; exits unless it is a 200."""
    method, url, htmx, data = request
    start = time.perf_counter()
    response = browser.request(method, url, htmx, data)
    elapsed = time.perf_counter() - start
    if response.status_code != 200:
        sys.exit(f"{label}: {method} {url} -> {response.status_code}\n{response.text[:2000]}")
    return elapsed * 1000


def measure(browser, label, make_request):
    """(median ms, p95 ms, queries per request) of the requests `make_request()` describes.

    Queries are counted during the warm-up so that logging stays out of the timed runs, and
    after make_request() so that the save's revision look-up is not counted.
    """
    for _ in range(WARMUP):
        request = make_request()
        with counting() as counter:
            send(browser, label, request)
    times = [send(browser, label, make_request()) for _ in range(RUNS)]
    p95 = statistics.quantiles(times, n=20, method="inclusive")[18]
    return statistics.median(times), p95, counter.count


def endpoints(project, table, field):
    """The four measured requests, as functions returning (method, url, htmx, form)."""
    names = [field.name, field.name + " renamed"]

    def save():
        # Each save sends the current revision and flips the name, so it really saves.
        revision = DataField.get_by_id(field.id).revision
        form = {
            "name": names[revision % 2],
            "field_name": field.field_name,
            "data_type": field.data_type,
            "max_length": str(field.field_config["max_length"]),
            "revision": str(revision),
        }
        return "PUT", f"/fields/{field.id}", True, form

    return {
        "project page": lambda: ("GET", f"/projects/{project.id}", False, None),
        "table page": lambda: ("GET", f"/tables/{table.id}", False, None),
        "search partial": lambda: ("GET", f"/projects/{project.id}/tables?q={SEARCH}", True, None),
        "inline field save": save,
    }


def run(app):
    accounts.set_hash_cost(1, 1024)
    user = accounts.create_user("bench", "bench@example.com", PASSWORD)
    floor, _, floor_queries = measure(Browser(app), "floor", lambda: ("GET", "/login", False, None))
    print(f"floor: GET /login (anonymous) median {floor:.2f} ms, {floor_queries} queries")
    rows = []
    for count, target in SIZES:
        started = time.perf_counter()
        seeded = seed(user, count)
        seconds = time.perf_counter() - started
        print(f"seeded {count:,} tables × {FIELDS_PER_TABLE} fields + id in {seconds:.1f} s")
        browser = Browser(app).sign_in(user)
        for endpoint, make_request in endpoints(*seeded).items():
            median, p95, queries = measure(browser, endpoint, make_request)
            rows.append((count, endpoint, median, p95, queries, median / floor, target))
    return rows


def report(rows):
    print()
    print(
        f"{'tables':>6}  {'endpoint':<18} {'median ms':>9} {'p95 ms':>8} {'queries':>7}"
        f" {'× floor':>8}  target"
    )
    for count, endpoint, median, p95, queries, ratio, target in rows:
        verdict = "meets" if median <= target else "MISSES"
        print(
            f"{count:>6,}  {endpoint:<18} {median:>9.1f} {p95:>8.1f} {queries:>7}"
            f" {ratio:>8.1f}  {verdict} (≤ {target} ms)"
        )
    print("target: median ≤ 50 ms at 300 tables, ≤ 100 ms at 3,000")


def main():
    started = time.perf_counter()
    OUT.mkdir(parents=True, exist_ok=True)
    with (
        postgres_server() as server_url,
        fresh_database(server_url, roles=True) as (url, owner_url, app_url),
        tempfile.TemporaryDirectory(prefix="instance-", dir=OUT) as instance,
    ):
        upgrade(open_database(owner_url))
        open_database(owner_url).close_all()
        # Pages are served as the app role, bound by row-level security; seeding runs as a
        # superuser (tests/rls_harness.py).
        route(app_url, url)
        config = {"DATABASE_URL": app_url, "OWNER_DATABASE_URL": owner_url}
        app = create_app({**config, "SECRET_KEY": "bench", "INSTANCE_PATH": instance})
        report(run(app))
    print(f"total runtime {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
