"""Relationships: keys and foreign keys, cascade rules, cycles, junction tables, dependents."""

import pytest

from designer import locks
from designer import projects
from designer.design import fields
from designer.design import relationships
from designer.design import tables
from designer.errors import Conflict
from designer.errors import ValidationFailed
from designer.models import DataField
from designer.models import DataTable
from designer.models import TableRelationship


def table(user, project, name, **fields_by_name):
    made = tables.create_table(user, project.id, name)
    for field_name, data in fields_by_name.items():
        fields.create_field(user, made.id, {"name": field_name, **data})
    return made


def link(user, project, source, target, **data):
    return relationships.create_relationship(
        user, project.id, {"source_table_id": source.id, "target_table_id": target.id, **data}
    )


def field(table_row, field_name):
    return DataField.get(DataField.data_table == table_row.id, DataField.field_name == field_name)


def test_a_new_foreign_key_field_is_created_as_source_id_bigint(alice, shop):
    customers, orders = table(alice, shop, "Customers"), table(alice, shop, "Orders")
    rel = link(alice, shop, customers, orders, on_delete="cascade")
    foreign = field(orders, "customer_id")
    assert foreign.data_type == "number"
    assert foreign.field_config["number_type"] == "bigint"
    assert rel.target_field_id == foreign.id
    assert rel.source_field_id == field(customers, "id").id
    assert rel.relationship_name == "orders_customer_id_fkey"
    assert rel.cascade_config == {"on_delete": "cascade", "on_update": "no_action"}
    columns = DataTable.get_by_id(orders.id).schema_definition["columns"]
    assert [c["field_name"] for c in columns] == ["id", "customer_id"]


def test_an_existing_compatible_field_can_be_the_foreign_key(alice, shop):
    customers = table(alice, shop, "Customers")
    orders = table(alice, shop, "Orders", Buyer={"data_type": "number", "number_type": "bigint"})
    rel = link(alice, shop, customers, orders, target_field_id=field(orders, "buyer").id)
    assert rel.target_field_id == field(orders, "buyer").id
    assert DataField.select().where(DataField.data_table == orders.id).count() == 2


def test_a_unique_field_can_be_the_key(alice, shop):
    countries = table(alice, shop, "Countries", Code={"max_length": "2", "unique": "1"})
    cities = table(alice, shop, "Cities", Country={"max_length": "2"})
    rel = link(
        alice, shop, countries, cities,
        source_field_id=field(countries, "code").id, target_field_id=field(cities, "country").id,
    )  # fmt: skip
    assert rel.source_field_id == field(countries, "code").id


def test_a_non_unique_field_cannot_be_the_key(alice, shop):
    countries = table(alice, shop, "Countries", Name={})
    cities = table(alice, shop, "Cities")
    with pytest.raises(ValidationFailed) as caught:
        link(alice, shop, countries, cities, source_field_id=field(countries, "name").id)
    assert "cannot be a key" in caught.value.fields["source_field_id"]


def test_a_type_mismatch_is_refused(alice, shop):
    customers = table(alice, shop, "Customers")
    orders = table(alice, shop, "Orders", Buyer={"data_type": "number"})
    with pytest.raises(ValidationFailed) as caught:
        link(alice, shop, customers, orders, target_field_id=field(orders, "buyer").id)
    message = caught.value.fields["target_field_id"]
    assert message == "Type mismatch: orders.buyer is integer but customers.id is bigint."
    assert TableRelationship.select().count() == 0


def test_set_null_on_a_required_foreign_key_is_refused(alice, shop):
    customers = table(alice, shop, "Customers")
    orders = table(
        alice, shop, "Orders", Buyer={"data_type": "number", "number_type": "bigint",
                                      "is_required": "1"},
    )  # fmt: skip
    with pytest.raises(ValidationFailed) as caught:
        link(alice, shop, customers, orders, target_field_id=field(orders, "buyer").id,
             on_delete="set_null")  # fmt: skip
    assert "cannot be set to null" in caught.value.fields["on_delete"]


def test_set_default_needs_a_default(alice, shop):
    customers = table(alice, shop, "Customers")
    orders = table(alice, shop, "Orders", Buyer={"data_type": "number", "number_type": "bigint"})
    with pytest.raises(ValidationFailed) as caught:
        link(alice, shop, customers, orders, target_field_id=field(orders, "buyer").id,
             on_update="set_default")  # fmt: skip
    assert "no default" in caught.value.fields["on_update"]


