"""Drift, resolved: putting the target back to what was deployed, or adopting what it holds."""

import pytest

from designer import locks
from designer import projects
from designer.database import deploy
from designer.database import drift
from designer.database import plans
from designer.design import fields
from designer.design import relationships
from designer.design import tables
from designer.errors import Conflict
from designer.errors import Forbidden
from designer.errors import Locked
from designer.models import DataTable
from designer.models import Deployment
from tests.integration.test_deploy import catalog_and_rows
from tests.on_target import as_owner_of

rows = as_owner_of("shop")


@pytest.fixture
def deployed(alice, shop):
    """Customers and Orders deployed, with every kind of object a deploy makes."""
    customers = tables.create_table(alice, shop.id, "Customers", description="People who buy.")
    fields.create_field(alice, customers.id, {"name": "Email", "is_required": "on", "unique": "on"})
    fields.create_field(
        alice, customers.id, {"name": "Nickname", "max_length": "40", "min_length": "2"}
    )
    orders = tables.create_table(alice, shop.id, "Orders")
    fields.create_field(
        alice, orders.id, {"name": "Total", "data_type": "number", "min": "0", "indexed": "on"}
    )
    fields.create_field(alice, orders.id, {"name": "Paid", "data_type": "boolean",
                                           "default_value": "false"})  # fmt: skip
    relationships.create_relationship(
        alice, shop.id, {"source_table_id": customers.id, "target_table_id": orders.id}
    )
    for table in (customers, orders):
        assert deploy.transition(alice, table.id, "active")[1].status == "applied"
    rows("INSERT INTO shop.customers (email, nickname) VALUES ('a@x.org', 'ann')")
    rows("INSERT INTO shop.orders (total, customer_id) VALUES (10, 1)")
    return customers, orders


BEHIND_THE_DESIGNERS_BACK = [
    "ALTER TABLE shop.customers ALTER COLUMN nickname TYPE text",
    "ALTER TABLE shop.customers ALTER COLUMN email DROP NOT NULL",
    "ALTER TABLE shop.orders ALTER COLUMN paid SET DEFAULT true",
    "ALTER TABLE shop.orders DROP CONSTRAINT orders_total_min_check",
    "ALTER TABLE shop.orders ADD CONSTRAINT orders_total_small CHECK (total < 1000)",
    "DROP INDEX shop.orders_total_idx",
    "CREATE INDEX sneaky_paid ON shop.orders (paid)",
    "ALTER TABLE shop.orders ADD COLUMN sneaky integer",
    "UPDATE shop.orders SET sneaky = 7",
    "COMMENT ON TABLE shop.customers IS 'changed by hand'",
    "CREATE TABLE shop.scratch (id int)",
    "INSERT INTO shop.scratch VALUES (1)",
]


def test_putting_back_what_was_deployed_undoes_every_kind_of_drift(alice, shop, deployed):
    _, orders = deployed
    before = catalog_and_rows("shop", "orders")
    for statement in BEHIND_THE_DESIGNERS_BACK:
        rows(statement)
    lines = drift.check(alice, shop.id).differences
    assert len(lines) >= 10
    # A column both sides have reads as what differs, not as one missing and one extra.
    assert "column customers.email: required yes in the design, no in the database" in lines
    assert not any("missing in the database: customers email" in line for line in lines)
    dry = drift.redeploy(alice, shop.id, dry_run=True)
    assert dry.status == "dry_run_ok", dry.error
    # The extra column and table hold data: dropping them needs confirmation...
    with pytest.raises(Conflict) as refused:
        drift.redeploy(alice, shop.id)
    lost = {step["sql"]: step["affected_rows"] for step in refused.value.details["steps"]}
    assert lost == {'DROP TABLE "scratch"': 1, 'ALTER TABLE "orders" DROP COLUMN "sneaky"': 1}
    # ...and, for a designed table's column, its critical lock.
    with pytest.raises(Locked):
        drift.redeploy(alice, shop.id, confirm=True)
    locks.acquire(orders.id, alice, "critical")
    done = drift.redeploy(alice, shop.id, confirm=True)
    assert done.status == "applied", done.error
    assert drift.check(alice, shop.id).differences == []
    assert catalog_and_rows("shop", "orders")[0] == before[0]
    assert rows("SELECT email, nickname FROM shop.customers") == [("a@x.org", "ann")]
    # The designer still knows what the target holds: nothing is pending.
    assert not plans.has_pending(plans.plan_for(alice, shop.id))


