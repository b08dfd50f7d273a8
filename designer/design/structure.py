"""A table's structure beyond its columns: multi-column UNIQUE constraints, table CHECKs and
indexes of every kind. Pure: no database, no Flask.

Kept in `data_table.schema_definition["structure"]` and in the snapshot's table entry under the
key "structure", which is left out while it is empty (so every design saved before it
keeps its bytes and its hash; a missing key reads as {}). The shape, each item keyed by
its own id so that renames are renames (as columns are):

    "structure": {
      "uniques": {id: {"id", "name", "columns": [field id, ...], "comment"}},
      "checks":  {id: {"id", "name", "expression", "comment"}},
      "indexes": {id: {"id", "name", "method", "unique", "keys": [key, ...],
                       "include": [field id, ...], "where", "comment"}},
      "primary_key": ...   (owned by the primary-key work; see its module)
    }

    key: {"column": field id or null, "expression": stored expression or null (exactly one
          of the two), "collation": name or null, "opclass": name or null,
          "descending": bool, "nulls": null | "first" | "last"}

`name` is the constraint's or index's own name, or null for one the designer generates (it
then follows table and column renames, as the designer's other names do). `comment` is
text or null. Expressions are designer.design.expressions' stored form: columns by field
id, deparsed by pglast. Items are validated here whichever way they came in
(structure_problems), and cleaned from what people type (clean_*), names and all.
"""

import uuid

from pglast import ast
from pglast import parse_sql
from pglast.enums import SortByDir
from pglast.enums import SortByNulls
from pglast.parser import ParseError

from designer.design import partitions
from designer.design.expressions import ExpressionProblem
from designer.design.expressions import column_ids
from designer.design.expressions import deparsed
from designer.design.expressions import parsed
from designer.design.expressions import renamed_columns
from designer.design.expressions import sql_expression
from designer.design.expressions import stored_expression
from designer.design.expressions import stored_problem
from designer.design.naming import MAX_IDENTIFIER_BYTES

KINDS = ("uniques", "checks", "indexes")
# Keys of "structure" that other parts of the designer own and check.
OTHER_KEYS = frozenset({"primary_key", "partition_by", "partition_of"})
ITEM_KEYS = {
    "uniques": ("id", "name", "columns", "comment"),
    "checks": ("id", "name", "expression", "comment"),
    "indexes": ("id", "name", "method", "unique", "keys", "include", "where", "comment"),
}
INDEX_KEY_KEYS = ("column", "expression", "collation", "opclass", "descending", "nulls")
METHODS = ("btree", "hash", "gin", "gist", "brin", "spgist")
NULLS = (None, "first", "last")
MAX_COLUMNS = 32
MAX_COMMENT = 2000
MAX_ITEMS = 200
NOUN = {"uniques": "unique constraint", "checks": "check", "indexes": "index"}


def structure_of(table):
    """The table's structure ({} when it has none)."""
    return table.get("structure") or {}


def items(table, kind):
    """{id: item} of one kind (uniques, checks, indexes) of a table."""
    return structure_of(table).get(kind) or {}


def field_names(table):
    return {fid: field["field_name"] for fid, field in table["fields"].items()}


def expression_sql(table, stored):
    """A stored expression of the table as SQL, with its columns' current names."""
    return sql_expression(stored, field_names(table))


def name_problem(name):
    """Why a constraint or index name cannot be used, or None (null: a generated name)."""
    if name is None:
        return None
    if not isinstance(name, str) or not name:
        return "expected a name, or nothing for a generated one."
    if len(name.encode("utf-8")) > MAX_IDENTIFIER_BYTES:
        return f"at most {MAX_IDENTIFIER_BYTES} bytes."
    if name != name.strip() or any(ord(ch) < 32 for ch in name):
        return "no spaces around it and no control characters."
    return None


def comment_problem(comment):
    if comment is None:
        return None
    if not isinstance(comment, str) or not comment.strip() or len(comment) > MAX_COMMENT:
        return f"expected text of 1 to {MAX_COMMENT:,} characters, or null."
    return None


def is_uuid(value):
    try:
        return isinstance(value, str) and str(uuid.UUID(value)) == value
    except ValueError:
        return False


def column_list_problem(columns, fields, empty_ok=False):
    if not isinstance(columns, list) or (not columns and not empty_ok):
        return "expected a list of column ids."
    if len(columns) > MAX_COLUMNS:
        return f"at most {MAX_COLUMNS} columns."
    if any(not isinstance(c, str) or c not in fields for c in columns):
        return "each is a column of this table."
    if len(set(columns)) != len(columns):
        return "each column once."
    return None


