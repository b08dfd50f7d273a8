"""Table-level structure end to end: uniques over several columns, table CHECKs and indexes of
every kind, added through the API, deployed to the real target, read back from pg_catalog,
and enforced there (each violated once); renames follow by id; hostile expressions are
refused at the API, in a stored design and by the deploy guard."""

import json

import psycopg2
import pytest

from designer.database import statement_guard
from designer.design import fields
from designer.design import tables
from designer.history.diff import describe
from designer.history.diff import diff
from designer.history.snapshot import build
from tests.on_target import on_target


@pytest.fixture
def orders(alice, shop):
    table = tables.create_table(alice, shop.id, "Orders")
    for name, extra in (
        ("Customer", {}),
        ("Code", {}),
        ("Amount", {"data_type": "number", "number_type": "integer"}),
        ("Note", {}),
    ):
        fields.create_field(alice, table.id, {"name": name, **extra})
    return table


def add(client, table, kind, body):
    response = client.post(f"/tables/{table.id}/structure/{kind}", json=body)
    assert response.status_code == 201, response.json
    return response.json


def structured(client, table):
    unique = add(
        client, table, "uniques",
        {"name": "orders_customer_code_key", "columns": ["customer", "code"], "comment": "One"},
    )  # fmt: skip
    check = add(client, table, "checks", {"name": "amount_positive", "expression": "amount > 0"})
    partial = add(
        client, table, "indexes",
        {"name": "orders_open_idx", "keys": "lower(code) DESC NULLS LAST, amount",
         "where": "note IS NULL", "include": ["customer"], "comment": "Open orders"},
    )  # fmt: skip
    hashed = add(client, table, "indexes", {"keys": [{"column": "note"}], "method": "hash"})
    collated = add(
        client, table, "indexes",
        {"name": "orders_code_c", "unique": True,
         "keys": [{"column": "code", "collation": "C", "opclass": "text_pattern_ops"},
                  {"column": "amount"}]},
    )  # fmt: skip
    return unique, check, partial, hashed, collated


def catalog(schema, table):
    constraints = on_target(
        "SELECT k.conname, pg_get_constraintdef(k.oid), k.convalidated,"
        " obj_description(k.oid, 'pg_constraint')"
        " FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid"
        " WHERE c.relnamespace = %s::regnamespace AND c.relname = %s ORDER BY 1",
        (schema, table),
    )
    indexes = on_target(
        "SELECT i.indexname, i.indexdef,"
        " obj_description((%s || '.' || quote_ident(i.indexname))::regclass, 'pg_class')"
        " FROM pg_indexes i WHERE i.schemaname = %s AND i.tablename = %s ORDER BY 1",
        (f'"{schema}"', schema, table),
    )
    return {row[0]: row[1:] for row in constraints}, {row[0]: row[1:] for row in indexes}