def test_unknown_cascade_actions_are_refused(alice, shop):
    a, b = table(alice, shop, "A"), table(alice, shop, "B")
    with pytest.raises(ValidationFailed):
        link(alice, shop, a, b, on_delete="explode")


def test_a_self_reference_is_allowed(alice, shop):
    staff = table(alice, shop, "Staff")
    rel = link(alice, shop, staff, staff, relationship_name="staff_manager_fkey")
    assert rel.source_table_id == rel.target_table_id == staff.id
    assert field(staff, "parent_id").field_config["number_type"] == "bigint"


def test_a_two_table_cycle_is_refused_and_named(alice, shop):
    a, b = table(alice, shop, "Authors"), table(alice, shop, "Books")
    link(alice, shop, a, b)
    with pytest.raises(ValidationFailed) as caught:
        link(alice, shop, b, a)
    assert caught.value.message == "This would make a cycle: authors → books → authors."


def test_a_four_table_cycle_is_refused_and_named(alice, shop):
    names = ["A", "B", "C", "D"]
    made = [table(alice, shop, name) for name in names]
    for source, target in zip(made, made[1:], strict=False):
        link(alice, shop, source, target)
    with pytest.raises(ValidationFailed) as caught:
        link(alice, shop, made[3], made[0])
    assert caught.value.message == "This would make a cycle: a → b → c → d → a."
    assert TableRelationship.select().count() == 3


def test_a_diamond_is_not_a_cycle(alice, shop):
    a, b, c, d = (table(alice, shop, name) for name in "ABCD")
    link(alice, shop, a, b)
    link(alice, shop, a, c)
    link(alice, shop, b, d)
    assert link(alice, shop, c, d)


def test_tables_of_another_project_are_refused(alice, shop):
    other = projects.create_project(alice, "Other")
    mine, theirs = table(alice, shop, "Mine"), table(alice, other, "Theirs")
    with pytest.raises(ValidationFailed) as caught:
        link(alice, shop, mine, theirs)
    assert "of this project" in caught.value.fields["target_table_id"]


def test_many_to_many_generates_a_junction_table(alice, shop):
    students, courses = table(alice, shop, "Students"), table(alice, shop, "Courses")
    link(alice, shop, students, courses, relationship_type="many_to_many")
    junction = DataTable.get(DataTable.table_name == "students_courses")
    assert [f.field_name for f in tables.ordered_fields(junction.id)] == [
        "id",
        "student_id",
        "course_id",
    ]
    links = TableRelationship.select().where(TableRelationship.target_table == junction.id)
    assert {(r.source_table_id, r.relationship_type) for r in links} == {
        (students.id, "one_to_many"),
        (courses.id, "one_to_many"),
    }
    assert all(r.cascade_config["on_delete"] == "cascade" for r in links)


def test_deleting_a_used_field_is_refused_naming_the_relationship(alice, shop):
    customers, orders = table(alice, shop, "Customers"), table(alice, shop, "Orders")
    link(alice, shop, customers, orders)
    token = locks.acquire(orders.id, alice, "critical").lock_token
    foreign = field(orders, "customer_id")
    with pytest.raises(Conflict) as caught:
        fields.delete_field(alice, foreign.id, token)
    assert "orders_customer_id_fkey" in caught.value.message
    assert DataField.get_or_none(DataField.id == foreign.id) is not None


def test_deleting_a_used_field_after_confirmation_removes_both(alice, shop):
    customers, orders = table(alice, shop, "Customers"), table(alice, shop, "Orders")
    link(alice, shop, customers, orders)
    token = locks.acquire(orders.id, alice, "critical").lock_token
    fields.delete_field(alice, field(orders, "customer_id").id, token, with_relationships=True)
    assert TableRelationship.select().count() == 0
    assert DataField.get_or_none(DataField.field_name == "customer_id") is None


def test_retyping_a_foreign_key_is_refused_until_confirmed(alice, shop):
    customers, orders = table(alice, shop, "Customers"), table(alice, shop, "Orders")
    link(alice, shop, customers, orders)
    token = locks.acquire(orders.id, alice, "critical").lock_token
    foreign = field(orders, "customer_id")
    change = {"name": "Customer", "field_name": "customer_id", "data_type": "text"}
    with pytest.raises(Conflict):
        fields.update_field(alice, foreign.id, 1, change, token)
    fields.update_field(alice, foreign.id, 1, change, token, with_relationships=True)
    assert TableRelationship.select().count() == 0


