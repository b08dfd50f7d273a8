"""Chosen primary keys and composite foreign keys, deployed to a real PostgreSQL.

Natural, composite and reordered keys, foreign keys over several columns with their
actions, and changes of key on tables holding rows: read back from pg_catalog, and
enforced (each constraint is violated once and refuses the row).
"""

import copy

import psycopg2
import pytest
from psycopg2 import errors

from designer.database import ddl
from designer.database.catalog import read_catalog
from tests import snapshots as s
from tests.integration.test_ddl_oracle import deploy
from tests.integration.test_ddl_oracle import fresh_schema


@pytest.fixture
def cursor(database_url):
    conn = psycopg2.connect(database_url)
    yield conn.cursor()
    conn.rollback()
    conn.close()


def constraints(cursor, schema, table):
    cursor.execute(
        "SELECT conname, contype, pg_get_constraintdef(k.oid) FROM pg_constraint k"
        " WHERE conrelid = %s::regclass ORDER BY conname",
        (f'"{schema}"."{table}"',),
    )
    return cursor.fetchall()


def columns(cursor, schema, table):
    cursor.execute(
        "SELECT attname, format_type(atttypid, atttypmod), attnotnull FROM pg_attribute"
        " WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
        (f'"{schema}"."{table}"',),
    )
    return cursor.fetchall()


def refused(cursor, error, statement):
    cursor.execute("SAVEPOINT attempt")
    with pytest.raises(error):
        cursor.execute(statement)
    cursor.execute("ROLLBACK TO SAVEPOINT attempt")


def shop():
    """countries keyed by their code; order_lines keyed by (line_no, order_no) in that order;
    shipments pointing at an order line by both columns, cascading deletes."""
    code = s.field("code", "text", max_length=2)
    countries = s.keyed_table("countries", [code], s.field("name"))
    order_no = s.field("order_no", "number", number_type="integer")
    line_no = s.field("line_no", "number", number_type="integer", sort_order=2)
    country = s.field("country", "text", max_length=2, sort_order=3)
    lines = s.keyed_table("order_lines", [line_no, order_no], country)
    ship_order = s.field("ship_order", "number", number_type="integer")
    ship_line = s.field("ship_line", "number", number_type="integer", sort_order=2)
    shipments = s.table("shipments", ship_order, ship_line)
    by_line = s.composite_link(
        lines, shipments, [(order_no, ship_order), (line_no, ship_line)], on_delete="cascade"
    )
    to_country = s.link(countries, lines, country)
    to_country["source_field_id"] = code["id"]
    return s.snapshot([countries, lines, shipments], [by_line, to_country])


def test_natural_and_composite_keys_and_a_composite_foreign_key_deploy_and_hold(cursor):
    fresh_schema(cursor, "keys_shop")
    deploy(cursor, ddl.create_script("keys_shop", shop())[1:])
    assert columns(cursor, "keys_shop", "countries") == [
        ("code", "character varying(2)", True),
        ("name", "text", False),
    ]  # no designer's id: the code is the key
    assert ("countries_pkey", "p", "PRIMARY KEY (code)") in constraints(
        cursor, "keys_shop", "countries"
    )
    lines = constraints(cursor, "keys_shop", "order_lines")
    assert ("order_lines_pkey", "p", "PRIMARY KEY (line_no, order_no)") in lines
    assert (
        "order_lines_country_fkey",
        "f",
        "FOREIGN KEY (country) REFERENCES keys_shop.countries(code)",
    ) in lines
    [(_, _, shipments_fkey)] = [
        c for c in constraints(cursor, "keys_shop", "shipments") if c[1] == "f"
    ]
    assert shipments_fkey == (
        "FOREIGN KEY (ship_order, ship_line) REFERENCES keys_shop.order_lines(order_no, line_no)"
        " ON DELETE CASCADE"
    )
    cursor.execute("INSERT INTO keys_shop.countries VALUES ('FR', 'France')")
    cursor.execute(
        "INSERT INTO keys_shop.order_lines (order_no, line_no, country)"
        " VALUES (10, 1, 'FR'), (10, 2, NULL)"
    )
    cursor.execute("INSERT INTO keys_shop.shipments (ship_order, ship_line) VALUES (10, 2)")
    refused(cursor, errors.UniqueViolation, "INSERT INTO keys_shop.countries VALUES ('FR', 'x')")
    refused(cursor, errors.NotNullViolation, "INSERT INTO keys_shop.countries VALUES (NULL, 'x')")
    refused(
        cursor,
        errors.UniqueViolation,
        "INSERT INTO keys_shop.order_lines (order_no, line_no) VALUES (10, 1)",
    )
    refused(
        cursor,
        errors.ForeignKeyViolation,
        "INSERT INTO keys_shop.shipments (ship_order, ship_line) VALUES (10, 3)",
    )
    refused(
        cursor, errors.ForeignKeyViolation, "INSERT INTO keys_shop.order_lines VALUES (10, 3, 'DE')"
    )
    cursor.execute("DELETE FROM keys_shop.order_lines WHERE line_no = 2")
    cursor.execute("SELECT count(*) FROM keys_shop.shipments")
    assert cursor.fetchone() == (0,)  # the cascade followed both columns


