"""check_snapshot limited to what changed (table_ids, relationship_ids): a relationship is
checked when it is listed or one of its ends is, and every one when no list is given."""

import copy

import pytest

from designer.design.snapshot_rules import check_snapshot
from designer.errors import ValidationFailed
from tests.snapshots import field
from tests.snapshots import link
from tests.snapshots import snapshot
from tests.snapshots import table
from tests.snapshots import with_uuids


def broken_shop():
    """Customers and orders, whose relationship sets null a required foreign key."""
    customers = table("customers", field("email"))
    customer_id = field("customer_id", "number", True, number_type="bigint")
    orders = table("orders", customer_id)
    notes = table("notes", field("body"))
    design = with_uuids(
        snapshot([customers, orders, notes], [link(customers, orders, customer_id)])
    )
    check_snapshot(design)
    design = copy.deepcopy(design)
    rel = next(iter(design["relationships"].values()))
    rel["cascade_config"] = {"on_delete": "set_null", "on_update": "no_action"}
    return design, rel


def table_id(design, name):
    return next(i for i, t in design["tables"].items() if t["table_name"] == name)


def refusal(design, table_ids, relationship_ids):
    """What check_snapshot refuses the design for, or None when it accepts it."""
    try:
        check_snapshot(design, table_ids=table_ids, relationship_ids=relationship_ids)
    except ValidationFailed as refused:
        return refused.message
    return None


def test_a_relationship_between_unchanged_tables_not_listed_is_taken_as_stored():
    design, rel = broken_shop()
    notes_only = {table_id(design, "notes")}
    assert refusal(design, notes_only, set()) is None
    # The same design, the same tables, with the relationship listed: refused for it.
    assert "set_null" in refusal(design, notes_only, {rel["id"]})


@pytest.mark.parametrize("listed", ["relationship", "source", "target", "no list"])
def test_a_relationship_listed_or_with_an_end_listed_is_checked(listed):
    design, rel = broken_shop()
    tables = {table_id(design, "notes")}
    relationships = set()
    if listed == "relationship":
        relationships.add(rel["id"])
    elif listed == "source":
        tables.add(rel["source_table_id"])
    elif listed == "target":
        tables.add(rel["target_table_id"])
    else:
        relationships = None
    with pytest.raises(ValidationFailed, match="set_null"):
        check_snapshot(design, table_ids=tables, relationship_ids=relationships)
