"""The working copy's parts kept by triggers (migration 0030) are exactly the parts the
Python code computes from scratch, after any sequence of design changes."""

import json
import threading

import psycopg2
import pytest
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from designer import projects
from designer.db import database
from designer.db import migration_runner
from designer.db import table_exists
from designer.design import enums
from designer.design import fields
from designer.design import relationships
from designer.design import tables
from designer.history import parts
from designer.history import snapshot
from designer.history import versions
from designer.history.diff import diff
from tests.integration import test_migrations as migrations
from tests.integration.test_version_parts import apply_edit

# Text PostgreSQL and Python must escape alike: quotes, backslashes, control characters,
# characters beyond ASCII (kept as they are), and keys that sort differently by length.
AWKWARD = st.text(
    alphabet=st.sampled_from(
        ['"', "\\", "\n", "\t", "\x01", "\x1f", "\x7f", "é", "€", "𝄞", "a", "B", "_", " ", "\u2028"]
    ),  # fmt: skip
    max_size=6,
)
VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**20), 10**20) | AWKWARD,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(AWKWARD, inner, max_size=3),
    max_leaves=8,
)
# Raw changes the app's forms would not make, in the columns a part is made of.
RAW = [
    "UPDATE data_table SET description = %(text)s WHERE id = %(table)s",
    "UPDATE data_table SET schema_definition = schema_definition"
    " || jsonb_build_object('structure', %(json)s::jsonb) WHERE id = %(table)s",
    "UPDATE data_field SET field_config = jsonb_build_object('extra', %(json)s::jsonb)"
    " WHERE id = (SELECT id FROM data_field WHERE table_id = %(table)s LIMIT 1)",
    "UPDATE data_field SET default_value = %(text)s"
    " WHERE id = (SELECT id FROM data_field WHERE table_id = %(table)s LIMIT 1)",
    "UPDATE table_relationship"
    " SET cascade_config = jsonb_build_object('on_delete', %(json)s::jsonb)"
    " WHERE id = (SELECT id FROM table_relationship WHERE source_table_id = %(table)s LIMIT 1)",
    # Statements over the whole design (migration 0037's set-based writes).
    "UPDATE data_table SET status = CASE status WHEN 'draft' THEN 'active' ELSE 'draft' END"
    " WHERE project_id = (SELECT project_id FROM data_table WHERE id = %(table)s)",
    "UPDATE data_field SET default_value = %(text)s WHERE sort_order = 0 AND project_id ="
    " (SELECT project_id FROM data_table WHERE id = %(table)s)",
    "DELETE FROM data_table WHERE id = %(table)s",
]
EDITS = st.lists(
    st.one_of(
        st.tuples(
            st.sampled_from(["table", "field", "rename", "drop field", "link"]),
            st.integers(0, 10**6),
        ),
        st.tuples(st.just("raw"), st.integers(0, 10**6), st.sampled_from(RAW), AWKWARD, VALUES),
    ),
    max_size=12,
)


def kept_parts(project_id):
    rows = database.execute_sql(
        "SELECT kind, entry_id, bucket, label, body::text, hash FROM working_part"
        " WHERE project_id = %s",
        (str(project_id),),
    ).fetchall()
    return {(kind, entry_id): rest for kind, entry_id, *rest in rows}


def computed_parts(project_id):
    """What the Python code makes of the working copy built from scratch."""
    snapshot.parts.clear()
    whole = snapshot.build(project_id)
    found = {}
    for kind, label in (("tables", "table_name"), ("relationships", "relationship_name")):
        for entry_id, entry in whole[kind].items():
            text = snapshot.canonical_json(entry)
            found[(kind, entry_id)] = [
                parts.bucket_of(entry_id),
                entry[label],
                text,
                parts.digest(text),
            ]
    return found


def walk(value):
    if isinstance(value, dict):
        for item in value.values():
            yield from walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from walk(item)
    else:
        yield value


def assert_kept_as_computed(project_id):
    kept, computed = kept_parts(project_id), computed_parts(project_id)
    assert kept.keys() == computed.keys()
    for key, (bucket, label, text, hashed) in computed.items():
        if any(isinstance(x, float) for x in walk(json.loads(text))):
            # Python writes a float as its repr: left to the save (NULL here).
            assert kept[key] == [bucket, label, None, None], key
        else:
            assert kept[key] == [bucket, label, text, hashed], key


