"""Downloaded files kept in PostgreSQL, compressed, so a repeat download reads them (#27).

An export at 30,000 tables is some 50 MB of text: writing it takes seconds, and holding it
in every worker's memory took hundreds of megabytes each. A file is stored once, under the
sha256 of what it is made of (designer.interchange.downloads: a version's hash or the
working copy's change stamp, the format, the target schema, the file's name), as gzip
members of at most a megabyte of text each (concatenated members are one gzip stream), and
streamed from here member by member: gzip as it is to a client that accepts it, unpacked
member by member to one that does not. Every app server shares the files.

`slot` names what a file is a copy of (a format of the working copy, a deployment's SQL):
a newer file of the same slot replaces an older one. Any member may download, so any
member may write a file: its rows are made from what the member reads.
"""

FILES = """
CREATE TABLE export_file (
    project_id uuid NOT NULL REFERENCES project (id) ON DELETE CASCADE,
    key varchar(64) NOT NULL,
    slot varchar(64) NOT NULL,
    -- Bytes of the file's text, and of its gzip members together; their count.
    raw_size bigint NOT NULL CHECK (raw_size >= 0),
    gzip_size bigint NOT NULL CHECK (gzip_size >= 0),
    members integer NOT NULL CHECK (members >= 0),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (project_id, key)
)"""

MEMBERS = """
CREATE TABLE export_member (
    project_id uuid NOT NULL,
    key varchar(64) NOT NULL,
    position integer NOT NULL,
    -- One gzip member (compressed already: stored as it is, not compressed again).
    body bytea NOT NULL,
    PRIMARY KEY (project_id, key, position),
    FOREIGN KEY (project_id, key) REFERENCES export_file (project_id, key) ON DELETE CASCADE
)"""


def up(migrator, db):
    db.execute_sql(FILES)
    db.execute_sql("CREATE INDEX export_file_slot ON export_file (project_id, slot)")
    db.execute_sql(MEMBERS)
    db.execute_sql("ALTER TABLE export_member ALTER COLUMN body SET STORAGE EXTERNAL")
    db.execute_sql("SELECT rls_protect('export_file', 'project_id', 'viewer')")
    db.execute_sql("SELECT rls_protect('export_member', 'project_id', 'viewer')")


def down(migrator, db):
    db.execute_sql("DROP TABLE export_member")
    db.execute_sql("DROP TABLE export_file")
