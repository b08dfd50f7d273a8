"""Drift's expected catalog is kept per deployed table (designer/database/expectations.py):
it is the catalog the whole deployed design builds, a check after a one-table change builds
that table (and what its keys point to) whatever the number of unchanged tables (a page's
check building on a thread of its own: test_drift_background.py)."""

import pytest

from designer.database import catalog
from designer.database import deploy
from designer.database import drift
from designer.database import expectations
from designer.database import records
from designer.database import reservations
from designer.database import target
from designer.database.repair import Drift
from designer.db import database
from designer.design import fields
from designer.design import relationships
from designer.design import tables
from designer.models import DataTable
from designer.settings import settings
from tests.integration.test_drift import deployed  # noqa: F401 (a fixture)
from tests.on_target import as_owner_of
from tests.on_target import connect as on_target_connect

rows = as_owner_of("shop")


def design(user, project, count, start=0):
    """`count` tables deployed, each with an indexed column, a checked one and a foreign key
    to the one before it."""
    made = []
    for n in range(start, start + count):
        table = tables.create_table(user, project.id, f"Item {n:02}")
        fields.create_field(user, table.id, {"name": "Label", "max_length": "40", "indexed": "on"})
        fields.create_field(user, table.id, {"name": "Amount", "data_type": "number", "min": "0"})
        if made:
            relationships.create_relationship(
                user, project.id, {"source_table_id": made[-1].id, "target_table_id": table.id}
            )
        made.append(table)
    DataTable.update(status="active").where(DataTable.project == project.id).execute()
    assert deploy.deploy(user, project.id).status == "applied"
    return made


def forget():
    """Nothing kept in this process: a check reads what PostgreSQL keeps."""
    drift.expected.clear()
    drift.checked.clear()
    expectations.work.update(built=0, read=0, matched=0)


def kept_shares(project):
    return database.execute_sql(
        "SELECT count(*) FROM drift_expectation WHERE project_id = %s", (str(project.id),)
    ).fetchone()[0]


def on_target_catalog():
    """What the target's schema holds, read from its catalog."""
    conn = on_target_connect()
    try:
        with conn.cursor() as cursor:
            return catalog.read_catalog(cursor, "shop")
    finally:
        conn.close()


def both_catalogs(project):
    """(the expected catalog from kept shares, the one the whole deployed design builds)."""
    last = records.last_applied(project.id)
    conn = target.connect_as(reservations.tenant_of(project))
    try:
        with conn.cursor() as cursor:
            shared = expectations.catalog_of(cursor, project.id, last, drift.build_scratch)
            whole = drift.built_catalog(cursor, records.deployed_snapshot(last))
        conn.rollback()
    finally:
        conn.close()
    return shared, whole


def test_the_shares_make_the_catalog_the_whole_design_builds(alice, shop, deployed):  # noqa: F811
    forget()
    shared, whole = both_catalogs(shop)
    assert shared is not None and shared == whole
    # Rows of every kind, and what the target holds (deployed, nothing changed behind its back).
    assert all(shared[part] for part in catalog.QUERIES)
    assert shared == on_target_catalog()


def test_a_check_after_a_one_table_change_builds_that_table_alone_at_any_size(alice, shop):
    made = design(alice, shop, 3)
    forget()
    assert drift.check(alice, shop.id).differences == []
    assert expectations.work["built"] == 3 and kept_shares(shop) == 3

    more = design(alice, shop, 12, start=3)  # the same project, 15 tables now
    forget()
    assert drift.check(alice, shop.id).differences == []
    # Only the new tables were built; the others hold their kept shares on the target, so
    # no share was read.
    assert kept_shares(shop) == 15
    assert expectations.work["built"] == 12
    assert expectations.work["matched"] == 3 and expectations.work["read"] == 0

    for changed, size in ((made[1], 3), (more[5], 15)):
        fields.create_field(alice, changed.id, {"name": f"Note {size}"})
        assert deploy.deploy(alice, shop.id).status == "applied"
        forget()
        report = drift.check(alice, shop.id)
        assert report.differences == []
        # Two shares changed: the changed table's and that of the table whose foreign key
        # points to it. Built: those two and the table the changed one's key points to;
        # every other table's rows on the target were found to hold its kept share.
        assert expectations.work["built"] == 3
        assert expectations.work["matched"] == 13 and expectations.work["read"] == 0
    shared, whole = both_catalogs(shop)
    assert shared == whole == on_target_catalog()
    column = ("item_08", "note_15")
    assert any(row[:2] == column for row in on_target_catalog()["columns"])


def test_a_share_follows_the_table_its_foreign_key_points_to(alice, shop):
    first, second, _ = design(alice, shop, 3)
    assert drift.check(alice, shop.id).differences == []
    first = DataTable.get_by_id(first.id)
    tables.update_table(alice, first.id, first.revision, table_name="first_items")
    assert deploy.deploy(alice, shop.id).status == "applied"
    forget()
    # The second table's foreign key names the renamed table now: its share is built again.
    assert drift.check(alice, shop.id).differences == []
    assert expectations.work["built"] == 2
    shared, whole = both_catalogs(shop)
    assert shared == whole == on_target_catalog()
    assert any("REFERENCES first_items" in row[3] for row in shared["constraints"])


def test_drift_on_an_unchanged_table_reads_as_the_whole_build_says(alice, shop):
    design(alice, shop, 4)
    drift.check(alice, shop.id)
    rows("ALTER TABLE shop.item_02 DROP CONSTRAINT item_02_amount_min_check")
    rows("CREATE INDEX sneaky ON shop.item_03 (label)")
    forget()
    report = drift.check(alice, shop.id)
    # The two tables changed behind the designer's back are read from their kept shares.
    assert expectations.work["built"] == 0 and expectations.work["read"] == 2
    assert expectations.work["matched"] == 2
    shared, whole = both_catalogs(shop)
    assert report.differences == Drift(whole, on_target_catalog()).lines()
    assert len(report.differences) == 2


@pytest.mark.parametrize("budget", [1, 10**9])
def test_shares_are_bounded_in_bytes_per_project(alice, shop, monkeypatch, budget):
    monkeypatch.setattr(settings, "drift_expected_bytes", budget)
    design(alice, shop, 3)
    forget()
    assert drift.check(alice, shop.id).differences == []
    held = database.execute_sql(
        "SELECT count(*), coalesce(sum(size), 0) FROM drift_expectation WHERE project_id = %s",
        (str(shop.id),),
    ).fetchone()
    assert held[1] <= budget
    assert held[0] == (0 if budget == 1 else 3)
