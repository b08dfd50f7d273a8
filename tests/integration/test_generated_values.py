"""Identity and serial columns that are not the table's key: deployed, changed and read back
from pg_catalog (attidentity, the default as pg_get_expr, the sequence's owner in pg_depend)."""

import pytest
from pglast import parse_sql
from pglast.stream import RawStream

from designer import locks
from designer.database import deploy
from designer.database import drift
from designer.database import plans
from designer.database import statement_guard
from designer.design import fields
from designer.design import tables
from designer.errors import Conflict
from designer.errors import ValidationFailed
from designer.interchange import exports
from designer.interchange import imports
from designer.models import DataField
from designer.models import DataTable
from designer.settings import settings
from tests import fidelity
from tests.on_target import on_target as rows


def columns(schema, table):
    """{column: (attidentity, attnotnull, default, owned sequence)} of a deployed table."""
    return {
        name: (identity, not_null, default, owned)
        for name, identity, not_null, default, owned in rows(
            "SELECT a.attname, a.attidentity, a.attnotnull, pg_get_expr(d.adbin, d.adrelid),"
            " (SELECT s.relname FROM pg_depend dep JOIN pg_class s ON s.oid = dep.objid"
            "   WHERE dep.classid = 'pg_class'::regclass AND dep.refobjid = a.attrelid"
            "     AND dep.refobjsubid = a.attnum AND s.relkind = 'S' AND dep.deptype IN ('a', 'i'))"
            " FROM pg_attribute a"
            " LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum"
            " WHERE a.attrelid = %s::regclass AND a.attnum > 0 AND NOT a.attisdropped",
            (f'"{schema}"."{table}"',),
        )
    }


def number(name, **settings):
    return {"name": name, "data_type": "number", "number_type": "integer", **settings}


def test_identity_and_serial_columns_deploy_as_postgresql_makes_them(alice, shop):
    table = tables.create_table(alice, shop.id, "Tickets")
    fields.create_field(alice, table.id, number("Always", identity="always"))
    fields.create_field(
        alice, table.id, number("Small", number_type="smallint", identity="by_default")
    )
    fields.create_field(alice, table.id, number("Seat", serial=True))
    fields.create_field(alice, table.id, number("Big", number_type="bigint", serial="1"))
    _, deployment = deploy.transition(alice, table.id, "active")
    assert deployment.status == "applied", deployment.error
    found = columns(shop.target_schema, "tickets")
    assert found["always"] == ("a", True, None, "tickets_always_seq")
    assert found["small"] == ("d", True, None, "tickets_small_seq")
    # As PostgreSQL's serial makes it (and pg_dump writes it): the default names the
    # sequence, which the column owns (an auto dependency, dropped with the column).
    seat = f"nextval('{shop.target_schema}.tickets_seat_seq'::regclass)"
    assert found["seat"] == ("", True, seat, "tickets_seat_seq")
    assert found["big"][2] == f"nextval('{shop.target_schema}.tickets_big_seq'::regclass)"
    assert rows(
        "SELECT format_type(seqtypid, NULL) FROM pg_sequence WHERE seqrelid = %s::regclass",
        (f'"{shop.target_schema}"."tickets_big_seq"',),
    ) == [("bigint",)]
    # Drift builds the same design in a scratch schema and finds them equal.
    assert drift.check(alice, shop.id).differences == []
    rows(f'INSERT INTO "{shop.target_schema}".tickets DEFAULT VALUES')
    assert rows(f'SELECT always, small, seat, big FROM "{shop.target_schema}".tickets') == [
        (1, 1, 1, 1)
    ]


