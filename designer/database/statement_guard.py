"""The last check before SQL reaches the deploy target: one statement, of a kind plans make,
naming nothing outside the project's schema.

Plans are built from quoted identifiers, literals and our own words, so a statement that
fails here means something upstream let user text through: it is refused, not run. Parsed
by pglast (PostgreSQL's own parser), so what is checked is what PostgreSQL would run.
"""

import re

from pglast import ast
from pglast import parse_sql
from pglast.enums import ConstrType
from pglast.enums import ObjectType
from pglast.parser import ParseError

from designer.design.expressions import FUNCTIONS
from designer.design.expressions import ExpressionProblem
from designer.design.expressions import check_tree
from designer.design.expressions import nodes
from designer.design.partitions import bound_problem_of

# The statements a plan, a put-back or a measure is made of.
ALLOWED = (
    ast.CreateStmt,
    ast.AlterTableStmt,
    ast.IndexStmt,
    ast.CommentStmt,
    ast.DropStmt,
    ast.RenameStmt,
    ast.CreateSeqStmt,
    ast.AlterSeqStmt,
    ast.CreateSchemaStmt,
    ast.CreateEnumStmt,
    ast.AlterEnumStmt,
    ast.SelectStmt,
    ast.UpdateStmt,
)
# Schemas a statement may name besides the project's own: PostgreSQL's catalog (types,
# functions) and the session's temporary schema (the cast-check helper, scratch builds).
ALWAYS = frozenset({"pg_catalog", "pg_temp"})
# Functions that reach beyond the statement: settings, roles, other sessions, files, other
# servers. Plans never call them.
FORBIDDEN_FUNCTIONS = frozenset(
    {
        "set_config", "current_setting", "dblink", "dblink_exec", "query_to_xml",
        "query_to_xmlschema", "query_to_xml_and_xmlschema", "table_to_xml", "cursor_to_xml",
        "lo_import", "lo_export", "lo_from_bytea", "lo_put", "lo_get",
        "txid_current", "pg_current_xact_id",
    }
)  # fmt: skip


# Types whose input is an object's name: a string cast to one names an object, which may
# be in another schema (nextval('other.seq'::regclass)).
NAME_TYPES = frozenset(
    {
        "regclass", "regtype", "regproc", "regprocedure", "regoper", "regoperator",
        "regnamespace", "regrole", "regconfig", "regdictionary", "regcollation",
    }
)  # fmt: skip
# Functions taking a sequence by name (a bare string is read as regclass).
SEQUENCE_FUNCTIONS = frozenset({"nextval", "currval", "setval"})
# A qualified name as PostgreSQL's regclass input reads it: parts, quoted or not, by dots.
NAME_PART = re.compile(r'"((?:[^"]|"")+)"|([^".\s]+)')


class RefusedStatement(Exception):
    """SQL the target must not run; the message says why."""


def names_of(qualified):
    return [getattr(part, "sval", None) for part in qualified or ()]


def check_schema(name, schema, allowed, what):
    if name is not None and name != schema and name not in allowed:
        raise RefusedStatement(f"it names {what} in schema {name}, outside {schema}")


