"""Sessions that end (a per-user epoch every session must match) and API tokens that expire.

Numbered 0006 and independent of 0005 (deployments, another branch): it
touches only app_user and api_token.
"""


def up(migrator, db):
    db.execute_sql("ALTER TABLE app_user ADD COLUMN session_epoch integer NOT NULL DEFAULT 1")
    db.execute_sql("ALTER TABLE api_token ADD COLUMN expires_at timestamptz")


def down(migrator, db):
    db.execute_sql("ALTER TABLE api_token DROP COLUMN expires_at")
    db.execute_sql("ALTER TABLE app_user DROP COLUMN session_epoch")
