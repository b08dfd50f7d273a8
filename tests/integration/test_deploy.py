"""Deploying designs to a real target: apply, dry run, refusals, failures and lifecycle."""

import psycopg2
import pytest

from designer import locks
from designer.database import deploy
from designer.database import plans
from designer.database import records
from designer.database import reservations
from designer.database import target
from designer.database.catalog import read_catalog
from designer.database.ddl_terms import Step
from designer.design import fields
from designer.design import relationships
from designer.design import tables
from designer.design.field_types import field_as_input
from designer.errors import Conflict
from designer.errors import Locked
from designer.history import versions
from designer.interchange import exports
from designer.models import DataField
from designer.models import DataTable
from designer.models import Deployment
from designer.models import SchemaVersion
from designer.settings import settings
from tests.on_target import connect as on_target_connect
from tests.on_target import on_target as rows


def catalog_and_rows(schema, table):
    conn = on_target_connect()
    try:
        with conn.cursor() as cursor:
            found = read_catalog(cursor, schema)
            cursor.execute(f'SELECT * FROM "{schema}"."{table}" ORDER BY 1')
            return found, cursor.fetchall()
    finally:
        conn.close()


def make_table(user, project, name, *field_specs):
    table = tables.create_table(user, project.id, name)
    made = [fields.create_field(user, table.id, spec) for spec in field_specs]
    return table, made


@pytest.fixture
def customers(alice, shop):
    table, _ = make_table(alice, shop, "Customers", {"name": "Email", "is_required": "on"})
    return table


@pytest.fixture
def orders(alice, shop, customers):
    table, _ = make_table(alice, shop, "Orders", {"name": "Total", "data_type": "number"})
    relationships.create_relationship(
        alice, shop.id, {"source_table_id": customers.id, "target_table_id": table.id}
    )
    return table


def test_activating_two_related_tables_deploys_them(alice, shop, customers, orders):
    table, deployment = deploy.transition(alice, customers.id, "active")
    assert table.status == "active" and deployment.status == "applied"
    _, deployment = deploy.transition(alice, orders.id, "active")
    assert deployment.status == "applied"
    assert 'FOREIGN KEY ("customer_id") REFERENCES "shop"."customers"' in deployment.sql
    rows("INSERT INTO shop.customers (email) VALUES (%s)", ("a@example.com",))
    rows("INSERT INTO shop.orders (total, customer_id) VALUES (5, 1)")
    with pytest.raises(psycopg2.errors.ForeignKeyViolation):
        rows("INSERT INTO shop.orders (total, customer_id) VALUES (5, 99)")
    assert DataTable.get_by_id(orders.id).deployed_at is not None
    assert SchemaVersion.select().where(SchemaVersion.project == shop.id).count() == 2


def test_a_deploy_of_the_whole_design_keeps_its_snapshot_once_in_its_version(
    alice, shop, customers, orders
):
    # customers alone: orders is still a draft, so the target holds less than the design.
    _, partial = deploy.transition(alice, customers.id, "active")
    stored = Deployment.get_by_id(partial.id)
    assert set(stored.deployed_snapshot["tables"]) == {str(customers.id)}
    _, whole = deploy.transition(alice, orders.id, "active")
    stored = Deployment.get_by_id(whole.id)
    assert stored.deployed_snapshot is None
    assert stored.to_hash == stored.version.schema_hash
    # Read back from the version (a fresh process has no cache): nothing is pending.
    versions.cache.clear()
    assert (
        records.deployed_snapshot(records.last_applied(shop.id)) == stored.version.schema_snapshot
    )
    assert not plans.has_pending(plans.plan_for(alice, shop.id))


def test_a_dry_run_changes_nothing_and_is_recorded(alice, shop, customers):
    _, dry = deploy.transition(alice, customers.id, "active", dry_run=True)
    assert dry.status == "dry_run_ok"
    assert all(step["outcome"] == "ok" for step in dry.plan)
    # The project's schema is made with its role before anything runs; the dry run left
    # nothing in it.
    assert rows(
        "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = 'shop'"
    ) == [(0,)]
    assert DataTable.get_by_id(customers.id).status == "draft"
    assert SchemaVersion.select().count() == 0