def test_generated_values_are_set_switched_and_removed_on_a_deployed_column(alice, shop):
    table = tables.create_table(alice, shop.id, "Seats")
    seat = fields.create_field(alice, table.id, number("Seat", is_required=True))
    deploy.transition(alice, table.id, "active")
    schema = shop.target_schema

    token = [None]

    def change(**settings):
        field = DataField.get_by_id(seat.id)
        fields.update_field(alice, field.id, field.revision, settings, token[0], partial=True)
        deployment = deploy.deploy(alice, shop.id, confirm=True)
        assert deployment.status == "applied", deployment.error
        return columns(schema, "seats")["seat"]

    serial = f"nextval('{schema}.seats_seat_seq'::regclass)"
    assert change(serial=True) == ("", True, serial, "seats_seat_seq")
    assert change(serial=False, identity="always") == ("a", True, None, "seats_seat_seq")
    assert change(identity="by_default") == ("d", True, None, "seats_seat_seq")
    # bigint is a change of type, a breaking one: under a critical lock.
    token[0] = str(locks.acquire(table.id, alice, "critical").lock_token)
    assert change(identity="", number_type="bigint", serial=True)[2:] == (serial, "seats_seat_seq")
    assert change(serial=False) == ("", True, None, None)
    assert rows(
        "SELECT relname FROM pg_class WHERE relnamespace = %s::regnamespace AND relkind = 'S'",
        (f'"{schema}"',),
    ) == [("seats_id_seq",)]  # the designer's id's own; the serial's went with it


@pytest.mark.parametrize(
    "settings, key",
    [
        ({"number_type": "numeric", "identity": "always"}, "identity"),
        ({"serial": True, "array_dimensions": "1"}, "serial"),
        ({"serial": True, "identity": "always"}, "serial"),
        ({"identity": "sometimes"}, "identity"),
        ({"serial": True, "default_value": "3"}, "default_value"),
    ],
)
def test_values_only_integers_generate_are_refused_next_to_their_input(alice, shop, settings, key):
    table = tables.create_table(alice, shop.id, "Odd")
    with pytest.raises(ValidationFailed) as refused:
        fields.create_field(alice, table.id, number("X", **settings))
    assert key in refused.value.fields


@pytest.mark.parametrize(
    "sql",
    [
        "CREATE TABLE app.t (a integer DEFAULT nextval('other.s'::regclass))",
        'CREATE TABLE app.t (a integer DEFAULT nextval(\'"other"."s"\'::regclass))',
        "CREATE TABLE app.t (a integer DEFAULT nextval('other.s'))",
        "ALTER TABLE app.t ALTER COLUMN a SET DEFAULT currval('x'::text)",
        "CREATE TABLE app.t (a integer DEFAULT ('other.s'::regclass)::integer)",
        "CREATE TABLE app.t (a integer DEFAULT nextval('db.app.s'::regclass))",
        "CREATE TABLE app.t (a integer DEFAULT nextval('app.s'::regtype::text::regclass))",
        "ALTER SEQUENCE app.s OWNED BY other.t.a",
    ],
)
def test_the_guard_refuses_a_sequence_named_outside_the_project_schema(sql):
    with pytest.raises(statement_guard.RefusedStatement):
        statement_guard.check_statement(sql, "app")


def test_the_guard_lets_the_plans_own_sequence_statements_through():
    for sql in (
        'CREATE SEQUENCE "app"."t_a_seq" AS integer',
        'CREATE TABLE "app"."t" ("a" integer DEFAULT nextval(\'"app"."t_a_seq"\'::regclass))',
        'ALTER SEQUENCE "app"."t_a_seq" OWNED BY "app"."t"."a"',
        'CREATE TABLE pg_temp.t (a integer DEFAULT nextval(\'"pg_temp"."t_a_seq"\'::regclass))',
    ):
        statement = statement_guard.check_statement(sql, "app")
        # Passed whole: the same statement comes back, every name in it kept.
        assert RawStream()(statement) == RawStream()(parse_sql(sql)[0].stmt)
        assert "t_a_seq" in RawStream()(statement)


