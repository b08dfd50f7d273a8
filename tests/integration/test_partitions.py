"""Partitioned tables deployed to a real PostgreSQL: a parent PARTITION BY RANGE / LIST, its
partitions made with PARTITION OF and their bounds, read back from pg_catalog (relkind 'p',
pg_get_partkeydef, pg_get_expr(relpartbound)); the parent's key and indexes reach every
partition once; a bound changed is detached and attached again; hostile bounds are refused
by the rules and by the deploy guard."""

import copy
import re

import psycopg2
import pytest

from designer.database import ddl
from designer.database import statement_guard
from designer.design import partitions
from designer.design.field_types import python_regex_problem
from designer.design.snapshot_rules import Refused
from designer.design.snapshot_rules import snapshot_problems
from tests import snapshots as s
from tests.integration.test_ddl_oracle import deploy
from tests.integration.test_ddl_oracle import fresh_schema

SCHEMA = "parts"


@pytest.fixture
def cursor(database_url):
    conn = psycopg2.connect(database_url)
    yield conn.cursor()
    conn.rollback()
    conn.close()


def partitioned():
    """payments partitioned by range of paid_on, keyed by (paid_on, payment_no), with an
    index on customer; two monthly partitions and a default one."""
    paid_on = s.field("paid_on", "date", date_type="date")
    number = s.field("payment_no", "number", number_type="integer", sort_order=2)
    customer = s.field("customer", "text", sort_order=3)
    payments = s.keyed_table("payments", [paid_on, number], customer)
    payments["structure"]["partition_by"] = {
        "method": "range",
        "keys": [{"column": paid_on["id"], "expression": None, "collation": None, "opclass": None}],
    }
    payments["structure"]["indexes"] = {
        "i1": {
            "id": "i1", "name": None, "method": "btree", "unique": False, "comment": None,
            "keys": [{"column": customer["id"], "expression": None, "collation": None,
                      "opclass": None, "descending": False, "nulls": None}],
            "include": [], "where": None,
        }
    }  # fmt: skip
    parts = [
        partition("payments_2024_01", payments, "FOR VALUES FROM ('2024-01-01') TO ('2024-02-01')"),
        partition("payments_2024_02", payments, "FOR VALUES FROM ('2024-02-01') TO ('2024-03-01')"),
        partition("payments_other", payments, "DEFAULT"),
    ]
    return payments, parts


def partition(name, parent, bound):
    return {
        "id": s.new_id("t"), "name": name.title(), "table_name": name, "description": "",
        "status": "active", "fields": {},
        "structure": {"partition_of": {"table_id": parent["id"], "bound": bound}},
    }  # fmt: skip


def catalog(cursor):
    cursor.execute(
        "SELECT c.relname, c.relkind, CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END,"
        " (SELECT p.relname FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhparent"
        "   WHERE i.inhrelid = c.oid), pg_get_expr(c.relpartbound, c.oid)"
        " FROM pg_class c WHERE c.relnamespace = %s::regnamespace AND c.relkind IN ('r', 'p')"
        " ORDER BY 1",
        (SCHEMA,),
    )
    return cursor.fetchall()


def indexes(cursor, table):
    cursor.execute(
        "SELECT indexdef FROM pg_indexes WHERE schemaname = %s AND tablename = %s ORDER BY 1",
        (SCHEMA, table),
    )
    return [row[0].split(" ON ", 1)[1] for row in cursor.fetchall()]


def guarded(steps):
    for step in steps:
        statement_guard.check_statement(step.sql, SCHEMA)
    return steps