def test_uniques_checks_and_indexes_deploy_and_are_enforced(alice, shop, orders, api):
    client = api(alice)
    structured(client, orders)
    shown = client.get(f"/tables/{orders.id}/structure").json
    assert [u["columns"] for u in shown["uniques"]] == [["customer", "code"]]
    assert shown["checks"][0]["expression"] == "amount > 0"
    assert {i["name"] for i in shown["indexes"]} == {"orders_code_c", "orders_open_idx", None}
    done = client.post(f"/tables/{orders.id}/transition", json={"status": "active"})
    assert done.json["deployment"]["status"] == "applied", done.json
    constraints, indexes = catalog("shop", "orders")
    assert constraints["orders_customer_code_key"] == ("UNIQUE (customer, code)", True, "One")
    assert constraints["amount_positive"] == ("CHECK ((amount > 0))", True, None)
    assert indexes["orders_open_idx"] == (
        "CREATE INDEX orders_open_idx ON shop.orders USING btree (lower(code) DESC NULLS LAST,"
        " amount) INCLUDE (customer) WHERE (note IS NULL)",
        "Open orders",
    )
    assert indexes["orders_code_c"][0] == (
        'CREATE UNIQUE INDEX orders_code_c ON shop.orders USING btree (code COLLATE "C"'
        " text_pattern_ops, amount)"
    )
    assert indexes["orders_note_idx"][0] == (
        "CREATE INDEX orders_note_idx ON shop.orders USING hash (note)"
    )
    on_target("INSERT INTO shop.orders (customer, code, amount) VALUES ('a', 'x', 1)")
    insert = "INSERT INTO shop.orders (customer, code, amount) VALUES "
    for values, error in (
        ("('a', 'x2', 0)", psycopg2.errors.CheckViolation),
        ("('a', 'x', 2)", psycopg2.errors.UniqueViolation),
        ("('b', 'x', 1)", psycopg2.errors.UniqueViolation),
    ):
        with pytest.raises(error):
            on_target(insert + values)
    # The partial index's WHERE and the collation: upper case is another code.
    on_target("INSERT INTO shop.orders (customer, code, amount) VALUES ('a', 'X', 1)")
    drift = client.get(f"/projects/{shop.id}/drift").json
    assert (drift["in_sync"], drift["differences"]) == (True, [])


def test_a_check_added_to_a_deployed_table_is_validated_after_counting(alice, shop, orders, api):
    client = api(alice)
    client.post(f"/tables/{orders.id}/transition", json={"status": "active"})
    on_target("INSERT INTO shop.orders (amount) VALUES (-1), (5)")
    add(client, orders, "checks", {"name": "amount_positive", "expression": "amount > 0"})
    dry = client.post(f"/projects/{shop.id}/deployments", json={"dry_run": True}).json
    sqls = [step["sql"] for step in dry["steps"]]
    assert sqls == [
        'ALTER TABLE "shop"."orders" ADD CONSTRAINT "amount_positive" CHECK (amount > 0) NOT VALID',
        'ALTER TABLE "shop"."orders" VALIDATE CONSTRAINT "amount_positive"',
    ]
    assert dry["steps"][1]["kind"] == "data_dependent"
    assert dry["steps"][1]["affected_rows"] == 1
    failed = client.post(f"/projects/{shop.id}/deployments", json={"dry_run": False})
    assert failed.json["status"] != "applied"
    assert on_target("SELECT count(*) FROM pg_constraint WHERE conname = 'amount_positive'") == [
        (0,)
    ]
    on_target("DELETE FROM shop.orders WHERE amount < 0")
    done = client.post(f"/projects/{shop.id}/deployments", json={"dry_run": False})
    assert done.json["status"] == "applied", done.json
    assert catalog("shop", "orders")[0]["amount_positive"][1] is True


def test_renames_follow_by_id_and_changes_read_as_words(alice, shop, orders, api):
    client = api(alice)
    unique, check, partial, hashed, _ = structured(client, orders)
    client.post(f"/tables/{orders.id}/transition", json={"status": "active"})
    before = build(shop.id)
    amount = next(f for f in tables.ordered_fields(orders.id) if f.field_name == "amount")
    fields.update_field(alice, amount.id, amount.revision, {"field_name": "total"}, partial=True)
    renamed = client.put(
        f"/tables/{orders.id}/structure/uniques/{unique['id']}",
        json={"name": "orders_pair_key", "columns": ["customer", "code"], "comment": "One"},
    )
    assert renamed.status_code == 200, renamed.json
    gone = client.delete(f"/tables/{orders.id}/structure/indexes/{hashed['id']}")
    assert gone.status_code == 204
    shown = client.get(f"/tables/{orders.id}/structure").json
    assert shown["checks"][0]["expression"] == "total > 0"
    changes = diff(before, build(shop.id))
    words = "; ".join(describe(change) for change in changes)
    assert "unique constraint orders_customer_code_key renamed to orders_pair_key" in words
    assert "index (generated name) dropped" in words
    plan = client.post(f"/projects/{shop.id}/deployments", json={"dry_run": False}).json
    assert plan["status"] == "applied", plan
    sqls = [step["sql"] for step in plan["steps"]]
    assert 'DROP INDEX "shop"."orders_note_idx"' in sqls
    assert not any("ADD CONSTRAINT" in sql or "CREATE INDEX" in sql for sql in sqls)
    constraints, indexes = catalog("shop", "orders")
    assert constraints["amount_positive"][0] == "CHECK ((total > 0))"
    assert "orders_pair_key" in constraints and "orders_note_idx" not in indexes
    assert "(lower(code) DESC NULLS LAST, total)" in indexes["orders_open_idx"][0]
    assert client.get(f"/projects/{shop.id}/drift").json["in_sync"] is True


