"""Three-way comparison and merge by id (designer/history/merge.py): what merges, what
conflicts, how a picked side decides a conflict, and the sentences for both."""

import copy
import uuid

import pytest

from designer.design.snapshot_rules import check_snapshot
from designer.errors import Conflict
from designer.errors import ValidationFailed
from designer.history.merge import merged
from designer.history.merge import three_way
from designer.history.merge_words import conflict_sentence
from designer.history.merge_words import side_sentences
from tests.snapshots import field
from tests.snapshots import link
from tests.snapshots import snapshot
from tests.snapshots import table
from tests.snapshots import with_uuids


def shop():
    customers = table("customers", field("email", is_required=True), field("nickname"))
    customer_id = field("customer_id", "number", True, number_type="bigint")
    orders = table(
        "orders", customer_id, field("total", "number", number_type="bigint"), field("note")
    )
    design = with_uuids(snapshot([customers, orders], [link(customers, orders, customer_id)]))
    check_snapshot(design)
    return design


def tid(design, table_name):
    return next(i for i, t in design["tables"].items() if t["table_name"] == table_name)


def fid(design, table_name, field_name):
    fields = design["tables"][tid(design, table_name)]["fields"]
    return next(i for i, f in fields.items() if f["field_name"] == field_name)


def column(design, table_name, field_name):
    return design["tables"][tid(design, table_name)]["fields"][fid(design, table_name, field_name)]


def edited(design, *edits):
    design = copy.deepcopy(design)
    for edit in edits:
        edit(design)
    return design


def rename(table_name, field_name, new_name):
    def edit(design):
        column(design, table_name, field_name)["field_name"] = new_name

    return edit


def retype_to_text(table_name, field_name):
    def edit(design):
        column(design, table_name, field_name).update(data_type="text", field_config={})

    return edit


def drop_table(table_name):
    def edit(design):
        gone = tid(design, table_name)
        del design["tables"][gone]
        design["relationships"] = {
            rid: rel
            for rid, rel in design["relationships"].items()
            if gone not in (rel["source_table_id"], rel["target_table_id"])
        }

    return edit


def kinds(comparison):
    return [conflict.kind for conflict in comparison.conflicts]


def test_both_sides_renaming_one_field_differently_is_a_conflict_a_picked_side_decides():
    base = shop()
    ours = edited(base, rename("orders", "total", "amount"))
    theirs = edited(base, rename("orders", "total", "sum"))

    comparison = three_way(base, ours, theirs)

    assert kinds(comparison) == ["changed"]
    (conflict,) = comparison.conflicts
    assert conflict_sentence(conflict, comparison) == (
        "Both sides changed this: ours renamed column orders.total to amount; "
        "theirs renamed column orders.total to sum."
    )
    with pytest.raises(Conflict, match="1 conflict to resolve: Both sides changed this"):
        merged(base, ours, theirs)
    assert merged(base, ours, theirs, {conflict.id: "theirs"}) == theirs
    assert merged(base, ours, theirs, {conflict.id: "ours"}) == ours


def test_a_rename_and_a_type_change_of_one_field_merge():
    base = shop()
    ours = edited(base, rename("orders", "total", "amount"))
    theirs = edited(base, retype_to_text("orders", "total"))

    comparison = three_way(base, ours, theirs)
    result = merged(base, ours, theirs)

    assert comparison.conflicts == []
    assert column(result, "orders", "amount")["data_type"] == "text"
    assert result == edited(
        base, retype_to_text("orders", "total"), rename("orders", "total", "amount")
    )
    assert side_sentences(comparison, "ours") == ["renamed column orders.total to amount"]
    assert side_sentences(comparison, "theirs") == [
        "changed column orders.total: data type number → text",
        "changed column orders.total: number type removed",
    ]


def test_a_table_dropped_on_one_side_while_the_other_changed_a_field_in_it_is_a_conflict():
    base = shop()
    ours = edited(base, drop_table("orders"))
    theirs = edited(base, rename("orders", "note", "remark"))

    comparison = three_way(base, ours, theirs)

    assert kinds(comparison) == ["deleted"]
    (conflict,) = comparison.conflicts
    assert conflict_sentence(conflict, comparison) == (
        "One side dropped what the other changed: ours dropped table orders; "
        "theirs renamed column orders.note to remark."
    )
    assert merged(base, ours, theirs, {conflict.id: "ours"}) == ours
    kept = merged(base, ours, theirs, {conflict.id: "theirs"})
    # The table stays, renamed column and all; its relationship was dropped on our side.
    assert column(kept, "orders", "remark")
    assert kept["relationships"] == {}


