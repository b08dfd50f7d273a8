"""SQL expressions a design holds (table CHECKs, index keys, partial-index WHEREs, generated
columns): parsed by PostgreSQL's own parser (pglast), checked node by node, and kept as
pglast's deparse of the tree -- one expression, never free text.

A stored expression names its columns by field id (`"1f0c…" > 0`), so a column rename
changes nothing stored and the deployed constraint (which PostgreSQL follows by column
number) stays the same object; the SQL and the words shown to people are the same tree
deparsed again with the columns' current names.

What an expression may hold is an allowlist: constants, casts, operators, AND/OR/NOT,
IS [NOT] NULL, IN, BETWEEN, LIKE, CASE, COALESCE, GREATEST/LEAST, NULLIF, COLLATE, arrays
and calls of the functions in FUNCTIONS; columns of its own table only. No subquery, no
other table, no function outside that list (nothing that reads settings, sequences,
files or other schemas). The deploy guard (designer.database.statement_guard) checks the
same rules again on every statement that carries one. Pure: no database, no Flask.
"""

from pglast import ast
from pglast import parse_sql
from pglast.parser import ParseError
from pglast.stream import RawStream

MAX_EXPRESSION = 4000
# Immutable or stable functions of pg_catalog that look at their arguments only.
FUNCTIONS = frozenset(
    {
        "abs", "array_length", "array_lower", "array_upper", "array_position", "bit_length",
        "btrim", "cardinality", "ceil", "ceiling", "char_length", "character_length", "concat",
        "concat_ws", "date_part", "date_trunc", "extract", "floor", "initcap", "isfinite",
        "json_typeof", "jsonb_array_length", "jsonb_typeof", "left", "length", "lower", "lpad",
        "ltrim", "md5", "mod", "num_nonnulls", "num_nulls", "octet_length", "overlay",
        "position", "regexp_like", "regexp_replace", "replace", "reverse", "right", "round",
        "rpad", "rtrim", "sign", "split_part", "starts_with", "strpos", "substr", "substring",
        "timezone", "to_char", "to_tsvector", "translate", "trunc", "upper", "jsonb_exists",
        "lower_inc", "upper_inc", "isempty", "array_to_string", "normalize",
    }
)  # fmt: skip
# Node kinds an expression is made of (ColumnRef, FuncCall, TypeCast, CollateClause and
# A_Expr are checked further).
NODES = (
    ast.A_Expr, ast.BoolExpr, ast.NullTest, ast.BooleanTest, ast.A_Const, ast.TypeCast,
    ast.TypeName, ast.ColumnRef, ast.FuncCall, ast.CoalesceExpr, ast.MinMaxExpr,
    ast.CaseExpr, ast.CaseWhen, ast.A_ArrayExpr, ast.CollateClause,
    ast.String, ast.Integer, ast.Float, ast.Boolean, ast.BitString, ast.SQLValueFunction,
)  # fmt: skip
CATALOG = "pg_catalog"


class ExpressionProblem(ValueError):
    """Why an expression cannot be part of a design, in words for the person who wrote it."""


def nodes(node):
    """Every AST node under `node`, itself included (the deploy guard walks trees with it too)."""
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, ast.Node):
            yield item
            for name in item:
                stack.append(getattr(item, name))
        elif isinstance(item, tuple | list):
            stack.extend(item)


def one_statement(sql, problem, what, noun):
    """The statement pglast reads in `sql` (a typed text wrapped in one), None when it holds
    several; `problem` saying the text is not `what` when it does not parse."""
    try:
        statements = parse_sql(sql)
    except ParseError as exc:
        raise problem(f"This is not {what} ({exc.args[0]}).") from None
    except RecursionError:
        raise problem(f"This {noun} is nested too deeply.") from None
    return statements[0].stmt if len(statements) == 1 else None


