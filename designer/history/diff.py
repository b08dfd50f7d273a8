"""Schema snapshot diffs: what changed between two versions of a design, and replaying it.

A snapshot is a JSON-able dict keyed by stable ids, so identity comes from ids,
never from names: a new table_name on the same id is a rename, not a drop and
an add. Operations come out in the order a DDL generator has to run them:
relationships are dropped before the columns and tables they point at, and
added only after those exist. Ops on surviving objects sort by their new
names, drops by their old ones, so equal inputs always give an equal list.
"""

import copy

from designer.history.change_words import attribute_change_words

FORMAT = 1

# add_field ops of a brand-new table travel right after its add_table op; the
# add_field group holds only columns added to tables that already existed.
OP_ORDER = (
    "drop_relationship",
    "drop_field",
    "drop_table",
    "add_enum",
    "alter_enum",
    "add_table",
    "rename_table",
    "alter_table",
    "add_field",
    "rename_field",
    "alter_field",
    "add_relationship",
    "alter_relationship",
    "drop_enum",
)

# Attributes that are identity or structure, not something an alter op reports.
NOT_ALTERED = {
    "table": frozenset({"id", "table_name", "fields"}),
    "field": frozenset({"id", "field_name"}),
    "relationship": frozenset({"id"}),
    "enum": frozenset({"id"}),
}
RENAMED_ATTRIBUTE = {"table": "table_name", "field": "field_name"}
NOUNS = {"table": "table", "field": "column", "relationship": "relationship", "enum": "enum"}
PAST_TENSE = {"add": "added", "drop": "dropped"}
SUMMARY_BUCKETS = {"add": "added", "rename": "changed", "alter": "changed", "drop": "dropped"}
SUMMARY_SIGNS = {"added": "+", "changed": "~", "dropped": "\N{MINUS SIGN}"}


def empty_snapshot():
    """A schema with no tables and no relationships."""
    return {"format": FORMAT, "tables": {}, "relationships": {}}


def _normalized(snapshot):
    return empty_snapshot() if snapshot is None else snapshot


def diff(old, new):
    """The ordered operations that turn snapshot `old` into `new`; None is the empty schema."""
    old, new = _normalized(old), _normalized(new)
    groups = {
        **_table_groups(old["tables"], new["tables"]),
        **_field_groups(old["tables"], new["tables"]),
        **_relationship_groups(old["relationships"], new["relationships"]),
        **_enum_groups(old.get("enums", {}), new.get("enums", {})),
    }
    return [op for kind in OP_ORDER for op in groups[kind]]


def _table_key(table_id, table):
    return (table["table_name"], table_id)


def _field_key(table_id, table, field_id, field):
    # table_id keeps two tables that share a table_name from interleaving.
    return (
        table["table_name"],
        table_id,
        field.get("sort_order") or 0,
        field["field_name"],
        field_id,
    )


def _relationship_key(relationship_id, relationship):
    return (relationship["relationship_name"], relationship_id)


def _split_ids(old, new, key):
    """Ids only in old, only in new, and in both; drops sort by old values, the rest by new."""
    dropped = sorted(old.keys() - new.keys(), key=lambda oid: key(oid, old[oid]))
    added = sorted(new.keys() - old.keys(), key=lambda oid: key(oid, new[oid]))
    kept = sorted(old.keys() & new.keys(), key=lambda oid: key(oid, new[oid]))
    return dropped, added, kept


def _attribute_changes(before, after, skip):
    """{attr: {"before": x, "after": y}} for differing attributes; an absent side is left out."""
    changes = {}
    for attr in sorted((before.keys() | after.keys()) - skip):
        if attr in before and attr in after and before[attr] == after[attr]:
            continue
        sides = (("before", before), ("after", after))
        changes[attr] = {side: obj[attr] for side, obj in sides if attr in obj}
    return changes


# Ops share structure with the snapshots they came from (both are read-only;
# apply_changes copies what it inserts), which keeps large diffs cheap.


def _table_op(op, table_id, **details):
    return {"op": op, "table_id": table_id, **details}


def _field_op(op, table_id, field_id, **details):
    return {"op": op, "table_id": table_id, "field_id": field_id, **details}


def _relationship_op(op, relationship_id, **details):
    return {"op": op, "relationship_id": relationship_id, **details}


def _table_groups(old_tables, new_tables):
    dropped, added, kept = _split_ids(old_tables, new_tables, _table_key)
    names = [(tid, old_tables[tid]["table_name"], new_tables[tid]["table_name"]) for tid in kept]
    skip = NOT_ALTERED["table"]
    altered = [(tid, _attribute_changes(old_tables[tid], new_tables[tid], skip)) for tid in kept]
    return {
        "drop_table": [_table_op("drop_table", tid, before=old_tables[tid]) for tid in dropped],
        "add_table": [op for tid in added for op in _add_table_ops(tid, new_tables[tid])],
        "rename_table": [
            _table_op("rename_table", tid, before=before, after=after)
            for tid, before, after in names
            if before != after
        ],
        "alter_table": [
            _table_op("alter_table", tid, changes=changes) for tid, changes in altered if changes
        ],
    }