def test_deleting_a_column_takes_the_items_that_use_it(alice, shop, orders, api):
    client = api(alice)
    structured(client, orders)
    note = next(f for f in tables.ordered_fields(orders.id) if f.field_name == "note")
    fields.delete_field(alice, note.id)
    shown = client.get(f"/tables/{orders.id}/structure").json
    assert [i["name"] for i in shown["indexes"]] == ["orders_code_c"]
    assert len(shown["uniques"]) == 1 and len(shown["checks"]) == 1


HOSTILE = [
    "amount > (SELECT count(*) FROM other_schema.secrets)",
    "pg_sleep(1) IS NULL",
    "setval('shop.orders_id_seq', 1) > 0",
    "amount > 0) NOT VALID; DROP TABLE orders; --",
    "public.evil(amount)",
    "current_setting('is_superuser') = 'on'",
]


@pytest.mark.parametrize("expression", HOSTILE)
def test_hostile_expressions_are_refused_at_the_api_next_to_the_input(
    alice, shop, orders, api, expression
):
    client = api(alice)
    refused = client.post(f"/tables/{orders.id}/structure/checks", json={"expression": expression})
    assert refused.status_code == 422
    assert "expression" in refused.json["error"]["fields"]
    index = client.post(
        f"/tables/{orders.id}/structure/indexes", json={"keys": "code", "where": expression}
    )
    assert index.status_code == 422 and "where" in index.json["error"]["fields"]
    assert client.get(f"/tables/{orders.id}/structure").json == {
        "uniques": [], "checks": [], "indexes": [],
    }  # fmt: skip


@pytest.mark.parametrize(
    "statement",
    [
        'ALTER TABLE "app"."t" ADD CONSTRAINT "c" CHECK (pg_sleep(1) IS NULL) NOT VALID',
        'ALTER TABLE "app"."t" ADD CONSTRAINT "c" CHECK (a > (SELECT 1 FROM other.t)) NOT VALID',
        'CREATE INDEX "i" ON "app"."t" USING btree ((setval(\'s\', 1)))',
        'CREATE INDEX "i" ON "app"."t" USING btree (a) WHERE current_setting(\'x\') = \'1\'',
        'SELECT count(*) FROM "app"."t" WHERE NOT (lo_get(1) IS NULL)',
        'SELECT count(*) FROM "app"."t" WHERE NOT (to_regclass(\'other.t\') IS NULL)',
    ],
)
def test_the_deploy_guard_refuses_hostile_expressions(statement):
    with pytest.raises(statement_guard.RefusedStatement):
        statement_guard.check_statement(statement, "app")


def test_the_deploy_guard_lets_design_expressions_through():
    # Each passes with its own tree handed back, the kind of statement it is.
    passed = [
        type(statement_guard.check_statement(statement, "app")).__name__
        for statement in (
            'ALTER TABLE "app"."t" ADD CONSTRAINT "c" CHECK (amount > 0 AND lower(a) <> \'x\')',
            'CREATE UNIQUE INDEX "i" ON "app"."t" USING btree ((lower(a)) DESC, "b" COLLATE "C")'
            " WHERE b IS NOT NULL",
            'SELECT count(*) FROM "app"."t" WHERE NOT (char_length(a) >= 2)',
        )
    ]
    assert passed == ["AlterTableStmt", "IndexStmt", "SelectStmt"]


