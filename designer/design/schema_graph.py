"""What the diagram draws: tables with their typed columns and the foreign keys between
them, cut down to one table's neighbourhood when the schema is too big to read at once.

Three queries whatever the schema's size: the live tables (names only, for search),
the relationships (to walk the neighbourhood), and the columns of the drawn tables.
Answers are kept against the project's change stamp, so a poll of an unchanged
schema costs one small query.
"""

import hashlib
import json
from collections import deque

from peewee import SQL
from peewee import NodeList

from designer.db import database
from designer.design.column_types import enum_types
from designer.design.field_types import display_type
from designer.design.page_stamps import project_stamp
from designer.design.snapshot_rules import is_uuid
from designer.kept import KeptAnswers
from designer.models import DataField
from designer.models import DataTable
from designer.models import ProjectEnum
from designer.models import TableRelationship

# The most tables drawn at once: beyond this a drawing stops being readable (and quick).
DRAW_LIMIT = 120
STEPS = (1, 2, 3)
WHOLE = "all"
kept_graphs = KeptAnswers(limit=32)


def rows_of(query):
    """The query's rows as plain tuples, straight from the cursor: peewee's own row
    processing took most of the time at 3,000 tables."""
    return database.execute_sql(*query.sql()).fetchall()


def live_tables(project_id):
    """(id, table_name, name) of every table not deleted, by table name; and {parent id:
    number of partitions}: a partition is folded into its parent, never drawn on its own."""
    parent = SQL("schema_definition #>> '{structure,partition_of,table_id}'")
    query = DataTable.select(
        DataTable.id.cast("text"), DataTable.table_name, DataTable.name, parent
    ).where(DataTable.project == project_id, DataTable.status != "deleted")
    rows, partitions = [], {}
    for table_id, table_name, name, parent_id in rows_of(query):
        if parent_id is None:
            rows.append((table_id, table_name, name))
        else:
            partitions[parent_id] = partitions.get(parent_id, 0) + 1
    return sorted(rows, key=lambda row: row[1]), partitions


def live_links(project_id, table_ids):
    """Relationships in use whose both ends are live tables, as dicts (many side first)."""
    query = TableRelationship.select(
        TableRelationship.id.cast("text"),
        TableRelationship.relationship_name,
        TableRelationship.target_table.cast("text"),
        TableRelationship.target_field.cast("text"),
        TableRelationship.source_table.cast("text"),
        TableRelationship.source_field.cast("text"),
    ).where(TableRelationship.project == project_id, TableRelationship.status != "deleted")
    keys = ("id", "name", "from_table", "from_column", "to_table", "to_column")
    links = [dict(zip(keys, row, strict=True)) for row in rows_of(query)]
    return [x for x in links if x["from_table"] in table_ids and x["to_table"] in table_ids]


def adjacency(links):
    near = {}
    for link in links:
        near.setdefault(link["from_table"], set()).add(link["to_table"])
        near.setdefault(link["to_table"], set()).add(link["from_table"])
    return near


def hub(table_ids, near):
    """The table with the most neighbours (the first by order on a tie): a useful default."""
    return max(table_ids, key=lambda tid: len(near.get(tid, ())), default=None)


def neighbourhood(near, focus, steps, limit):
    """Tables at most `steps` links from `focus`, nearest first, at most `limit` of them;
    and how many more were within reach but left out."""
    distance = {focus: 0}
    queue = deque([focus])
    while queue:
        current = queue.popleft()
        if distance[current] == steps:
            continue
        for other in sorted(near.get(current, ())):
            if other not in distance:
                distance[other] = distance[current] + 1
                queue.append(other)
    reached = sorted(distance, key=lambda tid: (distance[tid], tid))
    return reached[:limit], max(0, len(reached) - limit)


def scope(table_ids, links, focus=None, steps=None, limit=None):
    """Which tables to draw: the whole schema when asked (or by default) and small enough,
    otherwise `focus` (or the best connected table) and its neighbourhood."""
    limit = DRAW_LIMIT if limit is None else limit
    near = adjacency(links)
    whole_fits = len(table_ids) <= limit
    if focus not in table_ids:
        focus = None
    if steps not in STEPS and steps != WHOLE:
        steps = WHOLE if whole_fits and focus is None else 1
    if steps == WHOLE and whole_fits:
        return {"focus": focus, "steps": WHOLE, "tables": list(table_ids), "left_out": 0}
    focus = focus or hub(table_ids, near)
    if focus is None:
        return {"focus": None, "steps": WHOLE, "tables": [], "left_out": 0}
    steps = 1 if steps == WHOLE else steps
    drawn, left_out = neighbourhood(near, focus, steps, limit)
    return {"focus": focus, "steps": steps, "tables": drawn, "left_out": left_out}


