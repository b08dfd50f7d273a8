"""Downloads served from files kept in PostgreSQL (export_file, migrations/0040; #27).

An export at 30,000 tables is some 50 MB of text that took seconds to write, and a worker
that kept a few of them in memory grew by hundreds of megabytes. A downloaded file is
written once for what it is made of (its `key`: a version's hash or the working copy's
change stamp, the format, the schema, the file's name), stored as gzip members of at most
MEMBER_BYTES of text each, and every later download of it, from any app server, streams
those members from PostgreSQL one at a time, so a worker holds one member at once:

- to a client that accepts gzip, the members as they are (Content-Encoding: gzip: gzip
  members one after another are one gzip stream, RFC 1952 2.2);
- to one that does not, each member unpacked as it goes.

Its ETag is the key's digest, so a browser's repeat download is a 304 with no body. The
text of a file is what its builder returns: downloads change how it travels, never a byte
of it (tests/integration/test_export_downloads.py).
"""

import hashlib
import json
import logging
import zlib

from flask import Response
from flask import g
from flask import has_request_context
from flask import request
from flask import stream_with_context

from designer.db import database

# Text per gzip member: the most a worker holds of a file it streams (unpacked).
MEMBER_BYTES = 1024 * 1024
# Members read by one query (a round trip each BATCH megabytes of text, a few hundred KB).
BATCH = 8
# zlib's fastest level: a 30,000-table file is packed in the request that writes it, and
# level 1 packs SQL text some 5 times at about three times the speed of level 6.
LEVEL = 1
# Files a project keeps (older ones go when a new one is stored); a file younger than
# KEEP_SECONDS stays, as a download may still be reading it.
FILES_PER_PROJECT = 24
KEEP_SECONDS = 120
# Stores made, for tests: a repeat download builds nothing.
work = {"built": 0}


def digest(parts):
    """The sha256 of a file's key parts (any JSON: strings, numbers, None)."""
    return hashlib.sha256(json.dumps(parts, default=str).encode("utf-8")).hexdigest()


def pack(parts):
    """(gzip members, bytes of text) of a text given as parts (str), packed as they come:
    each member MEMBER_BYTES of the text's UTF-8 (the last one less), so no more than a
    member's worth of the text is held at once."""
    members, buffer, size = [], bytearray(), 0

    def member(data):
        packer = zlib.compressobj(LEVEL, zlib.DEFLATED, 31)
        members.append(packer.compress(data) + packer.flush())

    for part in [parts] if isinstance(parts, str) else parts:
        data = part.encode("utf-8")
        size += len(data)
        buffer += data
        while len(buffer) >= MEMBER_BYTES:
            member(bytes(buffer[:MEMBER_BYTES]))
            del buffer[:MEMBER_BYTES]
    if buffer:
        member(bytes(buffer))
    return members, size


# Who the connection acts for (designer.rls: the user and an API token's scope), read when
# a kept file is found, and set again for its stream. Flask ends the request (its teardown
# clears the user and gives the connection back) before the server reads the body; the
# stream then runs in the request's context again, on a connection acting for nobody, and
# its own end clears what it set.
SCOPE_SETTINGS = ("designer.user_id", "designer.token_project", "designer.read_only")
READ_SCOPE = "SELECT " + ", ".join(f"current_setting('{s}', true)" for s in SCOPE_SETTINGS)
SET_SCOPE = "SELECT " + ", ".join(f"set_config('{s}', %s, false)" for s in SCOPE_SETTINGS)


class Kept:
    """A file kept in export_file: its key, sizes and count of members."""

    def __init__(self, project_id, key, raw_size, gzip_size, members, scope=None):
        self.project_id, self.key = str(project_id), key
        self.raw_size, self.gzip_size, self.members = raw_size, gzip_size, members
        self.scope = scope

    def batch(self, start):
        """The bytes of members start.. start + BATCH - 1 (fewer when the file has gone
        since it was found)."""
        rows = database.execute_sql(
            "SELECT body FROM export_member WHERE project_id = %s AND key = %s"
            " AND position >= %s AND position < %s ORDER BY position",
            (self.project_id, self.key, start, start + BATCH),
        ).fetchall()
        return [bytes(body) for (body,) in rows]

    def batches(self):
        if self.scope is not None and has_request_context():
            database.execute_sql(SET_SCOPE, [value or "" for value in self.scope])
            g.acting_for = "download"  # (cleared at the stream's end, designer.db)
        for start in range(0, self.members, BATCH):
            bodies = self.batch(start)
            yield bodies
            if len(bodies) < min(BATCH, self.members - start):
                return  # (replaced meanwhile: the client sees a short body, never a wrong one)

    def packed(self):
        for bodies in self.batches():
            yield b"".join(bodies)

    def unpacked(self):
        for bodies in self.batches():
            for body in bodies:
                yield zlib.decompress(body, 31)


