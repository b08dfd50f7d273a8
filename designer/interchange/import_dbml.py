"""DBML (dbdiagram, ChartDB, drawDB) read with pydbml into an import Source.

Column types go through the same PostgreSQL type map as SQL; `check:` lines of
a column's note (how designer.interchange.export_formats writes validation rules)
are read as CHECK expressions by PostgreSQL's parser. Enums, table groups,
composite indexes and many-to-many refs are findings. Pure: no database, no Flask.
"""

import contextlib
import gc
import json
import re

from pydbml.classes import Enum
from pydbml.classes import Expression
from pydbml.exceptions import ColumnNotFoundError
from pydbml.exceptions import DatabaseValidationError
from pydbml.exceptions import DBMLError
from pydbml.exceptions import TableNotFoundError
from pydbml.parser.parser import PyDBMLParser
from pyparsing import ParseBaseException

from designer.design.field_types import IDENTITY_KINDS
from designer.errors import ValidationFailed
from designer.interchange import import_expressions as expressions
from designer.interchange import import_limits
from designer.interchange.import_limits import NO_DEADLINE
from designer.interchange.import_source import IMPERFECT
from designer.interchange.import_source import UNREPRESENTABLE
from designer.interchange.import_source import Source
from designer.interchange.import_source import SourceColumn
from designer.interchange.import_source import SourceReference
from designer.interchange.import_source import SourceTable
from designer.interchange.import_types import SERIALS
from designer.interchange.import_types import map_type
from designer.interchange.import_types import parse_formatted

ACTIONS = {
    "cascade": "cascade",
    "restrict": "restrict",
    "set null": "set_null",
    "set default": "set_default",
    "no action": "no_action",
}


class Members(list):
    """A list whose `in` is a set lookup by identity. pydbml's Database asks `table in
    self.tables` before adding each table, and its objects' == copies and compares both
    objects' attributes: that made reading DBML quadratic (10,000 tables took 208 s).
    A table of a name already added is still refused, by the name."""

    def __init__(self):
        super().__init__()
        self.ids = set()

    def append(self, item):
        self.ids.add(id(item))
        super().append(item)

    def __contains__(self, item):
        return id(item) in self.ids


class LinearParser(PyDBMLParser):
    """pydbml's parser, its Database's tables and refs held in Members."""

    @property
    def database(self):
        return self._database

    @database.setter
    def database(self, value):
        if value is not None:
            value.tables, value.refs = Members(), Members()
        self._database = value


# What pydbml raises for DBML it parsed but cannot make a database of (a table named
# twice, a ref to a missing column, a table without columns).
NOT_A_DATABASE = (
    DatabaseValidationError, TableNotFoundError, ColumnNotFoundError, DBMLError, SyntaxError,
)  # fmt: skip
TABLE_LINE = re.compile(r"^\s*table\s", re.I | re.M)


@contextlib.contextmanager
def collecting():
    """The garbage collector on while pydbml reads, even inside an import that paused it:
    pyparsing leaves cyclic garbage (520 tables grew RSS by 685 MB without it)."""
    paused = not gc.isenabled()
    gc.enable()
    try:
        yield
    finally:
        if paused:
            gc.disable()


def parse(text):
    """pydbml's Database of `text`; ValidationFailed (with the line) when it is not DBML."""
    try:
        with collecting():
            return LinearParser(text.removeprefix("\ufeff")).parse()
    except ParseBaseException as exc:
        message = f"This is not DBML pydbml can read (line {exc.lineno}): {exc.msg}"
    except NOT_A_DATABASE as exc:
        message = f"This DBML does not describe a database: {exc}"
    raise ValidationFailed(message, {"file": message})


def read_dbml(text, deadline=NO_DEADLINE):
    """A Source from DBML text; ValidationFailed (with the line) when it does not parse."""
    import_limits.refuse_tables(len(TABLE_LINE.findall(text)))
    parsed = parse(text)
    deadline.check()
    source = Source()
    line_of = declarations(text)
    for enum in parsed.enums:
        source.enums[enum.name] = [item.name for item in enum.items]
    for table in parsed.tables:
        deadline.check()
        source.tables[table.name] = read_table(source, table, line_of("table", table.name))
    seen = set()
    for ref in parsed.refs:
        read_ref(source, ref, line_of("ref", ref.name) if ref.name else None, seen)
    for group in getattr(parsed, "table_groups", []):
        source.note(
            IMPERFECT, line_of("tablegroup", group.name), group.name, "table groups are not kept"
        )
    return source


