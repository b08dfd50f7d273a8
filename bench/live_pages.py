"""What open table pages cost the server: 50 pages polling as browsers do, at the defaults.

Each page is a signed-in browser session (its own user) on its own table, sending what
the real page sends on its real schedule: the lock panel every LOCK_WATCH_SECONDS, the
live poll every LIVE_POLL_SECONDS, the keeper's heartbeat every LOCK_HEARTBEAT_SECONDS.
A fifth of the users hold a lock (their heartbeats renew it); one teammate edits a field
every few seconds, so some live polls find changes. Prints requests/s, answers by status,
latency, and the CPU the app server and PostgreSQL spent: the share of one core that 50
open pages keep busy. Never asserts times.
"""

import argparse
import http.cookiejar
import re
import statistics
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

from _load import Request
from _load import Server
from _load import cpu_by_group
from _setup import OUT
from _setup import ROOT
from _setup import fresh_database
from _setup import postgres_server
from heartbeat import gunicorn

from designer import accounts
from designer import create_app
from designer import projects
from designer.db import database
from designer.db import upgrade
from designer.design import fields
from designer.design import page_stamps
from designer.design import tables
from designer.settings import settings

PAGES = 50
LOCK_HOLDERS = PAGES // 5
PASSWORD = "bench password"
CSRF = re.compile(r'name="csrf-token" content="([^"]+)"')
PANEL_VERSION = re.compile(r'hx-vals=\'\{"v": "([0-9a-f]+)"\}\'')


def seed():
    """PAGES editors of one project, each with a table of their own (holders lock it)."""
    accounts.set_hash_cost(1, 1024)
    users = [
        accounts.create_user(f"page{i:02d}", f"page{i:02d}@example.com", PASSWORD)
        for i in range(PAGES)
    ]
    project = projects.create_project(users[0], "Live pages bench")
    for user in users[1:]:
        projects.add_member(users[0], project.id, user.username, "editor")
    pages = []
    for i, user in enumerate(users):
        table = tables.create_table(user, project.id, f"Table {i:02d}")
        for name in ("Email", "Total", "Placed on"):
            fields.create_field(user, table.id, {"name": name})
        pages.append((user, table))
    return project, pages


class Page:
    """One open table page: a cookie jar, the page's CSRF token, and its counters."""

    def __init__(self, base, user, table, project):
        self.base, self.table, self.project = base, table, project
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )
        self.statuses, self.latencies = {}, []
        login = self.fetch("GET", "/login")[1]
        token = CSRF.search(login).group(1)
        form = {"username": user.username, "password": PASSWORD, "csrf_token": token}
        self.fetch("POST", "/login", urllib.parse.urlencode(form).encode())
        page = self.fetch("GET", f"/tables/{table.id}")[1]
        self.csrf = CSRF.search(page).group(1)
        self.panel_version = PANEL_VERSION.search(page).group(1)
        self.version = page_stamps.table_stamp(table.id)

    def fetch(self, method, path, body=None, htmx=False):
        # Always http://127.0.0.1:<port>: the gunicorn this script started.
        request = urllib.request.Request(self.base + path, data=body, method=method)  # noqa: S310
        if htmx:
            request.add_header("HX-Request", "true")
            request.add_header("X-CSRFToken", self.csrf)
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status, response.read().decode(), response.headers
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(), error.headers

    def timed(self, method, path, body=None):
        started = time.perf_counter()
        status, text, headers = self.fetch(method, path, body, htmx=True)
        self.latencies.append(time.perf_counter() - started)
        self.statuses[status] = self.statuses.get(status, 0) + 1
        return status, text, headers

    def lock(self):
        _, text, _ = self.timed("POST", f"/tables/{self.table.id}/lock", b"lock_type=pessimistic")
        self.panel_version = PANEL_VERSION.search(text).group(1)

    def panel(self):
        path = f"/tables/{self.table.id}/lock?project={self.project.id}&v={self.panel_version}"
        status, text, _ = self.timed("GET", path)
        if status == 200:
            self.panel_version = PANEL_VERSION.search(text).group(1)

    def live(self):
        path = f"/tables/{self.table.id}/live?project={self.project.id}&v={self.version}"
        status, _, headers = self.timed("GET", path)
        if status == 200:
            self.version = headers["X-Live-Version"]

    def beat(self):
        self.timed("POST", f"/tables/{self.table.id}/lock/heartbeat", b"")


