"""A drift check keeps its answer by the target's catalog fingerprint: no change may hide."""

import pytest

from designer.database import catalog
from designer.database import deploy
from designer.database import drift
from tests.integration.test_drift import deployed  # noqa: F401 (a fixture)
from tests.on_target import as_owner_of
from tests.on_target import connect as on_target_connect

rows = as_owner_of("shop")

pytestmark = pytest.mark.usefixtures("deployed")

# Each kind of change made behind the designer's back, as one or more statements; after each
# statement the check must show drift, and what a check that keeps nothing shows.
CHANGES = {
    "added column": ["ALTER TABLE shop.orders ADD COLUMN sneaky integer"],
    "dropped column": ["ALTER TABLE shop.customers DROP COLUMN nickname"],
    "renamed column": ["ALTER TABLE shop.customers RENAME COLUMN nickname TO nick"],
    "type": ["ALTER TABLE shop.customers ALTER COLUMN nickname TYPE text"],
    "type modifier": ["ALTER TABLE shop.customers ALTER COLUMN nickname TYPE varchar(50)"],
    "default added": ["ALTER TABLE shop.orders ALTER COLUMN total SET DEFAULT 1"],
    "default changed": ["ALTER TABLE shop.orders ALTER COLUMN paid SET DEFAULT true"],
    "default dropped": ["ALTER TABLE shop.orders ALTER COLUMN paid DROP DEFAULT"],
    "not null dropped": ["ALTER TABLE shop.customers ALTER COLUMN email DROP NOT NULL"],
    "not null added": ["ALTER TABLE shop.orders ALTER COLUMN paid SET NOT NULL"],
    "identity dropped": ["ALTER TABLE shop.orders ALTER COLUMN id DROP IDENTITY"],
    "identity kind": ["ALTER TABLE shop.orders ALTER COLUMN id SET GENERATED ALWAYS"],
    "sequence renamed": ["ALTER SEQUENCE shop.orders_id_seq RENAME TO order_numbers"],
    "sequence added, then owned by a column": [
        "CREATE SEQUENCE shop.numbers",
        "ALTER SEQUENCE shop.numbers OWNED BY shop.orders.total",
    ],
    "check dropped": ["ALTER TABLE shop.orders DROP CONSTRAINT orders_total_min_check"],
    "check added": ["ALTER TABLE shop.orders ADD CONSTRAINT small CHECK (total < 1000)"],
    "check changed": [
        "ALTER TABLE shop.orders DROP CONSTRAINT orders_total_min_check,"
        " ADD CONSTRAINT orders_total_min_check CHECK (total >= 1)"
    ],
    "constraint renamed": [
        "ALTER TABLE shop.orders RENAME CONSTRAINT orders_total_min_check TO floor"
    ],
    "constraint not valid, then validated": [
        "ALTER TABLE shop.orders ADD CONSTRAINT small CHECK (total < 1000) NOT VALID",
        "ALTER TABLE shop.orders VALIDATE CONSTRAINT small",
    ],
    "unique dropped": ["ALTER TABLE shop.customers DROP CONSTRAINT customers_email_key"],
    "foreign key dropped": ["ALTER TABLE shop.orders DROP CONSTRAINT orders_customer_id_fkey"],
    "foreign key action": [
        "ALTER TABLE shop.orders DROP CONSTRAINT orders_customer_id_fkey,"
        " ADD CONSTRAINT orders_customer_id_fkey FOREIGN KEY (customer_id)"
        " REFERENCES shop.customers (id) ON DELETE CASCADE"
    ],
    "index dropped": ["DROP INDEX shop.orders_total_idx"],
    "index added": ["CREATE INDEX sneaky_paid ON shop.orders (paid)"],
    "index renamed": ["ALTER INDEX shop.orders_total_idx RENAME TO total_lookup"],
    "index redefined under its name": [
        "DROP INDEX shop.orders_total_idx;"
        " CREATE INDEX orders_total_idx ON shop.orders (total) WHERE paid"
    ],
    "table comment changed": ["COMMENT ON TABLE shop.customers IS 'changed by hand'"],
    "table comment dropped": ["COMMENT ON TABLE shop.customers IS NULL"],
    "column comment added": ["COMMENT ON COLUMN shop.orders.total IS 'in cents'"],
    "table renamed": ["ALTER TABLE shop.orders RENAME TO purchases"],
    "table dropped": ["DROP TABLE shop.orders"],
    "table added": ["CREATE TABLE shop.scratch (id int)"],
    "a type of the schema, then renamed": [
        "CREATE TYPE shop.mood AS ENUM ('calm'); ALTER TABLE shop.orders ADD COLUMN mood shop.mood",
        "ALTER TYPE shop.mood RENAME TO temper",
    ],
    "a function of the schema, then renamed": [
        "CREATE FUNCTION shop.floor() RETURNS int LANGUAGE sql AS 'SELECT 0';"
        " ALTER TABLE shop.orders ALTER COLUMN total SET DEFAULT shop.floor()",
        "ALTER FUNCTION shop.floor() RENAME TO bottom",
    ],
    "schema dropped": ["DROP SCHEMA shop CASCADE"],
    "schema renamed": ["ALTER SCHEMA shop RENAME TO shop_before"],
    "schema dropped and made again the same": [
        "DROP SCHEMA shop CASCADE",
        "CREATE SCHEMA shop",
        "CREATE TABLE shop.orders (id int)",
    ],
}


def fingerprint():
    conn = on_target_connect()
    try:
        with conn.cursor() as cursor:
            return catalog.fingerprint(cursor, "shop")
    finally:
        conn.close()


def check_keeping_nothing(user, project):
    drift.checked.clear()
    return drift.check(user, project.id).differences


@pytest.mark.parametrize("statements", CHANGES.values(), ids=CHANGES.keys())
def test_a_change_shows_right_after_a_check_found_none(alice, shop, statements):
    assert drift.check(alice, shop.id).differences == []
    for statement in statements:
        before = fingerprint()
        rows(statement)
        assert fingerprint() != before, statement
        seen = drift.check(alice, shop.id).differences
        assert seen, statement
        assert seen == check_keeping_nothing(alice, shop), statement


def test_a_change_back_shows_as_in_sync_again(alice, shop):
    assert drift.check(alice, shop.id).differences == []
    rows("ALTER TABLE shop.orders ADD COLUMN sneaky integer")
    assert drift.check(alice, shop.id).differences
    rows("ALTER TABLE shop.orders DROP COLUMN sneaky")
    assert drift.check(alice, shop.id).differences == []


def test_a_second_look_at_an_unchanged_schema_reads_no_catalog(alice, shop, monkeypatch):
    rows("ALTER TABLE shop.orders ADD COLUMN sneaky integer")
    first = drift.check(alice, shop.id).differences
    assert fingerprint() == fingerprint()

    def refused(*args):
        raise AssertionError("the catalog was read again")

    monkeypatch.setattr(drift, "read_catalog", refused)
    assert drift.check(alice, shop.id).differences == first


def test_a_new_deployment_is_checked_against_what_it_deployed(alice, shop, notes):
    assert drift.check(alice, shop.id).differences == []
    # The deploy changes the catalog and what was last deployed: in sync still.
    assert deploy.transition(alice, notes.id, "active")[1].status == "applied"
    assert drift.check(alice, shop.id).differences == []
    rows("DROP TABLE shop.notes")
    assert drift.check(alice, shop.id).differences
