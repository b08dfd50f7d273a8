"""The three-way merge as a property over random edit sequences (designer/history/merge.py).

A base design is edited twice, "ours" and "theirs", by random sequences of the edits people
make: renames of tables and fields, type changes, key changes (the primary key, unique
constraints), relationships added, changed and dropped, fields and tables added and
dropped. Each edit sets properties of objects by id, so it can be replayed on another
design; an edit the design's rules refuse is left out, as the designer would refuse it.

"Touch", as the oracle here computes it from the three designs alone (not from the merge
module): a design is cut into properties (each attribute of a table, field, relationship
and structure item, a field's settings one key at a time, each object's existence), and
- both sides touch a common property when both changed it from the base to different values
  (dropping an object changes each of its properties to nothing);
- or one side dropped an object that the other side changed something inside of (added a
  field to a dropped table), or gave a property a value naming it (a new relationship to a
  dropped field, a key over it);
- or both sides gave one name to different objects of one namespace.

Then a conflict is reported exactly when the sides touch a common property; otherwise
applying ours then theirs gives what theirs then ours gives, and the merge is that design
(or, when that design breaks a rule of designs, the one conflict is "rules").

Touching is by net change, as the merge sees the sides. Where a side set a property and set
it back while the other side set it, the two orders differ (the first side's edits replayed
last undo the other's), and only "no conflict" is checked there.
"""

import copy
import json
import uuid

from hypothesis import event
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from designer.design.keys import primary_key_fields
from designer.design.snapshot_rules import check_snapshot
from designer.design.structure import without_field
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

TABLE_NAMES = ["orders", "items", "people", "notes", "tags"]
FIELD_NAMES = ["title", "amount", "code", "total", "note"]
RELATIONSHIP_NAMES = ["owns", "holds", "lists"]
ACTIONS = ["no_action", "cascade", "restrict"]
DESCRIPTIONS = ["", "Kept for seven years.", "Old."]
ITEM_KINDS = ("uniques", "checks", "indexes")


def shop():
    """Customers (each email once), their orders and the orders' items, each a relationship
    away."""
    customers = table("customers", field("email", is_required=True), field("nickname"))
    customer_id = field("customer_id", "number", True, number_type="bigint")
    orders = table(
        "orders", customer_id, field("total", "number", number_type="bigint"), field("note")
    )
    order_id = field("order_id", "number", True, number_type="bigint")
    items = table("items", order_id, field("code"))
    relationships = [link(customers, orders, customer_id), link(orders, items, order_id)]
    design = with_uuids(snapshot([customers, orders, items], relationships))
    # One email per customer: a structure one side may empty (and the merge then drop).
    customers = design["tables"][str(uuid.uuid5(uuid.NAMESPACE_OID, customers["id"]))]
    email = next(f for f, v in customers["fields"].items() if v["field_name"] == "email")
    unique = {"id": str(uuid.UUID(int=1)), "name": None, "columns": [email], "comment": None}
    customers["structure"] = {"uniques": {unique["id"]: unique}}
    check_snapshot(design)
    return design


# Made once: the helpers number their ids as they go, and every example starts alike. Kept
# as text, so that no table entry outlives the test (test_import_export looks for any).
BASE = json.dumps(shop())


class Side:
    """One side's edits, drawn against its design as it goes, kept only when valid."""

    def __init__(self, data, base, first_id, hot):
        self.data = data
        self.design = copy.deepcopy(base)
        self.edits = []
        self.next_id = first_id
        self.hot = hot
        # Every address an accepted edit changed, including those a later edit set back.
        self.written = set()

    def new_id(self):
        self.next_id += 1
        return str(uuid.UUID(int=self.next_id))

    def draw(self, strategy):
        return self.data.draw(strategy)

    def pick(self, mapping, keep=lambda key, value: True):
        keys = sorted(key for key, value in mapping.items() if keep(key, value))
        return self.draw(st.sampled_from(keys)) if keys else None

    def table(self):
        """A table id, half the time the example's hot table (both sides meet there)."""
        tables = self.design["tables"]
        if self.hot in tables and self.draw(st.booleans()):
            return self.hot
        return self.pick(tables)

    def edit(self):
        maker = self.draw(st.sampled_from(EDITS))
        try:
            made = maker(self)
        except KeyError:
            return  # nothing of the kind left to edit (no tables)
        if made is None:
            return
        tried = copy.deepcopy(self.design)
        try:
            made(tried)
            check_snapshot(tried)
        except (ValidationFailed, KeyError):
            return
        if tried == self.design:
            return  # a value set to itself: no edit at all
        self.written |= changed_addresses(properties(self.design), properties(tried))
        self.design = tried
        self.edits.append(made)