def test_a_partitioned_table_and_its_partitions_deploy_as_designed(cursor):
    payments, parts = partitioned()
    snap = s.snapshot([payments, *parts])
    fresh_schema(cursor, SCHEMA)
    steps = guarded(ddl.migration(SCHEMA, None, snap))
    script = ddl.script(steps)
    assert 'PARTITION BY RANGE ("paid_on")' in script
    assert script.count("CREATE INDEX") == 1  # once, on the parent
    deploy(cursor, steps)
    assert catalog(cursor) == [
        ("payments", "p", "RANGE (paid_on)", None, None),
        ("payments_2024_01", "r", None, "payments",
         "FOR VALUES FROM ('2024-01-01') TO ('2024-02-01')"),
        ("payments_2024_02", "r", None, "payments",
         "FOR VALUES FROM ('2024-02-01') TO ('2024-03-01')"),
        ("payments_other", "r", None, "payments", "DEFAULT"),
    ]  # fmt: skip
    # The parent's key and index, on each partition once (PostgreSQL made them).
    assert indexes(cursor, "payments_2024_01") == [
        "parts.payments_2024_01 USING btree (customer)",
        "parts.payments_2024_01 USING btree (paid_on, payment_no)",
    ]
    cursor.execute(
        "INSERT INTO parts.payments VALUES ('2024-01-05', 1, 'a'), ('2024-02-05', 2, 'b'),"
        " ('2025-01-01', 3, 'c')"
    )
    cursor.execute("SELECT tableoid::regclass::text FROM parts.payments ORDER BY payment_no")
    assert [r[0] for r in cursor.fetchall()] == [
        "parts.payments_2024_01", "parts.payments_2024_02", "parts.payments_other",
    ]  # fmt: skip


def test_a_changed_bound_detaches_and_attaches_and_a_dropped_partition_goes(cursor):
    payments, parts = partitioned()
    before = s.snapshot([payments, *parts])
    fresh_schema(cursor, SCHEMA)
    deploy(cursor, ddl.migration(SCHEMA, None, before))
    after = copy.deepcopy(before)
    wider = "FOR VALUES FROM ('2024-02-01') TO ('2024-04-01')"
    after["tables"][parts[1]["id"]]["structure"]["partition_of"]["bound"] = wider
    del after["tables"][parts[0]["id"]]
    steps = guarded(ddl.migration(SCHEMA, before, after))
    assert [" ".join(step.sql.split()[:2]) for step in steps] == [
        "DROP TABLE", "ALTER TABLE", "ALTER TABLE",
    ]  # fmt: skip
    assert "DETACH PARTITION" in steps[1].sql and "ATTACH PARTITION" in steps[2].sql
    assert [step.kind for step in steps] == ["destructive", "blocking", "data_dependent"]
    deploy(cursor, steps)
    assert [row[0] for row in catalog(cursor)] == ["payments", "payments_2024_02", "payments_other"]
    assert catalog(cursor)[1][4] == wider
    # And the migration back makes the first again, as a fresh deploy would.
    deploy(cursor, guarded(ddl.migration(SCHEMA, after, before)))
    assert len(catalog(cursor)) == 4


def test_list_partitions_and_a_column_added_to_the_parent_reach_each_partition(cursor):
    region = s.field("region", "text", is_required=True)
    sales = s.table("sales", region)
    sales["structure"] = {
        "partition_by": {
            "method": "list",
            "keys": [{"column": region["id"], "expression": None, "collation": None,
                      "opclass": None}],
        },
        "primary_key": [],
    }  # fmt: skip
    del sales["fields"][s.pk_of(sales)]
    europe = partition("sales_europe", sales, "FOR VALUES IN ('de', 'fr')")
    before = s.snapshot([sales, europe])
    fresh_schema(cursor, SCHEMA)
    deploy(cursor, guarded(ddl.migration(SCHEMA, None, before)))
    after = copy.deepcopy(before)
    amount = s.field("amount", "number", number_type="integer", sort_order=5)
    after["tables"][sales["id"]]["fields"][amount["id"]] = amount
    deploy(cursor, guarded(ddl.migration(SCHEMA, before, after)))
    cursor.execute(
        "SELECT attname FROM pg_attribute WHERE attrelid = 'parts.sales_europe'::regclass"
        " AND attnum > 0 AND NOT attisdropped ORDER BY attnum"
    )
    assert [r[0] for r in cursor.fetchall()] == ["region", "amount"]
    assert catalog(cursor)[1][4] == "FOR VALUES IN ('de', 'fr')"


HOSTILE_BOUNDS = [
    "FOR VALUES IN (pg_terminate_backend(1))",
    "FOR VALUES IN ((SELECT 1))",
    "FOR VALUES FROM (now()) TO (MAXVALUE)",
    "FOR VALUES IN (1::other.evil)",
    "FOR VALUES IN (1); DROP TABLE x",
]


