"""Enum labels evolve by ADD VALUE and RENAME VALUE only: the steps a migration makes."""

import copy

import pytest

from designer.database import ddl
from designer.design.column_types import UnsafeSetting
from designer.design.enum_rules import enum_problems
from designer.design.enum_rules import paired
from designer.history.diff import apply_changes
from designer.history.diff import diff
from tests import snapshots as s

ENUM_ID = "00000000-0000-0000-0000-0000000000e1"


@pytest.mark.parametrize(
    ("before", "after", "renames", "added"),
    [
        (["a", "b"], ["a", "b", "c"], [], ["c"]),
        (["a", "b"], ["x", "a", "b"], [], ["x"]),
        (["a", "b"], ["a", "z", "b"], [], ["z"]),
        (["a", "b"], ["A", "b"], [("a", "A")], []),
        (["sad", "ok"], ["blue", "meh", "ok", "great"], [("sad", "blue")], ["meh", "great"]),
    ],
)
def test_labels_are_kept_renamed_in_place_or_added(before, after, renames, added):
    assert paired(before, after) == (renames, added)


@pytest.mark.parametrize(("before", "after"), [(["a", "b"], ["a"]), (["a", "b"], ["b", "a"])])
def test_a_label_is_never_dropped_nor_are_kept_ones_reordered(before, after):
    with pytest.raises(UnsafeSetting):
        paired(before, after)


def design(name, labels):
    field = s.field("m", "text", text_type="enum", enum_id=ENUM_ID)
    snap = s.snapshot([s.table("t", field)])
    snap["enums"] = {ENUM_ID: {"id": ENUM_ID, "name": name, "labels": labels}}
    return snap


def test_a_migration_creates_the_type_first_and_evolves_it_in_place():
    before = design("mood", ["sad", "ok"])
    created = [step.sql for step in ddl.migration("shop", None, before)]
    assert created[0] == "CREATE TYPE \"shop\".\"mood\" AS ENUM ('sad', 'ok')"
    assert '"m" "shop"."mood"' in created[1]
    after = copy.deepcopy(before)
    after["enums"][ENUM_ID].update(name="feeling", labels=["first", "blue", "new", "ok"])
    assert [step.sql for step in ddl.migration("shop", before, after)] == [
        'ALTER TYPE "shop"."mood" RENAME TO "feeling"',
        "ALTER TYPE \"shop\".\"feeling\" RENAME VALUE 'sad' TO 'first'",
        "ALTER TYPE \"shop\".\"feeling\" ADD VALUE 'blue' AFTER 'first'",
        "ALTER TYPE \"shop\".\"feeling\" ADD VALUE 'new' AFTER 'blue'",
    ]
    assert apply_changes(before, diff(before, after)) == after


def test_an_enum_no_column_uses_is_dropped_last_and_a_design_without_enums_has_no_key():
    before = design("mood", ["sad"])
    after = copy.deepcopy(before)
    del after["enums"]
    after["tables"] = {}
    steps = ddl.migration("shop", before, after)
    assert steps[-1].sql == 'DROP TYPE "shop"."mood"'
    assert apply_changes(before, diff(before, after)) == after


@pytest.mark.parametrize(
    ("name", "labels", "key"),
    [
        ("Mood", ["a"], "name"),
        ("mood", [], "labels"),
        ("mood", ["a", "a"], "labels"),
        ("mood", ["é" * 32], "labels"),
        ("mood", [""], "labels"),
        ("mood", "a", "labels"),
    ],
)
def test_an_enum_s_name_and_labels_follow_postgresql_s_rules(name, labels, key):
    assert key in enum_problems(name, labels)


def test_labels_added_at_the_front_go_before_the_first_label_there_already():
    from designer.database.enum_changes import label_additions  # noqa: PLC0415

    assert label_additions(["a", "b"], ["x", "y", "a", "b"]) == [
        ("x", "BEFORE", "a"),
        ("y", "AFTER", "x"),
    ]
