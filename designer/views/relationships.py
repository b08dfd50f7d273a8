"""Relationships: the project's list, the add form (also on table pages), inline edits."""

from flask import Blueprint
from flask import flash
from flask import render_template
from flask import request
from flask_login import current_user
from flask_login import login_required

from designer import locks
from designer import projects
from designer.design import relationships
from designer.design import table_picker
from designer.design.field_types import pg_type
from designer.design.keys import comparable_types
from designer.design.keys import primary_key_fields
from designer.design.naming import foreign_key_name
from designer.errors import ValidationFailed
from designer.views import block
from designer.views import form_revision
from designer.views import go
from designer.views import save_inline
from designer.views import session_lock
from designer.web import htmx

bp = Blueprint("relationships", __name__)
TEMPLATE = "relationships/index.html"
SIDES = ("source", "target")
FORM_KEYS = (
    "source_table", "source_table_id", "source_field_id", "target_table", "target_table_id",
    "target_field_id",
    "relationship_name", "relationship_type", "on_delete", "on_update", "junction_table_name",
    "foreign_key_name",
)  # fmt: skip


ACTION_CHOICES = [(action, action.replace("_", " ")) for action in relationships.ACTIONS]


def picked(project_id, form, side):
    """The table the form's `side` names (its typed name, else its id), written back into
    the form as both; None when none is chosen. A name or id that fits no table of the
    project is kept as typed, with the reason in form["problems"]."""
    table, problem = table_picker.chosen_table(
        project_id, form.get(f"{side}_table"), form.get(f"{side}_table_id")
    )
    if problem:
        form.setdefault("problems", {})[f"{side}_table_id"] = problem
        form[f"{side}_table_id"] = ""
        return None
    if table is not None:
        form[f"{side}_table"], form[f"{side}_table_id"] = table.name, str(table.id)
    return table


def form_context(project_id, form):
    """The choices the add form offers for what has been picked so far."""
    # Each side is one table found by name, never a listing: 3,000 names are half a megabyte.
    source, target = (picked(project_id, form, side) for side in SIDES)
    fields = relationships.fields_of([t for t in (source, target) if t is not None])
    source_fields = fields.get(form.get("source_table_id"), [])
    entry = {
        "fields": {str(f.id): {"field_config": f.field_config} for f in source_fields},
        "structure": (getattr(source, "structure", None) or {}) if source else {},
    }
    primary = primary_key_fields(entry)
    by_id = {str(f.id): f for f in source_fields}
    keys = [f for f in source_fields if f.field_config.get("unique") and [str(f.id)] != primary]
    key = next((f for f in keys if str(f.id) == form.get("source_field_id")), None) or (
        by_id[primary[0]] if len(primary) == 1 else None
    )
    key_type = pg_type(key.data_type, key.field_config) if key else None
    # Only columns that can hold the chosen key: a type PostgreSQL compares with it.
    foreign = [
        (str(f.id), f"{f.field_name} ({pg_type(f.data_type, f.field_config)})")
        for f in fields.get(form.get("target_table_id"), [])
        if not f.field_config.get("system")
        and (key_type is None or comparable_types(key_type, pg_type(f.data_type, f.field_config)))
    ]
    if len(primary) > 1:
        foreign = []  # a new column for each of the key's
    key_words = ", ".join(by_id[f].field_name for f in primary if f in by_id) or "id"
    if source:
        itself = target is not None and source.id == target.id
        new_name = foreign_key_name(source.table_name, self_reference=itself)
    else:
        new_name = "<one table>_id"
    form.setdefault("foreign_key_name", "")
    if not form["foreign_key_name"] and source:
        form["foreign_key_name"] = new_name
    return {
        "key_choices": [
            (
                "",
                f"{key_words} (primary key)"
                if len(primary) < 2
                else f"({key_words}) (primary key)",
            ),
            *((str(f.id), f"{f.field_name} (unique)") for f in keys),
        ],
        "foreign_key_choices": [("new", "A new column"), *foreign],
        "action_choices": ACTION_CHOICES,
    }


def page_context(granted, form=None, errors=None, return_to="project"):
    form = form or {"relationship_type": "one_to_many"}
    rels, next_after = relationships.page_of(granted.project.id, request.args.get("after"))
    choices = form_context(granted.project.id, form)
    return {
        "access": granted,
        "project": granted.project,
        "relationships": rels,
        "next_after": next_after,
        "form": form,
        "errors": {**form.pop("problems", {}), **(errors or {})},
        "return_to": return_to,
        **choices,
    }


