"""A project's first version stores no change list (issue #27): its changes are its whole
snapshot added, derived on read by the diff engine, and every reader gets exactly the list
diff(None, snapshot) gives, with the summary and name the change list would have given."""

import json

import pytest
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from designer import projects
from designer.db import database
from designer.db import migration_runner
from designer.design import enums
from designer.history import snapshot
from designer.history import versions
from designer.history.diff import diff
from designer.history.diff import named_text
from designer.history.diff import summarize
from designer.models import SchemaVersion
from tests.integration import test_migrations as migrations
from tests.integration.test_version_parts import EDITS
from tests.integration.test_version_parts import apply_edit
from tests.integration.test_version_parts import seed

STORED = (
    "SELECT octet_length(changes::text), pg_column_size(changes), adds_everything"
    " FROM schema_version WHERE id = %s"
)


def read_back(version, api):
    """A version's changes as each reader gets them."""
    versions.cache.clear()
    snapshot.parts.clear()
    column = SchemaVersion.select(SchemaVersion.changes).where(SchemaVersion.id == version.id)
    answer = api.get(
        f"/projects/{version.project_id}/versions/{version.version_number}?include=changes"
    )
    return {
        "saved": version.changes,
        "changes_of": versions.changes_of(version),
        "column": column.scalar(),
        "row": SchemaVersion.get_by_id(version.id).changes,
        "api": answer.json["changes"],
    }


@pytest.mark.timeout(900)
@hypothesis_settings(max_examples=8, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=EDITS, with_enum=st.booleans(), built=st.booleans(), floats=st.booleans())
def test_a_first_versions_changes_read_back_as_the_diff_of_its_snapshot(
    alice, api, edits, with_enum, built, floats
):
    project = projects.create_project(alice, "P")
    state = {"tables": [], "names": [], "links": set()}
    for kind, pick in edits:
        if kind != "save":
            apply_edit(alice, project.id, kind, pick, state)
    if with_enum:
        enums.create_enum(alice, project.id, "mood", ["sad", "happy"])
    if floats:
        # A float the triggers leave to Python (working.py): that table's part is built there.
        database.execute_sql(
            "UPDATE data_field SET field_config = '{\"step\": 0.5}' WHERE id IN (SELECT f.id"
            " FROM data_field f JOIN data_table t ON t.id = f.table_id WHERE t.project_id = %s"
            " ORDER BY t.table_name LIMIT 1)",
            (str(project.id),),
        )
    whole = snapshot.build(project.id)
    expected = diff(None, whole)
    # From the working parts (a save), or from a snapshot the caller built (a deploy).
    version = versions.save_version(alice, project.id, current=whole if built else None)
    length, _, derived = database.execute_sql(STORED, (str(version.id),)).fetchone()
    assert (length, derived) == (2, True)
    assert version.change_summary == summarize(expected)
    assert version.message == named_text(expected, whole)[: versions.MAX_MESSAGE]
    client = api(alice)
    read = read_back(version, client)
    for reader, changes in read.items():
        assert changes == expected, reader
    assert json.loads(json.dumps(read["api"])) == json.loads(json.dumps(expected))


@pytest.mark.slow
@pytest.mark.timeout(600)  # 3,000 tables seeded and saved, on a busy machine
def test_a_first_version_stores_the_same_changes_at_100_and_3000_tables(alice):
    stored = []
    for count in (100, 3000):
        project = seed(alice, count)
        version = versions.save_version(alice, project.id, "first")
        stored.append(database.execute_sql(STORED, (str(version.id),)).fetchone())
        assert version.change_summary["tables"]["added"] == count
    assert stored[0] == stored[1], stored


def test_migration_0035_derives_first_versions_whose_changes_match_their_snapshot(
    fresh_database,
):
    from designer.db import MIGRATIONS_DIR

    db = migrations.connect(fresh_database("dmd_first_versions"))
    runner = migration_runner(db)
    names = sorted(path.stem for path in MIGRATIONS_DIR.glob("0*.py"))
    runner.up(names[names.index("0035_first_versions_add_everything") - 1])
    shop = migrations.diff_helpers.shop()
    migrations.populate_versions(db, [diff(None, shop), [], [{"op": "add_table"}]])
    db.execute_sql("INSERT INTO project (name, owner_id) SELECT 'Other', owner_id FROM project")
    other = db.execute_sql("SELECT id FROM project WHERE name = 'Other'").fetchone()[0]
    # Project Old's version 1 matches its snapshot; Other's version 1 records something else.
    db.execute_sql(
        "INSERT INTO schema_version (project_id, version_number, schema_hash, schema_snapshot,"
        " changes) VALUES (%s, 1, 'x', %s::json, '[]')",
        (other, json.dumps(shop)),
    )
    db.execute_sql(
        "UPDATE schema_version SET schema_snapshot = %s::json WHERE project_id <> %s",
        (json.dumps(shop), other),
    )
    read = (
        "SELECT p.name, v.version_number, v.changes::text, v.adds_everything"
        " FROM schema_version v JOIN project p ON p.id = v.project_id"
        " ORDER BY p.name, v.version_number"
    )
    before = db.execute_sql(read.replace(", v.adds_everything", "")).fetchall()
    runner.up("0035_first_versions_add_everything")
    after = db.execute_sql(read).fetchall()
    assert [(name, number, derived) for name, number, _, derived in after] == [
        ("Old", 1, True), ("Old", 2, False), ("Old", 3, False), ("Other", 1, False),
    ]  # fmt: skip
    assert after[0][2] == "[]"
    assert [row[2] for row in after[1:]] == [row[2] for row in before[1:]]
    runner.down()
    back = db.execute_sql(read.replace(", v.adds_everything", "")).fetchall()
    assert [(n, v, json.loads(c)) for n, v, c in back] == [
        (n, v, json.loads(c)) for n, v, c in before
    ]
    db.close()