def structure_problems(table, checked=frozenset()):
    """[(where, key, message)] of what keeps a table's structure from being stored. Items
    whose ids are in `checked` were found sound on the same fields before: only what they
    are together is checked again (an import adding a table's items one at a time)."""
    if "structure" not in table:
        return []
    structure = table["structure"]
    if not isinstance(structure, dict) or not structure:
        return [("structure", "structure", "expected an object, left out when empty.")]
    unknown = set(structure) - set(KINDS) - OTHER_KEYS
    if unknown:
        return [("structure", "structure", f"unknown keys {', '.join(sorted(unknown))}.")]
    problems = []
    for kind in KINDS:
        if kind not in structure:
            continue
        entries = structure[kind]
        if not isinstance(entries, dict) or not entries or len(entries) > MAX_ITEMS:
            problems.append((kind, kind, f"expected 1 to {MAX_ITEMS} items keyed by id."))
            continue
        for item_id, item in entries.items():
            where = f"{NOUN[kind]} {item_id!r}"
            if not isinstance(item, dict) or set(item) != set(ITEM_KEYS[kind]):
                problems.append((where, "keys", f"expected {', '.join(ITEM_KEYS[kind])}."))
                continue
            if item["id"] != item_id or not is_uuid(item_id):
                problems.append((where, "id", "each item is keyed by its own id, a UUID."))
                continue
            if item_id in checked:
                continue
            problems += [(where, key, message) for key, message in item_problems(kind, item, table)]
    problems += name_clashes(structure) + same_uniques(table)
    return problems + partitions.table_problems(table) + partitions.unique_problems(table)


def key_columns(table):
    """The primary key's columns (as a set of field ids): the chosen key, else the designer's
    id."""
    chosen = structure_of(table).get("primary_key")
    if isinstance(chosen, list):
        return frozenset(c for c in chosen if isinstance(c, str))
    return frozenset(
        fid for fid, field in table["fields"].items() if field["field_config"].get("primary_key")
    )


def same_uniques(table):
    """PostgreSQL keeps one of two equal UNIQUEs made together (the primary key among them):
    a second one would deploy differently from a migration, so it is refused."""
    seen = {key_columns(table)}
    for item in items(table, "uniques").values():
        columns = frozenset(item.get("columns") or ()) if isinstance(item, dict) else None
        if columns in seen:
            return [(f"unique constraint {item['id']!r}", "columns", UNIQUE_TWICE)]
        seen.add(columns)
    return []


UNIQUE_TWICE = "these columns are unique already (the primary key or another constraint)."


def item_problems(kind, item, table):
    """[(key, message)] of one item."""
    fields = table["fields"]
    found = []
    checked = (("name", name_problem(item["name"])), ("comment", comment_problem(item["comment"])))
    for key, problem in checked:
        if problem:
            found.append((key, problem))
    if kind == "uniques":
        problem = column_list_problem(item["columns"], fields)
        if problem:
            found.append(("columns", problem))
    elif kind == "checks":
        problem = stored_problem(item["expression"], fields)
        if problem:
            found.append(("expression", problem))
    else:
        found += index_problems(item, fields)
    return found


def index_problems(item, fields):
    found = []
    if item["method"] not in METHODS:
        found.append(("method", f"expected one of {', '.join(METHODS)}."))
    if type(item["unique"]) is not bool or (item["unique"] and item["method"] != "btree"):
        found.append(("unique", "true or false; only a btree index is unique."))
    keys = item["keys"]
    if not isinstance(keys, list) or not keys or len(keys) > MAX_COLUMNS:
        found.append(("keys", f"expected 1 to {MAX_COLUMNS} keys."))
        return found
    for position, key in enumerate(keys, 1):
        problem = index_key_problem(key, fields)
        if problem:
            found.append((f"key {position}", problem))
    problem = column_list_problem(item["include"], fields, empty_ok=True)
    if problem:
        found.append(("include", problem))
    if item["where"] is not None:
        problem = stored_problem(item["where"], fields)
        if problem:
            found.append(("where", problem))
    return found