def find(project_id, key):
    row = database.execute_sql(
        f"SELECT raw_size, gzip_size, members, s.* FROM ({READ_SCOPE}) s"
        " LEFT JOIN export_file ON project_id = %s AND key = %s",
        (str(project_id), key),
    ).fetchone()
    if row[0] is None:
        return None
    return Kept(project_id, key, *row[:3], scope=row[3:])


def store(project_id, key, slot, size, members):
    """Keep a file's members (a newer file of its slot replaces the older ones)."""
    project = str(project_id)
    with database.atomic():
        inserted = database.execute_sql(
            "INSERT INTO export_file (project_id, key, slot, raw_size, gzip_size, members)"
            " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING RETURNING key",
            (project, key, slot, size, sum(map(len, members)), len(members)),
        ).fetchone()
        if inserted is None:
            return  # (another request stored it first)
        for position, body in enumerate(members):
            database.execute_sql(
                "INSERT INTO export_member (project_id, key, position, body)"
                " VALUES (%s, %s, %s, %s)",
                (project, key, position, body),
            )
        database.execute_sql(
            "DELETE FROM export_file WHERE project_id = %s AND key <> %s"
            " AND created_at < now() - make_interval(secs => %s)"
            " AND (slot = %s OR key NOT IN (SELECT key FROM export_file WHERE project_id = %s"
            " ORDER BY created_at DESC LIMIT %s))",
            (project, key, KEEP_SECONDS, slot, project, FILES_PER_PROJECT),
        )


def keep(project_id, parts, slot, build, storable=True):
    """(Kept or None, members, bytes of text): the file `parts` names, found kept, or built by
    `build()` (its text, or its text's parts) and stored (unless not `storable`: a key
    that names no fixed content; a function is asked once the file is written)."""
    key = digest(parts)
    found = find(project_id, key)
    if found is not None:
        return found, None, found.raw_size
    members, size = pack(build())
    work["built"] += 1
    if fixed(storable):
        try:
            with database.atomic():
                store(project_id, key, digest([slot]), size, members)
        except Exception:
            # Served all the same: a file not kept is written again next time.
            logging.getLogger(__name__).exception("an export could not be kept")
    return None, members, size


def fixed(storable):
    return storable() if callable(storable) else storable


def accepts_gzip():
    return "gzip" in request.accept_encodings


def download(project_id, parts, slot, filename, mimetype, build, storable=True):
    """The Response of a download: 304 to a browser holding this file, else its body (gzip
    when accepted), streamed from the kept file or, when just written, from memory."""
    etag = digest(parts)[:40]
    headers = {
        "Content-Disposition": f'attachment; filename="{filename}"',
        "Vary": "Accept-Encoding",
    }
    if fixed(storable) and request.if_none_match.contains(etag):
        response = Response(status=304, headers=headers)
        response.set_etag(etag)
        return response
    kept, members, size = keep(project_id, parts, slot, build, storable)
    gzip = accepts_gzip()
    if gzip:
        headers["Content-Encoding"] = "gzip"
    if kept is None:
        # Just written: its members are at hand (unpacked one at a time when asked).
        chunks = members if gzip else (zlib.decompress(m, 31) for m in members)
        response = Response(chunks, mimetype=mimetype, headers=headers)
        response.content_length = sum(map(len, members)) if gzip else size
    else:
        chunks = kept.packed() if gzip else kept.unpacked()
        response = Response(stream_with_context(chunks), mimetype=mimetype, headers=headers)
        response.content_length = kept.gzip_size if gzip else kept.raw_size
    if fixed(storable):
        response.set_etag(etag)
    return response
