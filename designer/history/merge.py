"""Three-way comparison and merge of designs, by id: base, "ours" and "theirs".

Each side's changes are diff(base, side) cut down to properties, each at its path into
the snapshot (designer.history.merge_paths): an attribute of a table, field, relationship
or enum, one key of a field's settings, a table's primary key, one whole unique, check or
index; an object is added or removed whole.

What a side touches, precisely:
- it writes a path when the path's value differs between the base and that side;
- it reads an object when it writes a path inside the object, or writes a value that names
  the object's id (a relationship's ends, a key's or an index's columns);
- it claims a name in a namespace when it gives an object that name (table names, table
  display names, relationship names, enum names, and each table's column and display names).

A conflict is exactly one of these:
- "changed": both sides write one path to different values (the same change on both sides
  merges as one);
- "deleted": one side removes an object the other side reads (a removal inside a removed
  object agrees with it);
- "name": both sides claim one name for different objects in the merged design;
- "rules": nothing else conflicts, yet the merged design breaks a rule a design is held to
  (designer.design.snapshot_rules), such as a key whose type the other side changed. No
  side can be picked for it: one of the designs has to be edited.

Everything else merges: each change lands on the base whatever the other side did, so
when the sides touch nothing in common the merge is both sides' edits applied in either
order (tests/unit/test_merge_properties.py). Only net changes count: a property a side set
and set back is no change of that side's. Pure: no database, no Flask.
"""

from dataclasses import dataclass
from dataclasses import field as dataclass_field

from designer.design.snapshot_rules import check_snapshot
from designer.errors import Conflict as Unresolved
from designer.errors import ValidationFailed
from designer.history.diff import empty_snapshot
from designer.history.merge_paths import ABSENT
from designer.history.merge_paths import is_object
from designer.history.merge_paths import set_path
from designer.history.merge_paths import side_changes
from designer.history.merge_paths import tidy_structure
from designer.history.merge_words import conflict_sentence

SIDES = ("ours", "theirs")
RULES = "rules"


@dataclass
class MergeConflict:
    """What both sides did that cannot both land; `id` is stable across comparisons."""

    id: str
    kind: str
    path: tuple
    ours: list = dataclass_field(default_factory=list)
    theirs: list = dataclass_field(default_factory=list)
    problem: str = ""

    def changes(self, side):
        return self.ours if side == "ours" else self.theirs


@dataclass
class Comparison:
    """Both sides' changes since the base, and the conflicts between them."""

    base: dict
    ours_snapshot: dict
    theirs_snapshot: dict
    ours: list
    theirs: list
    conflicts: list
    # The base with every change that lands (none of either side's in an undecided conflict).
    result: dict
    named: dict = dataclass_field(default_factory=dict)

    def naming(self, side):
        """The base, with the tables, relationships and enums only `side` has: what a
        sentence about that side's change names objects by (designer.history.merge_words)."""
        if side not in self.named:
            own = self.ours_snapshot if side == "ours" else self.theirs_snapshot
            self.named[side] = {
                key: {**(own.get(key) or {}), **(self.base.get(key) or {})}
                for key in ("tables", "relationships", "enums")
            }
        return self.named[side]

    def by_object(self):
        """{object path: {"ours": [changes], "theirs": [changes]}}: what each side did to
        each table, field, relationship, structure item and enum, by id."""
        found = {}
        for change in self.ours + self.theirs:
            sides = found.setdefault(change.object_path, {side: [] for side in SIDES})
            sides[change.side].append(change)
        return found


def three_way(base, ours, theirs):
    """The Comparison of `ours` and `theirs`, both descended from `base` (None: empty)."""
    return compare(base, ours, theirs, {})


