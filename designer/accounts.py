"""Accounts: sign-up, password checks (argon2) and API tokens."""

import hashlib
import re
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError
from argon2.exceptions import VerificationError
from peewee import IntegrityError

from designer.db import database
from designer.db import utcnow
from designer.errors import NotFound
from designer.errors import ValidationFailed
from designer.models import ApiToken
from designer.models import User

USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{2,39}")
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
MIN_PASSWORD = 10
TOKEN_PREFIX = "dmd_"
# Recording every API call's time would add a write to each request.
TOKEN_TOUCH_SECONDS = 60

hasher = PasswordHasher()
# Checked when a login names no user, so both paths cost one argon2 verify.
_UNUSED_HASH = hasher.hash(secrets.token_hex(16))


def set_hash_cost(time_cost, memory_kib):
    """Tune argon2's cost (tests use a cheap one; hashes stay argon2id)."""
    global hasher, _UNUSED_HASH
    hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=1)
    _UNUSED_HASH = hasher.hash(secrets.token_hex(16))


def signup_problems(username, email, password):
    problems = {}  # field -> message
    if not USERNAME.fullmatch(username):
        problems["username"] = (
            "Use 3 to 40 letters, digits, dots, dashes or underscores, "
            "starting with a letter or digit."
        )
    if len(email) > 254 or not EMAIL.fullmatch(email):
        problems["email"] = "Enter an email address like name@example.com."
    if len(password) < MIN_PASSWORD:
        problems["password"] = f"Use at least {MIN_PASSWORD} characters."
    elif len(password) > 1024:
        problems["password"] = "Use at most 1024 characters."
    return problems


def create_user(username, email, password):
    """A new active user; ValidationFailed names each field that is wrong or taken."""
    username, email = username.strip(), email.strip().lower()
    problems = signup_problems(username, email, password)
    if problems:
        raise ValidationFailed("Please correct the marked fields.", problems)
    try:
        with database.atomic():
            return User.create(username=username, email=email, password_hash=hasher.hash(password))
    except IntegrityError as exc:
        field = "email" if "email" in str(exc) else "username"
        raise ValidationFailed(
            "Please correct the marked fields.", {field: f"This {field} is already taken."}
        ) from exc


def authenticate(login, password):
    """The active user with these credentials, or None."""
    user = User.by_login(login or "")
    try:
        hasher.verify(user.password_hash if user else _UNUSED_HASH, password or "")
    except (VerificationError, InvalidHashError):
        return None
    if user is None or not user.is_active:
        return None
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hasher.hash(password)
        user.save(only=[User.password_hash])
    return user


def _digest(token):
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_token(user, name=""):
    """A new API token: the plaintext (shown once) and its stored row."""
    plaintext = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken.create(user=user, name=name.strip()[:100], token_hash=_digest(plaintext))
    return plaintext, row


# Every API request runs this, so it is one fixed statement rather than a built query.
TOKEN_OWNER = (
    "SELECT t.id, t.last_used_at, u.id, u.username, u.email FROM api_token t"
    " JOIN app_user u ON u.id = t.user_id"
    " WHERE t.token_hash = %s AND t.revoked_at IS NULL AND u.is_active"
)


def user_for_token(plaintext):
    """The active user owning this unrevoked token, or None."""
    if not plaintext or not plaintext.startswith(TOKEN_PREFIX):
        return None
    row = database.execute_sql(TOKEN_OWNER, (_digest(plaintext),)).fetchone()
    if row is None:
        return None
    token_id, last_used_at, user_id, username, email = row
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
