"""Import and export: the project's Import & export tab, downloads, a new project from a file."""

import io
import re

import psycopg2
from flask import Blueprint
from flask import flash
from flask import render_template
from flask import request
from flask import url_for
from flask_login import current_user
from flask_login import login_required

from designer import projects
from designer.errors import Conflict
from designer.errors import Forbidden
from designer.errors import ValidationFailed
from designer.interchange import exports
from designer.interchange import import_database
from designer.interchange import import_limits
from designer.interchange import import_report
from designer.interchange import imports
from designer.settings import settings
from designer.views import block
from designer.views import go
from designer.web import htmx

bp = Blueprint("transfer", __name__)
PAGE = "transfer/index.html"
NEW = "transfer/new.html"
EXTENSIONS = {"sql": "sql", "ddl": "sql", "json": "json", "dbml": "dbml"}
DBML_BLOCK = re.compile(r"^\s*(Table|Ref|Enum|Project)\b[^\n]*\{", re.MULTILINE | re.IGNORECASE)
CREATE_TABLE = re.compile(r"\bCREATE\s+TABLE\b", re.IGNORECASE)
FORMAT_LABELS = {"sql": "SQL", "json": "JSON", "dbml": "DBML", "mermaid": "Mermaid"}


def guess_format(text):
    """The format of pasted text: JSON opens with a brace, DBML has Table blocks, else SQL."""
    if text.lstrip().startswith("{"):
        return "json"
    if DBML_BLOCK.search(text) and not CREATE_TABLE.search(text):
        return "dbml"
    return "sql"


def uploaded():
    """(format, text, file name) of the submitted file, the pasted text, or the confirmed
    preview's text."""
    upload = request.files.get("file")
    is_file = upload is not None and upload.filename
    if is_file:
        name, text = upload.filename, ""
    else:
        name, text = request.form.get("filename", ""), request.form.get("source", "")
        if not text.strip():
            message = "Choose a file, or paste its text."
            raise ValidationFailed(message, {"file": message})
    extension = EXTENSIONS.get(name.rsplit(".", 1)[-1].lower(), "") if name else guess_format(text)
    fmt = request.form.get("format") or extension
    if fmt not in imports.FORMATS:
        message = "Choose the file's format (SQL, JSON or DBML)."
        raise ValidationFailed(message, {"format": message})
    if is_file:
        # Its size first: a file cut at the cap could end inside a character.
        import_limits.refuse_too_large(fmt, upload.stream.seek(0, io.SEEK_END))
        upload.stream.seek(0)
        text = import_limits.decoded(upload.read())
    return fmt, text, name


@bp.get("/projects/<project_id>/transfer")
@login_required
def index(project_id):
    """The Import & export tab: downloads in every format, and the import form."""
    granted = projects.access(current_user, project_id)
    return render_template(PAGE, **page_context(granted))


def importable_schemas():
    """The deploy target's schemas the user may import ([] when it cannot be reached)."""
    try:
        return import_database.schema_names(current_user)
    except psycopg2.Error:  # an unreachable target must not hide the import forms
        return []


def page_context(granted, **extra):
    """The tab's context: the deploy target's schemas offered to an editor."""
    return {
        "access": granted, "project": granted.project, "errors": {}, "plan": None,
        "schemas": importable_schemas() if granted.can("editor") else [],
        "allow_urls": settings.import_allow_urls, **extra,
    }  # fmt: skip


def previewed(plan, fmt, source, filename, **context):
    """The context of a preview: the plan, its findings arranged for reading, and what
    confirming it sends back."""
    return {
        "errors": {}, "plan": plan, "report": import_report.report(plan), "fmt": fmt,
        "source": source, "filename": filename, **context,
    }  # fmt: skip


@bp.get("/projects/<project_id>/export/<fmt>")
@login_required
def export(project_id, fmt):
    """Download the design (or version=<n>) as sql, json, dbml or mermaid."""
    return exports.download_design(current_user, project_id, fmt, request.args.get("version"))


@bp.get("/projects/<project_id>/export/<fmt>/prepare")
@login_required
def prepare(project_id, fmt):
    """The file a download would send, written first on a thread of its own: for htmx, its
    progress (asked again each second) until it is ready, then the download itself
    (HX-Redirect); for a plain request, the download."""
    version = request.args.get("version") or None
    if not htmx:
        return go("transfer.export", project_id=project_id, fmt=fmt, version=version)
    context = {"fmt": fmt, "label": FORMAT_LABELS.get(fmt, fmt)}
    try:
        state = exports.prepare_design(current_user, project_id, fmt, version)
    except ValidationFailed as exc:
        return block(PAGE, "export_status", 200, error=str(exc), **context)
    if state.ready:
        return go("transfer.export", project_id=project_id, fmt=fmt, version=version)
    poll = url_for("transfer.prepare", project_id=project_id, fmt=fmt, version=version)
    return block(PAGE, "export_status", state=state, poll=poll, **context)


@bp.post("/projects/<project_id>/import/preview")
@login_required
def preview(project_id):
    """What importing the chosen file would create, map imperfectly, or leave out."""
    granted = projects.access(current_user, project_id, "editor")
    context = {"access": granted, "project": granted.project}
    try:
        fmt, text, name = uploaded()
        plan = imports.preview(current_user, granted.project.id, fmt, text)
    except ValidationFailed as exc:
        return block(PAGE, "import_preview", exc.status, errors=exc.fields, plan=None, **context)
    return block(PAGE, "import_preview", **previewed(plan, fmt, text, name, **context))


