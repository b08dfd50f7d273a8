"""Exporting a project's design (the working copy, or one saved version) as a file."""

from designer import projects
from designer.database.export_formats import FORMATS
from designer.database.export_formats import export_file
from designer.errors import ValidationFailed
from designer.history import snapshot as snapshots
from designer.history import versions


def export_design(user, project_id, fmt, version_number=None):
    """An ExportFile of the project's design in `fmt`, for any member."""
    if fmt not in FORMATS:
        message = f"Choose one of: {', '.join(FORMATS)}."
        raise ValidationFailed(message, {"format": message})
    granted = projects.access(user, project_id)
    project = granted.project
    stem = project.target_schema
    if version_number in (None, ""):
        snapshot = snapshots.build(project.id)
    else:
        version = versions.get_version(project.id, version_number)
        snapshot = versions.snapshot_of(version)
        stem = f"{stem}_v{version.version_number}"
    return export_file(snapshot, fmt, project.target_schema, stem)
