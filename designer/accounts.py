"""Accounts: sign-up, sign-in and password checks (argon2); API tokens are designer.tokens."""

import contextlib
import re
import secrets
import threading

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError
from argon2.exceptions import VerificationError
from peewee import IntegrityError
from peewee import fn
from zxcvbn.frequency_lists import FREQUENCY_LISTS

from designer.db import database
from designer.errors import Busy
from designer.errors import ValidationFailed
from designer.models import User

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
    for user in User.select(User.username, User.email).where(
        (fn.lower(User.username) == username.lower()) | (User.email == email)
    ):
        if user.username.lower() == username.lower():
            problems.setdefault("username", "This username is already taken.")
        if user.email == email:
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
            return User.create(username=username, email=email, password_hash=password_hash)
    except IntegrityError as exc:
        field = "email" if "email" in str(exc) else "username"
        raise ValidationFailed(
            "Please correct the marked fields.", {field: f"This {field} is already taken."}
        ) from exc


def authenticate(login, password):
    """The active user with these credentials, or None."""
    user = User.by_login(login or "")
    try:
        with hashing_slot():
            hasher.verify(user.password_hash if user else _UNUSED_HASH, password or "")
    except (VerificationError, InvalidHashError):
        return None
    if user is None or not user.is_active:
        return None
    if hasher.check_needs_rehash(user.password_hash):
        with hashing_slot():
            user.password_hash = hasher.hash(password)
        user.save(only=[User.password_hash])
    return user


def end_sessions(user):
    """Sign the user out everywhere: every session carrying the old epoch stops working."""
    (User.update(session_epoch=User.session_epoch + 1).where(User.id == user.id).execute())