def test_a_set_null_foreign_key_must_stay_optional(alice, shop):
    customers, orders = table(alice, shop, "Customers"), table(alice, shop, "Orders")
    link(alice, shop, customers, orders, on_delete="set_null")
    foreign = field(orders, "customer_id")
    with pytest.raises(ValidationFailed) as caught:
        fields.update_field(alice, foreign.id, 1, {"is_required": True}, partial=True)
    assert "must stay optional" in caught.value.fields["is_required"]


def test_deleting_a_table_with_relationships_needs_confirmation(alice, shop):
    customers = table(alice, shop, "Customers")
    orders = table(alice, shop, "Orders", Total={"data_type": "number"})
    link(alice, shop, customers, orders)
    token = locks.acquire(orders.id, alice, "critical").lock_token
    for status in ("active", "deprecated"):
        tables.transition(alice, orders.id, status, confirm=True, lock_token=token)
    with pytest.raises(Conflict) as caught:
        tables.transition(alice, orders.id, "deleted", confirm=False, lock_token=token)
    assert "orders_customer_id_fkey" in caught.value.message
    tables.transition(alice, orders.id, "deleted", confirm=True, lock_token=token)
    # Set aside, not gone: out of every list, kept for a restore.
    assert relationships.project_relationships(shop.id) == []
    assert [r.status for r in TableRelationship.select()] == ["deleted"]


def deleted(alice, *tables_to_delete):
    for doomed in tables_to_delete:
        token = locks.acquire(doomed.id, alice, "critical").lock_token
        for status in ("active", "deprecated", "deleted"):
            tables.transition(alice, doomed.id, status, confirm=True, lock_token=token)
        locks.release(token, alice)


def test_a_restored_table_gets_its_relationships_back(alice, shop):
    customers = table(alice, shop, "Customers")
    orders = table(alice, shop, "Orders", Total={"data_type": "number"})
    rel = link(alice, shop, customers, orders, on_delete="cascade")
    deleted(alice, orders)
    assert relationships.project_relationships(shop.id) == []
    tables.transition(alice, orders.id, "draft")
    [back] = relationships.project_relationships(shop.id)
    assert (back.id, back.status, back.cascade_config["on_delete"]) == (rel.id, "draft", "cascade")
    assert field(orders, "customer_id").id == back.target_field_id


def test_a_relationship_comes_back_only_when_both_ends_are_restored(alice, shop):
    customers = table(alice, shop, "Customers", Email={"data_type": "text"})
    orders = table(alice, shop, "Orders", Total={"data_type": "number"})
    link(alice, shop, customers, orders)
    deleted(alice, orders, customers)
    tables.transition(alice, orders.id, "draft")
    assert relationships.project_relationships(shop.id) == []
    tables.transition(alice, customers.id, "draft")
    assert len(relationships.project_relationships(shop.id)) == 1


def test_a_relationship_that_would_close_a_cycle_stays_set_aside(alice, shop):
    a = table(alice, shop, "Alpha", Note={"data_type": "text"})
    b = table(alice, shop, "Beta", Note={"data_type": "text"})
    c = table(alice, shop, "Gamma", Note={"data_type": "text"})
    link(alice, shop, a, b)
    link(alice, shop, c, a)
    deleted(alice, a)
    link(alice, shop, b, c)  # a -> b -> c -> a once both come back
    tables.transition(alice, a.id, "draft")
    # One of a's two relationships comes back; the other would close the cycle.
    assert len(relationships.project_relationships(shop.id)) == 2
    aside = TableRelationship.select().where(TableRelationship.status == "deleted")
    assert aside.count() == 1


def test_relationship_edits_refuse_stale_revisions_and_bad_names(alice, shop, api):
    customers, orders = table(alice, shop, "Customers"), table(alice, shop, "Orders")
    rel = link(alice, shop, customers, orders)
    client = api(alice)
    response = client.patch(
        f"/relationships/{rel.id}", json={"on_delete": "cascade", "revision": 1}
    )
    assert response.status_code == 200
    assert response.json["cascade_config"]["on_delete"] == "cascade"
    stale = client.patch(f"/relationships/{rel.id}", json={"on_delete": "restrict", "revision": 1})
    assert stale.status_code == 412
    bad = client.patch(
        f"/relationships/{rel.id}", json={"relationship_name": "Bad Name", "revision": 2}
    )
    assert bad.status_code == 422


