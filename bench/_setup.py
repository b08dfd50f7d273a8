"""What the bench scripts share: a fresh database on a throwaway or configured server, and
projects of thousands of tables inserted in bulk.

Importing it puts the project root on the path, so the scripts can import designer after it.
"""

import contextlib
import os
import pathlib
import sys
import uuid
from urllib.parse import urlsplit
from urllib.parse import urlunsplit

import psycopg2
from peewee import chunked

# Run as a script, only bench/ is on the path; designer lives one level up.
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

from designer.db import counting_queries
from designer.db import database
from designer.design.field_types import clean_field
from designer.design.tables import SYSTEM_FIELD
from designer.design.tables import definition_of
from designer.models import DataField
from designer.models import DataTable

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
FIELDS_PER_TABLE = 20  # besides the system id column
# Names are "<adjective> <noun> <n>": each of the 100 pairs names 1% of the tables.
ADJECTIVES = ("amber", "brisk", "coral", "dusty", "eager", "frosty", "gold", "iron", "jade", "keen")
NOUNS = ("ledger", "deed", "parcel", "voyage", "meadow", "harbor", "lamp", "quarry", "peak", "orb")
# What the fields cycle through: every data type, with the settings people give them.
KINDS = (
    {"data_type": "text", "max_length": "120"},
    {"data_type": "number", "number_type": "integer", "min": "0"},
    {"data_type": "date", "date_type": "date"},
    {"data_type": "boolean", "default_value": "false"},
    {"data_type": "text", "max_length": "2000", "min_length": "1"},
    {"data_type": "number", "number_type": "decimal", "precision": "14", "scale": "4"},
    {"data_type": "date", "date_type": "timestamptz", "default_value": "now()"},
    {"data_type": "text"},
)


def with_database(url, name):
    return urlunsplit(urlsplit(url)._replace(path="/" + name))


def admin_execute(url, sql):
    conn = psycopg2.connect(url)
    conn.autocommit = True  # CREATE/DROP DATABASE refuse to run in a transaction
    try:
        conn.cursor().execute(sql)
    finally:
        conn.close()


@contextlib.contextmanager
def postgres_server():
    """A maintenance URL: the configured server's, or an embedded server's (deleted after)."""
    external = os.environ.get("TEST_DATABASE_URL") or os.environ.get("BENCH_DATABASE_URL")
    if external:
        yield with_database(external, "postgres")
        return
    runtime = ROOT / ".run"
    runtime.mkdir(mode=0o700, exist_ok=True)
    os.environ["XDG_RUNTIME_DIR"] = str(runtime)
    import pgserver

    from designer.embedded import room_for_large_schemas

    server = pgserver.get_server(OUT / f"pg-{uuid.uuid4().hex[:8]}", cleanup_mode="delete")
    room_for_large_schemas(server)
    try:
        yield server.get_uri("postgres")
    finally:
        server.cleanup()


@contextlib.contextmanager
def fresh_database(server_url, roles=False):
    """A new database, dropped afterwards. With `roles`: set up for row-level security as
    `make run` does (an owner role and an app role of this run's own), yielding
    (superuser URL, owner URL, app URL); the roles are dropped after the database."""
    name = f"bench_{uuid.uuid4().hex[:10]}"
    admin_execute(server_url, f"CREATE DATABASE {name}")
    url = with_database(server_url, name)
    made = (f"bench_owner_{name[6:]}", f"bench_app_{name[6:]}") if roles else ()
    try:
        if roles:
            from designer import rls

            yield (url, *rls.provision(url, name, *made))
        else:
            yield url
    finally:
        if database.obj is not None:
            database.obj.close_all()
        admin_execute(server_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        for role in made:
            admin_execute(server_url, f"DROP ROLE IF EXISTS {role}")


# Benches count queries the way the tests do.
counting = counting_queries


def field_values():
    """The fields every table gets, validated as the designer would store them."""
    return [
        clean_field({"name": f"Column {i}", "is_required": i % 3 == 0, **KINDS[i % len(KINDS)]})
        for i in range(FIELDS_PER_TABLE)
    ]


def design(project, user, count):
    """`count` unsaved tables, and the fields of each (id first) by table id."""
    values = field_values()
    tables, columns_of = [], {}
    for i in range(count):
        words = f"{ADJECTIVES[i % 10]} {NOUNS[i // 10 % 10]} {i:05d}"
        table = DataTable(id=uuid.uuid4(), project=project.id, created_by=user.id)
        table.name, table.table_name = words.capitalize(), words.replace(" ", "_")
        columns = [DataField(id=uuid.uuid4(), data_table=table.id, **SYSTEM_FIELD)]
        columns += [
            DataField(id=uuid.uuid4(), data_table=table.id, sort_order=n + 1, **v)
            for n, v in enumerate(values)
        ]
        table.schema_definition = definition_of(table, columns)
        tables.append(table)
        columns_of[table.id] = columns
    return tables, columns_of


def insert_all(*groups):
    """Insert each (model, unsaved rows) group, 1,000 rows a statement, in one transaction."""
    with database.atomic():
        for model, rows in groups:
            # __data__ holds each row's values, defaults included, keyed by field name.
            for batch in chunked([row.__data__ for row in rows], 1000):
                model.insert_many(batch).execute()
