"""Defaults and CHECK expressions (pglast nodes) read as the designer's defaults and rules.

A default becomes its literal value, or one of the date functions the designer
knows; a CHECK on one column becomes validation rules (min, max, min_length,
max_length, pattern, not null) or None when it means something else.
Pure: no database, no Flask.
"""

from pglast import ast
from pglast import parse_sql
from pglast.parser import ParseError
from pglast.stream import RawStream

SERIAL_DEFAULT = object()
FLIPPED = {">=": "<=", "<=": ">=", ">": "<", "<": ">", "=": "="}
LENGTH_FUNCTIONS = {"char_length", "length", "character_length"}


def sql_of(node):
    return RawStream()(node)


def constant(node):
    """The text of a constant (a literal, possibly cast), or None when it is not one."""
    while isinstance(node, ast.TypeCast):
        node = node.arg
    if not isinstance(node, ast.A_Const) or node.isnull:
        return None
    value = node.val
    if isinstance(value, ast.Boolean):
        return "true" if value.boolval else "false"
    if isinstance(value, ast.Integer):
        return str(value.ival)
    if isinstance(value, ast.Float):
        return value.fval
    if isinstance(value, ast.String):
        return value.sval
    return None


def default_value(node):
    """(value, None) for a default the designer can hold; SERIAL_DEFAULT for nextval();
    (None, words) for one it cannot."""
    if isinstance(node, ast.A_Const) and node.isnull:
        return None, None
    value = constant(node)
    if value is not None:
        return value, None
    if isinstance(node, ast.FuncCall):
        name = node.funcname[-1].sval.lower()
        if name == "nextval":
            return SERIAL_DEFAULT, None
        if name == "now" and not node.args:
            return "now()", None
    if isinstance(node, ast.SQLValueFunction):
        return sql_of(node).lower(), None
    return None, f"default {sql_of(node)} has no designer equivalent; dropped"


def column_of(node):
    if isinstance(node, ast.ColumnRef) and len(node.fields) >= 1:
        last = node.fields[-1]
        if isinstance(last, ast.String):
            return last.sval
    return None


def length_of(node):
    """The column inside char_length(column), or None."""
    if (
        isinstance(node, ast.FuncCall)
        and node.funcname[-1].sval.lower() in LENGTH_FUNCTIONS
        and node.args
        and len(node.args) == 1
    ):
        return column_of(node.args[0])
    return None


def comparison_rules(operator, left, right):
    """Rules for `left operator right` where one side is a column (or its length)."""
    value = constant(right)
    if value is None:
        value, operator, left = constant(left), FLIPPED.get(operator), right
        if value is None or operator is None:
            return None
    column, measured = column_of(left), False
    if column is None:
        column, measured = length_of(left), True
    if column is None:
        return None
    if operator == "~":
        return None if measured else [(column, "pattern", value)]
    rules = {
        ">=": ["min"], "<=": ["max"], ">": ["min_exclusive"], "<": ["max_exclusive"],
        "=": ["min", "max"],
    }.get(operator)  # fmt: skip
    if rules is None:
        return None
    prefix = "length_" if measured else ""
    return [(column, prefix + rule, value) for rule in rules]


def check_rules(node):
    """[(column, rule, value)] a CHECK expression stands for, or None."""
    if isinstance(node, ast.BoolExpr) and node.boolop == 0:  # AND
        found = []
        for arg in node.args:
            part = check_rules(arg)
            if part is None:
                return None
            found += part
        return found
    if isinstance(node, ast.NullTest) and node.nulltesttype == 1:  # IS NOT NULL
        column = column_of(node.arg)
        return [(column, "not_null", None)] if column else None
    if not isinstance(node, ast.A_Expr):
        return None
    operator = node.name[-1].sval if node.name else None
    if node.kind == 0 and node.lexpr is not None:  # a binary operator
        return comparison_rules(operator, node.lexpr, node.rexpr)
    if node.kind == 10 and isinstance(node.rexpr, tuple) and len(node.rexpr) == 2:  # BETWEEN
        low = comparison_rules(">=", node.lexpr, node.rexpr[0])
        high = comparison_rules("<=", node.lexpr, node.rexpr[1])
        return low + high if low and high else None
    return None


def expression(text):
    """A standalone SQL expression parsed by PostgreSQL's parser (None when it is not one)."""
    try:
        statements = parse_sql(f"SELECT {text}")
    except ParseError:
        return None
    if len(statements) != 1 or not statements[0].stmt.targetList:
        return None
    return statements[0].stmt.targetList[0].val
