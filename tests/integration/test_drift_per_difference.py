"""Drift resolved one difference at a time: each line of the report put back on the database, or
taken into the design, on its own; the other lines stay as they were."""

import pytest

from designer import locks
from designer.activity import recent
from designer.database import drift
from designer.database import plans
from designer.design import fields
from designer.errors import Conflict
from designer.errors import Locked
from designer.history import versions
from tests.integration.test_drift import deployed  # noqa: F401 (a fixture)
from tests.integration.test_drift import field_named
from tests.integration.test_drift import rows


def item(user, project, *words):
    """The one item of the report whose line holds every word."""
    found = [i for i in drift.check(user, project.id).items if all(w in i.line for w in words)]
    assert len(found) == 1, [i.line for i in drift.check(user, project.id).items]
    return found[0]


def lines(user, project):
    return [i.line for i in drift.check(user, project.id).items]


def paid_default():
    return rows(
        "SELECT column_default FROM information_schema.columns"
        " WHERE table_schema = 'shop' AND table_name = 'orders' AND column_name = 'paid'"
    )[0][0]


def test_putting_back_one_difference_leaves_the_others(alice, shop, deployed):  # noqa: F811
    rows("ALTER TABLE shop.orders ALTER COLUMN paid SET DEFAULT true")
    rows("ALTER TABLE shop.customers ALTER COLUMN nickname TYPE text")
    rows("COMMENT ON TABLE shop.customers IS 'changed by hand'")
    paid = item(alice, shop, "orders.paid", "default")
    dry = drift.redeploy(alice, shop.id, dry_run=True, difference=paid.key)
    assert dry.status == "dry_run_ok", dry.error
    # Only this line's statement runs (after the search_path every repair sets).
    assert [s["sql"] for s in dry.plan][1:] == [
        'ALTER TABLE "orders" ALTER COLUMN "paid" SET DEFAULT false'
    ]
    assert paid_default() == "true"
    done = drift.redeploy(alice, shop.id, difference=paid.key)
    assert done.status == "applied", done.error
    assert paid_default() == "false"
    left = lines(alice, shop)
    assert len(left) == 2 and not any("paid" in line for line in left)
    assert any("nickname" in line for line in left) and any("comment" in line for line in left)
    assert recent(shop.id)[0].summary.startswith("put back column orders.paid: default")


def test_a_line_that_drops_data_asks_for_its_confirmation_and_lock(alice, shop, deployed):  # noqa: F811
    _, orders = deployed
    rows("ALTER TABLE shop.orders ADD COLUMN sneaky integer")
    rows("UPDATE shop.orders SET sneaky = 7")
    rows("CREATE TABLE shop.scratch (id int)")
    rows("INSERT INTO shop.scratch VALUES (1)")
    sneaky = item(alice, shop, "sneaky")
    assert sneaky.destructive
    with pytest.raises(Conflict) as refused:
        drift.redeploy(alice, shop.id, difference=sneaky.key)
    # Only this line's loss is listed, not the extra table's.
    lost = {step["sql"]: step["affected_rows"] for step in refused.value.details["steps"]}
    assert lost == {'ALTER TABLE "orders" DROP COLUMN "sneaky"': 1}
    with pytest.raises(Locked):
        drift.redeploy(alice, shop.id, confirm=True, difference=sneaky.key)
    locks.acquire(orders.id, alice, "critical")
    done = drift.redeploy(alice, shop.id, confirm=True, difference=sneaky.key)
    assert done.status == "applied", done.error
    assert lines(alice, shop) == ["table not in the design: scratch"]
    assert rows("SELECT count(*) FROM shop.scratch") == [(1,)]


