"""A branch's dry run (#28): the plan main would run once the branch is merged, run on main's
database as main's role and rolled back; judged by the target's own catalog."""

import pytest

from designer import branches
from designer import projects
from designer.database import deploy
from designer.database.branch_dry_run import dry_run
from designer.design import fields
from designer.design import tables
from designer.errors import Conflict
from designer.errors import Forbidden
from designer.errors import NotFound
from designer.models import BranchOrigin
from designer.models import DataField
from tests.integration.conftest import writes_nothing
from tests.on_target import on_target

# What PostgreSQL holds in a schema: its relations, their columns and constraints.
CATALOG = """
SELECT c.relname, c.relkind, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
       (SELECT string_agg(k.conname || ' ' || k.contype::text || ' ' || k.convalidated::text, ', '
                          ORDER BY k.conname)
          FROM pg_constraint k WHERE k.conrelid = c.oid)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE n.nspname = %s ORDER BY 1, 3
"""


def catalog(schema):
    return on_target(CATALOG, (schema,))


@pytest.fixture
def bob(make_user, alice, shop):
    user = make_user("bob")
    projects.add_member(alice, shop.id, "bob", "editor")
    return user


def field_on(branch, origin):
    local = BranchOrigin.get(BranchOrigin.branch == branch.id, BranchOrigin.origin_id == origin.id)
    return DataField.get_by_id(local.local_id)


def body_of(table):
    return DataField.get(DataField.data_table == table.id, DataField.field_name == "body")


@pytest.fixture
def deployed(alice, shop, notes):
    """Notes deployed to main's schema, with three rows (one without a body)."""
    deploy.transition(alice, notes.id, "active")
    on_target("INSERT INTO shop.notes (body) VALUES ('one'), ('two'), (NULL)")
    return notes


def test_a_dry_run_runs_the_merged_plan_on_mains_database_and_leaves_it_as_it_was(
    alice, shop, deployed, bob
):
    branch = branches.fork(bob, shop.id, "reshape")
    body = field_on(branch, body_of(deployed))
    fields.update_field(bob, body.id, body.revision, {"field_name": "text"}, partial=True)
    fields.create_field(bob, body.table_id, {"name": "Title"})
    invoices = tables.create_table(bob, branch.id, "Invoices")
    fields.create_field(bob, invoices.id, {"name": "Total", "data_type": "number"})
    # Main moved meanwhile: the merged design has its change too.
    fields.create_field(alice, deployed.id, {"name": "Author"})
    before = catalog("shop")

    with writes_nothing():
        result = dry_run(bob, branch.id)

    assert result.ok and result.error is None, result.error
    assert result.schema == "shop"
    assert [step["outcome"] for step in result.steps] == ["ok"] * len(result.steps)
    script = "\n".join(result.statements)
    assert 'ALTER TABLE "shop"."notes" RENAME COLUMN "body" TO "text"' in script
    assert 'ALTER TABLE "shop"."notes" ADD COLUMN "title"' in script
    assert 'ALTER TABLE "shop"."notes" ADD COLUMN "author"' in script
    assert 'CREATE TABLE "shop"."invoices"' in script
    assert catalog("shop") == before
    assert on_target("SELECT count(*) FROM shop.notes") == [(3,)]


def test_a_failing_statement_is_reported_with_postgresqls_error_and_nothing_stays(
    alice, shop, deployed, bob
):
    branch = branches.fork(bob, shop.id, "required")
    tables.create_table(bob, branch.id, "Invoices")
    body = field_on(branch, body_of(deployed))
    fields.update_field(bob, body.id, body.revision, {"is_required": True}, partial=True)
    before = catalog("shop")

    result = dry_run(bob, branch.id)

    assert not result.ok
    outcomes = [step["outcome"] for step in result.steps]
    failed = outcomes.index("failed")
    assert outcomes[:failed] == ["ok"] * failed and failed > 0
    assert set(outcomes[failed + 1 :]) <= {"not_run"}
    step = result.steps[failed]
    assert step["sql"].endswith('VALIDATE CONSTRAINT "notes_body_not_null"')
    assert step["affected_rows"] == 1
    assert step["error"] and step["error"] in result.error and step["sql"] in result.error
    # The statements that ran before it (the new table among them) were rolled back.
    assert any("CREATE TABLE" in s["sql"] for s in result.steps[:failed])
    assert catalog("shop") == before