def index_key_problem(key, fields):
    if not isinstance(key, dict) or set(key) != set(INDEX_KEY_KEYS):
        return f"expected {', '.join(INDEX_KEY_KEYS)}."
    if (key["column"] is None) == (key["expression"] is None):
        return "a key is a column or an expression, not both."
    if key["column"] is not None and key["column"] not in fields:
        return "names a column of this table."
    if key["expression"] is not None:
        problem = stored_problem(key["expression"], fields)
        if problem:
            return problem
    for setting in ("collation", "opclass"):
        problem = name_problem(key[setting])
        if problem:
            return f"{setting}: {problem}"
    if type(key["descending"]) is not bool or key["nulls"] not in NULLS:
        return "descending is true or false; nulls is null, first or last."
    return None


def name_clashes(structure):
    """Two items of one table may not share a name (uniques and indexes are relations too)."""
    seen, found = set(), []
    for kind in KINDS:
        for item in (structure.get(kind) or {}).values():
            name = item.get("name") if isinstance(item, dict) else None
            if isinstance(name, str):
                if name in seen:
                    found.append((f"{NOUN[kind]} {name!r}", "name", "another item has it."))
                seen.add(name)
    return found


def explicit_names(table):
    """The names the table's items chose themselves: (relation names, constraint names)."""
    relations, constraints = set(), set()
    for kind in KINDS:
        for item in items(table, kind).values():
            if item["name"] is not None:
                (constraints if kind == "checks" else relations).add(item["name"])
    return relations, constraints


# Cleaning what people type (forms, the API): names of columns in, field ids out.


class ItemInvalid(ValueError):
    """{input: message} of an item as typed."""

    def __init__(self, problems):
        super().__init__(problems)
        self.problems = problems


def columns_by_name(table):
    return {field["field_name"]: fid for fid, field in table["fields"].items()}


def clean_columns(value, table, key, problems, empty_ok=False):
    """Column names (a list, or text separated by commas) as field ids."""
    names = value if isinstance(value, list) else (value or "").split(",")
    names = [n.strip() for n in names if isinstance(n, str) and n.strip()]
    by_name = columns_by_name(table)
    missing = [n for n in names if n not in by_name]
    if missing:
        problems[key] = f"Not a column of this table: {', '.join(missing)}."
    elif not names and not empty_ok:
        problems[key] = "Choose at least one column."
    elif len(set(names)) != len(names):
        problems[key] = "Name each column once."
    elif len(names) > MAX_COLUMNS:
        problems[key] = f"At most {MAX_COLUMNS} columns."
    return [by_name[n] for n in names if n in by_name]


def clean_text(value, key, problems, check):
    text = (value or "").strip() if isinstance(value, str) or value is None else value
    text = text or None
    problem = check(text)
    if problem:
        problems[key] = problem[:1].upper() + problem[1:]
    return text


def clean_expression(value, table, key, problems, required=True):
    if not isinstance(value, str) or not value.strip():
        if required:
            problems[key] = "Enter an expression."
        return None
    try:
        return stored_expression(value, columns_by_name(table))
    except ExpressionProblem as exc:
        problems[key] = str(exc)
        return None


def clean_item(kind, data, table, item_id=None):
    """A stored item from typed input ({"name", "columns", ...} with column names); raises
    ItemInvalid with a message for each input that is wrong."""
    problems = {}
    item = {
        "id": item_id or str(uuid.uuid4()),
        "name": clean_text(data.get("name"), "name", problems, name_problem),
        "comment": clean_text(data.get("comment"), "comment", problems, comment_problem),
    }
    if kind == "uniques":
        item["columns"] = clean_columns(data.get("columns"), table, "columns", problems)
        others = [u for i, u in items(table, "uniques").items() if i != item["id"]]
        taken = [key_columns(table), *(frozenset(u["columns"]) for u in others)]
        if "columns" not in problems and frozenset(item["columns"]) in taken:
            problems["columns"] = UNIQUE_TWICE[:1].upper() + UNIQUE_TWICE[1:]
    elif kind == "checks":
        item["expression"] = clean_expression(data.get("expression"), table, "expression", problems)
    elif kind == "indexes":
        item.update(clean_index(data, table, problems))
    else:
        raise ValueError(kind)
    if problems:
        raise ItemInvalid(problems)
    return item


