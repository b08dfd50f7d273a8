"""Snapshot diffs: operations, their order, replaying them, and the words for them."""

import copy
import itertools

import pytest
from hypothesis import given
from hypothesis import reject
from hypothesis import strategies as st

from designer.design.field_types import clean_field
from designer.errors import ValidationFailed
from designer.history.diff import OP_ORDER
from designer.history.diff import apply_changes
from designer.history.diff import describe
from designer.history.diff import diff
from designer.history.diff import empty_snapshot
from designer.history.diff import summarize
from designer.history.diff import summary_text
from designer.history.snapshot import snapshot_hash


def field(field_id, field_name, sort_order=1, **attrs):
    return {
        "id": field_id,
        "name": field_name.title(),
        "field_name": field_name,
        "data_type": "text",
        "is_required": False,
        "default_value": None,
        "field_config": {},
        "sort_order": sort_order,
        **attrs,
    }


def table(table_id, table_name, *fields, **attrs):
    return {
        "id": table_id,
        "name": table_name.title(),
        "table_name": table_name,
        "description": "",
        "status": "draft",
        "fields": {f["id"]: f for f in fields},
        **attrs,
    }


def relationship(rel_id, name, source, target, **attrs):
    return {
        "id": rel_id,
        "relationship_name": name,
        "relationship_type": "one_to_many",
        "source_table_id": source,
        "source_field_id": None,
        "target_table_id": target,
        "target_field_id": None,
        "cascade_config": {"on_delete": "cascade", "on_update": "no_action"},
        "status": "draft",
        **attrs,
    }


def snapshot(tables=(), relationships=()):
    return {
        "format": 1,
        "tables": {t["id"]: t for t in tables},
        "relationships": {r["id"]: r for r in relationships},
    }


def shop():
    customers = table("t-cust", "customers", field("f-cid", "id", 1), field("f-email", "email", 2))
    orders = table("t-ord", "orders", field("f-oid", "id", 1), field("f-total", "total", 2))
    fkey = relationship("r-1", "orders_customer_fkey", "t-ord", "t-cust")
    return snapshot([customers, orders], [fkey])


def ops(changes):
    return [change["op"] for change in changes]


def test_identical_snapshots_give_no_changes():
    assert diff(shop(), shop()) == []
    assert diff(None, None) == []
    assert diff(None, empty_snapshot()) == []


def test_added_table_is_one_add_table_followed_by_its_fields_in_sort_order():
    old = shop()
    new = copy.deepcopy(old)
    new["tables"]["t-new"] = table("t-new", "invoices", field("f-a", "a", 2), field("f-b", "b", 1))
    changes = diff(old, new)
    assert ops(changes) == ["add_table", "add_field", "add_field"]
    assert "fields" not in changes[0]["after"]
    assert changes[0]["after"]["table_name"] == "invoices"
    assert [c["field_id"] for c in changes[1:]] == ["f-b", "f-a"]
    assert apply_changes(old, changes) == new


def test_dropped_table_is_one_drop_table_carrying_its_fields():
    old = snapshot([table("t-1", "orders", field("f-1", "id"))])
    changes = diff(old, empty_snapshot())
    assert changes == [{"op": "drop_table", "table_id": "t-1", "before": old["tables"]["t-1"]}]
    assert apply_changes(old, changes) == empty_snapshot()


def test_changed_table_name_is_a_rename_not_a_drop_and_add():
    old = shop()
    new = copy.deepcopy(old)
    new["tables"]["t-ord"]["table_name"] = "purchases"
    assert diff(old, new) == [
        {"op": "rename_table", "table_id": "t-ord", "before": "orders", "after": "purchases"}
    ]


def test_changed_field_name_is_a_rename_not_a_drop_and_add():
    old = shop()
    new = copy.deepcopy(old)
    new["tables"]["t-cust"]["fields"]["f-email"]["field_name"] = "contact_email"
    assert diff(old, new) == [
        {
            "op": "rename_field",
            "table_id": "t-cust",
            "field_id": "f-email",
            "before": "email",
            "after": "contact_email",
        }
    ]


