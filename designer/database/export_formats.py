"""A design taken out of the designer: SQL, JSON, DBML and Mermaid files.

SQL is the deploy's own CREATE script (designer.database.ddl), JSON the
canonical snapshot (designer.history.snapshot), Mermaid the diagram's source
(designer.diagram). DBML is written here, in the subset both dbdiagram's
reference parser (@dbml/core) and pydbml read: validation rules travel as
`check:` lines of the column's note, since pydbml has no `checks` block.
Pure: no database, no Flask.
"""

import json
from dataclasses import dataclass

from designer import diagram
from designer.database import ddl
from designer.database.ddl_terms import check_expression
from designer.database.ddl_terms import column_type
from designer.database.ddl_terms import ordered_fields
from designer.database.schema_objects import check_rules
from designer.database.schema_objects import source_key_field
from designer.design.field_types import DATE_FUNCTIONS

FORMATS = ("sql", "json", "dbml", "mermaid")
DBML_ACTIONS = {
    "no_action": "no action",
    "restrict": "restrict",
    "cascade": "cascade",
    "set_null": "set null",
    "set_default": "set default",
}


@dataclass
class ExportFile:
    """One exported file: its name, media type and text."""

    filename: str
    mimetype: str
    text: str


def live_design(snapshot):
    """The snapshot without Deleted tables and the relationships that touch them."""
    kept = {tid: t for tid, t in snapshot["tables"].items() if t["status"] != "deleted"}
    relationships = {
        rid: rel
        for rid, rel in snapshot["relationships"].items()
        if {rel["source_table_id"], rel["target_table_id"]} <= kept.keys()
        and rel.get("status") != "deleted"
    }
    return {**snapshot, "tables": kept, "relationships": relationships}


def sql_text(snapshot, schema):
    return ddl.script(ddl.create_script(schema, live_design(snapshot)))


def json_text(snapshot):
    """The whole snapshot (Deleted tables too), so an import gives back the same hash."""
    return json.dumps(snapshot, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def export_file(snapshot, fmt, schema, stem):
    """The snapshot as an ExportFile in `fmt` (one of FORMATS)."""
    if fmt == "sql":
        return ExportFile(f"{stem}.sql", "application/sql", sql_text(snapshot, schema))
    if fmt == "json":
        return ExportFile(f"{stem}.json", "application/json", json_text(snapshot))
    if fmt == "dbml":
        return ExportFile(f"{stem}.dbml", "text/plain", dbml_text(snapshot, schema))
    return ExportFile(f"{stem}.mmd", "text/plain", diagram.mermaid(snapshot))


def dbml_string(text):
    """A DBML single-quoted string (backslash escapes, one line)."""
    escaped = str(text).replace("\\", "\\\\").replace("'", "\\'")
    return "'" + escaped.replace("\r", "").replace("\n", "\\n") + "'"


def dbml_name(name):
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def dbml_default(field):
    value = field["default_value"]
    if field["data_type"] == "boolean":
        return value
    if field["data_type"] == "number":
        # Readers take 0.00 for the float 0.0: a decimal keeps its digits as a string.
        return value if value.lstrip("-").isdigit() else dbml_string(value)
    date_type = field["field_config"].get("date_type", "date")
    if field["data_type"] == "date" and value in DATE_FUNCTIONS.get(date_type, ()):
        return f"`{value}`"
    return dbml_string(value)


def column_note(field):
    """The column's description, then one `check:` line per validation rule."""
    lines = []
    if field["field_config"].get("description"):
        lines.append(field["field_config"]["description"])
    lines += [f"check: {check_expression(field, *rule)}" for rule in check_rules(field)]
    return "\n".join(lines)


def dbml_column(field):
    config = field["field_config"]
    settings = []
    if config.get("primary_key"):
        settings += ["pk", "increment"]
    elif field["is_required"]:
        settings.append("not null")
    if config.get("unique") and not config.get("primary_key"):
        settings.append("unique")
    if field["default_value"] is not None:
        settings.append(f"default: {dbml_default(field)}")
    note = column_note(field)
    if note:
        settings.append(f"note: {dbml_string(note)}")
    shown = f" [{', '.join(settings)}]" if settings else ""
    return f"  {dbml_name(field['field_name'])} {column_type(field)}{shown}"


def dbml_table(table):
    fields = ordered_fields(table)
    lines = [f"Table {dbml_name(table['table_name'])} {{"]
    lines += [dbml_column(field) for field in fields]
    indexed = [
        f
        for f in fields
        if f["field_config"].get("indexed") and not f["field_config"].get("unique")
    ]
    if indexed:
        lines.append("  indexes {")
        lines += [f"    {dbml_name(f['field_name'])}" for f in indexed]
        lines.append("  }")
    if table.get("description"):
        lines.append(f"  Note: {dbml_string(table['description'])}")
    lines.append("}")
    return lines


def dbml_ref(snapshot, rel):
    source = snapshot["tables"][rel["source_table_id"]]
    target = snapshot["tables"][rel["target_table_id"]]
    key = source["fields"][source_key_field(snapshot, rel)]
    foreign = target["fields"][rel["target_field_id"]]
    cascade = rel.get("cascade_config") or {}
    actions = (
        f"delete: {DBML_ACTIONS[cascade.get('on_delete', 'no_action')]}, "
        f"update: {DBML_ACTIONS[cascade.get('on_update', 'no_action')]}"
    )
    return (
        f"Ref {dbml_name(rel['relationship_name'])}: "
        f"{dbml_name(source['table_name'])}.{dbml_name(key['field_name'])} < "
        f"{dbml_name(target['table_name'])}.{dbml_name(foreign['field_name'])} [{actions}]"
    )


def dbml_text(snapshot, schema):
    """DBML of the live design: tables with their columns' settings, then the refs."""
    design = live_design(snapshot)
    lines = [
        f"Project {dbml_name(schema)} {{",
        "  database_type: 'PostgreSQL'",
        "}",
        "",
    ]
    for table in sorted(design["tables"].values(), key=lambda t: t["table_name"]):
        lines += [*dbml_table(table), ""]
    # In id order, the order the SQL export lists foreign keys in (and an import keeps).
    rels = [rel for _, rel in sorted(design["relationships"].items())]
    lines += [dbml_ref(design, rel) for rel in rels if rel.get("target_field_id")]
    return "\n".join(lines).rstrip("\n") + "\n"
