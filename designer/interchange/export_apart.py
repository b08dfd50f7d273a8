"""Large exports written by a process of their own, so a worker's memory stays flat (#27).

The SQL, DBML and Mermaid files are written from the whole design, as their object names and
repairs are the whole design's: at 30,000 tables that builds over a gigabyte of Python
objects. A worker frees them when the file is written, but keeps most of the memory: the
few small objects its caches kept meanwhile sit on pages among millions freed, and those
pages cannot go back to the system (a worker was left at 900 MB to 1.3 GB after one such
file, against the 512 MB it may take). So a design of settings.export_apart_tables tables
or more is written by a child process, `python -m designer.interchange.export_apart`: the
same code, reading the same database as the same user under the same row-level security
(the connection's scope is handed over, as downloads hands it to a stream). Its text comes
back over a pipe in frames; the worker packs them as they come (designer.interchange
.downloads) and holds one frame at a time; the child's memory goes back to the system when
it ends. One file is written apart at a time per worker (EXPORTS_AT_ONCE), so two users
asking at once take one child's memory after the other, not both at once.

Frames: one byte of kind, four of length (big-endian), then the payload: b"T" a piece of
the text (UTF-8), b"E" the end (JSON: whether the file is the key's fixed content), b"X" a
failure (a message of our own words). What the child is asked is JSON on its standard
input; its standard error is the worker's, where a failure's traceback is logged.
"""

import json
import logging
import pathlib
import struct
import subprocess
import sys
import threading

from designer.errors import ValidationFailed

FRAME = struct.Struct(">cI")
# Text a frame carries at most (the child sends pieces of about this size).
FRAME_TEXT = 256 * 1024
EXPORTS_AT_ONCE = 1
at_once = threading.BoundedSemaphore(EXPORTS_AT_ONCE)
# Where the designer package is (the child's working directory, so `-m` finds it).
ROOT = pathlib.Path(__file__).resolve().parent.parent.parent
# Files written apart, for tests.
work = {"apart": 0}


class ExportFailed(ValidationFailed):
    """The child could not write the file (its traceback is in the worker's log)."""


def read_frame(stream):
    head = stream.read(FRAME.size)
    if len(head) < FRAME.size:
        return None, None
    kind, size = FRAME.unpack(head)
    payload = stream.read(size)
    if len(payload) < size:
        return None, None
    return kind, payload


def write_frame(stream, kind, payload):
    stream.write(FRAME.pack(kind, len(payload)))
    stream.write(payload)


def text_apart(job, ended):
    """The file's text in parts, as the child writes them; `ended(fixed)` is called with
    what the child's end frame says. `job`: what the child is asked (see child_main)."""
    with at_once:
        work["apart"] += 1
        child = subprocess.Popen(
            [sys.executable, "-m", "designer.interchange.export_apart"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            cwd=ROOT,
        )
        try:
            child.stdin.write(json.dumps(job).encode("utf-8"))
            child.stdin.close()
            while True:
                kind, payload = read_frame(child.stdout)
                if kind == b"T":
                    yield payload.decode("utf-8")
                elif kind == b"E":
                    ended(json.loads(payload)["fixed"])
                    return
                else:
                    message = payload.decode("utf-8") if kind == b"X" else "it stopped"
                    raise ExportFailed(f"The export could not be written: {message}.")
        finally:
            if child.poll() is None:
                child.kill()
            child.wait()
            child.stdout.close()


def child_main(stdin, stdout):
    """Write the file a worker asked for (run as `python -m designer.interchange.export_apart`)."""
    job = json.loads(stdin.read())
    try:
        for text in child_text(job, stdout):
            write_frame(stdout, b"T", text.encode("utf-8"))
    except ValidationFailed as refused:
        write_frame(stdout, b"X", str(refused).encode("utf-8"))
        return 1
    except Exception:
        logging.getLogger(__name__).exception("an export written apart failed")
        write_frame(stdout, b"X", b"an error the server's log records")
        return 1
    stdout.flush()
    return 0


def child_text(job, stdout):
    """The file's text in pieces of about FRAME_TEXT, then the end frame."""
    from designer.db import database
    from designer.db import open_database
    from designer.interchange import downloads
    from designer.interchange import exports
    from designer.models import User
    from designer.web import SESSION_USER

    database.initialize(open_database(job["url"], max_connections=1))
    with database.connection_context():
        # The user's row as a request reads it (only they may), then the worker's scope.
        user = next(iter(User.raw(SESSION_USER, job["user"])), None)
        database.execute_sql(downloads.SET_SCOPE, job["scope"])
        if user is None:
            raise ValidationFailed("its user is gone")
        source = exports.Source(user, job["project"], job["fmt"], job["version"])
        buffered, size = [], 0
        for part in source.text_parts_here():
            buffered.append(part)
            size += len(part)
            if size >= FRAME_TEXT:
                yield "".join(buffered)
                buffered, size = [], 0
        if buffered:
            yield "".join(buffered)
        fixed = source.key_parts() == tuple(job["key"]) and source.fixed()
    write_frame(stdout, b"E", json.dumps({"fixed": fixed}).encode("utf-8"))


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    sys.exit(child_main(sys.stdin.buffer, sys.stdout.buffer))