def test_changed_field_type_is_an_alter_with_before_and_after():
    old = shop()
    new = copy.deepcopy(old)
    new["tables"]["t-ord"]["fields"]["f-total"]["data_type"] = "number"
    [change] = diff(old, new)
    assert change["op"] == "alter_field"
    assert change["changes"] == {"data_type": {"before": "text", "after": "number"}}


def test_field_config_is_compared_as_a_whole_value():
    old = shop()
    new = copy.deepcopy(old)
    new["tables"]["t-ord"]["fields"]["f-total"]["field_config"] = {"max_length": 20}
    [change] = diff(old, new)
    assert change["changes"] == {"field_config": {"before": {}, "after": {"max_length": 20}}}


def test_field_renamed_and_altered_gives_rename_then_alter():
    old = shop()
    new = copy.deepcopy(old)
    total = new["tables"]["t-ord"]["fields"]["f-total"]
    total.update(field_name="amount", is_required=True)
    changes = diff(old, new)
    assert ops(changes) == ["rename_field", "alter_field"]
    assert changes[1]["changes"] == {"is_required": {"before": False, "after": True}}
    assert apply_changes(old, changes) == new


def test_table_attributes_other_than_table_name_are_alter_table():
    old = shop()
    new = copy.deepcopy(old)
    new["tables"]["t-ord"].update(status="active", description="What people bought")
    [change] = diff(old, new)
    assert change["op"] == "alter_table"
    assert set(change["changes"]) == {"status", "description"}


def test_relationship_add_drop_and_alter():
    old = shop()
    new = copy.deepcopy(old)
    new["relationships"]["r-1"]["cascade_config"] = {"on_delete": "restrict"}
    new["relationships"]["r-2"] = relationship("r-2", "orders_self_fkey", "t-ord", "t-ord")
    assert ops(diff(old, new)) == ["add_relationship", "alter_relationship"]
    del new["relationships"]["r-1"]
    changes = diff(old, new)
    assert ops(changes) == ["drop_relationship", "add_relationship"]
    assert changes[0]["before"] == old["relationships"]["r-1"]
    assert apply_changes(old, changes) == new


def test_drops_run_relationships_then_fields_then_tables():
    old = shop()
    new = copy.deepcopy(old)
    del new["relationships"]["r-1"]
    del new["tables"]["t-ord"]["fields"]["f-total"]
    del new["tables"]["t-cust"]
    assert ops(diff(old, new)) == ["drop_relationship", "drop_field", "drop_table"]


def test_relationship_is_added_after_the_fields_it_needs():
    old = shop()
    new = copy.deepcopy(old)
    new["tables"]["t-ord"]["fields"]["f-cust"] = field("f-cust", "customer_id", 3)
    new["tables"]["t-inv"] = table("t-inv", "invoices", field("f-inv", "id"))
    new["relationships"]["r-2"] = relationship(
        "r-2", "orders_cust_fkey", "t-ord", "t-cust", source_field_id="f-cust"
    )
    assert ops(diff(old, new)) == ["add_table", "add_field", "add_field", "add_relationship"]


def test_groups_are_sorted_by_name_then_id():
    old = snapshot()
    new = snapshot([table("t-2", "b"), table("t-3", "a"), table("t-1", "b")])
    assert [c["table_id"] for c in diff(old, new)] == ["t-3", "t-1", "t-2"]


def test_attribute_missing_on_one_side_stays_missing_after_apply():
    old = shop()
    new = copy.deepcopy(old)
    del new["tables"]["t-ord"]["description"]
    new["tables"]["t-ord"]["fields"]["f-total"]["precision"] = 2
    del new["tables"]["t-ord"]["fields"]["f-total"]["default_value"]
    changes = diff(old, new)
    assert changes[0]["changes"] == {"description": {"before": ""}}
    assert apply_changes(old, changes) == new


