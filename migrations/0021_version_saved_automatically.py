"""Mark the versions the designer saves by itself (before an import, a restore or an
adoption, and on every deploy), so the timeline can fold them away until asked.

Versions saved before this migration are marked by the messages those saves wrote.
"""


def up(migrator, db):
    db.execute_sql("ALTER TABLE schema_version ADD COLUMN automatic boolean NOT NULL DEFAULT false")
    db.execute_sql(
        "UPDATE schema_version SET automatic = true"
        " WHERE message IN ('Deployed', 'Before import', 'Before adopting the database''s schema')"
        " OR starts_with(message, 'Before restoring version ')"
    )


def down(migrator, db):
    db.execute_sql("ALTER TABLE schema_version DROP COLUMN automatic")
