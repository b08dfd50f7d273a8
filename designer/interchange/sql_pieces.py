"""An SQL file's statements, parsed one piece at a time, for designer.interchange.import_sql.

PostgreSQL's scanner (pglast's split without the parser: C, 0.3 s and 45 MB for 14 MB)
finds where statements end; each piece runs from the end of the one before, so text the
scanner passes over is parsed all the same. The parser then builds one piece's tree at a
time. Parsing the whole file at once held every tree together: 13 MB of `SELECT 1+1+…`
took 1.4 GB in C before a single Python object, 4 MB of INSERT constants 1.4 GB in all.

A piece the parser finds cut short (`BEGIN ATOMIC … END` bodies hold semicolons) is read
together with the next. INSERT and COPY are noted from their first words, with no tree.
A piece over MAX_PIECE_BYTES, or whose tree is over MAX_TREE_CHARACTERS of JSON, is
refused (413): no design statement comes near either. Pure: no database, no Flask.
"""

import json
import re

from pglast import parser
from pglast.parser import ParseError

from designer.errors import TooLarge
from designer.errors import ValidationFailed
from designer.interchange import import_limits
from designer.interchange.import_source import line_numbers

# A CREATE TABLE of 1,600 columns, each with two CHECKs, is some 300 KB.
MAX_PIECE_BYTES = 1024 * 1024
# Its tree as JSON (that table's is some 5 MB); read, it takes about 12 times as much.
MAX_TREE_CHARACTERS = 8 * 1024 * 1024
NAME = r'(?:"[^"]*"|[^\s."(;]+)'
# One way only to match any text (a blank is one \s, a comment's body one character at a
# time): `(?:\s+)*` tried every split of a run of blanks, 2^n of them before a CREATE.
COMMENTS = r"(?:\s|--[^\n]*(?:\n|$)|/\*(?:[^*]|\*(?!/))*\*/)*"
# An INSERT or COPY and its table's name (the last part of a qualified one).
DATA = re.compile(
    rf"{COMMENTS}(insert|copy)\s+(?:into\s+)?(?:{NAME}\s*\.\s*)*({NAME})", re.I | re.S
)
BLANK = " \t\r\n;"
CUT_SHORT = "at end of input"


# psql's meta-commands (`\set`, `\connect`, `\i`…): a backslash first on a line, to its end.
# Only where a statement could begin: LEXED steps over quoted text and comments, whose
# lines may start with a backslash too. COPY's end of data (`\.`) is not one.
META_LINE = re.compile(r"^[ \t]*\\(?!\.)", re.M)
LEXED = re.compile(
    r"[eE]'(?:[^'\\]|\\.|'')*'?"  # E'…', with backslash escapes
    r"|'(?:[^']|'')*'?"  # '…'
    r'|"(?:[^"]|"")*"?'  # "…"
    r"|\$(?P<tag>[A-Za-z_]\w*)?\$.*?(?:\$(?P=tag)\$|\Z)"  # $tag$…$tag$
    r"|--[^\n]*"
    r"|/\*.*?(?:\*/|\Z)"
    r"|\bcopy\b[^;]*?\bfrom\s+stdin\b[^;]*;.*?(?:^\\\.|\Z)"  # COPY's data, to its \.
    r"|(?P<meta>^[ \t]*\\(?!\.)[^\n]*)",
    re.M | re.S | re.I,
)


def psql_meta_commands(text):
    """(text with each psql meta-command blanked, [(offset, command)]). Blanked by as many
    spaces, so every offset and line of the text stays where it was."""
    if META_LINE.search(text) is None:
        return text, []
    found, parts, done = [], [], 0
    for match in LEXED.finditer(text):
        if match["meta"] is None:
            continue
        start = match.start("meta")
        found.append((start, match["meta"].strip()))
        parts += [text[done:start], " " * (match.end() - start)]
        done = match.end()
    return "".join(parts) + text[done:], found


class Data:
    """An INSERT or COPY, noted without its tree (`offset`: where its first word is)."""

    def __init__(self, kind, table, offset):
        self.kind, self.table, self.offset = kind, table, offset


def data_statement(statement):
    """A Data for an INSERT or COPY, read from its first words; None for anything else."""
    found = DATA.match(statement)
    if found is None:
        return None
    kind = "InsertStmt" if found[1].lower() == "insert" else "CopyStmt"
    return Data(kind, found[2].strip('"'), found.start(1))


class Pieces:
    """The pieces of one file's text, each as (character offset, statements or Data)."""

    def __init__(self, text, deadline):
        self.text, self.deadline = text, deadline
        self.line_of = None
        self.stop = 0  # where the piece last yielded ends

    def line(self, offset):
        if self.line_of is None:
            self.line_of = line_numbers(self.text)
        return self.line_of(offset)

    def refuse(self, message, offset, error=ValidationFailed):
        """Refuse with `message`, its "{where}" replaced by the line of `offset`."""
        line = self.line(offset)
        message = message.replace("{where}", f" (line {line})" if line else "")
        raise error(message, {"file": message})

    def bounds(self):
        """(start, end) of each statement the scanner finds, and of any text after them."""
        try:
            slices = parser.split(self.text, with_parser=False, only_slices=True)
        except ParseError as exc:
            self.unreadable(exc, 0)
        import_limits.refuse_statements(len(slices))
        found = [(s.start, s.stop) for s in slices]
        last = found[-1][1] if found else 0
        if self.text[last:].strip(BLANK):
            found.append((len(self.text), len(self.text)))
        return found

    def __iter__(self):
        done, pending = 0, None
        for start, stop in self.bounds():
            self.deadline.check()
            data = data_statement(self.text[start:stop]) if pending is None else None
            if data is not None:
                if self.text[done:start].strip(BLANK):  # text the scanner passed over
                    self.stop = start
                    yield done, self.parsed(done, start)
                yield start + data.offset, data
            else:
                begins = done if pending is None else pending
                statements = self.parsed(begins, stop, cut_short_ok=True)
                if statements is None:
                    pending = begins
                else:
                    pending = None
                    self.stop = stop
                    yield begins, statements
            done = stop
        if pending is not None:
            self.stop = len(self.text)
            yield pending, self.parsed(pending, len(self.text))

    def parsed(self, start, stop, cut_short_ok=False):
        """The statements of text[start:stop]; None when it is cut short and may go on."""
        piece = self.text[start:stop]
        size = len(piece.encode("utf-8"))
        if size > MAX_PIECE_BYTES:
            words = f"{import_limits.megabytes(size)}: an import reads at most "
            words += f"{import_limits.megabytes(MAX_PIECE_BYTES)} a statement (data aside)"
            self.refuse("The statement{where} is " + words + ".", start, TooLarge)
        try:
            tree = parser.parse_sql_json(piece)
        except ParseError as exc:
            if cut_short_ok and str(exc.args[0]).endswith(CUT_SHORT):
                return None
            self.unreadable(exc, start)
        if len(tree) > MAX_TREE_CHARACTERS:
            words = "The statement{where} makes a parse tree too large to read."
            self.refuse(words, start, TooLarge)
        try:
            return json.loads(tree).get("stmts", [])
        except RecursionError:
            import_limits.refuse_too_deep(self.line(start + len(piece) - len(piece.lstrip(BLANK))))

    def unreadable(self, exc, start):
        offset = exc.args[1] if len(exc.args) > 1 and isinstance(exc.args[1], int) else None
        at = None if offset is None else start + offset
        self.refuse("This is not SQL PostgreSQL can read{where}: " + str(exc.args[0]), at or -1)