def test_a_table_or_column_takes_its_own_objects_along(alice, shop, deployed):  # noqa: F811
    customers, _ = deployed
    rows("CREATE TABLE shop.scratch (id int PRIMARY KEY, label text)")
    rows("ALTER TABLE shop.customers DROP COLUMN email")
    whole = drift.check(alice, shop.id)
    # Every line is still in the full list; the items fold what goes with a table or column.
    assert any("customers_email_key" in line for line in whole.differences)
    # The table's two columns, its key and the key's index; the column's unique key and its index.
    assert [(i.line, i.folded) for i in whole.items] == [
        ("table not in the design: scratch", 4),
        ("column missing in the database: customers email text", 2),
    ]
    email = item(alice, shop, "customers email")
    adopted = drift.adopt(alice, shop.id, difference=email.key)
    assert adopted.status == "applied"
    assert "email" not in [f.field_name for f in fields_of(customers)]
    assert lines(alice, shop) == ["table not in the design: scratch"]
    # Putting back the table drops it with its column, key and index.
    scratch = item(alice, shop, "scratch")
    drift.redeploy(alice, shop.id, confirm=True, difference=scratch.key)
    assert drift.check(alice, shop.id).differences == []


def fields_of(table):
    from designer.design import tables

    return tables.ordered_fields(table.id)


def test_adopting_one_difference_keeps_the_designs_other_changes(alice, shop, deployed):  # noqa: F811
    customers, orders = deployed
    rows("ALTER TABLE shop.orders ALTER COLUMN paid SET DEFAULT true")
    rows("ALTER TABLE shop.customers ALTER COLUMN nickname TYPE varchar(80)")
    # A change of the design not deployed yet, on a table the adopted line touches too.
    total = field_named(orders.id, "total")
    fields.update_field(alice, total.id, total.revision, {"max": "500"}, partial=True)
    paid = item(alice, shop, "orders.paid", "default")
    adopted = drift.adopt(alice, shop.id, difference=paid.key)
    assert adopted.status == "applied"
    assert adopted.version.message.startswith("Adopted from the database: column orders.paid")
    assert field_named(orders.id, "paid").default_value == "true"
    assert field_named(orders.id, "total").field_config["max"] == "500"
    assert field_named(customers.id, "nickname").field_config["max_length"] == 40
    # The other line is still drift, and the design's own change is still to deploy.
    assert [line for line in lines(alice, shop) if "nickname" in line]
    assert not [line for line in lines(alice, shop) if "paid" in line]
    pending = plans.plan_for(alice, shop.id).steps
    assert any("total" in step.sql for step in pending)
    assert not any("paid" in step.sql for step in pending)
    assert recent(shop.id)[0].summary.startswith("adopted column orders.paid")


def test_adopting_what_the_design_cannot_say_refuses_that_line_only(alice, shop, deployed):  # noqa: F811
    _, orders = deployed
    rows("ALTER TABLE shop.customers ADD COLUMN tags interval day")
    rows("ALTER TABLE shop.orders ALTER COLUMN paid SET DEFAULT true")
    before = versions.latest(shop.id).version_number
    with pytest.raises(Conflict) as refused:
        drift.adopt(alice, shop.id, difference=item(alice, shop, "tags").key)
    assert "interval day" in " ".join(refused.value.details["problems"])
    assert versions.latest(shop.id).version_number == before
    drift.adopt(alice, shop.id, difference=item(alice, shop, "paid").key)
    assert field_named(orders.id, "paid").default_value == "true"
    assert len(lines(alice, shop)) == 1


def test_a_difference_gone_meanwhile_is_a_conflict(alice, shop, deployed):  # noqa: F811
    rows("ALTER TABLE shop.orders ALTER COLUMN paid SET DEFAULT true")
    paid = item(alice, shop, "paid")
    rows("ALTER TABLE shop.orders ALTER COLUMN paid SET DEFAULT false")
    for resolve in (drift.redeploy, drift.adopt):
        with pytest.raises(Conflict, match="not in the database any more"):
            resolve(alice, shop.id, difference=paid.key)