@pytest.mark.parametrize("bound", HOSTILE_BOUNDS)
def test_hostile_bounds_are_refused_by_the_rules_and_the_guard(bound):
    with pytest.raises(partitions.BoundProblem):
        partitions.clean_bound(bound, None)
    payments, parts = partitioned()
    parts[0]["structure"]["partition_of"]["bound"] = bound
    with pytest.raises(Refused) as refused:
        snapshot_problems(as_stored(s.snapshot([payments, *parts])), None, python_regex_problem)
    assert "bound" in refused.value.words()
    statement = f"CREATE TABLE {SCHEMA}.x PARTITION OF {SCHEMA}.payments {bound}"
    with pytest.raises(statement_guard.RefusedStatement):
        statement_guard.check_statement(statement, SCHEMA)


def test_the_guard_keeps_partitions_inside_the_schema():
    for statement in (
        f"CREATE TABLE {SCHEMA}.x PARTITION OF public.payments DEFAULT",
        f"ALTER TABLE {SCHEMA}.payments ATTACH PARTITION public.x DEFAULT",
        f"CREATE TABLE {SCHEMA}.x (a int) PARTITION BY RANGE ((public.f(a)))",
        # A key's expression passes the same allowlist as a CHECK's.
        f"CREATE TABLE {SCHEMA}.x (a text) PARTITION BY LIST ((query_to_text(a)))",
    ):
        with pytest.raises(statement_guard.RefusedStatement):
            statement_guard.check_statement(statement, SCHEMA)
    statement_guard.check_statement(
        f"CREATE TABLE {SCHEMA}.x PARTITION OF {SCHEMA}.payments FOR VALUES IN ('a', -1)", SCHEMA
    )


def as_stored(snap):
    """The hand-built snapshot with UUIDs for ids, as the rules want them."""
    import json
    import uuid

    text = json.dumps(snap)
    ids = {tid for tid in snap["tables"]}
    for table in snap["tables"].values():
        ids |= set(table["fields"])
        ids |= set((table.get("structure") or {}).get("indexes") or {})
    for old in sorted(ids, key=len, reverse=True):
        text = text.replace(f'"{old}"', f'"{uuid.uuid4()}"')
    return json.loads(text)


def test_a_key_without_the_partition_column_is_refused():
    payments, parts = partitioned()
    key = payments["structure"]["primary_key"]
    payments["structure"]["primary_key"] = key[1:]
    with pytest.raises(Refused) as refused:
        snapshot_problems(as_stored(s.snapshot([payments, *parts])), None, python_regex_problem)
    assert "must include the partition key's columns (paid_on)" in refused.value.words()
    # As designed, the same snapshot is stored.
    payments, parts = partitioned()
    snapshot_problems(as_stored(s.snapshot([payments, *parts])), None, python_regex_problem)


HAND_WRITTEN = """
CREATE TABLE measurements (
    city_id integer NOT NULL,
    logdate date NOT NULL,
    peaktemp integer,
    PRIMARY KEY (city_id, logdate)
) PARTITION BY RANGE (logdate);
CREATE TABLE measurements_y2024 PARTITION OF measurements
    FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE measurements_rest PARTITION OF measurements DEFAULT;
CREATE INDEX ON measurements (peaktemp);
CREATE TABLE cities (region text, name text) PARTITION BY LIST (lower(region));
CREATE TABLE cities_eu PARTITION OF cities FOR VALUES IN ('eu', 'uk');
"""
# pg_dump's form: the partition's columns written out, attached afterwards.
PG_DUMP = """
CREATE TABLE public.events (id integer NOT NULL, at date NOT NULL, PRIMARY KEY (id, at))
PARTITION BY HASH (id);
CREATE TABLE public.events_0 (id integer NOT NULL, at date NOT NULL);
CREATE TABLE public.events_1 (id integer NOT NULL, at date DEFAULT now() NOT NULL);
ALTER TABLE ONLY public.events ATTACH PARTITION public.events_0
    FOR VALUES WITH (modulus 2, remainder 0);
ALTER TABLE ONLY public.events ATTACH PARTITION public.events_1
    FOR VALUES WITH (modulus 2, remainder 1);
CREATE INDEX events_1_at_idx ON public.events_1 USING btree (at);
"""


