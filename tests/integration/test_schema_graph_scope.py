"""Which tables the diagram draws: the whole schema when it is small enough, otherwise a
table's neighbourhood, nearest first and never more than the drawing limit; found by SQL
walking the relationships from the table, not by loading the schema."""

import pytest

from designer.design import relationships
from designer.design import tables
from designer.design.schema_graph import scope
from designer.models import DataTable


@pytest.fixture
def chain(alice, shop):
    """a <- b <- c <- d (a chain), and e <- a, f alone (x <- y: y holds a key to x)."""
    made = {n: tables.create_table(alice, shop.id, n.upper()) for n in "abcdef"}
    for many, one in (("b", "a"), ("c", "b"), ("d", "c"), ("e", "a")):
        relationships.create_relationship(
            alice,
            shop.id,
            {"source_table_id": str(made[one].id), "target_table_id": str(made[many].id)},
        )
    return made


def drawn(chosen):
    return sorted(chosen["names"][t][0] for t in chosen["tables"])


def test_a_small_schema_is_drawn_whole_by_default(shop, chain):
    chosen = scope(shop.id, limit=10)
    assert (chosen["focus"], chosen["steps"], chosen["left_out"]) == (None, "all", 0)
    assert drawn(chosen) == list("abcdef") and chosen["total"] == 6


def test_a_schema_over_the_limit_starts_at_its_best_connected_table(shop, chain):
    chosen = scope(shop.id, limit=4)
    # a, b and c have two neighbours each; a comes first.
    assert chosen["focus"] == str(chain["a"].id)
    assert chosen["steps"] == 1
    assert drawn(chosen) == ["a", "b", "e"]


def test_asking_for_the_whole_of_a_schema_over_the_limit_gives_a_neighbourhood(shop, chain):
    chosen = scope(shop.id, focus=str(chain["c"].id), steps="all", limit=4)
    assert (chosen["focus"], chosen["steps"]) == (str(chain["c"].id), 1)
    assert drawn(chosen) == ["b", "c", "d"]


def test_steps_reach_further_along_the_links_in_both_directions(shop, chain):
    c = str(chain["c"].id)
    assert drawn(scope(shop.id, c, 1)) == ["b", "c", "d"]
    assert drawn(scope(shop.id, c, 2)) == ["a", "b", "c", "d"]
    assert drawn(scope(shop.id, c, 3)) == ["a", "b", "c", "d", "e"]


def test_a_neighbourhood_over_the_limit_keeps_the_nearest_and_counts_the_rest(shop, chain):
    chosen = scope(shop.id, str(chain["c"].id), 3, limit=3)
    assert chosen["tables"][0] == str(chain["c"].id)
    assert drawn(chosen) == ["b", "c", "d"]
    assert chosen["left_out"] == 2


def test_an_unknown_focus_or_steps_falls_back_to_the_defaults(shop, chain):
    assert scope(shop.id, focus="nope", steps=99, limit=10)["steps"] == "all"
    chosen = scope(shop.id, focus="nope", steps="x", limit=4)
    assert chosen["focus"] == str(chain["a"].id)


def test_a_table_with_no_links_is_its_own_neighbourhood(shop, chain):
    assert drawn(scope(shop.id, str(chain["f"].id), 2)) == ["f"]


def test_a_deleted_table_is_neither_drawn_nor_walked_through(shop, chain):
    DataTable.update(status="deleted").where(DataTable.id == chain["b"].id).execute()
    assert drawn(scope(shop.id, str(chain["c"].id), 3)) == ["c", "d"]


def test_an_empty_schema_draws_nothing(shop):
    chosen = scope(shop.id, steps=1)
    assert (chosen["focus"], chosen["steps"], chosen["tables"]) == (None, "all", [])
