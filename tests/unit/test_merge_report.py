"""A three-way comparison as plain data (designer/history/merge_report.py): what the API
answers for each side's changes and each conflict."""

import json

from designer.history.merge import three_way
from designer.history.merge_report import comparison_report
from tests.unit.test_merge import drop_table
from tests.unit.test_merge import edited
from tests.unit.test_merge import fid
from tests.unit.test_merge import rename
from tests.unit.test_merge import shop
from tests.unit.test_merge import tid


def test_each_change_has_its_path_verb_values_and_sentence():
    base = shop()
    ours = edited(base, rename("orders", "total", "amount"))
    theirs = edited(base, drop_table("customers"))

    report = comparison_report(three_way(base, ours, theirs))

    orders, total = tid(base, "orders"), fid(base, "orders", "total")
    assert report["ours"] == [
        {
            "path": ["tables", orders, "fields", total, "field_name"],
            "object_path": ["tables", orders, "fields", total],
            "verb": "renamed",
            "before": "total",
            "after": "amount",
            "sentence": "renamed column orders.total to amount",
        }
    ]
    dropped = next(c for c in report["theirs"] if c["path"] == ["tables", tid(base, "customers")])
    # Absent is null, and the verb says so.
    assert (dropped["verb"], dropped["after"]) == ("removed", None)
    assert dropped["before"]["table_name"] == "customers"
    assert json.loads(json.dumps(report)) == report


def test_each_conflict_has_its_id_kind_path_sentence_and_decided_side():
    base = shop()
    ours = edited(base, rename("orders", "total", "amount"))
    theirs = edited(base, rename("orders", "total", "sum"))
    comparison = three_way(base, ours, theirs)
    (conflict,) = comparison.conflicts

    undecided = comparison_report(comparison)
    decided = comparison_report(comparison, {conflict.id: "theirs"})

    (reported,) = undecided["conflicts"]
    assert (reported["id"], reported["kind"]) == (conflict.id, "changed")
    assert reported["path"] == list(conflict.path)
    assert reported["sentence"] == (
        "Both sides changed this: ours renamed column orders.total to amount; "
        "theirs renamed column orders.total to sum."
    )
    assert [c["after"] for c in reported["ours"] + reported["theirs"]] == ["amount", "sum"]
    assert (reported["decided"], undecided["undecided"]) == (None, [conflict.id])
    assert (decided["conflicts"][0]["decided"], decided["undecided"]) == ("theirs", [])