@bp.post("/projects/<project_id>/import/database/preview")
@login_required
def database_preview(project_id):
    """What importing a live schema would create: its tables read from the catalog, as SQL."""
    granted = projects.access(current_user, project_id, "editor")
    context = {"access": granted, "project": granted.project}
    schema, url = request.form.get("schema", ""), request.form.get("url") or None
    try:
        text = import_database.schema_ddl(current_user, schema, url)
        plan = imports.preview(current_user, granted.project.id, "sql", text)
    except (ValidationFailed, Forbidden) as exc:
        errors = exc.fields or {"schema": exc.message}
        return block(PAGE, "import_preview", 422, errors=errors, plan=None, **context)
    context = previewed(plan, "sql", text, f"schema {schema}", shown_sql=text, **context)
    return block(PAGE, "import_preview", **context)


@bp.post("/projects/<project_id>/import")
@login_required
def run(project_id):
    """Import the previewed file into the project, saved as a new version."""
    granted = projects.access(current_user, project_id, "editor")
    context = {"access": granted, "project": granted.project, "plan": None}
    try:
        fmt, text, name = uploaded()
        plan, version = imports.import_into(
            current_user, granted.project.id, fmt, text, f"Imported {name}" if name else None
        )
    except (ValidationFailed, Conflict) as exc:
        errors = exc.fields or {"file": exc.message}
        status = exc.status if isinstance(exc, ValidationFailed) else 422
        return block(PAGE, "import_preview", status, errors=errors, **context)
    counts = plan.summary()
    message = f"Imported {counts['tables']} tables and {counts['relationships']} relationships"
    flash(f"{message} as version {version.version_number}.", "success")
    return go("projects.show", project_id=granted.project.id)


@bp.get("/projects/import")
@login_required
def new():
    """Import a file as a new project."""
    return render_template(
        NEW, errors={}, plan=None, form={}, allow_urls=settings.import_allow_urls,
        schemas=importable_schemas(),
    )  # fmt: skip


def project_form():
    """The new project's name and description as typed."""
    return {
        "name": request.form.get("name", ""),
        "description": request.form.get("description", ""),
    }


@bp.post("/projects/import/preview")
@login_required
def new_preview():
    """The preview of a new project made from a file."""
    form = project_form()
    try:
        fmt, text, name = uploaded()
        plan = imports.preview(current_user, None, fmt, text)
    except ValidationFailed as exc:
        return block(NEW, "import_preview", exc.status, errors=exc.fields, plan=None, form=form)
    form["name"] = form["name"] or (name.rsplit(".", 1)[0] if name else f"Pasted {fmt.upper()}")
    return block(NEW, "import_preview", **previewed(plan, fmt, text, name, form=form))


@bp.post("/projects/import")
@login_required
def create():
    """Create the project from the previewed file."""
    form = project_form()
    try:
        fmt, text, name = uploaded()
        project, plan, version = imports.import_new_project(
            current_user, form["name"], fmt, text, form["description"]
        )
    except ValidationFailed as exc:
        return block(NEW, "import_preview", exc.status, errors=exc.fields, plan=None, form=form)
    flash(
        f"Project “{project.name}” created with {plan.summary()['tables']} imported tables.",
        "success",
    )
    return go("projects.show", project_id=project.id)


def schema_form():
    """The new project's name and description, and the schema (and URL) to read it from."""
    return project_form(), request.form.get("schema", ""), request.form.get("url") or None


@bp.post("/projects/import/database/preview")
@login_required
def new_database_preview():
    """The preview of a new project made from a live schema (taken over when exact)."""
    form, schema, url = schema_form()
    try:
        text = import_database.schema_ddl(current_user, schema, url)
        if url:
            plan = imports.preview(current_user, None, "sql", text)
        else:
            plan = imports.preview_schema_project(current_user, schema, text)
    except (ValidationFailed, Forbidden) as exc:
        errors = exc.fields or {"schema": exc.message}
        return block(NEW, "import_preview", 422, errors=errors, plan=None, form=form)
    form["name"] = form["name"] or schema
    context = previewed(plan, "sql", text, f"schema {schema}", shown_sql=text, form=form,
                        database={"schema": schema, "url": url or ""})  # fmt: skip
    return block(NEW, "import_preview", **context)


@bp.post("/projects/import/database")
@login_required
def new_database_create():
    """Create the project from the previewed schema (read again: it is what is there now)."""
    form, schema, url = schema_form()
    try:
        text = import_database.schema_ddl(current_user, schema, url)
        name, description = form["name"] or schema, form["description"]
        if url:
            project, plan, _ = imports.import_new_project(
                current_user, name, "sql", text, description
            )
        else:
            project, plan, _ = imports.import_schema_project(
                current_user, name, schema, text, description
            )
    except (ValidationFailed, Forbidden) as exc:
        errors = exc.fields or {"schema": exc.message}
        return block(NEW, "import_preview", 422, errors=errors, plan=None, form=form)
    tables = plan.summary()["tables"]
    flash(f"Project “{project.name}” created with {tables} tables, {plan.status_note}.", "success")
    return go("projects.show", project_id=project.id)
