"""Reading schemas: PostgreSQL types to the four field types, CHECKs to rules, DBML strings."""

import pytest

from designer.design.expressions import sql_expression
from designer.design.structure import field_names
from designer.interchange import import_expressions as expressions
from designer.interchange.export_formats import dbml_string
from designer.interchange.import_dbml import read_dbml
from designer.interchange.import_plan import plan_import
from designer.interchange.import_source import merged_order
from designer.interchange.import_sql import read_sql
from designer.interchange.import_types import map_type
from designer.interchange.import_types import parse_formatted


@pytest.mark.parametrize(
    ("name", "modifiers", "data_type", "settings", "kind"),
    [
        ("int4", [], "number", {"number_type": "integer"}, None),
        ("int8", [], "number", {"number_type": "bigint"}, None),
        ("int2", [], "number", {"number_type": "smallint"}, None),
        ("smallserial", [], "number", {"number_type": "smallint"}, None),
        (
            "numeric",
            [10, 2],
            "number",
            {"number_type": "decimal", "precision": 10, "scale": 2},
            None,
        ),
        ("numeric", [], "number", {"number_type": "numeric"}, None),
        ("float8", [], "number", {"number_type": "double"}, None),
        ("real", [], "number", {"number_type": "real"}, None),
        ("varchar", [20], "text", {"max_length": 20}, None),
        ("character varying", [], "text", {"text_type": "varchar"}, None),
        ("bpchar", [4], "text", {"text_type": "char", "max_length": 4}, None),
        ("text", [], "text", {}, None),
        ("timestamptz", [], "date", {"date_type": "timestamptz"}, None),
        ("timestamp", [3], "date", {"date_type": "timestamp", "time_precision": 3}, None),
        ("timetz", [], "date", {"date_type": "timetz"}, None),
        ("interval", [2], "date", {"date_type": "interval", "time_precision": 2}, None),
        ("bool", [], "boolean", {}, None),
        ("uuid", [], "text", {"text_type": "uuid"}, None),
        ("jsonb", [], "text", {"text_type": "jsonb"}, None),
        ("inet", [], "text", {"text_type": "inet"}, None),
        ("bytea", [], "text", {"text_type": "bytea"}, None),
        ("nosuchword", [], "text", {}, "unrepresentable"),
    ],
)
def test_postgresql_types_map_to_exact_types_of_the_four_families(
    name, modifiers, data_type, settings, kind
):
    mapped_type, mapped_settings, problem = map_type(name, modifiers)
    assert (mapped_type, mapped_settings) == (data_type, settings)
    assert (problem[0] if problem else None) == kind


def test_an_array_keeps_its_element_type_and_dimensions():
    assert map_type("int4", [], 2) == (
        "number",
        {"number_type": "integer", "array_dimensions": 2},
        None,
    )


@pytest.mark.parametrize(
    ("named", "kept"),
    [
        ("tsvector", "tsvector"),
        ("geometry(Point, 4326)", "geometry(point, 4326)"),
        ("citext", "citext"),
    ],
)
def test_a_type_the_designer_has_no_word_for_is_kept_by_its_name(named, kept):
    assert map_type(named.split("(")[0], [], named=named) == (
        "text",
        {"text_type": "named", "named_type": kept},
        None,
    )


@pytest.mark.parametrize(
    "named",
    ["x); DROP TABLE t; --", "a.b.c", "f(1 + 1)", "int4[]", '"public"."geometry"(Point, 4326)'],
)
def test_a_type_name_the_parser_does_not_read_as_one_is_a_finding_not_sql(named):
    assert map_type("weird", [], named=named)[2][0] == "unrepresentable"


def test_an_sql_file_keeps_each_column_type_exactly():
    source = read_sql(
        "CREATE TABLE t (a smallint, b char(3), c varchar, d uuid[], e timestamp(6),"
        " f numeric, g public.geometry(Point,4326), h double precision, i int[][],"
        " j timetz(2), k bit varying(8), l tenant.thing);"
    )
    columns = {c.name: (c.data_type, c.settings) for c in source.tables["t"].columns.values()}
    assert columns == {
        "a": ("number", {"number_type": "smallint"}),
        "b": ("text", {"text_type": "char", "max_length": 3}),
        "c": ("text", {"text_type": "varchar"}),
        "d": ("text", {"text_type": "uuid", "array_dimensions": 1}),
        "e": ("date", {"date_type": "timestamp", "time_precision": 6}),
        "f": ("number", {"number_type": "numeric"}),
        "g": ("text", {"text_type": "named", "named_type": "geometry(point, 4326)"}),
        "h": ("number", {"number_type": "double"}),
        "i": ("number", {"number_type": "integer", "array_dimensions": 2}),
        "j": ("date", {"date_type": "timetz", "time_precision": 2}),
        "k": ("text", {"text_type": "named", "named_type": "bit varying(8)"}),
        "l": ("text", {}),
    }
    # public's types are an extension's (pg_dump qualifies them): named, found by the deploy
    # in the target's shared type schemas; any other schema's a deploy cannot name.
    (finding,) = source.findings
    assert "type of schema tenant" in finding.message, "a deploy names nothing outside its own"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("character varying(20)", ("character varying", [20], 0)),
        ("numeric(12,2)", ("numeric", [12, 2], 0)),
        ("timestamp(3) with time zone", ("timestamp with time zone", [3], 0)),
        ("text[]", ("text", [], 1)),
        ("integer[][]", ("integer", [], 2)),
        ("geometry(Point,4326)[]", ("geometry(Point,4326)", [], 1)),
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