def test_changes_to_kept_objects_sort_by_their_new_names():
    old = snapshot(
        [table(f"t-{i}", name) for i, name in enumerate("edcba")],
        [relationship(f"r-{i}", name, "t-0", "t-1") for i, name in enumerate("edcba")],
    )
    new = copy.deepcopy(old)
    for tid, name in zip(sorted(new["tables"]), "vxwzy", strict=True):
        new["tables"][tid].update(table_name=name, status="active")
    for rid, name in zip(sorted(new["relationships"]), "vxwzy", strict=True):
        new["relationships"][rid]["relationship_name"] = name
    changes = diff(old, new)
    expected = ["t-0", "t-2", "t-1", "t-4", "t-3"]
    assert [c["table_id"] for c in changes if c["op"] == "rename_table"] == expected
    assert [c["table_id"] for c in changes if c["op"] == "alter_table"] == expected
    expected = ["r-0", "r-2", "r-1", "r-4", "r-3"]
    assert [c["relationship_id"] for c in changes if c["op"] == "alter_relationship"] == expected


def reversed_order(value):
    """The same snapshot with every dict built in reverse insertion order."""
    if isinstance(value, dict):
        return {key: reversed_order(value[key]) for key in reversed(list(value))}
    return value


def test_dict_insertion_order_does_not_change_the_diff():
    old = shop()
    new = copy.deepcopy(old)
    new["tables"]["t-ord"]["fields"]["f-a"] = field("f-a", "a", 3)
    new["tables"]["t-ord"]["fields"]["f-b"] = field("f-b", "b", 3)
    new["tables"]["t-x"] = table("t-x", "x", field("f-x1", "x1"), field("f-x2", "x2"))
    del new["tables"]["t-cust"]
    assert diff(old, new) == diff(reversed_order(old), reversed_order(new))


def test_none_is_the_empty_schema_on_either_side():
    assert apply_changes(None, diff(None, shop())) == shop()
    assert apply_changes(shop(), diff(shop(), None)) == empty_snapshot()


def test_apply_changes_leaves_its_input_alone():
    old = shop()
    apply_changes(old, diff(old, None))
    assert old == shop()


def test_summary_counts_new_table_fields_as_part_of_the_table():
    old = shop()
    new = copy.deepcopy(old)
    new["tables"]["t-new"] = table("t-new", "invoices", field("f-1", "id"), field("f-2", "n"))
    new["tables"]["t-ord"]["fields"]["f-total"].update(field_name="amount", data_type="number")
    new["tables"]["t-cust"]["fields"]["f-email"]["is_required"] = True
    del new["relationships"]["r-1"]
    assert summarize(diff(old, new)) == {
        "tables": {"added": 1, "changed": 0, "dropped": 0},
        "fields": {"added": 0, "changed": 2, "dropped": 0},
        "relationships": {"added": 0, "changed": 0, "dropped": 1},
    }
    assert summary_text(diff(old, new)) == "+1 table, ~2 fields, \N{MINUS SIGN}1 relationship"


def test_summary_does_not_count_fields_of_a_dropped_table():
    counts = summarize(diff(shop(), None))
    assert counts["tables"]["dropped"] == 2
    assert counts["fields"]["dropped"] == 0
    assert (
        summary_text(diff(shop(), None)) == "\N{MINUS SIGN}2 tables, \N{MINUS SIGN}1 relationship"
    )


def test_summary_text_of_no_changes():
    assert summary_text([]) == "no changes"


def test_describe_names_objects_from_the_snapshot():
    old = shop()
    new = copy.deepcopy(old)
    new["tables"]["t-cust"]["fields"]["f-email"]["field_name"] = "contact_email"
    new["tables"]["t-ord"]["fields"]["f-total"]["data_type"] = "number"
    new["tables"]["t-inv"] = table("t-inv", "invoices")
    descriptions = [describe(change, new) for change in diff(old, new)]
    assert descriptions == [
        "added table invoices",
        "renamed column customers.email to contact_email",
        "changed column orders.total: data type text → number",
    ]