def clean_index(data, table, problems):
    method = data.get("method") or "btree"
    if method not in METHODS:
        problems["method"] = f"Choose one of {', '.join(METHODS)}."
    unique = data.get("unique") in (True, "true", "on", "1")
    if unique and method != "btree":
        problems["unique"] = "Only a btree index can be unique."
    keys = []
    raw_keys = data.get("keys")
    if isinstance(raw_keys, str) or raw_keys is None:
        # A form's one line: keys separated by semicolons, each "column [DESC]" or an
        # expression in parentheses; read by PostgreSQL's parser as an index's key list.
        raw_keys = split_keys(raw_keys or "", table, problems)
    if not isinstance(raw_keys, list) or not raw_keys:
        problems.setdefault("keys", "Give at least one key: a column or an expression.")
        raw_keys = []
    for position, raw in enumerate(raw_keys, 1):
        keys.append(clean_key(raw, table, position, problems))
    include = clean_columns(data.get("include"), table, "include", problems, empty_ok=True)
    where = clean_expression(data.get("where"), table, "where", problems, required=False)
    return {
        "method": method, "unique": unique, "keys": keys, "include": include, "where": where,
    }  # fmt: skip


def clean_key(raw, table, position, problems):
    where = "keys"
    if not isinstance(raw, dict):
        problems[where] = f"Key {position}: expected an object."
        return None
    column, expression = raw.get("column"), raw.get("expression")
    key = {
        "column": None, "expression": None, "collation": raw.get("collation") or None,
        "opclass": raw.get("opclass") or None, "descending": bool(raw.get("descending")),
        "nulls": raw.get("nulls") or None,
    }  # fmt: skip
    if column:
        by_name = columns_by_name(table)
        if column not in by_name:
            problems[where] = f"Key {position}: {column} is not a column of this table."
        key["column"] = by_name.get(column)
    elif expression:
        try:
            key["expression"] = stored_expression(expression, columns_by_name(table))
        except ExpressionProblem as exc:
            problems[where] = f"Key {position}: {exc}"
    else:
        problems[where] = f"Key {position}: name a column or give an expression."
    for setting in ("collation", "opclass"):
        problem = name_problem(key[setting])
        if problem:
            problems[where] = f"Key {position}: {setting}, {problem}"
    if key["nulls"] not in NULLS:
        problems[where] = f"Key {position}: nulls is first or last."
    return key


def split_keys(text, table, problems):
    """Index keys typed on one line, as PostgreSQL reads `CREATE INDEX ON t (<text>)`."""
    if not text.strip():
        return []
    try:
        statements = parse_sql(f"CREATE INDEX ON t ({text})")
    except ParseError as exc:
        problems["keys"] = f"These are not index keys ({exc.args[0]})."
        return []
    statement = statements[0].stmt if len(statements) == 1 else None
    if not isinstance(statement, ast.IndexStmt):
        problems["keys"] = "Give index keys only."
        return []
    return [key_input(element, deparsed) for element in statement.indexParams]


def led_by_index(table, columns, primary=()):
    """Whether an index the table has anyway leads with `columns`, in order: its primary key
    (`primary`, its field ids), a UNIQUE of its structure, or a btree index of its structure
    with no WHERE whose first keys are these columns as they are. A foreign key's lookups
    and cascades use it, so the designer adds no index of its own for them."""
    columns = list(columns)
    leads = [list(primary)]
    leads += [list(item["columns"]) for item in items(table, "uniques").values()]
    for item in items(table, "indexes").values():
        if item["method"] != "btree" or item["where"] is not None:
            continue
        plain = []
        for key in item["keys"]:
            if key["column"] is None or key["collation"] or key["opclass"]:
                break
            plain.append(key["column"])
        leads.append(plain)
    return any(lead[: len(columns)] == columns for lead in leads)


def dotted(parts):
    """A qualified name's parts joined with dots, or None; a name PostgreSQL finds anywhere
    (pg_catalog's: pg_dump writes COLLATE pg_catalog."C") is kept without its schema."""
    if not parts:
        return None
    return ".".join(p.sval for p in parts[1 if parts[0].sval == "pg_catalog" else 0 :])


def key_input(element, deparse):
    """An IndexElem as clean_key's input (column names as written)."""
    return {
        "column": element.name,
        "expression": deparse(element.expr) if element.expr is not None else None,
        "collation": dotted(element.collation),
        "opclass": dotted(element.opclass),
        "descending": element.ordering == SortByDir.SORTBY_DESC,
        "nulls": {
            SortByNulls.SORTBY_NULLS_FIRST: "first",
            SortByNulls.SORTBY_NULLS_LAST: "last",
        }.get(element.nulls_ordering),
    }


