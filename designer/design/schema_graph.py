"""What the diagram draws: tables with their typed columns and the foreign keys between
them, cut down to one table's neighbourhood when the schema is too big to read at once.

A few queries whatever the schema's size: how many tables are live, the drawn tables (the
whole schema when it is small, else a walk of the neighbourhood through the relationships'
indexes), the relationships touching them and their columns. The whole list of names is
never sent (a search asks search_tables). Answers are kept against the project's change
stamp, so a poll of an unchanged schema costs one small query.
"""

import hashlib
import json

from peewee import SQL
from peewee import NodeList

from designer.db import database
from designer.design import table_list
from designer.design.column_types import enum_types
from designer.design.field_types import display_type
from designer.design.page_stamps import project_stamp
from designer.design.snapshot_rules import is_uuid
from designer.kept import KeptAnswers
from designer.models import DataField
from designer.models import ProjectEnum

# The most tables drawn at once: beyond this a drawing stops being readable (and quick).
DRAW_LIMIT = 120
STEPS = (1, 2, 3)
WHOLE = "all"
kept_graphs = KeptAnswers(limit=32)


def rows_of(query):
    """The query's rows as plain tuples, straight from the cursor: peewee's own row
    processing took most of the time at 3,000 tables."""
    return database.execute_sql(*query.sql()).fetchall()


# A partition is drawn in its parent's box (its columns are the parent's), never alone.
IS_PARTITION = "coalesce(({t}schema_definition -> 'structure') ? 'partition_of', false)"

# The project's live tables, and whether `focus` is one of them.
FACTS = """
SELECT count(*), coalesce(bool_or(id = %(focus)s::uuid), false) FROM data_table
WHERE project_id = %(project)s AND status <> 'deleted' AND NOT {partition}
""".format(partition=IS_PARTITION.format(t=""))

# Every live table, when the whole schema is drawn: (id, distance 0, table name, name).
EVERY_TABLE = """
SELECT id::text, 0, table_name, name FROM data_table
WHERE project_id = %(project)s AND status <> 'deleted' AND NOT {partition}
""".format(partition=IS_PARTITION.format(t=""))

# The live tables at most `steps` relationships in use from `focus`, or, with no focus,
# from the best connected table (the most neighbours, the first by table name on a tie):
# (id, distance, table name, name). Each step reads the relationships of the tables it
# reached through their own indexes, so a walk reads its neighbourhood, not the schema.
WALK = """
WITH RECURSIVE
links AS (
  SELECT r.source_table_id AS here, r.target_table_id AS there FROM table_relationship r
  WHERE r.project_id = %(project)s AND r.status <> 'deleted' AND %(focus)s::uuid IS NULL
  UNION
  SELECT r.target_table_id, r.source_table_id FROM table_relationship r
  WHERE r.project_id = %(project)s AND r.status <> 'deleted' AND %(focus)s::uuid IS NULL),
start AS (
  SELECT coalesce(%(focus)s::uuid,
    (SELECT l.here FROM links l
     JOIN data_table a ON a.id = l.here AND a.status <> 'deleted'
     JOIN data_table b ON b.id = l.there AND b.status <> 'deleted'
     GROUP BY l.here, a.table_name ORDER BY count(*) DESC, a.table_name COLLATE "C" LIMIT 1),
    (SELECT t.id FROM data_table t WHERE t.project_id = %(project)s AND t.status <> 'deleted'
       AND NOT {t_partition}
     ORDER BY t.table_name COLLATE "C" LIMIT 1)) AS tid),
walk (tid, distance) AS (
  SELECT tid, 0 FROM start WHERE tid IS NOT NULL
  UNION
  SELECT o.id, w.distance + 1
  FROM walk w
  JOIN table_relationship r ON (r.source_table_id = w.tid OR r.target_table_id = w.tid)
    AND r.status <> 'deleted'
  JOIN data_table o ON o.status <> 'deleted' AND o.id = CASE
    WHEN r.source_table_id = w.tid THEN r.target_table_id ELSE r.source_table_id END
  WHERE w.distance < %(steps)s)
SELECT w.tid::text, min(w.distance), t.table_name, t.name
FROM walk w JOIN data_table t ON t.id = w.tid
WHERE NOT {t_partition}
GROUP BY w.tid, t.table_name, t.name
""".replace("{t_partition}", IS_PARTITION.format(t="t."))