# pg_dump's way with serial, identity both ways, a bigserial in CREATE TABLE, a sequence of
# its own name, and one that no column owns (a finding, its column's default with it).
PG_DUMP = """
CREATE TABLE public.actor (
    actor_id integer NOT NULL,
    code smallint GENERATED ALWAYS AS IDENTITY,
    n bigserial,
    name text
);
CREATE SEQUENCE public.actor_actor_id_seq
    AS integer START WITH 1 INCREMENT BY 1 NO MINVALUE NO MAXVALUE CACHE 1;
ALTER SEQUENCE public.actor_actor_id_seq OWNED BY public.actor.actor_id;
ALTER TABLE ONLY public.actor ALTER COLUMN actor_id
    SET DEFAULT nextval('public.actor_actor_id_seq'::regclass);
ALTER TABLE ONLY public.actor ADD CONSTRAINT actor_pkey PRIMARY KEY (actor_id);
CREATE TABLE public.film (
    film_id integer NOT NULL,
    rank bigint NOT NULL
);
ALTER TABLE public.film ALTER COLUMN rank ADD GENERATED BY DEFAULT AS IDENTITY (
    SEQUENCE NAME public.film_rank_seq START WITH 1 INCREMENT BY 1 NO MINVALUE NO MAXVALUE CACHE 1
);
CREATE SEQUENCE public.film_numbers;
ALTER SEQUENCE public.film_numbers OWNED BY public.film.film_id;
ALTER TABLE ONLY public.film ALTER COLUMN film_id
    SET DEFAULT nextval('public.film_numbers'::regclass);
CREATE SEQUENCE public.tickets;
CREATE TABLE public.sale (
    a integer DEFAULT nextval('public.tickets'::regclass),
    b integer DEFAULT nextval('public.tickets'::regclass)
);
"""


def test_a_pg_dump_s_serial_and_identity_columns_deploy_back_equal_in_pg_catalog(
    alice, fresh_database, deploy_database_url
):
    source_url = fresh_database("dmd_source")
    fidelity.apply_with_psql(source_url, PG_DUMP)
    plan, schema, _ = fidelity.import_and_deploy(alice, "serials", PG_DUMP)
    lines = fidelity.Lines(PG_DUMP)
    source = fidelity.read_catalog(source_url, "public")
    deployed = fidelity.read_catalog(deploy_database_url, schema)
    comparison = fidelity.compare(source, deployed, lines)
    # The shared sequence's two defaults are lost, and said so; nothing else differs.
    assert sorted((d.table, d.detail, d.what) for d in comparison.differences) == [
        ("sale", "a", "column default"),
        ("sale", "b", "column default"),
    ]
    assert not fidelity.unnamed(comparison, plan, lines)
    assert fidelity.unaccounted(plan, lines) == []
    assert deployed.tables["actor"].columns["actor_id"].sequence == "actor_actor_id_seq"
    assert deployed.tables["film"].columns["film_id"].default == (
        "nextval('film_numbers'::regclass)"
    )
    assert deployed.tables["film"].columns["rank"].identity == "d"
    assert deployed.tables["actor"].columns["code"].identity == "a"


def generation_of(schema, table, column):
    """(attgenerated, pg_get_expr of its expression) of a deployed column."""
    (found,) = rows(
        "SELECT a.attgenerated, pg_get_expr(d.adbin, d.adrelid) FROM pg_attribute a"
        " LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum"
        " WHERE a.attrelid = %s::regclass AND a.attname = %s",
        (f'"{schema}"."{table}"', column),
    )
    return found