def shapes(design):
    """Each table's partitioning in names: (key or parent, bound)."""
    tables = design["tables"]
    found = {}
    for table in tables.values():
        by, of = partitions.partition_by(table), partitions.partition_of(table)
        if by:
            found[table["table_name"]] = (by["method"], len(by["keys"]), len(table["fields"]))
        if of:
            parent = tables[of["table_id"]]["table_name"]
            found[table["table_name"]] = (parent, of["bound"], len(table["fields"]))
    return found


def test_hand_written_and_pg_dump_partitions_import_with_their_parents(alice):
    from designer.history import snapshot as snapshots
    from designer.interchange import imports

    project, plan, _ = imports.import_new_project(alice, "Hand", "sql", HAND_WRITTEN + PG_DUMP)
    assert shapes(snapshots.build(project.id)) == {
        "measurements": ("range", 1, 3),
        "measurements_y2024": (
            "measurements", "FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')", 0,
        ),
        "measurements_rest": ("measurements", "DEFAULT", 0),
        "cities": ("list", 1, 2),
        "cities_eu": ("cities", "FOR VALUES IN ('eu', 'uk')", 0),
        "events": ("hash", 1, 2),
        "events_0": ("events", "FOR VALUES WITH (MODULUS 2, REMAINDER 0)", 0),
        "events_1": ("events", "FOR VALUES WITH (MODULUS 2, REMAINDER 1)", 0),
    }  # fmt: skip
    said = {(f.subject, f.message) for f in plan.findings}
    lost = "a partition has its parent's columns: this one's own definition is not kept"
    assert ("events_1.at", lost) in said  # its own DEFAULT now()
    assert ("events_1", "an index of a partition is not kept: its indexes are its parent's") in said
    assert not [f for f in plan.findings if f.subject.startswith(("measurements", "cities"))]


def test_partitions_round_trip_through_sql_json_and_dbml(alice):
    from designer.history import snapshot as snapshots
    from designer.interchange import exports
    from designer.interchange import imports
    from designer.models import Project
    from tests.integration.test_exact_round_trips import dbml_core
    from tests.integration.test_import_export import with_schema

    project, _, _ = imports.import_new_project(alice, "Hand", "sql", HAND_WRITTEN)
    first = exports.export_design(alice, project.id, "sql").text
    assert "PARTITION OF" in first and "PARTITION BY LIST ((lower(region)))" in first
    again_project, _, _ = imports.import_new_project(alice, "Again", "sql", first)
    again = exports.export_design(alice, again_project.id, "sql").text
    assert with_schema(again, again_project.target_schema) == with_schema(
        first, project.target_schema
    )
    dbml = exports.export_design(alice, project.id, "dbml").text
    assert 'PARTITION BY RANGE ("logdate") left out' in dbml
    assert "partition of measurements: FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')" in dbml
    assert not re.search(r'Table "measurements_y2024"', dbml)
    assert len(dbml_core(dbml)["tables"]) == 2  # dbdiagram's own parser reads it
    from_dbml, _, _ = imports.import_new_project(alice, "From DBML", "dbml", dbml)  # pydbml
    assert sorted(t["table_name"] for t in snapshots.build(from_dbml.id)["tables"].values()) == [
        "cities", "measurements",
    ]  # fmt: skip
    text = exports.export_design(alice, project.id, "json").text
    original = snapshots.snapshot_hash(snapshots.build(project.id))
    Project.delete().where(Project.id.in_([project.id, again_project.id, from_dbml.id])).execute()
    copy_project, plan, _ = imports.import_new_project(alice, "Copy", "json", text)
    assert snapshots.snapshot_hash(snapshots.build(copy_project.id)) == original
    assert not plan.findings


@pytest.fixture
def payments(alice, shop):
    """A Draft table payments keyed by (paid_on, payment_no)."""
    from designer.design import fields
    from designer.design import primary_keys
    from designer.design import tables

    table = tables.create_table(alice, shop.id, "Payments")
    paid_on = fields.create_field(
        alice, table.id, {"name": "Paid on", "data_type": "date", "is_required": True}
    )
    number = fields.create_field(
        alice, table.id,
        {"name": "Payment no", "data_type": "number", "number_type": "integer",
         "is_required": True},
    )  # fmt: skip
    primary_keys.set_primary_key(alice, table.id, [str(paid_on.id), str(number.id)])
    return table