def test_describe_words_every_kind_of_change():
    old = shop()
    new = copy.deepcopy(old)
    del new["tables"]["t-cust"]["fields"]["f-email"]
    new["tables"]["t-ord"]["table_name"] = "purchases"
    new["tables"]["t-ord"]["description"] = "café orders"
    new["relationships"]["r-1"]["relationship_name"] = "purchases_customer_fkey"
    new["relationships"]["r-1"]["cascade_config"] = {"on_delete": "restrict"}
    new["relationships"]["r-2"] = relationship("r-2", "self_ref", "t-ord", "t-ord")
    new["tables"]["t-inv"] = table("t-inv", "invoices", field("f-n", "number"))
    changes = diff(old, new)
    described = [describe(c, old if c["op"].startswith("drop") else new) for c in changes]
    assert described == [
        "dropped column customers.email",
        "added table invoices",
        "added column invoices.number",
        "renamed table orders to purchases",
        "changed table purchases: description set to café orders",
        "added relationship self_ref",
        "changed relationship purchases_customer_fkey: on delete cascade → restrict; "
        "relationship name orders_customer_fkey → purchases_customer_fkey",
    ]
    dropped = {
        "op": "drop_relationship",
        "relationship_id": "r-1",
        "before": old["relationships"]["r-1"],
    }
    assert describe(dropped) == "dropped relationship orders_customer_fkey"
    assert describe({"op": "alter_relationship", "relationship_id": "r-9", "changes": {}}) == (
        "changed relationship r-9: "
    )


def test_summary_counts_each_changed_field_of_a_table():
    old = shop()
    new = copy.deepcopy(old)
    new["tables"]["t-ord"]["fields"]["f-total"]["data_type"] = "number"
    new["tables"]["t-ord"]["fields"]["f-oid"]["is_required"] = True
    new["tables"]["t-cust"]["fields"]["f-email"]["field_name"] = "mail"
    assert summarize(diff(old, new))["fields"] == {"added": 0, "changed": 3, "dropped": 0}
    assert summary_text(diff(old, new)) == "~3 fields"


def test_describe_takes_an_added_objects_name_from_the_op_itself():
    added = {"op": "add_table", "table_id": "t-9", "after": table("t-9", "refunds")}
    assert describe(added) == "added table refunds"


def test_describe_words_settings_it_has_no_label_for_and_values_that_are_not_settings():
    change = {"op": "alter_field", "table_id": "t-ord", "field_id": "f-total", "changes": {}}
    change["changes"]["field_config"] = {
        "before": {"unique": True, "zeta": 1, "alpha": "a"},
        "after": {"unique": True, "zeta": 2},
    }
    assert describe(change, shop()) == "changed column orders.total: alpha removed; zeta 1 → 2"
    change["changes"]["field_config"] = {"before": {"unique": True}, "after": "x" * 100}
    described = describe(change, shop())
    assert described.startswith("changed column orders.total: field config {'unique': True} → x")
    assert described.endswith("…") and len(described) < 200


def test_summary_counts_each_changed_relationship():
    old = shop()
    old["relationships"]["r-2"] = relationship("r-2", "second_fkey", "t-cust", "t-ord")
    new = copy.deepcopy(old)
    for rel in new["relationships"].values():
        rel["cascade_config"] = {"on_delete": "restrict"}
    assert summarize(diff(old, new))["relationships"] == {"added": 0, "changed": 2, "dropped": 0}


def test_a_dropped_field_op_carries_the_field_as_it_was():
    old = shop()
    new = copy.deepcopy(old)
    del new["tables"]["t-ord"]["fields"]["f-total"]
    assert diff(old, new) == [
        {"op": "drop_field", "table_id": "t-ord", "field_id": "f-total",
         "before": old["tables"]["t-ord"]["fields"]["f-total"]},
    ]  # fmt: skip