DECLARATION = re.compile(r'^\s*(\w+)\s+(?:\w+\.)?(?:"([^"]*)"|([^\s{"]+))(?=\s|\{|$)')


def declarations(text):
    """A function from (keyword, name) to the line declaring it (`Table "name" {`), from
    one pass over the lines: looking each table up in every line was quadratic."""
    found = {}
    for number, line in enumerate(text.splitlines(), start=1):
        match = DECLARATION.match(line)
        if match:
            name = match[2] if match[2] is not None else match[3]
            found.setdefault((match[1].lower(), name), number)
    return lambda keyword, name: found.get((keyword, name))


def read_table(source, table, line):
    description, checks = table_note(table.note.text if table.note else "")
    result = SourceTable(name=table.name, line=line, description=description)
    for name, expression in checks:
        data = {"name": name, "expression": expression, "source_text": f"CHECK ({expression})"}
        result.structure.append(("checks", data, line))
    for column in table.columns:
        name, modifiers, dimensions = parse_formatted(str(column.type))
        data_type, settings, problem = map_type(name, modifiers, dimensions, named=name)
        if isinstance(column.type, Enum) or name in source.enums:
            data_type, settings, problem = "text", {"text_type": "enum", "enum_name": name}, None
            if dimensions:
                settings["array_dimensions"] = dimensions
        subject = f"{table.name}.{column.name}"
        if problem:
            source.note(problem[0], line, subject, problem[1])
            if problem[0] == UNREPRESENTABLE:
                result.lost_types.add(column.name)
        read = SourceColumn(
            name=column.name, data_type=data_type, settings=settings, line=line,
            is_required=bool(column.not_null), unique=bool(column.unique),
            generated_key=bool(column.autoinc) or name.lower() in SERIALS,
            serial=name.lower() in SERIALS,
        )  # fmt: skip
        if column.autoinc and not read.serial:
            read.identity = "by_default"  # increment: an identity, unless the note says
        read_default(source, read, column.default, line, subject)
        read_note(read, column.note.text if column.note else "", line)
        result.columns[column.name] = read
        if column.pk:
            result.primary_key.append(column.name)
    for index in table.indexes:
        read_index(source, result, index, line)
    return result


def read_default(source, column, value, line, subject):
    if value is None:
        return
    if isinstance(value, Expression):
        text = value.text.strip().lower()
        if text in (
            "now()",
            "current_date",
            "current_timestamp",
            "localtimestamp",
            "current_time",
            "localtime",
            "gen_random_uuid()",
            "uuidv7()",
        ):
            column.default_value = text
        else:
            source.note(
                UNREPRESENTABLE,
                line,
                subject,
                f"default `{value.text}` has no designer equivalent; dropped",
            )
        return
    if isinstance(value, bool):
        column.default_value = "true" if value else "false"
    else:
        # pydbml has read the string's escapes itself: reading them again lost a backslash.
        column.default_value = value if isinstance(value, str) else str(value)


def table_note(note):
    """(description, [(name or None, expression)]): a table's note without the `check:`
    lines the DBML export writes for its CHECKs (`check "<name>": ...` for a named one)."""
    kept, checks = [], []
    for text in note.split("\n"):
        if text.startswith("check: "):
            checks.append((None, text.removeprefix("check: ")))
            continue
        if text.startswith('check "'):
            try:
                name, end = json.JSONDecoder().raw_decode(text, len("check "))
            except ValueError:
                name, end = None, 0
            if isinstance(name, str) and text[end : end + 2] == ": ":
                checks.append((name, text[end + 2 :]))
                continue
        kept.append(text)
    return "\n".join(kept).strip(), checks