def test_a_branch_of_a_project_with_nothing_deployed_reports_the_creates(alice, shop, notes, bob):
    branch = branches.fork(bob, shop.id, "first")
    tables.create_table(bob, branch.id, "Invoices")

    result = dry_run(bob, branch.id)

    assert result.ok, result.error
    creates = sorted(s for s in result.statements if s.startswith("CREATE TABLE"))
    assert [s.split("(")[0].strip() for s in creates] == [
        'CREATE TABLE "shop"."invoices"',
        'CREATE TABLE "shop"."notes"',
    ]
    assert catalog("shop") == []
    assert on_target("SELECT count(*) FROM pg_namespace WHERE nspname = 'shop'") in ([(0,)], [(1,)])


def test_an_undecided_conflict_refuses_the_dry_run_until_a_side_is_picked(alice, shop, notes, bob):
    branch = branches.fork(bob, shop.id, "clash")
    mine = field_on(branch, body_of(notes))
    fields.update_field(bob, mine.id, mine.revision, {"field_name": "text"}, partial=True)
    theirs = body_of(notes)
    fields.update_field(alice, theirs.id, theirs.revision, {"field_name": "words"}, partial=True)
    with pytest.raises(Conflict, match="conflict"):
        dry_run(bob, branch.id)
    _, compared = branches.comparison(bob, branch.id)
    picked = {conflict.id: "theirs" for conflict in compared.conflicts}
    result = dry_run(bob, branch.id, picked)
    assert any('"text"' in s for s in result.statements)
    assert not any('"words"' in s for s in result.statements)


def test_a_viewer_or_a_stranger_cannot_dry_run_a_branch(alice, shop, notes, bob, make_user):
    branch = branches.fork(bob, shop.id, "private")
    tables.create_table(bob, branch.id, "Invoices")
    make_user("vera")
    projects.add_member(alice, shop.id, "vera", "viewer")
    from designer.models import User

    with pytest.raises(Forbidden):
        dry_run(User.get(User.username == "vera"), branch.id)
    with pytest.raises(NotFound):
        dry_run(make_user("mallory"), branch.id)
    with pytest.raises(NotFound):
        dry_run(alice, shop.id)


# On the branch's Deploy tab


def test_the_branch_deploy_tab_offers_the_dry_run_and_shows_its_statements(
    alice, shop, deployed, bob, signed_in
):
    branch = branches.fork(bob, shop.id, "web")
    tables.create_table(bob, branch.id, "Invoices")
    web = signed_in(bob)
    offered = "Dry-run this branch against main's database"
    assert offered in web.get(f"/projects/{branch.id}/deploy", htmx=False).text
    assert offered not in web.get(f"/projects/{shop.id}/deploy", htmx=False).text
    before = catalog("shop")

    response = web.post(f"/projects/{branch.id}/branch-dry-run")

    assert response.status_code == 200, response.text
    assert "Dry run passed" in response.text and "rolled back" in response.text
    assert "CREATE TABLE &#34;shop&#34;.&#34;invoices&#34;" in response.text
    assert "<html" not in response.text
    assert catalog("shop") == before


def test_the_branch_dry_run_takes_the_open_requests_decisions_and_says_what_refuses_it(
    alice, shop, notes, bob, signed_in
):
    from designer import merge_requests

    branch = branches.fork(bob, shop.id, "clash")
    mine = field_on(branch, body_of(notes))
    fields.update_field(bob, mine.id, mine.revision, {"field_name": "text"}, partial=True)
    theirs = body_of(notes)
    fields.update_field(alice, theirs.id, theirs.revision, {"field_name": "words"}, partial=True)
    web = signed_in(bob)
    refused = web.post(f"/projects/{branch.id}/branch-dry-run")
    assert refused.status_code == 422
    assert "conflict" in refused.text and 'role="alert"' in refused.text
    merge_requests.open_request(bob, branch.id, "Text")
    _, compared = branches.comparison(bob, branch.id)
    for conflict in compared.conflicts:
        merge_requests.decide(alice, shop.id, 1, conflict.id, "theirs")
    ran = web.post(f"/projects/{branch.id}/branch-dry-run")
    assert ran.status_code == 200, ran.text
    assert "Dry run passed" in ran.text and "&#34;text&#34;" in ran.text
