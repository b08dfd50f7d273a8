"""Exporting a project's design (the working copy, or one saved version) as a file."""

import re

from designer import diagram
from designer import projects
from designer.errors import ValidationFailed
from designer.history import versions
from designer.interchange.export_formats import FORMATS
from designer.interchange.export_formats import export_file
from designer.kept import KeptAnswers


def file_stem(schema, *qualifiers):
    """Every downloaded file's name before its extension: the project's target schema, then
    what the file is (`shop`, `shop-v3`, `shop-diagram`, `shop-deploy-20260101-120000`)."""
    stem = "-".join([schema or "schema", *map(str, qualifiers)])
    return re.sub(r"[^\w.-]+", "_", stem)[:120]


def export_design(user, project_id, fmt, version_number=None):
    """An ExportFile of the project's design in `fmt`, for any member."""
    if fmt not in FORMATS:
        message = f"Choose one of: {', '.join(FORMATS)}."
        raise ValidationFailed(message, {"format": message})
    granted = projects.access(user, project_id)
    project = granted.project
    stem = file_stem(project.target_schema)
    if version_number in (None, ""):
        snapshot, key = versions.resolve(project.id, "working")
    else:
        version = versions.get_version(project.id, version_number)
        snapshot, key = versions.snapshot_of(version), version.schema_hash
        stem = file_stem(project.target_schema, f"v{version.version_number}")
    schema = project.target_schema
    return exported.get((key, fmt, schema, stem), lambda: export_file(snapshot, fmt, schema, stem))


# Files by what they are made of: the snapshot's content key (a version's hash, or the working
# copy's change stamp), the format, the target schema and the file's name. A 3,000-table
# export takes seconds to write and is megabytes long, so only a few are kept.
exported = KeptAnswers(limit=6)


def mermaid_source(granted, focus=None):
    """The diagram's Mermaid source (around `focus`, a table name, when given), for any member:
    `granted` is their access to the project (projects.access)."""
    snapshot, key = versions.resolve(granted.project.id, "working")
    return exported.get((key, "mermaid", focus), lambda: diagram.mermaid(snapshot, focus))
