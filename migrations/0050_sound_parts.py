"""Which stored parts the rules of a stored design accept as they are, kept by hash (#27).

An export checks every table by the rules of a stored design before writing it (designer/
interchange/export_repair.py): a version saved before a rule existed may hold what the rules
now refuse, and an export never pastes it. At 30,000 tables that check was more than half of
writing a SQL, DBML or Mermaid file, and a large design's file is written by a child process
(export_apart) that starts with nothing kept. A part's text never changes under its hash, so
a table accepted once is accepted again while the rules are the same: a row here says the
rules whose digest is `rules` accept the part `hash` against the enums whose digest is
`enums` (empty: none). Only acceptance is kept; a table the rules refuse is repaired anew.
Any member may export, so any member's export may write a row (from what it read).
"""

SOUND = """
CREATE TABLE sound_part (
    project_id uuid NOT NULL REFERENCES project (id) ON DELETE CASCADE,
    hash varchar(64) NOT NULL CHECK (hash ~ '^[0-9a-f]{64}$'),
    rules varchar(64) NOT NULL CHECK (rules ~ '^[0-9a-f]{64}$'),
    enums varchar(64) NOT NULL CHECK (enums ~ '^([0-9a-f]{64})?$'),
    PRIMARY KEY (project_id, rules, enums, hash)
)"""


def up(migrator, db):
    db.execute_sql(SOUND)
    db.execute_sql("SELECT rls_protect('sound_part', 'project_id', 'viewer')")


def down(migrator, db):
    db.execute_sql("DROP TABLE sound_part")
