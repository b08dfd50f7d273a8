"""A kept drift answer costs the same whatever the number of deployed tables (#27): the same
statements on the designer's database and on the target, and the same rows read from the
target (its catalog is not read again while its fingerprint stands)."""

import psycopg2.extensions
import pytest

from designer.database import drift
from designer.database import target
from designer.db import counting_queries
from tests.integration.test_drift_expectations import design
from tests.integration.test_drift_expectations import forget


class Counting(psycopg2.extensions.cursor):
    """A cursor counting its statements and the rows fetched, in `seen`."""

    seen = None

    def execute(self, query, params=None):
        self.seen["statements"] += 1
        return super().execute(query, params)

    def fetchone(self):
        row = super().fetchone()
        self.seen["rows"] += row is not None
        return row

    def fetchall(self):
        rows = super().fetchall()
        self.seen["rows"] += len(rows)
        return rows


@pytest.fixture
def on_target(monkeypatch):
    """{statements, rows} run and read on the target through drift's connections."""
    seen = {"statements": 0, "rows": 0}
    connect_as = target.connect_as

    def counted(tenant):
        conn = connect_as(tenant)
        conn.cursor_factory = type("Counted", (Counting,), {"seen": seen})
        return conn

    monkeypatch.setattr(target, "connect_as", counted)
    return seen


def kept_answer_work(alice, shop, api, on_target):
    """(designer statements, target statements, target rows) of a drift request answered
    from the kept answer."""
    forget()
    assert api(alice).get(f"/projects/{shop.id}/drift").json["in_sync"] is True
    on_target.update(statements=0, rows=0)
    with counting_queries() as counter:
        answer = api(alice).get(f"/projects/{shop.id}/drift")
    assert answer.status_code == 200 and answer.json["in_sync"] is True
    return counter.count, on_target["statements"], on_target["rows"]


def test_a_kept_answer_reads_as_much_at_3_deployed_tables_as_at_15(alice, shop, api, on_target):
    design(alice, shop, 3)
    small = kept_answer_work(alice, shop, api, on_target)
    design(alice, shop, 12, start=3)
    large = kept_answer_work(alice, shop, api, on_target)
    assert len(drift.check(alice, shop.id).differences) == 0
    assert small == large, f"at 3 deployed tables, at 15: {small}, {large}"
