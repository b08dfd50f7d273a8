"""SQL DDL read with pglast (PostgreSQL's own parser) into an import Source.

CREATE TABLE (columns, NOT NULL, DEFAULT, keys, CHECKs, foreign keys), the
ALTER TABLE forms pg_dump writes, single-column CREATE INDEX and COMMENT ON
are read; every other statement and clause is a finding with its line, never
dropped silently. Pure: no database, no Flask.
"""

from pglast import ast
from pglast import parse_sql
from pglast.enums import AlterTableType
from pglast.enums import ConstrType
from pglast.enums import ObjectType
from pglast.parser import ParseError

from designer.database import import_expressions as expressions
from designer.database.import_source import IGNORED
from designer.database.import_source import UNREPRESENTABLE
from designer.database.import_source import Source
from designer.database.import_source import SourceColumn
from designer.database.import_source import SourceReference
from designer.database.import_source import SourceTable
from designer.database.import_source import line_numbers
from designer.database.import_types import SERIALS
from designer.database.import_types import map_type
from designer.errors import ValidationFailed

ACTIONS = {"a": "no_action", "r": "restrict", "c": "cascade", "n": "set_null", "d": "set_default"}
IGNORED_STATEMENTS = {
    "VariableSetStmt": "a SET statement",
    "CreateSchemaStmt": "a schema (tables are imported into the project)",
    "CreateExtensionStmt": "an extension",
    "GrantStmt": "a GRANT",
    "GrantRoleStmt": "a GRANT",
    "AlterOwnerStmt": "an owner change",
    "CreateSeqStmt": "a sequence (tables get the designer's identity id)",
    "AlterSeqStmt": "a sequence change",
    "SelectStmt": "a SELECT",
    "TransactionStmt": "a transaction statement",
}
WORDS = {
    "ViewStmt": "a view",
    "CreateTrigStmt": "a trigger",
    "CreateFunctionStmt": "a function",
    "CreateEnumStmt": "an enum type",
    "CreateDomainStmt": "a domain",
    "CompositeTypeStmt": "a composite type",
    "RuleStmt": "a rule",
    "CreatePolicyStmt": "a row-level security policy",
    "InsertStmt": "data (INSERT)",
    "CopyStmt": "data (COPY)",
    "CreateTableAsStmt": "a table made from a query",
}


def relation_name(range_var):
    return range_var.relname


def statement_subject(stmt):
    """The name of what a statement creates, for the report (its kind when it has none)."""
    for attribute in ("trigname", "policy_name", "rulename"):
        if isinstance(getattr(stmt, attribute, None), str):
            return getattr(stmt, attribute)
    for attribute in ("domainname", "funcname", "defnames", "typeName"):
        value = getattr(stmt, attribute, None)
        if isinstance(value, tuple) and value and isinstance(value[-1], ast.String):
            return value[-1].sval
    for attribute in ("view", "relation", "sequence", "into"):
        target = getattr(stmt, attribute, None)
        target = getattr(target, "rel", target)
        if isinstance(target, ast.RangeVar):
            return target.relname
    for attribute in ("name", "extname", "schemaname"):
        if isinstance(getattr(stmt, attribute, None), str):
            return getattr(stmt, attribute)
    return type(stmt).__name__.removesuffix("Stmt")


def read_sql(text):
    """A Source from SQL text; ValidationFailed (with the line) when it does not parse."""
    line_of = line_numbers(text)
    try:
        statements = parse_sql(text)
    except ParseError as exc:
        offset = exc.args[1] if len(exc.args) > 1 and isinstance(exc.args[1], int) else None
        line = line_of(offset)
        where = f" (line {line})" if line else ""
        message = f"This is not SQL PostgreSQL can read{where}: {exc.args[0]}"
        raise ValidationFailed(message, {"file": message}) from exc
    reader = SqlReader(line_of)
    for raw in statements:
        reader.statement(raw.stmt, line_of(raw.stmt_location))
    return reader.source


