"""Drift's per-line pieces that need no database: names in definitions, and carrying one
adopted change into a design that moved on."""

from designer.database.drift import carried
from designer.database.repair import mentions


def test_a_definition_mentions_a_column_by_its_name_only():
    assert mentions("UNIQUE (email)", "email")
    assert mentions('CREATE INDEX x ON t USING btree ("Mixed Case")', "Mixed Case")
    assert not mentions("UNIQUE (email_2)", "email")
    assert not mentions("CHECK ((char_length(nickname) >= 2))", "nick")
    assert not mentions("UNIQUE (e)", "Mixed Case")


def test_carrying_takes_what_changed_and_keeps_the_rest():
    base = {"a": {"type": "int", "default": None}, "b": {"x": 1}, "gone": 1}
    theirs = {"a": {"type": "text", "default": None}, "b": {"x": 1}, "new": {"y": 2}}
    mine = {"a": {"type": "int", "default": "7"}, "b": {"x": 5}, "gone": 1, "mine": 3}
    assert carried(mine, base, theirs) == {
        "a": {"type": "text", "default": "7"},
        "b": {"x": 5},
        "new": {"y": 2},
        "mine": 3,
    }
    # Nothing changed: the design stays exactly as it is.
    assert carried(mine, base, base) is mine
