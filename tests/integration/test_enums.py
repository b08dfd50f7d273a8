"""Project enums: kept per project, deployed as CREATE TYPE ... AS ENUM, evolved with ALTER
TYPE (never dropped while used), carried by snapshots, versions, exports and imports."""

import json

import pytest

from designer.database import deploy
from designer.database.statement_guard import RefusedStatement
from designer.database.statement_guard import check_statement
from designer.design import enums
from designer.design import fields
from designer.design import tables
from designer.errors import Conflict
from designer.errors import ValidationFailed
from designer.history import snapshot as snapshots
from designer.history import versions
from designer.interchange import exports
from designer.interchange import imports
from designer.models import ProjectEnum
from tests.on_target import on_target as rows


def labels_on_target(schema, name):
    found = rows(
        "SELECT e.enumlabel FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid"
        " WHERE t.typname = %s AND t.typnamespace = %s::regnamespace ORDER BY e.enumsortorder",
        (name, f'"{schema}"'),
    )
    return [label for (label,) in rows_or_empty(found)]


def rows_or_empty(found):
    return found or []


@pytest.fixture
def mood(alice, shop):
    return enums.create_enum(alice, shop.id, "mood", ["sad", "ok"])


def test_an_enum_field_deploys_with_its_type_and_evolves_by_alter_type(alice, shop, mood, api):
    table = tables.create_table(alice, shop.id, "Diary")
    spec = {"name": "Mood", "data_type": "text", "text_type": "enum", "enum_id": str(mood.id)}
    fields.create_field(alice, table.id, {**spec, "default_value": "ok"})
    _, deployment = deploy.transition(alice, table.id, "active")
    assert deployment.status == "applied", deployment.error
    assert 'CREATE TYPE "shop"."mood" AS ENUM' in deployment.sql
    assert labels_on_target("shop", "mood") == ["sad", "ok"]
    rows("INSERT INTO shop.diary (mood) VALUES ('sad'), (DEFAULT)")
    client = api(alice)
    changed = client.patch(
        f"/enums/{mood.id}", json={"labels": ["blue", "meh", "ok", "great"], "revision": 1}
    )
    assert changed.status_code == 200, changed.json
    deployment = deploy.deploy(alice, shop.id)
    assert deployment.status == "applied", deployment.error
    assert labels_on_target("shop", "mood") == ["blue", "meh", "ok", "great"]
    assert rows("SELECT mood::text FROM shop.diary ORDER BY id") == [("blue",), ("ok",)]
    gone = client.patch(f"/enums/{mood.id}", json={"labels": ["blue", "ok"], "revision": 2})
    assert gone.status_code == 422 and "labels" in gone.json["error"]["fields"]
    with pytest.raises(Conflict, match="diary.mood"):
        enums.delete_enum(alice, mood.id)


def test_a_snapshot_carries_enums_only_when_there_are_some(alice, shop):
    tables.create_table(alice, shop.id, "Plain")
    assert "enums" not in snapshots.build(shop.id)
    made = enums.create_enum(alice, shop.id, "size", ["s", "m", "l"])
    built = snapshots.build_with_canonical(shop.id)
    assert built.snapshot["enums"] == {str(made.id): enums.entry(made)}
    assert built.canonical == snapshots.canonical_json(built.snapshot)
    version = versions.save_version(alice, shop.id, "with an enum")
    assert versions.snapshot_of(version)["enums"] == built.snapshot["enums"]
    assert snapshots.snapshot_hash(versions.snapshot_of(version)) == version.schema_hash


