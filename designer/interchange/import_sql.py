"""SQL DDL read with pglast (PostgreSQL's own parser) into an import Source.

CREATE TABLE (columns, NOT NULL, DEFAULT, keys, CHECKs, foreign keys), the
ALTER TABLE forms pg_dump writes, single-column CREATE INDEX and COMMENT ON
are read; every other statement and clause is a finding with its line, never
dropped silently. The parse tree is pglast's JSON one (a 1,000-table file
parses in a tenth of the time its Python objects take); its locations are
byte offsets. Pure: no database, no Flask.
"""

import re

from pglast import ast
from pglast import parse_sql
from pglast.enums import CoercionForm
from pglast.parser import ParseError
from pglast.parser import scan

from designer.design.expressions import deparsed
from designer.design.expressions import nodes
from designer.design.structure import key_input
from designer.interchange import import_expressions as expressions
from designer.interchange import import_limits
from designer.interchange.import_expressions import names
from designer.interchange.import_expressions import unwrap
from designer.interchange.import_limits import NO_DEADLINE
from designer.interchange.import_source import IGNORED
from designer.interchange.import_source import IMPERFECT
from designer.interchange.import_source import UNREPRESENTABLE
from designer.interchange.import_source import Source
from designer.interchange.import_source import SourceColumn
from designer.interchange.import_source import SourceReference
from designer.interchange.import_source import SourceSequence
from designer.interchange.import_source import SourceTable
from designer.interchange.import_source import line_numbers
from designer.interchange.import_types import INTERVAL_ALL_FIELDS
from designer.interchange.import_types import SERIALS
from designer.interchange.import_types import map_type
from designer.interchange.import_types import named_text
from designer.interchange.sql_pieces import Data
from designer.interchange.sql_pieces import Pieces
from designer.interchange.sql_pieces import psql_meta_commands
from designer.settings import settings as configured

ACTIONS = {"a": "no_action", "r": "restrict", "c": "cascade", "n": "set_null", "d": "set_default"}
# Statements that are not part of a design, by the SQL words that start them: the preview
# counts them on one line ("… is not part of a design" is the line's wording).
IGNORED_STATEMENTS = {
    "VariableSetStmt": "SET",
    "CreateSchemaStmt": "CREATE SCHEMA",
    "CreateExtensionStmt": "CREATE EXTENSION",
    "GrantStmt": "GRANT",
    "GrantRoleStmt": "GRANT",
    "AlterOwnerStmt": "OWNER TO",
    "AlterDefaultPrivilegesStmt": "ALTER DEFAULT PRIVILEGES",
    "CreateSeqStmt": "CREATE SEQUENCE",
    "AlterSeqStmt": "ALTER SEQUENCE",
    "SelectStmt": "SELECT",
    "TransactionStmt": "BEGIN or COMMIT",
}
WORDS = {
    "ViewStmt": "a view",
    "CreateTrigStmt": "a trigger",
    "CreateFunctionStmt": "a function",
    "CreateDomainStmt": "a domain",
    "CompositeTypeStmt": "a composite type",
    "RuleStmt": "a rule",
    "CreatePolicyStmt": "a row-level security policy",
    "InsertStmt": "data (INSERT)",
    "CopyStmt": "data (COPY)",
    "CreateTableAsStmt": "a table made from a query",
}
# CREATE AGGREGATE, OPERATOR, TYPE, COLLATION … share one parse node; say which it is.
DEFINED = {
    "OBJECT_AGGREGATE": "an aggregate function",
    "OBJECT_OPERATOR": "an operator",
    "OBJECT_TYPE": "a type",
    "OBJECT_COLLATION": "a collation",
}
# ALTER TABLE clauses (pg_dump's) that change nothing a design holds.
IGNORED_CLAUSES = {
    "AT_ChangeOwner": "OWNER TO",
    "AT_ValidateConstraint": "VALIDATE CONSTRAINT",
    "AT_ReplicaIdentity": "REPLICA IDENTITY",
    "AT_ClusterOn": "CLUSTER ON",
    "AT_SetStatistics": "SET STATISTICS",
    "AT_SetStorage": "SET STORAGE",
    "AT_SetRelOptions": "SET (storage options)",
}
SQL_SYNTAX = CoercionForm.COERCE_SQL_SYNTAX
# Constraints PostgreSQL may defer to the end of a transaction, in the words of a finding.
DEFERRABLE_KINDS = {
    "CONSTR_PRIMARY": "primary key",
    "CONSTR_UNIQUE": "unique",
    "CONSTR_FOREIGN": "foreign key",
    "CONSTR_EXCLUSION": "exclusion constraint",
}
OTHER_CONSTRAINTS = {
    "CONSTR_GENERATED": "a generated column's expression",
    "CONSTR_EXCLUSION": "an exclusion constraint",
}


def sql_words(node):
    """A parse node's name as the SQL words it stands for: CreateCastStmt -> CREATE CAST."""
    return " ".join(
        re.findall(r"[A-Z][a-z]*", node.removeprefix("AT_").removesuffix("Stmt"))
    ).upper()


def object_words(objtype):
    """OBJECT_MATVIEW -> MATERIALIZED VIEW."""
    words = (objtype or "OBJECT_RELATION").removeprefix("OBJECT_").replace("_", " ")
    return words.replace("MATVIEW", "MATERIALIZED VIEW")