def test_a_generated_column_deploys_follows_renames_and_changes_its_expression(alice, shop):
    table = tables.create_table(alice, shop.id, "Films")
    length = fields.create_field(alice, table.id, number("Length"))
    hours = fields.create_field(
        alice, table.id,
        {"name": "Hours", "data_type": "number", "number_type": "decimal", "precision": "6",
         "scale": "2", "generated": "round(length / 60.0, 2)", "indexed": True},
    )  # fmt: skip
    # Stored with its column by field id (as a CHECK is): a rename changes nothing stored.
    assert hours.field_config["generated"] == f'round("{length.id}" / 60.0, 2)'
    deploy.transition(alice, table.id, "active")
    schema = shop.target_schema
    assert generation_of(schema, "films", "hours") == ("s", "round(((length)::numeric / 60.0), 2)")
    rows(f'INSERT INTO "{schema}".films (length) VALUES (90)')
    token = str(locks.acquire(table.id, alice, "critical").lock_token)

    def change(field_id, **settings):
        field = DataField.get_by_id(field_id)
        fields.update_field(alice, field.id, field.revision, settings, token, partial=True)
        return plans.plan_for(alice, shop.id).steps

    steps = change(length.id, field_name="minutes")
    assert [s.sql.split(" RENAME ")[1] for s in steps] == ['COLUMN "length" TO "minutes"']
    deployment = deploy.deploy(alice, shop.id, confirm=True)
    assert deployment.status == "applied", deployment.error
    assert generation_of(schema, "films", "hours")[1] == "round(((minutes)::numeric / 60.0), 2)"
    # A new expression: PostgreSQL 16 cannot change one, so the column is dropped and added
    # again (a risk the plan counts), and its index built again.
    steps = change(hours.id, generated="minutes / 60")
    assert [s.kind for s in steps][:2] == ["blocking", "blocking"]
    assert "DROP COLUMN" in steps[0].sql and "GENERATED ALWAYS AS" in steps[1].sql
    assert any("CREATE INDEX" in s.sql for s in steps)
    deployment = deploy.deploy(alice, shop.id, confirm=True)
    assert deployment.status == "applied", deployment.error
    assert generation_of(schema, "films", "hours") == ("s", "(minutes / 60)")
    assert rows(f'SELECT hours FROM "{schema}".films') == [(1,)]
    assert rows(
        "SELECT count(*) FROM pg_index WHERE indrelid = %s::regclass", (f'"{schema}"."films"',)
    ) == [(2,)]  # the key's and the generated column's
    assert drift.check(alice, shop.id).differences == []
    # No longer generated: the values stay (DROP EXPRESSION).
    change(hours.id, generated="")
    deployment = deploy.deploy(alice, shop.id, confirm=True)
    assert deployment.status == "applied", deployment.error
    assert generation_of(schema, "films", "hours") == ("", None)
    assert rows(f'SELECT hours FROM "{schema}".films') == [(1,)]


@pytest.mark.parametrize(
    "expression, problem",
    [
        ("nextval('s')", "not a function a design may call"),
        ("(SELECT 1)", "subquery"),
        ("other.length * 2", "on its own"),
        ("nope * 2", "not a column of this table"),
    ],
)
def test_a_generated_expression_outside_the_allowlist_is_refused(alice, shop, expression, problem):
    table = tables.create_table(alice, shop.id, "Odd")
    fields.create_field(alice, table.id, number("Length"))
    with pytest.raises(ValidationFailed) as refused:
        fields.create_field(alice, table.id, number("X", generated=expression))
    assert problem in refused.value.fields["generated"]


LIVE = """
CREATE SCHEMA live;
CREATE TABLE live.films (id serial PRIMARY KEY, code integer GENERATED ALWAYS AS IDENTITY,
    length integer, hours numeric GENERATED ALWAYS AS (length / 60.0) STORED);
"""


@pytest.fixture
def live(roles):
    rows(f"SET ROLE {roles['target']};" + LIVE)
    settings.import_target_schemas = frozenset({"live"})
    yield "live"
    settings.import_target_schemas = frozenset()
    rows("DROP SCHEMA live CASCADE")


def test_a_live_schema_imports_its_serial_identity_and_generated_columns(alice, shop, live, api):
    response = api(alice).post(
        f"/projects/{shop.id}/import/database", json={"schema": live, "confirm": True}
    )
    assert response.status_code == 201, response.json
    films = DataTable.get(DataTable.table_name == "films")
    config = {f.field_name: f.field_config for f in tables.ordered_fields(films.id)}
    assert config["id"]["serial"] is True and config["code"]["identity"] == "always"
    length_id = next(f.id for f in tables.ordered_fields(films.id) if f.field_name == "length")
    # As the catalog writes it ((length)::numeric / 60.0), by field id.
    assert config["hours"]["generated"] == f'CAST("{length_id}" AS numeric) / 60.0'