def test_not_null_over_nulls_is_refused_with_the_count(alice, shop):
    table, (note,) = make_table(alice, shop, "Notes", {"name": "Body"})
    deploy.transition(alice, table.id, "active")
    rows("INSERT INTO shop.notes (body) VALUES (NULL), (NULL), ('x')")
    fields.update_field(alice, note.id, note.revision, {"is_required": True}, partial=True)
    versions_before = SchemaVersion.select().count()
    deployment = deploy.deploy(alice, shop.id)
    assert deployment.status == "failed"
    assert "2 rows" in deployment.error and "VALIDATE CONSTRAINT" in deployment.error
    assert SchemaVersion.select().count() == versions_before
    assert rows(
        "SELECT is_nullable FROM information_schema.columns WHERE column_name = 'body'"
    ) == [("YES",)]


def test_text_to_number_over_bad_values_fails_in_dry_run_naming_statement_and_value(alice, shop):
    table, (code,) = make_table(alice, shop, "Codes", {"name": "Code"})
    deploy.transition(alice, table.id, "active")
    rows("INSERT INTO shop.codes (code) VALUES ('12'), ('abc')")
    lock = locks.acquire(table.id, alice, "critical")
    fields.update_field(
        alice, code.id, code.revision, {"data_type": "number"}, lock.lock_token, partial=True
    )
    deployment = deploy.deploy(alice, shop.id, dry_run=True)
    assert deployment.status == "dry_run_failed"
    assert 'ALTER TABLE "shop"."codes" ALTER COLUMN "code" TYPE integer' in deployment.error
    assert '"abc"' in deployment.error
    failed = [step for step in deployment.plan if step["outcome"] == "failed"]
    assert failed and failed[0]["affected_rows"] == 1


def test_a_failure_at_any_step_leaves_the_target_as_it_was(alice, shop, customers):
    deploy.transition(alice, customers.id, "active")
    rows("INSERT INTO shop.customers (email) VALUES ('a'), ('b')")
    before = catalog_and_rows("shop", "customers")
    # A real pending plan: a rename (whose key and index names follow), a new unique
    # column with a check, a description.
    revision = DataTable.get_by_id(customers.id).revision
    tables.update_table(alice, customers.id, revision, table_name="people", description="Who buys")
    fields.create_field(alice, customers.id, {"name": "Code", "unique": "on", "min_length": "2"})
    email = next(f for f in tables.ordered_fields(customers.id) if f.field_name == "email")
    fields.update_field(alice, email.id, email.revision, {"field_name": "mail"}, partial=True)
    plan = plans.plan_for(alice, shop.id)
    assert len(plan.steps) >= 6
    for position in range(len(plan.steps) + 1):
        injected = Step("SELECT 1/0", "safe", "injected")
        steps = [*plan.steps[:position], injected, *plan.steps[position:]]
        outcome = target.run_plan(steps, reservations.tenant_of(shop), apply=True)
        assert "division by zero" in outcome.error and not outcome.committed
        assert catalog_and_rows("shop", "customers") == before
    assert deploy.deploy(alice, shop.id).status == "applied"
    assert catalog_and_rows("shop", "people") != before


def test_dropping_a_column_with_data_needs_confirmation_and_a_critical_lock(alice, shop):
    table, (note, keep) = make_table(alice, shop, "Notes", {"name": "Body"}, {"name": "Keep"})
    deploy.transition(alice, table.id, "active")
    rows("INSERT INTO shop.notes (body) VALUES ('lost')")
    lock = locks.acquire(table.id, alice, "critical")
    fields.delete_field(alice, note.id, lock.lock_token)
    locks.release(lock.lock_token, alice)
    with pytest.raises(Conflict) as refused:
        deploy.deploy(alice, shop.id)
    assert refused.value.details["steps"][0]["affected_rows"] == 1
    with pytest.raises(Locked):
        deploy.deploy(alice, shop.id, confirm=True)
    assert Deployment.select().where(Deployment.status == "applied").count() == 1
    locks.acquire(table.id, alice, "critical")
    assert deploy.deploy(alice, shop.id, confirm=True).status == "applied"
    assert rows("SELECT keep FROM shop.notes") == [(None,)]


