"""Projects, memberships and the role check every project query goes through."""

import secrets
import uuid

from peewee import JOIN
from peewee import SQL
from peewee import IntegrityError
from peewee import fn

from designer import locks
from designer.accounts import account_of
from designer.activity import recording
from designer.database import reservations
from designer.db import database
from designer.db import parse_id
from designer.db import update_at_revision
from designer.design.naming import MAX_IDENTIFIER_BYTES
from designer.design.naming import identifier_problem
from designer.design.naming import suggest_identifier
from designer.errors import Conflict
from designer.errors import Forbidden
from designer.errors import NotFound
from designer.errors import ValidationFailed
from designer.kept import KeptAnswers
from designer.models import MAX_DESCRIPTION
from designer.models import ROLES
from designer.models import DataTable
from designer.models import Deployment
from designer.models import Project
from designer.models import ProjectChange
from designer.models import ProjectMember
from designer.models import UserName

ROLE_RANK = {role: rank for rank, role in enumerate(ROLES)}
ROLE_VERBS = {"viewer": "read", "editor": "edit", "owner": "manage"}
MAX_NAME = 200


class Access:
    """A project as seen by one member: the row and that member's role."""

    def __init__(self, project, role):
        self.project = project
        self.role = role

    def can(self, need):
        # A merged branch's design no longer changes (grant refuses it): nobody edits it.
        if need == "editor" and self.project.merged_at is not None:
            return False
        return ROLE_RANK[self.role] >= ROLE_RANK[need]


MERGED = "This branch was merged into its main project: its design no longer changes."


def refuse_merged(project):
    """A merged branch's design is not changed (migration 0052's trigger says so too)."""
    if project.merged_at is not None:
        raise Conflict(MERGED)


def grant(project, role, need):
    """Access for a member with `role`, or Forbidden when `need` is above it (a merged
    branch refuses whoever would edit it)."""
    granted = Access(project, role)
    if need == "editor":
        refuse_merged(project)
    if not granted.can(need):
        raise Forbidden(
            f"Your role in this project is {role}; you need to be {need} to {ROLE_VERBS[need]} it."
        )
    return granted


def access(user, project_id, need="viewer"):
    """The user's Access to a project, refusing non-members (404) and low roles (403)."""
    project_id = parse_id(project_id, "project")
    row = (
        Project.select(Project, ProjectMember.role)
        .join(ProjectMember, on=(ProjectMember.project == Project.id))
        .where(Project.id == project_id, ProjectMember.user == user.id)
        .objects()
        .first()
    )
    if row is None:
        raise NotFound("No such project.")
    return grant(row, row.role, need)


def schema_of(project):
    """The schema a project's design is written for: its own, or for a branch its main's
    (a branch's SQL is the SQL main would have once merged; it never deploys itself)."""
    if project.branch_of_id is None:
        return project.target_schema
    return Project.select(Project.target_schema).where(Project.id == project.branch_of_id).scalar()


def refuse_branch(project, doing="deploy"):
    """Only a main project deploys (a branch dry-runs its plan, designer.branches)."""
    if project.branch_of_id is not None:
        raise Conflict(f"Only the main project can {doing}; merge this branch into it first.")


def serialize_changes(project_id):
    """Hold the project's row until this transaction ends: one such change at a time.

    NO KEY UPDATE, not UPDATE, so ordinary writes (whose foreign keys take
    KEY SHARE on the project) are not blocked and cannot deadlock with it.
    """
    database.execute_sql(
        "SELECT 1 FROM project WHERE id = %s FOR NO KEY UPDATE", (str(project_id),)
    )


# Each project's number of tables, kept against its change counter (migrations/0031), which
# every change to a table moves: counting read every table of every project listed (under
# row-level security no index answers it), 30,000 tables on each view of the projects list.
kept_table_counts = KeptAnswers(limit=4096)


def projects_for(user):
    """The user's projects with their role and table count, most recently changed first."""
    rows = list(
        Project.select(
            Project, ProjectMember.role, ProjectChange.counter.alias("change_counter"),
            SQL("txid_current_if_assigned()").alias("writing"),
        )
        .join(ProjectMember, on=(ProjectMember.project == Project.id))
        .join(ProjectChange, JOIN.LEFT_OUTER, on=(ProjectChange.project == Project.id))
        .where(ProjectMember.user == user.id, Project.branch_of.is_null())
        .order_by(Project.updated_at.desc())
        .objects()
    )  # fmt: skip
    for project, count in zip(rows, table_counts(rows), strict=True):
        project.table_count = count
    return rows


