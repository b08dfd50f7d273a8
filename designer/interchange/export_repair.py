"""A stored design made fit to export, whatever an old version holds.

Versions stay exportable for ever, and one saved before a rule existed may hold a setting
the rules now refuse (a `number_type` that is SQL text, a `min_length` that is not a
number). An export never pastes such a value and never fails on it: each table is
checked by the rules of a stored design (designer.design.snapshot_rules); a table they
refuse is written without what they refuse, a setting, a default, a field or, at worst,
the table itself, and each thing left out is named in a note the file carries as a
comment. Notes are made of our own words and of names that pass the identifier rules.
Pure: no database, no Flask.
"""

import re

from designer.design.field_rules import field_problems
from designer.design.field_types import SYSTEM_FIELD
from designer.design.field_types import python_regex_problem
from designer.design.snapshot_rules import Refused
from designer.design.snapshot_rules import check_enums
from designer.design.snapshot_rules import check_relationship
from designer.design.snapshot_rules import check_table
from designer.design.snapshot_rules import is_uuid
from designer.design.structure import KINDS
from designer.design.structure import NOUN
from designer.design.structure import structure_problems
from designer.history.snapshot import FIELD_COLUMNS
from designer.history.snapshot import canonical_json
from designer.history.snapshot import digest
from designer.history.snapshot import parts
from designer.kept import KeptAnswers
from designer.models import MAX_DESCRIPTION
from designer.models import TABLE_STATUSES

# What a note may quote of the design: an identifier, or a setting's name.
SAFE_WORD = re.compile(r"[a-z_][a-z0-9_]{0,62}")
# Keys a field's problem may name that a repair can put right (besides its settings).
RESET = {"default_value": None, "is_required": False, "sort_order": 0}
# Each table's soundness by the hash of its stored part and the design's enums: (None, notes)
# for a table the rules accept as it is, (its repaired copy or None, notes) for another.
# Keyed by the entry's identity, each answer held its entry, unweighed, and a 30,000-table
# export left 500 MB of entries held here.
sound_tables = KeptAnswers(limit=1_000_000)  # (bounded by bytes: 30,000 tables outgrew 8,000)


def word(value):
    return value if isinstance(value, str) and SAFE_WORD.fullmatch(value) else "?"


def comments(notes, mark):
    """The notes as comment lines of a file whose comments start with `mark`."""
    if not notes:
        return ""
    head = f"{mark} Left out of this export, as the rules of a design refuse it:\n"
    return head + "".join(f"{mark}   {note}\n" for note in notes)


def sound_design(design, known=None):
    """(design, notes): the design with what the rules refuse left out, and what was.

    `known`: what remembers the tables the rules accepted (designer.interchange.sound_parts:
    known.accepted(hashes, enums key) gives those of the hashes accepted before, and
    known.remember(hashes, enums key) is told those accepted now), or None."""
    notes, tables = [], {}
    enums = sound_enums(design, notes)
    enums_key = enum_digest(enums)
    hashes, accepted_before = {}, set()
    if known is not None:
        hashes = {tid: table_hash(table) for tid, table in design["tables"].items()}
        accepted_before = known.accepted(set(hashes.values()) - {None}, enums_key)
    learned = set()
    for table_id, table in design["tables"].items():
        hashed = hashes.get(table_id)
        if hashed is not None and hashed in accepted_before:
            tables[table_id] = table
            continue
        kept, said = sound_table(table, enums, enums_key)
        notes += said
        if kept is not None:
            tables[table_id] = kept
        if hashed is not None and kept is table and not said:
            learned.add(hashed)
    if known is not None and learned:
        known.remember(learned, enums_key)
    relationships = {}
    for rel_id, rel in design["relationships"].items():
        try:
            check_relationship(tables, rel)
        except (Refused, KeyError, TypeError, AttributeError):
            notes.append(f"relationship {word(rel_id_name(rel))} left out: not one the rules allow")
            continue
        relationships[rel_id] = rel
    sound = {**design, "tables": tables, "relationships": relationships}
    if "enums" in design:
        sound.pop("enums")
        if enums:
            sound["enums"] = enums
    return sound, notes


def sound_enums(design, notes):
    """The design's enums the rules accept (each one left out is noted)."""
    enums = design.get("enums", {})
    if not isinstance(enums, dict):
        notes.append("enums left out: not an object")
        return {}
    kept = {}
    for enum_id, enum in enums.items():
        try:
            check_enums({enum_id: enum}, {})
        except (Refused, KeyError, TypeError, AttributeError):
            name = word(enum.get("name") if isinstance(enum, dict) else None)
            notes.append(f"enum {name} left out: not one the rules allow")
            continue
        kept[enum_id] = enum
    return kept


def rel_id_name(rel):
    return rel.get("relationship_name") if isinstance(rel, dict) else None


