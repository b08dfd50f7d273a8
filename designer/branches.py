"""Branches: fork a project, compare it three ways with its main, merge it back (#28).

A branch is a project of its own (migration 0052), so every page, lock, rule and route of
a project works on it unchanged. Its rows have ids of their own; `branch_origin` maps each
id the fork gave back to main's. Compared with main, the branch's working copy is read with
main's ids (`theirs`), so a field renamed on the branch is the same field main has, renamed.

The three sides: the base is the version of main the branch forked from, "ours" is main's
working copy now, "theirs" is the branch's now (designer.history.merge compares them). A
merge writes the merged design into main through the restore's own steps (others' locks
refuse it, rules are checked), saves a version on main naming the branch, and marks the
branch's head version merged, in one transaction. Two merges into one main take its row in
turn, each comparing against main as the other left it. A merged branch's design no longer
changes (a trigger of 0052 refuses it, also for an edit that commits during the merge).
Flask-free.
"""

import secrets
import uuid
from typing import NamedTuple

from peewee import JOIN
from peewee import IntegrityError
from peewee import fn

from designer import rls
from designer.activity import recording
from designer.db import database
from designer.design.fields import regex_problem
from designer.design.page_stamps import project_stamp
from designer.design.snapshot_rules import check_snapshot
from designer.design.snapshot_rules import is_uuid
from designer.errors import Conflict
from designer.errors import NotFound
from designer.errors import ValidationFailed
from designer.history import merge as merging
from designer.history import versions
from designer.history.merge_paths import named_ids
from designer.history.parts import ENTRY_MAPS
from designer.history.restore import apply_snapshot
from designer.history.snapshot import shared_weight
from designer.interchange.import_json import ids_of
from designer.interchange.import_json import with_ids
from designer.interchange.import_plan import OrderedIds
from designer.interchange.imports import insert_design
from designer.kept import KeptAnswers
from designer.models import BranchOrigin
from designer.models import DataTable
from designer.models import MergeRequest
from designer.models import Project
from designer.models import SchemaVersion
from designer.models import UserName
from designer.projects import access
from designer.projects import refuse_merged
from designer.projects import serialize_changes

MAX_NAME = 100


class Sides(NamedTuple):
    """A branch, its main, and the three designs a comparison reads."""

    branch: Project
    main: Project
    fork_version: SchemaVersion
    base: dict
    ours: dict
    theirs: dict
    # The branch's working copy in its own ids, and its hash: what an approval saw.
    theirs_hash: str
    # Main's working copy's hash: with theirs_hash, what a comparison's result comes from.
    ours_hash: str


def one_line(value, field, empty, limit):
    """`value` on one line with its spaces collapsed; ValidationFailed under `field` when it
    is empty (saying `empty`) or longer than `limit`."""
    value = " ".join(str(value or "").split())
    if not value:
        raise ValidationFailed(empty, {field: empty})
    if len(value) > limit:
        message = f"At most {limit} characters."
        raise ValidationFailed(message, {field: message})
    return value


def clean_name(name):
    return one_line(name, "name", "Give the branch a name.", MAX_NAME)


def main_access(user, project_id, need="viewer"):
    """Access to a main project (a branch's id is refused: branches hang off main)."""
    granted = access(user, project_id, need)
    if granted.project.is_branch:
        raise Conflict("That is a branch: branches are forked from, and merged into, main.")
    return granted


def branch_access(user, branch_id, need="viewer"):
    """Access to a branch (a main project's id is not a branch: 404)."""
    granted = access(user, branch_id, need)
    if not granted.project.is_branch:
        raise NotFound("No such branch.")
    if need != "viewer":
        refuse_merged(granted.project)
    return granted


def branches_of(project_id):
    """Main's branches, open ones first, newest first."""
    return list(
        Project.select()
        .where(Project.branch_of == project_id)
        .order_by(Project.merged_at.is_null(False), Project.created_at.desc())
    )


def fork_numbers(projects):
    """{branch id: the number of main's version it forked from} for the branches among
    `projects` (one query; a version the reader cannot see is left out)."""
    forks = {p.fork_version_id: p.id for p in projects if p.fork_version_id is not None}
    if not forks:
        return {}
    rows = SchemaVersion.select(SchemaVersion.id, SchemaVersion.version_number).where(
        SchemaVersion.id.in_(list(forks))
    )
    return {forks[row.id]: row.version_number for row in rows}


class Listed(NamedTuple):
    """A branch as main's Branches tab lists it."""

    branch: Project
    fork_number: int
    author: str
    request: MergeRequest | None


