"""The named objects PostgreSQL holds for a designed table, and their names.

Besides columns, a deployed table owns a primary key, UNIQUE and CHECK
constraints, foreign keys and indexes. Each is keyed by what it *means*
(kind, field ids, rule), never by a name, so that a column rename keeps
the object and only its name follows. Names are a pure function of the whole
snapshot: readable (`orders_total_key`), at most 63 bytes, and never
colliding, neither within a table (constraints) nor across the schema
(tables and indexes share one namespace), so deploying B on an empty schema
and migrating A to B give the same names.
"""

import collections
import hashlib
import json
import pickle
import threading

from designer.design.field_types import pg_type
from designer.design.keys import primary_key_fields
from designer.design.keys import referenced_key
from designer.design.keys import relationship_pairs
from designer.design.naming import MAX_IDENTIFIER_BYTES
from designer.design.naming import generated_name
from designer.design.structure import items
from designer.design.structure import led_by_index

RULES_OF_TYPE = {"number": ("min", "max"), "text": ("min_length", "pattern")}
# Objects whose name is also an index, i.e. a relation of the schema.
RELATION_KINDS = (
    "pkey", "sequence", "unique", "unique_together", "index", "table_unique", "table_index",
)  # fmt: skip
# The kinds of a table's structure items (designer.design.structure): the item's id, then
# what it means (its columns, its expression, its whole definition). A new definition is a
# new object (dropped and added); a new name alone is a rename.
STRUCTURE_KINDS = {"uniques": "table_unique", "checks": "table_check", "indexes": "table_index"}
INDEX_KINDS = ("index", "table_index")


def owns_sequence(config):
    """Whether a column's values come from a sequence of its own: the designer's id, an
    identity or a serial column."""
    return bool(config.get("primary_key") or config.get("identity") or config.get("serial"))


def primary_key_field(table):
    """The id of the table's one-column primary key field (None for none or a composite)."""
    primary = primary_key_fields(table)
    return primary[0] if len(primary) == 1 else None


def source_key_field(snapshot, rel):
    """The referenced ("one" side) field id of a relationship (its first, for a composite)."""
    pairs = relationship_pairs(snapshot, rel)
    return pairs[0][0] if pairs else None


def check_rules(field):
    """(rule, value) pairs of a field's validation rules that become CHECKs."""
    config = field["field_config"]
    return [
        (rule, str(config[rule]))
        for rule in RULES_OF_TYPE.get(field["data_type"], ())
        if config.get(rule) not in (None, "") and not (rule == "min_length" and config[rule] == 0)
    ]


def relationships_by_target(snapshot):
    """{table id: [(rel_id, rel, pairs, referenced key)]} of the foreign keys each table
    holds, for the relationships whose tables and fields are all in this snapshot."""
    tables = snapshot["tables"]
    found = {}
    for rel_id, rel in sorted(snapshot["relationships"].items()):
        source, target = tables.get(rel["source_table_id"]), tables.get(rel["target_table_id"])
        if source is None or target is None:
            continue
        pairs = relationship_pairs(snapshot, rel)
        if not pairs or not all(k in source["fields"] and f in target["fields"] for k, f in pairs):
            continue
        # None when the columns are no key of the source: a snapshot the rules refuse (an
        # old one may be such), whose foreign key PostgreSQL then refuses to build.
        referenced = referenced_key(source, [k for k, _ in pairs])
        found.setdefault(rel["target_table_id"], []).append((rel_id, rel, pairs, referenced))
    return found