def test_a_dropped_table_comes_back_with_its_keys(alice, shop, deployed):
    before = catalog_and_rows("shop", "orders")[0]
    rows("DROP TABLE shop.orders")
    done = drift.redeploy(alice, shop.id)
    assert done.status == "applied", done.error
    assert drift.check(alice, shop.id).differences == []
    assert catalog_and_rows("shop", "orders")[0] == before


def test_a_failing_repair_changes_nothing_and_names_the_statement(alice, shop, deployed):
    rows("ALTER TABLE shop.customers ALTER COLUMN email DROP NOT NULL")
    rows("INSERT INTO shop.customers (email) VALUES (NULL)")
    before = catalog_and_rows("shop", "customers")
    failed = drift.redeploy(alice, shop.id)
    assert failed.status == "failed"
    assert "SET NOT NULL" in failed.error and "1 rows" in failed.error
    assert catalog_and_rows("shop", "customers") == before
    assert Deployment.get_by_id(failed.id).status == "failed"


def test_nothing_to_put_back_is_a_conflict_and_viewers_cannot(alice, shop, deployed, make_user):
    with pytest.raises(Conflict):
        drift.redeploy(alice, shop.id)
    viewer = make_user("vic")
    projects.add_member(alice, shop.id, "vic", "viewer")
    rows("ALTER TABLE shop.orders ADD COLUMN sneaky integer")
    with pytest.raises(Forbidden):
        drift.redeploy(viewer, shop.id)
    assert "sneaky" in " ".join(drift.check(alice, shop.id).differences)


ADOPTABLE = [
    "ALTER TABLE shop.customers ALTER COLUMN nickname TYPE varchar(80)",
    "ALTER TABLE shop.customers ALTER COLUMN email DROP NOT NULL",
    "ALTER TABLE shop.orders ALTER COLUMN paid SET DEFAULT true",
    "ALTER TABLE shop.orders DROP CONSTRAINT orders_total_min_check",
    "DROP INDEX shop.orders_total_idx",
    "CREATE INDEX ON shop.orders (paid)",
    "ALTER TABLE shop.orders ADD COLUMN note text DEFAULT 'n/a' NOT NULL",
    "ALTER TABLE shop.customers ADD UNIQUE (nickname)",
    "COMMENT ON TABLE shop.customers IS 'changed by hand'",
    "CREATE TABLE shop.coupons (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
    " code varchar(20) NOT NULL, percent numeric(5,2))",
]


def field_named(table_id, name):
    return next(f for f in tables.ordered_fields(table_id) if f.field_name == name)


def test_adopting_takes_the_databases_schema_as_the_design(alice, shop, deployed):
    customers, orders = deployed
    nickname = field_named(customers.id, "nickname")
    for statement in ADOPTABLE:
        rows(statement)
    adopted = drift.adopt(alice, shop.id)
    assert (
        adopted.status == "applied" and adopted.version.message == "Adopted the database's schema"
    )
    # Nothing runs on the target, and afterwards it is in sync with nothing pending.
    assert drift.check(alice, shop.id).differences == []
    assert not plans.has_pending(plans.plan_for(alice, shop.id))
    kept = field_named(customers.id, "nickname")
    assert kept.id == nickname.id
    assert kept.field_config["max_length"] == 80 and kept.field_config["unique"] is True
    assert not field_named(customers.id, "email").is_required
    total = field_named(orders.id, "total").field_config
    assert "min" not in total and not total["indexed"]
    assert field_named(orders.id, "paid").default_value == "true"
    assert field_named(orders.id, "paid").field_config["indexed"] is True
    note = field_named(orders.id, "note")
    assert (note.data_type, note.is_required, note.default_value) == ("text", True, "n/a")
    assert DataTable.get_by_id(customers.id).description == "changed by hand"
    coupons = DataTable.get(DataTable.table_name == "coupons")
    assert coupons.status == "active" and coupons.deployed_at is not None
    percent = field_named(coupons.id, "percent").field_config
    assert (percent["number_type"], percent["precision"], percent["scale"]) == ("decimal", 5, 2)