def table_counts(rows):
    """The live tables of each project of `rows` (with their change_counter), counting only
    those whose count is not kept (in one query). Inside a transaction that wrote, the
    counters have not moved yet: nothing is kept then."""
    keys = [(str(p.id), p.change_counter or 0) for p in rows]
    writing = any(p.writing is not None for p in rows)
    kept = kept_table_counts.entries
    missing = [p.id for p, key in zip(rows, keys, strict=True) if key not in kept]
    counted = {}
    if missing or writing:
        counted = dict(
            DataTable.select(DataTable.project, fn.count(DataTable.id))
            .where(DataTable.project.in_(missing if not writing else [p.id for p in rows]))
            .where(DataTable.status != "deleted")
            .group_by(DataTable.project)
            .tuples()
        )
    if writing:
        return [counted.get(p.id, 0) for p in rows]

    def counting(project):
        # (An answer dropped since it was looked for is counted again, alone.)
        return counted.get(project.id, 0) if project.id in missing else count(project)

    return [
        kept_table_counts.get(key, lambda p=p: counting(p))
        for p, key in zip(rows, keys, strict=True)
    ]


def count(project):
    return (
        DataTable.select()
        .where(DataTable.project == project.id, DataTable.status != "deleted")
        .count()
    )


def clean_project_input(name, description=None):
    name = (name or "").strip()
    problems = {}
    if not name:
        problems["name"] = "Enter a project name."
    elif len(name) > MAX_NAME:
        problems["name"] = f"Use at most {MAX_NAME} characters."
    if problems:
        raise ValidationFailed("Please correct the marked fields.", problems)
    changes = {"name": name}
    if description is not None:
        changes["description"] = checked_description(description)
    return changes


def checked_description(description):
    description = description.strip()
    if len(description) > MAX_DESCRIPTION:
        raise ValidationFailed(
            "Please correct the marked fields.",
            {"description": f"Use at most {MAX_DESCRIPTION:,} characters."},
        )
    return description


# Schemas a project may not deploy into: the designer's own and PostgreSQL's.
RESERVED_SCHEMAS = frozenset({"public", "information_schema"})


def schema_problem(value):
    problem = identifier_problem(value, "schema")
    if problem is None and value in RESERVED_SCHEMAS:
        problem = f"“{value}” is not for deployed tables; choose another schema name."
    return problem


def schema_base(name):
    """The target schema a project name suggests (a valid identifier, room left for "_99")."""
    base = suggest_identifier(name, "schema")[: MAX_IDENTIFIER_BYTES - 4].rstrip("_")
    if schema_problem(base):
        base = f"s_{base}"[: MAX_IDENTIFIER_BYTES - 4]
    return base


def schema_candidates(base):
    """base, then base with a random suffix: a counted suffix would tell how many other
    people's projects share the name."""
    yield base
    while True:
        yield f"{base}_{secrets.token_hex(3)}"


def create_project(user, name, description=""):
    """A new project owned by `user`, deploying into a schema named after it that is free.

    Schema names are one namespace across all tenants (reservations, kept ones included), but
    under row-level security a user sees only their own: a name held elsewhere shows up as a
    unique index refusing it, and a random suffix is tried."""
    if user.token_project_id is not None:
        raise Forbidden("This token is for one project: it cannot create projects.")
    changes = clean_project_input(name, description)
    with database.atomic():
        base = schema_base(changes["name"])
        for candidate in schema_candidates(base):
            try:
                with database.atomic():  # a savepoint: a refused name leaves the rest intact
                    project_id = uuid.uuid4()
                    # No RETURNING: the new row is not the user's to read until its first
                    # member (its owner) is added.
                    Project.insert(
                        id=project_id, owner=user, target_schema=candidate, **changes
                    ).returning().execute()
                    ProjectMember.create(project=project_id, user=user, role="owner")
                    reservations.reserve(project_id, candidate)
                break
            except IntegrityError as exc:
                if "target_schema" not in str(exc) and "target_reservation_schema_name" not in str(
                    exc
                ):
                    raise
    return Project.get_by_id(project_id)