def user_field(key, value):
    return not value["field_config"].get("system")


def number_field(key, value):
    return user_field(key, value) and value["data_type"] == "number"


def tidy(tbl):
    if not tbl.get("structure", True):
        del tbl["structure"]


def rename_table(side):
    tid = side.table()
    name = side.draw(st.sampled_from(TABLE_NAMES))

    def edit(design):
        design["tables"][tid]["table_name"] = name

    return edit


def describe_table(side):
    tid = side.table()
    text = side.draw(st.sampled_from(DESCRIPTIONS))

    def edit(design):
        design["tables"][tid]["description"] = text

    return edit


def field_of(side, keep=user_field):
    tid = side.table()
    return tid, side.pick(side.design["tables"][tid]["fields"], keep)


def rename_field(side):
    tid, fid = field_of(side)
    name = side.draw(st.sampled_from(FIELD_NAMES))
    if fid is None:
        return None

    def edit(design):
        design["tables"][tid]["fields"][fid]["field_name"] = name

    return edit


# A type and its settings, each set (or removed) as a property of its own.
TYPES = {
    "text": ("text", {}),
    "number": ("number", {"number_type": "bigint"}),
    "varchar": ("text", {"text_type": "varchar", "max_length": 40}),
}
TYPE_SETTINGS = ("number_type", "text_type", "max_length")


def retype_field(side):
    tid, fid = field_of(side)
    data_type, config = TYPES[side.draw(st.sampled_from(sorted(TYPES)))]
    if fid is None:
        return None

    def edit(design):
        entry = design["tables"][tid]["fields"][fid]
        entry["data_type"] = data_type
        for key in TYPE_SETTINGS:
            if key in config:
                entry["field_config"][key] = config[key]
            else:
                entry["field_config"].pop(key, None)

    return edit


def choose_key(side):
    """The primary key: one required column, or back to the designer's id."""
    tid, fid = field_of(side)
    if fid is None or side.draw(st.booleans()):

        def unkey(design):
            tbl = design["tables"].get(tid, {})
            tbl.get("structure", {}).pop("primary_key", None)
            tidy(tbl)

        return unkey

    def edit(design):
        tbl = design["tables"][tid]
        tbl["fields"][fid]["is_required"] = True
        tbl.setdefault("structure", {})["primary_key"] = [fid]

    return edit


def add_unique(side):
    tid = side.table()
    fields = side.design["tables"][tid]["fields"]
    columns = side.draw(
        st.lists(st.sampled_from(sorted(fields)), min_size=1, max_size=2, unique=True)
    )
    item_id = side.new_id()

    def edit(design):
        tbl = design["tables"][tid]
        uniques = tbl.setdefault("structure", {}).setdefault("uniques", {})
        uniques[item_id] = {"id": item_id, "name": None, "columns": columns, "comment": None}

    return edit


def drop_unique(side):
    tid = side.pick(side.design["tables"], lambda k, t: t.get("structure", {}).get("uniques"))
    if tid is None:
        return None
    item_id = side.pick(side.design["tables"][tid]["structure"]["uniques"])

    def edit(design):
        tbl = design["tables"].get(tid, {})
        uniques = tbl.get("structure", {}).get("uniques", {})
        uniques.pop(item_id, None)
        if "uniques" in tbl.get("structure", {}) and not uniques:
            del tbl["structure"]["uniques"]
        tidy(tbl)

    return edit


def add_field(side):
    tid = side.table()
    name = side.draw(st.sampled_from(FIELD_NAMES))
    number = side.draw(st.booleans())
    entry = {
        **field(
            name, "number" if number else "text", **({"number_type": "bigint"} if number else {})
        ),
        "id": side.new_id(),
        "sort_order": 5,
    }

    def edit(design):
        design["tables"][tid]["fields"][entry["id"]] = copy.deepcopy(entry)

    return edit


