"""Table locks: acquire, heartbeat, release, force, expiry, and the write check.

PostgreSQL keeps a table to one active lock (a unique index over unreleased
rows), so two acquirers can never both win, whatever process they run in. A
lock whose expires_at has passed counts as free at once: acquiring first marks
such rows expired, in the same transaction as the insert.
"""

import contextlib
import re
import uuid

from peewee import JOIN
from peewee import SQL
from peewee import fn

from designer.db import PreparedStatement
from designer.db import database
from designer.db import parse_id
from designer.errors import Conflict
from designer.errors import Locked
from designer.errors import NotFound
from designer.models import LOCK_TYPES
from designer.models import DataTable
from designer.models import TableLock
from designer.models import UserName
from designer.settings import settings

LEVEL = {lock_type: level for level, lock_type in enumerate(LOCK_TYPES)}
ACTIVE = (TableLock.released_at.is_null()) & (TableLock.expires_at > SQL("now()"))


def lease_seconds(lock_type):
    """An edit form's optimistic lock lasts as long as the person's work in it: it is
    renewed up to their last input plus the idle time. Other locks last a whole lease."""
    if lock_type == "optimistic":
        return settings.lock_edit_idle_seconds
    return settings.lock_lease_seconds


def lease(lock_type):
    return SQL("now() + make_interval(secs => %s)", (lease_seconds(lock_type),))


def a_lock(lock_type):
    """“an optimistic lock”, “a critical lock”."""
    article = "an" if lock_type[0] in "aeiou" else "a"
    return f"{article} {lock_type} lock"


def describe(lock):
    """“alice holds a pessimistic lock (reason) until 12:30:05 UTC”."""
    reason = f" ({lock.reason})" if lock.reason else ""
    until = lock.expires_at.strftime("%H:%M:%S UTC")
    return f"{lock.user.username} holds {a_lock(lock.lock_type)}{reason} until {until}"


def active_lock(table_id):
    """The table's live lock with its holder, or None."""
    return (
        TableLock.select(TableLock, UserName)
        .join(UserName, on=(TableLock.user == UserName.id), attr="user")
        .where(TableLock.data_table == table_id, ACTIVE)
        .first()
    )


def expire_stale(table_id=None):
    """Record locks past their expiry as expired; returns how many.

    One table's (its editor's acquire) as the request's user; every project's (the sweep,
    acting for no user) through rls_expire_locks, the owner's definer function.
    """
    if table_id is None:
        return database.execute_sql("SELECT rls_expire_locks()").fetchone()[0]
    return (
        TableLock.update(released_at=SQL("now()"), end_reason="expired")
        .where(
            TableLock.released_at.is_null(),
            TableLock.expires_at <= SQL("now()"),
            TableLock.data_table == table_id,
        )
        .execute()
    )


def acquire(table_id, user, lock_type, reason=""):
    """Take (or upgrade to) a lock on a table; Locked when someone else holds one.

    The lock returned says whether this call created it (`created`), as
    opposed to finding the caller's own lock already there.
    """
    if lock_type not in LOCK_TYPES:
        raise Conflict(f"Unknown lock type “{lock_type}”; use one of {', '.join(LOCK_TYPES)}.")
    reason = (reason or "").strip()[:500]
    with database.atomic():
        # Waits for writes in flight on this table (they hold its row, see
        # require_write), so none can pass its check and then land under the lock.
        database.execute_sql("SELECT 1 FROM data_table WHERE id = %s FOR UPDATE", (table_id,))
        expire_stale(table_id)
        current = active_lock(table_id)
        if current is not None:
            return _keep_or_upgrade(current, user, lock_type, reason)
        inserted = database.execute_sql(
            "INSERT INTO table_lock (table_id, user_id, lock_token, lock_type, reason, expires_at)"
            " VALUES (%s, %s, %s, %s, %s, now() + make_interval(secs => %s))"
            " ON CONFLICT (table_id) WHERE released_at IS NULL DO NOTHING RETURNING id",
            (table_id, user.id, uuid.uuid4(), lock_type, reason, lease_seconds(lock_type)),
        ).fetchone()
    if inserted is None:
        # Another acquirer committed between our look and our insert.
        winner = active_lock(table_id)
        raise Locked(describe(winner) if winner else "Someone else just locked this table.")
    lock = active_lock(table_id)
    lock.created = True
    return lock


def _keep_or_upgrade(current, user, lock_type, reason):
    if current.user_id != user.id:
        raise Locked(describe(current), lock=current)
    if LEVEL[lock_type] > LEVEL[current.lock_type]:
        TableLock.update(
            lock_type=lock_type, reason=reason or current.reason, expires_at=lease(lock_type)
        ).where(TableLock.id == current.id).execute()
    else:
        # Asking again is work on the table (another edit form opened): a fresh lease.
        TableLock.update(
            expires_at=fn.GREATEST(TableLock.expires_at, lease(current.lock_type))
        ).where(TableLock.id == current.id).execute()
    current = active_lock(current.table_id)
    current.created = False
    return current