def clean_target_schema(granted, value):
    """A new target schema: owners only, a valid free identifier, nothing deployed yet."""
    if not granted.can("owner"):
        raise Forbidden("Only an owner can change where the project deploys.")
    value = str(value or "").strip()
    problem = schema_problem(value)
    if problem:
        raise ValidationFailed(problem, {"target_schema": problem})
    deployed = Deployment.select().where(
        Deployment.project == granted.project.id, Deployment.status == "applied"
    )
    if value != granted.project.target_schema and deployed.exists():
        message = (
            f"Tables are deployed in {granted.project.target_schema}; "
            "the target schema cannot move now."
        )
        raise ValidationFailed(message, {"target_schema": message})
    if value != granted.project.target_schema:
        reservations.move(granted.project, value)
    return value


def update_project(user, project_id, revision, **fields):
    """Rename or describe a project (editor and up), refusing stale revisions."""
    granted = access(user, project_id, "editor")
    changes = clean_project_input(
        fields.get("name", granted.project.name), fields.get("description")
    )
    if "is_active" in fields:
        if not granted.can("owner"):
            raise Forbidden("Only owners may archive or restore a project.")
        changes["is_active"] = bool(fields["is_active"])
    if fields.get("target_schema") not in (None, granted.project.target_schema):
        refuse_branch(granted.project, "choose where it deploys")
        changes["target_schema"] = clean_target_schema(granted, fields["target_schema"])
    if fields.get("approvals_required") not in (None, ""):
        changes["approvals_required"] = clean_approvals(granted, fields["approvals_required"])
    try:
        with recording(granted.project.id, user) as log:
            updated = update_at_revision(Project, granted.project.id, revision, **changes)
            log.add("project.updated", f"edited the project {updated.name}", updated.id)
    except IntegrityError as exc:
        if "project_branch_name" in str(exc):
            message = "Another branch of this project has that name."
            raise ValidationFailed(message, {"name": message}) from exc
        message = reservations.TAKEN
        raise ValidationFailed(message, {"target_schema": message}) from exc
    return updated


MAX_APPROVALS = 10


def clean_approvals(granted, value):
    """How many approvals a merge request needs: owners of main set it, 0 to 10."""
    if not granted.can("owner"):
        raise Forbidden("Only owners choose how many approvals a merge needs.")
    refuse_branch(granted.project, "choose how many approvals a merge needs")
    try:
        number = int(str(value).strip())
    except ValueError:
        number = -1
    if not 0 <= number <= MAX_APPROVALS:
        message = f"Choose a whole number from 0 to {MAX_APPROVALS}."
        raise ValidationFailed(message, {"approvals_required": message})
    return number


SCHEMA_CHOICES = ("drop", "keep")


def has_deployed(project):
    """Whether anything of the project was ever deployed (its Delete then asks about it)."""
    return reservations.has_deployed(project)


def schema_on_delete(project):
    """What deleting the project would leave on the target: (schema, [(table, rows)]), or
    None when nothing of it was ever deployed."""
    if not reservations.has_deployed(project):
        return None
    return project.target_schema, reservations.deployed_rows(project)


def delete_project(user, project_id, schema=None, confirm_name=None):
    """Delete the project. When it deployed tables, `schema` says what becomes of them:
    "drop" (with the project's name typed as `confirm_name`) or "keep" (reserved to its
    owners, who alone may import it again)."""
    granted = access(user, project_id, "owner")
    project = granted.project
    deployed = reservations.has_deployed(project)
    if deployed and schema not in SCHEMA_CHOICES:
        message = (
            f"Tables of this project are deployed in {project.target_schema}: "
            "choose whether to drop that schema with its rows or keep it."
        )
        raise ValidationFailed(message, {"schema": message})
    if deployed and schema == "drop" and (confirm_name or "").strip() != project.name:
        message = "Type the project's name to drop its schema and every row in it."
        raise ValidationFailed(message, {"confirm_name": message})
    with database.atomic():
        reservations.release(project, keep=deployed and schema == "keep")
        project.delete_instance()


