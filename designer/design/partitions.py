"""Partitioned tables: a parent's partition key and its partitions' bounds. Pure: no
database, no Flask.

Kept in the table's "structure" (designer.design.structure), each key only when set, so a
table that is not partitioned keeps its bytes and its snapshot hash:

    parent:    "partition_by": {"method": "range" | "list" | "hash",
                                "keys": [{"column": field id or null,
                                          "expression": stored expression or null,
                                          "collation": name or null,
                                          "opclass": name or null}, ...]}
    partition: "partition_of": {"table_id": the parent's id,
                                "bound": "FOR VALUES ..." or "DEFAULT"}

A partition has no fields of its own: its columns are its parent's (PostgreSQL gives a
partition exactly its parent's columns, and refuses to add or drop one on it), so its
entry's "fields" is {} and everything that shows a partition's columns reads them from the
parent. Its keys and indexes are its parent's too: PostgreSQL makes them on
each partition when it makes them on the parent, so the designer never creates them twice.

A bound is read by PostgreSQL's own parser as the PartitionBoundSpec of
`CREATE TABLE t PARTITION OF p <bound>` and kept as pglast's deparse of it. Its values are
constants only (a literal, a cast of one, a negative number, MINVALUE/MAXVALUE): PostgreSQL
evaluates a bound's expressions when it creates the partition, so nothing else may reach it.
"""

from pglast import ast
from pglast.stream import RawStream

from designer.design.expressions import column_ids
from designer.design.expressions import one_statement

METHODS = ("range", "list", "hash")
STRATEGIES = {"r": "range", "l": "list", "h": "hash"}
KEY_KEYS = ("column", "expression", "collation", "opclass")
MAX_KEYS = 32
MAX_BOUND = 4000
CATALOG = "pg_catalog"
WORDS = {
    "range": "FOR VALUES FROM (…) TO (…), or DEFAULT",
    "list": "FOR VALUES IN (…), or DEFAULT",
    "hash": "FOR VALUES WITH (MODULUS m, REMAINDER r)",
}


class BoundProblem(ValueError):
    """Why a partition bound cannot be kept, in words for the person who typed it."""


def structure_of(table):
    structure = table.get("structure")
    return structure if isinstance(structure, dict) else {}


def partition_by(table):
    """The parent's partition key ({"method", "keys"}), or None for a table not partitioned."""
    return structure_of(table).get("partition_by")


def partition_of(table):
    """A partition's {"table_id", "bound"}, or None for a table that is no partition."""
    return structure_of(table).get("partition_of")


def parent_id(table):
    found = partition_of(table)
    return found.get("table_id") if isinstance(found, dict) else None


def key_columns(table):
    """The field ids a parent's partition key names, by column or inside an expression."""
    used = []
    for key in (partition_by(table) or {}).get("keys") or ():
        if key.get("column"):
            used.append(key["column"])
        elif key.get("expression"):
            used += column_ids(key["expression"])
    return used


# Bounds


def bound_tree(text):
    """The PartitionBoundSpec of a bound as typed (BoundProblem when it is not one)."""
    if not isinstance(text, str) or not text.strip():
        raise BoundProblem("Enter a bound: FOR VALUES … or DEFAULT.")
    if len(text) > MAX_BOUND or "\x00" in text:
        raise BoundProblem(f"A bound is at most {MAX_BOUND:,} characters.")
    statement = one_statement(
        f"CREATE TABLE t PARTITION OF p {text}", BoundProblem, "a partition bound", "bound"
    )
    if (
        not isinstance(statement, ast.CreateStmt)
        or statement.partbound is None
        or statement.tableElts
        or statement.partspec is not None
        or statement.options
        or statement.oncommit not in (None, 0)
        or statement.tablespacename
        or statement.accessMethod
    ):
        raise BoundProblem("Give the bound only: FOR VALUES … or DEFAULT.")
    return statement.partbound


def datum_problem(node, method):
    """Why one value of a bound cannot be kept, or None: constants only."""
    if isinstance(node, ast.A_Const):
        return None
    if isinstance(node, ast.ColumnRef) and method == "range":
        parts = [getattr(p, "sval", None) for p in node.fields or ()]
        if len(parts) == 1 and (parts[0] or "").lower() in ("minvalue", "maxvalue"):
            return None
    if isinstance(node, ast.TypeCast) and isinstance(node.arg, ast.A_Const):
        names = [getattr(p, "sval", "") for p in node.typeName.names or ()]
        if len(names) > 2 or (len(names) == 2 and names[0] != CATALOG):
            return f"Name the type {names[-1]} without a schema."
        if node.typeName.typmods and any(
            not isinstance(m, ast.A_Const) for m in node.typeName.typmods
        ):
            return "A type's modifiers are numbers."
        return None
    if (
        isinstance(node, ast.A_Expr)
        and node.lexpr is None
        and [getattr(p, "sval", "") for p in node.name or ()] == ["-"]
        and isinstance(node.rexpr, ast.A_Const)
    ):
        return None
    return "A bound holds constants only (a value, a cast of one, MINVALUE or MAXVALUE)."