def test_the_deploy_tab_resolves_one_line_each_way(alice, shop, deployed, signed_in):  # noqa: F811
    _, orders = deployed
    rows("ALTER TABLE shop.orders ALTER COLUMN paid SET DEFAULT true")
    rows("ALTER TABLE shop.customers ALTER COLUMN nickname TYPE varchar(80)")
    client = signed_in(alice)
    tab = client.get(f"/projects/{shop.id}/drift?from=deploy").text
    paid, nickname = item(alice, shop, "paid"), item(alice, shop, "nickname")
    assert tab.count('name="difference"') == 2
    # Keys are JSON: the page escapes their quotes.
    assert 'value="[&#34;columns&#34;,&#34;orders&#34;,&#34;paid&#34;]"' in tab
    elsewhere = client.get(f"/projects/{shop.id}/drift").text
    assert 'name="difference"' not in elsewhere
    dry = client.post(
        f"/projects/{shop.id}/drift/redeploy", data={"action": "dry_run", "difference": paid.key}
    )
    assert dry.status_code == 200 and "Dry run passed" in dry.text and paid_default() == "true"
    done = client.post(
        f"/projects/{shop.id}/drift/redeploy", data={"action": "redeploy", "difference": paid.key}
    )
    assert done.status_code == 200 and "Deployed" in done.text and paid_default() == "false"
    took = client.post(f"/projects/{shop.id}/drift/adopt", data={"difference": nickname.key})
    assert took.status_code == 200 and "Adopted what <code>shop</code> holds" in took.text
    assert drift.check(alice, shop.id).differences == []
    gone = client.post(f"/projects/{shop.id}/drift/adopt", data={"difference": nickname.key})
    assert gone.status_code == 422 and "not in the database any more" in gone.text


def test_the_api_resolves_one_difference_either_way(alice, shop, deployed, api):  # noqa: F811
    customers, _ = deployed
    client = api(alice)
    rows("ALTER TABLE shop.orders ADD COLUMN sneaky integer")
    rows("INSERT INTO shop.orders (total, customer_id, sneaky) VALUES (1, 1, 5)")
    rows("ALTER TABLE shop.customers ALTER COLUMN nickname TYPE varchar(80)")
    listed = client.get(f"/projects/{shop.id}/drift").json
    by_line = {i["line"]: i for i in listed["items"]}
    sneaky = next(i for line, i in by_line.items() if "sneaky" in line)
    nickname = next(i for line, i in by_line.items() if "nickname" in line)
    assert sneaky["destructive"] is True and nickname["destructive"] is False
    resolve = f"/projects/{shop.id}/drift"
    dry = client.post(
        resolve, json={"resolve": "redeploy", "dry_run": True, "difference": sneaky["key"]}
    )
    assert dry.status_code == 201 and dry.json["status"] == "dry_run_ok"
    assert [s["sql"] for s in dry.json["steps"]][1:] == [
        'ALTER TABLE "orders" DROP COLUMN "sneaky"'
    ]
    refused = client.post(resolve, json={"resolve": "redeploy", "difference": sneaky["key"]})
    assert refused.status_code == 409 and refused.json["steps"][0]["affected_rows"] == 1
    adopted = client.post(resolve, json={"resolve": "adopt", "difference": nickname["key"]})
    assert adopted.status_code == 201 and adopted.json["status"] == "applied"
    assert field_named(customers.id, "nickname").field_config["max_length"] == 80
    left = client.get(resolve).json
    assert [i["line"] for i in left["items"]] == [sneaky["line"]]
    stale = client.post(resolve, json={"resolve": "adopt", "difference": nickname["key"]})
    assert stale.status_code == 409
    bad = client.post(resolve, json={"resolve": "adopt", "difference": 7})
    assert bad.status_code == 422


def test_adopting_the_whole_report_keeps_the_designs_undeployed_changes(alice, shop, deployed):  # noqa: F811
    customers, orders = deployed
    rows("ALTER TABLE shop.orders ALTER COLUMN paid SET DEFAULT true")
    rows("ALTER TABLE shop.customers ALTER COLUMN nickname TYPE varchar(80)")
    # The design's own change, not deployed: a setting the database did not touch.
    total = field_named(orders.id, "total")
    fields.update_field(alice, total.id, total.revision, {"max": "500"}, partial=True)
    adopted = drift.adopt(alice, shop.id)
    assert adopted.status == "applied"
    assert field_named(orders.id, "paid").default_value == "true"
    assert field_named(customers.id, "nickname").field_config["max_length"] == 80
    assert field_named(orders.id, "total").field_config["max"] == "500"
    assert lines(alice, shop) == []
    pending = plans.plan_for(alice, shop.id).steps
    assert any("total" in step.sql for step in pending)