def _add_table_ops(table_id, table):
    after = {attr: value for attr, value in table.items() if attr != "fields"}
    fields = table["fields"]
    field_ids = sorted(fields, key=lambda fid: _field_key(table_id, table, fid, fields[fid]))
    return [_table_op("add_table", table_id, after=after)] + [
        _field_op("add_field", table_id, fid, after=fields[fid]) for fid in field_ids
    ]


def _field_groups(old_tables, new_tables):
    keyed = {"drop_field": [], "add_field": [], "rename_field": [], "alter_field": []}
    for table_id in old_tables.keys() & new_tables.keys():
        # Most tables are untouched between two versions: one comparison skips them.
        if old_tables[table_id]["fields"] == new_tables[table_id]["fields"]:
            continue
        for key, op in _table_field_ops(table_id, old_tables[table_id], new_tables[table_id]):
            keyed[op["op"]].append((key, op))
    return {kind: [op for _, op in sorted(ops, key=lambda p: p[0])] for kind, ops in keyed.items()}


def _table_field_ops(table_id, old_table, new_table):
    """(sort key, op) for every field change inside one table that exists on both sides."""
    old_fields, new_fields = old_table["fields"], new_table["fields"]
    for fid in old_fields.keys() - new_fields.keys():
        key = _field_key(table_id, old_table, fid, old_fields[fid])
        yield key, _field_op("drop_field", table_id, fid, before=old_fields[fid])
    for fid, field in new_fields.items():
        if old_fields.get(fid) == field:
            continue
        key = _field_key(table_id, new_table, fid, field)
        if fid not in old_fields:
            yield key, _field_op("add_field", table_id, fid, after=field)
            continue
        before, after = old_fields[fid]["field_name"], field["field_name"]
        if before != after:
            yield key, _field_op("rename_field", table_id, fid, before=before, after=after)
        changes = _attribute_changes(old_fields[fid], field, NOT_ALTERED["field"])
        if changes:
            yield key, _field_op("alter_field", table_id, fid, changes=changes)


def _relationship_groups(old_rels, new_rels):
    dropped, added, kept = _split_ids(old_rels, new_rels, _relationship_key)
    skip = NOT_ALTERED["relationship"]
    altered = [(rid, _attribute_changes(old_rels[rid], new_rels[rid], skip)) for rid in kept]
    return {
        "drop_relationship": [
            _relationship_op("drop_relationship", rid, before=old_rels[rid]) for rid in dropped
        ],
        "add_relationship": [
            _relationship_op("add_relationship", rid, after=new_rels[rid]) for rid in added
        ],
        "alter_relationship": [
            _relationship_op("alter_relationship", rid, changes=changes)
            for rid, changes in altered
            if changes
        ],
    }


def _enum_groups(old_enums, new_enums):
    """Enums (a design's top-level "enums", absent when it has none): a rename and new or
    renamed labels are one alter_enum op of the enum's name and labels."""
    key = lambda eid, enum: (enum["name"], eid)  # noqa: E731
    dropped, added, kept = _split_ids(old_enums, new_enums, key)
    skip = NOT_ALTERED["enum"]
    altered = [(eid, _attribute_changes(old_enums[eid], new_enums[eid], skip)) for eid in kept]
    return {
        "drop_enum": [{"op": "drop_enum", "enum_id": e, "before": old_enums[e]} for e in dropped],
        "add_enum": [{"op": "add_enum", "enum_id": e, "after": new_enums[e]} for e in added],
        "alter_enum": [
            {"op": "alter_enum", "enum_id": eid, "changes": changes}
            for eid, changes in altered
            if changes
        ],
    }


def apply_changes(old, changes):
    """Replay `changes` (as made by diff) on a deep copy of `old`; None is the empty schema."""
    snapshot = copy.deepcopy(_normalized(old))
    for change in changes:
        _apply_one(snapshot, change)
    return snapshot


def _apply_one(snapshot, change):
    if change["op"] not in OP_ORDER:
        raise ValueError(f"Unknown change operation {change['op']!r}.")
    verb, _, kind = change["op"].partition("_")
    container, object_id = _target(snapshot, change)
    if verb == "add":
        container[object_id] = copy.deepcopy(change["after"])
        if kind == "table":
            container[object_id]["fields"] = {}
    elif verb == "drop":
        del container[object_id]
        if kind == "enum" and not container:
            del snapshot["enums"]  # a design without enums has no "enums" key
    elif verb == "rename":
        container[object_id][RENAMED_ATTRIBUTE[kind]] = change["after"]
    else:
        _set_attributes(container[object_id], change["changes"])