def test_json_export_imports_back_with_its_enums(alice, shop, mood):
    table = tables.create_table(alice, shop.id, "Diary")
    spec = {"name": "Mood", "data_type": "text", "text_type": "enum", "enum_id": str(mood.id)}
    fields.create_field(alice, table.id, spec)
    text = exports.export_design(alice, shop.id, "json").text
    assert json.loads(text)["enums"][str(mood.id)]["labels"] == ["sad", "ok"]
    sql = exports.export_design(alice, shop.id, "sql").text
    assert sql.index('CREATE TYPE "shop"."mood"') < sql.index('CREATE TABLE "shop"."diary"')
    assert '"mood" "shop"."mood"' in sql
    dbml = exports.export_design(alice, shop.id, "dbml").text
    assert 'Enum "mood" {' in dbml and '"mood" "mood"' in dbml
    project, _, _ = imports.import_new_project(alice, "Copy", "json", text)
    copied = snapshots.build(project.id)
    assert [e["labels"] for e in copied["enums"].values()] == [["sad", "ok"]]


def test_an_sql_file_s_enums_become_project_enums(alice, shop):
    text = (
        "CREATE TYPE public.rating AS ENUM ('G', 'PG', 'R');\n"
        "ALTER TYPE public.rating ADD VALUE 'NC-17' AFTER 'R';\n"
        "CREATE TABLE film (id serial PRIMARY KEY,"
        " rating public.rating DEFAULT 'G'::public.rating);\n"
    )
    plan, _ = imports.import_into(alice, shop.id, "sql", text)
    assert not [f for f in plan.findings if "enum" in f.message]
    (enum,) = ProjectEnum.select().where(ProjectEnum.project == shop.id)
    assert (enum.name, enum.labels) == ("rating", ["G", "PG", "R", "NC-17"])


@pytest.mark.parametrize(
    ("name", "labels"),
    [('mood"; DROP TABLE x; --', ["a"]), ("mood", []), ("mood", ["a", "a"]), ("mood", ["x" * 64])],
)
def test_hostile_or_broken_enums_are_refused_next_to_their_input(alice, shop, name, labels):
    with pytest.raises(ValidationFailed):
        enums.create_enum(alice, shop.id, name, labels)


def test_a_label_is_always_a_literal_on_the_target(alice, shop):
    made = enums.create_enum(alice, shop.id, "quote", ["it's", "'); DROP SCHEMA shop; --"])
    table = tables.create_table(alice, shop.id, "Quotes")
    spec = {"name": "Q", "data_type": "text", "text_type": "enum", "enum_id": str(made.id)}
    fields.create_field(alice, table.id, spec)
    _, deployment = deploy.transition(alice, table.id, "active")
    assert deployment.status == "applied", deployment.error
    assert labels_on_target("shop", "quote") == ["it's", "'); DROP SCHEMA shop; --"]


@pytest.mark.parametrize(
    "sql",
    [
        "CREATE TYPE public.m AS ENUM ('a')",
        "CREATE TYPE m AS ENUM ('a')",
        "ALTER TYPE other.m ADD VALUE 'x'",
        "ALTER TYPE public.m RENAME TO x",
        "DROP TYPE public.m",
        "ALTER TYPE shop.m OWNER TO postgres",
        "CREATE TYPE shop.c AS (a int)",
    ],
)
def test_the_statement_guard_refuses_enum_statements_outside_the_project_schema(sql):
    with pytest.raises(RefusedStatement):
        check_statement(sql, "shop")


def test_a_deployed_design_with_enums_and_exact_types_shows_no_drift(alice, shop, mood):
    from designer.database import drift  # noqa: PLC0415

    table = tables.create_table(alice, shop.id, "Diary")
    for spec in (
        {"name": "Mood", "data_type": "text", "text_type": "enum", "enum_id": str(mood.id)},
        {"name": "Moods", "data_type": "text", "text_type": "enum", "enum_id": str(mood.id),
         "array_dimensions": "1"},
        {"name": "At", "data_type": "date", "date_type": "timestamptz", "time_precision": "3"},
        {"name": "Tag", "data_type": "text", "text_type": "uuid"},
    ):  # fmt: skip
        fields.create_field(alice, table.id, spec)
    _, deployment = deploy.transition(alice, table.id, "active")
    assert deployment.status == "applied", deployment.error
    assert drift.check(alice, shop.id).differences == []
    rows("ALTER TABLE shop.diary ALTER COLUMN at TYPE timestamptz(6)")
    assert drift.check(alice, shop.id).differences != []