@pytest.mark.parametrize("before", ["", "n text DEFAULT 'été — «ok»', ", '"Prénom" text, '])
def test_a_table_check_is_found_after_non_ascii_text_in_its_statement(before):
    """The parse tree counts bytes and pglast's objects count characters: a CHECK (or a
    PARTITION BY) after an accented letter was lost as "could not be read again"."""
    sql = (
        f"CREATE TABLE a ({before}x int, y int, CONSTRAINT c CHECK (x > y)) PARTITION BY RANGE (x);"
    )
    plan = plan_import(read_sql(sql))
    assert not [f.message for f in plan.findings if "could not be read" in f.message]
    (table,) = plan.snapshot["tables"].values()
    assert [c["name"] for c in table["structure"]["checks"].values()] == ["c"]
    assert table["structure"]["partition_by"]["method"] == "range"


def test_a_check_that_would_come_back_otherwise_as_rules_stays_one_table_check():
    """A CHECK of two terms stays one constraint with its name (as two rules it came back as
    two CHECKs); a bound of a numeric(p,s) or bigint column stays as written (as a rule it
    came back cast, total >= '0'::numeric(10,2)) unless written as a rule is deployed; a
    bound of an integer stays a rule."""
    sql = (
        "CREATE TABLE t (\n  score integer CONSTRAINT in_range CHECK (score >= 0 AND score <= 9),"
        "\n  total numeric(10,2) CONSTRAINT positive CHECK (total >= 0),"
        "\n  big bigint CHECK (big >= '1'::bigint),\n  n integer CHECK (n >= 1)\n);"
    )
    plan = plan_import(read_sql(sql))
    [table] = plan.snapshot["tables"].values()
    checks = {
        c["name"]: sql_expression(c["expression"], field_names(table))
        for c in table["structure"]["checks"].values()
    }
    assert checks == {"in_range": "score >= 0 AND score <= 9", "positive": "total >= 0"}
    configs = {f["field_name"]: f["field_config"] for f in table["fields"].values()}
    assert "min" not in configs["score"] and "min" not in configs["total"]
    assert (configs["big"]["min"], configs["n"]["min"]) == ("1", "1")
    assert not [f for f in plan.findings if "CHECK" in f.message], plan.findings


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


def test_dbml_many_to_many_is_reported_and_enums_are_kept():
    dbml = "Table a {\n id int [pk]\n s e\n}\nTable b {\n id int [pk]\n}\n"
    source = read_dbml(dbml + "Ref: a.id <> b.id\nEnum e {\n x\n y\n}\n")
    messages = [f.message for f in source.findings]
    assert "a many-to-many ref cannot be represented" in messages
    assert source.enums == {"e": ["x", "y"]}
    assert source.tables["a"].columns["s"].settings == {"text_type": "enum", "enum_name": "e"}


def test_an_interval_s_fields_are_a_finding_and_its_precision_is_kept():
    source = read_sql("CREATE TABLE t (a interval month, b interval(3), c interval day to second);")
    columns = {c.name: c.settings for c in source.tables["t"].columns.values()}
    assert columns == {
        "a": {"date_type": "interval"},
        "b": {"date_type": "interval", "time_precision": 3},
        "c": {"date_type": "interval"},
    }
    assert sorted(f.subject for f in source.findings) == ["t.a", "t.c"]


def test_a_check_over_two_columns_nested_too_deeply_to_keep_is_a_finding_not_a_stall():
    check = "a > 1 AND (" * 300 + "b < 9" + ")" * 300
    plan = plan_import(read_sql(f"CREATE TABLE t (a int, b int, CHECK ({check}));"))
    [finding] = plan.of_kind("unrepresentable")
    assert finding.message.endswith("nests too deeply to be kept")
    # No CHECK kept: the structure holds only the table's key (none, as the file has none).
    assert next(iter(plan.snapshot["tables"].values()))["structure"] == {"primary_key": []}


def test_uuidv7_is_a_default_an_import_keeps():
    source = read_sql("CREATE TABLE t (a uuid DEFAULT uuidv7(), b uuid DEFAULT gen_random_uuid());")
    columns = source.tables["t"].columns
    assert (columns["a"].default_value, columns["b"].default_value) == (
        "uuidv7()",
        "gen_random_uuid()",
    )
    assert not source.findings


def test_an_imported_tables_checks_are_each_checked_once(monkeypatch):
    """A table's items are added one at a time; the ones kept already are not checked again
    (each CHECK was parsed and deparsed again for every item after it)."""
    from collections import Counter

    from designer.design import structure

    checked = Counter()
    real = structure.stored_problem

    def counted(stored, fields):
        checked[stored] += 1
        return real(stored, fields)

    monkeypatch.setattr(structure, "stored_problem", counted)
    terms = ", ".join(f"CHECK (a + b > {n})" for n in range(8))
    plan = plan_import(read_sql(f"CREATE TABLE t (a int, b int, {terms});"))
    (table,) = plan.snapshot["tables"].values()
    assert len(table["structure"]["checks"]) == 8
    assert len(checked) == 8 and set(checked.values()) == {1}, checked