def statement_words(kind, stmt):
    """What a statement the designer cannot represent creates, in plain words."""
    if kind == "CreateTableAsStmt" and stmt.get("objtype") == "OBJECT_MATVIEW":
        return "a materialized view"
    if kind == "DefineStmt":
        return DEFINED.get(stmt.get("kind"), "a type or operator definition")
    return WORDS.get(kind) or f"a {sql_words(kind)} statement"


def ignored_words(kind, stmt):
    """The SQL words of a statement that is not part of a design."""
    if kind == "GrantStmt" and not stmt.get("is_grant"):
        return "REVOKE"
    return IGNORED_STATEMENTS[kind]


def statement_subject(kind, stmt):
    """The name of what a statement creates, for the report (its SQL words when it has none)."""
    if isinstance(stmt.get("domainname"), list) and stmt["domainname"]:
        return names(stmt["domainname"])[-1]
    # A trigger's, policy's or rule's subject is its table (their own name is in the words).
    for key in ("view", "relation", "table", "sequence", "into", "typevar"):
        target = stmt.get(key)
        target = target.get("rel", target) if isinstance(target, dict) else None
        if isinstance(target, dict) and "relname" in target:
            return target["relname"]
    for key in ("funcname", "defnames", "typeName"):
        if isinstance(stmt.get(key), list) and stmt[key]:
            return names(stmt[key])[-1]
    for key in ("name", "extname", "schemaname"):
        if isinstance(stmt.get(key), str):
            return stmt[key]
    return sql_words(kind)


def own_name(stmt):
    """The name of a trigger, policy or rule (their subject is the table they are on)."""
    for key in ("trigname", "policy_name", "rulename"):
        if isinstance(stmt.get(key), str):
            return stmt[key]
    return None


# psql's meta-commands that read another file into this one.
INCLUDES = ("\\i", "\\ir", "\\include", "\\include_relative")


# How deep a CHECK or an index expression may nest to be kept as a structure item (it is
# read again as pglast's objects and deparsed, which recurse): deeper ones are findings.
MAX_KEPT_DEPTH = 100


def deeper_than(node, limit):
    """Whether a JSON parse tree nests more than `limit` levels (walked without recursion)."""
    pending = [(node, 0)]
    while pending:
        item, depth = pending.pop()
        if depth > limit:
            return True
        if isinstance(item, dict):
            pending.extend((value, depth + 1) for value in item.values())
        elif isinstance(item, list):
            pending.extend((value, depth + 1) for value in item)
    return False


def read_sql(text, deadline=NO_DEADLINE):
    """A Source from SQL text; ValidationFailed (with the line) when it does not parse.

    The file is read a piece at a time (designer.interchange.sql_pieces): only one
    statement's tree is ever held, data is noted without one, and the caps on statements
    and tables refuse a file before the rest of it is parsed.
    """
    text, commands = psql_meta_commands(text)  # blanked where they were: lines stay
    source = text.encode("utf-8")
    reader = SqlReader(source, line_numbers(source))
    if commands:
        line_of = line_numbers(text)
        for offset, command in commands:
            reader.meta_command(line_of(offset), command)
    done = 0
    pieces = Pieces(text, deadline)
    for start, read in pieces:
        reader.base += len(text[done:start].encode("utf-8"))
        done = start
        # Where this piece ends: its last statement's tree says no length, and reading "to
        # the end of the file" parsed the rest of the file again for every kept expression.
        reader.piece_end = reader.base + len(text[start : pieces.stop].encode("utf-8"))
        if isinstance(read, Data):
            words = f"{WORDS[read.kind]} cannot be represented"
            reader.note(UNREPRESENTABLE, reader.line_of(reader.base), read.table, words)
            continue
        for raw in read:
            kind, stmt = unwrap(raw["stmt"])
            reader.statement_at(raw.get("stmt_location", 0), raw.get("stmt_len", 0))
            reader.statement(kind, stmt, reader.line_of(reader.base + raw.get("stmt_location", 0)))
        read = raw = stmt = None  # this tree goes before the next is built, not after
    reader.sequences_kept()
    reader.unique_indexes_kept()
    return reader.source


# Sequence options as PostgreSQL has them anyway (pg_dump writes them all): nothing lost.
DEFAULT_OPTIONS = {"start": 1, "increment": 1, "cache": 1, "minvalue": None, "maxvalue": None}


def default_option(option):
    """Whether a sequence option is PostgreSQL's default, or one the design keeps otherwise
    (its type is the column's, its owner and name the column's)."""
    name = option.get("defname")
    if name in ("as", "owned_by", "sequence_name"):
        return True
    if name not in DEFAULT_OPTIONS:
        return False
    arg = option.get("arg")
    value = unwrap(arg)[1].get("ival", 0) if arg is not None else None
    return value == DEFAULT_OPTIONS[name]


# Sequence options a design keeps (as sequence_start, sequence_increment).
KEPT_OPTIONS = {"start": "sequence_start", "increment": "sequence_increment"}


def kept_option(option):
    arg = option.get("arg")
    return option.get("defname") in KEPT_OPTIONS and arg is not None and "Integer" in arg