def test_a_pessimistic_lock_is_not_enough_for_a_confirmed_destructive_deploy(alice, shop):
    table, (note, _) = make_table(alice, shop, "Notes", {"name": "Body"}, {"name": "Keep"})
    deploy.transition(alice, table.id, "active")
    rows("INSERT INTO shop.notes (body) VALUES ('kept')")
    lock = locks.acquire(table.id, alice, "critical")
    fields.delete_field(alice, note.id, lock.lock_token)
    locks.release(lock.lock_token, alice)
    locks.acquire(table.id, alice, "pessimistic")
    with pytest.raises(Locked, match="critical lock"):
        deploy.deploy(alice, shop.id, confirm=True)
    assert rows("SELECT body FROM shop.notes") == [("kept",)]  # the column and its data
    assert Deployment.select().where(Deployment.status == "applied").count() == 1


def test_keywords_and_63_byte_names_deploy(alice, shop):
    # The designer refuses reserved words (the oracle test deploys those from snapshots);
    # unreserved keywords like these still must be quoted everywhere.
    long_name = "t" * 63
    table, _ = make_table(
        alice,
        shop,
        "Comment",
        {"name": "Type", "unique": "on"},
        {"name": "c" * 63, "indexed": "on"},
    )
    other = tables.create_table(alice, shop.id, "Long", table_name=long_name)
    fields.create_field(alice, other.id, {"name": "x", "field_name": "x" * 63, "unique": "on"})
    assert deploy.transition(alice, table.id, "active")[1].status == "applied"
    assert deploy.transition(alice, other.id, "active")[1].status == "applied"
    assert rows(f"SELECT count(*) FROM shop.{long_name}") == [(0,)]
    assert rows('SELECT "type" FROM shop."comment"') == []


def test_self_reference_and_many_to_many_junctions_deploy(alice, shop):
    people, _ = make_table(alice, shop, "People", {"name": "Name"})
    groups, _ = make_table(alice, shop, "Teams", {"name": "Name"})
    relationships.create_relationship(
        alice, shop.id, {"source_table_id": people.id, "target_table_id": people.id}
    )
    link = relationships.create_relationship(
        alice,
        shop.id,
        {
            "source_table_id": people.id,
            "target_table_id": groups.id,
            "relationship_type": "many_to_many",
        },
    )
    junction = DataTable.get_by_id(link.target_table_id)
    fields.create_field(alice, junction.id, {"name": "Role"})
    for table in (people, groups, junction):
        assert deploy.transition(alice, table.id, "active")[1].status == "applied"
    rows("INSERT INTO shop.people (name, parent_id) VALUES ('boss', NULL), ('me', 1)")
    rows("INSERT INTO shop.teams (name) VALUES ('red')")
    rows("INSERT INTO shop.people_teams (person_id, team_id, role) VALUES (2, 1, 'x')")
    assert rows("SELECT count(*) FROM shop.people_teams") == [(1,)]
    # Each pair once: the junction's two keys are unique together.
    with pytest.raises(psycopg2.errors.UniqueViolation):
        rows("INSERT INTO shop.people_teams (person_id, team_id, role) VALUES (2, 1, 'y')")