def table_object_keys(table, incoming):
    """{key: field_id or None} for every named object the table owns, in a stable order;
    `incoming` are its entries of relationships_by_target.

    A primary key is ("pkey", *its field ids in order). A foreign key is ("fkey", rel id,
    (its columns), source table, (the key columns), on delete, on update, referenced key):
    the referenced key is part of it, so a foreign key is dropped and added again around a
    change of the key it needs (PostgreSQL refuses to drop a key a foreign key uses)."""
    keys = {}
    primary = primary_key_fields(table)
    if primary:
        keys[("pkey", *primary)] = primary[0]
    for field_id in sorted(table["fields"]):
        if owns_sequence(table["fields"][field_id]["field_config"]):
            # An identity or serial column's sequence is a relation of the schema too: named
            # here, it follows renames and cannot collide with a table or an index.
            keys[("sequence", field_id)] = field_id
    fk_columns = set()
    for rel_id, rel, pairs, referenced in incoming:
        cascade = rel.get("cascade_config") or {}
        action = (cascade.get("on_delete", "no_action"), cascade.get("on_update", "no_action"))
        columns = tuple(f for _, f in pairs)
        sources = tuple(k for k, _ in pairs)
        key = ("fkey", rel_id, columns, rel["source_table_id"], sources, *action, referenced)
        keys[key] = columns[0]
        fk_columns.add(columns)
    # A foreign key's columns are indexed (lookups and cascades from the key's side), unless
    # they lead the primary key, a UNIQUE or a plain index of the table, which serves them.
    fk_indexes = {columns for columns in fk_columns if not led_by_index(table, columns, primary)}
    for columns in sorted(c for c in fk_indexes if len(c) > 1):
        keys[("index", *columns)] = columns[0]
    fk_singles = {c[0] for c in fk_indexes if len(c) == 1}
    for field_id in sorted(table["fields"]):
        field = table["fields"][field_id]
        config = field["field_config"]
        if config.get("unique") and [field_id] != primary:
            keys[("unique", field_id)] = field_id
        partners = [p for p in config.get("unique_with") or () if p in table["fields"]]
        if partners:
            # Unique as a whole (a junction's pair of keys): the columns in the stored
            # order, this field last.
            keys[("unique_together", *partners, field_id)] = field_id
        # The pair's index serves lookups by its first column only: the others, a
        # junction's second key among them, keep an index of their own.
        if config.get("indexed") or field_id in fk_singles:
            keys[("index", field_id)] = field_id
        # The column's type is part of a CHECK's identity: a retyped column gets its
        # checks dropped and added again, worded as a fresh deploy words them.
        column_type = pg_type(field["data_type"], config)
        for rule, value in check_rules(field):
            keys[("check", field_id, rule, value, column_type)] = field_id
    for kind, object_kind in STRUCTURE_KINDS.items():
        entries = items(table, kind)
        for item_id in sorted(entries):
            keys[structure_key(object_kind, entries[item_id])] = None
    return keys


def structure_key(object_kind, item):
    """The object key of a structure item: (kind, item id, what it means...)."""
    if object_kind == "table_unique":
        return (object_kind, item["id"], *item["columns"])
    if object_kind == "table_check":
        return (object_kind, item["id"], item["expression"])
    meaning = {k: v for k, v in item.items() if k not in ("id", "name", "comment")}
    return (object_kind, item["id"], json.dumps(meaning, sort_keys=True))


def structure_item(table, key):
    """The structure item an object key stands for."""
    kind = next(k for k, v in STRUCTURE_KINDS.items() if v == key[0])
    return items(table, kind)[key[1]]


RECENT = 2
SUFFIXES = {
    "pkey": "pkey", "sequence": "seq", "unique": "key", "unique_together": "key",
    "index": "idx", "fkey": "fkey", "table_unique": "key", "table_check": "check",
    "table_index": "idx",
}  # fmt: skip


def structure_base_name(table, key):
    """(name, chosen): an item's own name, or the one generated from its columns."""
    item = structure_item(table, key)
    if item["name"] is not None:
        return item["name"], True
    names = table["fields"]
    if key[0] == "table_unique":
        columns = [names[f]["field_name"] for f in item["columns"]]
    elif key[0] == "table_index":
        columns = [
            names[k["column"]]["field_name"] if k["column"] else "expr" for k in item["keys"]
        ]
    else:
        columns = []
    return generated_name(table["table_name"], *columns, suffix=SUFFIXES[key[0]]), False


def own_sequence_name(table, key):
    """(key, name, True) for a sequence whose column gives it a name of its own, else None."""
    if key[0] != "sequence":
        return None
    name = table["fields"][key[1]]["field_config"].get("sequence_name")
    return (key, name, True) if name else None


def base_name(table, key, field_id):
    kind = key[0]
    suffix = f"{key[2]}_check" if kind == "check" else SUFFIXES[kind]
    if kind == "pkey":
        return generated_name(table["table_name"], suffix=suffix)
    if kind == "unique_together" or (kind == "index" and len(key) > 2):
        columns = [table["fields"][f]["field_name"] for f in key[1:]]
        return generated_name(table["table_name"], *columns, suffix=suffix)
    return generated_name(
        table["table_name"], table["fields"][field_id]["field_name"], suffix=suffix
    )


def disambiguated(name, key, attempt):
    """`name` made unique by a hash of the object's key, still within 63 bytes."""
    digest = hashlib.sha256(repr((key, attempt)).encode("utf-8")).hexdigest()[:8]
    head = name.encode("utf-8")[: MAX_IDENTIFIER_BYTES - 9].decode("utf-8", "ignore")
    return f"{head.rstrip('_')}_{digest}"


