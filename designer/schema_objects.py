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

import hashlib

from designer.field_types import pg_type
from designer.naming import MAX_IDENTIFIER_BYTES
from designer.naming import generated_name

CHECK_RULES = ("min", "max", "min_length", "pattern")
# Objects whose name is also an index, i.e. a relation of the schema.
RELATION_KINDS = ("pkey", "unique", "index")


def primary_key_field(table):
    """The id of the table's primary key field (the designer's system `id`)."""
    for field_id, field in table["fields"].items():
        if field["field_config"].get("primary_key"):
            return field_id
    return None


def source_key_field(snapshot, rel):
    """The referenced ("one" side) field id of a relationship."""
    if rel.get("source_field_id"):
        return rel["source_field_id"]
    return primary_key_field(snapshot["tables"][rel["source_table_id"]])


def check_rules(field):
    """(rule, value) pairs of a field's validation rules that become CHECKs."""
    config = field["field_config"]
    allowed = {"number": ("min", "max"), "text": ("min_length", "pattern")}
    return [
        (rule, str(config[rule]))
        for rule in allowed.get(field["data_type"], ())
        if config.get(rule) not in (None, "") and not (rule == "min_length" and config[rule] == 0)
    ]


def relationships_into(snapshot, table_id):
    """The relationships whose foreign key lives in this table, usable in this snapshot."""
    tables = snapshot["tables"]
    found = []
    for rel_id, rel in snapshot["relationships"].items():
        if rel["target_table_id"] != table_id or rel["source_table_id"] not in tables:
            continue
        key = source_key_field(snapshot, rel)
        foreign = rel.get("target_field_id")
        if (
            key in tables[rel["source_table_id"]]["fields"]
            and foreign in tables[table_id]["fields"]
        ):
            found.append((rel_id, rel, key))
    return found


def table_object_keys(snapshot, table_id):
    """{key: field_id or None} for every named object the table owns, in a stable order."""
    table = snapshot["tables"][table_id]
    keys = {}
    pk = primary_key_field(table)
    if pk is not None:
        keys[("pkey", pk)] = pk
    fk_columns = set()
    for rel_id, rel, key in sorted(relationships_into(snapshot, table_id)):
        cascade = rel.get("cascade_config") or {}
        action = (cascade.get("on_delete", "no_action"), cascade.get("on_update", "no_action"))
        target = rel["target_field_id"]
        keys[("fkey", rel_id, target, rel["source_table_id"], key, *action)] = target
        fk_columns.add(target)
    for field_id in sorted(table["fields"]):
        field = table["fields"][field_id]
        config = field["field_config"]
        if config.get("primary_key"):
            continue
        if config.get("unique"):
            keys[("unique", field_id)] = field_id
        elif config.get("indexed") or field_id in fk_columns:
            keys[("index", field_id)] = field_id
        # The column's type is part of a CHECK's identity: a retyped column gets its
        # checks dropped and added again, worded as a fresh deploy words them.
        column_type = pg_type(field["data_type"], config)
        for rule, value in check_rules(field):
            keys[("check", field_id, rule, value, column_type)] = field_id
    return keys


SUFFIXES = {"pkey": "pkey", "unique": "key", "index": "idx", "fkey": "fkey"}


def base_name(table, key, field_id):
    kind = key[0]
    suffix = f"{key[2]}_check" if kind == "check" else SUFFIXES[kind]
    if kind == "pkey":
        return generated_name(table["table_name"], suffix=suffix)
    return generated_name(
        table["table_name"], table["fields"][field_id]["field_name"], suffix=suffix
    )


def disambiguated(name, key, attempt):
    """`name` made unique by a hash of the object's key, still within 63 bytes."""
    digest = hashlib.sha256(repr((key, attempt)).encode("utf-8")).hexdigest()[:8]
    head = name.encode("utf-8")[: MAX_IDENTIFIER_BYTES - 9].decode("utf-8", "ignore")
    return f"{head.rstrip('_')}_{digest}"


def object_names(snapshot):
    """{table_id: {key: name}} for every table of the snapshot."""
    tables = snapshot["tables"]
    relations = {t["table_name"] for t in tables.values()}
    names = {}
    for table_id in sorted(tables, key=lambda tid: (tables[tid]["table_name"], tid)):
        table, taken, chosen = tables[table_id], set(), {}
        for key, field_id in table_object_keys(snapshot, table_id).items():
            name, attempt = base_name(table, key, field_id), 0
            is_relation = key[0] in RELATION_KINDS
            while name in taken or (is_relation and name in relations):
                attempt += 1
                name = disambiguated(base_name(table, key, field_id), (table_id, key), attempt)
            taken.add(name)
            if is_relation:
                relations.add(name)
            chosen[key] = name
        names[table_id] = chosen
    return names
