"""API tokens: issued (shown once, stored as a digest), looked up on every API request, revoked."""

import datetime
import hashlib
import secrets

from peewee import JOIN
from peewee import fn

from designer.db import PreparedStatement
from designer.db import parse_id
from designer.db import utcnow
from designer.errors import NotFound
from designer.errors import ValidationFailed
from designer.models import ApiToken
from designer.models import Project
from designer.models import ProjectMember
from designer.models import User

TOKEN_PREFIX = "dmd_"
# Recording every API call's time would add a write to each request.
TOKEN_TOUCH_SECONDS = 60


def _digest(token):
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


TOKEN_LIFETIMES = (7, 30, 90, 365)
DEFAULT_LIFETIME = 90
MAX_NAME = 100


def token_expiry(days):
    """When a token given `days` to live expires (None or "" for never); ValidationFailed else."""
    if days in (None, ""):
        return None
    if isinstance(days, bool) or str(days) not in {str(d) for d in TOKEN_LIFETIMES}:
        choices = ", ".join(str(d) for d in TOKEN_LIFETIMES)
        raise ValidationFailed(
            "Choose how long the token lives.", {"expires_in_days": f"One of {choices}, or none."}
        )
    return utcnow() + datetime.timedelta(days=int(days))


def checked_name(name):
    name = (name or "").strip()
    if not name:
        problem = "Name the token after what uses it, e.g. CI script."
    elif len(name) > MAX_NAME:
        problem = f"Use at most {MAX_NAME} characters."
    else:
        return name
    raise ValidationFailed("Please correct the marked fields.", {"name": problem})


def checked_project(user, project_id):
    """The project a token is limited to (None: all), which must be one of the user's."""
    if project_id in (None, ""):
        return None
    refused = ValidationFailed(
        "Please correct the marked fields.", {"project_id": "Choose one of your projects."}
    )
    try:
        project_id = parse_id(project_id, "project")
    except NotFound:
        raise refused from None
    membership = ProjectMember.select().where(
        ProjectMember.project == project_id, ProjectMember.user == user.id
    )
    if not membership.exists():
        raise refused
    return project_id


def issue_token(user, name, expires_in_days=DEFAULT_LIFETIME, read_only=False, project_id=None):
    """A new API token: the plaintext (shown once) and its stored row. A read-only token
    only reads; a token for one project reaches no other (the database holds it to both)."""
    row = {
        "name": checked_name(name),
        "expires_at": token_expiry(expires_in_days),
        "read_only": bool(read_only),
        "project": checked_project(user, project_id),
    }
    plaintext = TOKEN_PREFIX + secrets.token_urlsafe(32)
    return plaintext, ApiToken.create(user=user, token_hash=_digest(plaintext), **row)


# Every API request runs this, so it is one fixed statement (prepared per connection) rather
# than a built query. It acts for no user yet (rls_token_owner, a definer function, reads the
# token), and once the owner is found it makes the connection act for them within the
# token's scope (designer.rls, migrations/0016), in the same round trip.
TOKEN_OWNER = (
    "SELECT token_id, last_used_at, user_id, username, email, read_only, project_id,"
    " set_config('designer.user_id', user_id::text, false),"
    " set_config('designer.token_project', coalesce(project_id::text, ''), false),"
    " set_config('designer.read_only', CASE WHEN read_only THEN 'on' ELSE '' END, false)"
    " FROM rls_token_owner(%s)"
)
TOKEN_OWNER_PREPARED = PreparedStatement("token_owner", TOKEN_OWNER, ("text",))


def user_for_token(plaintext):
    """The active user owning this unrevoked token, carrying its scope; or None. When found,
    the connection acts for them from now on (the caller clears that at the end of its
    request)."""
    if not plaintext or not plaintext.startswith(TOKEN_PREFIX):
        return None
    row = TOKEN_OWNER_PREPARED.execute((_digest(plaintext),)).fetchone()
    if row is None:
        return None
    token_id, last_used_at, user_id, username, email, read_only, project_id = row[:7]
    now = utcnow()
    if last_used_at is None or (now - last_used_at).total_seconds() > TOKEN_TOUCH_SECONDS:
        ApiToken.update(last_used_at=now).where(ApiToken.id == token_id).execute()
    user = User(id=user_id, username=username, email=email, is_active=True)
    user.token_read_only, user.token_project_id = read_only, project_id
    user.token_id = token_id
    return user


def manageable(user):
    """The condition on ApiToken rows this user may list and revoke: all of theirs, except
    through a token limited to one project, which manages only itself (it must not see or
    revoke the tokens its owner made for other projects)."""
    condition = (ApiToken.user == user) & ApiToken.revoked_at.is_null()
    if getattr(user, "token_project_id", None) is not None:
        condition &= ApiToken.id == user.token_id
    return condition


def tokens_of(user):
    """The user's unrevoked tokens, newest first, each with `project_name` (None: all
    projects, "" when the user no longer sees that project)."""
    project_name = fn.coalesce(Project.name, "").alias("project_name")
    return list(
        ApiToken.select(ApiToken, project_name)
        .join(Project, JOIN.LEFT_OUTER, on=(ApiToken.project == Project.id))
        .where(manageable(user))
        .order_by(ApiToken.created_at.desc())
        .objects()
    )


def scope_words(token):
    """“read-only · project Shop”, “read and write · all projects”."""
    access = "read-only" if token.read_only else "read and write"
    if token.project_id is None:
        return f"{access} · all projects"
    return f"{access} · project {token.project_name or '(no longer yours)'}"


def revoke_token(user, token_id):
    revoked = (
        ApiToken.update(revoked_at=utcnow())
        .where(manageable(user), ApiToken.id == token_id)
        .execute()
    )
    if not revoked:
        raise NotFound("No such token.")


def revoke_all(user):
    """Revoke every token of the user; returns how many there were."""
    return (
        ApiToken.update(revoked_at=utcnow())
        .where(ApiToken.user == user, ApiToken.revoked_at.is_null())
        .execute()
    )
