"""What each stored part is (schema_part.kind, migration 0049): every statement that stores
parts says it, the database refuses one that does not, and the comparison's lookups of
relationships index relationship parts alone, so storing 30,000 tables parses none of them."""

import json

import pytest
from peewee import IntegrityError

from designer import projects
from designer.db import MIGRATIONS_DIR
from designer.db import database
from designer.db import migration_runner
from designer.design import fields
from designer.design import relationships
from designer.design import tables
from designer.history import parts
from designer.history import snapshot
from designer.history import versions
from tests.integration import test_migrations as migrations

# Each stored part's kind beside the kind its body says it is.
KINDS = f"""
SELECT kind, {parts.KIND_OF_BODY.format(body="body")}, count(*) FROM schema_part
WHERE project_id = %s GROUP BY 1, 2 ORDER BY 1, 2
"""


def kinds(project):
    return [tuple(row) for row in database.execute_sql(KINDS, (str(project.id),)).fetchall()]


def shop(user):
    project = projects.create_project(user, "Shop")
    customers = tables.create_table(user, project.id, "Customers")
    orders = tables.create_table(user, project.id, "Orders")
    fields.create_field(user, customers.id, {"name": "Email"})
    relationships.create_relationship(
        user, project.id, {"source_table_id": str(customers.id), "target_table_id": str(orders.id)}
    )
    return project, customers, orders


def test_every_way_of_storing_parts_says_what_each_is(alice):
    project, customers, orders = shop(alice)
    # A first version, stored by SQL from the triggers' parts.
    versions.save_version(alice, project.id, "First")
    found = kinds(project)
    assert [(stored, said) for stored, said, _ in found] == [
        ("other", "other"), ("relationship", "relationship"), ("table", "table")
    ]  # fmt: skip
    assert [count for _, _, count in found][1:] == [1, 2]
    # A save after a change, stored from Python.
    fields.create_field(alice, orders.id, {"name": "Total", "data_type": "number"})
    lines = tables.create_table(alice, project.id, "Order lines")
    relationships.create_relationship(
        alice, project.id, {"source_table_id": str(orders.id), "target_table_id": str(lines.id)}
    )
    versions.save_version(alice, project.id, "Second")
    # A save of a snapshot the caller built (a deploy's).
    tables.create_table(alice, project.id, "Invoices")
    versions.save_version(alice, project.id, "Third", current=snapshot.build(project.id))
    found = kinds(project)
    assert all(stored == said for stored, said, _ in found), found
    assert {stored: count for stored, _, count in found}["relationship"] == 2
    assert {stored: count for stored, _, count in found}["table"] == 5


def test_a_part_stored_without_its_kind_or_with_another_is_refused(alice):
    project, _, _ = shop(alice)
    statement = "INSERT INTO schema_part (project_id, hash, body{}) VALUES (%s, %s, '{{}}'{})"
    with pytest.raises(IntegrityError, match="kind"), database.atomic():
        database.execute_sql(statement.format("", ""), (str(project.id), "a" * 64))
    with pytest.raises(IntegrityError, match="kind"), database.atomic():
        database.execute_sql(statement.format(", kind", ", 'column'"), (str(project.id), "b" * 64))


def test_the_relationship_lookups_read_relationship_parts_alone(alice):
    project, customers, _ = shop(alice)
    versions.save_version(alice, project.id, "First")
    entries = database.execute_sql(
        "SELECT count(*) FROM schema_part WHERE project_id = %s AND kind = 'relationship'"
        " AND body ->> 'source_table_id' = %s",
        (str(project.id), str(customers.id)),
    ).fetchone()[0]
    assert entries == 1
    database.execute_sql("SET enable_seqscan = off")
    try:
        plan = database.execute_sql(
            "EXPLAIN SELECT hash FROM schema_part WHERE project_id = %s"
            " AND kind = 'relationship' AND body ->> 'source_table_id' = ANY (%s::text[])",
            (str(project.id), [str(customers.id)]),
        ).fetchall()
    finally:
        database.execute_sql("SET enable_seqscan = on")
    assert "schema_part_source" in "\n".join(row[0] for row in plan)


def test_migration_0049_says_what_the_stored_parts_are(fresh_database):
    db = migrations.connect(fresh_database("dmd_part_kinds"))
    runner = migration_runner(db)
    names = sorted(path.stem for path in MIGRATIONS_DIR.glob("0*.py"))
    runner.up(names[names.index("0049_part_kinds") - 1])
    user = db.execute_sql(
        "INSERT INTO app_user (username, email, password_hash)"
        " VALUES ('old', 'old@example.com', 'x') RETURNING id"
    ).fetchone()[0]
    project = db.execute_sql(
        "INSERT INTO project (name, owner_id) VALUES ('Old', %s) RETURNING id", (user,)
    ).fetchone()[0]
    bodies = {
        "t" * 64: ({"id": "1", "table_name": "orders", "fields": []}, "orders"),
        "r" * 64: (
            {"id": "2", "relationship_name": None, "source_table_id": "1", "target_table_id": "1"},
            None,
        ),  # fmt: skip
        "b" * 64: ({"1": "t" * 64}, None),
        "f" * 64: (3, None),
    }
    for hashed, (body, label) in bodies.items():
        db.execute_sql(
            "INSERT INTO schema_part (project_id, hash, body, label) VALUES (%s, %s, %s, %s)",
            (project, hashed, json.dumps(body), label),
        )
    runner.up("0049_part_kinds")
    found = dict(db.execute_sql("SELECT left(hash, 1), kind FROM schema_part").fetchall())
    assert found == {"t": "table", "r": "relationship", "b": "other", "f": "other"}
    runner.down("0049_part_kinds")
    columns = db.execute_sql(
        "SELECT count(*) FROM information_schema.columns"
        " WHERE table_name = 'schema_part' AND column_name = 'kind'"
    ).fetchone()[0]
    assert columns == 0
    db.close()
