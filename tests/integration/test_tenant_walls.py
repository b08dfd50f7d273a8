"""Walls between tenants on the deploy target, judged by what PostgreSQL holds afterwards.

Each project's schema is owned by a role of its own, and every statement of a plan runs as
that role, one at a time, after the statement guard. These tests also go around the guard
and run hostile SQL straight on a project's own connection: PostgreSQL itself must refuse.
"""

import psycopg2
import pytest

from designer import projects
from designer import rls
from designer.database import deploy
from designer.database import drift
from designer.database import reservations
from designer.database import target
from designer.database import tenant_roles
from designer.database.ddl_terms import Step
from designer.design import fields
from designer.design import tables
from designer.errors import ValidationFailed
from designer.models import TargetReservation
from tests.on_target import on_target


def deployed_project(user, name, table="Customers"):
    project = projects.create_project(user, name)
    made = tables.create_table(user, project.id, table)
    fields.create_field(user, made.id, {"name": "Email"})
    deploy.transition(user, made.id, "active")
    return project, made


@pytest.fixture
def bobs(make_user):
    """Bob's project, deployed, with a row in it: what alice must never reach."""
    bob = make_user("bob")
    project, _ = deployed_project(bob, "Bobs shop")
    on_target(f'INSERT INTO "{project.target_schema}".customers (email) VALUES (%s)', ("b@x",))
    return bob, project


def bobs_state(project):
    """Bob's tables and rows, and every role's settings, as the target's superuser sees them."""
    schema = project.target_schema
    return (
        on_target(
            "SELECT relname, relkind FROM pg_class WHERE relnamespace = %s::regnamespace"
            " ORDER BY 1",
            (f'"{schema}"',),
        ),
        on_target(f'SELECT * FROM "{schema}".customers ORDER BY 1'),
        on_target("SELECT setrole, setdatabase, setconfig FROM pg_db_role_setting ORDER BY 1, 2"),
        on_target("SELECT nspname FROM pg_namespace ORDER BY 1"),
    )


HOSTILE = [
    "SELECT * FROM {other}.customers",
    "UPDATE {other}.customers SET email = 'owned'",
    "DELETE FROM {other}.customers",
    "DROP TABLE {other}.customers",
    "ALTER TABLE {other}.customers ADD COLUMN x int",
    "CREATE TABLE {other}.planted (id int)",
    "ALTER SCHEMA {other} RENAME TO stolen",
    "CREATE SCHEMA planted",
    "ALTER ROLE {app} SET statement_timeout = 1",
    "ALTER ROLE {target_role} SET statement_timeout = 1",
    "SET ROLE {target_role}",
    "SET SESSION AUTHORIZATION {target_role}",
    "GRANT {target_role} TO CURRENT_USER",
    "CREATE ROLE planted",
    "SELECT pg_read_file('postgresql.conf')",
    "COPY {other}.customers TO STDOUT",
    "SELECT lo_import('/etc/passwd')",
]


@pytest.mark.parametrize("statement", HOSTILE)
def test_a_projects_own_connection_cannot_reach_out_whatever_it_runs(alice, bobs, roles, statement):
    """Around validation and the guard: the project's role itself is the wall."""
    _, bob_project = bobs
    mine, _ = deployed_project(alice, "Mine")
    before = bobs_state(bob_project)
    text = statement.format(
        other=f'"{bob_project.target_schema}"', app=roles["app"], target_role=roles["target"]
    )
    conn = target.connect_as(reservations.tenant_of(mine))
    try:
        with pytest.raises(psycopg2.Error) as refused:
            with conn.cursor() as cursor:
                cursor.execute(text)
                cursor.fetchall() if cursor.description else None
            conn.commit()
        assert refused.value.pgcode in ("42501", "42P01", "3F000", "22023"), refused.value.pgerror
    finally:
        conn.close()
    assert bobs_state(bob_project) == before


