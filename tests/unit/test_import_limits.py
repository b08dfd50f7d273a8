"""What an import refuses before or while reading, and how it reads what it keeps: file
text, caps, parse trees too deep, pydbml's refusals, data statements, JSON strings."""

import json

import pytest
from pydbml.classes import Table

from designer.errors import TooLarge
from designer.errors import ValidationFailed
from designer.interchange import import_limits
from designer.interchange import sql_pieces
from designer.interchange.import_dbml import read_dbml
from designer.interchange.import_json import plan_json
from designer.interchange.import_plan import plan_import
from designer.interchange.import_sql import read_sql
from designer.settings import settings


def refusal(read, text):
    with pytest.raises(ValidationFailed) as caught:
        read(text)
    assert caught.value.fields["file"] in caught.value.message
    return caught.value


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"CREATE TABLE a (x int);\n\x00CREATE TABLE b ();", "NUL byte at byte offset 24 (line 2)"),
        (b"-- caf\xc3\xa9\nCREATE TABLE \xff ();", "cannot be read from byte offset 22 (line 2)"),
        (b"\xef\xbb\xbfCREATE TABLE a (x int);\x00", "NUL byte at byte offset 26 (line 1)"),
    ],
)  # fmt: skip
def test_a_file_with_a_nul_or_not_utf8_is_refused_with_the_byte_offset(data, words):
    assert words in refusal(import_limits.decoded, data).message


def test_a_bom_is_dropped_and_the_text_kept():
    assert import_limits.decoded(b"\xef\xbb\xbfCREATE TABLE a ();") == "CREATE TABLE a ();"


def test_text_with_a_nul_or_lone_surrogate_is_refused_with_the_byte_offset():
    assert "byte offset 3 (line 2)" in refusal(import_limits.encoded, "é\n\x00").message
    assert "surrogate at byte offset 2" in refusal(import_limits.encoded, "é\ud800").message


DEEP_SQL = {
    "a view of 200 nested sub-selects": "CREATE VIEW v AS "
    + "SELECT * FROM (" * 200
    + "SELECT 1"
    + ") s" * 200,
    "a CHECK nested 500 deep": "CREATE TABLE t (a int CHECK ("
    + "abs(" * 500
    + "a"
    + ")" * 500
    + " > 1));",
    "a CHECK of 500 nested ANDs": "CREATE TABLE t (a int CHECK ("
    + "a > 1 AND (" * 500
    + "a > 1"
    + ")" * 500
    + "));",
}


@pytest.mark.parametrize("text", DEEP_SQL.values(), ids=DEEP_SQL.keys())
def test_sql_nested_too_deeply_is_refused_with_its_line(text):
    message = refusal(read_sql, "CREATE TABLE ok (x int);\n" + text).message
    assert message.startswith("This file nests expressions or queries too deeply")
    assert "(line 2)" in message


def test_a_dbml_check_note_nested_400_deep_is_refused():
    note = "check: " + "abs(" * 400 + "a" + ")" * 400 + " > 1"
    message = refusal(read_dbml, f'Table t {{\n  a int [note: "{note}"]\n}}\n').message
    assert "nests expressions or queries too deeply" in message


def test_a_check_nested_300_deep_that_can_be_read_keeps_every_rule():
    check = "a > 1 AND (" * 300 + "a < 9" + ")" * 300
    column = read_sql(f"CREATE TABLE t (a int CHECK ({check}));").tables["t"].columns["a"]
    assert [rule for rule, *_ in column.checks] == ["min_exclusive"] * 300 + ["max_exclusive"]


def test_a_checks_text_in_a_later_statement_is_quoted_from_its_own_place():
    text = "CREATE TABLE é (x int);\nCREATE TABLE t (\n  a int,\n  b int,\n  CHECK (f(a) < b)\n);"
    findings = [f.as_dict() for f in plan_import(read_sql(text)).findings]
    assert {
        "kind": "unrepresentable",
        "line": 5,
        "subject": "t",
        "message": "CHECK (f(a) < b) is not kept: f() is not a function a design may call.",
    } in findings


def test_data_is_noted_with_its_table_and_line_without_reading_its_tree(monkeypatch):
    parsed = []
    real = sql_pieces.parser.parse_sql_json
    monkeypatch.setattr(
        sql_pieces.parser, "parse_sql_json", lambda text: parsed.append(text) or real(text)
    )
    rows = ",".join(f"({n}, 'row {n}')" for n in range(20_000))
    text = f'CREATE TABLE t ();\n-- rows\nINSERT INTO public."t" VALUES {rows};\nCOPY t FROM stdin;'
    found = [f.as_dict() for f in read_sql(text).findings]
    assert found == [
        {"kind": "unrepresentable", "line": 3, "subject": "t",
         "message": "data (INSERT) cannot be represented"},
        {"kind": "unrepresentable", "line": 4, "subject": "t",
         "message": "data (COPY) cannot be represented"},
    ]  # fmt: skip
    assert parsed == ["CREATE TABLE t ()"]


def test_a_function_body_of_several_statements_is_read_as_one_statement():
    text = (
        "CREATE FUNCTION f() RETURNS int LANGUAGE sql\nBEGIN ATOMIC\n  SELECT 1;\n"
        "  INSERT INTO t VALUES (1);\nEND;\nCREATE TABLE t (x int);"
    )
    source = read_sql(text)
    assert [f.message for f in source.findings] == ["a function cannot be represented"]
    assert list(source.tables) == ["t"] and source.tables["t"].line == 6


