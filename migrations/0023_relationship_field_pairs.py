"""A relationship may join several column pairs (a composite foreign key).

source_field_id and target_field_id stay its first pair (their foreign keys keep a field in
use from being deleted); field_pairs holds every pair, in order, as [[key field id, foreign
key field id], ...] when there are two or more, and [] for a one-column relationship, so the
snapshot of every relationship stored before reads as it did.
"""


def up(migrator, db):
    db.execute_sql(
        "ALTER TABLE table_relationship ADD COLUMN field_pairs jsonb NOT NULL DEFAULT '[]'"
        " CHECK (jsonb_typeof(field_pairs) = 'array')"
    )


def down(migrator, db):
    db.execute_sql("ALTER TABLE table_relationship DROP COLUMN field_pairs")
