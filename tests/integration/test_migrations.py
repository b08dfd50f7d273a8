"""Migrations build exactly the schema the models declare, and only once."""

import psycopg2
import pytest
from peewee import PostgresqlDatabase

from designer.db import database
from designer.db import upgrade
from designer.models import MODELS
from tests.conftest import truncate_all

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
    from designer.db import migration_runner

    runner = migration_runner(db)
    runner.up()
    while runner.down():
        pass
    assert set(db.get_tables()) <= {"schema_migration"}
    assert runner.up()
    db.close()


def test_the_app_database_is_fully_migrated(app):
    truncate_all()
    assert upgrade(database.obj) == []