class ObjectNames:
    """The names of every table's objects in one snapshot: `.by_table` {table_id: {key: name}}.

    `reuse` is the ObjectNames of another snapshot (the other side of a migration): a table
    equal there, with the same foreign keys, takes its candidates as they are, which keeps a
    plan for one change in a 3,000-table project from naming everything twice.
    """

    def __init__(self, snapshot, reuse=None):
        self.tables = snapshot["tables"]
        self.incoming = relationships_by_target(snapshot)
        self.candidates = {tid: self.candidates_of(tid, reuse) for tid in self.tables}
        self.by_table = self.resolve()

    def candidates_of(self, table_id, reuse):
        """[(key, base name)] of the table's objects."""
        table, incoming = self.tables[table_id], self.incoming.get(table_id, [])
        if reuse is not None and reuse.lends(table_id, table, incoming):
            return reuse.candidates[table_id]
        keys = table_object_keys(table, incoming)
        return [
            (key, *structure_base_name(table, key))
            if key[0] in STRUCTURE_KINDS.values()
            else own_sequence_name(table, key) or (key, base_name(table, key, field_id), False)
            for key, field_id in keys.items()
        ]

    def lends(self, table_id, table, incoming):
        """Whether the table's candidates here are those of `table` with `incoming`."""
        return self.tables.get(table_id) == table and self.incoming.get(table_id, []) == incoming

    def resolve(self):
        """Base names, made unique where they collide, tables in name order first served;
        a name an item chose itself is its own (the generated ones step aside)."""
        tables = self.tables
        relations = {t["table_name"] for t in tables.values()}
        for candidates in self.candidates.values():
            relations.update(b for k, b, chosen in candidates if chosen and k[0] in RELATION_KINDS)
        names = {}
        for table_id in sorted(tables, key=lambda tid: (tables[tid]["table_name"], tid)):
            candidates = self.candidates[table_id]
            taken = {base for _, base, chosen in candidates if chosen}
            chosen_names = {}
            for key, base, chosen in candidates:
                if chosen:
                    chosen_names[key] = base
                    continue
                name, attempt = base, 0
                is_relation = key[0] in RELATION_KINDS
                while name in taken or (is_relation and name in relations):
                    attempt += 1
                    name = disambiguated(base, (table_id, key), attempt)
                taken.add(name)
                if is_relation:
                    relations.add(name)
                chosen_names[key] = name
            names[table_id] = chosen_names
        return names


class NameHints:
    """What one design's ObjectNames lend the next as `reuse`, holding none of its entries:
    each table's candidates, by `fingerprint(table, incoming)` (a short key of what they are
    made of; None for a table that has none, whose candidates are not lent).

    Kept between requests as pack()'s one bytes object: kept as tuples and strings, a few
    live among the millions a 30,000-table export freed held hundreds of MB of the worker's
    memory pages that nothing else used (380 MB, measured)."""

    def __init__(self, prints, candidates, fingerprint):
        self.prints, self.candidates, self.fingerprint = prints, candidates, fingerprint

    @classmethod
    def of(cls, names, fingerprint):
        prints, candidates = {}, {}
        for table_id, table in names.tables.items():
            mark = fingerprint(table, names.incoming.get(table_id, []))
            if mark is not None:
                prints[table_id] = mark
                candidates[table_id] = names.candidates[table_id]
        return cls(prints, candidates, fingerprint)

    def pack(self):
        # (Our own values, read back only by unpack in this process: never bytes from outside.)
        return pickle.dumps((self.prints, self.candidates), protocol=pickle.HIGHEST_PROTOCOL)

    @classmethod
    def unpack(cls, packed, fingerprint):
        return cls(*pickle.loads(packed), fingerprint)  # noqa: S301 (see pack)

    def lends(self, table_id, table, incoming):
        mark = self.prints.get(table_id)
        return mark is not None and self.fingerprint(table, incoming) == mark


_recent = collections.OrderedDict()
_recent_lock = threading.Lock()


def names_of(snapshot, reuse=None):
    """ObjectNames of a snapshot, remembered for the last few snapshot objects.

    The deployed snapshot a plan starts from is one cached object (designer.history.versions
    keeps snapshots by hash), so its names are computed once, not at every plan.
    Snapshots are read-only; the entry keeps the object alive, so its id stays its own.
    """
    with _recent_lock:
        entry = _recent.get(id(snapshot))
    if entry is not None and entry[0] is snapshot:
        return entry[1]
    names = ObjectNames(snapshot, reuse)
    with _recent_lock:
        _recent[id(snapshot)] = (snapshot, names)
        while len(_recent) > RECENT:
            _recent.popitem(last=False)
    return names


def object_names(snapshot):
    """{table_id: {key: name}} for every table of the snapshot."""
    return ObjectNames(snapshot).by_table
