"""A table's primary key and the keys a relationship may point at, read from a snapshot.

A table's key is the designer's system `id` (the field whose field_config says
primary_key) unless the table entry's "structure" names its own:
structure.primary_key is the list of field ids in key order (a natural key, a
uuid, a composite key), or [] for a table with no primary key. An entry
without "structure" (every snapshot stored before keys could be chosen) reads
as "the system id is the key", so old snapshots mean what they meant.

A relationship joins column pairs: (key column of the source, foreign key column
of the target). One pair is its source_field_id and target_field_id, as ever;
several are its "pairs" list, in order (a composite foreign key). The key
columns must be the source's primary key or one of its unique keys, as a set.
Pure: no database, no Flask.
"""

# PostgreSQL's INDEX_MAX_KEYS: no key has more columns.
MAX_KEY_COLUMNS = 32


def structure_of(table):
    """The table's "structure" object ({} when the entry has none)."""
    structure = table.get("structure")
    return structure if isinstance(structure, dict) else {}


def chosen_key(table):
    """The field ids the table's structure names as its key, or None (the system id is)."""
    structure = structure_of(table)
    return structure.get("primary_key")


def system_field(table):
    """The id of the table's system `id` field, or None once it was removed."""
    for field_id, field in table["fields"].items():
        if field["field_config"].get("system"):
            return field_id
    return None


def primary_key_fields(table):
    """The table's primary key as a list of field ids in key order ([] for none)."""
    chosen = chosen_key(table)
    if chosen is not None:
        return [f for f in chosen if f in table["fields"]]
    for field_id, field in table["fields"].items():
        if field["field_config"].get("primary_key"):
            return [field_id]
    return []


def unique_keys(table):
    """Every unique key of the table as a tuple of field ids: single unique fields and the
    pairs (or more) unique together."""
    keys = []
    for field_id in sorted(table["fields"]):
        config = table["fields"][field_id]["field_config"]
        if config.get("unique"):
            keys.append((field_id,))
        partners = [p for p in config.get("unique_with") or () if p in table["fields"]]
        if partners:
            keys.append((*partners, field_id))
    uniques = structure_of(table).get("uniques")
    for item_id in sorted(uniques) if isinstance(uniques, dict) else ():
        item = uniques[item_id]
        columns = item.get("columns") if isinstance(item, dict) else None
        if isinstance(columns, list) and columns and all(c in table["fields"] for c in columns):
            keys.append(tuple(columns))
    return keys


def referenced_key(table, field_ids):
    """("pkey", ...) or ("unique", ...) naming the key `field_ids` match as a set, or None."""
    wanted = set(field_ids)
    if len(wanted) != len(field_ids) or not wanted:
        return None
    primary = primary_key_fields(table)
    if set(primary) == wanted:
        return ("pkey", *primary)
    for key in unique_keys(table):
        if set(key) == wanted:
            return ("unique", *key)
    return None


def relationship_pairs(snapshot, rel):
    """[(source key field id, target foreign key field id)] in order, or [] when the
    relationship names no key (a source whose key is not one column)."""
    pairs = rel.get("pairs")
    if pairs:
        return [tuple(pair) for pair in pairs]
    source = snapshot["tables"].get(rel["source_table_id"])
    key = rel.get("source_field_id")
    if not key and source is not None:
        primary = primary_key_fields(source)
        key = primary[0] if len(primary) == 1 else None
    if not key:
        return []
    return [(key, rel.get("target_field_id"))]


# Types a foreign key column may have against its key's, besides the same type: PostgreSQL
# compares any two of a group (an integer column may refer to a bigint key, as files do).
COMPARABLE = (
    frozenset({"smallint", "integer", "bigint"}),
    frozenset({"text", "varchar", "character varying", "char", "character", "bpchar"}),
)


def comparable_types(key_type, foreign_type):
    """Whether a foreign key of `foreign_type` may refer to a key of `key_type` (rendered
    column types, as pg_type gives them)."""
    if key_type == foreign_type:
        return True
    if key_type.endswith("]") or foreign_type.endswith("]"):
        return False
    bases = {key_type.split("(")[0].strip(), foreign_type.split("(")[0].strip()}
    # One base type whatever its modifiers (numeric(10,2) and numeric(12,2)), or one group.
    return len(bases) == 1 or any(bases <= group for group in COMPARABLE)
