"""Versions stored as parts (issue #27): a version reads back as exactly the snapshot the
whole-snapshot code builds, and a save after a one-table change writes, and queries, the
same whatever the number of tables it left alone."""

import contextlib
import difflib
import json
import re

import pytest
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from designer import projects
from designer import web
from designer.db import counting_queries
from designer.db import database
from designer.db import migration_runner
from designer.design import fields
from designer.design import relationships
from designer.design import tables
from designer.errors import ValidationFailed
from designer.history import parts
from designer.history import snapshot
from designer.history import versions
from designer.history import working
from designer.history.diff import diff
from designer.models import SchemaVersion
from tests.integration import test_migrations as migrations

EDITS = st.lists(
    st.tuples(
        st.sampled_from(["table", "field", "rename", "drop field", "link", "save"]),
        st.integers(0, 10**6),
    ),
    max_size=8,
)


def apply_edit(user, project_id, kind, pick, state):
    """One design change through the app (or a save), on a table chosen by `pick`."""
    made = state["tables"]
    if kind == "table" or not made:
        made.append(tables.create_table(user, project_id, f"T{len(state['names'])}").id)
        state["names"].append(made[-1])
        return
    table_id = made[pick % len(made)]
    if kind == "field":
        fields.create_field(user, table_id, {"name": f"F{pick % 1000}x{len(state['names'])}"})
        state["names"].append(table_id)
    elif kind == "rename":
        revision = database.execute_sql(
            "SELECT revision FROM data_table WHERE id = %s", (str(table_id),)
        ).fetchone()[0]
        tables.update_table(user, table_id, revision, name=f"R{pick}")
    elif kind == "drop field":
        row = database.execute_sql(
            "SELECT id FROM data_field WHERE table_id = %s AND field_name <> 'id'"
            " ORDER BY sort_order DESC LIMIT 1",
            (str(table_id),),
        ).fetchone()
        if row is not None:
            fields.delete_field(user, row[0], with_relationships=True)
    elif kind == "link":
        target = made[(pick // 7) % len(made)]
        if (table_id, target) in state["links"]:
            return
        state["links"].add((table_id, target))
        with contextlib.suppress(ValidationFailed):  # (a link that would close a cycle)
            relationships.create_relationship(
                user, project_id, {"source_table_id": table_id, "target_table_id": target}
            )


def saved_versions(user, project_id, steps, first_saved=None):
    """Apply the (kind, pick) steps through the app, a "save" step saving a version unless
    nothing changed since the last; the numbers of the versions saved (`first_saved()` is
    called once the first is)."""
    state, saved = {"tables": [], "names": [], "links": set()}, []
    for kind, pick in steps:
        if kind != "save":
            apply_edit(user, project_id, kind, pick, state)
            continue
        if saved and not versions.changes_since(project_id, versions.latest(project_id)):
            continue
        saved.append(versions.save_version(user, project_id).version_number)
        if first_saved is not None and len(saved) == 1:
            first_saved()
    return saved


@pytest.mark.timeout(900)  # a few designs built and saved through the app, on a busy machine
@hypothesis_settings(max_examples=6, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=EDITS)
def test_a_version_from_parts_is_the_snapshot_the_whole_snapshot_code_built(alice, edits):
    project = projects.create_project(alice, "P")
    state, previous = {"tables": [], "names": [], "links": set()}, None
    for kind, pick in [*edits, ("save", 0)]:
        if kind != "save":
            apply_edit(alice, project.id, kind, pick, state)
            continue
        whole = snapshot.build(project.id)
        if previous is not None and previous[1] == whole:
            continue
        version = versions.save_version(alice, project.id)
        versions.cache.clear()
        snapshot.parts.clear()
        read = versions.snapshot_of(version)
        assert read == whole
        assert snapshot.canonical_json(read) == snapshot.canonical_json(whole)
        assert version.schema_hash == snapshot.snapshot_hash(whole)
        assert version.changes == diff(previous[1] if previous else None, whole)
        # Assembled by PostgreSQL too (what the API and the column's readers see).
        stored = SchemaVersion.get_by_id(version.id)
        assert stored.schema_snapshot == whole
        manifest = database.execute_sql(
            "SELECT manifest::text FROM schema_version WHERE id = %s", (str(version.id),)
        ).fetchone()[0]
        assert parts.digest(manifest) == version.schema_hash
        previous = (version, whole)


def stored_parts_bytes(project_id):
    return database.execute_sql(
        "SELECT coalesce(sum(octet_length(body::text)), 0), count(*) FROM schema_part"
        " WHERE project_id = %s",
        (str(project_id),),
    ).fetchone()


def seed(user, count, columns=20):
    """A project of `count` tables of `columns` columns each, inserted by SQL."""
    project = projects.create_project(user, f"P{count}")
    database.execute_sql(
        "INSERT INTO data_table (project_id, name, table_name, created_by_id)"
        " SELECT %s, 'T' || lpad(i::text, 5, '0'), 't' || lpad(i::text, 5, '0'), %s"
        " FROM generate_series(1, %s) i",
        (str(project.id), str(user.id), count),
    )
    database.execute_sql(
        "INSERT INTO data_field (table_id, name, field_name, data_type, sort_order)"
        " SELECT t.id, 'F' || j, 'f' || j, 'text', j"
        " FROM data_table t CROSS JOIN generate_series(1, %s) j WHERE t.project_id = %s",
        (columns, str(project.id)),
    )
    return project


def page_queries(client, project):
    """Queries of the version pages, compare pages and timeline of a two-version project."""
    pid = project.id
    counts = {}
    for url in (
        f"/projects/{pid}/versions/1",
        f"/projects/{pid}/versions/2",
        f"/projects/{pid}/diff?from=1&to=2",
        f"/projects/{pid}/diff?from=1",
        f"/projects/{pid}/timeline",
    ):
        with counting_queries() as counter:
            response = client.get(url)
        assert response.status_code == 200, url
        counts[url.replace(str(pid), "P")] = counter.count
    return counts


def one_table_change(user, project, monkeypatch):
    """Save a first version, change one table, save again: what the second save wrote
    (parts sent to the store, and its row's manifest, changes and any whole snapshot), the
    parts it added, how many queries it ran, the size of the first version's parts, and how
    many entries it built in Python and read (designer.history.working.work)."""
    versions.save_version(user, project.id, "first")
    before_bytes, before_rows = stored_parts_bytes(project.id)
    table_id = database.execute_sql(
        "SELECT id FROM data_table WHERE project_id = %s ORDER BY name LIMIT 1",
        (str(project.id),),
    ).fetchone()[0]
    fields.create_field(user, table_id, {"name": "Added"})
    snapshot.build(project.id)  # the working copy as a page would have built it
    sent = []
    store = versions.store_parts
    monkeypatch.setattr(
        versions, "store_parts", lambda pid, added: sent.append(added) or store(pid, added)
    )
    work = dict(working.work)
    with counting_queries() as counter:
        second = versions.save_version(user, project.id, "second")
    monkeypatch.setattr(versions, "store_parts", store)
    work = {name: count - work[name] for name, count in working.work.items()}
    row = database.execute_sql(
        "SELECT octet_length(manifest::text), octet_length(changes::text),"
        " coalesce(octet_length(schema_snapshot::text), 0) FROM schema_version WHERE id = %s",
        (str(second.id),),
    ).fetchone()
    written = sum(len(text) for added in sent for text in added.values()) + sum(row)
    added = stored_parts_bytes(project.id)[1] - before_rows
    return written, added, counter.count, before_bytes, work


@pytest.mark.slow
def test_a_save_after_a_one_table_change_writes_the_same_at_100_and_3000_tables(
    alice, signed_in, monkeypatch
):
    # The lock sweep runs in some request every ten seconds: not one of the pages' queries.
    monkeypatch.setattr(web, "SWEEP_EVERY_SECONDS", float("inf"))
    client = signed_in(alice)
    small_project, large_project = seed(alice, 100), seed(alice, 3000)
    small = one_table_change(alice, small_project, monkeypatch)
    large = one_table_change(alice, large_project, monkeypatch)
    assert page_queries(client, small_project) == page_queries(client, large_project)
    # One leaf and one bucket, whatever the number of tables.
    assert small[1] == large[1] == 2
    assert small[2] == large[2], (small, large)
    # Work no clock measures: the save read the changed table's part alone, and built none.
    assert small[4] == large[4] == {"built": 0, "read": 1}, (small, large)
    # The manifest names at most 256 buckets: it grows up to them, then no more. A version
    # of the whole snapshot (30 times larger at 3,000 tables) would write 30 times more.
    assert large[0] < 3 * small[0], (small, large)
    assert large[0] < large[3] / 100, (small, large)


def test_migration_0027_moves_whole_versions_into_parts_with_verifiable_hashes(fresh_database):
    db = migrations.connect(fresh_database("dmd_parts"))
    runner = migration_runner(db)
    runner.up("0021_version_saved_automatically")
    migrations.populate_versions(db, [[], []])
    first = migrations.diff_helpers.shop()
    first["tables"]["t-cust"]["description"] = '«été» "quoted"\ttab'
    second = {**first, "tables": {**first["tables"]}}
    del second["tables"]["t-ord"]
    old_hashes = []
    for number, snap in ((1, first), (2, second)):
        old_hash = parts.digest(snapshot.canonical_json(snap))  # as versions were hashed
        old_hashes.append(old_hash)
        db.execute_sql(
            "UPDATE schema_version SET schema_snapshot = %s::json, schema_hash = %s"
            " WHERE version_number = %s",
            (json.dumps(snap), old_hash, number),
        )
    db.execute_sql(
        "INSERT INTO deployment (project_id, version_id, target_schema, from_hash, to_hash,"
        " status) SELECT project_id, id, 's', %s, %s, 'applied' FROM schema_version"
        " WHERE version_number = 2",
        tuple(old_hashes),
    )
    runner.up()
    rows = db.execute_sql(
        "SELECT schema_hash, manifest::text, schema_snapshot, version_snapshot(manifest,"
        " project_id) FROM schema_version ORDER BY version_number"
    ).fetchall()
    for (stored_hash, manifest, whole, assembled), snap in zip(rows, (first, second), strict=True):
        assert whole is None
        assert assembled == snap
        assert stored_hash == parts.digest(manifest) == snapshot.snapshot_hash(snap)
    for hashed, body in db.execute_sql("SELECT hash, body::text FROM schema_part").fetchall():
        assert parts.digest(body) == hashed
    # The unchanged tables' parts are stored once, shared by both versions.
    count = db.execute_sql("SELECT count(*) FROM schema_part").fetchone()[0]
    assert count == len(set(parts.tree_of(first).texts) | set(parts.tree_of(second).texts))
    deployed = db.execute_sql("SELECT from_hash, to_hash FROM deployment").fetchone()
    assert deployed == (rows[0][0], rows[1][0])
    runner.down("0026_version_parts")
    back = db.execute_sql(
        "SELECT schema_snapshot, schema_hash FROM schema_version ORDER BY version_number"
    ).fetchall()
    assert back == [(first, old_hashes[0]), (second, old_hashes[1])]
    assert db.execute_sql("SELECT from_hash, to_hash FROM deployment").fetchone() == tuple(
        old_hashes
    )
    db.close()


def test_a_version_page_read_from_parts_shows_what_the_whole_snapshot_showed(
    alice, signed_in, monkeypatch
):
    """Paged by PostgreSQL from the parts, or sorted in Python from the whole snapshot: the
    same pages, names in code point order (where a collation would put "a_b" after "ab")."""
    monkeypatch.setattr(web, "SWEEP_EVERY_SECONDS", float("inf"))
    project = projects.create_project(alice, "Paged")
    names = ["zz", "a_b", "ab", "a1", "b", "a", "a_", "aa_b", "a__b"]
    made = [
        tables.create_table(alice, project.id, f"Name {i}", f"{names[i % 9]}_{i // 9}").id
        for i in range(63)
    ]
    for i in range(1, 63):
        relationships.create_relationship(
            alice, project.id, {"source_table_id": made[i - 1], "target_table_id": made[i]}
        )
    version = versions.save_version(alice, project.id, "first")
    client = signed_in(alice)
    urls = [
        f"/projects/{project.id}/versions/1",
        f"/projects/{project.id}/versions/1?tables=50",
        f"/projects/{project.id}/versions/1?relationships=50",
    ]

    def pages():
        # (The CSRF token is signed with the time: it may differ between two requests.)
        texts = [client.get(url, htmx="?" in url).get_data(as_text=True) for url in urls]
        token = r'((?:csrf[-_]token"? [a-z]+=|X-CSRFToken": )")[^"]+'
        return [re.sub(token, r"\1", text) for text in texts]

    from_parts = pages()
    database.execute_sql(
        "UPDATE schema_version SET schema_snapshot = version_snapshot(manifest, project_id)"
        " WHERE id = %s",
        (str(version.id),),
    )
    versions.cache.clear()
    assert versions.entries_page(version, "tables", 0, 50) is None  # now read whole
    whole = pages()
    for shown, expected in zip(whole, from_parts, strict=True):
        assert shown == expected, "\n".join(
            difflib.unified_diff(expected.splitlines(), shown.splitlines(), lineterm="", n=0)
        )
    assert "Load more tables (13 left)" in from_parts[0]
