"""Reading schemas: PostgreSQL types to the four field types, CHECKs to rules, DBML strings."""

import pytest

from designer.database import import_expressions as expressions
from designer.database.export_formats import dbml_string
from designer.database.import_dbml import read_dbml
from designer.database.import_plan import plan_import
from designer.database.import_source import merged_order
from designer.database.import_sql import read_sql
from designer.database.import_types import map_type
from designer.database.import_types import parse_formatted
from designer.design.expressions import sql_expression
from designer.design.structure import field_names


@pytest.mark.parametrize(
    ("name", "modifiers", "data_type", "settings", "kind"),
    [
        ("int4", [], "number", {"number_type": "integer"}, None),
        ("int8", [], "number", {"number_type": "bigint"}, None),
        ("int2", [], "number", {"number_type": "integer"}, "imperfect"),
        (
            "numeric",
            [10, 2],
            "number",
            {"number_type": "decimal", "precision": 10, "scale": 2},
            None,
        ),
        (
            "numeric",
            [],
            "number",
            {"number_type": "decimal", "precision": 38, "scale": 10},
            "imperfect",
        ),
        (
            "float8",
            [],
            "number",
            {"number_type": "decimal", "precision": 38, "scale": 10},
            "imperfect",
        ),
        ("varchar", [20], "text", {"max_length": 20}, None),
        ("bpchar", [4], "text", {"max_length": 4}, "imperfect"),
        ("text", [], "text", {}, None),
        ("timestamptz", [], "date", {"date_type": "timestamptz"}, None),
        ("timestamp", [3], "date", {"date_type": "timestamp"}, "imperfect"),
        ("timetz", [], "date", {"date_type": "time"}, "imperfect"),
        ("bool", [], "boolean", {}, None),
        ("uuid", [], "text", {}, "unrepresentable"),
        ("jsonb", [], "text", {}, "unrepresentable"),
    ],
)
def test_postgresql_types_map_to_the_four_types(name, modifiers, data_type, settings, kind):
    mapped_type, mapped_settings, problem = map_type(name, modifiers)
    assert (mapped_type, mapped_settings) == (data_type, settings)
    assert (problem[0] if problem else None) == kind


def test_an_array_of_a_mapped_type_cannot_be_represented():
    assert map_type("int4", [], is_array=True)[2][0] == "unrepresentable"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("character varying(20)", ("character varying", [20], False)),
        ("numeric(12,2)", ("numeric", [12, 2], False)),
        ("timestamp(3) with time zone", ("timestamp with time zone", [3], False)),
        ("text[]", ("text", [], True)),
    ],
)
def test_formatted_types_are_read(text, expected):
    assert parse_formatted(text) == expected


@pytest.mark.parametrize(
    ("check", "rules"),
    [
        ("a >= 0", [("a", "min", "0")]),
        ("0 <= a", [("a", "min", "0")]),
        ("a BETWEEN 1 AND 9", [("a", "min", "1"), ("a", "max", "9")]),
        ("a >= 1 AND a <= 2", [("a", "min", "1"), ("a", "max", "2")]),
        ("char_length(a) >= 2", [("a", "length_min", "2")]),
        ("a ~ '^x'", [("a", "pattern", "^x")]),
        ("a IS NOT NULL", [("a", "not_null", None)]),
        ("\"a\" >= '5'::integer", [("a", "min", "5")]),
        ("a > b", None),
        ("a >= 1 OR a <= 0", None),
        ("lower(a) = a", None),
    ],
)
def test_checks_on_one_column_become_rules_and_others_do_not(check, rules):
    assert expressions.check_rules(expressions.expression(check)) == rules


def test_a_check_between_two_columns_is_kept_as_a_table_check():
    plan = plan_import(read_sql("CREATE TABLE t (\n  a int,\n  b int,\n  CHECK (a < b)\n);"))
    assert plan.of_kind("unrepresentable") == []
    [table] = plan.snapshot["tables"].values()
    [check] = table["structure"]["checks"].values()
    assert sql_expression(check["expression"], field_names(table)) == "a < b"


def test_a_check_calling_a_function_of_its_own_is_reported_with_its_line():
    sql = "CREATE TABLE t (\n  a int,\n  b int,\n  CHECK (valid(a) < b)\n);"
    [finding] = plan_import(read_sql(sql)).of_kind("unrepresentable")
    assert (finding.line, finding.message) == (
        4,
        "CHECK (valid(a) < b) is not kept: valid() is not a function a design may call.",
    )


def test_lines_count_characters_not_bytes():
    sql = "-- é è ü\nCREATE TABLE t (a int);\nCREATE VIEW v AS SELECT 1;"
    plan = plan_import(read_sql(sql))
    assert [f.line for f in plan.of_kind("unrepresentable")] == [3]


def test_names_that_break_the_rules_are_renamed_and_listed():
    plan = plan_import(read_sql('CREATE TABLE "Order" ("Select" int, "user" text, "2x" int);'))
    renames = [(r.before, r.after) for r in plan.renames]
    assert renames == [
        ("Order", "orders"),
        ("Select", "select_"),
        ("user", "user_"),
        ("2x", "c_2x"),
    ]


def test_new_ids_follow_both_orders_a_table_lists_its_objects_in():
    assert merged_order(["a", "b", "c"], [["b", "c"], ["a", "c"]]) == ["a", "b", "c"]
    assert merged_order(["a", "b", "c"], [["c", "b"], ["b", "a"]]) == ["c", "b", "a"]


def test_dbml_strings_escape_quotes_backslashes_and_newlines():
    text = "it's a \\ path\nnext"
    assert dbml_string(text) == "'it\\'s a \\\\ path\\nnext'"
    read = read_dbml(f"Table t {{\n  a text [default: {dbml_string(text)}]\n}}\n")
    assert read.tables["t"].columns["a"].default_value == text
    backslashes = "\\'; \\n \\\\"
    read = read_dbml(f"Table t {{\n  a text [default: {dbml_string(backslashes)}]\n}}\n")
    assert read.tables["t"].columns["a"].default_value == backslashes


def test_dbml_many_to_many_and_enums_are_reported():
    dbml = "Table a {\n id int [pk]\n}\nTable b {\n id int [pk]\n}\n"
    source = read_dbml(dbml + "Ref: a.id <> b.id\nEnum e {\n x\n}\n")
    messages = [f.message for f in source.findings]
    assert "a many-to-many ref cannot be represented" in messages
    assert "an enum type cannot be represented" in messages


def test_a_check_over_two_columns_nested_too_deeply_to_keep_is_a_finding_not_a_stall():
    check = "a > 1 AND (" * 300 + "b < 9" + ")" * 300
    plan = plan_import(read_sql(f"CREATE TABLE t (a int, b int, CHECK ({check}));"))
    [finding] = plan.of_kind("unrepresentable")
    assert finding.message.endswith("nests too deeply to be kept")
    # No CHECK kept: the structure holds only the table's key (none, as the file has none).
    assert next(iter(plan.snapshot["tables"].values()))["structure"] == {"primary_key": []}