def test_an_applied_snapshot_shares_nothing_with_the_changes():
    old = shop()
    new = copy.deepcopy(old)
    new["tables"]["t-ord"]["fields"]["f-total"]["field_config"] = {"unique": True}
    new["tables"]["t-inv"] = table("t-inv", "invoices", field("f-n", "n", field_config={"a": 1}))
    changes = diff(old, new)
    kept = copy.deepcopy(changes)
    applied = apply_changes(old, changes)
    applied["tables"]["t-ord"]["fields"]["f-total"]["field_config"]["unique"] = False
    applied["tables"]["t-inv"]["fields"]["f-n"]["field_config"]["a"] = 2
    assert changes == kept


def test_summary_counts_the_fields_of_a_dropped_table_in_the_table():
    dropped = {"op": "drop_table", "table_id": "t-1", "before": {}}
    field_gone = {"op": "drop_field", "table_id": "t-1", "field_id": "f-1", "before": {}}
    assert summarize([dropped, field_gone])["fields"]["dropped"] == 0


def test_applying_an_unknown_operation_is_refused():
    with pytest.raises(ValueError, match="Unknown change operation 'merge_table'"):
        apply_changes(shop(), [{"op": "merge_table", "table_id": "t-ord"}])


def test_describe_falls_back_to_ids_without_a_snapshot():
    change = {"op": "alter_field", "table_id": "t-1", "field_id": "f-1", "changes": {}}
    change["changes"]["is_required"] = {"before": False, "after": True}
    assert describe(change) == "changed column t-1.f-1: now required"


def test_describe_cuts_long_values():
    change = {"op": "alter_table", "table_id": "t-1", "changes": {}}
    change["changes"]["description"] = {"before": "", "after": "word " * 30}
    text = describe(change, shop())
    assert text.startswith("changed table t-1: description set to word word")
    assert text.endswith("…")
    assert len(text) < 120


def test_a_settings_change_reads_as_a_sentence():
    change = {"op": "alter_field", "table_id": "t-1", "field_id": "f-1", "changes": {}}
    change["changes"]["field_config"] = {
        "before": {"max_length": 120, "indexed": True, "pattern": "^a"},
        "after": {"max_length": 200, "unique": True, "min_length": 3},
    }
    assert describe(change) == (
        "changed column t-1.f-1: now unique; no longer indexed; max length 120 → 200;"
        " min length 3; pattern removed"
    )
    assert "{" not in describe(change)


def test_a_cascade_change_reads_as_a_sentence():
    change = {"op": "alter_relationship", "relationship_id": "r-1", "changes": {}}
    change["changes"]["cascade_config"] = {
        "before": {"on_delete": "no_action", "on_update": "no_action"},
        "after": {"on_delete": "cascade", "on_update": "no_action"},
    }
    assert describe(change).endswith(": on delete no action → cascade")


# Property tests: random snapshots, random edits; the diff must replay them exactly.
#
# Fields are drawn as a user would enter them (every type, every setting, defaults)
# and cleaned by designer.design.field_types, so their configs are the ones the app stores.
# Names come from a small pool, so edits swap, reuse and collide names all the time.