def check_node(node, schema, allowed, type_schemas=frozenset()):
    if isinstance(node, ast.RangeVar):
        # Unqualified names resolve through the search_path, which a plan's transaction sets
        # to the project's schema alone (designer.database.target.begin).
        check_schema(node.schemaname, schema, allowed, f"table {node.relname}")
        if node.catalogname:
            raise RefusedStatement("it names another database")
    elif isinstance(node, ast.CreateSchemaStmt):
        if node.schemaname != schema or node.authrole is not None:
            raise RefusedStatement(f"it creates schema {node.schemaname}, not {schema}")
    elif isinstance(node, ast.FuncCall):
        parts = names_of(node.funcname)
        if len(parts) > 1:
            check_schema(parts[0], schema, allowed, f"function {parts[-1]}")
        name = (parts[-1] or "").lower()
        if name in FORBIDDEN_FUNCTIONS or name.startswith("pg_"):
            raise RefusedStatement(f"it calls {name}()")
        if name in SEQUENCE_FUNCTIONS and not all(is_name_cast(a) for a in node.args[:1] or ()):
            raise RefusedStatement(f"it calls {name}() with no ::regclass sequence")
    elif isinstance(node, ast.TypeCast) and is_name_type(node.typeName):
        check_named_object(node, schema, allowed)
    elif isinstance(node, ast.CreateSeqStmt | ast.AlterSeqStmt):
        for option in node.options or ():
            if option.defname == "owned_by" and isinstance(option.arg, tuple | list):
                owner = names_of(option.arg)
                if len(owner) > 3 or (len(owner) == 3 and owner[0] != schema):
                    raise RefusedStatement("its sequence is owned by a column outside " + schema)
    elif isinstance(node, ast.TypeName):
        parts = names_of(node.names)
        if len(parts) > 1:
            # A type may also come from a schema the target shares for types (an extension's).
            check_schema(parts[0], schema, allowed | type_schemas, f"type {parts[-1]}")
    elif isinstance(node, ast.DropStmt | ast.CommentStmt | ast.RenameStmt):
        check_object_names(node, schema, allowed)
    elif isinstance(node, ast.CreateEnumStmt | ast.AlterEnumStmt):
        # An enum a plan makes or evolves is always named with the project's schema.
        parts = names_of(node.typeName)
        if len(parts) != 2:
            raise RefusedStatement(f"it names type {parts[-1]} without its schema")
        check_schema(parts[0], schema, allowed, f"type {parts[-1]}")


def is_name_type(type_name):
    parts = names_of(type_name.names)
    return bool(parts) and (parts[-1] or "").lower() in NAME_TYPES and not type_name.arrayBounds


def is_name_cast(node):
    return isinstance(node, ast.TypeCast) and is_name_type(node.typeName)


def check_named_object(cast, schema, allowed):
    """'schema.name'::regclass: a sequence (the only relation a plan names so) in the schema;
    'name'::regconfig and the other name types: an object of the schema or of pg_catalog
    (ALWAYS; to_tsvector('english'::regconfig, body) in OpenStreetMap's index), found
    through the plan's search_path when it has no schema."""
    name_type = (names_of(cast.typeName.names)[-1] or "").lower()
    value = getattr(getattr(cast.arg, "val", None), "sval", None)
    if not isinstance(cast.arg, ast.A_Const) or value is None:
        raise RefusedStatement(f"it names an object by a ::{name_type} cast")
    parts, at = [], 0
    while at <= len(value):
        found = NAME_PART.match(value, at)
        if found is None:
            raise RefusedStatement(f"it names {value!r}, which is no relation's name")
        parts.append(found[1].replace('""', '"') if found[1] is not None else found[2].lower())
        at = found.end()
        if at == len(value):
            break
        if value[at] != ".":
            raise RefusedStatement(f"it names {value!r}, which is no relation's name")
        at += 1
    if len(parts) > 2:
        raise RefusedStatement("it names another database")
    if len(parts) == 2:
        what = "sequence" if name_type == "regclass" else name_type.removeprefix("reg")
        check_schema(parts[0], schema, allowed, f"{what} {parts[1]}")


def check_object_names(node, schema, allowed):
    """DROP, COMMENT and RENAME name their objects as lists of strings, not RangeVars."""
    objects = getattr(node, "objects", None) or (getattr(node, "object", None),)
    for item in objects:
        parts = names_of(item) if isinstance(item, tuple | list) else []
        if len(parts) > 1:
            check_schema(parts[0], schema, allowed, f"object {parts[-1]}")
        elif isinstance(item, ast.String):
            # DROP SCHEMA / COMMENT ON SCHEMA name the schema itself.
            check_schema(item.sval, schema, allowed, "the schema")
    if isinstance(node, ast.RenameStmt) and node.renameType == ObjectType.OBJECT_SCHEMA:
        raise RefusedStatement("it renames a schema")