def sound_table(table, enums=None, enums_key=None):
    """(table, notes): the table as it is when the rules accept it (the same entry), else a
    repaired copy, or None when not even that passes. `enums_key`: enum_digest(enums), when
    the caller has it."""
    enums = enums or {}
    hashed = parts.leaf_hash(table)
    if hashed is None:
        return repaired_table(table, enums)

    def compute():
        result, notes = repaired_table(table, enums)
        return (None if result is table else result, result is table, notes)

    key = (hashed[0], enum_digest(enums) if enums_key is None else enums_key)
    result, same, notes = sound_tables.get(key, compute)
    return (table if same else result), notes


def table_hash(table):
    """The sha256 of a table entry's canonical JSON (its stored part's hash when the part's
    text is known; None for an entry that is not a JSON object)."""
    if not isinstance(table, dict):
        return None
    hashed = parts.leaf_hash(table)
    if hashed is not None:
        return hashed[0]
    try:
        return digest(canonical_json(table))
    except (TypeError, ValueError):
        return None


def enum_digest(enums):
    """A short key of the enums a table is checked against."""
    return digest(canonical_json(enums)) if enums else ""


def accepted(table, enums=None):
    try:
        check_table(table, python_regex_problem, enums)
    except (Refused, KeyError, TypeError, AttributeError):
        return False
    return True


def repaired_table(table, enums=None):
    if accepted(table, enums):
        return table, []
    name = word(table.get("table_name") if isinstance(table, dict) else None)
    gone = [f"table {name} left out: not one the rules allow"]
    if name == "?" or not isinstance(table.get("fields"), dict):
        return None, gone
    notes, fields = [], {}
    for field_id, field in table["fields"].items():
        kept, said = repaired_field(field, table["fields"], enums)
        notes += [f"{name}.{line}" for line in said]
        if kept is not None:
            fields[field_id] = kept
    description = table.get("description")
    if not isinstance(description, str) or len(description) > MAX_DESCRIPTION:
        description = ""
    copy = {**table, "name": name, "description": description, "fields": fields}
    if copy.get("status") not in TABLE_STATUSES:
        copy["status"] = "draft"
    if "structure" in copy:
        notes += repaired_structure(copy, name)
    return (copy, notes) if accepted(copy, enums) else (None, gone)


def repaired_structure(table, name):
    """Keep the structure items the rules accept one by one; the others are named."""
    structure = table.pop("structure")
    if not isinstance(structure, dict):
        return [f"{name}: its constraints and indexes left out (not an object)"]
    kept, notes = {}, []
    for kind, entries in structure.items():
        if kind not in KINDS or not isinstance(entries, dict):
            notes.append(f"{name}: {word(kind)} left out (not a kind the rules allow)")
            continue
        for item_id, item in entries.items():
            trial = {**table, "structure": {**kept, kind: {**kept.get(kind, {}), item_id: item}}}
            if structure_problems(trial):
                label = word(item.get("name") if isinstance(item, dict) else None)
                notes.append(f"{name}: {NOUN[kind]} {label} left out (not one the rules allow)")
                continue
            kept = trial["structure"]
    if kept:
        table["structure"] = kept
    return notes


def repaired_field(field, table_fields, enums=None):
    """(field, notes): the field without the settings and values the rules refuse."""
    if not isinstance(field, dict) or set(field) != set(FIELD_COLUMNS) or not is_uuid(field["id"]):
        return None, ["? left out: not a field"]
    name = word(field["field_name"])
    if isinstance(field["field_config"], dict) and field["field_config"].get("system"):
        copy = {**field, **SYSTEM_FIELD, "id": field["id"], "default_value": None}
        copy["field_config"] = dict(SYSTEM_FIELD["field_config"])
        said = [] if copy == field else ["id written as the designer's bigint identity"]
        return copy, said
    config = field["field_config"]
    copy = {**field, "field_config": dict(config) if isinstance(config, dict) else {}}
    notes = [] if isinstance(config, dict) else [f"{name}: its settings left out (not an object)"]
    for _ in range(len(copy["field_config"]) + len(RESET) + 2):
        problems = field_problems(copy, table_fields, enums=enums)
        if not problems:
            return copy, notes
        for key in problems:
            if not repair(copy, key, notes, name):
                return None, [*notes, f"{name} left out: not a field the rules allow"]
    return None, [*notes, f"{name} left out: not a field the rules allow"]


def repair(field, key, notes, name):
    """Put right what `key` names (False when it cannot be)."""
    config = field["field_config"]
    if key in config and key not in ("system", "primary_key"):
        del config[key]
        notes.append(f"{name}: setting {word(key)} left out (not a value the rules allow)")
        return True
    if key in RESET:
        field[key] = RESET[key]
        notes.append(f"{name}: {key} left out (not a value the rules allow)")
        return True
    if key == "name" and name != "?":
        field["name"] = name
        return True
    return False