def test_api_creates_lists_and_deletes_relationships(alice, shop, api):
    customers, orders = table(alice, shop, "Customers"), table(alice, shop, "Orders")
    client = api(alice)
    created = client.post(
        f"/projects/{shop.id}/relationships",
        json={"source_table_id": str(customers.id), "target_table_id": str(orders.id),
              "cascade_config": {"on_delete": "restrict"}},
    )  # fmt: skip
    assert created.status_code == 201
    assert created.json["cascade_config"] == {"on_delete": "restrict", "on_update": "no_action"}
    listed = client.get(f"/projects/{shop.id}/relationships").json
    assert [r["relationship_name"] for r in listed["relationships"]] == ["orders_customer_id_fkey"]
    assert listed["next"] is None
    cycle = client.post(
        f"/projects/{shop.id}/relationships",
        json={"source_table_id": str(orders.id), "target_table_id": str(customers.id)},
    )
    assert cycle.status_code == 422
    assert "cycle" in cycle.json["error"]["message"]
    assert client.delete(f"/relationships/{created.json['id']}").status_code == 204
    assert client.get(f"/projects/{shop.id}/relationships").json["relationships"] == []


def test_the_api_lists_relationships_a_page_at_a_time_by_default(alice, shop, api):
    hub = table(alice, shop, "Hub")
    for n in range(53):
        link(alice, shop, hub, table(alice, shop, f"Spoke {n:02d}"))
    client = api(alice)
    first = client.get(f"/projects/{shop.id}/relationships").json
    assert len(first["relationships"]) == 50 and first["next"]
    rest = client.get(f"/projects/{shop.id}/relationships?after={first['next']}").json
    names = [r["relationship_name"] for r in first["relationships"] + rest["relationships"]]
    assert len(names) == len(set(names)) == 53 and rest["next"] is None
    small = client.get(f"/projects/{shop.id}/relationships?limit=2").json
    assert len(small["relationships"]) == 2
    document = client.get("/openapi.json").json
    listing = document["paths"]["/projects/{project_id}/relationships"]["get"]
    assert {p["name"] for p in listing["parameters"] if p["in"] == "query"} == {"limit", "after"}


def test_a_locked_target_refuses_other_users(alice, shop, make_user):
    bob = make_user("bob")
    projects.add_member(alice, shop.id, "bob", "editor")
    customers, orders = table(alice, shop, "Customers"), table(alice, shop, "Orders")
    locks.acquire(orders.id, alice, "pessimistic")
    from designer.errors import Locked

    with pytest.raises(Locked):
        link(bob, shop, customers, orders)


def test_the_page_form_offers_only_columns_that_can_hold_the_key(alice, shop, signed_in):
    customers = table(alice, shop, "Customers", Email={"unique": "1"})
    orders = table(alice, shop, "Orders", Note={}, Buyer={"data_type": "number",
                   "number_type": "bigint"})  # fmt: skip
    web = signed_in(alice)
    url = f"/projects/{shop.id}/relationships/form"
    chosen = {"source_table_id": str(customers.id), "target_table_id": str(orders.id)}
    by_id = web.get(url, query_string=chosen).text
    assert "email (unique)" in by_id
    assert "buyer (bigint)" in by_id and "note (text)" not in by_id
    assert 'value="customer_id"' in by_id  # the new column's suggested name
    email = field(customers, "email")
    by_email = web.get(url, query_string={**chosen, "source_field_id": str(email.id)}).text
    assert "note (text)" in by_email and "buyer (bigint)" not in by_email


def test_a_new_foreign_key_can_be_named_in_the_form(alice, shop):
    customers, orders = table(alice, shop, "Customers"), table(alice, shop, "Orders")
    rel = link(alice, shop, customers, orders, foreign_key_name="buyer_id")
    assert DataField.get_by_id(rel.target_field_id).field_name == "buyer_id"
    with pytest.raises(ValidationFailed) as caught:
        link(alice, shop, customers, orders, foreign_key_name="Buyer ID")
    assert "foreign_key_name" in caught.value.fields