# The hottest statement of the app (every open page of every holder beats), so it
# is fixed SQL, prepared once per connection (see heartbeat), and the holder and membership
# checks ride inside it (the lock's own project_id: no join through data_table, whose policy
# would add a look-up).
# An optimistic lock is renewed up to the holder's last input plus the idle time (its own
# lease, %s first); any other by a whole lease. Never shortened: another tab of the same
# holder may have reported later input.
# The id a page's script gives itself (static/js/app.js), as table_lock.left_page holds it.
PAGE_ID = re.compile(r"[a-z0-9]{1,40}")

HEARTBEAT = (
    "UPDATE table_lock SET expires_at = greatest(expires_at, now() + make_interval(secs =>"
    " CASE WHEN lock_type = 'optimistic' THEN %s ELSE %s END)), heartbeat_at = now(),"
    " left_page = NULL"
    " WHERE lock_token = %s AND user_id = %s AND table_id = coalesce(%s, table_id)"
    " AND released_at IS NULL AND expires_at > now()"
    # A beat the page sent before its leave beacon, landing after it, renews nothing.
    " AND (left_page IS NULL OR left_page IS DISTINCT FROM %s)"
    " AND EXISTS (SELECT 1 FROM project_member m WHERE m.project_id = table_lock.project_id"
    " AND m.user_id = %s AND m.role IN ('editor', 'owner'))"
    " RETURNING id, table_id, lock_type, reason, locked_at, expires_at, heartbeat_at"
)
HEARTBEAT_COLUMNS = (
    "id",
    "table_id",
    "lock_type",
    "reason",
    "locked_at",
    "expires_at",
    "heartbeat_at",
)


# Parsing the statement and planning table_lock's policies into it cost PostgreSQL about
# as much again as running it; prepared, each connection plans it once.
PREPARED_HEARTBEAT = PreparedStatement(
    "lock_heartbeat",
    HEARTBEAT,
    ("double precision", "double precision", "uuid", "uuid", "uuid", "text", "uuid"),
)


def heartbeat(token, user, table_id=None, idle_for=0.0, page=None):
    """Extend the holder's lease by one statement; Conflict when the lock is gone.

    `idle_for`: seconds since the holder's last input, as their page reports it (an API
    client reports none: its call is the work). `page`: the open page that sends it (see
    `leave`); a page that has left renews nothing.
    """
    token = parse_id(token, "lock")
    edit_lease = max(settings.lock_edit_idle_seconds - idle_for, 0.0)
    page = page_id(page)
    params = (edit_lease, settings.lock_lease_seconds, token, user.id, table_id, page, user.id)
    row = PREPARED_HEARTBEAT.execute(params).fetchone()
    if row is None:
        raise Conflict(lost_message(token))
    lock = TableLock(lock_token=token, user=user, **dict(zip(HEARTBEAT_COLUMNS, row, strict=True)))
    lock.user = user
    return lock


def page_id(page):
    """An open page's id as its script made it (letters and digits), or None."""
    return page if isinstance(page, str) and PAGE_ID.fullmatch(page) else None


def leave(token, user, table_id, page=None):
    """The holder's page is gone: cut the lease to a short grace.

    A reload (or another tab of the same user, which renews it at once) keeps
    the lock; otherwise it ends within the grace instead of a whole lease. The
    page is remembered: a heartbeat it sent before closing that lands after
    this renews nothing (one from another page of the holder does, and clears it).
    """
    token = parse_id(token, "lock")
    return (
        TableLock.update(
            expires_at=fn.LEAST(
                TableLock.expires_at,
                SQL("now() + make_interval(secs => %s)", (settings.lock_leave_grace_seconds,)),
            ),
            left_page=page_id(page),
        )
        .where(
            TableLock.lock_token == token,
            TableLock.user == user.id,
            TableLock.data_table == table_id,
            ACTIVE,
        )
        .execute()
    )


def release(token, user, quietly=False):
    """End the holder's lock (quietly: without complaint when it is already gone)."""
    token = parse_id(token, "lock")
    ended = (
        TableLock.update(released_at=SQL("now()"), end_reason="released")
        .where(
            TableLock.lock_token == token,
            TableLock.user == user.id,
            TableLock.released_at.is_null(),
        )
        .execute()
    )
    if not ended and not quietly:
        raise NotFound("You hold no such lock.")


def release_if_optimistic(token, user):
    """Release the user's lock if it is an optimistic one (a closed edit form's).

    Returns whether the token is spent now: released here, or ended before.
    """
    token = parse_id(token, "lock")
    released = (
        TableLock.update(released_at=SQL("now()"), end_reason="released")
        .where(
            TableLock.lock_token == token,
            TableLock.user == user.id,
            TableLock.lock_type == "optimistic",
            TableLock.released_at.is_null(),
        )
        .execute()
    )
    return (
        bool(released)
        or not TableLock.select().where(TableLock.lock_token == token, ACTIVE).exists()
    )