NAMES = st.sampled_from(["a", "b", "orders", "users", "line_items"])
TYPES = ["text", "number", "date", "boolean"]
CASCADE_ACTIONS = ["cascade", "restrict", "set_null", "set_default", "no_action"]
VALUES = {
    "name": st.sampled_from(["A", "Orders", "People who buy"]),
    "description": st.sampled_from(["", "notes"]),
    "status": st.sampled_from(["draft", "active", "deprecated", "deleted"]),
    "is_required": st.booleans(),
    "sort_order": st.integers(0, 3),
    "relationship_type": st.sampled_from(["one_to_many", "many_to_many"]),
    "cascade_config": st.fixed_dictionaries(
        {
            "on_delete": st.sampled_from(CASCADE_ACTIONS),
            "on_update": st.sampled_from(CASCADE_ACTIONS),
        }
    ),
}
SETTINGS_INPUT = {
    "text": {
        "max_length": st.none() | st.integers(1, 300).map(str),
        "min_length": st.none() | st.integers(0, 4).map(str),
        "pattern": st.none() | st.sampled_from([r"^[a-z]+$", r"\d{3}", ".*"]),
        "default_value": st.none() | st.sampled_from(["", "abc", "12345"]),
    },
    "number": {
        "number_type": st.sampled_from(["integer", "bigint", "decimal"]),
        "precision": st.none() | st.integers(1, 20).map(str),
        "scale": st.none() | st.integers(0, 4).map(str),
        "min": st.none() | st.sampled_from(["-5", "0", "1"]),
        "max": st.none() | st.sampled_from(["10", "1000"]),
        "default_value": st.none() | st.sampled_from(["0", "7", "-3"]),
    },
    "date": {
        "date_type": st.sampled_from(["date", "timestamp", "timestamptz", "time"]),
        "default_value": st.none() | st.sampled_from(["now()", "current_time", "2024-02-29"]),
    },
    "boolean": {"default_value": st.none() | st.sampled_from(["true", "false", "yes"])},
}
TABLE_ATTRS = ["name", "description", "status"]
FIELD_ATTRS = ["name", "is_required", "sort_order", "definition"]
RELATIONSHIP_ATTRS = ["relationship_type", "cascade_config", "status"]


class Builder:
    """Draws random tables, fields and relationships with ids that never repeat."""

    def __init__(self, data):
        self.data = data
        self.ids = itertools.count()

    def draw(self, strategy):
        return self.data.draw(strategy)

    def new_id(self, prefix):
        return f"{prefix}-{next(self.ids)}"

    def definition(self):
        """A type with its settings and default, as clean_field stores them."""
        data_type = self.draw(st.sampled_from(TYPES))
        raw = {key: self.draw(value) for key, value in SETTINGS_INPUT[data_type].items()}
        raw.update(
            name="Probe", field_name="probe", data_type=data_type,
            unique=self.draw(st.booleans()), indexed=self.draw(st.booleans()),
            description=self.draw(st.sampled_from(["", "why it exists"])),
        )  # fmt: skip
        try:
            cleaned = clean_field(raw, regex_matches=lambda value, pattern: True)
        except ValidationFailed:
            reject()
        return {k: cleaned[k] for k in ("data_type", "field_config", "default_value")}

    def field(self):
        fid = self.new_id("f")
        attrs = {attr: self.draw(VALUES[attr]) for attr in FIELD_ATTRS if attr != "definition"}
        return {"id": fid, "field_name": self.draw(NAMES), **attrs, **self.definition()}

    def table(self, table_name=None):
        tid = self.new_id("t")
        attrs = {attr: self.draw(VALUES[attr]) for attr in TABLE_ATTRS}
        fields = [self.field() for _ in range(self.draw(st.integers(0, 3)))]
        fields = {f["id"]: f for f in fields}
        table_name = table_name or self.draw(NAMES)
        return {"id": tid, "table_name": table_name, **attrs, "fields": fields}

    def relationship(self, schema):
        rid = self.new_id("r")
        source, target = (self.pick(schema["tables"]) for _ in range(2))
        return {
            "id": rid,
            "relationship_name": self.draw(NAMES),
            "relationship_type": self.draw(VALUES["relationship_type"]),
            "source_table_id": source,
            "source_field_id": self.pick(schema["tables"][source]["fields"], allow_none=True),
            "target_table_id": target,
            "target_field_id": self.pick(schema["tables"][target]["fields"], allow_none=True),
            "cascade_config": self.draw(VALUES["cascade_config"]),
            "status": self.draw(VALUES["status"]),
        }

    def pick(self, mapping, allow_none=False):
        choices = sorted(mapping) + ([None] if allow_none else [])
        return self.draw(st.sampled_from(choices))

    def two(self, mapping):
        """Two different keys of `mapping` (which has at least two)."""
        first = self.pick(mapping)
        return first, self.pick({k: v for k, v in mapping.items() if k != first})

    def snapshot(self):
        schema = snapshot([self.table() for _ in range(self.draw(st.integers(0, 4)))])
        if schema["tables"]:
            for _ in range(self.draw(st.integers(0, 3))):
                rel = self.relationship(schema)
                schema["relationships"][rel["id"]] = rel
        return schema


