"""What an imported file describes, before it becomes a design: tables, columns, keys,
references, and the findings of reading it (what maps imperfectly, what cannot be
represented, what was ignored), each with the line it comes from.

The SQL, DBML and catalog readers fill a Source; designer.interchange.import_plan turns
it into a snapshot. Pure: no database, no Flask.
"""

import bisect
import heapq
import re
from dataclasses import dataclass
from dataclasses import field

IMPERFECT = "imperfect"
UNREPRESENTABLE = "unrepresentable"
IGNORED = "ignored"


@dataclass
class Finding:
    """One thing the preview must show: its kind, where it is, what happens to it."""

    kind: str
    line: int | None
    subject: str
    message: str

    def as_dict(self):
        return {
            "kind": self.kind,
            "line": self.line,
            "subject": self.subject,
            "message": self.message,
        }


@dataclass
class SourceColumn:
    name: str
    data_type: str
    settings: dict
    line: int | None = None
    is_required: bool = False
    default_value: str | None = None
    unique: bool = False
    indexed: bool = False
    description: str = ""
    # A serial or identity column: fine as the table's own id, a note anywhere else.
    generated_key: bool = False
    # What generates it, when the file says: "always" or "by_default" (identity), or the
    # sequence its nextval() default names (serial once the sequence is its alone).
    identity: str | None = None
    nextval: str | None = None
    serial: bool = False
    # The name of its sequence (identity's SEQUENCE NAME, serial's sequence).
    sequence_name: str | None = None
    # Where its sequence starts and how it steps: {sequence_start, sequence_increment}.
    sequence_settings: dict = field(default_factory=dict)
    default_line: int | None = None
    # GENERATED ALWAYS AS (expression, columns by name) STORED, or VIRTUAL.
    generated: str | None = None
    virtual: bool = False
    generated_line: int | None = None
    # (rule, value, line, text) read from CHECK constraints on this column alone.
    checks: list = field(default_factory=list)
    # {text: the constraint's own name} of those CHECKs (kept when one stays a table CHECK).
    check_names: dict = field(default_factory=dict)


@dataclass
class SourceSequence:
    """A CREATE SEQUENCE of the file: its line, the column OWNED BY names, and the lines
    of the statements about it (kept, or named, with it)."""

    name: str
    line: int | None
    owner: tuple | None = None
    lines: list = field(default_factory=list)
    # Options that are not PostgreSQL's defaults and not kept (CACHE 20, CYCLE...).
    options: list = field(default_factory=list)
    settings: dict = field(default_factory=dict)


@dataclass
class SourceReference:
    """A foreign key: `table`.`columns` refers to `ref_table`.`ref_columns` (None: its key)."""

    table: str
    columns: list
    ref_table: str
    ref_columns: list | None
    on_delete: str = "no_action"
    on_update: str = "no_action"
    name: str | None = None
    line: int | None = None


@dataclass
class SourceTable:
    name: str
    line: int | None = None
    columns: dict = field(default_factory=dict)
    primary_key: list = field(default_factory=list)
    description: str = ""
    status: str = "draft"
    # Columns in the order their constraints (UNIQUE, CHECK) and their indexes are
    # listed: the designer lists both in id order, so new ids follow these orders.
    mentions: dict = field(default_factory=lambda: {"constraint": [], "index": []})
    # Uniques over several columns, table CHECKs and indexes (designer.design.structure):
    # (kind, input with column names as clean_item reads it, line).
    structure: list = field(default_factory=list)
    # Columns whose type the design cannot hold (an index or CHECK on them is not kept).
    lost_types: set = field(default_factory=set)
    # A partitioned table's key: (method, [each key as SQL text], line).
    partition_by: tuple | None = None
    # A partition: (its parent's name, its bound as deparsed SQL, line).
    partition_of: tuple | None = None

    def mention(self, group, column):
        self.mentions[group].append(column)


@dataclass
class Source:
    """Everything read from one file (or one live schema)."""

    tables: dict = field(default_factory=dict)
    references: list = field(default_factory=list)
    findings: list = field(default_factory=list)
    # Enum types the file creates: {name: [labels]}.
    enums: dict = field(default_factory=dict)
    enum_lines: dict = field(default_factory=dict)  # {name: the line that creates it}
    # Domains the file creates ({name: its base type's parse tree}), and other types.
    domains: dict = field(default_factory=dict)
    defined: set = field(default_factory=set)
    # COMMENT ON CONSTRAINT / INDEX: {(table name or None for an index, name): (comment, line)}.
    item_comments: dict = field(default_factory=dict)
    # Sequences the file creates: {name: SourceSequence}.
    sequences: dict = field(default_factory=dict)

    def note(self, kind, line, subject, message):
        self.findings.append(Finding(kind, line, subject, message))

    def table(self, name, line=None):
        """The table called `name`, noting a reference to one the file does not define."""
        found = self.tables.get(name)
        if found is None:
            self.note(UNREPRESENTABLE, line, name, "refers to a table the file does not create")
        return found


def merged_order(names, sequences):
    """`names` in an order that keeps every sequence's order (ties: their own order)."""
    position = {name: n for n, name in enumerate(names)}
    after = {name: set() for name in names}
    waiting = dict.fromkeys(names, 0)
    for sequence in sequences:
        seen = [name for name in dict.fromkeys(sequence) if name in position]
        for before, later in zip(seen, seen[1:], strict=False):
            if later not in after[before]:
                after[before].add(later)
                waiting[later] += 1
    ready = [(position[n], n) for n in names if waiting[n] == 0]
    heapq.heapify(ready)
    order = []
    while ready:
        _, name = heapq.heappop(ready)
        order.append(name)
        for later in after[name]:
            waiting[later] -= 1
            if waiting[later] == 0:
                heapq.heappush(ready, (position[later], later))
    # Contradicting orders (a hand-written file) leave the rest in their own order.
    return order + [n for n in names if n not in set(order)]


def line_numbers(text):
    """A function from an offset of `text` (characters of a str, bytes of bytes) to its line."""
    newline = b"\n" if isinstance(text, bytes) else "\n"
    starts = [0] + [m.end() for m in re.finditer(re.escape(newline), text)]

    def line_of(offset):
        if offset is None or offset < 0:
            return None
        return bisect.bisect_right(starts, offset)

    return line_of