def release_idle_edit(token, user):
    """End the user's optimistic lock because its edit form went idle; whether it did.

    Recorded as released by the user (their own page ended it), so it is not reported
    as lost: the form says so itself, and keeps what was typed.
    """
    token = parse_id(token, "lock")
    return bool(
        TableLock.update(released_at=SQL("now()"), end_reason="released")
        .where(
            TableLock.lock_token == token,
            TableLock.user == user.id,
            TableLock.lock_type == "optimistic",
            ACTIVE,
        )
        .execute()
    )


def force_release(table_id):
    """End whatever lock a table has (the caller checked the owner role); False if none."""
    ended = (
        TableLock.update(released_at=SQL("now()"), end_reason="forced")
        .where(TableLock.data_table == table_id, TableLock.released_at.is_null())
        .execute()
    )
    return bool(ended)


def end_member_locks(project_id, user_id):
    """End a removed member's locks on the project's tables (recorded as forced)."""
    tables = DataTable.select(DataTable.id).where(DataTable.project == project_id)
    return (
        TableLock.update(released_at=SQL("now()"), end_reason="forced")
        .where(
            TableLock.user == user_id,
            TableLock.released_at.is_null(),
            TableLock.data_table.in_(tables),
        )
        .execute()
    )


def is_token(value):
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def released_by(token, user):
    """Whether this token's lock ended with nothing for the user to learn: released by
    them, or an edit form's optimistic lock that lapsed while the form was idle (the
    revision of what they save still guards it)."""
    lock = TableLock.get_or_none(TableLock.lock_token == parse_id(token, "lock"))
    if lock is None or lock.user_id != user.id:
        return False
    return lock.end_reason == "released" or (
        lock.lock_type == "optimistic" and lock.end_reason != "forced"
    )


def lost_message(token):
    lock = TableLock.get_or_none(TableLock.lock_token == token)
    if lock is None:
        return "No such lock."
    if lock.end_reason == "forced":
        return "Your lock on this table was released by a project owner."
    if lock.end_reason == "released":
        return "You released this lock."
    return "Your lock on this table expired."


def refuse_others(table_id, user):
    """Locked when someone else holds the table (checked before opening an edit form)."""
    current = active_lock(table_id)
    if current is not None and current.user_id != user.id:
        raise Locked(describe(current) + ".", lock=current)


def require_write(table_id, user, token=None, critical=False):
    """Refuse a write the table's lock does not allow (423), or a breaking change without
    a critical lock held by this user.

    Inside the write's transaction it holds the table's row until the write
    commits, so an acquire (which takes the row FOR UPDATE) waits for it.
    """
    database.execute_sql(
        "SELECT 1 FROM data_table WHERE id = %s FOR NO KEY UPDATE", (str(table_id),)
    )
    current = active_lock(table_id)
    if token and not is_token(token):
        raise Locked("That lock token is not a lock token (a UUID). Nothing was saved.")
    if token and (current is None or str(current.lock_token) != str(token)):
        if not released_by(token, user):
            # Expired or forced: the holder must learn their lock is gone.
            raise Locked(
                lost_message(parse_id(token, "lock")) + " Nothing was saved.",
                lost_table=str(table_id),
            )
        token = None
    if current is not None and current.user_id != user.id:
        raise Locked(describe(current) + ". Nothing was saved.", lock=current)
    if current is not None and not token:
        raise Locked("You hold a lock on this table; send its token (X-Lock-Token).")
    if critical and (current is None or current.lock_type != "critical"):
        raise Locked(
            "This is a breaking change: take a critical lock on the table first.",
            needs_critical=True,
        )
    return current


@contextlib.contextmanager
def critical_lock(table_id, user):
    """A critical lock token for one breaking change the user has confirmed.

    The user's own lock is upgraded for the change and then returned to its
    type (an edit form's optimistic lock must not stay critical); a lock taken
    only for this change is released afterwards. Someone else's lock refuses
    it (423).
    """
    current = active_lock(table_id)
    kept = current is not None and current.user_id == user.id
    lock = acquire(table_id, user, "critical", reason="breaking change")
    try:
        yield lock.lock_token
    finally:
        if not kept:
            # The change may have deleted the table, and its locks with it.
            release(lock.lock_token, user, quietly=True)
        elif current.lock_type != "critical":
            TableLock.update(
                lock_type=current.lock_type,
                reason=current.reason,
                expires_at=lease(current.lock_type),
            ).where(TableLock.id == lock.id, TableLock.released_at.is_null()).execute()


def history(table_id, limit=20):
    return list(
        TableLock.select(TableLock, UserName)
        .join(UserName, JOIN.LEFT_OUTER, on=(TableLock.user == UserName.id), attr="user")
        .where(TableLock.data_table == table_id)
        .order_by(TableLock.locked_at.desc())
        .limit(limit)
    )
