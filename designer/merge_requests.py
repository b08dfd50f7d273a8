"""Merge requests: a branch offered to main, its review, approvals, comments and merge (#28).

A request belongs to main (migration 0052); there is at most one open request per branch.
Editors of main other than its author approve it; main's `approvals_required` (default 1)
says how many. An approval records the branch's design (its hash) and the conflicts the
approver saw: it stands while the branch is unchanged and no conflict has appeared since,
so when main moves after the review the comparison is made again at merge time and the
approval counts only if nothing new conflicts. Conflicts are decided on the request (pick a
side) or by editing either design. Every step is in main's activity. Flask-free.
"""

from peewee import JOIN
from peewee import IntegrityError
from peewee import fn

from designer import branches
from designer.activity import recording
from designer.db import database
from designer.design.page_stamps import project_stamp
from designer.errors import Conflict
from designer.errors import Forbidden
from designer.errors import NotFound
from designer.errors import ValidationFailed
from designer.history import merge as merging
from designer.history.merge_words import conflict_sentence
from designer.models import MergeApproval
from designer.models import MergeComment
from designer.models import MergeRequest
from designer.models import Project
from designer.models import UserName
from designer.projects import serialize_changes

MAX_TITLE = 200
MAX_COMMENT = 5000


def clean_title(title):
    return branches.one_line(title, "title", "Give it a title.", MAX_TITLE)


def open_request(user, branch_id, title, description=""):
    """Offer the branch to main: a new open MergeRequest."""
    branch = branches.branch_access(user, branch_id, "editor").project
    main = branches.main_access(user, branch.branch_of_id, "editor").project
    title = clean_title(title)
    description = str(description or "").strip()
    with database.atomic():
        serialize_changes(main.id)
        number = (
            MergeRequest.select(fn.coalesce(fn.max(MergeRequest.number), 0))
            .where(MergeRequest.project == main.id)
            .scalar()
        ) + 1
        try:
            with database.atomic():
                request = MergeRequest.create(
                    project=main.id, branch=branch.id, number=number, author=user,
                    title=title, description=description,
                )  # fmt: skip
        except IntegrityError as exc:
            if "merge_request_open_branch" not in str(exc):
                raise
            raise Conflict("This branch already has an open merge request.") from exc
        with recording(main.id, user) as log:
            log.add(
                "merge_request.opened",
                f"opened merge request !{number} to merge the branch {branch.name}",
                request.id,
            )
    return request


def requests_of(project_id, state=None):
    """Main's merge requests, newest first (of one state when given)."""
    query = MergeRequest.select().where(MergeRequest.project == project_id)
    if state:
        query = query.where(MergeRequest.state == state)
    return list(query.order_by(MergeRequest.number.desc()))


def get_request(user, project_id, number, need="viewer"):
    """(main's Access, request) for a member of main."""
    granted = branches.main_access(user, project_id, need)
    try:
        number = int(number)
    except (TypeError, ValueError):
        raise NotFound("No such merge request.") from None
    request = MergeRequest.get_or_none(
        MergeRequest.project == granted.project.id, MergeRequest.number == number
    )
    if request is None:
        raise NotFound(f"This project has no merge request !{number}.")
    return granted, request


def request_for_branch(branch_id):
    """The branch's open merge request, else its latest, else None."""
    return (
        MergeRequest.select()
        .where(MergeRequest.branch == branch_id)
        .order_by(MergeRequest.state != "open", MergeRequest.number.desc())
        .first()
    )


def requests_for_branches(branch_ids):
    """{branch id: its open merge request, else its latest} for the branches that have one
    (one query)."""
    found = {}
    query = (
        MergeRequest.select()
        .where(MergeRequest.branch.in_(list(branch_ids)))
        .order_by(MergeRequest.state != "open", MergeRequest.number.desc())
    )
    for request in query if branch_ids else ():
        found.setdefault(request.branch_id, request)
    return found


def live_stamp(request):
    """What a request's page shows moves this: main's change stamp (the request's steps are
    in main's activity) and the branch's."""
    return f"{project_stamp(request.project_id)}/{project_stamp(request.branch_id)}"


def refuse_ended(request):
    if request.state != "open":
        raise Conflict(f"Merge request !{request.number} is {request.state}.")


def comments_of(request):
    return list(
        MergeComment.select(MergeComment, UserName)
        .join(UserName, JOIN.LEFT_OUTER, on=(MergeComment.author == UserName.id), attr="author")
        .where(MergeComment.merge_request == request.id)
        .order_by(MergeComment.created_at, MergeComment.id)
    )