def kept_options(options):
    """{sequence_start, sequence_increment} of a sequence's options (PostgreSQL's 1 left out)."""
    found = {}
    for option in options:
        if kept_option(option):
            value = unwrap(option["arg"])[1].get("ival", 0)
            if value != 1:
                found[KEPT_OPTIONS[option["defname"]]] = value
    return found


def modifier_text(node):
    """A type modifier's text: a constant's, or a bare word's (geometry(Point, 4326));
    None for anything else."""
    kind, body = unwrap(node)
    if kind == "ColumnRef" and len(body.get("fields") or ()) == 1:
        return names(body["fields"])[0] or None
    value = expressions.constant(node) if kind == "A_Const" else None
    if value is None:
        return None
    return expressions.quoted(value) if "sval" in body else value


# The statements a constraint's expression is read again in (SqlReader.expression_at): the
# grammar it had in its own statement, with nothing else around it.
AGAIN = {
    "check": "CREATE TABLE t (CHECK ({}\n))",
    "generated": "CREATE TABLE t (c int GENERATED ALWAYS AS ({}\n) STORED)",
}


def read_again(kind, inner):
    """(deparsed, SQL-syntax calls) of an expression's text read in AGAIN[kind], or None."""
    try:
        statement = parse_sql(AGAIN[kind].format(inner))
        if len(statement) != 1:
            return None
        element = statement[0].stmt.tableElts[0]
        found = element if kind == "check" else element.constraints[0]
    except (ParseError, RecursionError, IndexError, AttributeError):
        return None
    if not isinstance(found, ast.Constraint) or found.raw_expr is None:
        return None
    return deparsed(found.raw_expr), sql_syntax_calls(found.raw_expr)


def sql_syntax_calls(tree):
    """The names of the functions called in the SQL standard's syntax in a tree, sorted."""
    return sorted(
        {
            node.funcname[-1].sval
            for node in nodes(tree)
            if isinstance(node, ast.FuncCall) and node.funcformat == SQL_SYNTAX
        }
    )


