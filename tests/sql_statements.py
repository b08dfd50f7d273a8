"""What a piece of generated SQL is, as PostgreSQL's own parser (pglast) reads it.

`statement_of(sql, schema)` parses the text and returns its one statement as a plain
tree, failing the test when the text holds more than one statement, one of a kind a plan
never makes, a name outside `schema`, a function, type or subquery of no plan's making.
"""

import pglast

# What a deploy step may be (a plan's DDL), and what a step's row count may be.
STEP_KINDS = {
    "CreateSchemaStmt", "CreateStmt", "IndexStmt", "CreateSeqStmt", "AlterTableStmt",
    "CommentStmt", "DropStmt", "RenameStmt",
}  # fmt: skip
MEASURE_KINDS = {"SelectStmt"}
# The functions a plan calls: in CHECKs and defaults, and in the row counts of measures.
STEP_FUNCTIONS = {("char_length",), ("now",)}
MEASURE_FUNCTIONS = STEP_FUNCTIONS | {("count",), ("sum",), ("round",), ("pg_temp", "dmd_castable")}
TYPES = {
    "int4", "int8", "numeric", "varchar", "text", "date", "timestamp", "timestamptz", "time",
    "bool", "boolean", "integer", "bigint", "int2", "float4", "float8", "bpchar", "uuid", "json",
    "jsonb", "inet", "cidr", "macaddr", "bytea", "timetz", "interval",
}  # fmt: skip
# Named types the hostile designs give fields (designer.design.column_types.named_type).
NAMED_TYPES = {"tsvector", "int4range", "xml", "money"}


def statement_of(sql, schema, kinds=STEP_KINDS, functions=STEP_FUNCTIONS):
    """The one statement of `sql` as a dict tree (pglast's), checked as the module says
    (a measure, whose kinds are MEASURE_KINDS, may hold subqueries: NOT EXISTS)."""
    parsed = pglast.parse_sql(sql)
    assert len(parsed) == 1, f"{len(parsed)} statements in one step: {sql!r}"
    tree = parsed[0].stmt(skip_none=True)
    assert tree["@"] in kinds, f"a {tree['@']} is not a kind a plan makes: {sql!r}"
    for node in nodes(tree):
        check_node(node, schema, functions, sql)
        if kinds is not MEASURE_KINDS:
            assert node["@"] != "SubLink", f"a subquery in a step: {sql!r}"
    return tree


def nodes(value):
    """Every node (dict with "@") of a pglast tree, depth first."""
    if isinstance(value, dict):
        if "@" in value:
            yield value
        for child in value.values():
            yield from nodes(child)
    elif isinstance(value, (list, tuple)):
        for child in value:
            yield from nodes(child)


def names(items):
    return tuple(item["sval"] for item in items)


def check_node(node, schema, functions, sql):
    kind = node["@"]
    if kind == "RangeVar":
        assert node.get("schemaname") == schema, f"a relation outside {schema}: {sql!r}"
    elif kind == "CreateSchemaStmt":
        assert node["schemaname"] == schema, sql
    elif kind == "DropStmt":
        for qualified in node["objects"]:
            assert names(qualified)[0] == schema, f"drops outside {schema}: {sql!r}"
    elif kind == "CommentStmt":
        assert names(node["object"])[0] == schema, f"comments outside {schema}: {sql!r}"
    elif kind == "DefElem" and node["defname"] == "sequence_name":
        assert names(node["arg"])[0] == schema, sql
    elif kind == "FuncCall":
        assert names(node["funcname"]) in functions, f"calls {node['funcname']}: {sql!r}"
    elif kind == "TypeName":
        name = names(node["names"])
        # A type of ours, a named type the designs use, or an enum of the schema's own.
        known = name[-1] in TYPES | NAMED_TYPES or len(name) == 2 and name[0] == schema
        assert known, f"type {node['names']}: {sql!r}"


def literals(tree):
    """Every string constant of a statement (its literals), and a COMMENT's text."""
    found = {node["val"]["sval"] for node in nodes(tree) if is_string_constant(node)}
    if tree["@"] == "CommentStmt" and "comment" in tree:
        found.add(tree["comment"])
    return found


def is_string_constant(node):
    return node["@"] == "A_Const" and node.get("val", {}).get("@") == "String"


def script_statements(script, schema):
    """Every statement of a SQL script (an export), each checked as a step is."""
    trees = []
    for raw in pglast.parse_sql(script):
        tree = raw.stmt(skip_none=True)
        assert tree["@"] in STEP_KINDS, f"a {tree['@']} in the script"
        for node in nodes(tree):
            check_node(node, schema, STEP_FUNCTIONS, tree["@"])
            assert node["@"] != "SubLink", "a subquery in the script"
        trees.append(tree)
    return trees