@pytest.mark.parametrize(
    "text",
    [
        "SELECT 1; oops here; CREATE TABLE t ();",
        "SELECT 1; oops",
        "oops; INSERT INTO t VALUES (1);",
    ],
)
def test_text_the_scanner_passes_over_is_still_parsed(text):
    assert refusal(read_sql, text).message.startswith("This is not SQL PostgreSQL can read")


def test_a_statement_over_a_megabyte_is_refused_but_data_is_not():
    wide = "CREATE VIEW v AS SELECT " + ", ".join(["1"] * 400_000) + ";"
    with pytest.raises(TooLarge, match="an import reads at most 1.0 MB a statement"):
        read_sql(wide)
    rows = ",".join(f"({n})" for n in range(200_000))
    assert read_sql(f"INSERT INTO t VALUES {rows};").findings[0].subject == "t"


def test_sql_that_does_not_parse_names_its_line_after_the_split():
    message = refusal(read_sql, "CREATE TABLE a (x int);\n\nCREATE TABLE b (y int,);").message
    assert message.startswith("This is not SQL PostgreSQL can read (line 3)")


def test_more_statements_or_tables_than_the_caps_are_refused_as_too_large(monkeypatch):
    monkeypatch.setattr(settings, "import_max_statements", 3)
    monkeypatch.setattr(settings, "import_max_tables", 2)
    four = "SET a = 1; SET b = 1; SET c = 1; SET d = 1;"
    with pytest.raises(TooLarge, match="4 statements: an import reads at most 3"):
        read_sql(four)
    with pytest.raises(TooLarge, match="more than 2 tables"):
        read_sql("CREATE TABLE a (); CREATE TABLE b (); CREATE TABLE c ();")
    with pytest.raises(TooLarge, match="more than 2 tables"):
        read_dbml("Table a {\n x int\n}\nTable b {\n x int\n}\ntable c {\n x int\n}\n")
    tables = {f"{n:08d}-0000-4000-8000-000000000000": {} for n in range(3)}
    with pytest.raises(TooLarge, match="more than 2 tables"):
        plan_json(json.dumps({"format": 1, "tables": tables, "relationships": {}}))


def test_reading_past_its_time_is_refused():
    with pytest.raises(ValidationFailed, match="took longer than 0 s"):
        read_sql("CREATE TABLE a (x int);", import_limits.Deadline(0))


DBML_REFUSED = {
    "a table named twice": "Table a {\n x int\n}\nTable a {\n y int\n}\n",
    "a ref to a missing table": "Table a {\n x int\n}\nRef: a.x > b.y\n",
    "a ref to a missing column": "Table a {\n x int\n}\nTable b {\n y int\n}\nRef: a.z > b.y\n",
    "a ref given twice": "Table a {\n x int\n}\nTable b {\n y int\n}\n"
    "Ref: a.x > b.y\nRef: a.x > b.y\n",
    "a table without columns": "Table a {\n}\n",
    "an enum named twice": "Enum e {\n a\n}\nEnum e {\n b\n}\n",
    "a group of a missing table": "TableGroup g {\n zz\n}\n",
    "an index on a missing column": "Table a {\n x int\n indexes {\n  (q) [unique]\n }\n}\n",
}


@pytest.mark.parametrize("text", DBML_REFUSED.values(), ids=DBML_REFUSED.keys())
def test_dbml_pydbml_cannot_make_a_database_of_is_refused(text):
    assert refusal(read_dbml, text).message.startswith("This DBML does not describe a database")


def test_adding_a_dbml_table_compares_it_with_no_other_table(monkeypatch):
    """pydbml's Database asked `table in tables`, comparing each new table with every
    table before it, attribute by attribute: 10,000 tables took 208 s."""
    compared = []
    monkeypatch.setattr(Table, "__eq__", lambda self, other: compared.append(self) or False)
    text = "".join(f"Table t{n} {{\n  x int\n}}\n" for n in range(50))
    assert len(read_dbml(text).tables) == 50
    assert compared == []


def test_dbml_declarations_keep_their_lines():
    text = 'Table t {\n  a int\n}\n\nTable "u" {\n  b int\n}\nEnum e {\n  x\n}\n'
    source = read_dbml(text)
    assert [(t.name, t.line) for t in source.tables.values()] == [("t", 1), ("u", 5)]
    assert source.enums == {"e": ["x"]}, "an enum is kept, not a finding"


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ('{"format": 1, "tables": {"\\ud800": {}}, "relationships": {}}', "tables: Remove"),
        ('{"format": 1, "tables": {}, "relationships": {}, "x": "a\\u0000"}', "x: Remove"),
        ('{"format": 1, "tables": ' + "[" * 100_000 + "]" * 100_000 + "}", "deeper than"),
        ('{"format": 1, "tables": {"a": ' + "[" * 20 + "]" * 20 + "}}", "deeper than"),
        ('{"format": NaN}', "NaN is not JSON"),
    ],
)
def test_json_that_cannot_be_stored_or_nests_too_deep_is_refused(text, words):
    assert words in refusal(plan_json, text).message


def test_error_messages_escape_lone_surrogates():
    error = ValidationFailed("table \ud800: bad", {"\udc00": "a \ud800"})
    assert error.message == "table \\ud800: bad"
    assert error.fields == {"\\udc00": "a \\ud800"}