class SqlReader:
    def __init__(self, line_of):
        self.line_of = line_of
        self.source = Source()

    def at(self, node):
        return self.line_of(getattr(node, "location", None))

    def statement(self, stmt, line):
        kind = type(stmt).__name__
        handler = getattr(self, f"read_{kind}", None)
        if handler is not None:
            handler(stmt, line)
        elif kind in IGNORED_STATEMENTS:
            message = f"{IGNORED_STATEMENTS[kind]} is not part of a design"
            self.source.note(IGNORED, line, statement_subject(stmt), message)
        else:
            words = WORDS.get(kind, f"a {kind.removesuffix('Stmt')} statement")
            self.source.note(
                UNREPRESENTABLE, line, statement_subject(stmt), f"{words} cannot be represented"
            )

    def read_CreateStmt(self, stmt, line):
        name = relation_name(stmt.relation)
        if name in self.source.tables:
            self.source.note(
                UNREPRESENTABLE,
                line,
                name,
                "a second table of this name (another schema) is skipped",
            )
            return
        table = SourceTable(name=name, line=line)
        self.source.tables[name] = table
        if stmt.inhRelations or stmt.partspec or stmt.partbound or stmt.ofTypename:
            self.source.note(UNREPRESENTABLE, line, name, "inheritance or partitioning is not kept")
        for element in stmt.tableElts or ():
            if isinstance(element, ast.ColumnDef):
                self.column(table, element)
            elif isinstance(element, ast.Constraint):
                self.constraint(table, element, None)
            else:
                self.source.note(
                    UNREPRESENTABLE, self.at(element), name, "LIKE clauses are not kept"
                )

    def column(self, table, element):
        type_name = element.typeName
        names = [n.sval for n in type_name.names]
        base = names[-1]
        modifiers = [expressions.constant(m) for m in type_name.typmods or ()]
        modifiers = [int(m) for m in modifiers if m is not None and m.lstrip("-").isdigit()]
        data_type, settings, problem = map_type(base, modifiers, bool(type_name.arrayBounds))
        line = self.at(element)
        subject = f"{table.name}.{element.colname}"
        if problem:
            self.source.note(problem[0], line, subject, problem[1])
        column = SourceColumn(
            name=element.colname, data_type=data_type, settings=settings, line=line,
            generated_key=base.lower() in SERIALS,
        )  # fmt: skip
        table.columns[element.colname] = column
        for constraint in element.constraints or ():
            self.constraint(table, constraint, element.colname)

    def constraint(self, table, node, column_name):
        kind = node.contype
        line = self.at(node)
        column = table.columns.get(column_name) if column_name else None
        if kind == ConstrType.CONSTR_NOTNULL and column:
            column.is_required = True
        elif kind == ConstrType.CONSTR_NULL:
            pass
        elif kind == ConstrType.CONSTR_DEFAULT and column:
            self.default(table, column, node.raw_expr, line)
        elif kind == ConstrType.CONSTR_IDENTITY and column:
            column.generated_key = True
            column.is_required = True
        elif kind == ConstrType.CONSTR_PRIMARY:
            keys = [k.sval for k in node.keys] if node.keys else [column_name]
            table.primary_key = keys
        elif kind == ConstrType.CONSTR_UNIQUE:
            keys = [k.sval for k in node.keys] if node.keys else [column_name]
            self.unique(table, keys, line)
        elif kind == ConstrType.CONSTR_CHECK:
            self.check(table, node, line)
        elif kind == ConstrType.CONSTR_FOREIGN:
            self.reference(table, node, column_name, line)
        else:
            words = {
                ConstrType.CONSTR_GENERATED: "a generated column's expression",
                ConstrType.CONSTR_EXCLUSION: "an exclusion constraint",
            }.get(kind, "a constraint")
            self.source.note(UNREPRESENTABLE, line, table.name, f"{words} cannot be represented")

    def default(self, table, column, expr, line):
        value, problem = expressions.default_value(expr)
        subject = f"{table.name}.{column.name}"
        if value is expressions.SERIAL_DEFAULT:
            column.generated_key = True
        elif problem:
            self.source.note(UNREPRESENTABLE, line, subject, problem)
        else:
            column.default_value = value

    def unique(self, table, keys, line):
        if len(keys) == 1 and keys[0] in table.columns:
            table.columns[keys[0]].unique = True
            table.mention("constraint", keys[0])
        else:
            self.source.note(
                UNREPRESENTABLE,
                line,
                table.name,
                f"unique ({', '.join(keys)}) over several columns cannot be represented",
            )

    def check(self, table, node, line):
        rules = expressions.check_rules(node.raw_expr)
        text = expressions.sql_of(node.raw_expr)
        columns = {rule[0] for rule in rules or ()}
        if rules is None or len(columns) != 1 or not columns <= table.columns.keys():
            self.source.note(
                UNREPRESENTABLE,
                line,
                table.name,
                f"CHECK ({text}) is not a validation rule the designer has",
            )
            return
        column = table.columns[columns.pop()]
        table.mention("constraint", column.name)
        column.checks += [(rule, value, line, text) for _, rule, value in rules]

    def reference(self, table, node, column_name, line):
        columns = [a.sval for a in node.fk_attrs] if node.fk_attrs else [column_name]
        ref_columns = [a.sval for a in node.pk_attrs] if node.pk_attrs else None
        self.source.references.append(
            SourceReference(
                table=table.name, columns=columns, ref_table=relation_name(node.pktable),
                ref_columns=ref_columns, on_delete=ACTIONS.get(node.fk_del_action, "no_action"),
                on_update=ACTIONS.get(node.fk_upd_action, "no_action"), name=node.conname,
                line=line,
            )
        )  # fmt: skip

    def read_AlterTableStmt(self, stmt, line):
        name = relation_name(stmt.relation)
        if stmt.objtype != ObjectType.OBJECT_TABLE:
            self.source.note(
                IGNORED, line, name, "a change to a sequence, view or index is not part of a design"
            )
            return
        table = self.source.table(name, line)
        if table is None:
            return
        for cmd in stmt.cmds:
            self.alter(table, cmd, line)

    def alter(self, table, cmd, line):
        subtype = cmd.subtype
        column = table.columns.get(cmd.name) if cmd.name else None
        if subtype == AlterTableType.AT_AddConstraint:
            self.constraint(table, cmd.def_, None)
        elif subtype == AlterTableType.AT_ColumnDefault and column and cmd.def_ is not None:
            self.default(table, column, cmd.def_, line)
        elif subtype == AlterTableType.AT_SetNotNull and column:
            column.is_required = True
        elif subtype == AlterTableType.AT_AddColumn:
            self.column(table, cmd.def_)
        elif subtype in (AlterTableType.AT_ChangeOwner, AlterTableType.AT_ValidateConstraint):
            self.source.note(
                IGNORED, line, table.name, "an owner change or VALIDATE is not part of a design"
            )
        else:
            self.source.note(
                UNREPRESENTABLE,
                line,
                table.name,
                f"ALTER TABLE ({subtype.name}) cannot be represented",
            )

    def read_IndexStmt(self, stmt, line):
        name = relation_name(stmt.relation)
        table = self.source.table(name, line)
        if table is None:
            return
        params = stmt.indexParams or ()
        column = params[0].name if len(params) == 1 else None
        partial = stmt.whereClause is not None
        if column not in table.columns or partial or (stmt.accessMethod or "btree") != "btree":
            what = (
                "a partial index"
                if partial
                else "an index on several columns, an expression or not btree"
            )
            self.source.note(
                UNREPRESENTABLE, line, name, f"{what} ({stmt.idxname}) cannot be represented"
            )
        else:
            table.columns[column].unique = table.columns[column].unique or stmt.unique
            table.columns[column].indexed = table.columns[column].indexed or not stmt.unique
            table.mention("index", column)

    def read_CommentStmt(self, stmt, line):
        parts = [p.sval for p in stmt.object] if isinstance(stmt.object, tuple) else None
        if stmt.objtype == ObjectType.OBJECT_TABLE and parts:
            table = self.source.table(parts[-1], line)
            if table is not None:
                table.description = stmt.comment or ""
        elif stmt.objtype == ObjectType.OBJECT_COLUMN and parts and len(parts) >= 2:
            table = self.source.table(parts[-2], line)
            if table is not None and parts[-1] in table.columns:
                table.columns[parts[-1]].description = stmt.comment or ""
        else:
            self.source.note(
                IGNORED, line, "COMMENT", "a comment on something other than a table or column"
            )
