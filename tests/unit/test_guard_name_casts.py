"""The deploy guard and casts to a name type other than regclass: an object of the project's
schema or pg_catalog passes (OpenStreetMap's to_tsvector('english'::regconfig, body)), one of
another schema or a name that is not a constant is refused."""

import pytest
from pglast.stream import RawStream

from designer.database import statement_guard

INDEX = 'CREATE INDEX "i" ON "app"."notes" USING gin ((to_tsvector({}, "body")))'


@pytest.mark.parametrize(
    "config",
    [
        "'english'::regconfig",
        "CAST('english' AS regconfig)",
        "'pg_catalog.english'::regconfig",
        "'app.mine'::regconfig",
        """'"app"."Mine"'::regconfig""",
    ],
)
def test_a_text_search_configuration_of_the_schema_or_pg_catalog_passes(config):
    statement = statement_guard.check_statement(INDEX.format(config), "app")
    # Handed back as the index it is, its configuration still a constant cast to regconfig.
    assert type(statement).__name__ == "IndexStmt"
    assert statement.relation.schemaname == "app" and statement.relation.relname == "notes"
    assert "regconfig" in RawStream()(statement)


@pytest.mark.parametrize(
    "config",
    [
        "'other.english'::regconfig",
        "'db.pg_catalog.english'::regconfig",
        "('eng' || 'lish')::regconfig",
        "'pg_catalog.pg_class'::text::regclass::oid::regconfig",
        "'english; DROP'::regconfig",
    ],
)
def test_a_name_of_another_schema_or_not_a_constant_is_refused(config):
    with pytest.raises(statement_guard.RefusedStatement):
        statement_guard.check_statement(INDEX.format(config), "app")
