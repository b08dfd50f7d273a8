"""Partition bounds and keys as the design keeps them (designer.design.partitions), and how a
change of them reads in a version's words."""

import pytest

from designer.design import partitions
from designer.history.change_words import structure_change_words


@pytest.mark.parametrize(
    ("typed", "method", "kept"),
    [
        ("for values from ('2024-01-01') to ('2025-01-01')", "range",
         "FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')"),
        ("FOR VALUES FROM (MINVALUE, -5) TO (maxvalue, 10)", "range",
         "FOR VALUES FROM (minvalue, -5) TO (maxvalue, 10)"),
        ("FOR VALUES IN ('eu', 'uk', NULL)", "list", "FOR VALUES IN ('eu', 'uk', NULL)"),
        ("FOR VALUES IN (FALSE)", "list", "FOR VALUES IN (FALSE)"),
        ("FOR VALUES IN ('2024-01-01'::date)", "list",
         "FOR VALUES IN (CAST('2024-01-01' AS date))"),
        ("for values with (modulus 4, remainder 3)", "hash",
         "FOR VALUES WITH (MODULUS 4, REMAINDER 3)"),
        ("default", "list", "DEFAULT"),
    ],
)  # fmt: skip
def test_a_bound_is_kept_as_postgresqls_parser_reads_it(typed, method, kept):
    assert partitions.clean_bound(typed, method) == kept
    assert partitions.bound_problem(kept, method) is None


@pytest.mark.parametrize(
    ("typed", "method", "said"),
    [
        ("FOR VALUES IN (1)", "range", "partitioned by range"),
        ("DEFAULT", "hash", "no DEFAULT partition"),
        ("FOR VALUES WITH (MODULUS 2, REMAINDER 2)", "hash", "less than its MODULUS"),
        ("FOR VALUES IN (lower('A'))", "list", "constants only"),
        ("FOR VALUES IN (current_user)", "list", "constants only"),
        ("FOR VALUES IN (minvalue)", "list", "constants only"),
        ("FOR VALUES IN ('a'::public.evil)", "list", "without a schema"),
        ("FOR VALUES IN (1) PARTITION BY LIST (a)", "list", "the bound only"),
        ("(a WITH OPTIONS NOT NULL) FOR VALUES IN (1)", "list", "the bound only"),
        ("FOR VALUES IN (1); DROP TABLE t", "list", "the bound only"),
        ("", "list", "Enter a bound"),
    ],
)  # fmt: skip
def test_a_bound_that_is_not_constants_of_the_parents_method_is_refused(typed, method, said):
    with pytest.raises(partitions.BoundProblem, match=said):
        partitions.clean_bound(typed, method)


def test_changes_of_partitioning_read_as_words():
    bound = {"table_id": "p", "bound": "DEFAULT"}
    moved = {"table_id": "p", "bound": "FOR VALUES IN (1)"}
    assert structure_change_words({"partition_of": bound}, {"partition_of": moved}) == (
        "bound DEFAULT → FOR VALUES IN (1)"
    )
    key = {"method": "range", "keys": []}
    assert structure_change_words({}, {"partition_by": key}) == "partitioned by range"
    assert structure_change_words({"partition_by": key}, {}) == "no longer partitioned"


def test_sub_partitions_are_findings_not_silent_losses():
    from designer.interchange.import_plan import plan_import
    from designer.interchange.import_sql import read_sql

    plan = plan_import(
        read_sql(
            "CREATE TABLE m (a int NOT NULL, b int NOT NULL) PARTITION BY RANGE (a);\n"
            "CREATE TABLE m1 PARTITION OF m FOR VALUES FROM (1) TO (10) PARTITION BY LIST (b);\n"
            "CREATE TABLE m1x PARTITION OF m1 FOR VALUES IN (1);\n"
        )
    )
    assert [(f.line, f.subject) for f in plan.findings] == [(2, "m1"), (3, "m1x")]
    assert "no sub-partitions" in plan.findings[0].message
    assert sorted(t["table_name"] for t in plan.snapshot["tables"].values()) == ["m", "m1"]
