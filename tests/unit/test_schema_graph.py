"""Which tables the diagram draws: the whole schema when it is small enough, otherwise a
table's neighbourhood, nearest first and never more than the drawing limit."""

from designer.design.schema_graph import adjacency
from designer.design.schema_graph import neighbourhood
from designer.design.schema_graph import scope


def link(many, one):
    return {"from_table": many, "to_table": one}


# a <- b <- c <- d (a chain), and e <- a, f alone.
IDS = ["a", "b", "c", "d", "e", "f"]
LINKS = [link("b", "a"), link("c", "b"), link("d", "c"), link("e", "a")]


def test_a_small_schema_is_drawn_whole_by_default():
    chosen = scope(IDS, LINKS, limit=10)
    assert chosen == {"focus": None, "steps": "all", "tables": IDS, "left_out": 0}


def test_a_schema_over_the_limit_starts_at_its_best_connected_table():
    chosen = scope(IDS, LINKS, limit=4)
    # a, b and c have two neighbours each; a comes first.
    assert chosen["focus"] == "a"
    assert chosen["steps"] == 1
    assert sorted(chosen["tables"]) == ["a", "b", "e"]


def test_asking_for_the_whole_of_a_schema_over_the_limit_gives_a_neighbourhood():
    chosen = scope(IDS, LINKS, focus="c", steps="all", limit=4)
    assert (chosen["focus"], chosen["steps"]) == ("c", 1)
    assert sorted(chosen["tables"]) == ["b", "c", "d"]


def test_steps_reach_further_along_the_links_in_both_directions():
    assert sorted(scope(IDS, LINKS, "c", 1)["tables"]) == ["b", "c", "d"]
    assert sorted(scope(IDS, LINKS, "c", 2)["tables"]) == ["a", "b", "c", "d"]
    assert sorted(scope(IDS, LINKS, "c", 3)["tables"]) == ["a", "b", "c", "d", "e"]


def test_a_neighbourhood_over_the_limit_keeps_the_nearest_and_counts_the_rest():
    drawn, left_out = neighbourhood(adjacency(LINKS), "c", 3, 3)
    assert drawn[0] == "c"
    assert sorted(drawn) == ["b", "c", "d"]
    assert left_out == 2


def test_an_unknown_focus_or_steps_falls_back_to_the_defaults():
    assert scope(IDS, LINKS, focus="nope", steps=99, limit=10)["steps"] == "all"
    chosen = scope(IDS, LINKS, focus="nope", steps="x", limit=4)
    assert chosen["focus"] == "a"


def test_a_table_with_no_links_is_its_own_neighbourhood():
    assert scope(IDS, LINKS, "f", 2)["tables"] == ["f"]


def test_an_empty_schema_draws_nothing():
    assert scope([], [], steps=1) == {"focus": None, "steps": "all", "tables": [], "left_out": 0}
