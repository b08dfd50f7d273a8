"""Identifier rules on hostile and ordinary input."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from designer.design.naming import MAX_IDENTIFIER_BYTES
from designer.design.naming import generated_name
from designer.design.naming import identifier_problem
from designer.design.naming import quote_identifier
from designer.design.naming import suggest_identifier
from designer.design.naming import suggestion


@pytest.mark.parametrize(
    "value",
    ["customers", "order_lines", "_staging", "t1", "a" * 63, "created_at", "time", "position"],
)
def test_valid_identifiers_are_accepted(value):
    assert identifier_problem(value) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", "Enter a table name"),
        (None, "Enter a table name"),
        ("a" * 64, "64 bytes long"),
        ("é" * 32, "64 bytes long"),  # 32 characters, but 64 bytes
        ("Customers", "lowercase"),
        ("1st_table", "cannot start with a digit"),
        ("order lines", "space"),
        (" orders", "Remove the spaces"),
        ("orders ", "Remove the spaces"),
        ("orders\t", "Remove the spaces"),
        ('x"; DROP TABLE users; --', '“"”'),
        ("x;drop", "“;”"),
        ("a-b", "“-”"),
        ("naïve", "“ï”"),
        ("表", "“表”"),
        ("select", "reserved word"),
        ("order", "reserved word"),
        ("user", "reserved word"),
        ("left", "reserved word"),
        ("table", "reserved word"),
        ("a.b", "“.”"),
        ("a\x00b", "lowercase letters, digits and underscores"),
    ],
)
def test_invalid_identifiers_are_refused_with_a_reason(value, expected):
    problem = identifier_problem(value)
    assert problem is not None
    assert expected in problem


def test_system_columns_are_refused_as_column_names_only():
    assert "system column" in identifier_problem("ctid", "field")
    assert identifier_problem("ctid", "table") is None


def test_messages_name_the_kind_of_identifier():
    assert "column name" in identifier_problem("", "field")
    assert "schema name" in identifier_problem("", "schema")


def test_schema_names_may_not_start_with_pg():
    assert "reserved by PostgreSQL" in identifier_problem("pg_stuff", "schema")


@pytest.mark.parametrize(
    ("display", "kind", "expected"),
    [
        ("Customer Orders", "table", "customer_orders"),
        ("OrderLine", "table", "order_line"),
        ("  E-mail address ", "field", "e_mail_address"),
        ("Crème brûlée", "table", "creme_brulee"),
        ("2024 results", "table", "t_2024_results"),
        ("2nd phone", "field", "c_2nd_phone"),
        ("Order", "table", "orders"),
        ("User", "table", "users"),
        ("select", "field", "select_"),
        ("xmin", "field", "xmin_"),
        ("", "table", "new_table"),
        ("!!!", "field", "new_column"),
        ("'; DROP TABLE x; --", "table", "drop_table_x"),
    ],
)
def test_suggestions_are_snake_case(display, kind, expected):
    suggestion = suggest_identifier(display, kind)
    assert suggestion == expected
    assert identifier_problem(suggestion, kind) is None


def test_suggestions_fit_in_63_bytes():
    suggestion = suggest_identifier("Very long name " * 20)
    assert len(suggestion.encode()) <= MAX_IDENTIFIER_BYTES
    assert identifier_problem(suggestion) is None


def test_short_generated_names_are_kept_as_is():
    assert generated_name("orders", "customer_id", suffix="fkey") == "orders_customer_id_fkey"


def test_long_generated_names_fit_and_do_not_collide():
    table = "a" * 60
    first = generated_name(table, "column_one", suffix="fkey")
    second = generated_name(table, "column_two", suffix="fkey")
    assert len(first.encode()) <= MAX_IDENTIFIER_BYTES
    assert len(second.encode()) <= MAX_IDENTIFIER_BYTES
    assert first != second
    assert first.endswith("_fkey")


def test_quoting_doubles_embedded_quotes():
    assert quote_identifier('we"ird') == '"we""ird"'


LONG_NAMES = [
    "Customer loyalty programme membership tier history by version two",
    "Quarterly revenue recognition schedule adjustments for subscription contracts",
    "x" * 80,
    "Short " + "y" * 70,
]


@pytest.mark.parametrize("display", LONG_NAMES)
@pytest.mark.parametrize("kind", ["table", "field"])
def test_long_suggestions_fit_and_keep_whole_words(display, kind):
    identifier, shortened = suggestion(display, kind)
    assert shortened
    assert len(identifier.encode()) <= MAX_IDENTIFIER_BYTES
    assert identifier_problem(identifier, kind) is None
    assert suggestion(display, kind) == (identifier, True)
    words = display.lower().split()
    if len(words[0]) <= MAX_IDENTIFIER_BYTES:
        kept = identifier.split("_")
        assert kept == words[: len(kept)]


@given(st.lists(st.from_regex(r"[a-z]{1,20}", fullmatch=True), min_size=1, max_size=12))
def test_a_suggestion_is_the_longest_run_of_whole_words_that_fits(words):
    identifier, shortened = suggestion(" ".join(words), "field")
    assert len(identifier.encode()) <= MAX_IDENTIFIER_BYTES
    joined = "_".join(words)
    assert shortened == (len(joined) > MAX_IDENTIFIER_BYTES)
    if shortened:
        kept = identifier.split("_")
        assert kept == words[: len(kept)]
        # One more word would not have fit.
        assert len("_".join(words[: len(kept) + 1])) > MAX_IDENTIFIER_BYTES


def test_the_twenty_second_version_keeps_whole_words():
    display = "Customer loyalty programme membership tier history by version twenty two"
    identifier, shortened = suggestion(display)
    assert shortened
    assert identifier == "customer_loyalty_programme_membership_tier_history_by_version"


def test_short_names_are_not_marked_shortened():
    assert suggestion("Orders") == ("orders", False)


def test_only_schema_names_may_not_start_with_pg():
    assert identifier_problem("pg_stuff", "schema") == (
        "Schema names starting with “pg_” are reserved by PostgreSQL."
    )
    assert identifier_problem("pg_stats", "table") is None
    assert identifier_problem("pg_note", "field") is None


@pytest.mark.parametrize(
    ("value", "kind", "message"),
    [
        ("order-lines", "field", "A column name may use only lowercase letters, digits and "
         "underscores (not “-”)."),
        ("order lines", "table", "A table name may use only lowercase letters, digits and "
         "underscores (not space)."),
        ("a.b$c", "schema", "A schema name may use only lowercase letters, digits and "
         "underscores (not “$” “.”)."),
    ],
)  # fmt: skip
def test_a_bad_character_is_named_in_the_message(value, kind, message):
    assert identifier_problem(value, kind) == message


def test_a_reserved_word_ending_in_s_gets_an_underscore():
    assert suggest_identifier("Is", "table") == "is_"


def test_a_suggestion_cut_at_63_bytes_loses_its_trailing_underscore():
    assert suggest_identifier("a" * 62 + " b") == "a" * 62


def test_a_generated_name_of_exactly_63_bytes_is_kept():
    assert generated_name("a" * 58, suffix="fkey") == "a" * 58 + "_fkey"


def test_a_cut_generated_name_uses_all_63_bytes():
    name = generated_name("a" * 60, "column_one", suffix="fkey")
    assert len(name) == MAX_IDENTIFIER_BYTES
    assert name.startswith("a" * 49 + "_")


def test_an_uppercase_identifier_is_offered_in_lowercase():
    assert identifier_problem("Orders") == "Use lowercase letters: “orders”."
    assert identifier_problem("order-Lines") == (
        "A table name may use only lowercase letters, digits and underscores (not “-” “L”)."
    )


def test_a_serving_app_loads_the_inflector_in_the_background_once(monkeypatch):
    import threading

    from designer import web
    from designer.design import naming

    naming.inflector.cache_clear()
    monkeypatch.setattr(web, "_loading", threading.Lock())
    before = set(threading.enumerate())
    web.load_in_background()
    web.load_in_background()
    started = [t for t in threading.enumerate() if t not in before]
    assert len(started) <= 1
    for thread in started:
        thread.join(timeout=30)
    assert naming.inflector.cache_info().currsize == 1
    assert naming.singular("order_lines") == "order_line"
