"""Drift's expected catalog kept per deployed table, in PostgreSQL (#27).

A drift check compares what the target schema holds with the catalog the deployed design
makes, built by creating the deployed tables in a scratch schema and reading the catalog
back: at 3,000 deployed tables some 9,000 statements, two minutes, at every cold check.
Each deployed table's share of that catalog (its rows of each catalog query) is kept here
under the sha256 of what decides it (designer/database/expectations.py: its deployed part,
the foreign keys it holds with the parts of the tables they point to, its partition parent's,
the design's enums and format, the target server's version), so a check after a one-table
change builds that table alone. Every app server shares them; bounded in bytes per project.
Any member may run a drift check, so any member may write a table's expectation: its rows
are made from what the member reads.
"""

EXPECTATIONS = """
CREATE TABLE drift_expectation (
    project_id uuid NOT NULL REFERENCES project (id) ON DELETE CASCADE,
    key varchar(64) NOT NULL,
    -- The sha256 of the rows' JSON: a table whose rows on the target have it is as expected,
    -- and its rows need not be read here.
    digest varchar(64) NOT NULL,
    -- The table's rows of each catalog query, as gzip-compressed JSON, and its size.
    body bytea NOT NULL,
    size integer NOT NULL CHECK (size >= 0),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (project_id, key)
)"""


def up(migrator, db):
    db.execute_sql(EXPECTATIONS)
    db.execute_sql("ALTER TABLE drift_expectation ALTER COLUMN body SET STORAGE EXTERNAL")
    db.execute_sql("SELECT rls_protect('drift_expectation', 'project_id', 'viewer')")


def down(migrator, db):
    db.execute_sql("DROP TABLE drift_expectation")
