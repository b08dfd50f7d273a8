"""Accounts: sign-up, sign-in and password checks (argon2); API tokens are designer.tokens."""

import contextlib
import re
import secrets
import threading

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError
from argon2.exceptions import VerificationError
from peewee import IntegrityError
from zxcvbn.frequency_lists import FREQUENCY_LISTS

from designer.db import database
from designer.errors import Busy
from designer.errors import ValidationFailed
from designer.models import User
from designer.models import UserName
from designer.rls import acting_for

USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{2,39}")
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
MIN_PASSWORD = 10

# The 30,000 most used passwords, as the zxcvbn package ships them (NIST 800-63B's blocklist).
COMMON_PASSWORDS = frozenset(FREQUENCY_LISTS["passwords"])
# How long a sign-in waits for a free hashing slot before it is told to come back.
HASH_WAIT_SECONDS = 10

hasher = PasswordHasher()
_hashing = threading.BoundedSemaphore(4)
# Checked when a login names no user, so both paths cost one argon2 verify.
_UNUSED_HASH = hasher.hash(secrets.token_hex(16))


def set_hash_cost(time_cost, memory_kib):
    """Tune argon2's cost (tests use a cheap one; hashes stay argon2id)."""
    global hasher, _UNUSED_HASH
    hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=1)
    _UNUSED_HASH = hasher.hash(secrets.token_hex(16))


def limit_concurrent_hashing(slots):
    """At most `slots` password hashes at once, so a flood of sign-ins cannot exhaust memory."""
    global _hashing
    _hashing = threading.BoundedSemaphore(slots)


@contextlib.contextmanager
def hashing_slot():
    """Hold one of the hashing slots; Busy when none frees up in HASH_WAIT_SECONDS."""
    slots = _hashing
    if not slots.acquire(timeout=HASH_WAIT_SECONDS):
        raise Busy("Too many sign-ins at once. Try again in a moment.")
    try:
        yield
    finally:
        slots.release()


def password_problem(password, username, email):
    """Why a new password is refused (NIST 800-63B: length, blocklist, context), or None."""
    if len(password) < MIN_PASSWORD:
        return f"Use at least {MIN_PASSWORD} characters."
    if len(password) > 1024:
        return "Use at most 1024 characters."
    folded = password.strip().lower()
    if folded in COMMON_PASSWORDS:
        return "This is one of the most used passwords; choose another."
    if folded in (username.lower(), email.lower(), email.lower().split("@")[0]):
        return "Do not use your username or email address as the password."
    return None


def signup_problems(username, email, password):
    problems = {}  # field -> message
    if not USERNAME.fullmatch(username):
        problems["username"] = (
            "Use 3 to 40 letters, digits, dots, dashes or underscores, "
            "starting with a letter or digit."
        )
    if len(email) > 254 or not EMAIL.fullmatch(email):
        problems["email"] = "Enter an email address like name@example.com."
    problem = password_problem(password, username, email)
    if problem:
        problems["password"] = problem
    # Both at once, so nobody fixes one field only to be told about the other.
    username_taken, email_taken = database.execute_sql(
        "SELECT username_taken, email_taken FROM rls_logins_taken(%s, %s)", (username, email)
    ).fetchone()
    if username_taken:
        problems.setdefault("username", "This username is already taken.")
    if email_taken:
        problems.setdefault("email", "This email is already taken.")
    return problems


def create_user(username, email, password):
    """A new active user; ValidationFailed names each field that is wrong or taken."""
    username, email = username.strip(), email.strip().lower()
    problems = signup_problems(username, email, password)
    if problems:
        raise ValidationFailed("Please correct the marked fields.", problems)
    try:
        with hashing_slot():
            password_hash = hasher.hash(password)
        with database.atomic():
            user_id = database.execute_sql(
                "SELECT rls_sign_up(%s, %s, %s)", (username, email, password_hash)
            ).fetchone()[0]
    except IntegrityError as exc:
        field = "email" if "email" in str(exc) else "username"
        raise ValidationFailed(
            "Please correct the marked fields.", {field: f"This {field} is already taken."}
        ) from exc
    return User(id=user_id, username=username, email=email, is_active=True, session_epoch=1)


def account_of(login):
    """The account a login (username or email, any case) names, as its id and username;
    None when there is none. Any user's: the app role reads no other row of app_user."""
    row = database.execute_sql(
        "SELECT user_id, username FROM rls_account_of(%s)", (login or "",)
    ).fetchone()
    return UserName(id=row[0], username=row[1]) if row else None


def authenticate(login, password):
    """The active user with these credentials, or None."""
    found = database.execute_sql(
        "SELECT user_id, password_hash, session_epoch FROM rls_sign_in(%s)", (login or "",)
    ).fetchone()
    user_id, password_hash, session_epoch = found or (None, _UNUSED_HASH, None)
    try:
        with hashing_slot():
            hasher.verify(password_hash, password or "")
    except (VerificationError, InvalidHashError):
        return None
    if found is None:
        return None
    if hasher.check_needs_rehash(password_hash):
        with hashing_slot():
            rehashed = hasher.hash(password)
        with acting_for(user_id):  # the user's own row, the only one the app may update
            User.update(password_hash=rehashed).where(User.id == user_id).execute()
    return User(id=user_id, is_active=True, session_epoch=session_epoch)


def end_sessions(user):
    """Sign the user out everywhere: every session carrying the old epoch stops working."""
    (User.update(session_epoch=User.session_epoch + 1).where(User.id == user.id).execute())
