"""API tokens: issued (shown once, stored as a digest), looked up on every API request, revoked."""

import datetime
import hashlib
import secrets

from designer.db import PreparedStatement
from designer.db import utcnow
from designer.errors import NotFound
from designer.errors import ValidationFailed
from designer.models import ApiToken
from designer.models import User

TOKEN_PREFIX = "dmd_"
# Recording every API call's time would add a write to each request.
TOKEN_TOUCH_SECONDS = 60


def _digest(token):
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


TOKEN_LIFETIMES = (7, 30, 90, 365)


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


def issue_token(user, name="", expires_in_days=None):
    """A new API token: the plaintext (shown once) and its stored row."""
    expires_at = token_expiry(expires_in_days)
    plaintext = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken.create(
        user=user, name=name.strip()[:100], token_hash=_digest(plaintext), expires_at=expires_at
    )
    return plaintext, row


# Every API request runs this, so it is one fixed statement (prepared per connection) rather
# than a built query. It acts for no user yet (rls_token_owner, a definer function, reads the
# token), and once the owner is found it makes the connection act for them (designer.rls), in
# the same round trip.
TOKEN_OWNER = (
    "SELECT token_id, last_used_at, user_id, username, email,"
    " set_config('designer.user_id', user_id::text, false) FROM rls_token_owner(%s)"
)
TOKEN_OWNER_PREPARED = PreparedStatement("token_owner", TOKEN_OWNER, ("text",))


def user_for_token(plaintext):
    """The active user owning this unrevoked token, or None. When found, the connection acts
    for them from now on (the caller clears that at the end of its request)."""
    if not plaintext or not plaintext.startswith(TOKEN_PREFIX):
        return None
    row = TOKEN_OWNER_PREPARED.execute((_digest(plaintext),)).fetchone()
    if row is None:
        return None
    token_id, last_used_at, user_id, username, email, _ = row
    now = utcnow()
    if last_used_at is None or (now - last_used_at).total_seconds() > TOKEN_TOUCH_SECONDS:
        ApiToken.update(last_used_at=now).where(ApiToken.id == token_id).execute()
    return User(id=user_id, username=username, email=email, is_active=True)


def tokens_of(user):
    return list(
        ApiToken.select()
        .where(ApiToken.user == user, ApiToken.revoked_at.is_null())
        .order_by(ApiToken.created_at.desc())
    )


def revoke_token(user, token_id):
    revoked = (
        ApiToken.update(revoked_at=utcnow())
        .where(ApiToken.id == token_id, ApiToken.user == user, ApiToken.revoked_at.is_null())
        .execute()
    )
    if not revoked:
        raise NotFound("No such token.")