@bp.get("/projects/<project_id>/relationships")
@login_required
def index(project_id):
    """The project's relationships, a page at a time, and the form adding one."""
    granted = projects.access(current_user, project_id)
    if request.args.get("after") and htmx:
        rels, next_after = relationships.page_of(granted.project.id, request.args["after"])
        return render_template(
            "relationships/_rows.html",
            access=granted,
            project=granted.project,
            relationships=rels,
            next_after=next_after,
        )
    return render_template(TEMPLATE, **page_context(granted))


@bp.get("/projects/<project_id>/relationships/form")
@login_required
def form(project_id):
    """The add form again, its choices following the tables picked."""
    granted = projects.access(current_user, project_id, "editor")
    form = {key: request.args.get(key, "") for key in FORM_KEYS}
    context = page_context(granted, form, return_to=request.args.get("return_to", "project"))
    return block(TEMPLATE, "relationship_form", **context)


@bp.post("/projects/<project_id>/relationships")
@login_required
def create(project_id):
    """Link two tables; back to the page the form was on."""
    form = {key: request.form.get(key, "") for key in FORM_KEYS}
    return_to = request.form.get("return_to", "project")
    try:
        chosen(project_id, form)
        rel = relationships.create_relationship(
            current_user, project_id, form, session_lock(form["target_table_id"])
        )
    except ValidationFailed as exc:
        granted = projects.access(current_user, project_id)
        context = page_context(granted, form, exc.fields, return_to)
        return block(TEMPLATE, "relationship_form", 422, **context)
    flash(f"Relationship {rel.relationship_name} added.", "success")
    if return_to.startswith("table:"):
        return go("tables.show", table_id=return_to.split(":", 1)[1])
    return go("relationships.index", project_id=project_id)


def chosen(project_id, form):
    """Turn the typed table names into the ids the relationship is made of."""
    granted = projects.access(current_user, project_id, "editor")
    for side in SIDES:
        picked(granted.project.id, form, side)
    problems = form.pop("problems", {})
    if problems:
        raise ValidationFailed(relationships.PROBLEM, problems)


@bp.get("/projects/<project_id>/relationships/tables")
@login_required
def table_choices(project_id):
    """The first tables whose name contains what was typed (q, or the picker's own name),
    as <option>s for a table picker's datalist."""
    granted = projects.access(current_user, project_id)
    text = next(
        (request.args[k] for k in ("q", *(f"{s}_table" for s in SIDES)) if k in request.args), ""
    )
    found = table_picker.matching_tables(granted.project.id, text)
    return block(TEMPLATE, "table_options", tables=found)


def row(granted, rel, name="relationship_row", status=200, **extra):
    described = relationships.described(granted.project.id, only=rel.id)[0]
    return block(TEMPLATE, name, status, access=granted, project=granted.project,
                 rel=described, action_choices=ACTION_CHOICES, **extra)  # fmt: skip


@bp.get("/relationships/<rel_id>")
@login_required
def show(rel_id):
    """One relationship's row."""
    granted, rel = relationships.relationship_access(current_user, rel_id)
    return row(granted, rel)


@bp.get("/relationships/<rel_id>/edit")
@login_required
def edit(rel_id):
    """The row's inline form: name and cascade rules."""
    granted, rel = relationships.relationship_access(current_user, rel_id, "editor")
    # Refused now, not at Save: the foreign key's table is someone else's.
    locks.refuse_others(rel.target_table_id, current_user)
    form = {"relationship_name": rel.relationship_name, **rel.cascade_config}
    return row(granted, rel, "relationship_form_row", form=form, errors={}, revision=rel.revision)


@bp.put("/relationships/<rel_id>")
@login_required
def update(rel_id):
    """Save the name and cascade rules."""
    granted, rel = relationships.relationship_access(current_user, rel_id, "editor")
    form = {
        key: request.form.get(key, "") for key in ("relationship_name", "on_delete", "on_update")
    }
    revision = form_revision()

    def save():
        return relationships.update_relationship(
            current_user, rel.id, revision, form, session_lock(rel.target_table_id)
        )

    def again(status, current=None, **extra):
        shown = current or rel
        return row(granted, shown, "relationship_form_row", status, form=form,
                   revision=shown.revision, errors=extra.pop("errors", {}), **extra)  # fmt: skip

    return save_inline(save, again, lambda updated: row(granted, updated))


@bp.delete("/relationships/<rel_id>")
@login_required
def delete(rel_id):
    """Remove a relationship (its foreign key field stays)."""
    granted, rel = relationships.relationship_access(current_user, rel_id, "editor")
    relationships.delete_relationship(current_user, rel.id, session_lock(rel.target_table_id))
    return ""