@pytest.mark.timeout(900)
@hypothesis_settings(max_examples=12, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=EDITS)
def test_the_parts_triggers_keep_are_the_parts_computed_from_scratch(alice, edits):
    project = projects.create_project(alice, "P")
    state = {"tables": [], "names": [], "links": set()}
    for edit in edits:
        kind, pick = edit[:2]
        if kind != "raw" or not state["tables"]:
            apply_edit(alice, project.id, kind if kind != "raw" else "table", pick, state)
            continue
        _, _, statement, text, value = edit
        table_id = state["tables"][pick % len(state["tables"])]
        database.execute_sql(
            statement, {"table": str(table_id), "text": text, "json": json.dumps(value)}
        )
        if statement.startswith("DELETE"):
            state["tables"].remove(table_id)
            state["links"] = {link for link in state["links"] if table_id not in link}
    assert_kept_as_computed(project.id)


def test_a_float_in_a_part_leaves_it_to_the_save_and_a_move_or_rename_rewrites_it(alice):
    project = projects.create_project(alice, "P")
    one = tables.create_table(alice, project.id, "One")
    two = tables.create_table(alice, project.id, "Two")
    made = fields.create_field(alice, one.id, {"name": "Price"})
    fields.create_field(alice, one.id, {"name": "Amount"})
    database.execute_sql(
        'UPDATE data_field SET field_config = \'{"step": 0.5, "max": 10}\' WHERE id = %s',
        (str(made.id),),
    )
    assert_kept_as_computed(project.id)
    assert kept_parts(project.id)[("tables", str(one.id))][2] is None
    fields.move(alice, made.id, 1)
    database.execute_sql("UPDATE data_field SET field_config = '{}' WHERE id = %s", (str(made.id),))
    revision = database.execute_sql(
        "SELECT revision FROM data_table WHERE id = %s", (str(two.id),)
    ).fetchone()[0]
    tables.update_table(alice, two.id, revision, name="Renamed")
    assert_kept_as_computed(project.id)
    assert all(row[3] for row in kept_parts(project.id).values())


def test_migration_0030_writes_the_parts_of_designs_made_before_it(fresh_database):
    db = migrations.connect(fresh_database("dmd_working"))
    runner = migration_runner(db)
    runner.up("0027_versions_into_parts")
    migrations.populate_versions(db, [])
    project = db.execute_sql("SELECT id FROM project").fetchone()[0]
    made = db.execute_sql(
        "INSERT INTO data_table (project_id, name, table_name, description)"
        " SELECT %s, 'T' || i, 't' || i, E'«é»\\t\"' || i FROM generate_series(1, 3) i"
        " RETURNING id",
        (project,),
    ).fetchall()
    db.execute_sql(
        "INSERT INTO data_field (table_id, name, field_name, data_type, sort_order, field_config)"
        " SELECT t.id, 'F' || j, 'f' || j, 'text', j, '{\"b\": [1, {\"a\": null}], \"aa\": 2}'"
        " FROM data_table t CROSS JOIN generate_series(1, 2) j"
    )
    db.execute_sql(
        "INSERT INTO table_relationship (project_id, source_table_id, target_table_id,"
        " relationship_name) VALUES (%s, %s, %s, 'r')",
        (project, made[0][0], made[1][0]),
    )
    runner.up()
    rows = db.execute_sql(
        "SELECT kind, entry_id, body::text, hash FROM working_part ORDER BY kind, entry_id"
    ).fetchall()
    query = f"SELECT id, part::text FROM ({snapshot.PARTS_JSON}) parts (id, part)"
    built = dict(db.execute_sql(query, {"project": str(project)}).fetchall())
    expected = [
        ("relationships", rid, snapshot.canonical_json(entry))
        for rid, entry in sorted(json.loads(built.pop(None)).items())
    ] + [("tables", tid, snapshot.canonical_json(json.loads(built[tid]))) for tid in sorted(built)]
    assert [row[:3] for row in rows] == expected
    assert all(parts.digest(text) == hashed for _, _, text, hashed in rows)
    runner.down("0027_versions_into_parts")
    assert not table_exists(db, "working_part")
    db.close()


