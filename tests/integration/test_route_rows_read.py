"""Every GET route reads about as much from the database for 1,000 tables as for 10.

test_route_query_counts holds each route's number of queries constant; a route can keep
that number and still read every table (one query returning 30,000 rows, or one row holding
the whole design's JSON), and its time then grows with the design. This counts the rows and
the bytes of text each route's queries hand to Python, at 10 and at 1,000 tables: a paged
page may read a page more (up to settings.page_size items where the small design has 10),
never the design.
"""

import psycopg2.extensions
import pytest
from peewee import PostgresqlDatabase

from designer import api_tokens
from designer import kept
from designer import web
from designer.history import snapshot
from designer.history import versions
from designer.settings import settings
from tests.integration.test_route_query_counts import get_routes
from tests.integration.test_route_query_counts import seed

# Growth from 10 to 1,000 tables a page may show: settings.page_size items instead of 10,
# each with its columns (the seed's tables have two or three) and relationships.
ROWS_MORE = 600
BYTES_TIMES = 12
BYTES_MORE = 64 * 1024
# Routes known to read the whole design, each until the change its owner is making lands
# (issue #27; /work/helpers/NOTES.md): remove a route from here when it reads a page.
KNOWN = {
    # deploy: a deployed table's pending changes, the Deploy tab, planned from per-table parts
    "tables.show": "deploy", "tables.live": "deploy", "deployments.index": "deploy",
    # (its next page reads the ids of every table that changes: 1,224 rows at 1,000 tables)
    "deployments.index ?start=1": "deploy",
    # exports: files stored once and streamed
    "api.export": "exports", "deployments.export": "exports", "transfer.export": "exports",
    "diagram.download": "exports",
    # branches (#28): a three-way comparison reads the fork version and both working copies
    # whole; bench/ measures it at 3,000 tables
    "api.compare_branch": "branches", "api.get_merge_request": "branches",
    # branches: a three-way comparison reads both designs whole (#28; bench/ times it)
    "branches.compare": "branches", "merge_requests.show": "branches",
    "merge_requests.live": "branches",
}  # fmt: skip


def weigh(row):
    return sum(len(v) for v in row if isinstance(v, (str, bytes, memoryview))) if row else 0


class Measuring(psycopg2.extensions.cursor):
    """A cursor adding the rows and text bytes it hands out to `read`."""

    read = {"rows": 0, "bytes": 0}

    def fetchone(self):
        row = super().fetchone()
        if row is not None:
            Measuring.read["rows"] += 1
            Measuring.read["bytes"] += weigh(row)
        return row

    def fetchmany(self, size=None):
        rows = super().fetchmany(size) if size is not None else super().fetchmany()
        Measuring.read["rows"] += len(rows)
        Measuring.read["bytes"] += sum(weigh(r) for r in rows)
        return rows

    def fetchall(self):
        rows = super().fetchall()
        Measuring.read["rows"] += len(rows)
        Measuring.read["bytes"] += sum(weigh(r) for r in rows)
        return rows

    def __iter__(self):
        while (row := self.fetchone()) is not None:
            yield row


@pytest.fixture
def measuring(monkeypatch):
    def cursor(self, named_cursor=None):
        if self.is_closed():
            self.connect()
        return self._state.conn.cursor(cursor_factory=Measuring)

    monkeypatch.setattr(PostgresqlDatabase, "cursor", cursor)
    return Measuring.read


def reads(app, browser, api_client, values, read):
    """{route: (rows, bytes)} its queries handed to Python."""
    found = {}
    for name, path, htmx in get_routes(app, values):
        # Nothing kept by an earlier route may hide what this one reads to answer.
        for store in list(kept.pooled):
            store.clear()
        versions.cache.clear()
        snapshot.parts.clear()
        read.update(rows=0, bytes=0)
        if path.startswith("/api/v1/"):
            response = api_client.get(path.removeprefix("/api/v1"))
        else:
            response = browser.get(path, htmx=htmx)
        assert response.status_code < 400, (name, response.status_code, response.text[:300])
        found[name] = (read["rows"], read["bytes"])
    return found


@pytest.mark.timeout(600)  # every route twice, with nothing kept between them
def test_no_get_route_reads_the_design_for_1000_tables(
    app, alice, make_user, signed_in, api, monkeypatch, measuring
):
    monkeypatch.setattr(web, "SWEEP_EVERY_SECONDS", float("inf"))
    monkeypatch.setattr(api_tokens, "TOKEN_TOUCH_SECONDS", float("inf"))
    monkeypatch.setattr(settings, "deploy_database_url", app.config["DEPLOY_DATABASE_URL"])
    bob = make_user("bob")
    browser, api_client = signed_in(alice), api(alice)
    measured = {}
    for count in (10, 1000):
        values = seed(alice, bob, count)
        measured[count] = reads(app, browser, api_client, values, measuring)
    small, large = measured[10], measured[1000]
    for name in sorted(small):
        print(f"{name:<60} {small[name]} {large[name]}")
    grew = {
        name: (small[name], large[name])
        for name in small
        if name not in KNOWN
        and (
            large[name][0] > small[name][0] + ROWS_MORE
            or large[name][1] > small[name][1] * BYTES_TIMES + BYTES_MORE
        )
    }
    assert not grew, f"(rows, bytes) read at 10 tables, at 1,000: {grew}"