def test_the_api_partitions_a_table_adds_bounds_and_deploys_them(alice, shop, payments, api):
    client = api(alice)
    url = f"/tables/{payments.id}"
    # A key the primary key does not hold is refused, next to the input.
    outside = client.put(f"{url}/partition_key", json={"method": "range", "keys": "id"})
    assert outside.status_code == 422
    assert (
        "must include the partition key's columns (id)" in outside.json["error"]["fields"]["keys"]
    )
    keyed = client.put(f"{url}/partition_key", json={"method": "range", "keys": "paid_on"})
    assert keyed.status_code == 200, keyed.json
    assert keyed.json["partition_by"] == {"method": "range", "keys": "paid_on"}
    bad = client.post(
        f"{url}/partitions",
        json={"table_name": "payments_x", "bound": "FOR VALUES IN (pg_terminate_backend(1))"},
    )
    assert bad.status_code == 422
    assert "bound" in bad.json["error"]["fields"]
    wrong = client.post(f"{url}/partitions", json={"table_name": "p", "bound": "FOR VALUES IN (1)"})
    assert "partitioned by range" in wrong.json["error"]["fields"]["bound"]
    year = "FOR VALUES FROM ('2025-01-01') TO ('2026-01-01')"
    added = client.post(f"{url}/partitions", json={"table_name": "payments_2025", "bound": year})
    assert added.status_code == 201, added.json
    assert added.json["table_name"] == "payments"
    assert "paid_on" in [c["field_name"] for c in added.json["columns"]]
    client.post(f"{url}/partitions", json={"table_name": "payments_rest", "bound": "DEFAULT"})
    shown = client.get(f"{url}/partitioning").json
    assert [(p["table_name"], p["bound"]) for p in shown["partitions"]] == [
        ("payments_2025", "FOR VALUES FROM ('2025-01-01') TO ('2026-01-01')"),
        ("payments_rest", "DEFAULT"),
    ]
    partition_id = shown["partitions"][0]["id"]
    refused = client.post(f"/tables/{partition_id}/fields", json={"name": "Extra"})
    assert refused.status_code == 409
    # Its partitions' bounds are for this key: no other while they are there.
    changed = client.put(f"{url}/partition_key", json={"method": "range", "keys": "payment_no"})
    assert changed.status_code == 422 and "remove them first" in changed.json["error"]["message"]
    activated = client.post(f"/projects/{shop.id}/activations", json={"all_drafts": True})
    assert activated.status_code in (200, 201), activated.json
    from tests.on_target import on_target

    rows = on_target(
        "SELECT c.relname, c.relkind, pg_get_expr(c.relpartbound, c.oid) FROM pg_class c"
        " WHERE c.relnamespace = %s::regnamespace AND c.relkind IN ('r', 'p') ORDER BY 1",
        (shop.target_schema,),
    )
    assert rows == [
        ("payments", "p", None),
        ("payments_2025", "r", "FOR VALUES FROM ('2025-01-01') TO ('2026-01-01')"),
        ("payments_rest", "r", "DEFAULT"),
    ]
    rebound = client.put(
        f"{url}/partitions/{partition_id}",
        json={"bound": "FOR VALUES FROM ('2024-01-01') TO ('2026-01-01')"},
    )
    assert rebound.status_code == 200, rebound.json
    deployed = client.post(f"/projects/{shop.id}/deployments", json={})
    assert deployed.status_code in (200, 201), deployed.json
    assert on_target(
        "SELECT pg_get_expr(relpartbound, oid) FROM pg_class WHERE oid = %s::regclass",
        (f'"{shop.target_schema}".payments_2025',),
    ) == [("FOR VALUES FROM ('2024-01-01') TO ('2026-01-01')",)]
    assert "partition_key" in str(client.get("/openapi.json").json["paths"])