def test_a_second_link_from_the_same_table_is_named_after_its_own_column(alice, shop):
    customers, orders = table(alice, shop, "Customers"), table(alice, shop, "Orders")
    first = link(alice, shop, customers, orders)
    second = link(alice, shop, customers, orders, foreign_key_name="billing_customer_id")
    third = link(alice, shop, customers, orders, foreign_key_name="shipping_customer_id")
    names = [DataField.get_by_id(r.target_field_id).name for r in (first, second, third)]
    assert names == ["Customer ID", "Billing customer ID", "Shipping customer ID"]
    # A column name already taken is still refused, and the message names that column.
    with pytest.raises(ValidationFailed) as caught:
        link(alice, shop, customers, orders, foreign_key_name="billing_customer_id")
    assert "billing_customer_id column" in caught.value.fields["foreign_key_name"]


def test_the_table_picker_offers_the_first_matching_tables_of_the_project(alice, shop, signed_in):
    for n in range(25):
        tables.create_table(alice, shop.id, f"Order line {n:02d}")
    table(alice, shop, "Customers")
    table(alice, shop, "Last orders")
    tables.delete_table(alice, table(alice, shop, "Old orders").id)
    elsewhere = projects.create_project(alice, "Elsewhere")
    tables.create_table(alice, elsewhere.id, "Order archive")
    url = f"/projects/{shop.id}/relationships/tables"
    web = signed_in(alice)
    offered = web.get(url, query_string={"target_table": "ORDER"}).text
    assert offered.count("<option") == 20
    # Names starting with what was typed come first; then the ones containing it.
    assert 'value="Order line 00"' in offered and "Last orders" not in offered
    last = web.get(url, query_string={"q": "orders"}).text
    assert 'value="Last orders"' in last and "Old orders" not in last
    assert "Order archive" not in web.get(url, query_string={"q": "archive"}).text
    assert "Customers" in web.get(url, query_string={"source_table": "custom"}).text
    # A LIKE wildcard is a letter like any other.
    assert web.get(url, query_string={"q": "%"}).text == ""


def test_the_relationship_form_holds_no_listing_of_the_tables(alice, shop, signed_in):
    for n in range(30):
        tables.create_table(alice, shop.id, f"Table {n:02d}")
    page = signed_in(alice).get(f"/projects/{shop.id}/relationships", htmx=False).text
    assert "Table 29" not in page
    assert 'list="rel-source-options"' in page and 'list="rel-target-options"' in page


def test_a_relationship_is_added_by_the_typed_table_names(alice, shop, signed_in):
    customers, orders = table(alice, shop, "Customers"), table(alice, shop, "Orders")
    web = signed_in(alice)
    form = {"source_table": "customers", "target_table": " Orders ", "target_field_id": "new",
            "relationship_type": "one_to_many"}  # fmt: skip
    response = web.post(f"/projects/{shop.id}/relationships", data=form)
    assert response.status_code == 200, response.text
    rel = TableRelationship.get(TableRelationship.project == shop.id)
    assert (rel.source_table_id, rel.target_table_id) == (customers.id, orders.id)


def test_an_unknown_table_name_is_shown_next_to_its_input(alice, shop, signed_in):
    table(alice, shop, "Customers")
    elsewhere = projects.create_project(alice, "Elsewhere")
    theirs = tables.create_table(alice, elsewhere.id, "Orders")
    web = signed_in(alice)
    form = {"source_table": "Customers", "target_table": "Orders", "target_field_id": "new"}
    refused = web.post(f"/projects/{shop.id}/relationships", data=form)
    assert refused.status_code == 422
    assert 'id="target_table_id-error"' in refused.text
    assert "No table named “Orders” in this project" in refused.text
    assert 'value="Orders"' in refused.text  # what was typed stays to be corrected
    assert TableRelationship.select().count() == 0
    # Another project's table by id is no table of this one, and never a 500.
    url = f"/projects/{shop.id}/relationships/form"
    for bad in (str(theirs.id), "not-an-id"):
        shown = web.get(url, query_string={"target_table_id": bad})
        assert shown.status_code == 200
        assert "Choose a table of this project." in shown.text
        assert "Orders" not in shown.text


def test_a_deep_link_to_the_form_names_the_chosen_table(alice, shop, signed_in):
    orders = table(alice, shop, "Orders")
    url = f"/projects/{shop.id}/relationships/form"
    shown = signed_in(alice).get(url, query_string={"target_table_id": str(orders.id)}).text
    assert 'name="target_table" value="Orders"' in shown
    assert f'name="target_table_id" value="{orders.id}"' in shown