def test_a_junctions_pair_is_unique_kept_through_edits_and_counted_when_added(alice, shop):
    students, _ = make_table(alice, shop, "Students", {"name": "Name"})
    courses, _ = make_table(alice, shop, "Courses", {"name": "Name"})
    link = relationships.create_relationship(
        alice,
        shop.id,
        {
            "source_table_id": students.id,
            "target_table_id": courses.id,
            "relationship_type": "many_to_many",
        },
    )
    junction = link.target_table_id
    first, second = (
        DataField.get(DataField.data_table == junction, DataField.field_name == name)
        for name in ("student_id", "course_id")
    )
    assert second.field_config["unique_with"] == [str(first.id)]
    # The field form has no input for the pair; saving it keeps the pair all the same.
    form = {k: v for k, v in field_as_input(second).items() if k != "unique_with"}
    fields.update_field(alice, second.id, second.revision, {**form, "name": "Course"})
    assert DataField.get_by_id(second.id).field_config["unique_with"] == [str(first.id)]
    assert 'UNIQUE ("student_id", "course_id")' in exports.export_design(alice, shop.id, "sql").text
    # A junction deployed without the pair (built before it existed) gets it as a
    # data-dependent step that counts the repeated pairs.
    paired = DataField.get_by_id(second.id).field_config
    unpaired = {k: v for k, v in paired.items() if k != "unique_with"}
    DataField.update(field_config=unpaired).where(DataField.id == second.id).execute()
    for table in (students, courses, DataTable.get_by_id(junction)):
        assert deploy.transition(alice, table.id, "active")[1].status == "applied"
    rows("INSERT INTO shop.students (name) VALUES ('ann')")
    rows("INSERT INTO shop.courses (name) VALUES ('sql')")
    rows("INSERT INTO shop.students_courses (student_id, course_id) VALUES (1, 1), (1, 1), (1, 1)")
    DataField.update(field_config=paired).where(DataField.id == second.id).execute()
    failed = deploy.deploy(alice, shop.id)
    assert failed.status == "failed" and "2 rows" in failed.error
    rows("DELETE FROM shop.students_courses WHERE id > 1")
    applied = deploy.deploy(alice, shop.id)
    assert applied.status == "applied"
    pair = next(step for step in applied.plan if "UNIQUE" in step["sql"])
    assert pair["kind"] == "data_dependent" and pair["affected_rows"] == 0


def test_deploys_to_one_schema_are_serialized_by_an_advisory_lock(alice, shop, notes):
    holder = target.connect()
    holder.cursor().execute("SELECT pg_advisory_lock(hashtextextended('dmd:shop', 0))")
    saved = settings.deploy_lock_timeout_ms
    settings.deploy_lock_timeout_ms = 200
    try:
        _, dry = deploy.transition(alice, notes.id, "active", dry_run=True)
    finally:
        settings.deploy_lock_timeout_ms = saved
        holder.close()
    assert dry.status == "dry_run_failed"
    assert "could not start on shop" in dry.error and "lock timeout" in dry.error
    assert deploy.transition(alice, notes.id, "active")[1].status == "applied"


def test_an_unreachable_target_fails_cleanly(alice, shop, notes):
    saved = settings.deploy_database_url
    settings.deploy_database_url = "postgresql://nobody@127.0.0.1:1/nothing"
    try:
        with pytest.raises(Conflict) as refused:
            deploy.transition(alice, notes.id, "active")
    finally:
        settings.deploy_database_url = saved
    assert "cannot be reached" in refused.value.message
    assert DataTable.get_by_id(notes.id).status == "draft"


def test_duplicates_under_a_new_unique_are_counted_and_fail_the_deploy(alice, shop, notes):
    deploy.transition(alice, notes.id, "active")
    rows("INSERT INTO shop.notes (body) VALUES ('a'), ('a'), ('a'), ('b'), (NULL), (NULL)")
    body = next(f for f in tables.ordered_fields(notes.id) if f.field_name == "body")
    fields.update_field(alice, body.id, body.revision, {"unique": True}, partial=True)
    failed = deploy.deploy(alice, shop.id)
    assert failed.status == "failed" and "2 rows" in failed.error
    rows("DELETE FROM shop.notes WHERE body = 'a' AND id > 1")
    applied = deploy.deploy(alice, shop.id)
    assert applied.status == "applied"
    unique = next(step for step in applied.plan if "UNIQUE" in step["sql"])
    assert unique["kind"] == "data_dependent" and unique["affected_rows"] == 0