class SqlReader:
    def __init__(self, text, line_of):
        self.text = text
        self.line_of = line_of
        self.source = Source()
        # Tables whose inheritance or partitioning is not kept (their indexes say so too).
        self.unpartitioned = set()
        # One-column unique indexes: (table, column, structure item, line, statement).
        self.unique_indexes = []
        # The byte offset of the statement being read: its tree's locations count from it.
        self.base = 0
        # The statement's own bytes (start, end), and its tree as pglast's objects, made only
        # when an expression of it is kept (a CHECK, an index): they deparse.
        self.span = (0, 0)
        self.piece_end = len(text)
        self.objects = None
        # {(kind, text): (deparsed, SQL-syntax calls) or None} of the expressions read again
        # (expression_at): a file's tables often repeat them.
        self.expressions = {}

    def statement_at(self, location, length):
        start = self.base + location
        self.span = (start, start + length if length else self.piece_end)
        self.objects = None

    def statement_objects(self):
        """The statement as pglast's objects (its locations count from its own start)."""
        if self.objects is None:
            start, end = self.span
            try:
                self.objects = parse_sql(self.text[start:end].decode("utf-8"))[0].stmt
            except (ParseError, RecursionError, IndexError, UnicodeDecodeError):
                self.objects = False
        return self.objects

    def expression_at(self, body, kind):
        """(deparsed, the calls in SQL syntax) of a constraint's expression (a CHECK's, a
        generated column's): the first parenthesized group from the constraint's location,
        read again alone in a statement of that constraint only (AGAIN), once per text; None
        when it cannot be. Reading the whole statement again as objects cost most of a
        preview of generated tables' CHECKs."""
        location = body.get("location")
        if location is None:
            return None
        try:
            text = self.text[self.base + location : self.span[1]].decode("utf-8")
            depth, opened = 0, None
            for token in scan(text):
                if token.name == "ASCII_40":
                    opened = token.end + 1 if opened is None else opened
                    depth += 1
                elif token.name == "ASCII_41":
                    depth -= 1
                    if opened is None or depth < 0:
                        return None
                    if depth == 0:
                        inner = text[opened : token.start]
                        break
            else:
                return None
        except (ParseError, UnicodeDecodeError):
            return None
        if (kind, inner) not in self.expressions:
            self.expressions[kind, inner] = read_again(kind, inner)
        return self.expressions[kind, inner]

    def at(self, body):
        location = body.get("location")
        return self.line_of(None if location is None else self.base + location)

    def text_of(self, expr):
        """The text of an expression, as the file has it (for the report)."""
        return expressions.text_at(self.text, self.base + expressions.start_of(expr))

    def note(self, *finding):
        self.source.note(*finding)

    def ignore(self, line, subject, words):
        self.note(IGNORED, line, subject, f"{words} is not part of a design")

    def meta_command(self, line, command):
        """A psql meta-command: a finding (a file it includes is not read, so said louder)."""
        name = command.split()[0]
        if name in INCLUDES:
            words = f"psql's {name} (another file, not read by this import) cannot be represented"
            self.note(UNREPRESENTABLE, line, command[:200], words)
        else:
            self.ignore(line, command[:200], f"psql's {name}")

    def statement(self, kind, stmt, line):
        handler = getattr(self, f"read_{kind}", None)
        subject = statement_subject(kind, stmt)
        if handler is not None:
            handler(stmt, line)
        elif kind in IGNORED_STATEMENTS:
            self.ignore(line, subject, ignored_words(kind, stmt))
        else:
            words = statement_words(kind, stmt)
            if own_name(stmt):
                words = f"{words} ({own_name(stmt)})"
            self.note(UNREPRESENTABLE, line, subject, f"{words} cannot be represented")

    def read_CreateStmt(self, stmt, line):
        name = stmt["relation"]["relname"]
        if name in self.source.tables:
            words = "a second table of this name (another schema) is skipped"
            self.note(UNREPRESENTABLE, line, name, words)
            return
        table = SourceTable(name=name, line=line)
        self.source.tables[name] = table
        import_limits.refuse_tables(len(self.source.tables))
        if stmt.get("partbound") is not None:
            self.partition(table, stmt, line)
        elif stmt.get("inhRelations") or stmt.get("ofTypename"):
            self.note(UNREPRESENTABLE, line, name, "inheritance or OF type is not kept")
            self.unpartitioned.add(name)
        if stmt.get("partspec") is not None:
            self.partitioned(table, line)
        for element in stmt.get("tableElts", []):
            kind, body = unwrap(element)
            if table.partition_of:
                words = "a partition's own column options and constraints are not kept"
                self.note(UNREPRESENTABLE, self.at(body), name, words)
            elif kind == "ColumnDef":
                self.column(table, body)
            elif kind == "Constraint":
                self.constraint(table, body, None)
            else:
                self.note(UNREPRESENTABLE, self.at(body), name, "LIKE clauses are not kept")

    def partitioned(self, table, line):
        """PARTITION BY: the method and each key as SQL, as pglast deparses them."""
        found = self.statement_objects()
        spec = found.partspec if isinstance(found, ast.CreateStmt) else None
        if spec is None:
            self.note(UNREPRESENTABLE, line, table.name, "PARTITION BY could not be read again")
            return
        method = {"r": "range", "l": "list", "h": "hash"}.get(getattr(spec.strategy, "value", None))
        keys = [deparsed(element).removeprefix(" ") for element in spec.partParams or ()]
        table.partition_by = (method, keys, line)

    def partition(self, table, stmt, line):
        """CREATE TABLE … PARTITION OF parent FOR VALUES …: its parent and its bound."""
        parents = stmt.get("inhRelations") or []
        found = self.statement_objects()
        if len(parents) != 1 or not isinstance(found, ast.CreateStmt):
            self.note(UNREPRESENTABLE, line, table.name, "PARTITION OF could not be read again")
            return
        parent = unwrap(parents[0])[1]["relname"]
        table.partition_of = (parent, deparsed(found.partbound), line)

    def column(self, table, element):
        type_name = element["typeName"]
        base = names(type_name["names"])[-1]
        if base in self.source.enums and not type_name.get("typmods"):
            self.enum_column(table, element, base, len(type_name.get("arrayBounds") or ()))
            return
        data_type, settings, problem = self.typed(type_name)
        line = self.at(element)
        if problem:
            self.note(problem[0], line, f"{table.name}.{element['colname']}", problem[1])
            if problem[0] == UNREPRESENTABLE:
                table.lost_types.add(element["colname"])
        collation = names((element.get("collClause") or {}).get("collname"))
        if collation and collation[-1] == "default":
            collation = []  # pg_dump's pg_catalog."default": the database's own
        if collation and data_type == "text":
            settings = {**settings, "collation": collation[-1]}
        elif collation:
            words = f"COLLATE {collation[-1]} is kept for text columns only"
            self.note(UNREPRESENTABLE, line, f"{table.name}.{element['colname']}", words)
        serial = base.lower() in SERIALS
        column = SourceColumn(
            name=element["colname"], data_type=data_type, settings=settings, line=line,
            generated_key=serial, serial=serial,
        )  # fmt: skip
        table.columns[column.name] = column
        for constraint in element.get("constraints", []):
            self.constraint(table, unwrap(constraint)[1], column.name)

    def typed(self, type_name, depth=0):
        """(data_type, settings, problem) of a column's type: a domain the file creates
        as its base type (its own rules are a finding), a type the file defines otherwise
        as text (the designer creates no such type), any other by map_type."""
        base = names(type_name["names"])[-1]
        texts = [modifier_text(m) for m in type_name.get("typmods", [])]
        modifiers = [int(m) for m in texts if m is not None and m.lstrip("-").isdigit()]
        dimensions = len(type_name.get("arrayBounds") or ())
        if base in self.source.domains and depth < 8 and not texts:
            data_type, settings, problem = self.typed(self.source.domains[base], depth + 1)
            if dimensions and problem is None:
                settings["array_dimensions"] = dimensions
            words = f"domain {base} becomes its type; its own NOT NULL, CHECK and DEFAULT are not"
            return data_type, settings, problem or (IMPERFECT, words)
        if base in self.source.defined:
            words = f"{base} is a type the file defines, which a design cannot; imported as text"
            return "text", {}, (UNREPRESENTABLE, words)
        if None in texts:
            words = f"{base} with a modifier that is not a constant; imported as text"
            return "text", {}, (UNREPRESENTABLE, words)
        if base == "interval" and modifiers:
            # The parser's modifiers: the fields (all, or some), then the precision.
            if modifiers[0] != INTERVAL_ALL_FIELDS:
                words = "an interval of some fields (DAY, HOUR TO MINUTE...) becomes interval"
                return "date", {"date_type": "interval"}, (IMPERFECT, words)
            modifiers = modifiers[1:]
        parts = names(type_name["names"])
        if len(parts) == 2 and parts[0] in configured.type_schemas:
            # An extension's type (pg_dump qualifies it: public.vector(20)): found by its name
            # in the target's shared type schemas, wherever the target installed it.
            parts = parts[1:]
        named = named_text(parts, texts)
        return map_type(base, modifiers, dimensions, named)

    def read_CreateDomainStmt(self, stmt, line):
        name = names(stmt.get("domainname"))[-1]
        self.source.domains.setdefault(name, stmt["typeName"])
        self.note(UNREPRESENTABLE, line, name, "a domain cannot be represented")

    def defines(self, kind, stmt, line):
        """A type the file creates (composite, range, base): named so columns of it are text."""
        for key in ("typevar", "typeName", "defnames"):
            found = stmt.get(key)
            name = found.get("relname") if isinstance(found, dict) else None
            name = name or (names(found)[-1] if isinstance(found, list) and found else None)
            if name:
                self.source.defined.add(name)
                break
        self.note(UNREPRESENTABLE, line, statement_subject(kind, stmt),
                  f"{statement_words(kind, stmt)} cannot be represented")  # fmt: skip

    def read_CompositeTypeStmt(self, stmt, line):
        self.defines("CompositeTypeStmt", stmt, line)

    def read_CreateRangeStmt(self, stmt, line):
        self.defines("CreateRangeStmt", stmt, line)

    def read_DefineStmt(self, stmt, line):
        if stmt.get("kind") == "OBJECT_TYPE":
            self.defines("DefineStmt", stmt, line)
        else:
            self.note(UNREPRESENTABLE, line, statement_subject("DefineStmt", stmt),
                      f"{statement_words('DefineStmt', stmt)} cannot be represented")  # fmt: skip

    def enum_column(self, table, element, name, dimensions):
        """A column of an enum type the file created: an enum field."""
        settings = {"text_type": "enum", "enum_name": name}
        if dimensions:
            settings["array_dimensions"] = dimensions
        column = SourceColumn(
            name=element["colname"], data_type="text", settings=settings, line=self.at(element)
        )
        table.columns[column.name] = column
        for constraint in element.get("constraints", []):
            self.constraint(table, unwrap(constraint)[1], column.name)

    def read_CreateEnumStmt(self, stmt, line):
        """CREATE TYPE name AS ENUM (labels): a project enum (by its last name)."""
        name = names(stmt.get("typeName"))[-1]
        labels = [unwrap(v)[1].get("sval", "") for v in stmt.get("vals", [])]
        if name in self.source.enums:
            self.note(UNREPRESENTABLE, line, name, "a second enum of this name is skipped")
            return
        self.source.enums[name] = labels
        self.source.enum_lines[name] = line

    def read_AlterEnumStmt(self, stmt, line):
        """ALTER TYPE name ADD VALUE / RENAME VALUE on an enum the file created."""
        name = names(stmt.get("typeName"))[-1]
        labels = self.source.enums.get(name)
        new = stmt.get("newVal")
        if labels is None or not new:
            self.note(UNREPRESENTABLE, line, name, "ALTER TYPE of a type the file does not create")
        elif stmt.get("oldVal"):
            if stmt["oldVal"] in labels:
                labels[labels.index(stmt["oldVal"])] = new
        elif new not in labels:
            neighbour = stmt.get("newValNeighbor")
            if neighbour not in labels:
                labels.append(new)
            else:
                labels.insert(labels.index(neighbour) + bool(stmt.get("newValIsAfter")), new)

    def constraint(self, table, node, column_name):
        kind = node.get("contype")
        line = self.at(node)
        column = table.columns.get(column_name) if column_name else None
        keys = names(node.get("keys")) or [column_name]
        self.timing(table, node, line)
        if kind == "CONSTR_NOTNULL" and keys[0] in table.columns:
            table.columns[keys[0]].is_required = True
        elif kind == "CONSTR_DEFAULT" and column:
            self.default(table, column, node.get("raw_expr"), line)
        elif kind == "CONSTR_IDENTITY" and column:
            self.identity(table, column, node, line)
        elif kind == "CONSTR_GENERATED" and column:
            self.generated(table, column, node, line)
        elif kind == "CONSTR_PRIMARY":
            table.primary_key = keys
        elif kind == "CONSTR_UNIQUE":
            self.unique(table, keys, line, node)
        elif kind == "CONSTR_CHECK":
            self.check(table, node, line)
        elif kind == "CONSTR_FOREIGN":
            self.reference(table, node, column_name, line)
        elif kind != "CONSTR_NULL":
            words = OTHER_CONSTRAINTS.get(kind, "a constraint")
            self.note(UNREPRESENTABLE, line, table.name, f"{words} cannot be represented")

    def timing(self, table, node, line):
        """What the design does not hold of when a constraint is checked: DEFERRABLE (a
        design's keys are checked at once) and NOT VALID (a deploy validates every row)."""
        kind = node.get("contype")
        what = DEFERRABLE_KINDS.get(kind)
        if what and (node.get("deferrable") or node.get("initdeferred")):
            words = f"{what} {node.get('conname') or ''} is DEFERRABLE in the file"
            words += ": the design's is checked at once (NOT DEFERRABLE)"
            self.note(IMPERFECT, line, table.name, " ".join(words.split()))
        if kind in ("CONSTR_FOREIGN", "CONSTR_CHECK") and node.get("skip_validation"):
            what = "foreign key" if kind == "CONSTR_FOREIGN" else "CHECK"
            words = f"{what} {node.get('conname') or ''} is NOT VALID in the file"
            words += ": a deploy validates it against every row"
            self.note(IMPERFECT, line, table.name, " ".join(words.split()))

    def generated(self, table, column, node, line):
        """GENERATED ALWAYS AS (expression) STORED | VIRTUAL: the expression as pglast
        deparses it (columns by name here; by field id once the plan gives ids)."""
        expression = self.expression_at(node, "generated")
        text = self.text_of(node["raw_expr"]) if node.get("raw_expr") else ""
        if expression is None or deeper_than(node, MAX_KEPT_DEPTH):
            words = f"generated column expression ({text[:80]}) could not be read; not kept"
            self.note(UNREPRESENTABLE, line, f"{table.name}.{column.name}", words)
            return
        column.generated = expression[0]
        column.virtual = node.get("generated_kind") == "v"
        column.generated_line = line

    def identity(self, table, column, node, line):
        """GENERATED ALWAYS | BY DEFAULT AS IDENTITY, with its sequence's name."""
        column.generated_key = column.is_required = True
        column.identity = "always" if node.get("generated_when") == "a" else "by_default"
        options = [unwrap(o)[1] for o in node.get("options") or ()]
        for option in options:
            if option.get("defname") == "sequence_name":
                column.sequence_name = names(unwrap(option.get("arg"))[1].get("items"))[-1]
        column.sequence_settings = kept_options(options)
        other = [o["defname"] for o in options if not default_option(o) and not kept_option(o)]
        if other:
            words = f"its identity's sequence options ({', '.join(other)}) are not kept"
            self.note(IMPERFECT, line, f"{table.name}.{column.name}", words)

    def read_CreateSeqStmt(self, stmt, line):
        name = stmt["sequence"]["relname"]
        if name in self.source.sequences:
            self.ignore(line, name, "CREATE SEQUENCE")
            return
        self.source.sequences[name] = SourceSequence(name, line, lines=[line])
        self.sequence_options(name, stmt, line)

    def read_AlterSeqStmt(self, stmt, line):
        name = stmt["sequence"]["relname"]
        if name not in self.source.sequences:
            self.ignore(line, name, "ALTER SEQUENCE")
            return
        self.source.sequences[name].lines.append(line)
        self.sequence_options(name, stmt, line)

    def sequence_options(self, name, stmt, line):
        sequence = self.source.sequences[name]
        for option in (unwrap(o)[1] for o in stmt.get("options") or ()):
            if option.get("defname") == "owned_by":
                owner = names(unwrap(option.get("arg"))[1].get("items"))
                sequence.owner = tuple(owner[-2:]) if len(owner) >= 2 else None
            elif kept_option(option):
                sequence.settings.update(kept_options([option]))
            elif not default_option(option):
                sequence.options.append((option.get("defname"), line))

    def sequences_kept(self):
        """A sequence the file creates and exactly one column's nextval() default names is
        that column's own (serial); any other stays a finding, as do its columns' defaults."""
        users = {}
        for table in self.source.tables.values():
            # A partition's columns are its parent's (pg_dump writes them out again).
            for column in table.columns.values() if table.partition_of is None else ():
                if column.nextval is not None:
                    users.setdefault(column.nextval, []).append((table, column))
        for name, sequence in self.source.sequences.items():
            found = users.get(name, [])
            if len(found) != 1 or found[0][1].settings.get("array_dimensions"):
                for line in sequence.lines:
                    self.ignore(line, name, "a sequence no column owns")
                continue
            table, column = found[0]
            column.serial, column.sequence_name = True, name
            column.sequence_settings = dict(sequence.settings)
            subject = f"{table.name}.{column.name}"
            for option, line in sequence.options:
                self.note(IMPERFECT, line, subject, f"its sequence's {option} is not kept")
            if sequence.owner != (table.name, column.name):
                words = f"sequence {name} is not owned by {subject}: deployed as its own (serial)"
                for line in sequence.lines + [column.default_line]:
                    self.note(IMPERFECT, line, subject, words)

    def default(self, table, column, expr, line):
        value, problem = expressions.default_value(expr)
        if value is None and problem is None:
            # DEFAULT NULL: the same rows as no default, though the catalog keeps one.
            words = "DEFAULT NULL is not kept: no default, which fills NULL all the same"
            self.note(IMPERFECT, line, f"{table.name}.{column.name}", words)
        elif value is expressions.SERIAL_DEFAULT:
            column.generated_key = True
            column.nextval = expressions.sequence_of(expr)
            column.default_line = line
        elif problem:
            text = self.text_of(expr)
            words = f"default {text} has no designer equivalent; dropped"
            self.note(UNREPRESENTABLE, line, f"{table.name}.{column.name}", words)
        else:
            column.default_value = value

    def unique(self, table, keys, line, node):
        if len(keys) == 1 and keys[0] in table.columns:
            table.columns[keys[0]].unique = True
            table.mention("constraint", keys[0])
        elif node.get("including") or node.get("nulls_not_distinct") or node.get("indexspace"):
            words = f"unique ({', '.join(keys)}) with INCLUDE, NULLS NOT DISTINCT or a tablespace"
            self.note(UNREPRESENTABLE, line, table.name, f"{words} cannot be represented")
        else:
            data = {"name": node.get("conname"), "columns": keys}
            table.structure.append(("uniques", data, line))

    def check(self, table, node, line):
        expr = node.get("raw_expr")
        rules = expressions.check_rules(expr)
        columns = {rule[0] for rule in rules or ()}
        text = self.text_of(expr)
        # A CHECK of several terms (a range, a bound and NOT NULL) stays one constraint, a
        # table CHECK with its name: as rules it would come back as a CHECK for each. (One
        # too deep to keep whole is still kept as its rules.)
        several = rules is not None and len(rules) > 1 and not deeper_than(expr, MAX_KEPT_DEPTH)
        if rules is None or several or len(columns) != 1 or not columns <= table.columns.keys():
            if deeper_than(expr, MAX_KEPT_DEPTH):
                words = f"CHECK ({text[:80]}…) nests too deeply to be kept"
                self.note(UNREPRESENTABLE, line, table.name, words)
                return
            expression = self.expression_at(node, "check")
            if expression is None:
                words = f"CHECK ({text}) could not be read again"
                self.note(UNREPRESENTABLE, line, table.name, words)
                return
            self.said_sql_syntax(table, expression[1], line, f"CHECK ({text[:80]})")
            data = {"name": node.get("conname"), "expression": expression[0]}
            data["source_text"] = f"CHECK ({text})"
            table.structure.append(("checks", data, line))
            return
        column = table.columns[columns.pop()]
        table.mention("constraint", column.name)
        column.checks += [(rule, value, line, text) for _, rule, value in rules]
        if node.get("conname"):
            column.check_names[text] = node["conname"]

    def reference(self, table, node, column_name, line):
        self.source.references.append(
            SourceReference(
                table=table.name, columns=names(node.get("fk_attrs")) or [column_name],
                ref_table=node["pktable"]["relname"],
                ref_columns=names(node.get("pk_attrs")) or None,
                on_delete=ACTIONS.get(node.get("fk_del_action"), "no_action"),
                on_update=ACTIONS.get(node.get("fk_upd_action"), "no_action"),
                name=node.get("conname"), line=line,
            )
        )  # fmt: skip

    def read_AlterTableStmt(self, stmt, line):
        name = stmt["relation"]["relname"]
        cmds = [unwrap(cmd)[1] for cmd in stmt.get("cmds", [])]
        if stmt.get("objtype") != "OBJECT_TABLE":
            self.ignore(line, name, f"ALTER {object_words(stmt.get('objtype'))}")
            return
        if cmds and all(cmd.get("subtype") in IGNORED_CLAUSES for cmd in cmds):
            # pg_dump sets a sequence's or a view's owner with ALTER TABLE too: no table needed.
            for cmd in cmds:
                self.ignore(line, name, IGNORED_CLAUSES[cmd["subtype"]])
            return
        table = self.source.table(name, line)
        for cmd in cmds if table is not None else ():
            self.alter(table, cmd, line)

    def alter(self, table, cmd, line):
        subtype = cmd.get("subtype")
        column = table.columns.get(cmd.get("name"))
        if table.partition_of and subtype == "AT_AddConstraint":
            body = unwrap(cmd["def"])[1]
            if body.get("contype") == "CONSTR_FOREIGN":
                columns = names(body.get("fk_attrs"))
                subject = f"{table.name}({', '.join(columns)}) → {body['pktable']['relname']}"
            else:
                subject = table.name
            words = "a constraint of a partition is not kept: its keys are its parent's"
            self.note(UNREPRESENTABLE, line, subject, words)
        elif subtype == "AT_AddConstraint":
            self.constraint(table, unwrap(cmd["def"])[1], None)
        elif subtype == "AT_ColumnDefault" and column and cmd.get("def"):
            self.default(table, column, cmd["def"], line)
        elif subtype == "AT_SetNotNull" and column:
            column.is_required = True
        elif subtype == "AT_AddIdentity" and column:
            self.identity(table, column, unwrap(cmd["def"])[1], line)
        elif subtype == "AT_AddColumn":
            self.column(table, unwrap(cmd["def"])[1])
        elif subtype in IGNORED_CLAUSES:
            self.ignore(line, table.name, IGNORED_CLAUSES[subtype])
        elif subtype == "AT_AttachPartition":
            self.attach(table, unwrap(cmd["def"])[1]["name"]["relname"], line)
        else:
            words = f"ALTER TABLE … {sql_words(subtype)} cannot be represented"
            self.note(UNREPRESENTABLE, line, table.name, words)

    def attach(self, parent, name, line):
        """ALTER TABLE parent ATTACH PARTITION name FOR VALUES … (pg_dump's form)."""
        found = self.statement_objects()
        bound = None
        for cmd in getattr(found, "cmds", None) or ():
            definition = getattr(cmd, "def_", None)
            if isinstance(definition, ast.PartitionCmd) and definition.name.relname == name:
                bound = definition.bound
        partition = self.source.tables.get(name)
        if partition is None or bound is None or partition.partition_of:
            self.note(UNREPRESENTABLE, line, name, f"partition of {parent.name} is not kept")
            return
        partition.partition_of = (parent.name, deparsed(bound), line)

    def read_IndexStmt(self, stmt, line):
        name = stmt["relation"]["relname"]
        table = self.source.table(name, line)
        if table is None:
            return
        if table.partition_of:
            words = "an index of a partition is not kept: its indexes are its parent's"
            self.note(UNREPRESENTABLE, line, name, words)
            return
        if name in self.unpartitioned:
            # A partitioned table's index, whose partitions attach theirs: a plain one here.
            words = f"index {stmt.get('idxname') or ''} of a partitioned table becomes a plain one"
            self.note(IMPERFECT, line, name, " ".join(words.split()))
        params = [unwrap(p)[1] for p in stmt.get("indexParams", [])]
        column = params[0].get("name") if len(params) == 1 else None
        plain = (
            column in table.columns
            and stmt.get("whereClause") is None
            and stmt.get("accessMethod", "btree") == "btree"
            and set(params[0]) <= {"name", "ordering", "nulls_ordering"}
            and params[0].get("ordering", "SORTBY_DEFAULT") == "SORTBY_DEFAULT"
            and params[0].get("nulls_ordering", "SORTBY_NULLS_DEFAULT") == "SORTBY_NULLS_DEFAULT"
            and not stmt.get("indexIncludingParams")
        )
        if not plain and deeper_than(stmt, MAX_KEPT_DEPTH):
            words = f"index {stmt.get('idxname') or ''} nests too deeply to be kept"
            self.note(UNREPRESENTABLE, line, name, words)
            return
        if not plain:
            self.index(table, stmt, line)
            return
        read = table.columns[column]
        table.mention("index", column)
        if stmt.get("unique"):
            # Kept as the unique index it is, unless a foreign key names the column: the
            # design's references point at a key or a UNIQUE constraint (see unique_indexes).
            before = len(table.structure)
            self.index(table, stmt, line)
            if len(table.structure) > before:
                self.unique_indexes.append((table, column, table.structure[-1], line, stmt))
            return
        read.indexed = True

    def unique_indexes_kept(self):
        """A one-column unique index that a foreign key of the file references becomes the
        column's UNIQUE constraint (said); every other stays the unique index it is."""
        referenced = {
            (ref.ref_table, ref.ref_columns[0])
            for ref in self.source.references
            if ref.ref_columns and len(ref.ref_columns) == 1
        }
        for table, column, item, line, stmt in self.unique_indexes:
            if (table.name, column) not in referenced:
                continue
            table.structure.remove(item)
            table.columns[column].unique = True
            words = f"unique index ({stmt.get('idxname')}) becomes a UNIQUE constraint"
            self.note(IMPERFECT, line, table.name, words + ": a foreign key references it")

    def index(self, table, stmt, line):
        """An index of any kind, kept whole as a structure item."""
        found = self.statement_objects()
        if not isinstance(found, ast.IndexStmt) or stmt.get("tableSpace") or stmt.get("options"):
            words = f"index {stmt.get('idxname') or ''} with a tablespace or storage options"
            self.note(UNREPRESENTABLE, line, table.name, f"{words} cannot be represented")
            return
        self.sql_syntax(table, found, line, f"index {found.idxname or ''}")
        data = {
            "name": found.idxname,
            "method": found.accessMethod or "btree",
            "unique": bool(found.unique),
            "keys": [key_input(element, deparsed) for element in found.indexParams],
            "include": [e.name for e in found.indexIncludingParams or ()],
            "where": deparsed(found.whereClause) if found.whereClause is not None else None,
        }
        table.structure.append(("indexes", data, line))

    def sql_syntax(self, table, tree, line, what):
        """A call in the SQL standard's syntax (NORMALIZE(x, NFKC), EXTRACT(year FROM d),
        TRIM(BOTH FROM x)…) is kept as the plain function call it means, which the catalog
        then prints as such: the same expression, written differently, said so."""
        self.said_sql_syntax(table, sql_syntax_calls(tree), line, what)

    def said_sql_syntax(self, table, calls, line, what):
        if calls:
            words = f"{what}: {', '.join(c.upper() for c in calls)}(…) in SQL syntax is kept"
            words += " as the same function's plain call, which the catalog prints so"
            self.note(IMPERFECT, line, table.name, " ".join(words.split()))

    def read_CommentStmt(self, stmt, line):
        parts = names(unwrap(stmt.get("object"))[1].get("items", []))
        comment = stmt.get("comment") or ""
        objtype = stmt.get("objtype")
        if objtype == "OBJECT_TABLE" and parts:
            table = self.source.table(parts[-1], line)
            if table is not None:
                table.description = comment
        elif objtype == "OBJECT_COLUMN" and len(parts) >= 2:
            table = self.source.table(parts[-2], line)
            if table is not None and parts[-1] in table.columns:
                table.columns[parts[-1]].description = comment
        elif objtype == "OBJECT_TABCONSTRAINT" and len(parts) >= 2:
            self.source.item_comments[(parts[-2], parts[-1])] = (comment, line)
        elif objtype == "OBJECT_INDEX" and parts:
            self.source.item_comments[(None, parts[-1])] = (comment, line)
        else:
            subject = parts[-1] if parts else "COMMENT"
            self.ignore(line, subject, f"COMMENT ON {object_words(objtype)}")