def approvals_of(request):
    return list(
        MergeApproval.select(MergeApproval, UserName)
        .join(UserName, on=(MergeApproval.user == UserName.id), attr="user")
        .where(MergeApproval.merge_request == request.id)
        .order_by(MergeApproval.approved_at)
    )


def comment(user, project_id, number, body):
    """Add a comment (any editor of main; viewers read)."""
    granted, request = get_request(user, project_id, number, "editor")
    body = str(body or "").strip()
    if not body:
        raise ValidationFailed("Write something first.", {"body": "The comment is empty."})
    if len(body) > MAX_COMMENT:
        message = f"At most {MAX_COMMENT} characters."
        raise ValidationFailed(message, {"body": message})
    with recording(granted.project.id, user) as log:
        made = MergeComment.create(
            merge_request=request.id, project=granted.project.id, author=user, body=body
        )
        log.add("merge_request.commented", f"commented on merge request !{request.number}",
                request.id)  # fmt: skip
    return made


class Review:
    """A request as it stands now: the comparison, its migration, and which approvals count."""

    def __init__(self, request, sides, comparison, approvals, required):
        self.request = request
        self.sides = sides
        self.comparison = comparison
        self.approvals = approvals
        self.required = required
        conflict_ids = {conflict.id for conflict in comparison.conflicts}
        for approval in approvals:
            approval.stands = standing(approval, sides.theirs_hash, conflict_ids)
        self.standing = [a for a in approvals if a.stands]
        self.undecided = [c for c in comparison.conflicts if c.id not in request.resolutions]

    @property
    def approved(self):
        return len(self.standing) >= self.required

    @property
    def mergeable(self):
        return self.request.state == "open" and self.approved and not self.undecided

    @property
    def blocked(self):
        """Why the request cannot merge yet, in a sentence (None when it can)."""
        if self.request.state != "open":
            return f"Merge request !{self.request.number} is {self.request.state}."
        reasons = []
        if self.undecided:
            count = len(self.undecided)
            reasons.append(f"{count} conflict{'s' if count != 1 else ''} to resolve")
        if not self.approved:
            needed = f"{self.required} approval{'s' if self.required != 1 else ''}"
            so_far = len(self.standing)
            reasons.append(f"{needed} by editors other than its author ({so_far} so far)")
        return f"It needs {' and '.join(reasons)}." if reasons else None


def standing(approval, theirs_hash, conflict_ids):
    """An approval counts while the branch is as approved and nothing new conflicts."""
    return approval.branch_hash == theirs_hash and conflict_ids <= set(approval.conflicts)


def review(user, project_id, number):
    """The Review of a request (for a merged or closed one: its record, no comparison)."""
    granted, request = get_request(user, project_id, number)
    if request.state != "open":
        return None, request
    sides, comparison = branches.comparison(user, request.branch_id, request.resolutions)
    return Review(
        request, sides, comparison, approvals_of(request), granted.project.approvals_required
    ), request


def decide(user, project_id, number, conflict_id, side):
    """Decide one conflict ("ours", "theirs"), or undecide it (side None or "")."""
    granted, request = get_request(user, project_id, number, "editor")
    refuse_ended(request)
    resolutions = dict(request.resolutions)
    if side in (None, ""):
        resolutions.pop(conflict_id, None)
    else:
        if side not in merging.SIDES:
            raise ValidationFailed("Pick ours or theirs.", {"side": "Pick ours or theirs."})
        _, compared = branches.comparison(user, request.branch_id)
        if conflict_id not in {conflict.id for conflict in compared.conflicts}:
            raise ValidationFailed("No such conflict to decide (the designs may have moved).")
        if conflict_id == merging.RULES:
            raise ValidationFailed("A design that breaks a rule is mended by editing it.")
        resolutions[conflict_id] = side
    with recording(granted.project.id, user) as log:
        MergeRequest.update(
            resolutions=resolutions, updated_at=fn.now(), revision=MergeRequest.revision + 1
        ).where(MergeRequest.id == request.id).execute()
        words = f"kept {side}'s side of a conflict" if side else "reopened a conflict"
        log.add("merge_request.decided", f"{words} in merge request !{request.number}",
                request.id)  # fmt: skip
    return MergeRequest.get_by_id(request.id)