def _target(snapshot, change):
    """The mapping that holds the object `change` is about, and the object's id in it."""
    if "enum_id" in change:
        return snapshot.setdefault("enums", {}), change["enum_id"]
    if "field_id" in change:
        return snapshot["tables"][change["table_id"]]["fields"], change["field_id"]
    if "table_id" in change:
        return snapshot["tables"], change["table_id"]
    return snapshot["relationships"], change["relationship_id"]


def _set_attributes(obj, changes):
    for attr, change in changes.items():
        if "after" in change:
            obj[attr] = copy.deepcopy(change["after"])
        else:
            obj.pop(attr, None)


def summarize(changes):
    """Counts of added, changed and dropped tables, fields and relationships in `changes`."""
    # Columns of a table that is itself added or dropped are part of that table's line.
    whole_tables = {c["table_id"] for c in changes if c["op"] in ("add_table", "drop_table")}
    kinds = ["tables", "fields", "relationships"]
    if any(change["op"].endswith("_enum") for change in changes):
        kinds.append("enums")  # (only then: summaries stored before enums stay as they were)
    seen = {kind: {"added": set(), "changed": set(), "dropped": set()} for kind in kinds}
    for change in changes:
        verb, _, kind = change["op"].partition("_")
        if kind == "field" and change["table_id"] in whole_tables:
            continue
        keys = ("table_id", "field_id", "relationship_id", "enum_id")
        identity = tuple(change.get(key) for key in keys)
        seen[kind + "s"][SUMMARY_BUCKETS[verb]].add(identity)
    return {
        kind: {bucket: len(ids) for bucket, ids in buckets.items()}
        for kind, buckets in seen.items()
    }


def summary_text(changes):
    """One timeline line such as "+2 tables, ~3 fields, −1 relationship"."""
    return counts_text(summarize(changes))


def added_summary(tables, relationships, enums=0):
    """summarize(diff(None, snapshot)) from the numbers of the snapshot's tables,
    relationships and enums: everything added, the columns on their tables' lines."""
    counted = {"tables": tables, "fields": 0, "relationships": relationships}
    if enums:
        counted["enums"] = enums
    return {kind: {"added": count, "changed": 0, "dropped": 0} for kind, count in counted.items()}


def named_text(changes, snapshot=None, shown=2, listed=None):
    """A version's name made from its changes: the first `shown` of them in words, then how
    many more ("Added table orders; added column orders.email and 3 more changes").
    `listed`: how many changes the name counts, when `changes` are only the first of them
    (a table's columns count with an added or dropped table)."""
    whole = {c["table_id"] for c in changes if c["op"] in ("add_table", "drop_table")}
    named = [c for c in changes if not (c["op"].endswith("_field") and c["table_id"] in whole)]
    text = "; ".join(describe(change, snapshot) for change in named[:shown])
    more = (len(named) if listed is None else listed) - shown
    if more > 0:
        text += f" and {more} more change{'s' if more != 1 else ''}"
    return text[:1].upper() + text[1:] or "No changes"


def counts_text(counts):
    """The timeline line for counts as made by summarize."""
    parts = [
        f"{SUMMARY_SIGNS[bucket]}{count} {kind if count != 1 else kind[:-1]}"
        for kind, buckets in counts.items()
        for bucket, count in buckets.items()
        if count
    ]
    return ", ".join(parts) or "no changes"


def describe(change, snapshot=None):
    """A short sentence for one operation; names come from the op, then `snapshot`, then ids."""
    verb, _, kind = change["op"].partition("_")
    subject = f"{NOUNS[kind]} {_subject(change, kind, _normalized(snapshot))}"
    if verb == "rename":
        return f"renamed {subject} to {change['after']}"
    if verb == "alter":
        return f"changed {subject}: {_changes_text(change['changes'])}"
    return f"{PAST_TENSE[verb]} {subject}"


def _subject(change, kind, snapshot):
    if kind == "enum":
        stored = snapshot.get("enums", {}).get(change["enum_id"], {})
        return _name(change, stored, "name", change["enum_id"])
    if kind == "relationship":
        stored = snapshot["relationships"].get(change["relationship_id"], {})
        return _name(change, stored, "relationship_name", change["relationship_id"])
    table = snapshot["tables"].get(change["table_id"], {})
    if kind == "table":
        return _name(change, table, "table_name", change["table_id"])
    table_label = table.get("table_name") or change["table_id"]
    field = table.get("fields", {}).get(change["field_id"], {})
    return f"{table_label}.{_name(change, field, 'field_name', change['field_id'])}"


def _name(change, stored, attr, fallback):
    # add/drop ops carry the whole object, rename ops the old name itself; alter ops carry none.
    carried = change.get("before", change.get("after"))
    if isinstance(carried, dict):
        carried = carried.get(attr)
    return carried or stored.get(attr) or fallback


def _changes_text(changes):
    return "; ".join(
        attribute_change_words(attr, change.get("before"), change.get("after"))
        for attr, change in changes.items()
    )