def column_entry(row, foreign_keys):
    field_id, _table, name, field_name, data_type, is_required, config, _order, key = row
    # The table's chosen key (field ids), or None: then the designer's id is the key.
    primary = field_id in key if isinstance(key, list) else bool(config.get("primary_key"))
    return {
        "id": field_id,
        "column": field_name,
        "name": name,
        "type": display_type(data_type, config),
        "pk": primary,
        "fk": field_id in foreign_keys,
        "uk": bool(config.get("unique")) and not primary,
        "required": bool(is_required),
    }


def columns_of(table_ids, foreign_keys):
    query = DataField.select(
        DataField.id.cast("text"),
        DataField.data_table.cast("text"),
        DataField.name,
        DataField.field_name,
        DataField.data_type,
        DataField.is_required,
        DataField.field_config,
        DataField.sort_order,
        NodeList(
            (
                SQL(
                    "(SELECT d.schema_definition -> 'structure' -> 'primary_key'"
                    " FROM data_table d WHERE d.id ="
                ),
                DataField.data_table,
                SQL(")"),
            )
        ),
    ).where(DataField.data_table.in_(table_ids))
    columns = {tid: [] for tid in table_ids}
    rows = rows_of(query)
    # An enum column shows its enum's name (read only when there is one).
    named = {r[6].get("enum_id") for r in rows if r[6].get("text_type") == "enum"}
    found = (
        ProjectEnum.select(ProjectEnum.id, ProjectEnum.name).where(
            ProjectEnum.id.in_([n for n in named if is_uuid(n)])
        )
        if named
        else ()
    )
    with enum_types({str(e.id): {"name": e.name} for e in found}):
        for row in sorted(rows, key=lambda r: (r[7], r[3])):
            columns[row[1]].append(column_entry(row, foreign_keys))
    return columns


def graph_json(project_id, focus=None, steps=None):
    """(hash, JSON bytes) of the diagram's data, kept while the project does not change."""
    key = (str(project_id), project_stamp(project_id), focus, steps)
    return kept_graphs.get(key, lambda: encoded(graph(project_id, focus, steps)))


def encoded(data):
    """(hash, JSON bytes) of `data` and its hash, encoding it once: a second encoding of a
    3,000-table index was a tenth of a cold answer's time."""
    body = json.dumps(data, sort_keys=True, separators=(",", ":"))
    hashed = hashlib.sha256(body.encode()).hexdigest()[:16]
    return hashed, f'{body[:-1]},"hash":"{hashed}"}}'.encode()


def graph(project_id, focus=None, steps=None):
    """The diagram's data as JSON-ready dicts (graph_json adds the hash of them)."""
    index, partitions = live_tables(project_id)
    names = {tid: (table_name, name) for tid, table_name, name in index}
    links = live_links(project_id, names)
    chosen = scope(list(names), links, focus, steps)
    drawn = set(chosen["tables"])
    foreign_keys = {x["from_column"] for x in links if x["from_column"]}
    columns = columns_of(chosen["tables"], foreign_keys) if drawn else {}
    outside = {}
    for link in links:
        ends = (link["from_table"], link["to_table"])
        for here, there in (ends, ends[::-1]):
            if here in drawn and there not in drawn:
                outside[here] = outside.get(here, 0) + 1
    data = {
        "focus": chosen["focus"],
        "steps": chosen["steps"],
        "total": len(index),
        "left_out": chosen["left_out"],
        "index": [list(row) for row in index],
        "tables": [
            {
                "id": tid,
                "table_name": names[tid][0],
                "name": names[tid][1],
                "columns": columns[tid],
                "links_outside": outside.get(tid, 0),
                **({"partitions": partitions[tid]} if tid in partitions else {}),
            }
            for tid in sorted(drawn, key=lambda t: names[t][0])
        ],
        "links": [x for x in links if x["from_table"] in drawn and x["to_table"] in drawn],
    }
    data["links"].sort(key=lambda x: x["name"])
    return data