def with_item(table, kind, item):
    """The table's structure with `item` added or replaced (a new dict)."""
    structure = {k: dict(v) if k in KINDS else v for k, v in structure_of(table).items()}
    structure.setdefault(kind, {})[item["id"]] = item
    return structure


def without_item(table, kind, item_id):
    structure = {k: dict(v) if k in KINDS else v for k, v in structure_of(table).items()}
    (structure.get(kind) or {}).pop(item_id, None)
    return {k: v for k, v in structure.items() if v}


def without_field(structure, field_id):
    """The structure without the items that use a dropped column (PostgreSQL drops them
    with it)."""
    kept = {}
    for kind, entries in structure.items():
        if kind not in KINDS:
            kept[kind] = entries
            continue
        left = {i: item for i, item in entries.items() if field_id not in fields_used(kind, item)}
        if left:
            kept[kind] = left
    return kept


def with_field_ids(structure, new_id):
    """The structure with every field id replaced through `new_id` (a function), in columns
    and inside expressions alike (ids given anew on import)."""

    def expression(stored):
        if stored is None:
            return None
        tree = parsed(stored)
        return deparsed(renamed_columns(tree, _Mapped(new_id)))

    moved = {}
    for kind, entries in structure.items():
        if kind == "partition_by":
            moved[kind] = partitions.moved_ids({kind: entries}, new_id, str)[kind]
            continue
        if kind not in KINDS:
            moved[kind] = entries
            continue
        moved[kind] = {}
        for item_id, item in entries.items():
            item = dict(item)
            if "columns" in item:
                item["columns"] = [new_id(f) for f in item["columns"]]
            if "expression" in item:
                item["expression"] = expression(item["expression"])
            if kind == "indexes":
                item["include"] = [new_id(f) for f in item["include"]]
                item["where"] = expression(item["where"])
                item["keys"] = [
                    {
                        **key,
                        "column": new_id(key["column"]) if key["column"] else None,
                        "expression": expression(key["expression"]),
                    }
                    for key in item["keys"]
                ]
            moved[kind][item_id] = item
    return moved


class _Mapped(dict):
    def __init__(self, function):
        super().__init__()
        self.function = function

    def __missing__(self, key):
        return self.function(key)


def fields_used(kind, item):
    if kind == "uniques":
        return set(item["columns"])
    if kind == "checks":
        return set(column_ids(item["expression"]))
    used = set(item["include"])
    for key in item["keys"]:
        if key["column"]:
            used.add(key["column"])
        else:
            used.update(column_ids(key["expression"]))
    if item["where"]:
        used.update(column_ids(item["where"]))
    return used


# What people read: columns by name, expressions with the columns' current names.


def sort_key(item):
    return (item["name"] is None, item["name"] or "", item["id"])


def item_display(table, kind, item):
    """An item as the table page and the API show it."""
    names = field_names(table)
    shown = {"id": item["id"], "kind": kind, "name": item["name"], "comment": item["comment"]}
    if kind == "uniques":
        shown["columns"] = [names[f] for f in item["columns"]]
    elif kind == "checks":
        shown["expression"] = expression_sql(table, item["expression"])
    else:
        shown.update(
            method=item["method"],
            unique=item["unique"],
            keys=[
                {
                    **key,
                    "column": names[key["column"]] if key["column"] else None,
                    "expression": expression_sql(table, key["expression"])
                    if key["expression"]
                    else None,
                }
                for key in item["keys"]
            ],
            include=[names[f] for f in item["include"]],
            where=expression_sql(table, item["where"]) if item["where"] else None,
        )
    return shown


def keys_text(table, item):
    """An index's keys as one line people type (and split_keys reads back)."""
    names = field_names(table)
    words = []
    for key in item["keys"]:
        if key["column"]:
            part = deparsed(ast.ColumnRef(fields=(ast.String(sval=names[key["column"]]),)))
        else:
            part = f"({expression_sql(table, key['expression'])})"
        if key["collation"]:
            part += f" COLLATE {quoted(key['collation'])}"
        if key["opclass"]:
            part += " " + ".".join(quoted(p) for p in key["opclass"].split(".", 1))
        if key["descending"]:
            part += " DESC"
        if key["nulls"]:
            part += f" NULLS {key['nulls'].upper()}"
        words.append(part)
    return ", ".join(words)


def quoted(name):
    return '"' + name.replace('"', '""') + '"'