def test_the_table_page_shows_partitions_and_a_partition_its_parent(
    alice, shop, payments, signed_in
):
    from designer.design import table_partitions

    browser = signed_in(alice)
    key_url = f"/tables/{payments.id}/partition-key"
    bad_key = browser.post(key_url, data={"method": "range", "keys": "nothing_here"})
    assert bad_key.status_code == 422 and 'id="keys-error"' in bad_key.text
    assert browser.post(key_url, data={"method": "range", "keys": "paid_on"}).status_code == 200
    part = table_partitions.add_partition(alice, payments.id, "payments_2025", "DEFAULT")
    page = browser.get(f"/tables/{payments.id}", htmx=False).text
    assert "Partitioned by <code>RANGE (paid_on)</code>" in page and "1 partition." in page
    bad = browser.post(
        f"/tables/{payments.id}/partitions", data={"table_name": "p2", "bound": "FOR VALUES IN (1)"}
    )
    assert bad.status_code == 422
    assert 'id="bound-error"' in bad.text and "partitioned by range" in bad.text
    assert 'value="FOR VALUES IN (1)"' in bad.text  # what was typed stays
    rebound_url = f"/tables/{payments.id}/partitions/{part.id}"
    bad_bound = browser.put(rebound_url, data={"bound": "FOR VALUES FROM (now()) TO (MAXVALUE)"})
    assert bad_bound.status_code == 422 and bad_bound.text.count('id="bound-error"') == 1
    assert "constants only" in bad_bound.text
    good = "FOR VALUES FROM ('2025-01-01') TO ('2026-01-01')"
    assert browser.put(rebound_url, data={"bound": good}).status_code == 200
    assert (
        "<code>FOR VALUES FROM (&#39;2025-01-01&#39;)"
        in browser.get(f"/tables/{payments.id}", htmx=False).text
    )
    shown = browser.get(f"/tables/{part.id}", htmx=False).text
    assert 'id="partition-of"' in shown and "paid_on" in shown and "Add field" not in shown


def test_a_partition_is_activated_with_or_after_its_parent(alice, shop, payments, api):
    from designer.design import table_partitions

    table_partitions.set_partition_key(alice, payments.id, "range", "paid_on")
    part = table_partitions.add_partition(alice, payments.id, "payments_rest", "DEFAULT")
    client = api(alice)
    alone = client.post(f"/tables/{part.id}/transition", json={"status": "active"})
    assert alone.status_code == 422
    assert "Activate its parent payments first" in alone.json["error"]["message"]
    together = client.post(
        f"/projects/{shop.id}/activations", json={"table_ids": [str(payments.id), str(part.id)]}
    )
    assert together.status_code in (200, 201), together.json


# pg_dump's full form for a partitioned table: indexes and keys made ON ONLY the parent,
# made again on each partition and attached with ALTER INDEX … ATTACH PARTITION.
PG_DUMP_ATTACHED = """
CREATE TABLE public.events (id integer NOT NULL, at date NOT NULL, kind text)
PARTITION BY RANGE (at);
CREATE TABLE public.events_2024 (id integer NOT NULL, at date NOT NULL, kind text);
CREATE TABLE public.events_rest (id integer NOT NULL, at date NOT NULL, kind text);
ALTER TABLE ONLY public.events ATTACH PARTITION public.events_2024
    FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
ALTER TABLE ONLY public.events ATTACH PARTITION public.events_rest DEFAULT;
ALTER TABLE ONLY public.events ADD CONSTRAINT events_pkey PRIMARY KEY (id, at);
ALTER TABLE ONLY public.events_2024 ADD CONSTRAINT events_2024_pkey PRIMARY KEY (id, at);
ALTER TABLE ONLY public.events_rest ADD CONSTRAINT events_rest_pkey PRIMARY KEY (id, at);
CREATE INDEX events_kind_idx ON ONLY public.events USING btree (kind);
CREATE INDEX events_2024_kind_idx ON public.events_2024 USING btree (kind);
CREATE INDEX events_rest_kind_idx ON public.events_rest USING btree (kind);
ALTER INDEX public.events_pkey ATTACH PARTITION public.events_2024_pkey;
ALTER INDEX public.events_pkey ATTACH PARTITION public.events_rest_pkey;
ALTER INDEX public.events_kind_idx ATTACH PARTITION public.events_2024_kind_idx;
ALTER INDEX public.events_kind_idx ATTACH PARTITION public.events_rest_kind_idx;
"""


