"""Exact types deployed to the real target and read back from pg_catalog; type changes as
PostgreSQL makes them; hostile type text refused at every entrance, never reaching SQL."""

import copy

import psycopg2
import pytest

from designer.database import ddl
from designer.database import deploy
from designer.database.ddl_terms import DATA_DEPENDENT
from designer.design import fields
from designer.design import tables
from designer.design.type_changes import widening
from designer.errors import Conflict
from designer.models import DataField
from tests import snapshots as s
from tests.on_target import connect
from tests.on_target import on_target as rows

# (field spec, what format_type says of the deployed column, its default as pg_get_expr)
EXACT = [
    ({"data_type": "text", "text_type": "varchar"}, "character varying", None),
    ({"data_type": "text", "text_type": "char", "max_length": "3", "default_value": "ab"},
     "character(3)", "'ab'::bpchar"),
    ({"data_type": "text", "text_type": "uuid", "default_value": "gen_random_uuid()"},
     "uuid", "gen_random_uuid()"),
    ({"data_type": "text", "text_type": "jsonb", "default_value": '{"a": 1}'},
     "jsonb", "'{\"a\": 1}'::jsonb"),
    ({"data_type": "text", "text_type": "json"}, "json", None),
    ({"data_type": "text", "text_type": "inet"}, "inet", None),
    ({"data_type": "text", "text_type": "cidr"}, "cidr", None),
    ({"data_type": "text", "text_type": "macaddr"}, "macaddr", None),
    ({"data_type": "text", "text_type": "bytea", "default_value": "\\xdead"},
     "bytea", "'\\xdead'::bytea"),
    ({"data_type": "text", "text_type": "named", "named_type": "tsvector"}, "tsvector", None),
    ({"data_type": "text", "text_type": "named", "named_type": "bit varying(8)"},
     "bit varying(8)", None),
    ({"data_type": "number", "number_type": "smallint", "default_value": "-3"},
     "smallint", "'-3'::integer"),
    ({"data_type": "number", "number_type": "numeric"}, "numeric", None),
    ({"data_type": "number", "number_type": "real"}, "real", None),
    ({"data_type": "number", "number_type": "double"}, "double precision", None),
    ({"data_type": "date", "date_type": "timestamp", "time_precision": "6"},
     "timestamp(6) without time zone", None),
    ({"data_type": "date", "date_type": "timestamptz", "time_precision": "3",
      "default_value": "now()"}, "timestamp(3) with time zone", "now()"),
    ({"data_type": "date", "date_type": "timetz", "time_precision": "2"},
     "time(2) with time zone", None),
    ({"data_type": "date", "date_type": "interval", "default_value": "1 day"},
     "interval", "'1 day'::interval"),
    ({"data_type": "number", "number_type": "integer", "array_dimensions": "2",
      "default_value": "{}"}, "integer[]", "'{}'::integer[]"),
    ({"data_type": "text", "text_type": "uuid", "array_dimensions": "1"}, "uuid[]", None),
]  # fmt: skip


def deployed_columns(schema, table):
    return {
        name: (kind, default)
        for name, kind, default in rows(
            "SELECT a.attname, format_type(a.atttypid, a.atttypmod),"
            " pg_get_expr(d.adbin, d.adrelid) FROM pg_attribute a"
            " LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum"
            " WHERE a.attrelid = %s::regclass AND a.attnum > 1",
            (f'"{schema}"."{table}"',),
        )
    }


def test_every_exact_type_deploys_as_itself(alice, shop):
    table = tables.create_table(alice, shop.id, "Things")
    for n, (spec, _, _) in enumerate(EXACT):
        fields.create_field(alice, table.id, {"name": f"C{n}", **spec})
    _, deployment = deploy.transition(alice, table.id, "active")
    assert deployment.status == "applied", deployment.error
    found = deployed_columns(shop.target_schema, "things")
    # smallint's default is cast as PostgreSQL folds '-3'::smallint: compare the type only.
    expected = {f"c{n}": (kind, default) for n, (_, kind, default) in enumerate(EXACT)}
    assert {k: v[0] for k, v in found.items()} == {k: v[0] for k, v in expected.items()}
    for name, (kind, default) in expected.items():
        if default is not None and kind != "smallint":
            assert found[name][1] == default, name


def test_a_named_type_the_target_does_not_know_fails_the_dry_run_with_its_message(alice, shop):
    table = tables.create_table(alice, shop.id, "Places")
    spec = {"name": "Where", "data_type": "text", "text_type": "named"}
    fields.create_field(alice, table.id, {**spec, "named_type": "geometry(Point,4326)"})
    _, deployment = deploy.transition(alice, table.id, "active", dry_run=True)
    assert deployment.status == "dry_run_failed"
    # Asked of the target before any step: the column is named, and where it was looked for.
    assert "Column places.where_ has type geometry(point, 4326)" in deployment.error
    assert "which the target does not have in shop, public, pg_catalog" in deployment.error