def test_a_generated_column_added_by_hand_is_adopted_and_put_back(alice, shop):
    table = tables.create_table(alice, shop.id, "Films")
    fields.create_field(alice, table.id, number("Length"))
    deploy.transition(alice, table.id, "active")
    schema = shop.target_schema
    rows(f'ALTER TABLE "{schema}".films ADD COLUMN hours numeric'
         " GENERATED ALWAYS AS (length / 60.0) STORED")  # fmt: skip
    lines = drift.check(alice, shop.id).differences
    assert any("hours" in line for line in lines), lines
    redone = drift.redeploy(alice, shop.id, confirm=True)
    assert redone.status == "applied", redone.error
    assert drift.check(alice, shop.id).differences == []
    rows(f'ALTER TABLE "{schema}".films ADD COLUMN hours numeric'
         " GENERATED ALWAYS AS (length / 60.0) STORED")  # fmt: skip
    adopted = drift.adopt(alice, shop.id)
    assert adopted.status == "applied"
    assert drift.check(alice, shop.id).differences == []
    hours = next(f for f in tables.ordered_fields(table.id) if f.field_name == "hours")
    assert fields.generated_text(hours) == "CAST(length AS numeric) / 60.0"


def test_a_column_a_generated_one_reads_stays_until_its_expression_changes(alice, shop):
    table = tables.create_table(alice, shop.id, "Films")
    length = fields.create_field(alice, table.id, number("Length"))
    hours = fields.create_field(alice, table.id, number("Hours", generated="length * 2"))
    with pytest.raises(Conflict, match="Hours is generated from Length"):
        fields.delete_field(alice, length.id)
    hours = DataField.get_by_id(hours.id)
    fields.update_field(alice, hours.id, hours.revision, {"generated": "2"}, partial=True)
    fields.delete_field(alice, length.id)
    assert [f.field_name for f in tables.ordered_fields(table.id)] == ["id", "hours"]


@pytest.mark.parametrize("kind", ["sql", "json", "dbml"])
def test_generated_values_make_the_round_trip_through_each_export(alice, shop, kind):
    table = tables.create_table(alice, shop.id, "Films")
    fields.create_field(alice, table.id, number("Length"))
    code = number("Code", identity="always", sequence_name="codes", sequence_start="5")
    fields.create_field(alice, table.id, code)
    seat = number("Seat", number_type="bigint", serial=True, sequence_increment="-1")
    fields.create_field(alice, table.id, {**seat, "sequence_start": "-1"})
    fields.create_field(alice, table.id, number("Twice", generated="length * 2", virtual=True))
    text = exports.export_design(alice, shop.id, kind).text
    project, _, _ = imports.import_new_project(alice, "Again", kind, text)
    again = DataTable.get(DataTable.project == project.id, DataTable.table_name == "films")

    def shown(table_id):
        return {
            f.field_name: (
                {k: v for k, v in f.field_config.items() if k != "generated"},
                fields.generated_text(f),
                f.is_required,
            )
            for f in tables.ordered_fields(table_id)
        }

    assert shown(again.id) == shown(table.id)


def sequence_of(schema, name):
    return rows(
        "SELECT seqstart, seqincrement FROM pg_sequence WHERE seqrelid = %s::regclass",
        (f'"{schema}"."{name}"',),
    )[0]


def test_where_a_sequence_starts_and_how_it_steps_deploy_and_change(alice, shop):
    table = tables.create_table(alice, shop.id, "Queue")
    code = fields.create_field(
        alice, table.id, number("Code", identity="by_default", sequence_start="100")
    )
    seat = fields.create_field(alice, table.id, number("Seat", serial=True, sequence_increment="5"))
    deploy.transition(alice, table.id, "active")
    schema = shop.target_schema
    assert sequence_of(schema, "queue_code_seq") == (100, 1)
    assert sequence_of(schema, "queue_seat_seq") == (1, 5)
    for field, change in ((code, {"sequence_increment": "10"}), (seat, {"sequence_start": "7"})):
        field = DataField.get_by_id(field.id)
        fields.update_field(alice, field.id, field.revision, change, partial=True)
    deployment = deploy.deploy(alice, shop.id, confirm=True)
    assert deployment.status == "applied", deployment.error
    assert sequence_of(schema, "queue_code_seq") == (100, 10)
    assert sequence_of(schema, "queue_seat_seq") == (7, 5)
    assert not plans.has_pending(plans.plan_for(alice, shop.id))