def without_relationships(design, object_id):
    design["relationships"] = {
        rid: rel
        for rid, rel in design["relationships"].items()
        if object_id not in {v for v in rel.values() if isinstance(v, str)}
    }


def drop_field(side):
    """A field, with what PostgreSQL drops with it: its relationships, uniques, indexes."""
    tid, fid = field_of(side)
    if fid is None:
        return None

    def edit(design):
        tbl = design["tables"].get(tid, {"fields": {}})  # gone with its table: agreed
        tbl["fields"].pop(fid, None)
        if "structure" in tbl:
            tbl["structure"] = without_field(tbl["structure"], fid)
            tidy(tbl)
        without_relationships(design, fid)

    return edit


def add_table(side):
    name = side.draw(st.sampled_from(TABLE_NAMES))
    made = table(name, field("owner_id", "number", number_type="bigint"))
    entry = with_uuids(snapshot([made]))["tables"]
    (entry,) = entry.values()
    fresh = {old: side.new_id() for old in [entry["id"], *entry["fields"]]}
    entry = {
        **entry,
        "id": fresh[entry["id"]],
        "fields": {fresh[f]: {**v, "id": fresh[f]} for f, v in entry["fields"].items()},
    }

    def edit(design):
        design["tables"][entry["id"]] = copy.deepcopy(entry)

    return edit


def drop_table(side):
    tid = side.table()

    def edit(design):
        design["tables"].pop(tid, None)  # (the other side may have dropped it too)
        without_relationships(design, tid)

    return edit


def add_relationship(side):
    tables = side.design["tables"]
    source = side.pick(tables)
    target, foreign = field_of(side, number_field)
    if foreign is None or not primary_key_fields(tables[source]):
        return None
    rel = link(tables[source], tables[target], tables[target]["fields"][foreign])
    rel.update(id=side.new_id(), relationship_name=side.draw(st.sampled_from(RELATIONSHIP_NAMES)))

    def edit(design):
        design["relationships"][rel["id"]] = copy.deepcopy(rel)

    return edit


def drop_relationship(side):
    rid = side.pick(side.design["relationships"])
    if rid is None:
        return None

    def edit(design):
        design["relationships"].pop(rid, None)

    return edit


def change_cascade(side):
    rid = side.pick(side.design["relationships"])
    action = side.draw(st.sampled_from(ACTIONS))
    if rid is None:
        return None

    def edit(design):
        design["relationships"][rid]["cascade_config"] = {
            "on_delete": action,
            "on_update": "no_action",
        }

    return edit


# The edits the issue names (renames, type changes, keys, relationships, deletes) twice as
# often as the rest (but dropping a table, which leaves little to meet on), so that both
# sides often meet on one object.
EDITS = [
    rename_table, rename_field, retype_field, choose_key, add_relationship, change_cascade,
    drop_relationship, drop_field,
] * 2 + [drop_table, describe_table, add_unique, drop_unique, add_field, add_table]  # fmt: skip


def replayed(edits, design):
    """`edits` applied to a copy of `design`; an edit of an object that is gone does nothing
    (the side renamed a table, then dropped it: the other side had dropped it too)."""
    design = copy.deepcopy(design)
    for edit in edits:
        try:
            edit(design)
        except KeyError:
            continue
    return design


class Exists:
    """The value of an object's existence."""


EXISTS = Exists()


def properties(design):
    """{address: value} of a design, an address per property (and per object's existence)."""
    found = {}
    for tid, tbl in design["tables"].items():
        found[("tables", tid)] = EXISTS
        for attr, value in tbl.items():
            if attr not in ("fields", "structure"):
                found[("tables", tid, attr)] = value
        for key, value in tbl.get("structure", {}).items():
            if key in ITEM_KINDS:
                for item_id, item in value.items():
                    found[("tables", tid, "structure", key, item_id)] = item
            else:
                found[("tables", tid, "structure", key)] = value
        for fid, entry in tbl["fields"].items():
            found[("tables", tid, "fields", fid)] = EXISTS
            for attr, value in entry.items():
                if attr != "field_config":
                    found[("tables", tid, "fields", fid, attr)] = value
            for key, value in entry["field_config"].items():
                found[("tables", tid, "fields", fid, "field_config", key)] = value
    for rid, rel in design["relationships"].items():
        found[("relationships", rid)] = EXISTS
        for attr, value in rel.items():
            found[("relationships", rid, attr)] = value
    return found


