"""Defaults and CHECK expressions, as PostgreSQL's parser gives them (pglast's JSON parse
tree), read as the designer's defaults and validation rules.

A node is a one-key dict {"Kind": {fields}}. A default becomes its literal value, or
one of the date functions the designer knows; a CHECK on one column becomes rules
(min, max, length_min, length_max, pattern, not_null and the exclusive bounds), or
None when it means something else. Pure: no database, no Flask.
"""

import json
import re

from pglast import parser

SERIAL_DEFAULT = object()
FLIPPED = {">=": "<=", "<=": ">=", ">": "<", "<": ">", "=": "="}
LENGTH_FUNCTIONS = {"char_length", "length", "character_length"}
RULES = {
    ">=": ["min"],
    "<=": ["max"],
    ">": ["min_exclusive"],
    "<": ["max_exclusive"],
    "=": ["min", "max"],
}


class TooDeep(ValueError):
    """A parse tree nested deeper than Python's JSON reader goes (a few hundred levels)."""


def parse_tree(text):
    """The statements of `text` as pglast's JSON parse tree (much faster than its objects);
    TooDeep when it nests too deeply to be read (the walks below never recurse, so a tree
    the reader could build is one they can walk)."""
    tree = parser.parse_sql_json(text)
    try:
        return json.loads(tree).get("stmts", [])
    except RecursionError:
        raise TooDeep(text[:60]) from None


def unwrap(node):
    """(kind, fields) of a node."""
    if not isinstance(node, dict) or len(node) != 1:
        return None, {}
    return next(iter(node.items()))


def names(items):
    """The strings of a list of String nodes."""
    return [unwrap(item)[1].get("sval", "") for item in items or ()]


def constant(node):
    """The text of a constant (a literal, possibly cast), or None when it is not one."""
    kind, body = unwrap(node)
    while kind == "TypeCast":
        kind, body = unwrap(body.get("arg"))
    if kind != "A_Const" or body.get("isnull"):
        return None
    if "boolval" in body:
        return "true" if body["boolval"].get("boolval") else "false"
    if "ival" in body:
        return str(body["ival"].get("ival", 0))
    if "fval" in body:
        return body["fval"].get("fval")
    if "sval" in body:
        return body["sval"].get("sval", "")
    return None


def quoted(value):
    """A string as a standard SQL literal."""
    return "'" + value.replace("'", "''") + "'"


def default_value(node):
    """(value, None) for a default the designer can hold; SERIAL_DEFAULT for nextval();
    (None, "unknown") for one it cannot."""
    kind, body = unwrap(node)
    if kind == "A_Const" and body.get("isnull"):
        return None, None
    value = constant(node)
    if value is not None:
        return value, None
    if kind == "FuncCall":
        name = names(body.get("funcname"))[-1].lower()
        if name == "nextval":
            return SERIAL_DEFAULT, None
        if name in ("now", "gen_random_uuid", "uuidv7") and not body.get("args"):
            return f"{name}()", None
    if kind == "SQLValueFunction" and "typmod" in body and body["typmod"] == -1:
        return body["op"].removeprefix("SVFOP_").lower(), None
    return None, "unknown"


def sequence_of(node):
    """The sequence a nextval() default names (its last name), or None."""
    kind, body = unwrap(node)
    if kind != "FuncCall" or names(body.get("funcname"))[-1].lower() != "nextval":
        return None
    args = body.get("args") or []
    if len(args) != 1:
        return None
    kind, body = unwrap(args[0])
    if kind == "TypeCast":
        kind, body = unwrap(body.get("arg"))
    text = constant({kind: body}) if kind == "A_Const" and "sval" in body else None
    if not text:
        return None
    # regclass input: parts by dots, each quoted (kept as is) or folded to lower case.
    parts = re.findall(r'"((?:[^"]|"")*)"|([^".]+)', text)
    last = parts[-1] if parts else None
    return None if last is None else (last[0].replace('""', '"') if last[0] else last[1].lower())


def column_of(node):
    kind, body = unwrap(node)
    if kind == "ColumnRef":
        fields = body.get("fields") or []
        last_kind, last = unwrap(fields[-1]) if fields else (None, {})
        if last_kind == "String":
            return last.get("sval")
    return None


def length_of(node):
    """The column inside char_length(column), or None."""
    kind, body = unwrap(node)
    if kind == "FuncCall" and names(body.get("funcname"))[-1].lower() in LENGTH_FUNCTIONS:
        args = body.get("args") or []
        if len(args) == 1:
            return column_of(args[0])
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
    if operator not in RULES:
        return None
    prefix = "length_" if measured else ""
    return [(column, prefix + rule, value) for rule in RULES[operator]]


def check_rules(node):
    """[(column, rule, value)] a CHECK expression stands for, or None."""
    found, pending = [], [node]
    while pending:
        kind, body = unwrap(pending.pop())
        if kind == "BoolExpr" and body.get("boolop") == "AND_EXPR":
            pending.extend(reversed(body.get("args", [])))
            continue
        rules = term_rules(kind, body)
        if rules is None:
            return None
        found += rules
    return found


def term_rules(kind, body):
    """The rules of one term of a CHECK's AND, or None."""
    if kind == "NullTest" and body.get("nulltesttype") == "IS_NOT_NULL":
        column = column_of(body.get("arg"))
        return [(column, "not_null", None)] if column else None
    if kind != "A_Expr":
        return None
    operator = (names(body.get("name")) or [None])[-1]
    expr_kind = body.get("kind", "AEXPR_OP")
    if expr_kind == "AEXPR_OP" and body.get("lexpr") is not None:
        return comparison_rules(operator, body["lexpr"], body.get("rexpr"))
    bounds = unwrap(body.get("rexpr"))[1].get("items", [])
    if expr_kind == "AEXPR_BETWEEN" and len(bounds) == 2:
        low = comparison_rules(">=", body["lexpr"], bounds[0])
        high = comparison_rules("<=", body["lexpr"], bounds[1])
        return low + high if low and high else None
    return None


def expression(text):
    """A standalone SQL expression's parse tree (None when it is not one)."""
    try:
        statements = parse_tree(f"SELECT {text}")
    except parser.ParseError:
        return None
    if len(statements) != 1:
        return None
    targets = unwrap(statements[0]["stmt"])[1].get("targetList") or []
    return unwrap(targets[0])[1].get("val") if len(targets) == 1 else None


def start_of(node):
    """The smallest location in a node's subtree: where its text begins (an operator's own
    location is its operator, not its left operand)."""
    lowest, pending = None, [node]
    while pending:
        value = pending.pop()
        if isinstance(value, dict):
            location = value.get("location")
            if isinstance(location, int) and (lowest is None or location < lowest):
                lowest = location
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
    return lowest or 0


def text_at(source, start):
    """The expression of `source` (bytes) starting at byte `start`: up to the first comma,
    closing parenthesis or semicolon outside parentheses and quotes (for the report)."""
    depth, quoted, end = 0, False, start
    while end < len(source):
        ch = source[end : end + 1]
        if ch == b"'":
            quoted = not quoted
        elif not quoted and ch == b"(":
            depth += 1
        elif not quoted and ch in (b")", b",", b";") and depth == 0:
            break
        elif not quoted and ch == b")":
            depth -= 1
        end += 1
    return " ".join(source[start:end].decode("utf-8", "replace").split())