# How many partitions each of `tables` has (a partition is folded into its parent's box).
PARTITIONS = """
SELECT schema_definition #>> '{structure,partition_of,table_id}', count(*) FROM data_table
WHERE project_id = %(project)s AND status <> 'deleted'
  AND schema_definition #>> '{structure,partition_of,table_id}' = ANY (%(tables)s)
GROUP BY 1
"""

# Relationships in use between live tables with an end among `tables` (many side first).
LINKS = """
SELECT r.id::text, r.relationship_name, r.target_table_id::text, r.target_field_id::text,
       r.source_table_id::text, r.source_field_id::text
FROM table_relationship r
JOIN data_table s ON s.id = r.source_table_id AND s.status <> 'deleted'
JOIN data_table t ON t.id = r.target_table_id AND t.status <> 'deleted'
WHERE r.project_id = %(project)s AND r.status <> 'deleted'
  AND (r.source_table_id = ANY (%(tables)s::uuid[]) OR r.target_table_id = ANY (%(tables)s::uuid[]))
"""


def scope(project_id, focus=None, steps=None, limit=None):
    """Which tables to draw: the whole schema when asked (or by default) and small enough,
    otherwise `focus` (or the best connected table) and its neighbourhood, nearest first,
    at most `limit` of them. Also {id: (table name, name)} of those and the live count."""
    limit = DRAW_LIMIT if limit is None else limit
    wanted = focus if focus and is_uuid(focus) else None
    values = {"project": str(project_id), "focus": wanted}
    total, live = database.execute_sql(FACTS, values).fetchone()
    focus = wanted if live else None
    whole_fits = total <= limit
    if steps not in STEPS and steps != WHOLE:
        steps = WHOLE if whole_fits and focus is None else 1
    if steps == WHOLE and whole_fits:
        rows = database.execute_sql(EVERY_TABLE, values).fetchall()
        chosen = {"focus": focus, "steps": WHOLE, "left_out": 0}
    else:
        steps = 1 if steps == WHOLE else steps
        rows = database.execute_sql(WALK, {**values, "focus": focus, "steps": steps}).fetchall()
        rows.sort(key=lambda row: (row[1], row[0]))
        start = next((row[0] for row in rows if row[1] == 0), None)
        chosen = {"focus": start, "steps": steps if start else WHOLE}
        chosen["left_out"] = max(0, len(rows) - limit)
        rows = rows[:limit]
    chosen["tables"] = [row[0] for row in rows]
    chosen["names"] = {tid: (table_name, name) for tid, _, table_name, name in rows}
    chosen["total"] = total
    return chosen


def links_of(project_id, table_ids):
    """Relationships in use between live tables with an end among `table_ids`, as dicts."""
    rows = database.execute_sql(LINKS, {"project": str(project_id), "tables": list(table_ids)})
    keys = ("id", "name", "from_table", "from_column", "to_table", "to_column")
    return [dict(zip(keys, row, strict=True)) for row in rows.fetchall()]


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
    """The diagram's data as JSON-ready dicts (graph_json adds the hash of them): what is
    drawn and nothing else (the search for a table is search_tables)."""
    chosen = scope(project_id, focus, steps)
    names = chosen["names"]
    drawn = set(chosen["tables"])
    links = links_of(project_id, drawn) if drawn else []
    foreign_keys = {x["from_column"] for x in links if x["from_column"]}
    columns = columns_of(chosen["tables"], foreign_keys) if drawn else {}
    partitions = (
        dict(
            database.execute_sql(
                PARTITIONS, {"project": str(project_id), "tables": sorted(drawn)}
            ).fetchall()
        )
        if drawn
        else {}
    )
    outside = {}
    for link in links:
        ends = (link["from_table"], link["to_table"])
        for here, there in (ends, ends[::-1]):
            if here in drawn and there not in drawn:
                outside[here] = outside.get(here, 0) + 1
    data = {
        "focus": chosen["focus"],
        "steps": chosen["steps"],
        "total": chosen["total"],
        "left_out": chosen["left_out"],
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


# A search of the diagram's tables answers this many, best first.
FOUND_LIMIT = 20


def search_tables(project_id, query):
    """[[id, table name, name, rank], ...] of the live tables a search finds, best first
    (table_list's ranks: 0 the name is the query, 1 starts with it, 2 contains it, ...)."""
    rows, _ = table_list.list_tables(project_id, query, limit=FOUND_LIMIT)
    return [
        [str(t.id), t.table_name, t.name, getattr(t, "search_rank", 0 if not query else 4)]
        for t in rows
    ]