def test_reset_role_leads_back_to_the_projects_own_role(alice):
    mine, _ = deployed_project(alice, "Mine")
    tenant = reservations.tenant_of(mine)
    conn = target.connect_as(tenant)
    try:
        with conn.cursor() as cursor:
            cursor.execute("RESET ROLE")
            cursor.execute("RESET SESSION AUTHORIZATION")
            cursor.execute("SELECT current_user, session_user")
            assert cursor.fetchone() == (tenant.role, tenant.role)
            cursor.execute(
                "SELECT rolsuper, rolcreaterole, rolcreatedb, rolbypassrls, rolinherit"
                " FROM pg_roles WHERE rolname = current_user"
            )
            assert cursor.fetchone() == (False, False, False, False, False)
            cursor.execute(
                "SELECT count(*) FROM pg_auth_members WHERE member = current_user::regrole"
            )
            assert cursor.fetchone() == (0,)
    finally:
        conn.close()


def test_every_schema_is_owned_by_its_projects_role_and_no_other(alice, bobs):
    _, bob_project = bobs
    mine, _ = deployed_project(alice, "Mine")
    owners = dict(
        on_target(
            "SELECT nspname, pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = ANY (%s)",
            ([mine.target_schema, bob_project.target_schema],),
        )
    )
    assert owners[mine.target_schema] != owners[bob_project.target_schema]
    for project in (mine, bob_project):
        row = TargetReservation.get(TargetReservation.project == project.id)
        assert owners[project.target_schema] == row.role_name
        tables_owned = on_target(
            "SELECT DISTINCT pg_get_userbyid(relowner) FROM pg_class"
            " WHERE relnamespace = %s::regnamespace",
            (f'"{project.target_schema}"',),
        )
        assert tables_owned == [(row.role_name,)]


SMUGGLED = [
    "CREATE TABLE {mine}.x (id bigint); DROP TABLE {other}.customers",
    "COMMIT",
    "SET ROLE NONE",
    "ALTER ROLE CURRENT_USER SET search_path = {other}",
    "DROP TABLE {other}.customers",
    "CREATE TABLE {other}.planted (id int)",
    "SELECT set_config('role', 'none', false)",
    "DO $$ BEGIN EXECUTE 'DROP TABLE {other}.customers'; END $$",
]


@pytest.mark.parametrize("statement", SMUGGLED)
def test_a_plan_step_that_is_not_one_allowed_statement_is_refused_before_it_runs(
    alice, bobs, statement
):
    """Around validation only: the guard in run_step refuses, and the dry run stays whole."""
    _, bob_project = bobs
    mine, _ = deployed_project(alice, "Mine")
    before = bobs_state(bob_project)
    text = statement.format(mine=f'"{mine.target_schema}"', other=f'"{bob_project.target_schema}"')
    steps = [Step(f'CREATE TABLE "{mine.target_schema}".kept (id int)', "safe", "first"),
             Step(text, "safe", "smuggled")]  # fmt: skip
    outcome = target.run_plan(steps, reservations.tenant_of(mine), apply=False)
    assert outcome.error and "Refused before it ran" in outcome.error
    assert outcome.steps[1]["outcome"] == "refused"
    assert bobs_state(bob_project) == before
    assert on_target("SELECT to_regclass(%s)", (f'"{mine.target_schema}".kept',)) == [(None,)]


def test_a_dry_run_cannot_be_committed_from_inside(alice):
    """Even a COMMIT that reached the target as a step would be refused by PostgreSQL."""
    mine, _ = deployed_project(alice, "Mine")
    conn = target.connect_as(reservations.tenant_of(mine))
    try:
        with conn.cursor() as cursor:
            cursor.execute(f'CREATE TABLE "{mine.target_schema}".kept (id int)')
            with pytest.raises(psycopg2.Error):
                cursor.execute(target.sealed("COMMIT"))
        conn.rollback()
    finally:
        conn.close()
    assert on_target("SELECT to_regclass(%s)", (f'"{mine.target_schema}".kept',)) == [(None,)]