def test_a_relationship_changed_on_one_side_whose_table_the_other_dropped_is_a_conflict():
    base = shop()
    ours = edited(base, drop_table("customers"))
    theirs = copy.deepcopy(base)
    (rel,) = theirs["relationships"].values()
    rel["cascade_config"] = {"on_delete": "cascade", "on_update": "no_action"}

    comparison = three_way(base, ours, theirs)

    assert kinds(comparison) == ["deleted"]
    assert comparison.conflicts[0].path == ("relationships", rel["id"])


def with_relationship(design, name):
    """The design with a second relationship, from customers' key to orders.total."""
    design = copy.deepcopy(design)
    rel = stored(
        link(
            design["tables"][tid(design, "customers")],
            design["tables"][tid(design, "orders")],
            column(design, "orders", "total"),
            name=name,
        )
    )
    design["relationships"][rel["id"]] = rel
    check_snapshot(design)
    return design


def stored(entry):
    """A new entry with a UUID for an id, as a stored design has."""
    return {**entry, "id": str(uuid.uuid5(uuid.NAMESPACE_OID, entry["id"]))}


def test_a_field_dropped_on_one_side_that_a_new_relationship_uses_on_the_other_is_a_conflict():
    base = shop()
    ours = copy.deepcopy(base)
    total = fid(base, "orders", "total")
    del ours["tables"][tid(base, "orders")]["fields"][total]
    theirs = with_relationship(base, "orders_total_fkey")

    comparison = three_way(base, ours, theirs)

    assert kinds(comparison) == ["deleted"]
    assert comparison.conflicts[0].path == ("tables", tid(base, "orders"), "fields", total)
    (conflict,) = comparison.conflicts
    assert conflict_sentence(conflict, comparison) == (
        "One side dropped what the other changed: ours dropped column orders.total; "
        "theirs added relationship orders_total_fkey."
    )


def test_the_same_change_on_both_sides_is_no_conflict_and_lands_once():
    base = shop()
    ours = edited(base, rename("orders", "total", "amount"), retype_to_text("orders", "note"))
    theirs = edited(base, rename("orders", "total", "amount"))

    assert three_way(base, ours, theirs).conflicts == []
    assert merged(base, ours, theirs) == ours


def test_one_field_name_added_on_both_sides_is_a_name_clash():
    base = shop()
    ours, theirs = copy.deepcopy(base), copy.deepcopy(base)
    for side in (ours, theirs):
        added = stored(field("discount", "number", number_type="bigint"))
        side["tables"][tid(side, "orders")]["fields"][added["id"]] = added
    ours_field = fid(ours, "orders", "discount")

    comparison = three_way(base, ours, theirs)

    assert kinds(comparison) == ["name", "name"]  # its column name and its display name
    assert conflict_sentence(comparison.conflicts[0], comparison).startswith(
        "Both sides chose the column name discount: ours added column orders.discount"
    )
    with pytest.raises(Conflict, match="2 conflicts to resolve"):
        merged(base, ours, theirs)
    picked = {conflict.id: "ours" for conflict in comparison.conflicts}
    result = merged(base, ours, theirs, picked)
    assert result == ours
    assert ours_field in result["tables"][tid(base, "orders")]["fields"]


def test_two_tables_renamed_to_one_name_clash():
    base = shop()
    ours, theirs = copy.deepcopy(base), copy.deepcopy(base)
    ours["tables"][tid(base, "orders")]["table_name"] = "purchases"
    theirs["tables"][tid(base, "customers")]["table_name"] = "purchases"

    comparison = three_way(base, ours, theirs)

    assert kinds(comparison) == ["name"]
    result = merged(base, ours, theirs, {comparison.conflicts[0].id: "theirs"})
    assert result == theirs


def test_a_merge_that_breaks_a_rule_is_a_conflict_no_side_can_decide():
    base = shop()
    # Ours makes orders.total text; theirs refers to it from the customers' number key:
    # the two touch nothing in common, yet a text column cannot refer to a number key.
    ours = edited(base, retype_to_text("orders", "total"))
    theirs = with_relationship(base, "orders_total_fkey")

    comparison = three_way(base, ours, theirs)

    assert kinds(comparison) == ["rules"]
    (conflict,) = comparison.conflicts
    assert "different types" in conflict_sentence(conflict, comparison)
    with pytest.raises(Conflict, match="different types"):
        merged(base, ours, theirs)
    with pytest.raises(ValidationFailed, match="no side can be picked"):
        merged(base, ours, theirs, {conflict.id: "ours"})


