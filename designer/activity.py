"""The project activity feed, written in the same transaction as the change it records."""

import contextlib

from peewee import JOIN

from designer.db import database
from designer.models import ActivityEntry
from designer.models import UserName
from designer.settings import settings


class ChangeLog:
    """Entries gathered while a change runs, inserted together when it commits."""

    def __init__(self, project_id, user):
        self.project_id = project_id
        self.user = user
        self.entries = []

    def add(self, action, summary, subject_id=None):
        self.entries.append(
            {
                "project": self.project_id,
                "user": self.user.id if self.user else None,
                "action": action,
                "summary": summary,
                "subject_id": subject_id,
            }
        )


@contextlib.contextmanager
def recording(project_id, user):
    """A transaction whose ChangeLog is written by one INSERT before it commits."""
    with database.atomic():
        log = ChangeLog(project_id, user)
        yield log
        if log.entries:
            ActivityEntry.insert_many(log.entries).execute()
            rotate(project_id)


def rotate(project_id, keep=None):
    """Drop a project's entries beyond the newest `keep`. Through the owner's definer function
    (migrations/0016): the app role itself may only add entries, never delete them."""
    keep = settings.activity_keep if keep is None else keep
    database.execute_sql("SELECT rls_rotate_activity(%s, %s)", (str(project_id), keep))


def recent(project_id, limit=15):
    return list(
        ActivityEntry.select(ActivityEntry, UserName)
        .join(
            UserName,
            on=(ActivityEntry.user == UserName.id),
            join_type=JOIN.LEFT_OUTER,
            attr="user",
        )
        .where(ActivityEntry.project == project_id)
        .order_by(ActivityEntry.created_at.desc())
        .limit(limit)
    )
