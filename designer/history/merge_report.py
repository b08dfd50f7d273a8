"""A three-way comparison (designer.history.merge) as plain, JSON-able data: each side's
changes with their paths and sentences, each conflict with its sentence and the side
decided for it. What the API answers; the pages say the same in their own layout. Pure.

A path is a list of strings into the snapshot, by main's ids (a branch's rows are read
with the ids of main's rows they were copied from), e.g. ["tables", <id>, "fields", <id>,
"field_name"]. "before" and "after" are the values at the path (null where the object or
setting is absent: "verb" then says "added" or "removed").
"""

from designer.history.merge_paths import ABSENT
from designer.history.merge_words import change_sentence
from designer.history.merge_words import conflict_sentence


def plain(value):
    return None if value is ABSENT else value


def change_report(change, comparison):
    return {
        "path": list(change.path),
        "object_path": list(change.object_path),
        "verb": change.verb,
        "before": plain(change.before),
        "after": plain(change.after),
        "sentence": change_sentence(change, comparison),
    }


def undecided(comparison, resolutions):
    """The conflicts no side was picked for (the "rules" one always: no side can be)."""
    return [conflict for conflict in comparison.conflicts if conflict.id not in resolutions]


def conflict_report(conflict, comparison, resolutions):
    return {
        "id": conflict.id,
        "kind": conflict.kind,
        "path": list(conflict.path),
        "sentence": conflict_sentence(conflict, comparison),
        "ours": [change_report(change, comparison) for change in conflict.ours],
        "theirs": [change_report(change, comparison) for change in conflict.theirs],
        "decided": resolutions.get(conflict.id),
    }


def comparison_report(comparison, resolutions=None):
    """{"ours": [change], "theirs": [change], "conflicts": [conflict], "undecided": [id]}."""
    resolutions = dict(resolutions or {})
    return {
        "ours": [change_report(change, comparison) for change in comparison.ours],
        "theirs": [change_report(change, comparison) for change in comparison.theirs],
        "conflicts": [
            conflict_report(conflict, comparison, resolutions) for conflict in comparison.conflicts
        ],
        "undecided": [conflict.id for conflict in undecided(comparison, resolutions)],
    }