def drop_table(schema, tid):
    del schema["tables"][tid]
    schema["relationships"] = {
        rid: rel
        for rid, rel in schema["relationships"].items()
        if tid not in (rel["source_table_id"], rel["target_table_id"])
    }


def edit_tables(builder, schema):
    tables = schema["tables"]
    kind = builder.draw(st.sampled_from(["add", "drop", "rename", "alter", "swap", "reuse"]))
    if kind == "add" or not tables:
        new = builder.table()
        tables[new["id"]] = new
        return
    tid = builder.pick(tables)
    if kind == "drop":
        drop_table(schema, tid)
    elif kind == "reuse":
        # A new table takes the name of the one it replaces.
        name = tables[tid]["table_name"]
        drop_table(schema, tid)
        new = builder.table(table_name=name)
        tables[new["id"]] = new
    elif kind == "swap" and len(tables) > 1:
        first, second = builder.two(tables)
        names = tables[first]["table_name"], tables[second]["table_name"]
        tables[second]["table_name"], tables[first]["table_name"] = names
    elif kind == "rename":
        tables[tid]["table_name"] = builder.draw(NAMES) + "_renamed"
    else:
        attr = builder.draw(st.sampled_from(TABLE_ATTRS))
        tables[tid][attr] = builder.draw(VALUES[attr])


def edit_fields(builder, schema):
    if not schema["tables"]:
        return
    fields = schema["tables"][builder.pick(schema["tables"])]["fields"]
    kind = builder.draw(st.sampled_from(["add", "drop", "rename", "alter", "swap", "reuse"]))
    if kind == "add" or not fields:
        new = builder.field()
        fields[new["id"]] = new
        return
    fid = builder.pick(fields)
    if kind == "drop":
        del fields[fid]
    elif kind == "reuse":
        new = {**builder.field(), "field_name": fields.pop(fid)["field_name"]}
        fields[new["id"]] = new
    elif kind == "swap" and len(fields) > 1:
        first, second = builder.two(fields)
        names = fields[first]["field_name"], fields[second]["field_name"]
        fields[second]["field_name"], fields[first]["field_name"] = names
    elif kind == "rename":
        fields[fid]["field_name"] = builder.draw(NAMES) + "_renamed"
    else:
        attr = builder.draw(st.sampled_from(FIELD_ATTRS))
        if attr == "definition":  # retype, or change settings and default
            fields[fid].update(builder.definition())
        else:
            fields[fid][attr] = builder.draw(VALUES[attr])


def edit_relationships(builder, schema):
    rels = schema["relationships"]
    kind = builder.draw(st.sampled_from(["add", "drop", "alter"]))
    if (kind == "add" or not rels) and schema["tables"]:
        new = builder.relationship(schema)
        rels[new["id"]] = new
    elif rels and kind == "drop":
        del rels[builder.pick(rels)]
    elif rels:
        rid = builder.pick(rels)
        attr = builder.draw(st.sampled_from(RELATIONSHIP_ATTRS + ["relationship_name"]))
        rels[rid][attr] = builder.draw(VALUES.get(attr, NAMES))
    if len(rels) > 1 and builder.draw(st.booleans()):
        first, second = builder.two(rels)
        names = rels[first]["relationship_name"], rels[second]["relationship_name"]
        rels[second]["relationship_name"], rels[first]["relationship_name"] = names


