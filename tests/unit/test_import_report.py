"""An import preview people can read: findings counted, grouped by table, folded, in plain words."""

import pathlib
import re

import pytest

from designer.interchange.import_plan import plan_import
from designer.interchange.import_report import report
from designer.interchange.import_sql import read_sql

PAGILA = (pathlib.Path(__file__).parent.parent / "data" / "pagila_schema.sql").read_text()


@pytest.fixture(scope="module")
def pagila():
    return plan_import(read_sql(PAGILA))


def test_pg_dump_owner_lines_of_sequences_and_views_are_ignored_not_missing_tables(pagila):
    missing = [f for f in pagila.findings if "does not create" in f.message]
    assert [f.subject for f in missing] == ["rental_by_category"], "only the view's index"
    plan = plan_import(read_sql("CREATE SEQUENCE s;\nALTER TABLE public.s OWNER TO postgres;"))
    found = sorted((f.line, f.kind, f.subject, f.message) for f in plan.findings)
    assert found == [
        (1, "ignored", "s", "a sequence no column owns is not part of a design"),
        (2, "ignored", "s", "OWNER TO is not part of a design"),
    ]


def test_no_parser_words_reach_the_preview(pagila):
    parser_words = re.compile(r"Stmt\b|\bAT_|Define\b|[a-z][A-Z][a-z]")
    for finding in pagila.findings:
        assert not parser_words.search(finding.message), finding
    assert not {"Grant", "VariableSet", "Select", "Define"} & {f.subject for f in pagila.findings}
    words = {f.message for f in pagila.findings}
    assert "an aggregate function cannot be represented" in words
    assert "an index of a partition is not kept: its indexes are its parent's" in words
    assert "a trigger (last_updated) cannot be represented" in words


def test_unimportant_statements_are_counted_on_one_line(pagila):
    ignored = dict(report(pagila).ignored)
    assert ignored["OWNER TO"] == 106
    assert ignored["SET"] == 11
    assert ignored["GRANT"] == ignored["REVOKE"] == ignored["SELECT"] == 1
    assert report(pagila).ignored_count == sum(f.kind == "ignored" for f in pagila.findings)


def unrepresentable(found):
    """The section of what cannot be represented (an identity key, kept as a column of its
    own, may add a section of imperfect ones)."""
    return next(s for s in found.sections if s.kind == "unrepresentable")


def test_the_same_finding_on_several_columns_folds_into_one_line_with_a_count():
    sql = "CREATE TABLE t (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
    sql += " a interval day, b interval hour, c numeric(5,-2));"
    (section,) = report(plan_import(read_sql(sql))).sections
    (group,) = section.groups
    assert group.tables == ["t"]
    interval = next(f for f in group.folded if f.message.startswith("an interval"))
    assert (interval.count, interval.subjects, interval.lines) == (2, ["a", "b"], [1])
    assert group.count == 3


def test_findings_group_by_table_whatever_their_subject_and_others_come_last():
    sql = (
        "CREATE TABLE zoo (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
        " tag int[][][][][][][]);\n"
        "CREATE TABLE cage (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
        " zoo_id int REFERENCES zoo (tag), CHECK (id > zoo_id));\n"
        "CREATE TRIGGER t AFTER INSERT ON zoo FOR EACH ROW EXECUTE FUNCTION f();\n"
        "CREATE VIEW v AS SELECT 1;\n"
    )
    section = unrepresentable(report(plan_import(read_sql(sql))))
    assert [g.tables for g in section.groups] == [["cage"], ["zoo"], []]
    cage = [f.message for f in section.groups[0].folded]
    assert any("neither the key nor unique" in m for m in cage), "zoo_id(...) → zoo is cage's"
    assert section.groups[2].folded[0].subjects == ["v"]
    assert (section.tables, section.others) == (2, 1)


def test_tables_with_the_same_findings_are_one_group(pagila):
    section = next(s for s in report(pagila).sections if s.kind == "unrepresentable")
    # The parent and the 49 partitions the file gives nothing of their own have nothing
    # unrepresentable (payment_id's sequence is kept as its serial); the 6 partitions with
    # their own foreign keys and indexes are one group.
    groups = [g for g in section.groups if any(t.startswith("payment") for t in g.tables)]
    assert sorted(len(g.tables) for g in groups) == [6]
    assert all(f.count % len(g.tables) == 0 for g in groups for f in g.folded)
    assert section.count == sum(f.kind == "unrepresentable" for f in pagila.findings)


def test_a_renamed_table_keeps_its_findings_under_the_files_name():
    plan = plan_import(read_sql('CREATE TABLE "Order" (u interval day);'))
    assert plan.renames[0].before == "Order"
    assert {tuple(g.tables) for s in report(plan).sections for g in s.groups} == {("Order",)}
