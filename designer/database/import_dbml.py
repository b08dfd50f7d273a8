"""DBML (dbdiagram, ChartDB, drawDB) read with pydbml into an import Source.

Column types go through the same PostgreSQL type map as SQL; `check:` lines of
a column's note (how designer.database.export_formats writes validation rules)
are read as CHECK expressions by PostgreSQL's parser. Enums, table groups,
composite indexes and many-to-many refs are findings. Pure: no database, no Flask.
"""

import re

from pydbml import PyDBML
from pydbml.classes import Expression
from pyparsing import ParseBaseException

from designer.database import import_expressions as expressions
from designer.database.import_source import IMPERFECT
from designer.database.import_source import UNREPRESENTABLE
from designer.database.import_source import Source
from designer.database.import_source import SourceColumn
from designer.database.import_source import SourceReference
from designer.database.import_source import SourceTable
from designer.database.import_types import SERIALS
from designer.database.import_types import map_type
from designer.database.import_types import parse_formatted
from designer.errors import ValidationFailed

ACTIONS = {
    "cascade": "cascade",
    "restrict": "restrict",
    "set null": "set_null",
    "set default": "set_default",
    "no action": "no_action",
}
ESCAPES = re.compile(r"\\(.)")


def unescaped(text):
    """A DBML string's text (pydbml leaves its backslash escapes in)."""
    return ESCAPES.sub(lambda m: "\n" if m.group(1) == "n" else m.group(1), text or "")


def read_dbml(text):
    """A Source from DBML text; ValidationFailed (with the line) when it does not parse."""
    try:
        parsed = PyDBML(text)
    except ParseBaseException as exc:
        message = f"This is not DBML pydbml can read (line {exc.lineno}): {exc.msg}"
        raise ValidationFailed(message, {"file": message}) from exc
    source = Source()
    lines = text.splitlines()

    def line_of(keyword, name):
        pattern = re.compile(rf'^\s*{keyword}\s+(?:\w+\.)?"?{re.escape(name)}"?(\s|\{{|$)', re.I)
        return next((n for n, line in enumerate(lines, start=1) if pattern.match(line)), None)

    for table in parsed.tables:
        source.tables[table.name] = read_table(source, table, line_of("Table", table.name))
    for ref in parsed.refs:
        read_ref(source, ref, line_of("Ref", ref.name) if ref.name else None)
    for enum in parsed.enums:
        source.note(
            UNREPRESENTABLE,
            line_of("Enum", enum.name),
            enum.name,
            "an enum type cannot be represented",
        )
    for group in getattr(parsed, "table_groups", []):
        source.note(
            IMPERFECT, line_of("TableGroup", group.name), group.name, "table groups are not kept"
        )
    return source


def read_table(source, table, line):
    result = SourceTable(
        name=table.name, line=line, description=unescaped(table.note.text if table.note else "")
    )
    for column in table.columns:
        name, modifiers, is_array = parse_formatted(str(column.type))
        data_type, settings, problem = map_type(name, modifiers, is_array)
        subject = f"{table.name}.{column.name}"
        if problem:
            source.note(problem[0], line, subject, problem[1])
        read = SourceColumn(
            name=column.name, data_type=data_type, settings=settings, line=line,
            is_required=bool(column.not_null), unique=bool(column.unique),
            generated_key=bool(column.autoinc) or name.lower() in SERIALS,
        )  # fmt: skip
        read_default(source, read, column.default, line, subject)
        read_note(read, unescaped(column.note.text if column.note else ""), line)
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
        column.default_value = unescaped(value) if isinstance(value, str) else str(value)


def read_note(column, note, line):
    """The column's description, and the validation rules of its `check:` lines."""
    kept = []
    for text in note.splitlines():
        if not text.startswith("check: "):
            kept.append(text)
            continue
        expression = text.removeprefix("check: ")
        node = expressions.expression(expression)
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
    ):
        column = table.columns[subjects[0]]
        column.unique = column.unique or bool(index.unique)
        column.indexed = column.indexed or not index.unique
    else:
        words = ", ".join(subjects)
        source.note(
            UNREPRESENTABLE, line, table.name, f"an index over ({words}) cannot be represented"
        )


def read_ref(source, ref, line):
    """A DBML ref: `<` and `-` put the key first, `>` the foreign key first."""
    one, many = (ref.col1, ref.col2) if ref.type in ("<", "-") else (ref.col2, ref.col1)
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