def listed(project_id):
    """Main's branches with the version each forked from, who forked it, and its merge
    request (the open one, else the latest)."""
    rows = (
        Project.select(Project, SchemaVersion.version_number, UserName.username)
        .join(SchemaVersion, on=(SchemaVersion.id == Project.fork_version_id))
        .join_from(Project, UserName, JOIN.LEFT_OUTER, on=(UserName.id == Project.owner))
        .where(Project.branch_of == project_id)
        .order_by(Project.merged_at.is_null(False), Project.created_at.desc())
        .objects()
    )
    requests = {}
    for request in (
        MergeRequest.select()
        .where(MergeRequest.project == project_id)
        .order_by(MergeRequest.state != "open", MergeRequest.number.desc())
    ):
        requests.setdefault(request.branch_id, request)
    return [
        Listed(row, row.version_number, row.username or "someone", requests.get(row.id))
        for row in rows
    ]


class Switcher(NamedTuple):
    """What a project page's branch switcher offers: main and its open branches."""

    main: Project
    branches: list


def switcher(project):
    """Main and its open branches, for a page of `project` (main or one of its branches)."""
    main = main_of(project)
    open_ones = (
        Project.select(Project.id, Project.name, Project.branch_of, Project.merged_at)
        .where(Project.branch_of == main.id, Project.merged_at.is_null())
        .order_by(fn.lower(Project.name))
    )
    return Switcher(main, list(open_ones))


def counterpart_table(table_id, from_project, to_project):
    """The id of the table on `to_project` that table `table_id` of `from_project` is (by
    the fork's mapping, through main between two branches), or None."""
    origin = str(table_id).lower()
    if not is_uuid(origin):
        return None
    if from_project.is_branch:
        origin = (
            BranchOrigin.select(BranchOrigin.origin_id)
            .where(BranchOrigin.branch == from_project.id, BranchOrigin.local_id == origin)
            .scalar()
        )
    if origin is None:
        return None
    if not to_project.is_branch:
        wanted = origin
    else:
        wanted = (
            BranchOrigin.select(BranchOrigin.local_id)
            .where(BranchOrigin.branch == to_project.id, BranchOrigin.origin_id == origin)
            .scalar()
        )
    found = DataTable.select(DataTable.id).where(
        DataTable.id == wanted, DataTable.project == to_project.id
    )
    return found.scalar() if wanted is not None else None


def main_of(project):
    """The main project of `project` (itself when it is main)."""
    if not project.is_branch:
        return project
    return Project.get_by_id(project.branch_of_id)


def fork(user, project_id, name, version_number=None, description=""):
    """A new branch of main, from its version `version_number` or (None) its working copy,
    which is saved as a version first when it changed since the last one."""
    granted = main_access(user, project_id, "editor")
    main = granted.project
    name = clean_name(name)
    with versions.paused_gc(), database.atomic():
        serialize_changes(main.id)
        if version_number in (None, "", "working"):
            version = versions.latest(main.id)
            if version is None or versions.changes_since(main.id, version):
                version = versions.save_version(
                    user, main.id, f"Before forking the branch {name}", automatic=True
                )
        else:
            version = versions.get_version(main.id, version_number)
        snapshot = versions.snapshot_of(version)
        # A version saved before a rule existed may break it: forked, never stored (as a
        # restore refuses it).
        check_snapshot(snapshot, "version", regex_problem=regex_problem)
        next_id = OrderedIds()
        given = {old: next_id() for old in sorted(ids_of(snapshot))}
        branch_id = uuid.uuid4()
        try:
            with database.atomic():
                # No RETURNING: the row is not the user's to read until main's members are.
                Project.insert(
                    id=branch_id, owner=user, name=name, description=description or "",
                    branch_of=main.id, fork_version_id=version.id,
                    target_schema=f"b_{secrets.token_hex(8)}",
                    approvals_required=main.approvals_required,
                ).returning().execute()  # fmt: skip
        except IntegrityError as exc:
            if "project_branch_name" not in str(exc):
                raise
            message = f"This project already has a branch named {name}."
            raise ValidationFailed(message, {"name": message}) from exc
        copy_members(user, branch_id)
        copied = with_ids(snapshot, given)
        insert_design(user, branch_id, copied)
        remember_origins(main.id, branch_id, given)
        versions.save_version(
            user, branch_id, f"Forked from version {version.version_number}", current=copied
        )
        with recording(main.id, user) as log:
            log.add(
                "branch.created",
                f"forked the branch {name} from version {version.version_number}",
                branch_id,
            )
    return Project.get_by_id(branch_id)


def copy_members(user, branch_id):
    """Main's members onto the new branch, by the owner's function (0052), which checks the
    user edits main. Outside a request (a script, a seed) it acts for the user meanwhile."""
    copy = "SELECT rls_branch_members(%s)"
    if rls.acting_user() is None:
        with rls.acting_for(user.id):
            database.execute_sql(copy, (str(branch_id),))
    else:
        database.execute_sql(copy, (str(branch_id),))