def test_an_adopted_table_keeps_its_own_key_and_its_generated_columns(alice, shop, deployed):
    rows(
        "CREATE TABLE shop.ledger (year smallint, n integer GENERATED ALWAYS AS IDENTITY,"
        " code serial, id bigint, PRIMARY KEY (year, n))"
    )
    rows("CREATE TABLE shop.tags (label text PRIMARY KEY, id bigint GENERATED ALWAYS AS IDENTITY)")
    adopted = drift.adopt(alice, shop.id)
    assert adopted.status == "applied"
    assert drift.check(alice, shop.id).differences == []
    assert not plans.has_pending(plans.plan_for(alice, shop.id))
    ledger = DataTable.get(DataTable.table_name == "ledger")
    # No designer's id added: the table's own key, in its order, and its id a plain column.
    columns = {f.field_name: f for f in tables.ordered_fields(ledger.id)}
    assert sorted(columns) == ["code", "id", "n", "year"]
    assert not any(f.field_config.get("system") for f in columns.values())
    key = [str(columns["year"].id), str(columns["n"].id)]
    assert tables.structure_of(ledger.id)["primary_key"] == key
    assert columns["n"].field_config["identity"] == "always"
    assert columns["code"].field_config["serial"] is True
    assert columns["id"].field_config == {
        "unique": False,
        "indexed": False,
        "number_type": "bigint",
    }
    # An id that is an identity ALWAYS and no key is not the designer's either.
    tags = DataTable.get(DataTable.table_name == "tags")
    tag_fields = {f.field_name: f for f in tables.ordered_fields(tags.id)}
    assert tag_fields["id"].field_config["identity"] == "always"
    assert tables.structure_of(tags.id)["primary_key"] == [str(tag_fields["label"].id)]


def test_what_the_design_cannot_say_is_listed_and_nothing_is_adopted(alice, shop, deployed):
    customers, orders = deployed
    rows("ALTER TABLE shop.orders ALTER COLUMN paid SET DEFAULT true")
    rows("ALTER TABLE shop.orders ADD CONSTRAINT by_hand CHECK (total < 1000)")
    rows("ALTER TABLE shop.customers ADD COLUMN tags interval day")
    with pytest.raises(Conflict) as refused:
        drift.adopt(alice, shop.id)
    problems = " ".join(refused.value.details["problems"])
    assert "by_hand" in problems and "interval day" in problems
    assert field_named(orders.id, "paid").default_value == "false"
    assert "tags" not in [f.field_name for f in tables.ordered_fields(customers.id)]


def test_the_deploy_tab_offers_both_ways_and_the_project_page_points_there(
    alice, shop, deployed, signed_in
):
    rows("ALTER TABLE shop.orders ALTER COLUMN paid SET DEFAULT true")
    client = signed_in(alice)
    on_tab = client.get(f"/projects/{shop.id}/drift?from=deploy").text
    assert "Put back what was deployed" in on_tab and "Adopt the database" in on_tab
    elsewhere = client.get(f"/projects/{shop.id}/drift").text
    assert "Resolve it on the Deploy tab" in elsewhere and "Put back" not in elsewhere
    dry = client.post(f"/projects/{shop.id}/drift/redeploy", data={"action": "dry_run"})
    assert dry.status_code == 200 and "Dry run passed" in dry.text
    assert rows("SELECT column_default FROM information_schema.columns"
                " WHERE table_name = 'orders' AND column_name = 'paid'") == [("true",)]  # fmt: skip
    done = client.post(f"/projects/{shop.id}/drift/redeploy", data={"action": "redeploy"})
    assert done.status_code == 200 and "Deployed" in done.text
    assert drift.check(alice, shop.id).differences == []
    again = client.post(f"/projects/{shop.id}/drift/adopt")
    assert again.status_code == 422 and "nothing to adopt" in again.text


def test_the_api_resolves_drift_either_way(alice, shop, deployed, api):
    client = api(alice)
    rows("ALTER TABLE shop.orders ADD COLUMN sneaky integer")
    rows("INSERT INTO shop.orders (total, customer_id, sneaky) VALUES (1, 1, 5)")
    dry = client.post(f"/projects/{shop.id}/drift", json={"resolve": "redeploy", "dry_run": True})
    assert dry.status_code == 201 and dry.json["status"] == "dry_run_ok"
    refused = client.post(f"/projects/{shop.id}/drift", json={"resolve": "redeploy"})
    assert refused.status_code == 409 and refused.json["steps"][0]["affected_rows"] == 1
    adopted = client.post(f"/projects/{shop.id}/drift", json={"resolve": "adopt"})
    assert adopted.status_code == 201 and adopted.json["status"] == "applied"
    assert client.get(f"/projects/{shop.id}/drift").json["in_sync"] is True
    bad = client.post(f"/projects/{shop.id}/drift", json={"resolve": "ignore"})
    assert bad.status_code == 422


def test_adopting_from_the_deploy_tab_says_so_and_the_history_marks_it(
    alice, shop, deployed, signed_in
):
    rows("ALTER TABLE shop.orders ALTER COLUMN paid SET DEFAULT true")
    done = signed_in(alice).post(f"/projects/{shop.id}/drift/adopt")
    assert done.status_code == 200
    assert "Adopted what <code>shop</code> holds: saved as version" in done.text
    assert '<span class="badge deploy-applied">adopted</span>' in done.text