def bound_problem_of(tree, method):
    """Why a parsed bound cannot be one of a `method` parent's partitions, or None."""
    if tree.is_default:
        if method == "hash":
            return "A hash-partitioned table has no DEFAULT partition."
        return None
    strategy = STRATEGIES.get(getattr(tree.strategy, "value", tree.strategy))
    if method is not None and strategy != method:
        return f"The parent is partitioned by {method}: {WORDS[method]}."
    values = [*(tree.listdatums or ()), *(tree.lowerdatums or ()), *(tree.upperdatums or ())]
    for node in values:
        problem = datum_problem(node, strategy)
        if problem:
            return problem
    if strategy == "hash" and not (0 <= (tree.remainder or 0) < (tree.modulus or 0)):
        return "A hash bound's REMAINDER is at least 0 and less than its MODULUS."
    return None


def clean_bound(text, method):
    """A bound as typed, checked and re-deparsed (BoundProblem says why not)."""
    tree = bound_tree(text)
    problem = bound_problem_of(tree, method)
    if problem:
        raise BoundProblem(problem)
    return RawStream()(tree)


def bound_problem(stored, method):
    """Why a stored bound cannot be kept as it is, or None (it is its own deparse)."""
    try:
        return None if clean_bound(stored, method) == stored else "expected a deparsed bound."
    except BoundProblem as exc:
        return str(exc)


# The partition key


def key_problem(key, fields):
    """Why one key of a partition key cannot be kept: an index key's rules, with no order."""
    from designer.design.structure import index_key_problem

    if not isinstance(key, dict) or set(key) != set(KEY_KEYS):
        return f"expected {', '.join(KEY_KEYS)}."
    return index_key_problem({**key, "descending": False, "nulls": None}, fields)


def table_problems(table):
    """[(where, key, message)] of a table's own partition_by / partition_of."""
    structure = structure_of(table)
    problems = []
    if "partition_by" in structure:
        spec = structure["partition_by"]
        if not isinstance(spec, dict) or set(spec) != {"method", "keys"}:
            return [("partition key", "partition_by", "expected method and keys.")]
        if spec["method"] not in METHODS:
            problems.append(("partition key", "method", f"expected one of {', '.join(METHODS)}."))
        keys = spec["keys"]
        if not isinstance(keys, list) or not keys or len(keys) > MAX_KEYS:
            problems.append(("partition key", "keys", f"expected 1 to {MAX_KEYS} keys."))
        elif spec["method"] == "list" and len(keys) != 1:
            problems.append(("partition key", "keys", "a list partition key has one key."))
        else:
            for position, key in enumerate(keys, 1):
                problem = key_problem(key, table["fields"])
                if problem:
                    problems.append(("partition key", f"key {position}", problem))
    if "partition_of" in structure:
        spec = structure["partition_of"]
        if not isinstance(spec, dict) or set(spec) != {"table_id", "bound"}:
            return problems + [("partition", "partition_of", "expected table_id and bound.")]
        if "partition_by" in structure:
            problems.append(("partition", "partition_of", "a partition is not partitioned again."))
        if table["fields"]:
            problems.append(("partition", "fields", "a partition's columns are its parent's."))
        others = set(structure) - {"partition_of"}
        if others:
            words = (
                f"a partition's keys and indexes are its parent's ({', '.join(sorted(others))})."
            )
            problems.append(("partition", "structure", words))
        if not isinstance(spec["table_id"], str):
            problems.append(("partition", "table_id", "expected the parent's id."))
        problem = bound_problem(spec["bound"], None)
        if problem:
            problems.append(("partition", "bound", problem))
    return problems


def unique_problem(table, columns, what):
    """PostgreSQL's rule: a key or unique index of a partitioned table holds every column of
    its partition key (and the key has no expression)."""
    spec = partition_by(table)
    if not spec:
        return None
    if any(key["expression"] is not None for key in spec["keys"]):
        return f"{what} is not possible on a table partitioned by an expression."
    missing = [k["column"] for k in spec["keys"] if k["column"] not in set(columns)]
    if missing:
        names = ", ".join(table["fields"][f]["field_name"] for f in missing if f in table["fields"])
        return f"{what} must include the partition key's columns ({names})."
    return None