# One statement from two arrays: peewee rendering 72,000 rows of VALUES took 8 s of a
# 3,000-table fork.
ORIGINS = """
INSERT INTO branch_origin (project_id, branch_id, local_id, origin_id)
SELECT %s, %s, given.local_id, given.origin_id
FROM unnest(%s::uuid[], %s::uuid[]) AS given (local_id, origin_id)
"""


def remember_origins(main_id, branch_id, given):
    """Record which of main's ids each of the branch's copies (`given`: {origin: local})."""
    origin_ids = list(given)
    local_ids = [given[origin] for origin in origin_ids]
    database.execute_sql(ORIGINS, (str(main_id), str(branch_id), local_ids, origin_ids))


def origins(branch_id, local_ids=None):
    """{branch's id: main's id} for every row the fork copied (of `local_ids` only, when
    given)."""
    query = BranchOrigin.select(
        BranchOrigin.local_id.cast("text"), BranchOrigin.origin_id.cast("text")
    ).where(BranchOrigin.branch == branch_id)
    if local_ids is not None:
        wanted = sorted(i for i in local_ids if is_uuid(i))
        if not wanted:
            return {}
        query = query.where(BranchOrigin.local_id.in_(wanted))
    return dict(query.tuples())


def working_over(project_id, since, base, translate=None):
    """(the project's working copy, its hash), read as what changed since its version
    `since`, whose snapshot is `base`: the base with the entries that changed put in and the
    ones removed taken out, as a save finds them from the parts triggers keep. What did not
    change is the base's own entries: 3,000 tables are neither read nor copied for a
    one-table change, so nothing is kept between calls. `translate(old, new)` gives the ids
    to put the read entries in, when `base` has other ids than the project (a branch's)."""
    tree, old, new, _, _ = versions.from_working_parts(project_id, since)
    mapping = translate(old, new) if translate is not None else None
    if mapping is not None:
        new = with_ids({**new, **{key: new.get(key, {}) for key in ENTRY_MAPS}}, mapping)
    design = {key: value for key, value in new.items() if key not in ENTRY_MAPS}
    for key in ENTRY_MAPS:
        entries = dict(base[key])
        for gone in old.get(key, {}):
            entries.pop(mapping.get(gone, gone) if mapping else gone, None)
        entries.update(new.get(key, {}))
        design[key] = entries
    return design, tree.hash


def theirs_of(branch, base):
    """(the branch's working copy in main's ids, its own hash), from what the branch changed
    since its first version (the fork's copy of `base`, the fork version's snapshot)."""
    start = (
        SchemaVersion.select(*versions.LISTED)
        .where(SchemaVersion.project == branch.id, SchemaVersion.version_number == 1)
        .get()
    )

    def translate(old, new):
        named = {i for key in ENTRY_MAPS for i in old.get(key, {})}
        named |= named_ids({key: value for key, value in new.items() if key != "format"})
        return origins(branch.id, named)

    return working_over(branch.id, start, base, translate)


def fork_snapshot(branch):
    version = (
        SchemaVersion.select(*versions.LISTED)
        .where(SchemaVersion.id == branch.fork_version_id)
        .get()
    )
    return version, versions.snapshot_of(version)


def sides(user, branch_id):
    """The Sides of a branch the user may read, as the database holds them now (inside a
    merge's transaction, after its locks, as they are merged)."""
    branch = branch_access(user, branch_id).project
    main = Project.get_by_id(branch.branch_of_id)
    fork_version, base = fork_snapshot(branch)
    ours, ours_hash = working_over(main.id, fork_version, base)
    theirs, theirs_hash = theirs_of(branch, base)
    return Sides(branch, main, fork_version, base, ours, theirs, theirs_hash, ours_hash)


# Comparisons by the change stamps of main and the branch, and the sides picked: a stamp
# moves with every change of its project's design, so a kept answer is never stale. Every
# open compare and request page asks again after each teammate's step; at 3,000 tables one
# comparison costs a second or more. Only pages and reviews read these: a merge compares
# anew inside its transaction, after its locks.
def comparison_weight(answer):
    """A kept comparison's weight: its designs counted once where they share entries."""
    found, compared = answer
    return shared_weight((found.base, found.ours, found.theirs, compared.result))


compared_kept = KeptAnswers(limit=4, weigh=comparison_weight)


def comparison(user, branch_id, resolutions=None):
    """(Sides, Comparison): what each side changed since the fork, and the conflicts."""
    branch = branch_access(user, branch_id).project
    picked = tuple(sorted((resolutions or {}).items()))
    key = (str(branch.id), project_stamp(branch.branch_of_id), project_stamp(branch.id), picked)

    def compute():
        with versions.paused_gc():  # as a save: the sides' many small objects all stay
            found = sides(user, branch.id)
            return found, merging.compare(found.base, found.ours, found.theirs, dict(picked))

    return compared_kept.get(key, compute)


