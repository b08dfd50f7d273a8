"""Exporting a project's design (the working copy, or one saved version) as a file."""

import re
import time
from dataclasses import dataclass

from flask import current_app

from designer import diagram
from designer import projects
from designer.database import background
from designer.db import database
from designer.design import page_stamps
from designer.errors import ValidationFailed
from designer.history import versions
from designer.interchange import downloads
from designer.interchange import export_apart
from designer.interchange import export_stream
from designer.interchange import sound_parts
from designer.interchange.export_formats import FILE_TYPES
from designer.interchange.export_formats import FORMATS
from designer.interchange.export_formats import export_file
from designer.interchange.export_formats import export_parts
from designer.kept import KeptAnswers
from designer.settings import settings


def file_stem(schema, *qualifiers):
    """Every downloaded file's name before its extension: the project's target schema, then
    what the file is (`shop`, `shop-v3`, `shop-diagram`, `shop-deploy-20260101-120000`)."""
    stem = "-".join([schema or "schema", *map(str, qualifiers)])
    return re.sub(r"[^\w.-]+", "_", stem)[:120]


# The formats written from the whole design (names and repairs): a large one is written by a
# child process (export_apart). JSON is written from stored parts, a page at a time.
WHOLE_DESIGN_FORMATS = ("sql", "dbml", "mermaid")


class Source:
    """What an export is made of, read without building it: the project, the snapshot's
    content key (a version's hash, or the working copy's change stamp), the file's stem,
    and how to get the snapshot (built, or kept, only when asked)."""

    def __init__(self, user, project_id, fmt, version_number=None):
        if fmt not in FORMATS:
            message = f"Choose one of: {', '.join(FORMATS)}."
            raise ValidationFailed(message, {"format": message})
        self.fmt = fmt
        self.user = user
        self.parts = None  # (what a file written from stored parts read them from)
        self.fixed_apart = True  # (False when a child wrote content its key does not name)
        self.apart = None  # (what a child writing the file is asked; False: written here)
        self.tables = None
        self.project = projects.access(user, project_id).project
        self.schema = projects.schema_of(self.project)
        self.stem = file_stem(self.schema)
        if version_number in (None, ""):
            self.stamp = page_stamps.project_stamp(self.project.id)
            self.key = f"working:{self.project.id}:{self.stamp}"
            self.version = None
        else:
            self.version = versions.get_version(self.project.id, version_number)
            self.key = self.version.schema_hash
            self.stem = file_stem(self.schema, f"v{self.version.version_number}")

    def snapshot(self):
        if self.version is None:
            return versions.resolve(self.project.id, "working", self.stamp)[0]
        return versions.snapshot_of(self.version)

    def file(self):
        return export_file(self.snapshot(), self.fmt, self.schema, self.stem)

    def text_parts(self):
        """The file's text in parts, written as they are asked for: by a child process for
        a large design in a format written from the whole design (export_apart), else here."""
        if self.apart is None:
            self.plan()
        if self.apart:
            return export_apart.text_apart(self.apart, self.ended_apart)
        return self.text_parts_here()

    def plan(self):
        """Decide where the file is written (in a request: a child is given its scope)."""
        self.tables = self.table_count()
        large = self.tables >= settings.export_apart_tables
        self.apart = self.job() if self.fmt in WHOLE_DESIGN_FORMATS and large else False

    def table_count(self):
        """How many tables the design has (a version's from its manifest)."""
        source = self.stored_parts()
        if source is None:
            source = export_stream.WorkingParts(self.project.id)
        return source.count("tables")

    def job(self):
        """What a child process writing this file is asked (export_apart.child_text)."""
        return {
            "url": current_app.config["DATABASE_URL"],
            "scope": [v or "" for v in database.execute_sql(downloads.READ_SCOPE).fetchone()],
            "user": str(self.user.id),
            "project": str(self.project.id),
            "fmt": self.fmt,
            "version": None if self.version is None else self.version.version_number,
            "key": list(self.key_parts()),
        }

    def ended_apart(self, fixed):
        self.fixed_apart = fixed

    def text_parts_here(self):
        """The file's text in parts, written as they are asked for (export_parts); JSON
        from the stored parts, a page of tables at a time, with no snapshot (export_stream)."""
        if self.fmt == "json":
            self.parts = self.stored_parts()
            if self.parts is not None:
                return export_stream.json_parts(self.parts)
        known = sound_parts.KnownSound(self.project.id)
        return export_parts(self.snapshot(), self.fmt, self.schema, known)

    def stored_parts(self):
        if self.version is None:
            return export_stream.WorkingParts(self.project.id)
        return export_stream.version_source(self.version)

    def key_parts(self):
        return (self.key, self.fmt, self.schema, self.stem)

    def fixed(self):
        """Whether the key names one content for good (a stamp read while a change was
        being written is a key of its own, never met again; a file written from parts that
        changed while it was written is one no key names)."""
        if self.parts is not None and self.parts.changed:
            return False
        if not self.fixed_apart:
            return False
        return self.version is not None or "-" not in self.stamp