def with_names():
    """Memberships with their users' usernames (all the app reads of another user's row)."""
    return ProjectMember.select(ProjectMember, UserName).join(
        UserName, on=(ProjectMember.user == UserName.id), attr="user"
    )


def members_of(project, with_emails=False):
    """Members, owners first, then by username; `with_emails` (for owners), their emails."""
    rows = list(with_names().where(ProjectMember.project == project))
    if with_emails:
        show_emails(project.id, [member.user for member in rows])
    return sorted(rows, key=lambda m: (-ROLE_RANK[m.role], m.user.username.lower()))


def show_emails(project_id, users):
    """Put their emails on members' users: the owner's definer function gives them to the
    project's owners only (migrations/0016)."""
    emails = dict(
        database.execute_sql(
            "SELECT user_id, email FROM rls_member_emails(%s)", (str(project_id),)
        ).fetchall()
    )
    for user in users:
        user.email = emails.get(user.id)


def _checked_role(role):
    if role not in ROLES:
        raise ValidationFailed(
            "Please correct the marked fields.", {"role": f"Choose one of: {', '.join(ROLES)}."}
        )
    return role


def refuse_branch_members(project):
    """A branch's members are its main project's (migration 0052 mirrors them)."""
    if project.branch_of_id is not None:
        raise Conflict("A branch has the members of its main project: change them there.")


def end_locks_everywhere(project, user_id):
    """End a member's locks on the project and on its branches (whose members it mirrors)."""
    locks.end_member_locks(project.id, user_id)
    for (branch_id,) in Project.select(Project.id).where(Project.branch_of == project.id).tuples():
        locks.end_member_locks(branch_id, user_id)


def add_member(actor, project_id, login, role):
    """Add a user (by username or email) to a project; owners only."""
    granted = access(actor, project_id, "owner")
    refuse_branch_members(granted.project)
    role = _checked_role(role)
    user = account_of(login)
    if user is None:
        raise ValidationFailed(
            "Please correct the marked fields.", {"login": "No user has this username or email."}
        )
    try:
        with recording(granted.project.id, actor) as log:
            member = ProjectMember.create(project=granted.project, user=user, role=role)
            log.add("member.added", f"added {user.username} as {role}", user.id)
        show_emails(granted.project.id, [user])
        return member
    except IntegrityError as exc:
        raise ValidationFailed(
            "Please correct the marked fields.",
            {"login": f"{user.username} is already a member."},
        ) from exc


def _membership(project, user_id):
    member = (
        with_names()
        .where(ProjectMember.project == project, ProjectMember.user == parse_id(user_id, "member"))
        .first()
    )
    if member is None:
        raise NotFound("No such member.")
    return member


def _refuse_losing_last_owner(project, member):
    if member.role != "owner":
        return
    owners = (
        ProjectMember.select()
        .where(ProjectMember.project == project, ProjectMember.role == "owner")
        .for_update()
        .count()
    )
    if owners <= 1:
        raise Conflict("A project needs at least one owner; make someone else owner first.")


def change_role(actor, project_id, user_id, role, revision=None):
    granted = access(actor, project_id, "owner")
    refuse_branch_members(granted.project)
    role = _checked_role(role)
    with recording(granted.project.id, actor) as log:
        member = _membership(granted.project, user_id)
        if role != "owner":
            _refuse_losing_last_owner(granted.project, member)
        expected = member.revision if revision is None else revision
        updated = update_at_revision(ProjectMember, member.id, expected, role=role)
        if role == "viewer":
            # Viewers hold no locks: a demoted editor's end now, not a lease later.
            end_locks_everywhere(granted.project, member.user_id)
        log.add("member.role", f"made {member.user.username} {role}", member.user_id)
    updated.user = member.user  # its name, read through the definer (app_user is closed)
    return updated


def remove_member(actor, project_id, user_id):
    granted = access(actor, project_id, "owner")
    refuse_branch_members(granted.project)
    with recording(granted.project.id, actor) as log:
        member = _membership(granted.project, user_id)
        _refuse_losing_last_owner(granted.project, member)
        end_locks_everywhere(granted.project, member.user_id)
        member.delete_instance()
        log.add("member.removed", f"removed {member.user.username}", member.user_id)