def read_note(column, note, line):
    """The column's description, and the validation rules of its `check:` lines."""
    kept = []
    # Lines end at \n only: splitlines() also cut at \r, \x1c, \u2028… of a description.
    for text in note.split("\n"):
        if text.startswith(("generated stored: ", "generated virtual: ")):
            kind, _, expression = text.partition(": ")
            column.generated, column.virtual = expression, kind == "generated virtual"
            column.generated_line = line
            continue
        if text.startswith("identity: ") and column.identity is not None:
            kind = text.removeprefix("identity: ").replace(" ", "_")
            column.identity = kind if kind in IDENTITY_KINDS else column.identity
            continue
        if text.startswith("sequence: ") and (column.identity or column.serial):
            column.sequence_name = text.removeprefix("sequence: ")
            continue
        setting = text.partition(": ")
        if (
            setting[0] in ("sequence start", "sequence increment")
            and setting[2].lstrip("-").isdigit()
        ):
            column.sequence_settings[setting[0].replace(" ", "_")] = int(setting[2])
            continue
        if not text.startswith("check: "):
            kept.append(text)
            continue
        expression = text.removeprefix("check: ")
        try:
            node = expressions.expression(expression)
        except expressions.TooDeep:
            import_limits.refuse_too_deep(line)
        rules = expressions.check_rules(node) if node is not None else None
        if rules and {rule[0] for rule in rules} == {column.name}:
            column.checks += [(rule, value, line, expression) for _, rule, value in rules]
        else:
            kept.append(text)
    column.description = "\n".join(kept).strip()


def read_index(source, table, index, line):
    subjects = [s.name if hasattr(s, "name") else str(s) for s in index.subjects]
    if index.pk:
        table.primary_key = subjects
    elif (
        len(subjects) == 1
        and subjects[0] in table.columns
        and all(hasattr(s, "name") for s in index.subjects)
        and (index.type or "btree").lower() == "btree"
        and not (index.unique and index.type)
    ):
        column = table.columns[subjects[0]]
        column.unique = column.unique or bool(index.unique)
        column.indexed = column.indexed or not index.unique
    else:
        read_structure_index(table, index, line)


def read_structure_index(table, index, line):
    """An index over several columns or expressions: a unique constraint (unique, columns
    only, no type) or an index, kept whole as a structure item (a unique one says its type,
    btree included: the designer's export writes it so)."""
    note = (index.note.text or None) if index.note else None
    name = index.name or None
    columns = [s.name if hasattr(s, "name") else None for s in index.subjects]
    method = (index.type or "btree").lower()
    if index.unique and None not in columns and not index.type:
        data = {"name": name, "columns": columns, "comment": note}
        table.structure.append(("uniques", data, line))
        return
    keys = [
        {"column": s.name} if hasattr(s, "name") else {"expression": s.text} for s in index.subjects
    ]
    data = {"name": name, "method": method, "unique": bool(index.unique), "keys": keys}
    table.structure.append(("indexes", {**data, "comment": note}, line))


def read_ref(source, ref, line, seen):
    """A DBML ref: `<` and `-` put the key first, `>` the foreign key first; a ref that
    repeats an earlier one exactly is refused (as pydbml did, by comparing all refs)."""
    one, many = (ref.col1, ref.col2) if ref.type in ("<", "-") else (ref.col2, ref.col1)
    key = (ref.name, ref.type, ref.on_delete, ref.on_update, *map(id, ref.col1 + ref.col2))
    if key in seen:
        message = f"This DBML does not describe a database: {ref} is there twice."
        raise ValidationFailed(message, {"file": message})
    seen.add(key)
    if ref.type == "<>":
        source.note(
            UNREPRESENTABLE, line, ref.name or "ref", "a many-to-many ref cannot be represented"
        )
        return
    source.references.append(
        SourceReference(
            table=many[0].table.name, columns=[c.name for c in many],
            ref_table=one[0].table.name, ref_columns=[c.name for c in one],
            on_delete=ACTIONS.get((ref.on_delete or "no action").lower(), "no_action"),
            on_update=ACTIONS.get((ref.on_update or "no action").lower(), "no_action"),
            name=ref.name, line=line,
        )
    )  # fmt: skip