HOSTILE_TYPES = [
    "int); DROP TABLE shop.victim; --",
    "tsvector, evil int",
    "tsvector DEFAULT 1",
    "geometry(point, (SELECT 1))",
    "other.thing",  # a schema of someone else: the statement guard's, at deploy
]


@pytest.mark.parametrize("named", HOSTILE_TYPES[:4])
def test_hostile_type_text_is_refused_by_the_api_next_to_its_input(alice, shop, api, named):
    table = tables.create_table(alice, shop.id, "Victim")
    body = {"name": "X", "data_type": "text", "text_type": "named", "named_type": named}
    response = api(alice).post(f"/tables/{table.id}/fields", json=body)
    assert response.status_code == 422, response.json
    assert "named_type" in response.json["error"]["fields"]
    assert DataField.select().where(DataField.data_table == table.id).count() == 1


def test_a_stored_type_naming_another_schema_is_refused_before_the_target_runs_it(alice, shop):
    rows("CREATE SCHEMA IF NOT EXISTS other")
    rows("CREATE TABLE IF NOT EXISTS other.canary (id int)")
    table = tables.create_table(alice, shop.id, "Outside")
    spec = {"name": "X", "data_type": "text", "text_type": "named", "named_type": "other.thing"}
    fields.create_field(alice, table.id, spec)
    with pytest.raises(Conflict, match="names type thing in schema other, outside shop"):
        deploy.transition(alice, table.id, "active")
    assert rows("SELECT count(*) FROM other.canary") == [(0,)]
    rows("DROP SCHEMA other CASCADE")


PAIRS = [
    ("varchar(5)", "varchar(9)"), ("varchar(9)", "varchar(5)"), ("varchar(5)", "varchar"),
    ("varchar", "text"), ("text", "varchar"), ("char(3)", "char(5)"),
    ("numeric(5,2)", "numeric(7,2)"), ("numeric(5,2)", "numeric"), ("numeric(5,2)", "numeric(7,3)"),
    ("timestamp(3)", "timestamp(6)"), ("timestamp(3)", "timestamp"), ("time(3)", "time(6)"),
    ("timetz(2)", "timetz(4)"), ("interval(3)", "interval"), ("cidr", "inet"),
    ("smallint", "integer"), ("integer", "bigint"), ("real", "double precision"),
    ("json", "jsonb"), ("integer[]", "integer[][]"), ("varchar(5)[]", "varchar(9)[]"),
]  # fmt: skip


def test_the_plan_calls_in_place_exactly_the_changes_postgresql_makes_without_a_rewrite(app):
    conn = connect()
    try:
        with conn.cursor() as cursor:
            for before, after in PAIRS:
                cursor.execute(f"CREATE TEMP TABLE w (c {before})")
                cursor.execute("SELECT pg_relation_filenode('w')")
                (file_before,) = cursor.fetchone()
                cursor.execute(f"ALTER TABLE w ALTER COLUMN c TYPE {after}")
                cursor.execute("SELECT pg_relation_filenode('w')")
                (file_after,) = cursor.fetchone()
                assert widening(before, after) is (file_before == file_after), (before, after)
                cursor.execute("DROP TABLE w")
    finally:
        conn.rollback()
        conn.close()


def test_narrowing_to_char_is_data_dependent_and_its_measure_counts_the_rows_it_breaks(app):
    code = s.field("code", "text")
    codes = s.table("codes", code)
    before = s.snapshot([codes])
    after = copy.deepcopy(before)
    after["tables"][codes["id"]]["fields"][code["id"]]["field_config"] = {
        "text_type": "char", "max_length": 3,
    }  # fmt: skip
    conn = connect()
    try:
        with conn.cursor() as cursor:
            cursor.execute("DROP SCHEMA IF EXISTS narrow CASCADE; CREATE SCHEMA narrow")
            for step in ddl.migration("narrow", None, before):
                cursor.execute(step.sql)
            cursor.execute("INSERT INTO narrow.codes (code) VALUES ('abcdef'), ('ab'), (NULL)")
            (step,) = ddl.migration("narrow", before, after)
            assert step.kind == DATA_DEPENDENT and "TYPE char(3)" in step.sql
            cursor.execute(step.measure)
            assert cursor.fetchone() == (1,)
            with pytest.raises(psycopg2.errors.StringDataRightTruncation):
                cursor.execute(step.sql)
    finally:
        conn.rollback()
        conn.close()
