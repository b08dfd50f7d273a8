"""SQL files as psql runs them: meta-commands, and what lies around statements."""

import pytest

from designer.interchange.import_sql import read_sql
from designer.interchange.sql_pieces import psql_meta_commands


def test_a_run_of_blanks_before_a_statement_is_read_at_once():
    # The data-statement pattern once tried every split of a run of blanks: 2^64 here.
    source = read_sql(" " * 64 + "\n" * 64 + "CREATE TABLE t (a integer);")
    assert list(source.tables) == ["t"]
    assert source.tables["t"].line == 65


def meta_lines(text):
    return [(text.count("\n", 0, offset) + 1, command) for offset, command in
            psql_meta_commands(text)[1]]  # fmt: skip


@pytest.mark.parametrize(
    "text, expected",
    [
        ("\\set a 1\nSELECT 1;\n", [(1, "\\set a 1")]),
        ("  \\connect db\n", [(1, "\\connect db")]),
        ("SELECT 'a\n\\b';\n\\c x\n", [(3, "\\c x")]),
        ("SELECT E'it\\'s\n\\b';\n\\c x\n", [(3, "\\c x")]),
        ('SELECT 1 AS "q\n\\b";\n', []),
        ("SELECT $f$\n\\b $f$;\n\\c y\n", [(3, "\\c y")]),
        ("SELECT $$\n\\b $$;\n", []),
        ("/* x\n\\b */\n-- \\c\n\\c z\n", [(4, "\\c z")]),
        ("COPY t (a) FROM stdin;\nO'Brien\n\\.\n\\c w\n", [(4, "\\c w")]),
        ("SELECT 1; \\g\n", []),  # not first on its line: left to the parser
    ],
)
def test_meta_commands_are_found_only_where_a_statement_could_begin(text, expected):
    blanked, _ = psql_meta_commands(text)
    assert meta_lines(text) == expected
    assert len(blanked) == len(text) and blanked.count("\n") == text.count("\n")


def test_each_meta_command_is_a_finding_with_its_line_and_an_include_is_a_loss():
    source = read_sql("\\set ON_ERROR_STOP on\nCREATE TABLE t (a integer);\n\\ir more.sql\n")
    assert list(source.tables) == ["t"]
    found = sorted((f.line, f.kind, f.subject, f.message) for f in source.findings)
    assert found == [
        (1, "ignored", "\\set ON_ERROR_STOP on", "psql's \\set is not part of a design"),
        (3, "unrepresentable", "\\ir more.sql",
         "psql's \\ir (another file, not read by this import) cannot be represented"),
    ]  # fmt: skip
