"""The rules of a project's enum type: its name and its ordered labels.

An enum is `CREATE TYPE name AS ENUM (labels...)` in the project's schema. Its name follows
the identifier rules of a table (types and tables share the schema's names); its labels are
distinct, non-empty, at most 63 bytes each (PostgreSQL's NAMEDATALEN), in the order values
sort. Pure: no database, no Flask.
"""

from designer.design.column_types import unsafe
from designer.design.naming import identifier_problem

ENUM_KEYS = ("id", "name", "labels")
MAX_LABELS = 1000
MAX_LABEL_BYTES = 63


def label_problem(label):
    if type(label) is not str or not label:
        return "expected a label of 1 to 63 bytes."
    if len(label.encode("utf-8")) > MAX_LABEL_BYTES:
        return f"{label[:20]!r}… is longer than {MAX_LABEL_BYTES} bytes."
    if "\x00" in label:
        return "a label cannot hold a NUL character."
    return None


def enum_problems(name, labels):
    """{key: message} of what keeps an enum from being stored ({} when nothing)."""
    problems = {}
    problem = identifier_problem(name, "table") if type(name) is str else "expected text."
    if problem:
        problems["name"] = problem
    if type(labels) is not list or not 0 < len(labels) <= MAX_LABELS:
        problems["labels"] = f"expected a list of 1 to {MAX_LABELS} labels."
        return problems
    for label in labels:
        problem = label_problem(label)
        if problem:
            problems["labels"] = problem
            return problems
    if len(set(labels)) != len(labels):
        problems["labels"] = "each label appears once."
    return problems


def gaps(labels, kept):
    """The labels between consecutive kept ones: [[before the first], ..., [after the last]]."""
    found = [[]]
    for label in labels:
        if label in kept:
            found.append([])
        else:
            found[-1].append(label)
    return found


def paired(before, after):
    """(old label, new label) renames and the labels added, per gap; UnsafeSetting when a
    label would go or kept labels change order."""
    kept = [label for label in before if label in set(after)]
    if kept != [label for label in after if label in set(before)]:
        unsafe("labels", "the labels of a deployed enum keep their order; add new ones instead.")
    renames, added = [], []
    for old_gap, new_gap in zip(gaps(before, set(kept)), gaps(after, set(kept)), strict=True):
        if len(old_gap) > len(new_gap):
            unsafe("labels", f"label {old_gap[-1]!r} of a deployed enum cannot be removed.")
        renames += list(zip(old_gap, new_gap, strict=False))
        added += new_gap[len(old_gap) :]
    return renames, added