def rekeyed(snapshot, table_name, field_names, drop_system=False):
    after = copy.deepcopy(snapshot)
    [tbl] = [t for t in after["tables"].values() if t["table_name"] == table_name]
    by_name = {f["field_name"]: f for f in tbl["fields"].values()}
    for name in field_names:
        by_name[name]["is_required"] = True
    tbl["structure"] = {"primary_key": [by_name[name]["id"] for name in field_names]}
    if drop_system:
        del tbl["fields"][s.system_of(tbl)]
    return after


def test_a_new_primary_key_counts_the_rows_that_break_it_and_fails_on_them(cursor):
    before = s.snapshot([s.table("people", s.field("email", "text", is_required=True))])
    fresh_schema(cursor, "keys_rekey")
    deploy(cursor, ddl.migration("keys_rekey", None, before))
    cursor.execute(
        "INSERT INTO keys_rekey.people (email) VALUES ('a@x'), ('a@x'), ('a@x'), ('b@x')"
    )
    steps = ddl.migration("keys_rekey", before, rekeyed(before, "people", ["email"]))
    [drop, add] = steps
    assert drop.sql == 'ALTER TABLE "keys_rekey"."people" DROP CONSTRAINT "people_pkey"'
    assert drop.kind == "blocking"
    assert add.sql.endswith('ADD CONSTRAINT "people_pkey" PRIMARY KEY ("email")')
    assert add.kind == "data_dependent"
    cursor.execute(add.measure)
    assert cursor.fetchone() == (2,)  # two rows too many share a@x
    cursor.execute("SAVEPOINT attempt")
    cursor.execute(drop.sql)
    with pytest.raises(errors.UniqueViolation):
        cursor.execute(add.sql)
    cursor.execute("ROLLBACK TO SAVEPOINT attempt")
    cursor.execute("DELETE FROM keys_rekey.people WHERE email = 'a@x'")
    deploy(cursor, steps)
    assert ("people_pkey", "p", "PRIMARY KEY (email)") in constraints(
        cursor, "keys_rekey", "people"
    )


def test_a_key_change_under_a_foreign_key_drops_and_adds_the_foreign_key_around_it(cursor):
    """PostgreSQL refuses to drop a key a foreign key uses: the plan takes the foreign key
    down first and puts it back on the key that replaced it; the system id then goes."""
    code = s.field("code", "text", is_required=True)
    teams = s.table("teams", code)
    team_id = s.field("team_id", "number", number_type="bigint")
    players = s.table("players", team_id)
    rel = s.link(teams, players, team_id)
    before = s.snapshot([teams, players], [rel])
    after = rekeyed(before, "teams", ["code"], drop_system=True)
    moved = after["relationships"][rel["id"]]
    team_code = s.field("team_code", "text")
    after["tables"][players["id"]]["fields"][team_code["id"]] = team_code
    del after["tables"][players["id"]]["fields"][team_id["id"]]
    moved["source_field_id"], moved["target_field_id"] = code["id"], team_code["id"]
    fresh_schema(cursor, "keys_moved")
    fresh_schema(cursor, "keys_fresh")
    deploy(cursor, ddl.migration("keys_moved", None, before))
    cursor.execute("INSERT INTO keys_moved.teams (code) VALUES ('red')")
    deploy(cursor, ddl.migration("keys_moved", before, after))
    deploy(cursor, ddl.migration("keys_fresh", None, after))
    assert read_catalog(cursor, "keys_moved") == read_catalog(cursor, "keys_fresh")
    assert [c[0] for c in columns(cursor, "keys_moved", "teams")] == ["code"]