def compare(base, ours, theirs, resolutions):
    """The Comparison with `resolutions` ({conflict id: side}) taken."""
    base = base or empty_snapshot()
    ours, theirs = ours or empty_snapshot(), theirs or empty_snapshot()
    changed = {
        "ours": side_changes(base, "ours", ours),
        "theirs": side_changes(base, "theirs", theirs),
    }
    conflicts = path_conflicts(changed)
    # A decided name can let another clash: look again until no new clash turns up.
    while True:
        dropped = dropped_changes(changed, conflicts, resolutions)
        result, touched = applied(base, changed, dropped)
        known = {conflict.id for conflict in conflicts}
        found = [c for c in name_conflicts(result, changed, dropped, touched) if c.id not in known]
        if not found:
            break
        conflicts += found
    if all(conflict.id in resolutions for conflict in conflicts):
        linked = {
            path[1]
            for side in SIDES
            for path in changed[side]
            if path[0] == "relationships" and (side, path) not in dropped
        }
        conflicts += rules_conflicts(result, touched, linked)
    return Comparison(
        base, ours, theirs, *(list(changed[side].values()) for side in SIDES), conflicts, result
    )


def path_conflicts(changed):
    """The "changed" and "deleted" conflicts, in a stable order."""
    ours, theirs = changed["ours"], changed["theirs"]
    conflicts = [
        MergeConflict(f"changed:{'/'.join(path)}", "changed", path, [ours[path]], [theirs[path]])
        for path in sorted(ours.keys() & theirs.keys())
        if ours[path].after != theirs[path].after
    ]
    for side, other in (("ours", "theirs"), ("theirs", "ours")):
        naming = {}
        for change in changed[other].values():
            for named in change.names:
                naming.setdefault(named, []).append(change)
        for path, change in sorted(changed[side].items()):
            if change.after is not ABSENT or not is_object(path):
                continue
            readers = [c for c in naming.get(path[-1], ()) if reads(c, path)]
            if readers:
                conflict = MergeConflict(f"deleted:{'/'.join(path)}", "deleted", path)
                conflict.changes(side).append(change)
                conflict.changes(other).extend(readers)
                conflicts.append(conflict)
    return conflicts


def reads(change, removed_path):
    """Whether `change` reads the object at `removed_path`: it lands inside it, or names
    it. A removal inside a removed object agrees with it; one of the object itself is
    the same path, a "changed" conflict when the other side changed the object instead."""
    if change.after is ABSENT or change.path == removed_path:
        return False
    inside = change.path[: len(removed_path)] == removed_path
    return inside or removed_path[-1] in change.names


def dropped_changes(changed, conflicts, resolutions):
    """(side, path) of the changes that do not land: the unpicked side's in each conflict
    (both sides' while it is undecided), and whatever lives in or names an object whose
    addition does not land."""
    dropped = set()
    for conflict in conflicts:
        for side in SIDES:
            if side != resolutions.get(conflict.id):
                dropped.update((side, c.path) for c in conflict.changes(side))
    while True:
        gone = {
            path[-1]
            for side, path in dropped
            if changed[side][path].before is ABSENT and is_object(path)
        }
        more = {
            (side, path)
            for side in SIDES
            for path, change in changed[side].items()
            if (side, path) not in dropped and change.after is not ABSENT and gone & change.names
        }
        if not more:
            return dropped
        dropped |= more


def applied(base, changed, dropped):
    """(the base with every change that is not dropped, both sides' alike; the ids of the
    tables a change landed in, None when an enum changed: every table may read one)."""
    landing = [
        change
        for side in SIDES
        for path, change in changed[side].items()
        if (side, path) not in dropped
    ]
    result = dict(base)
    owned = {id(result)}
    # Objects before their properties: a removal inside a removed object finds nothing.
    for change in sorted(landing, key=lambda c: len(c.path)):
        set_path(result, change.path, change.after, owned)
    for change in landing:
        if change.path[0] == "tables" and "structure" in change.path[2:3]:
            tidy_structure(result["tables"].get(change.path[1]))
    if "enums" in result and not result["enums"]:
        del result["enums"]  # a design without enums has no "enums" key
    if any(change.path[0] == "enums" for change in landing):
        return result, None
    return result, {change.path[1] for change in landing if change.path[0] == "tables"}


# Names one design holds once: (collection, attribute); and in each table, its fields'.
NAMESPACES = (
    ("tables", "table_name"),
    ("tables", "name"),
    ("relationships", "relationship_name"),
    ("enums", "name"),
)
FIELD_NAMESPACES = ("field_name", "name")