def migration_sql(found, compared, resolutions=None):
    """The statements main would run to go from its design now to the merged one (as the
    compare page's migration says them), or None while a conflict is undecided (a side
    picked in `resolutions` decides one, as it did for `compared`)."""
    from designer.database.plans import migration_between
    from designer.history.diff import diff

    if any(conflict.id not in (resolutions or {}) for conflict in compared.conflicts):
        return None
    changes = diff(found.ours, compared.result)
    # Without conflicts the result follows from the fork version (the branch's) and both
    # sides: their hashes name it (its own hash would encode 3,000 tables again).
    # The sides picked decide the result too.
    picked = ",".join(f"{c.id}={resolutions[c.id]}" for c in compared.conflicts)
    key = f"merge:{found.branch.id}:{found.ours_hash}:{found.theirs_hash}:{picked}"
    return migration_between(found.main.target_schema, found.ours, compared.result, changes, key)


def main_ids(result, ours, base):
    """New ids of main for the objects only the branch has (their branch ids are its rows')."""
    known = set(ids_of(ours)) | set(ids_of(base))
    next_id = OrderedIds()
    return {old: next_id() for old in sorted(set(ids_of(result)) - known)}


def hold_branch(user, branch):
    """Take the branch's change counter row until the merge's transaction ends, by moving
    it: the merge is in the branch's feed, and the counter's trigger (0031) runs now rather
    than at commit. A `SELECT … FOR UPDATE` of the row would lock nothing for an editor who
    is not an owner: row-level security lets only owners update the counter, and hides
    from a locking read the rows its user may not update."""
    with recording(branch.id, user) as log:
        log.add("branch.merged", "merged this branch into main", branch.id)
    database.execute_sql("SET CONSTRAINTS activity_entry_project_changed IMMEDIATE")
    database.execute_sql("SET CONSTRAINTS activity_entry_project_changed DEFERRED")


def with_main_ids(result, ours, base):
    """The merged design with main_ids given. Only an entry some change landed in can name
    an object only the branch has: the entries the result shares with the base or with
    main (the same objects) are left as they are, not copied."""
    fresh = main_ids(result, ours, base)
    if not fresh:
        return result
    landed = {
        key: {
            i: entry
            for i, entry in result[key].items()
            if entry is not base[key].get(i) and entry is not ours[key].get(i)
        }
        for key in ENTRY_MAPS
    }
    moved = with_ids({**result, **landed}, fresh)
    for key in ENTRY_MAPS:
        kept = {i: entry for i, entry in result[key].items() if i not in landed[key]}
        moved[key] = {**kept, **moved[key]}
    return moved


def merge(user, branch_id, resolutions=None, message="", check=None, after=None):
    """Merge the branch into main; the version saved on main. `check(sides, comparison)`
    runs once both are locked, on the comparison as it is then (a merge request's approvals
    are checked there), and `after(version)` in the same transaction once the version is
    saved. Conflicts left undecided refuse the merge (409)."""
    branch = branch_access(user, branch_id, "editor").project
    main_access(user, branch.branch_of_id, "editor")
    with versions.paused_gc(), database.atomic():
        # Main's row: merges and saves of main one at a time. Then the branch's counter row,
        # which an edit of the branch takes as it commits (0031): one committing now is
        # waited for and merged whole, and any later one is refused (0052).
        serialize_changes(branch.branch_of_id)
        hold_branch(user, branch)
        found = sides(user, branch.id)
        refuse_merged(found.branch)
        compared = merging.compare(found.base, found.ours, found.theirs, dict(resolutions or {}))
        if check is not None:
            check(found, compared)
        # A conflict decided earlier may be gone since (either side edited it away): its
        # decision has nothing left to decide.
        current = {conflict.id for conflict in compared.conflicts}
        resolutions = {key: side for key, side in (resolutions or {}).items() if key in current}
        result = merging.settled(compared, resolutions)
        target = with_main_ids(result, found.ours, found.base)
        try:
            head = versions.save_version(
                user, branch.id, "Saved before merging into main", automatic=True
            )
        except Conflict:  # nothing changed since its last version: that one is its head
            head = versions.latest(branch.id)
        changes = apply_snapshot(user, found.main.id, target, confirm=True, current=found.ours)
        if not changes:
            raise Conflict("The branch changes nothing that main does not already have.")
        version = versions.save_version(
            user, found.main.id, (message or "").strip() or f"Merged the branch {branch.name}"
        )
        SchemaVersion.update(is_merged=True).where(SchemaVersion.id == head.id).execute()
        Project.update(merged_at=fn.now()).where(Project.id == branch.id).execute()
        with recording(found.main.id, user) as log:
            log.add(
                "branch.merged",
                f"merged the branch {branch.name} as version {version.version_number}",
                version.id,
            )
        if after is not None:
            after(version)
    return version
