"""Migrations build exactly the schema the models declare, and only once."""

import copy
import json
import uuid

import psycopg2
import pytest
from peewee import PostgresqlDatabase
from playhouse.migrations import Runner

from designer.db import migration_runner
from designer.db import open_database
from designer.db import upgrade
from designer.history.diff import diff
from designer.history.diff import summarize
from designer.history.snapshot import snapshot_hash
from designer.models import MODELS
from tests.conftest import truncate_all
from tests.unit import test_diff as diff_helpers

CATALOG_QUERIES = {
    "columns": """
        SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
               pg_get_expr(d.adbin, d.adrelid)
        FROM pg_attribute a
        JOIN pg_class c ON c.oid = a.attrelid
        LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r'
          AND a.attnum > 0 AND NOT a.attisdropped AND c.relname <> 'schema_migration'
    """,
    "constraints": """
        SELECT conrelid::regclass::text, conname, contype, pg_get_constraintdef(oid)
        FROM pg_constraint
        WHERE connamespace = 'public'::regnamespace
          AND conrelid::regclass::text <> 'schema_migration'
          -- Triggers are the migrations' alone (models declare none), constraint triggers
          -- (migrations/0031) as the others.
          AND contype <> 't'
    """,
    "indexes": """
        SELECT tablename, indexname, indexdef FROM pg_indexes
        WHERE schemaname = 'public' AND tablename <> 'schema_migration'
    """,
}


def catalog(url):
    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            result = {}
            for name, query in CATALOG_QUERIES.items():
                cur.execute(query)
                result[name] = sorted(cur.fetchall(), key=repr)
            return result
    finally:
        conn.close()


def connect(url):
    params = psycopg2.extensions.parse_dsn(url)
    name = params.pop("dbname")
    return PostgresqlDatabase(name, **params)


@pytest.fixture
def migrated(fresh_database):
    url = fresh_database("dmd_migrated")
    db = connect(url)
    applied = upgrade(db)
    yield url, db, applied
    db.close()


@pytest.fixture
def declared(fresh_database):
    """A database built straight from the models, with no migration involved."""
    url = fresh_database("dmd_declared")
    db = connect(url)
    with db.bind_ctx(MODELS):
        db.create_tables(MODELS)
    db.close()
    return url


def test_upgrading_an_empty_database_yields_the_models_schema(migrated, declared):
    url, _, applied = migrated
    assert applied, "no migration was applied to an empty database"
    ours, theirs = catalog(url), catalog(declared)
    for part in CATALOG_QUERIES:
        assert ours[part] == theirs[part], part


def test_a_second_upgrade_changes_nothing(migrated):
    url, db, _ = migrated
    before = catalog(url)
    assert upgrade(db) == []
    assert catalog(url) == before


def test_every_migration_can_be_reverted(fresh_database):
    db = connect(fresh_database("dmd_reverted"))
    runner = migration_runner(db)
    runner.up()
    while runner.down():
        pass
    assert set(db.get_tables()) <= {"schema_migration"}
    assert runner.up()
    db.close()


def test_the_app_database_is_fully_migrated(app, owner_database_url):
    truncate_all()
    assert upgrade(open_database(owner_database_url)) == []


# Data backfills run on a database that already holds data.


def populate_versions(db, history):
    """A user, a project and one stored version per change list (as 0001-0003 left them)."""
    user = db.execute_sql(
        "INSERT INTO app_user (username, email, password_hash)"
        " VALUES ('old', 'old@example.com', 'x') RETURNING id"
    ).fetchone()[0]
    project = db.execute_sql(
        "INSERT INTO project (name, owner_id) VALUES ('Old', %s) RETURNING id", (user,)
    ).fetchone()[0]
    for number, changes in enumerate(history, start=1):
        db.execute_sql(
            "INSERT INTO schema_version (project_id, version_number, schema_hash,"
            " schema_snapshot, changes) VALUES (%s, %s, %s, '{}'::jsonb, %s::jsonb)",
            (project, number, f"{number:064d}", json.dumps(changes)),
        )


def version_history():
    """Change lists of real diffs: a first save, renames, alters and drops, and nothing."""
    before = diff_helpers.shop()
    after = copy.deepcopy(before)
    orders = after["tables"]["t-ord"]
    orders["table_name"] = "purchases"
    orders["fields"]["f-total"]["data_type"] = "number"
    del after["tables"]["t-cust"]["fields"]["f-email"]
    del after["relationships"]["r-1"]
    after["tables"]["t-inv"] = diff_helpers.table(
        "t-inv", "invoices", diff_helpers.field("f-n", "n")
    )
    return [diff(None, before), diff(before, after), []]


def test_migration_0004_backfills_change_counts_of_existing_versions(fresh_database):
    db = connect(fresh_database("dmd_backfill"))
    runner = migration_runner(db)
    runner.up("0003_lock_expiry_index")
    history = version_history()
    populate_versions(db, history)
    assert runner.up("0004_version_change_summary") == ["0004_version_change_summary"]
    stored = db.execute_sql(
        "SELECT change_summary FROM schema_version ORDER BY version_number"
    ).fetchall()
    assert [row[0] for row in stored] == [summarize(changes) for changes in history]
    assert stored[1][0]["tables"] == {"added": 1, "changed": 1, "dropped": 0}
    assert stored[1][0]["relationships"] == {"added": 0, "changed": 0, "dropped": 1}
    db.close()