def saved_as_built(user, project_id, previous):
    """Save, and check the version against the whole-snapshot code's: (version, snapshot)."""
    whole = snapshot.build(project_id)
    version = versions.save_version(user, project_id)
    versions.cache.clear()
    snapshot.parts.clear()
    assert versions.snapshot_of(version) == whole
    assert version.schema_hash == snapshot.snapshot_hash(whole)
    assert version.changes == diff(previous, whole)
    return whole


def test_saves_of_parts_the_triggers_left_to_python_and_of_enums(alice):
    project = projects.create_project(alice, "P")
    made = [tables.create_table(alice, project.id, f"T{i}") for i in range(40)]
    price = fields.create_field(alice, made[0].id, {"name": "Price"})
    config = "UPDATE data_field SET field_config = %s::jsonb WHERE id = %s"
    database.execute_sql(config, ('{"step": 0.5}', str(price.id)))
    # A float the SQL writer cannot reproduce: that table's part is left to Python.
    unwritten = "SELECT entry_id FROM working_part WHERE project_id = %s AND hash IS NULL"
    assert database.execute_sql(unwritten, (str(project.id),)).fetchall() == [(str(made[0].id),)]
    whole = saved_as_built(alice, project.id, None)
    assert whole["tables"][str(made[0].id)]["fields"][str(price.id)]["field_config"] == {
        "step": 0.5
    }
    database.execute_sql(config, ('{"step": 0.25, "n": [1.5e300]}', str(price.id)))
    enum = enums.create_enum(alice, project.id, "status", ["new", "done"])
    whole = saved_as_built(alice, project.id, whole)
    fields.create_field(alice, made[1].id, {"name": "More"})
    enums.update_enum(alice, enum.id, enum.revision, "state", ["new", "done", "gone"])
    whole = saved_as_built(alice, project.id, whole)
    tables.delete_table(alice, made[2].id)
    last = saved_as_built(alice, project.id, whole)
    assert [e["name"] for e in last["enums"].values()] == ["state"]
    assert str(made[2].id) not in last["tables"] or (
        last["tables"][str(made[2].id)]["status"] == "deleted"
    )
    assert versions.latest(project.id).version_number == 4


def test_of_two_transactions_changing_one_table_the_later_part_holds_both_changes(
    alice, database_url
):
    """The trigger locks the part before it reads the design: the second transaction waits
    for the first to commit, then reads its change too (without the lock it would write
    the part from a snapshot taken before the first committed, losing that change)."""
    project = projects.create_project(alice, "P")
    table = tables.create_table(alice, project.id, "T")
    one = fields.create_field(alice, table.id, {"name": "One"})
    two = fields.create_field(alice, table.id, {"name": "Two"})
    first, second = psycopg2.connect(database_url), psycopg2.connect(database_url)
    try:
        # (A column search_text does not watch: no other row is locked on the way.)
        rename = "UPDATE data_field SET default_value = %s WHERE id = %s"
        first.cursor().execute(rename, ("First", str(one.id)))
        waiting = threading.Thread(
            target=lambda: (
                second.cursor().execute(rename, ("Second", str(two.id))),
                second.commit(),
            )  # fmt: skip
        )
        waiting.start()
        waiting.join(1.0)
        assert waiting.is_alive(), "the second transaction did not wait for the first"
        first.commit()
        waiting.join(10)
        assert not waiting.is_alive()
    finally:
        first.close()
        second.close()
    part = json.loads(kept_parts(project.id)[("tables", str(table.id))][2])
    assert {field["default_value"] for field in part["fields"].values()} >= {"First", "Second"}
    assert_kept_as_computed(project.id)


def test_awkward_values_in_every_jsonb_column_are_written_as_python_writes_them(alice):
    project = projects.create_project(alice, "P")
    one = tables.create_table(alice, project.id, "One")
    two = tables.create_table(alice, project.id, "Two")
    relationships.create_relationship(
        alice, project.id, {"source_table_id": one.id, "target_table_id": two.id}
    )
    value = {
        "B": ['É\n"\\\x01\u2028𝄞', {"x": 10**20, "é": None, "": -7}, [], {}],
        "a": True,
        "aa": False,
        "€": "Straße",
    }
    text = json.dumps(value)
    for statement in RAW[:-1]:
        database.execute_sql(statement, {"table": str(one.id), "text": '«Ω»\t"x"', "json": text})
    assert_kept_as_computed(project.id)