def test_pg_dumps_attached_partitions_deploy_as_psql_made_them(
    alice, fresh_database, deploy_database_url
):
    """The proof of tests/fidelity.py on pg_dump's form: psql's catalog and the deployed one
    are equal, the partitions, their bounds, keys and indexes included."""
    from tests import fidelity

    source_url = fresh_database("dmd_source")
    fidelity.apply_with_psql(source_url, PG_DUMP_ATTACHED)
    plan, schema, _ = fidelity.import_and_deploy(alice, "Events", PG_DUMP_ATTACHED)
    source = fidelity.read_catalog(source_url, "public")
    deployed = fidelity.read_catalog(deploy_database_url, schema)
    comparison = fidelity.compare(source, deployed, fidelity.Lines(PG_DUMP_ATTACHED))
    assert comparison.differences == []
    assert deployed.tables["events_2024"].options[3:] == (
        "events", "FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')",
    )  # fmt: skip
    assert deployed.tables["events"].kind == "p"
    tallies = fidelity.figures(comparison)
    assert tallies["primary keys"][:2] == (3, 3) and tallies["indexes"][:2] == (3, 3)


def test_a_column_of_the_partition_key_is_not_dropped(alice, payments, api):
    from designer.design import primary_keys
    from designer.design import table_partitions
    from designer.design import tables

    primary_keys.set_primary_key(alice, payments.id, [])  # no key: only the partition's
    table_partitions.set_partition_key(alice, payments.id, "range", "paid_on")
    paid_on = next(f for f in tables.ordered_fields(payments.id) if f.field_name == "paid_on")
    refused = api(alice).delete(f"/fields/{paid_on.id}")
    assert refused.status_code == 409
    assert "partition key" in refused.json["error"]["message"]


def test_a_key_or_unique_index_without_the_partition_column_is_refused(alice, payments, api):
    from designer.design import table_partitions

    table_partitions.set_partition_key(alice, payments.id, "range", "paid_on")
    client = api(alice)
    fields_ = {f["field_name"]: f["id"] for f in client.get(f"/tables/{payments.id}/fields").json}
    key = client.put(
        f"/tables/{payments.id}/primary_key", json={"field_ids": [fields_["payment_no"]]}
    )
    assert key.status_code == 422
    assert "must include the partition key's columns (paid_on)" in key.json["error"]["message"]
    index = client.post(
        f"/tables/{payments.id}/structure/indexes", json={"keys": "payment_no", "unique": True}
    )
    assert index.status_code == 422, index.json
    assert "partition key" in index.json["error"]["message"]
    fine = client.post(
        f"/tables/{payments.id}/structure/indexes",
        json={"keys": "payment_no, paid_on", "unique": True},
    )
    assert fine.status_code == 201, fine.json


def test_a_new_partition_key_makes_the_table_and_its_partitions_again(cursor):
    payments, parts = partitioned()
    before = s.snapshot([payments, *parts])
    fresh_schema(cursor, SCHEMA)
    deploy(cursor, ddl.migration(SCHEMA, None, before))
    after = copy.deepcopy(before)
    parent = after["tables"][payments["id"]]
    customer = next(f for f in parent["fields"].values() if f["field_name"] == "customer")
    paid_on = parent["structure"]["partition_by"]["keys"][0]["column"]
    parent["structure"]["partition_by"] = {
        "method": "list",
        "keys": [{"column": paid_on, "expression": None, "collation": None, "opclass": None}],
    }
    for part in parts[:2]:
        del after["tables"][part["id"]]
    assert customer  # the parent keeps its columns; only its partitioning changes
    steps = guarded(ddl.migration(SCHEMA, before, after))
    assert [" ".join(step.sql.split()[:2]) for step in steps][:4] == ["DROP TABLE"] * 4
    deploy(cursor, steps)
    assert catalog(cursor) == [
        ("payments", "p", "LIST (paid_on)", None, None),
        ("payments_other", "r", None, "payments", "DEFAULT"),
    ]