def test_a_json_export_keeps_the_structure_and_imports_into_the_same_design(
    alice, shop, orders, api
):
    client = api(alice)
    structured(client, orders)
    exported = client.get(f"/projects/{shop.id}/export?format=json")
    assert exported.status_code == 200
    assert "structure" in exported.text
    other = client.post("/projects", json={"name": "Copy"}).json
    imported = client.post(
        f"/projects/{other['id']}/import?format=json",
        json={"source": exported.text, "confirm": True},
    )
    assert imported.status_code in (200, 201), imported.json
    copied = client.get(f"/projects/{other['id']}/tables").json["tables"][0]
    assert client.get(f"/tables/{copied['id']}/structure").json == {
        kind: [{**item, "id": item["id"]} for item in items]
        for kind, items in client.get(f"/tables/{orders.id}/structure").json.items()
    }


def hostile_export(client, shop, orders, expression):
    """The project's JSON export with one check's stored expression replaced."""
    add(client, orders, "checks", {"name": "c", "expression": "amount > 0"})
    data = json.loads(client.get(f"/projects/{shop.id}/export?format=json").text)
    table = next(iter(data["tables"].values()))
    check = next(iter(table["structure"]["checks"].values()))
    amount = next(f for f in table["fields"].values() if f["field_name"] == "amount")
    check["expression"] = expression.replace("amount", f'"{amount["id"]}"')
    return json.dumps(data)


@pytest.mark.parametrize("expression", HOSTILE[:3] + HOSTILE[4:])
def test_hostile_expressions_in_an_imported_design_are_refused(
    alice, shop, orders, api, expression
):
    client = api(alice)
    source = hostile_export(client, shop, orders, expression)
    other = client.post("/projects", json={"name": "Copy"}).json
    refused = client.post(f"/projects/{other['id']}/import?format=json", json={"source": source})
    assert refused.status_code == 422, refused.json
    assert "expression" in refused.json["error"]["message"]
    assert client.get(f"/projects/{other['id']}/tables").json["tables"] == []


def test_a_hostile_expression_stored_behind_the_designers_back_never_reaches_the_target(
    alice, shop, orders, api
):
    """The last line: the deploy guard reads every CHECK, index and measure again."""
    client = api(alice)
    add(client, orders, "checks", {"name": "c", "expression": "amount > 0"})
    structure = tables.structure_of(orders.id)
    check = next(iter(structure["checks"].values()))
    check["expression"] = check["expression"].replace("> 0", "> length(pg_read_file('x'))")
    tables.store_structure(orders.id, structure)
    done = client.post(f"/tables/{orders.id}/transition", json={"status": "active"})
    assert done.status_code == 409
    assert "Refused before it ran: it calls pg_read_file()" in done.json["error"]["message"]
    assert on_target("SELECT count(*) FROM pg_tables WHERE schemaname = 'shop'") == [(0,)]
    assert on_target("SELECT count(*) FROM pg_constraint WHERE conname = 'c'") == [(0,)]


SOURCE = """
CREATE TABLE accounts (
  id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  email text NOT NULL,
  region text COLLATE "C",
  kind text,
  score integer,
  starts date,
  ends date,
  CONSTRAINT accounts_email_region_key UNIQUE (email, region),
  CONSTRAINT accounts_dates CHECK (starts <= ends OR ends IS NULL),
  CONSTRAINT accounts_kind_known CHECK (kind IN ('a', 'b') AND lower(region) <> '')
);
CREATE INDEX accounts_open ON accounts USING btree (lower(email) DESC NULLS LAST, score)
  INCLUDE (region) WHERE ends IS NULL;
CREATE UNIQUE INDEX accounts_region_c ON accounts (region COLLATE "C" text_pattern_ops, kind);
CREATE INDEX accounts_kind_hash ON accounts USING hash (kind);
CREATE INDEX accounts_score_brin ON accounts USING brin (score);
COMMENT ON INDEX accounts_open IS 'Open accounts';
COMMENT ON CONSTRAINT accounts_dates ON accounts IS 'In order';
"""


