"""The tables the rules of a stored design accepted, kept in PostgreSQL by hash (#27).

An export checks every table before writing it (export_repair.sound_design). A part's text
never changes under its hash, so once the rules accept a table they accept it again, as
long as they are the same rules: each row of sound_part (migration 0050) names the rules by
RULES, a digest of the source of every module they are made of, so a server running other
rules (another release) finds none of these rows and checks everything again. Kept in
PostgreSQL, not in a worker: a large design's file is written by a child process that
starts with nothing (export_apart), and every app server shares the rows.
"""

import hashlib
import logging
import pathlib

from designer.db import database

# The modules the rules of a stored design are made of: the design package (rules, types,
# keys, structure, naming) and the repairs and snapshot format an export reads.
HERE = pathlib.Path(__file__).resolve().parent
RULE_SOURCES = sorted(
    [*(HERE.parent / "design").glob("*.py"), HERE / "export_repair.py",
     HERE.parent / "history" / "snapshot.py"]
)  # fmt: skip


def rules_digest(paths=RULE_SOURCES):
    whole = hashlib.sha256()
    for path in paths:
        whole.update(path.name.encode("utf-8") + b"\0" + path.read_bytes() + b"\0")
    return whole.hexdigest()


RULES = rules_digest()

ACCEPTED = """
SELECT hash FROM sound_part
WHERE project_id = %s AND rules = %s AND enums = %s AND hash = ANY (%s::text[])
"""
REMEMBER = """
INSERT INTO sound_part (project_id, rules, enums, hash)
SELECT %s, %s, %s, unnest(%s::text[])
ON CONFLICT DO NOTHING
"""
# Rows of other rules are of no use to this server: gone when it remembers anything.
FORGET_OTHER_RULES = "DELETE FROM sound_part WHERE project_id = %s AND rules <> %s"


class KnownSound:
    """What one project's export asks and tells (export_repair.sound_design's `known`)."""

    def __init__(self, project_id, rules=RULES):
        self.project, self.rules = str(project_id), rules

    def accepted(self, hashes, enums_key):
        if not hashes:
            return set()
        values = (self.project, self.rules, enums_key, sorted(hashes))
        return {hashed for (hashed,) in database.execute_sql(ACCEPTED, values)}

    def remember(self, hashes, enums_key):
        """Keep the hashes (an export that cannot, a read-only token's, is written all the
        same: its tables are checked again next time)."""
        try:
            with database.atomic():
                database.execute_sql(FORGET_OTHER_RULES, (self.project, self.rules))
                values = (self.project, self.rules, enums_key, sorted(hashes))
                database.execute_sql(REMEMBER, values)
        except Exception:
            logging.getLogger(__name__).warning("accepted tables could not be kept", exc_info=True)