def name_conflicts(result, changed, dropped, touched):
    """Both sides giving one name to different objects of one namespace (the columns'
    only in the `touched` tables: the others are the base's)."""
    conflicts = []
    for where, attr, objects in namespaces(result, touched):
        holders = {}
        for object_id, obj in objects.items():
            holders.setdefault(obj.get(attr), []).append(object_id)
        # Only the names held twice are sorted (by their first id, as before): sorting every
        # table of 30,000 took a second.
        for ids in sorted(sorted(ids) for ids in holders.values() if len(ids) > 1):
            name = objects[ids[0]].get(attr)
            claims = [claims_of(changed[side], dropped, where, attr, ids) for side in SIDES]
            if all(claims):
                path = (*where, attr, str(name))
                conflicts.append(MergeConflict(f"name:{'/'.join(path)}", "name", path, *claims))
    return conflicts


def namespaces(snapshot, touched=None):
    """(container path, name attribute, {id: object}) of every namespace of a design (of
    the `touched` tables' columns only, when given)."""
    for collection, attr in NAMESPACES:
        yield (collection,), attr, snapshot.get(collection) or {}
    tables = snapshot["tables"]
    chosen = tables if touched is None else [t for t in touched if t in tables]
    for table_id in sorted(chosen):
        for attr in FIELD_NAMESPACES:
            yield ("tables", table_id, "fields"), attr, tables[table_id]["fields"]


def claims_of(changes, dropped, where, attr, ids):
    """A side's landing changes that gave one of the objects `ids` its name: the name
    itself, the object added, or (for a field) its table added."""
    wanted = {(*where, i, attr) for i in ids} | {(*where, i) for i in ids} | {where[:2]}
    return [
        change
        for path, change in sorted(changes.items())
        if path in wanted and (change.side, path) not in dropped and change.after is not ABSENT
    ]


def rules_conflicts(result, touched, linked):
    """[the "rules" conflict] when the merged design breaks a rule, else []. Only the
    `touched` tables are checked one by one (the others are as the base has them), and the
    relationships `linked` (a change landed in them) or with an end in a touched table;
    the design as a whole (names, cycles) always."""
    try:
        check_snapshot(result, "merge", table_ids=touched, lead=RULES_LEAD, relationship_ids=linked)
    except ValidationFailed as refused:
        return [MergeConflict(RULES, RULES, (), problem=refused.message)]
    return []


RULES_LEAD = "The merged design breaks a rule."


def merged(base, ours, theirs, resolutions=None):
    """The merged design: both sides' changes on the base, each conflict decided by
    `resolutions` ({conflict id: "ours" or "theirs"}). Raises errors.Conflict (409) listing
    the conflicts left undecided (the "rules" one among them: no side can be picked for
    it), and ValidationFailed for a resolution that names no conflict or no side.

    The merged design shares the entries no change landed in with `base`: read-only, like
    every snapshot (copy it to edit it)."""
    resolutions = dict(resolutions or {})
    refuse_bad_resolutions(resolutions)
    return settled(compare(base, ours, theirs, resolutions), resolutions)


def refuse_bad_resolutions(resolutions):
    for conflict_id, side in resolutions.items():
        if side not in SIDES:
            raise ValidationFailed(f"Pick ours or theirs for {conflict_id}, not {side!r}.")
    if RULES in resolutions:
        raise ValidationFailed(
            "A design that breaks a rule is mended by editing it: no side can be picked."
        )


def settled(comparison, resolutions):
    """merged's answer from the Comparison compare(base, ours, theirs, resolutions) gave
    (a caller holding it need not compare again): the result, or the same refusals."""
    resolutions = dict(resolutions or {})
    refuse_bad_resolutions(resolutions)
    unknown = sorted(resolutions.keys() - {conflict.id for conflict in comparison.conflicts})
    if unknown:
        raise ValidationFailed(f"No such conflict to resolve: {', '.join(unknown)}.")
    left = [conflict for conflict in comparison.conflicts if conflict.id not in resolutions]
    if left:
        listed = "; ".join(conflict_sentence(conflict, comparison) for conflict in left)
        count = f"{len(left)} conflict{'s' if len(left) != 1 else ''}"
        raise Unresolved(f"{count} to resolve: {listed}", conflicts=[c.id for c in left])
    return comparison.result