def test_migration_0011_keeps_stored_snapshots_and_their_hashes(fresh_database):
    db = connect(fresh_database("dmd_snapshot_json"))
    runner = migration_runner(db)
    runner.up("0010_schemas_of_others")
    populate_versions(db, [[]])
    snapshot = diff_helpers.shop()
    snapshot["tables"]["t-cust"]["description"] = '«été» "quoted"\ttab'
    db.execute_sql(
        "UPDATE schema_version SET schema_snapshot = %s::jsonb, schema_hash = %s",
        (json.dumps(snapshot), snapshot_hash(snapshot)),
    )
    read = "SELECT schema_snapshot, schema_hash, pg_typeof(schema_snapshot) FROM schema_version"
    assert runner.up("0011_snapshot_as_json_text") == ["0011_snapshot_as_json_text"]
    stored, stored_hash, kind = db.execute_sql(read).fetchone()
    assert (stored, kind) == (snapshot, "json")
    assert snapshot_hash(stored) == stored_hash
    runner.down()
    stored, _, kind = db.execute_sql(read).fetchone()
    assert (stored, kind) == (snapshot, "jsonb")
    db.close()


def test_migration_0014_keeps_stored_changes(fresh_database):
    db = connect(fresh_database("dmd_changes_json"))
    runner = migration_runner(db)
    runner.up("0013_table_search_text")
    history = version_history()
    history[1][0]["changes"] = {"description": [None, '«été» "quoted"\ttab']}
    populate_versions(db, history)
    read = "SELECT changes, pg_typeof(changes) FROM schema_version ORDER BY version_number"
    assert runner.up("0014_changes_as_json_text") == ["0014_changes_as_json_text"]
    assert db.execute_sql(read).fetchall() == [(changes, "json") for changes in history]
    runner.down()
    assert db.execute_sql(read).fetchall() == [(changes, "jsonb") for changes in history]
    db.close()


def test_migration_0021_marks_the_versions_the_designer_saved_by_itself(fresh_database):
    from designer.db import MIGRATIONS_DIR

    db = connect(fresh_database("dmd_automatic"))
    runner = migration_runner(db)
    names = sorted(path.stem for path in MIGRATIONS_DIR.glob("0*.py"))
    runner.up(names[names.index("0021_version_saved_automatically") - 1])
    messages = ["First", "Deployed", "Before import", "Before restoring version 1",
                "Deployed the shop", "Before adopting the database's schema"]  # fmt: skip
    populate_versions(db, [[] for _ in messages])
    for number, message in enumerate(messages, start=1):
        db.execute_sql(
            "UPDATE schema_version SET message = %s WHERE version_number = %s", (message, number)
        )
    runner.up("0021_version_saved_automatically")
    marked = db.execute_sql("SELECT automatic FROM schema_version ORDER BY version_number")
    assert [row[0] for row in marked.fetchall()] == [False, True, True, True, False, True]
    db.close()


def test_data_migrations_see_every_row_when_the_owner_is_not_a_superuser(server_url, roles):
    """Migrations run as the tables' owner, whom FORCE ROW LEVEL SECURITY binds: the runner
    lifts it for each migration, so backfills change the rows they are meant to, and 0024
    redoes the three that once ran blind."""
    from designer import rls
    from designer.db import MIGRATIONS_DIR

    name = f"dmd_owned_{uuid.uuid4().hex[:10]}"
    owner_url, _ = rls.provision(server_url, name, roles["owner"], roles["app"])
    admin = connect(rls.with_database(server_url, name))
    owner = connect(owner_url)
    try:
        # As a server upgraded before 0024 was: peewee's own runner, which lifts nothing.
        blind = Runner(owner, directory=str(MIGRATIONS_DIR))
        names = sorted(path.stem for path in MIGRATIONS_DIR.glob("0*.py"))
        blind.up(names[names.index("0013_table_search_text") - 1])
        populate_versions(admin, [[], []])  # as a superuser: rows RLS would hide from the owner
        admin.execute_sql("UPDATE schema_version SET message = 'Deployed' WHERE version_number = 2")
        project = admin.execute_sql("SELECT id FROM project").fetchone()[0]
        admin.execute_sql(
            "INSERT INTO data_table (project_id, name, table_name) VALUES (%s, 'Orders', 'orders')",
            (project,),
        )
        blind.up(names[names.index("0024_backfills_the_owner_could_not_see") - 1])
        assert admin.execute_sql("SELECT search_text FROM data_table").fetchone()[0] == ""
        migration_runner(owner).up()
        automatic = admin.execute_sql(
            "SELECT automatic FROM schema_version ORDER BY version_number"
        ).fetchall()
        assert [row[0] for row in automatic] == [False, True]
        assert "orders" in admin.execute_sql("SELECT search_text FROM data_table").fetchone()[0]
        reserved = admin.execute_sql("SELECT project_id FROM target_reservation").fetchall()
        assert reserved == [(project,)]
        # Row security binds the owner again once the migrations are over.
        forced = admin.execute_sql(
            "SELECT count(*) FROM pg_class WHERE relname IN ('project', 'schema_version')"
            " AND relforcerowsecurity"
        ).fetchone()[0]
        assert forced == 2
    finally:
        owner.close()
        admin.close()
        admin_url = rls.with_database(server_url, "postgres")
        conn = psycopg2.connect(admin_url)
        conn.autocommit = True
        conn.cursor().execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.close()
