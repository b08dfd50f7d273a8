"""Reading a table's key and a relationship's pairs from snapshots, old and new."""

from designer.design.keys import comparable_types
from designer.design.keys import primary_key_fields
from designer.design.keys import referenced_key
from designer.design.keys import relationship_pairs
from designer.history.change_words import attribute_change_words
from tests import snapshots as s


def test_an_old_table_entry_reads_as_keyed_by_the_designers_id():
    table = s.table("orders", s.field("code"))
    assert "structure" not in table
    assert primary_key_fields(table) == [s.pk_of(table)]


def test_a_chosen_key_keeps_its_order_and_an_empty_one_means_no_key():
    code, line = s.field("code"), s.field("line", "number")
    table = s.keyed_table("lines", [line, code])
    assert primary_key_fields(table) == [line["id"], code["id"]]
    table["structure"]["primary_key"] = []
    assert primary_key_fields(table) == []


def test_a_relationship_points_at_the_key_or_a_unique_key_as_a_set():
    code, line = s.field("code"), s.field("line", "number")
    email = s.field("email", unique=True)
    table = s.keyed_table("lines", [line, code], email)
    assert referenced_key(table, [code["id"], line["id"]]) == ("pkey", line["id"], code["id"])
    assert referenced_key(table, [email["id"]]) == ("unique", email["id"])
    assert referenced_key(table, [code["id"]]) is None
    assert referenced_key(table, [code["id"], code["id"]]) is None


def test_old_relationships_read_as_one_pair_and_composite_ones_as_their_pairs():
    code, line = s.field("code"), s.field("line", "number")
    lines = s.keyed_table("lines", [code, line])
    a, b = s.field("a"), s.field("b", "number")
    other = s.table("other", a, b)
    composite = s.composite_link(lines, other, [(code, a), (line, b)])
    single = s.link(other, lines, s.field("x"))
    snap = s.snapshot([lines, other], [composite, single])
    assert relationship_pairs(snap, composite) == [(code["id"], a["id"]), (line["id"], b["id"])]
    assert relationship_pairs(snap, single) == [(s.pk_of(other), single["target_field_id"])]


def test_foreign_keys_may_have_a_type_postgresql_compares_with_their_keys():
    assert comparable_types("bigint", "integer")
    assert comparable_types("varchar(20)", "text")
    assert not comparable_types("uuid", "text")
    assert not comparable_types("integer[]", "integer")
    assert not comparable_types("numeric(10,2)", "integer")


def test_a_change_of_key_reads_in_words():
    words = attribute_change_words("structure", None, {"primary_key": ["a", "b"]})
    assert words == "primary key the designer's id → 2 chosen columns"