def changed_addresses(was, now):
    return {a for a in was.keys() | now.keys() if was.get(a, None) != now.get(a, None)}


def strings(value):
    if isinstance(value, str):
        return {value}
    if isinstance(value, dict):
        return set(value) | {s for inner in value.values() for s in strings(inner)}
    if isinstance(value, list):
        return {s for inner in value for s in strings(inner)}
    return set()


NAME_ATTRS = {"table_name", "name", "relationship_name", "field_name"}


def claims(written, values):
    """{(namespace, name): object id} of the names a side gave."""
    found = {}
    for address in written:
        if address[-1] in NAME_ATTRS and address in values:
            namespace = (*address[:-2], address[-1])  # (.. container, attr), per table for fields
            found[(namespace, values[address])] = address[-2]
    return found


def common_touch(base, ours, theirs):
    """Why the two sides touch a common property ([] when they do not)."""
    was = properties(base)
    now = {"ours": properties(ours), "theirs": properties(theirs)}
    written = {side: changed_addresses(was, values) for side, values in now.items()}
    missing = object()
    reasons = [
        ("both", a)
        for a in written["ours"] & written["theirs"]
        if now["ours"].get(a, missing) != now["theirs"].get(a, missing)
    ]
    for side, other in (("ours", "theirs"), ("theirs", "ours")):
        dropped = {a[-1] for a in was if was[a] is EXISTS and a not in now[side]}
        for address in written[other]:
            if address in now[other] and dropped & (strings(now[other][address]) | set(address)):
                reasons.append(("inside or names a dropped object", address))
    named = {side: claims(written[side], now[side]) for side in now}
    for key, object_id in named["ours"].items():
        if named["theirs"].get(key, object_id) != object_id:
            reasons.append(("name", key))
    return reasons


def valid(design):
    try:
        check_snapshot(design)
    except ValidationFailed:
        return False
    return True


@settings(max_examples=500)
@given(st.data())
def test_a_conflict_is_reported_exactly_when_both_sides_touch_a_common_property(data):
    base = json.loads(BASE)
    hot = data.draw(st.sampled_from(sorted(base["tables"])))
    sides = {"ours": Side(data, base, 10**6, hot), "theirs": Side(data, base, 2 * 10**6, hot)}
    for side in sides.values():
        for _ in range(data.draw(st.integers(1, 8))):
            side.edit()
    ours, theirs = sides["ours"].design, sides["theirs"].design

    kept = copy.deepcopy((ours, theirs))
    comparison = three_way(base, ours, theirs)
    kinds = [conflict.kind for conflict in comparison.conflicts]
    event(f"conflicts: {', '.join(sorted(set(kinds))) or 'none'}")
    for conflict in comparison.conflicts:
        assert conflict_sentence(conflict, comparison)
    assert all(side_sentences(comparison, side) for side in sides if sides[side].design != base)

    assert (base, ours, theirs) == (json.loads(BASE), *kept)  # the merge copies what it changes
    touched = common_touch(base, ours, theirs)
    if touched:
        assert set(kinds) - {"rules"}, touched
        return
    assert set(kinds) <= {"rules"}
    result = None if kinds else merged(base, ours, theirs)
    was = properties(base)
    hidden = {
        name: side.written - changed_addresses(was, properties(side.design))
        for name, side in sides.items()
    }
    if hidden["ours"] & sides["theirs"].written or hidden["theirs"] & sides["ours"].written:
        # One side set a property and set it back, and the other side set it: the merge
        # sees no change of the first side's there (and takes the other's), while
        # replaying the first side's edits last would undo the other's.
        event("set back: orders not compared")
        return
    event("no common property: both orders compared")
    both = replayed(sides["theirs"].edits, ours)
    assert both == replayed(sides["ours"].edits, theirs)
    if valid(both):
        assert result == both
    else:
        assert kinds == ["rules"]