def unique_sets(table):
    """[(columns, what)] of a table's primary key and unique constraints and indexes (an
    index's expression key as None: never a column of the partition key)."""
    from designer.design.keys import primary_key_fields
    from designer.design.keys import unique_keys
    from designer.design.structure import items

    primary = primary_key_fields(table)
    found = [(primary, "The primary key")] if primary else []
    found += [(key, "A unique constraint") for key in unique_keys(table)]
    for item in items(table, "uniques").values():
        found.append((item["columns"], f"Unique constraint {item['name'] or ''}".strip()))
    for item in items(table, "indexes").values():
        if item["unique"]:
            what = f"Unique index {item['name'] or ''}".strip()
            found.append(([k["column"] for k in item["keys"]], what))
    return found


def unique_problems(table):
    """[(where, key, message)]: PostgreSQL's rule for a partitioned table's keys."""
    if not partition_by(table) or table_problems(table):
        return []  # not partitioned, or its own problems say why
    found = []
    for columns, what in unique_sets(table):
        problem = unique_problem(table, columns, what)
        if problem:
            found.append(("partition key", "partition_by", problem))
    return found


def snapshot_problems(tables):
    """[(where, key, message)] across tables: each partition's parent is a partitioned table
    of the design, and its bound fits the parent's method."""
    problems = []
    for table_id, table in tables.items():
        where = f"table {table['table_name']!r}"
        spec = partition_of(table)
        if not isinstance(spec, dict):
            continue
        parent = tables.get(spec.get("table_id"))
        if parent is None or spec.get("table_id") == table_id:
            problems.append((where, "partition_of", "its parent is not a table of this design."))
            continue
        method = (partition_by(parent) or {}).get("method")
        if method is None:
            words = f"its parent {parent['table_name']} is not partitioned."
            problems.append((where, "partition_of", words))
            continue
        problem = bound_problem(spec.get("bound"), method)
        if problem:
            problems.append((where, "bound", problem))
    return problems


def clean_partition_by(method, keys_text, table):
    """A partition key from what people type: a method and one line of keys, read as an
    index's keys are (column names in, field ids out); PartitionInvalid {input: message}."""
    from designer.design.structure import clean_key
    from designer.design.structure import split_keys

    problems = {}
    if method not in METHODS:
        problems["method"] = f"Choose one of {', '.join(METHODS)}."
    keys = split_keys(keys_text or "", table, problems)
    if not keys and "keys" not in problems:
        problems["keys"] = "Give at least one key: a column or an expression."
    if method == "list" and len(keys) > 1:
        problems["keys"] = "A list partition key has one column or expression."
    cleaned = []
    for position, raw in enumerate(keys, 1):
        if raw.get("descending") or raw.get("nulls"):
            problems["keys"] = f"Key {position}: a partition key has no order (ASC, DESC, NULLS)."
        key = clean_key(raw, table, position, problems)
        cleaned.append({k: key[k] for k in KEY_KEYS})
    if problems:
        raise PartitionInvalid(problems)
    return {"method": method, "keys": cleaned}


class PartitionInvalid(ValueError):
    """{input: message} of a partition key or a partition as typed."""

    def __init__(self, problems):
        super().__init__(problems)
        self.problems = problems


def key_sql(table, column_sql, expression_sql):
    """PARTITION BY's words: `RANGE (a, (lower(b)) COLLATE "C")`."""
    spec = partition_by(table)
    words = []
    for key in spec["keys"]:
        part = column_sql(key["column"]) if key["column"] else f"({expression_sql(key)})"
        if key["collation"]:
            part += f" COLLATE {quoted(key['collation'])}"
        if key["opclass"]:
            part += f" {quoted(key['opclass'])}"
        words.append(part)
    return f"{spec['method'].upper()} ({', '.join(words)})"


def quoted(name):
    return '"' + name.replace('"', '""') + '"'


def moved_ids(structure, new_field_id, new_table_id):
    """partition_by / partition_of with field and table ids given anew (an import)."""
    from designer.design.expressions import deparsed
    from designer.design.expressions import parsed
    from designer.design.expressions import renamed_columns
    from designer.design.structure import _Mapped

    moved = dict(structure)
    if "partition_by" in moved:
        spec = moved["partition_by"]
        moved["partition_by"] = {
            "method": spec["method"],
            "keys": [
                {
                    **key,
                    "column": new_field_id(key["column"]) if key["column"] else None,
                    "expression": deparsed(
                        renamed_columns(parsed(key["expression"]), _Mapped(new_field_id))
                    )
                    if key["expression"]
                    else None,
                }
                for key in spec["keys"]
            ],
        }
    if "partition_of" in moved:
        moved["partition_of"] = {
            **moved["partition_of"],
            "table_id": new_table_id(moved["partition_of"]["table_id"]),
        }
    return moved