def test_another_tenants_schema_cannot_be_targeted_imported_or_taken(alice, bobs, api, signed_in):
    _, bob_project = bobs
    mine = projects.create_project(alice, "Mine")
    client = api(alice)
    schema = bob_project.target_schema
    moved = client.patch(f"/projects/{mine.id}", json={"target_schema": schema, "revision": 1})
    assert moved.status_code == 422
    assert moved.json["error"]["fields"]["target_schema"] == reservations.TAKEN
    for body in ({"schema": schema}, {"schema": schema, "confirm": True}):
        into = client.post(f"/projects/{mine.id}/import/database", json=body)
        new = client.post("/projects/import/database", json=body)
        for response in (into, new):
            assert response.status_code == 422
            assert response.json["error"]["message"] == f"There is no schema {schema} to import."
    listed = signed_in(alice).get(f"/projects/{mine.id}/transfer", htmx=False).text
    assert f'value="{schema}"' not in listed


def test_deleting_a_deployed_project_asks_what_becomes_of_its_schema(alice, api):
    project, _ = deployed_project(alice, "Shop")
    schema = project.target_schema
    on_target(f'INSERT INTO "{schema}".customers (email) VALUES (%s), (%s)', ("a", "b"))
    client = api(alice)
    asked = client.delete(f"/projects/{project.id}")
    assert asked.status_code == 422 and "schema" in asked.json["error"]["fields"]
    unnamed = client.delete(f"/projects/{project.id}", json={"schema": "drop"})
    assert unnamed.status_code == 422 and "confirm_name" in unnamed.json["error"]["fields"]
    assert projects.schema_on_delete(project) == (schema, [("customers", 2)])
    role = TargetReservation.get(TargetReservation.project == project.id).role_name
    dropped = client.delete(
        f"/projects/{project.id}", json={"schema": "drop", "confirm_name": "Shop"}
    )
    assert dropped.status_code == 204
    assert on_target("SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema,)) == []
    assert on_target("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)) == []
    assert TargetReservation.select().where(TargetReservation.schema_name == schema).count() == 0


def test_a_kept_schema_stays_reserved_to_the_deleted_projects_owners(alice, make_user, api):
    project, _ = deployed_project(alice, "Shop")
    schema = project.target_schema
    on_target(f'INSERT INTO "{schema}".customers (email) VALUES (%s)', ("kept",))
    projects.delete_project(alice, project.id, schema="keep")
    kept = TargetReservation.get(TargetReservation.schema_name == schema)
    assert kept.project_id is None and kept.kept_for == [alice.id]
    mallory = make_user("mallory")
    theirs = projects.create_project(mallory, "Shop")
    assert theirs.target_schema != schema  # the name is held, so a random suffix
    client = api(mallory)
    retarget = client.patch(f"/projects/{theirs.id}", json={"target_schema": schema, "revision": 1})
    assert retarget.status_code == 422
    for path in (f"/projects/{theirs.id}/import/database", "/projects/import/database"):
        for body in ({"schema": schema}, {"schema": schema, "confirm": True}):
            response = client.post(path, json=body)
            assert response.status_code == 422
            assert response.json["error"]["message"] == f"There is no schema {schema} to import."
    assert on_target(f'SELECT email FROM "{schema}".customers') == [("kept",)]
    back = api(alice).post("/projects/import/database", json={"schema": schema, "confirm": True})
    assert back.status_code == 201, back.json
    assert projects.Project.get_by_id(back.json["project_id"]).target_schema == schema
    taken = TargetReservation.get(TargetReservation.schema_name == schema)
    assert str(taken.project_id) == back.json["project_id"] and taken.kept_for == []


def test_a_target_schema_that_exists_on_the_target_is_refused_like_a_reserved_one(alice):
    on_target("CREATE SCHEMA someone_elses")
    mine = projects.create_project(alice, "Mine")
    with pytest.raises(ValidationFailed) as refused:
        projects.update_project(alice, mine.id, mine.revision, target_schema="someone_elses")
    assert refused.value.fields["target_schema"] == reservations.TAKEN


def test_a_schema_deployed_before_roles_per_project_is_handed_to_its_role(alice, roles):
    """What migration 0015 leaves: the schema made by the target's connection role, and a
    reservation marked for handover. On first use, the project's role takes it over."""
    project, made = deployed_project(alice, "Old shop")
    schema = project.target_schema
    row = TargetReservation.get(TargetReservation.project == project.id)
    on_target(f'INSERT INTO "{schema}".customers (email) VALUES (%s)', ("old",))
    # As before: everything owned by the connection role, no project role.
    on_target(f'REASSIGN OWNED BY "{row.role_name}" TO "{roles["target"]}"')
    on_target(f'DROP OWNED BY "{row.role_name}"')  # its grants; it owns nothing now
    on_target(f'DROP ROLE "{row.role_name}"')
    TargetReservation.update(handover=True).where(TargetReservation.id == row.id).execute()
    tenant_roles.forget_all()
    assert drift.check(alice, project.id).differences == []
    owners = on_target(
        "SELECT DISTINCT pg_get_userbyid(relowner) FROM pg_class"
        " WHERE relnamespace = %s::regnamespace",
        (f'"{schema}"',),
    )
    assert owners == [(row.role_name,)]
    assert on_target(
        "SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = %s", (schema,)
    ) == [(row.role_name,)]
    assert not TargetReservation.get_by_id(row.id).handover
    assert on_target(f'SELECT email FROM "{schema}".customers') == [("old",)]


@pytest.fixture
def raw_app(app_database_url):
    """raw_app(user): a cursor of the app's role acting for `user`, as a request's is."""
    opened = []

    def connect(user):
        conn = psycopg2.connect(app_database_url)
        conn.autocommit = True
        opened.append(conn)
        cursor = conn.cursor()
        cursor.execute(rls.ACT_FOR, (str(user.id),))
        return cursor

    yield connect
    for conn in opened:
        conn.close()


def test_no_function_tells_the_app_role_about_other_tenants(alice, bobs, raw_app):
    _, bob_project = bobs
    cursor = raw_app(alice)
    cursor.execute("SELECT to_regprocedure('rls_schemas_of_others(text[])')")
    assert cursor.fetchone() == (None,)
    cursor.execute("SELECT rls_unclaimed(%s)", (str(bob_project.id),))
    assert cursor.fetchone() == (False,)
    cursor.execute("SELECT schema_name FROM target_reservation")
    assert bob_project.target_schema not in {row[0] for row in cursor.fetchall()}


def test_the_project_page_asks_with_the_counted_rows_before_deleting(alice, signed_in):
    project, _ = deployed_project(alice, "Shop")
    schema = project.target_schema
    on_target(f'INSERT INTO "{schema}".customers (email) VALUES (%s), (%s), (%s)', ("a", "b", "c"))
    client = signed_in(alice)
    asked = client.delete(f"/projects/{project.id}")
    assert asked.status_code == 422
    assert "<code>customers</code>: 3 rows" in asked.text
    assert 'value="keep"' in asked.text and 'value="drop"' in asked.text
    wrong = client.delete(f"/projects/{project.id}?schema=drop&confirm_name=Shop2")
    assert wrong.status_code == 422 and "Type the project" in wrong.text
    kept = client.delete(f"/projects/{project.id}?schema=keep")
    assert kept.status_code == 200 and kept.headers["HX-Redirect"].endswith("/projects")
    assert projects.Project.select().where(projects.Project.id == project.id).count() == 0
    assert on_target(f'SELECT count(*) FROM "{schema}".customers') == [(3,)]