def browse(page, offset, stop_at):
    """The page's three timers, each on its own period, until stop_at."""
    schedule = [
        [offset, settings.lock_watch_seconds, page.panel],
        [offset, settings.live_poll_seconds, page.live],
        [offset, settings.lock_heartbeat_seconds, page.beat],
    ]
    while True:
        due = min(schedule, key=lambda timer: timer[0])
        if due[0] >= stop_at:
            return
        time.sleep(max(0.0, due[0] - time.monotonic()))
        due[2]()
        due[0] += due[1]


def teammate_edits(user, pages, stop_at, every):
    """Someone renames fields now and then, so live polls sometimes find a change."""
    n = 0
    while time.monotonic() < stop_at:
        _, table = pages[n % len(pages)]
        field = next(f for f in tables.ordered_fields(table.id) if f.field_name == "email")
        fields.update_field(user, field.id, field.revision, {"name": f"Email {n}"}, partial=True)
        n += 1
        time.sleep(every)
    database.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=40.0, help="measured window")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    with (
        postgres_server() as server_url,
        fresh_database(server_url) as url,
        tempfile.TemporaryDirectory(prefix="live-", dir=OUT) as scratch,
    ):
        # As a superuser, which bypasses row-level security (heartbeat.py and designer_pages.py
        # measure the app under it).
        env = {"DATABASE_URL": url, "SECRET_KEY": "bench", "INSTANCE_PATH": scratch}
        env["ALLOW_RLS_BYPASS"] = "1"
        create_app(dict(env))
        upgrade(database.obj)
        project, owned = seed()
        database.obj.close_all()
        probe = Request("/login", b"", {})  # a POST without a CSRF token: 400 once it is up
        app_env = {**env, "XDG_RUNTIME_DIR": str(ROOT / ".run")}
        log = OUT / "live-pages-app.log"
        with gunicorn("app:create_app()", app_env, 0, log, probe, ready=(400,)) as server:
            run(server, url, project, owned, args.seconds)


def run(server: Server, url, project, owned, seconds):
    base = f"http://127.0.0.1:{server.port}"
    pages = [Page(base, user, table, project) for user, table in owned]
    for page in pages[:LOCK_HOLDERS]:
        page.lock()
    for page in pages:
        page.statuses.clear()
        page.latencies.clear()
    start = time.monotonic() + 1.0
    stop_at = start + seconds
    threads = [
        threading.Thread(target=browse, args=(page, start + i * 0.1, stop_at))
        for i, page in enumerate(pages)
    ]
    editor = threading.Thread(
        target=teammate_edits, args=(owned[-1][0], owned[LOCK_HOLDERS:], stop_at, 2.0), daemon=True
    )
    for thread in threads:
        thread.start()
    time.sleep(max(0.0, start - time.monotonic()))
    before = cpu_by_group(server, url)
    editor.start()
    for thread in threads:
        thread.join()
    after = cpu_by_group(server, url)
    report(pages, before, after, seconds)


def report(pages, before, after, seconds):
    cpu = {
        group: sum(v - before[group].get(pid, 0.0) for pid, v in used.items())
        for group, used in after.items()
    }
    latencies = sorted(x for p in pages for x in p.latencies)
    statuses = {}
    for page in pages:
        for status, count in page.statuses.items():
            statuses[status] = statuses.get(status, 0) + count
    total = len(latencies)
    per_page = (
        1 / settings.lock_watch_seconds
        + 1 / settings.live_poll_seconds
        + 1 / settings.lock_heartbeat_seconds
    )
    print(f"live pages bench: {len(pages)} open table pages, {LOCK_HOLDERS} holding a lock,")
    print(
        f"  polls: panel every {settings.lock_watch_seconds:g} s, live every"
        f" {settings.live_poll_seconds:g} s, heartbeat every {settings.lock_heartbeat_seconds:g} s"
        f" ({per_page:.2f} requests/s per page); a teammate edits a field every 2 s"
    )
    print("  server: gunicorn -w 2 (sync); machine: 2 cores shared with the load generator")
    print()
    print(f"requests          {total} in {seconds:g} s = {total / seconds:.1f}/s")
    print("answers           " + ", ".join(f"{s}: {n}" for s, n in sorted(statuses.items())))
    if total:
        p95 = statistics.quantiles(latencies, n=20, method="inclusive")[18]
        print(f"latency           median {statistics.median(latencies) * 1000:.1f} ms, "
              f"p95 {p95 * 1000:.1f} ms")  # fmt: skip
    for group in ("gunicorn", "postgres"):
        share = cpu.get(group, 0.0) / seconds * 100
        per_request = cpu.get(group, 0.0) / max(total, 1) * 1000
        print(f"CPU {group:<13} {share:5.1f} % of one core ({per_request:.2f} ms per request)")
    if any(status >= 400 for status in statuses):
        sys.exit("some polls failed")


if __name__ == "__main__":
    main()
