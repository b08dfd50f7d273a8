"""How much one import may hold, and what its text may not hold, checked before it is parsed.

A file is refused, never cut short: invalid UTF-8 and NUL bytes with their byte
offset (a NUL ends the text PostgreSQL's parser reads, so what follows it would
be lost without a word); more bytes, statements or tables than the caps in
designer.settings with 413; reading that outlasts `import_max_seconds`, or a
parse tree nested deeper than Python can walk, with 422. Pure: no database, no Flask.
"""

import codecs
import time

from designer.errors import TooLarge
from designer.errors import ValidationFailed
from designer.settings import settings

NEWLINE = b"\n"


def refuse(message, error=ValidationFailed):
    raise error(message, {"file": message})


def where(data, offset):
    """`byte offset N (line L)` of a byte offset in `data`."""
    line = data.count(NEWLINE, 0, offset) + 1
    return f"byte offset {offset:,} (line {line:,})"


def decoded(data):
    """An uploaded file's text: UTF-8 without NUL (a leading BOM dropped), else refused."""
    start = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    try:
        text = data[start:].decode("utf-8")
    except UnicodeDecodeError as exc:
        at = where(data, start + exc.start)
        refuse(f"This file is not UTF-8 text: it cannot be read from {at}.")
    refuse_nul(data)
    return text


def refuse_nul(data):
    nul = data.find(b"\x00")
    if nul >= 0:
        refuse(
            f"This file holds a NUL byte at {where(data, nul)}: it is not a text file, and "
            "nothing after it could be read."
        )


def encoded(text):
    """The UTF-8 bytes of an import's text (a file's, a form's or an API body's), refusing
    what no reader may meet: a lone surrogate or a NUL."""
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError as exc:
        data = text[: exc.start].encode("utf-8")
        refuse(f"This text holds an unpaired surrogate at {where(data, len(data))}: not UTF-8.")
    refuse_nul(data)
    return data


def refuse_too_large(fmt, size):
    """413 when `size` bytes of `fmt` are more than an import reads."""
    limit = settings.import_max_dbml_bytes if fmt == "dbml" else settings.import_max_bytes
    if size > limit:
        refuse(
            f"This file is {megabytes(size)}: an import reads at most {megabytes(limit)} "
            f"of {fmt.upper()}.",
            TooLarge,
        )


def megabytes(size):
    if size >= 1024 * 1024:
        return f"{size / 1024 / 1024:.1f} MB"
    return f"{size / 1024:.0f} KB" if size >= 1024 else f"{size:,} bytes"


def refuse_statements(count):
    if count > settings.import_max_statements:
        refuse(
            f"This file holds {count:,} statements: an import reads at most "
            f"{settings.import_max_statements:,}.",
            TooLarge,
        )


def refuse_tables(count):
    if count > settings.import_max_tables:
        refuse(
            f"This file creates more than {settings.import_max_tables:,} tables, "
            "the most one import reads.",
            TooLarge,
        )


def refuse_too_deep(line=None):
    at = f" (line {line:,})" if line else ""
    refuse(
        f"This file nests expressions or queries too deeply to be read{at}: "
        "no design needs that many levels."
    )


class Deadline:
    """The time an import's reading may take; check() refuses once it is past.

    Counted in CPU time of the request's thread, not by the clock: reading is pure
    computation, and a server busy with other requests must not refuse a file that a
    quiet one reads (at a load of 20 on two cores, a 3,000-table file took 8 s by the
    clock for 1.2 s of its own)."""

    def __init__(self, seconds=None):
        self.seconds = settings.import_max_seconds if seconds is None else seconds
        self.ends = time.thread_time() + self.seconds

    def check(self):
        if time.thread_time() > self.ends:
            refuse(
                f"Reading this file took longer than {self.seconds:g} s, the most an import "
                "may take: import it in parts."
            )


# For readers called on their own (tests, benches): no time limit.
NO_DEADLINE = Deadline(float("inf"))