EDITS = st.sampled_from([edit_tables, edit_fields, edit_relationships])


def renamed_ids(old, new):
    """Ids of tables and fields that exist on both sides under a different name."""
    ids = set()
    for tid in old["tables"].keys() & new["tables"].keys():
        old_table, new_table = old["tables"][tid], new["tables"][tid]
        if old_table["table_name"] != new_table["table_name"]:
            ids.add(tid)
        for fid in old_table["fields"].keys() & new_table["fields"].keys():
            if old_table["fields"][fid]["field_name"] != new_table["fields"][fid]["field_name"]:
                ids.add(fid)
    return ids


def ids_of(changes, *prefixes):
    """Ids of the objects the ops with these prefixes are about (a field op is about its field)."""
    keys = ("field_id", "table_id", "relationship_id")
    return [
        next(change[key] for key in keys if key in change)
        for change in changes
        if change["op"].startswith(prefixes)
    ]


def spec_position(change, old, new, new_tables):
    """Where the spec puts an op: its group, then drops by old names and the rest by new ones."""
    op = change["op"]
    side = old if op.startswith("drop_") else new
    if "relationship_id" in change:
        rel = side["relationships"][change["relationship_id"]]
        return (OP_ORDER.index(op), rel["relationship_name"], change["relationship_id"])
    table = side["tables"][change["table_id"]]
    table_key = (table["table_name"], change["table_id"])
    if "field_id" not in change:
        return (OP_ORDER.index(op), *table_key, "table first")
    fld = table["fields"][change["field_id"]]
    field_key = (fld["sort_order"], fld["field_name"], change["field_id"])
    if op == "add_field" and change["table_id"] in new_tables:
        return (OP_ORDER.index("add_table"), *table_key, "then its fields", *field_key)
    return (OP_ORDER.index(op), *table_key, *field_key)


# Example counts come from the hypothesis profile (tests/conftest.py): `make test-slow`
# runs a thousand of each.
@given(st.data())
def test_applying_the_diff_reproduces_the_edited_snapshot(data):
    builder = Builder(data)
    old = builder.snapshot()
    new = copy.deepcopy(old)
    for _ in range(data.draw(st.integers(0, 12))):
        data.draw(EDITS)(builder, new)

    changes = diff(old, new)

    assert apply_changes(old, changes) == new
    assert apply_changes(new, diff(new, old)) == old
    assert diff(reversed_order(old), reversed_order(new)) == changes
    renamed = renamed_ids(old, new)
    assert sorted(ids_of(changes, "rename_")) == sorted(renamed)
    assert renamed.isdisjoint(ids_of(changes, "add_", "drop_"))
    new_tables = {c["table_id"] for c in changes if c["op"] == "add_table"}
    assert changes == sorted(changes, key=lambda c: spec_position(c, old, new, new_tables))


@given(st.data())
def test_the_hash_changes_exactly_when_the_snapshot_does(data):
    builder = Builder(data)
    old = builder.snapshot()
    new = copy.deepcopy(old)
    for _ in range(data.draw(st.integers(0, 6))):
        data.draw(EDITS)(builder, new)

    assert snapshot_hash(reversed_order(old)) == snapshot_hash(old)
    assert (snapshot_hash(new) == snapshot_hash(old)) == (new == old)
    assert (diff(old, new) == []) == (new == old)


def test_a_junctions_pair_reads_as_words_never_as_field_ids():
    change = {"op": "alter_field", "table_id": "t-1", "field_id": "f-2", "changes": {}}
    change["changes"]["field_config"] = {"before": {}, "after": {"unique_with": ["f-1"]}}
    assert describe(change) == "changed column t-1.f-2: now unique as a pair"
    assert "f-1" not in describe(change)