def parsed(text):
    """The expression tree of `text` (ExpressionProblem when it is not one expression)."""
    if not isinstance(text, str) or not text.strip():
        raise ExpressionProblem("Enter an expression.")
    if len(text) > MAX_EXPRESSION:
        raise ExpressionProblem(f"An expression is at most {MAX_EXPRESSION:,} characters.")
    if "\x00" in text:
        raise ExpressionProblem("An expression holds no NUL character.")
    statement = one_statement(
        f"SELECT {text}", ExpressionProblem, "an SQL expression", "expression"
    )
    if not isinstance(statement, ast.SelectStmt) or len(statement.targetList or ()) != 1:
        raise ExpressionProblem("Enter one expression (no statements, no lists).")
    others = [name for name in statement if name not in ("targetList", "limitOption", "op")]
    target = statement.targetList[0]
    if any(getattr(statement, name) not in (None, False) for name in others) or target.name:
        raise ExpressionProblem("Enter one expression (no FROM, WHERE or other clauses).")
    return target.val


def refusal(node, column_ok):
    """Why one node cannot be in an expression, or None."""
    if not isinstance(node, NODES):
        what = {"SubLink": "subquery", "ParamRef": "parameter"}.get(type(node).__name__)
        return f"An expression here holds no {what or type(node).__name__ + ' node'}."
    if isinstance(node, ast.ColumnRef):
        parts = node.fields or ()
        if len(parts) != 1 or not isinstance(parts[0], ast.String):
            return "Name a column of this table on its own (no table or schema before it)."
        if not column_ok(parts[0].sval):
            return f"“{parts[0].sval}” is not a column of this table."
    elif isinstance(node, ast.FuncCall):
        names = [getattr(part, "sval", "") for part in node.funcname or ()]
        if len(names) > 2 or (len(names) == 2 and names[0] != CATALOG):
            return f"Call {names[-1]}() without a schema."
        if names[-1] not in FUNCTIONS:
            return f"{names[-1]}() is not a function a design may call."
        if node.agg_star or node.agg_distinct or node.over or node.agg_filter or node.agg_order:
            return "An expression here holds no aggregate or window function."
    elif isinstance(node, ast.TypeName | ast.CollateClause | ast.A_Expr):
        names = [
            getattr(part, "sval", "")
            for part in (node.names if isinstance(node, ast.TypeName) else None)
            or (node.collname if isinstance(node, ast.CollateClause) else None)
            or (node.name if isinstance(node, ast.A_Expr) else None)
            or ()
        ]
        if len(names) > 1 and names[0] != CATALOG:
            return f"Name {names[-1]} without a schema."
    elif isinstance(node, ast.SQLValueFunction):
        return "An expression here holds no CURRENT_USER, CURRENT_DATE or the like."
    return None


def check_tree(tree, column_ok):
    """Raise ExpressionProblem for the first node the allowlist refuses."""
    for node in nodes(tree):
        problem = refusal(node, column_ok)
        if problem:
            raise ExpressionProblem(problem)


def deparsed(tree):
    return RawStream()(tree)


def renamed_columns(tree, mapping):
    """The tree with each column's name replaced through `mapping` (in place)."""
    for node in nodes(tree):
        if isinstance(node, ast.ColumnRef):
            part = node.fields[0]
            node.fields = (ast.String(sval=mapping[part.sval]),)
    return tree


def stored_expression(text, columns):
    """The stored form of `text`: columns named by field id. `columns` {column name: field id}
    are the table's columns; ExpressionProblem says what is wrong."""
    tree = parsed(text)
    check_tree(tree, lambda name: name in columns)
    return deparsed(renamed_columns(tree, columns))


def stored_problem(stored, field_ids):
    """Why a stored expression cannot be kept (not canonical, refused, foreign columns), or
    None: what every snapshot check asks of an expression it holds."""
    try:
        tree = parsed(stored)
        check_tree(tree, lambda name: name in field_ids)
    except ExpressionProblem as exc:
        return str(exc)
    if deparsed(tree) != stored:
        return "expected the expression as the designer writes it."
    return None


def sql_expression(stored, names):
    """The stored expression as SQL: `names` {field id: current column name}."""
    return deparsed(renamed_columns(parsed(stored), names))


def column_ids(stored):
    """The field ids a stored expression reads, in order of first use."""
    seen = []
    for node in nodes(parsed(stored)):
        if isinstance(node, ast.ColumnRef) and node.fields[0].sval not in seen:
            seen.append(node.fields[0].sval)
    return seen