def check_statement(text, schema, allowed=ALWAYS, type_schemas=frozenset()):
    """Raise RefusedStatement unless `text` is one allowed statement within `schema` (its
    types also from `type_schemas`, the target's shared ones); returns its parse tree."""
    try:
        parsed = parse_sql(text)
    except ParseError as exc:
        raise RefusedStatement(f"it does not parse ({exc})") from exc
    except RecursionError as exc:
        raise RefusedStatement("it is nested too deeply") from exc
    if len(parsed) != 1:
        raise RefusedStatement(f"it holds {len(parsed)} statements, not one")
    statement = parsed[0].stmt
    if is_own_search_path(statement, schema):
        return statement
    if not isinstance(statement, ALLOWED):
        raise RefusedStatement(f"a plan makes no {type(statement).__name__}")
    # Walked once (a drift check's scratch build guards thousands of statements).
    every = list(nodes(statement))
    shared = frozenset(type_schemas)
    for node in every:
        check_node(node, schema, allowed, shared)
    check_design_expressions(statement, every)
    return statement


def design_expressions(every):
    """The expressions a design wrote into a statement (`every` node of it): CHECKs,
    generated columns, index keys and partial-index WHEREs (designer.design.expressions'
    allowlist applies to them)."""
    for node in every:
        if isinstance(node, ast.Constraint) and node.contype in (
            ConstrType.CONSTR_CHECK,
            ConstrType.CONSTR_GENERATED,
        ):
            yield node.raw_expr
        elif isinstance(node, ast.IndexStmt):
            yield from (element.expr for element in node.indexParams or () if element.expr)
            yield node.whereClause
        elif isinstance(node, ast.PartitionSpec):
            yield from (element.expr for element in node.partParams or () if element.expr)


def measured_calls(statement):
    """Functions a measure calls in its WHERE (where a CHECK's expression is counted), outside
    its subqueries; the session's own helpers (pg_temp) aside."""
    if not isinstance(statement, ast.SelectStmt) or statement.whereClause is None:
        return
    stack = [statement.whereClause]
    while stack:
        item = stack.pop()
        if isinstance(item, ast.SubLink):
            continue
        if isinstance(item, ast.FuncCall):
            parts = names_of(item.funcname)
            if parts[0] != "pg_temp":
                yield parts[-1]
        if isinstance(item, ast.Node):
            stack.extend(getattr(item, name) for name in item)
        elif isinstance(item, tuple | list):
            stack.extend(item)


def check_design_expressions(statement, every):
    for node in every:
        # A partition's bound: constants only (PostgreSQL evaluates it when it is made).
        if isinstance(node, ast.PartitionBoundSpec):
            problem = bound_problem_of(node, None)
            if problem:
                raise RefusedStatement(f"its partition bound is refused: {problem}")
    for expression in design_expressions(every):
        if expression is None:
            continue
        try:
            check_tree(expression, lambda name: True)
        except ExpressionProblem as exc:
            raise RefusedStatement(f"its expression is refused: {exc}") from None
    for name in measured_calls(statement):
        if name not in FUNCTIONS:
            raise RefusedStatement(f"its measure calls {name}()")


def is_own_search_path(statement, schema):
    """SET LOCAL search_path TO <the project's schema>: the one setting a put-back makes."""
    if not isinstance(statement, ast.VariableSetStmt) or statement.name != "search_path":
        return False
    values = [getattr(getattr(arg, "val", None), "sval", None) for arg in statement.args or ()]
    return bool(statement.is_local) and values == [schema]


def returns_rows(statement):
    """A measure: the one kind of statement whose answer the runner reads."""
    return isinstance(statement, ast.SelectStmt)


def makes_schema(statement):
    return isinstance(statement, ast.CreateSchemaStmt)