@pytest.mark.parametrize(
    "change",
    [{"max_length": "3"}, {"data_type": "date", "date_type": "timestamptz"}],
    ids=["shorter varchar", "date to varchar"],
)
def test_values_too_long_for_a_shorter_varchar_are_counted_never_cut(alice, shop, change):
    table, (code,) = make_table(alice, shop, "Codes", {"name": "Code", **change})
    deploy.transition(alice, table.id, "active")
    value = "2024-01-01" if "date_type" in change else "abc"
    rows("INSERT INTO shop.codes (code) VALUES (%s), (NULL)", (value,))
    stored = rows("SELECT code FROM shop.codes")
    lock = locks.acquire(table.id, alice, "critical")
    narrowed = {"data_type": "text", "max_length": "2"}
    fields.update_field(alice, code.id, code.revision, narrowed, lock.lock_token, partial=True)
    dry = deploy.deploy(alice, shop.id, dry_run=True)
    assert dry.status == "dry_run_failed" and "too long" in dry.error
    assert dry.plan[0]["affected_rows"] == 1
    assert deploy.deploy(alice, shop.id).status == "failed"
    assert rows("SELECT code FROM shop.codes") == stored


def test_rounding_values_by_a_smaller_scale_is_destructive_and_needs_confirmation(alice, shop):
    decimal = {"data_type": "number", "number_type": "decimal", "precision": "12", "scale": "4"}
    table, (price,) = make_table(alice, shop, "Prices", {"name": "Price", **decimal})
    deploy.transition(alice, table.id, "active")
    rows("INSERT INTO shop.prices (price) VALUES (1.2345), (2.5)")
    lock = locks.acquire(table.id, alice, "critical")
    fewer = {"scale": "2"}
    fields.update_field(alice, price.id, price.revision, fewer, lock.lock_token, partial=True)
    with pytest.raises(Conflict) as refused:
        deploy.deploy(alice, shop.id)
    (step,) = refused.value.details["steps"]
    assert step["kind"] == "destructive" and step["affected_rows"] == 1
    assert rows("SELECT price::text FROM shop.prices ORDER BY id") == [("1.2345",), ("2.5000",)]
    assert deploy.deploy(alice, shop.id, confirm=True).status == "applied"
    assert rows("SELECT price::text FROM shop.prices ORDER BY id") == [("1.23",), ("2.50",)]


def test_a_restore_never_forgets_a_table_that_is_in_the_database(alice, shop, notes):
    from designer.history import versions

    versions.save_version(alice, shop.id, "before notes")  # has notes as a draft
    other = tables.create_table(alice, shop.id, "Later")
    fields.create_field(alice, other.id, {"name": "X"})
    deploy.transition(alice, other.id, "active")
    lock = locks.acquire(other.id, alice, "critical")
    for status in ("deprecated", "deleted"):
        deploy.transition(alice, other.id, status, True, lock.lock_token)
    locks.release(lock.lock_token, alice)
    with pytest.raises(Conflict) as refused:
        versions.restore(alice, shop.id, 1, confirm=True)
    assert "in the database" in refused.value.message
    assert DataTable.get_or_none(DataTable.id == other.id) is not None


def test_a_version_save_failing_while_the_steps_run_leaves_the_target_unchanged(
    alice, shop, notes, monkeypatch
):
    # The version is saved on the caller's thread while the target runs the steps on another.
    tables.transition(alice, notes.id, "active")

    def broken(*args, **kwargs):
        raise RuntimeError("the designer's database went away")

    monkeypatch.setattr(deploy.versions, "save_version", broken)
    with pytest.raises(RuntimeError):
        deploy.deploy(alice, shop.id)
    assert rows("SELECT to_regclass('shop.notes')") == [(None,)]
    assert SchemaVersion.select().count() == 0
    monkeypatch.undo()
    assert deploy.deploy(alice, shop.id).status == "applied"
    assert rows("SELECT to_regclass('shop.notes')::text") == [("shop.notes",)]