def export_design(user, project_id, fmt, version_number=None):
    """An ExportFile of the project's design in `fmt`, for any member."""
    source = Source(user, project_id, fmt, version_number)
    return exported.get(source.key_parts(), source.file)


def download_design(user, project_id, fmt, version_number=None):
    """The Response downloading the design in `fmt` (downloads: kept in PostgreSQL,
    streamed, gzip when accepted, 304 to a browser that has it)."""
    source = Source(user, project_id, fmt, version_number)
    extension, mimetype = FILE_TYPES[fmt]
    return downloads.download(
        source.project.id,
        ["design", *source.key_parts()],
        ["design", fmt, source.stem],
        f"{source.stem}.{extension}",
        mimetype,
        source.text_parts,
        storable=source.fixed,
    )


# Files being written on threads of their own (see prepare_design), by project and file.
writing = background.Jobs("export")
# How long the request asking for a file waits for it before answering with its progress.
PREPARE_WAIT_SECONDS = 2.0


@dataclass
class Preparing:
    """Where a file asked for stands: `ready` to download (kept, or to be written by the
    download itself), else being written: `written` characters so far, `seconds` since it
    began, of a design of `tables` tables."""

    ready: bool
    written: int = 0
    seconds: float = 0.0
    tables: int = 0


def prepare_design(user, project_id, fmt, version_number=None, wait=PREPARE_WAIT_SECONDS):
    """Write the file a download of the design in `fmt` would send, on a thread of its own,
    and say where it stands: the request that starts it waits `wait` seconds (a small
    design's file is ready by then), the requests after it answer at once with its progress,
    until it is kept in PostgreSQL and its download reads it (downloads). Any member."""
    source = Source(user, project_id, fmt, version_number)
    parts = ["design", *source.key_parts()]
    if downloads.find(source.project.id, downloads.digest(parts)) is not None:
        return Preparing(True)
    name = f"{source.project.id}:{downloads.digest(parts)}"
    job = writing.current(name)
    if job is not None and job.done.is_set():
        writing.collect(name, job)
        if job.error is not None:
            raise job.error
        return Preparing(True)  # (kept, or not kept as the design changed: the download writes it)
    if job is None:
        source.plan()
        slot = ["design", fmt, source.stem]

        def work(job):
            job.progress(0, source.tables)  # (said before the first part is written)
            written = counted(source.text_parts, job, source.tables)
            downloads.keep(source.project.id, parts, slot, written, storable=source.fixed)

        job, started = writing.start(name, parts, work, user.id)
        if job is None:
            return Preparing(True)  # (no room for another: the download writes it itself)
        if started:
            job.done.wait(wait)
            if job.done.is_set():
                writing.collect(name, job)
                if job.error is not None:
                    raise job.error
                return Preparing(True)
    return Preparing(False, job.built, time.monotonic() - job.began, job.total)


def counted(build, job, tables):
    """build() (the file's text in parts), as a function whose parts are counted on `job`:
    characters written of a design of `tables` tables."""

    def parts():
        written = 0
        for part in build():
            written += len(part)
            job.progress(written, tables)
            yield part

    return parts


# Files by what they are made of: the snapshot's content key (a version's hash, or the working
# copy's change stamp), the format, the target schema and the file's name. A 3,000-table
# export takes seconds to write and is megabytes long, so only a few are kept (under the
# pool's byte budget). Downloads do not keep files here: PostgreSQL keeps them (downloads).
exported = KeptAnswers(limit=6)


def download_mermaid(granted, focus=None):
    """The Response downloading the diagram's Mermaid source (see download_design)."""
    project_id = granted.project.id
    stamp = page_stamps.project_stamp(project_id)

    source = export_stream.diagram_source(project_id)

    def build():
        if source is not None:
            return export_stream.mermaid_parts(source, focus)
        snapshot, _ = versions.resolve(project_id, "working", stamp)
        return diagram.mermaid(snapshot, focus)

    stem = file_stem(projects.schema_of(granted.project), "diagram")
    return downloads.download(
        project_id,
        ["mermaid", f"working:{project_id}:{stamp}", focus],
        ["mermaid", focus],
        f"{stem}.mmd",
        "text/plain",
        build,
        storable=lambda: "-" not in stamp and not (source is not None and source.changed),
    )
