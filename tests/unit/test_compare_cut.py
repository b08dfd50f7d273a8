"""A comparison cut down to the parts whose hashes differ (designer/history/compare.py) gives
exactly the changes, and the migration SQL, that the whole snapshots give (issue #27).

Designs and edits come from the DDL oracle's strategies, with more tables beside them that
the edits may leave alone: those are what the cut leaves out.
"""

import copy
import json

from hypothesis import event
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from designer.database import ddl
from designer.history import compare
from designer.history import parts
from designer.history.diff import diff
from tests import snapshots as s
from tests.integration.test_ddl_oracle import designs
from tests.integration.test_ddl_oracle import edit


@st.composite
def wide_designs_and_edits(draw):
    """(before, after): a design, with up to three more beside it (their tables' names
    made their own, or not), then one to six edits."""
    before = draw(designs())
    for n in range(draw(st.integers(0, 3))):
        more = draw(designs())
        own = draw(st.booleans())
        for table in more["tables"].values():
            if own:
                table["table_name"] = f"b{n}_{table['table_name']}"[:63]
            before["tables"][table["id"]] = table
        before["relationships"].update(more["relationships"])
        for table in before["tables"].values():  # (one enum of each id: the first design's)
            for field in table["fields"].values():
                enum_id = field["field_config"].get("enum_id")
                if enum_id is not None and enum_id not in before["enums"]:
                    field["field_config"] = {**field["field_config"], "enum_id": None}
    before["tables"] = dict(sorted(before["tables"].items()))
    before["relationships"] = dict(sorted(before["relationships"].items()))
    after = copy.deepcopy(before)
    for _ in range(draw(st.integers(1, 6))):
        edit(draw, after)
    return before, after


def stored(*snapshots):
    """(manifests, fetch) as of the snapshots' parts stored."""
    texts, manifests = {}, []
    for snapshot in snapshots:
        tree = parts.tree_of(snapshot)
        texts.update(tree.texts)
        manifests.append(parts.read_manifest(tree.manifest))
    return manifests, lambda hashes: {h: json.loads(texts[h]) for h in hashes}


def cut_comparison(before, after, side):
    (old_manifest, new_manifest), fetch = stored(before, after)
    old, new = parts.cut_between(old_manifest, new_manifest, fetch)
    old, new, named = compare.context(old, new, side)
    return old, new, compare.names_are_local(old, new, named, side)


def sql(steps):
    return [(step.sql, step.kind) for step in steps]


@settings(max_examples=150, deadline=None)
@given(wide_designs_and_edits(), st.booleans())
def test_a_cut_comparison_gives_the_changes_and_sql_of_the_whole_snapshots(pair, side_after):
    before, after = pair
    side = compare.WholeSide(after if side_after else before)
    old, new, local = cut_comparison(before, after, side)
    assert diff(old, new) == diff(before, after)
    event("names local: the cut's SQL" if local else "names not local: the whole snapshots")
    if local:
        event(f"{len(before['tables']) - len(old['tables'])} tables left out, of the old")
        expected = ddl.migration("app", before, after)
        assert sql(ddl.migration("app", old, new, diff(old, new))) == sql(expected)


def chain(count):
    """`count` tables, each with a foreign key to the one before."""
    tables = [s.table(f"table_{i:04d}", s.field("note")) for i in range(count)]
    links = []
    for source, target in zip(tables, tables[1:], strict=False):
        foreign = s.field("previous_id", "number", number_type="bigint")
        target["fields"][foreign["id"]] = foreign
        links.append(s.link(source, target, foreign))
    return s.snapshot(tables, links)


def test_a_changed_key_reads_the_tables_whose_foreign_keys_use_it_and_no_more():
    before = chain(40)
    after = copy.deepcopy(before)
    changed = sorted(after["tables"].values(), key=lambda t: t["table_name"])[20]
    key = next(f for f in changed["fields"].values() if f["field_config"].get("primary_key"))
    key["field_name"] = "code"
    old, new, local = cut_comparison(before, after, compare.WholeSide(before))
    assert local
    names = sorted(t["table_name"] for t in new["tables"].values())
    # The changed table, the tables at the other ends of its links, and the table the one
    # before holds a foreign key to (its objects' names count that key).
    assert names == ["table_0018", "table_0019", "table_0020", "table_0021"]
    assert sql(ddl.migration("app", old, new)) == sql(ddl.migration("app", before, after))


def test_a_name_another_table_could_take_compares_the_whole_snapshots():
    before = chain(5)
    after = copy.deepcopy(before)
    table = next(t for t in after["tables"].values() if t["table_name"] == "table_0003")
    table["table_name"] = "table_0000_x"  # its objects' names start as table_0000's would
    assert not cut_comparison(before, after, compare.WholeSide(before))[2]
    table["table_name"] = "orders"
    assert cut_comparison(before, after, compare.WholeSide(before))[2]