def approve(user, project_id, number):
    """Approve the request as it is now (an editor of main other than its author)."""
    granted, request = get_request(user, project_id, number, "editor")
    refuse_ended(request)
    if request.author_id == user.id:
        raise Forbidden("The author of a merge request cannot approve it.")
    sides, compared = branches.comparison(user, request.branch_id, request.resolutions)
    with recording(granted.project.id, user) as log:
        MergeApproval.insert(
            merge_request=request.id, user=user.id, project=granted.project.id,
            branch_hash=sides.theirs_hash,
            conflicts=sorted(conflict.id for conflict in compared.conflicts),
        ).on_conflict(
            conflict_target=[MergeApproval.merge_request, MergeApproval.user],
            preserve=[MergeApproval.branch_hash, MergeApproval.conflicts],
            update={MergeApproval.approved_at: fn.now()},
        ).execute()  # fmt: skip
        log.add("merge_request.approved", f"approved merge request !{request.number}",
                request.id)  # fmt: skip
    return request


def unapprove(user, project_id, number):
    granted, request = get_request(user, project_id, number, "editor")
    refuse_ended(request)
    with recording(granted.project.id, user) as log:
        gone = (
            MergeApproval.delete()
            .where(MergeApproval.merge_request == request.id, MergeApproval.user == user.id)
            .execute()
        )
        if gone:
            words = f"withdrew their approval of merge request !{request.number}"
            log.add("merge_request.unapproved", words, request.id)
    return request


def close(user, project_id, number):
    """Close a request without merging (its author or an owner of main)."""
    granted, request = get_request(user, project_id, number, "editor")
    refuse_ended(request)
    if request.author_id != user.id and not granted.can("owner"):
        raise Forbidden("Only its author or an owner can close a merge request.")
    with recording(granted.project.id, user) as log:
        MergeRequest.update(state="closed", updated_at=fn.now(),
                            revision=MergeRequest.revision + 1).where(
            MergeRequest.id == request.id, MergeRequest.state == "open"
        ).execute()  # fmt: skip
        log.add("merge_request.closed", f"closed merge request !{request.number}", request.id)
    return MergeRequest.get_by_id(request.id)


def merge(user, project_id, number, message=""):
    """Merge the request's branch into main once enough approvals stand: the new version.

    The approvals are counted inside the merge, on the comparison as it is once main and
    the branch are locked: main may have moved since they were given."""
    granted, request = get_request(user, project_id, number, "editor")
    refuse_ended(request)

    def check(sides, compared):
        current = MergeRequest.select().where(MergeRequest.id == request.id).for_update().get()
        refuse_ended(current)
        conflict_ids = {conflict.id for conflict in compared.conflicts}
        standing_ones = [
            approval
            for approval in MergeApproval.select().where(MergeApproval.merge_request == request.id)
            if standing(approval, sides.theirs_hash, conflict_ids)
        ]
        required = Project.get_by_id(granted.project.id).approvals_required
        reasons = []
        if len(standing_ones) < required:
            given = MergeApproval.select().where(MergeApproval.merge_request == request.id).count()
            if given > len(standing_ones):
                reasons.append(
                    "The branch or main changed since it was approved, and the comparison "
                    f"differs: it needs {required} approval{'s' if required != 1 else ''} again."
                )
            else:
                reasons.append(
                    f"Merge request !{request.number} needs {required} "
                    f"approval{'s' if required != 1 else ''} by editors other than its author; "
                    f"it has {len(standing_ones)}."
                )
        left = [c for c in compared.conflicts if c.id not in request.resolutions]
        if left:
            count = f"{len(left)} conflict{'s' if len(left) != 1 else ''}"
            listed = " ".join(conflict_sentence(c, compared) for c in left)
            reasons.append(f"{count} to resolve: {listed}")
        if reasons:
            # Every reason at once, so one answer says all that stands in the way.
            raise Conflict(" ".join(reasons), reasons=reasons)

    def after(version):
        with recording(granted.project.id, user) as log:
            MergeRequest.update(
                state="merged", merged_at=fn.now(), merged_by=user.id, merged_version=version.id,
                updated_at=fn.now(), revision=MergeRequest.revision + 1,
            ).where(MergeRequest.id == request.id).execute()  # fmt: skip
            log.add("merge_request.merged", f"merged merge request !{request.number}", request.id)

    branch = Project.get_by_id(request.branch_id)
    return branches.merge(
        user, request.branch_id, request.resolutions,
        message or f"Merged the branch {branch.name} (merge request !{request.number})",
        check=check, after=after,
    )  # fmt: skip