def test_unknown_or_sideless_resolutions_are_refused():
    base = shop()
    ours = edited(base, rename("orders", "total", "amount"))
    theirs = edited(base, rename("orders", "total", "sum"))
    (conflict,) = three_way(base, ours, theirs).conflicts

    with pytest.raises(ValidationFailed, match="No such conflict"):
        merged(base, ours, theirs, {conflict.id: "ours", "changed:nothing": "ours"})
    with pytest.raises(ValidationFailed, match="Pick ours or theirs"):
        merged(base, ours, theirs, {conflict.id: "both"})


def test_structure_items_compare_by_id_and_group_by_object():
    base = shop()
    orders = tid(base, "orders")
    ours, theirs = copy.deepcopy(base), copy.deepcopy(base)
    pair = [fid(base, "orders", "customer_id"), fid(base, "orders", "note")]
    unique = {
        "id": "5e1f1f6e-0000-4000-8000-000000000001",
        "name": None,
        "columns": pair,
        "comment": None,
    }
    ours["tables"][orders]["structure"] = {"uniques": {unique["id"]: unique}}
    theirs["tables"][orders]["description"] = "What people bought."

    comparison = three_way(base, ours, theirs)
    result = merged(base, ours, theirs)

    assert comparison.conflicts == []
    assert result["tables"][orders]["structure"] == ours["tables"][orders]["structure"]
    assert result["tables"][orders]["description"] == "What people bought."
    grouped = comparison.by_object()
    assert set(grouped) == {
        ("tables", orders),
        ("tables", orders, "structure", "uniques", unique["id"]),
    }
    assert side_sentences(comparison, "ours") == [
        "changed table orders: unique constraint (generated name) added"
    ]


def test_a_table_left_out_by_a_picked_side_takes_what_names_it_along():
    base = shop()
    ours, theirs = copy.deepcopy(base), copy.deepcopy(base)
    ours_table = stored(table("returns"))
    ours["tables"][ours_table["id"]] = {**ours_table, "fields": ids_stored(ours_table)}
    returns = stored(table("returns", field("order_id", "number", True, number_type="bigint")))
    returns["fields"] = ids_stored(returns)
    theirs["tables"][returns["id"]] = returns
    order_id = next(f for f in returns["fields"].values() if f["field_name"] == "order_id")
    rel = stored(link(theirs["tables"][tid(base, "orders")], returns, order_id))
    theirs["relationships"][rel["id"]] = rel
    check_snapshot(ours)
    check_snapshot(theirs)

    comparison = three_way(base, ours, theirs)
    assert kinds(comparison) == ["name", "name"]  # table name and display name
    picked = {conflict.id: "ours" for conflict in comparison.conflicts}

    # Theirs' table is left out, and its relationship with it.
    assert merged(base, ours, theirs, picked) == ours


def ids_stored(tbl):
    return {(f := stored(entry))["id"]: f for entry in tbl["fields"].values()}


def test_a_relationship_both_sides_changed_apart_is_checked_though_neither_table_changed():
    """Ours lets the foreign key be set to null on delete, theirs points the relationship at
    another, required, column: each side is sound, the merge is not, and no table changed."""
    customers = table("customers", field("email"))
    customer_id = field("customer_id", "number", number_type="bigint")
    buyer_id = field("buyer_id", "number", True, number_type="bigint")
    orders = table("orders", customer_id, buyer_id)
    base = with_uuids(snapshot([customers, orders], [link(customers, orders, customer_id)]))
    check_snapshot(base)
    rel_id = next(iter(base["relationships"]))

    def set_null(design):
        design["relationships"][rel_id]["cascade_config"] = {
            "on_delete": "set_null", "on_update": "no_action"}  # fmt: skip

    def point_at_buyer(design):
        design["relationships"][rel_id]["target_field_id"] = fid(design, "orders", "buyer_id")

    ours, theirs = edited(base, set_null), edited(base, point_at_buyer)
    check_snapshot(ours)
    check_snapshot(theirs)
    compared = three_way(base, ours, theirs)
    assert [c.kind for c in compared.conflicts] == ["rules"]
    assert "set_null" in compared.conflicts[0].problem
