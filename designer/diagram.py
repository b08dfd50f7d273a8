"""The ER diagram of a schema snapshot, as Mermaid erDiagram source."""

import re

from designer.design.field_types import display_type
from designer.design.keys import primary_key_fields
from designer.design.partitions import partition_of

# Mermaid (11.17) reads attribute types made of letters, digits and _ - ( ) , [ ].
TYPE_UNSAFE = re.compile(r"[^A-Za-z0-9_(),\[\]-]")


def live_tables(snapshot):
    """Tables not deleted; a partition is folded into its parent (its columns are its)."""
    return {
        tid: t
        for tid, t in snapshot["tables"].items()
        if t["status"] != "deleted" and not partition_of(t)
    }


def between(relationships, tables):
    """The relationships in use whose both ends are among `tables`."""
    return [
        r
        for r in relationships
        if r["source_table_id"] in tables
        and r["target_table_id"] in tables
        and r.get("status") != "deleted"
    ]


def neighbourhood(tables, relationships, focus):
    """The focused table and every table one relationship away from it."""
    keep = {focus}
    for rel in relationships:
        if focus in (rel["source_table_id"], rel["target_table_id"]):
            keep.update((rel["source_table_id"], rel["target_table_id"]))
    return {tid: t for tid, t in tables.items() if tid in keep}


def mermaid_type(field):
    return TYPE_UNSAFE.sub("_", display_type(field["data_type"], field["field_config"]))


# Mermaid scans the whole source for %%{directives}%% and %% comments before it
# parses, quotes or no quotes; it turns entity codes (#37;) back into characters
# only when drawing. So every character with a meaning to Mermaid or to HTML is
# written as its code, "#" first among them so a typed "#37;" stays literal.
MERMAID_ESCAPES = str.maketrans({c: f"#{ord(c)};" for c in "#%\"'`<>{}[]():;&|\\"})


def comment(text):
    """Free text shown literally inside Mermaid's double quotes, on one line."""
    return " ".join(text.split()).translate(MERMAID_ESCAPES)


def entity(table, foreign_keys):
    lines = [f"    {table['table_name']} {{"]
    ordered = sorted(table["fields"].values(), key=lambda f: (f["sort_order"], f["field_name"]))
    primary = primary_key_fields(table)
    for field in ordered:
        config = field["field_config"]
        keys = [
            key
            for key, present in (
                ("PK", field["id"] in primary),
                ("FK", field["id"] in foreign_keys),
                ("UK", config.get("unique") and [field["id"]] != primary),
            )
            if present
        ]
        marks = f" {', '.join(keys)}" if keys else ""
        label = f' "{comment(field["name"])}"' if field["name"] != field["field_name"] else ""
        lines.append(f"        {mermaid_type(field)} {field['field_name']}{marks}{label}")
    lines.append("    }")
    return lines


def relationship_line(rel, tables):
    source = tables[rel["source_table_id"]]
    target = tables[rel["target_table_id"]]
    foreign = target["fields"].get(rel["target_field_id"] or "", {})
    # A required foreign key always has its "one"; an optional one may have none.
    one = "||" if foreign.get("is_required") else "|o"
    return (
        f"    {source['table_name']} {one}--o{{ {target['table_name']} : "
        f'"{comment(rel["relationship_name"])}"'
    )


def mermaid(snapshot, focus=None):
    """Mermaid erDiagram source: tables, typed columns with PK/FK/UK marks, relationships."""
    tables = live_tables(snapshot)
    relationships = between(snapshot["relationships"].values(), tables)
    if focus and focus in tables:
        tables = neighbourhood(tables, relationships, focus)
        relationships = between(relationships, tables)
    foreign_keys = {r["target_field_id"] for r in relationships if r["target_field_id"]}
    lines = ["erDiagram"]
    for table in sorted(tables.values(), key=lambda t: t["table_name"]):
        lines.extend(entity(table, foreign_keys))
    for rel in sorted(relationships, key=lambda r: r["relationship_name"]):
        lines.append(relationship_line(rel, tables))
    return "\n".join(lines) + "\n"
