"""Named types from the target's shared type schemas (an extension's, installed in public):
deployed and read back from pg_catalog; a schema any role may create in is not shared; a
type in another project's schema is refused however it is asked for (a type the target
lacks: tests/integration/test_exact_types.py)."""

import pytest

from designer import projects
from designer.database import deploy
from designer.design import fields
from designer.design import tables
from designer.errors import Conflict
from designer.settings import settings
from tests.on_target import on_target as rows

NAMED = {"data_type": "text", "text_type": "named"}


@pytest.fixture
def mood():
    """An enum in public: a stand-in for PostGIS's geometry, which pgserver does not ship."""
    rows("DROP TYPE IF EXISTS public.mood CASCADE")
    rows("CREATE TYPE public.mood AS ENUM ('ok', 'sad')")
    yield "mood"
    rows("DROP TYPE IF EXISTS public.mood CASCADE")


def column_types(schema, table):
    """{column: (type's schema, type's name)} as pg_catalog has them."""
    return {
        name: (namespace, type_name)
        for name, namespace, type_name in rows(
            "SELECT a.attname, n.nspname, t.typname FROM pg_attribute a"
            " JOIN pg_type t ON t.oid = a.atttypid JOIN pg_namespace n ON n.oid = t.typnamespace"
            " WHERE a.attrelid = %s::regclass AND a.attnum > 0 AND NOT a.attisdropped",
            (f'"{schema}"."{table}"',),
        )
    }


def test_a_type_installed_in_public_deploys_by_its_name_or_qualified(alice, shop, mood):
    table = tables.create_table(alice, shop.id, "Diary")
    fields.create_field(alice, table.id, {"name": "Feeling", **NAMED, "named_type": "mood"})
    fields.create_field(alice, table.id, {"name": "Was", **NAMED, "named_type": "public.mood"})
    fields.create_field(
        alice, table.id, {"name": "Days", **NAMED, "named_type": "mood", "array_dimensions": "1"}
    )
    _, deployment = deploy.transition(alice, table.id, "active")
    assert deployment.status == "applied", deployment.error
    found = column_types(shop.target_schema, "diary")
    assert found["feeling"] == found["was"] == ("public", "mood")
    assert found["days"] == ("public", "_mood")


def test_a_public_schema_any_role_may_create_in_is_not_shared(alice, shop, mood):
    # Where every role may create, one project could plant a type for another to pick up.
    rows("GRANT CREATE ON SCHEMA public TO PUBLIC")
    try:
        table = tables.create_table(alice, shop.id, "Diary")
        fields.create_field(alice, table.id, {"name": "Feeling", **NAMED, "named_type": "mood"})
        _, deployment = deploy.transition(alice, table.id, "active", dry_run=True)
        assert deployment.status == "dry_run_failed"
        assert "Column diary.feeling has type mood" in deployment.error
    finally:
        rows("REVOKE CREATE ON SCHEMA public FROM PUBLIC")


def test_a_type_in_another_projects_schema_is_refused_however_it_is_named(
    alice, shop, make_user, monkeypatch
):
    bob = make_user("bob")
    theirs = projects.create_project(bob, "Secrets")
    other = tables.create_table(bob, theirs.id, "Vault")
    fields.create_field(bob, other.id, {"name": "Gold"})
    deploy.transition(bob, other.id, "active")  # their schema exists, owned by their role
    rows(f"CREATE TYPE \"{theirs.target_schema}\".secret AS ENUM ('x')")
    # Even listed as a type schema (a misconfiguration), a project's schema is not shared.
    monkeypatch.setattr(settings, "type_schemas", ("public", theirs.target_schema))
    table = tables.create_table(alice, shop.id, "Thief")
    qualified = {"name": "Stolen", **NAMED, "named_type": f"{theirs.target_schema}.secret"}
    fields.create_field(alice, table.id, qualified)
    with pytest.raises(Conflict, match=f"names type secret in schema {theirs.target_schema}"):
        deploy.transition(alice, table.id, "active")
    bare = tables.create_table(alice, shop.id, "Bare")
    fields.create_field(alice, bare.id, {"name": "Stolen", **NAMED, "named_type": "secret"})
    _, deployment = deploy.transition(alice, bare.id, "active", dry_run=True)
    assert deployment.status == "dry_run_failed"
    assert "Column bare.stolen has type secret" in deployment.error
    # pg_catalog afterwards: no column of alice's schema has their type, no table was made.
    assert rows(
        "SELECT count(*) FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid"
        " WHERE c.relnamespace = to_regnamespace(%s) AND a.atttypid = %s::regtype",
        (shop.target_schema, f'"{theirs.target_schema}".secret'),
    ) == [(0,)]
    assert (
        rows(
            "SELECT relname FROM pg_class WHERE relnamespace = to_regnamespace(%s)"
            " AND relname IN ('thief', 'bare')",
            (shop.target_schema,),
        )
        == []
    )