def structure_rows(schema):
    """Uniques, checks and indexes of a schema as pg_catalog holds them, with comments."""
    constraints = on_target(
        "SELECT conname, pg_get_constraintdef(k.oid), obj_description(k.oid, 'pg_constraint')"
        " FROM pg_constraint k WHERE connamespace = %s::regnamespace AND contype IN ('u', 'c')"
        " ORDER BY 1",
        (schema,),
    )
    indexes = on_target(
        "SELECT c.relname, replace(pg_get_indexdef(c.oid), %s || '.', ''),"
        " obj_description(c.oid, 'pg_class') FROM pg_class c"
        " WHERE relnamespace = %s::regnamespace AND relkind = 'i' ORDER BY 1",
        (schema, schema),
    )
    return constraints, indexes


def test_an_imported_file_deploys_its_uniques_checks_and_indexes_as_psql_made_them(
    alice, shop, api
):
    on_target("CREATE SCHEMA src")
    on_target("SET search_path TO src;" + SOURCE)
    client = api(alice)
    done = client.post(
        f"/projects/{shop.id}/import?format=sql", json={"source": SOURCE, "confirm": True}
    )
    assert done.status_code == 201, done.json
    assert not [f for f in done.json["findings"] if "accounts" in f["subject"]], done.json
    [table] = client.get(f"/projects/{shop.id}/tables").json["tables"]
    deployed = client.post(f"/tables/{table['id']}/transition", json={"status": "active"})
    assert deployed.json["deployment"]["status"] == "applied", deployed.json
    assert structure_rows("shop") == structure_rows("src")
    collations = (
        "SELECT attname, collname FROM pg_attribute JOIN pg_collation co ON co.oid = attcollation"
        " WHERE attrelid = %s::regclass AND attnum > 0 ORDER BY 1"
    )
    assert on_target(collations, ("shop.accounts",)) == on_target(collations, ("src.accounts",))
    assert ("region", "C") in on_target(collations, ("shop.accounts",))
    assert len(structure_rows("src")[1]) == 6  # the key, the unique's and four of its own


def test_dbml_carries_uniques_and_plain_indexes_and_names_what_it_cannot(alice, shop, orders, api):
    client = api(alice)
    structured(client, orders)
    add(client, orders, "indexes", {"name": "by_lower", "keys": "lower(note), customer"})
    text = client.get(f"/projects/{shop.id}/export?format=dbml").text
    assert (
        "(\"customer\", \"code\") [unique, name: 'orders_customer_code_key', note: 'One']" in text
    )
    assert "// index orders_open_idx left out" in text
    # DBML has no CHECK: the table's note carries it, and brings it back.
    assert 'check "amount_positive": amount > 0' in text
    other = client.post("/projects", json={"name": "Copy"}).json
    done = client.post(
        f"/projects/{other['id']}/import?format=dbml", json={"source": text, "confirm": True}
    )
    assert done.status_code == 201, done.json
    copied = client.get(f"/projects/{other['id']}/tables").json["tables"][0]
    shown = client.get(f"/tables/{copied['id']}/structure").json
    assert [(u["name"], u["columns"], u["comment"]) for u in shown["uniques"]] == [
        ("orders_customer_code_key", ["customer", "code"], "One")
    ]
    kept = {(i["name"], i["method"], i["keys"][0]["expression"]) for i in shown["indexes"]}
    assert kept == {("by_lower", "btree", "lower(note)"), (None, "hash", None)}
    assert [(c["name"], c["expression"]) for c in shown["checks"]] == [
        ("amount_positive", "amount > 0")
    ]
    assert copied["description"] == ""
