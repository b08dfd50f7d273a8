"""The Deploy tab, a deployed table's page, dropping from the database, export and compare."""

from designer import locks
from designer import projects
from designer.database import deploy
from designer.design import fields
from designer.design import relationships
from designer.design import tables
from designer.models import DataTable
from tests.on_target import on_target


def table_exists(schema, name):
    return on_target("SELECT to_regclass(%s)", (f"{schema}.{name}",)) != [(None,)]


def test_the_deploy_tab_shows_pending_sql_and_runs_dry_run_then_deploy(
    alice, shop, notes, signed_in
):
    tables.transition(alice, notes.id, "active")  # Active in the design, not deployed yet
    client = signed_in(alice)
    page = client.get(f"/projects/{shop.id}/deploy", htmx=False).text
    assert "CREATE TABLE &#34;shop&#34;.&#34;notes&#34;" in page
    assert "kind-safe" in page and "Dry run" in page
    dry = client.post(f"/projects/{shop.id}/deployments", data={"action": "dry_run"})
    assert dry.status_code == 200 and "Dry run passed" in dry.text
    assert not table_exists("shop", "notes")
    done = client.post(f"/projects/{shop.id}/deployments", data={"action": "deploy"})
    assert "Deployed" in done.text and "Nothing pending" in done.text
    assert table_exists("shop", "notes")
    assert done.text.count("deploy-applied") == 1 and "deploy-dry_run_ok" in done.text


def test_with_nothing_pending_the_deploy_tab_points_to_the_draft_tables(
    alice, shop, notes, signed_in
):
    tables.create_table(alice, shop.id, "Tags")
    client = signed_in(alice)
    page = client.get(f"/projects/{shop.id}/deploy", htmx=False).text
    assert "Nothing pending" in page and "2 Draft tables</a>" in page
    assert f"/projects/{shop.id}?status=draft" in page
    drafts = client.get(f"/projects/{shop.id}?status=draft", htmx=False).text
    assert "Tags" in drafts and "Notes" in drafts
    deploy.transition(alice, notes.id, "active")
    page = client.get(f"/projects/{shop.id}/deploy", htmx=False).text
    assert "1 Draft table</a>" in page and "activate it to deploy" in page


def test_activating_a_table_says_which_links_wait_for_a_draft_table(alice, shop, notes, signed_in):
    authors = tables.create_table(alice, shop.id, "Authors")
    relationships.create_relationship(
        alice, shop.id, {"source_table_id": authors.id, "target_table_id": notes.id}
    )
    client = signed_in(alice)
    client.post(f"/tables/{notes.id}/transition", data={"status": "active"})
    page = client.get(f"/tables/{notes.id}", htmx=False).text
    assert "Deployed to shop. Its link to authors is deployed once that table is Active." in page
    fields.create_field(alice, authors.id, {"name": "Name"})
    client.post(f"/tables/{authors.id}/transition", data={"status": "active"})
    page = client.get(f"/tables/{authors.id}", htmx=False).text
    assert "Deployed to shop." in page and "Its link" not in page
    keys = "SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND conrelid = %s::regclass"
    assert on_target(keys, ("shop.notes",)) == [(1,)]


def test_a_deployed_tables_page_counts_the_changes_not_deployed(alice, shop, notes, signed_in):
    deploy.transition(alice, notes.id, "active")
    fields.create_field(alice, notes.id, {"name": "Title"})
    page = signed_in(alice).get(f"/tables/{notes.id}", htmx=False).text
    assert "1 change not deployed" in page
    assert "ADD COLUMN &#34;title&#34; text" in page


def test_deprecating_a_deployed_table_comments_it_and_warns(alice, shop, notes, signed_in):
    deploy.transition(alice, notes.id, "active")
    lock = locks.acquire(notes.id, alice, "critical")
    _, deployment = deploy.transition(alice, notes.id, "deprecated", True, lock.lock_token)
    assert "COMMENT ON TABLE" in deployment.sql and "DEPRECATED" in deployment.sql
    page = signed_in(alice).get(f"/tables/{notes.id}", htmx=False).text
    assert "This table is deprecated" in page


def test_drop_from_database_needs_the_typed_name(alice, shop, notes, signed_in):
    deploy.transition(alice, notes.id, "active")
    for status in ("deprecated", "deleted"):
        lock = locks.acquire(notes.id, alice, "critical")
        deploy.transition(alice, notes.id, status, True, lock.lock_token)
        locks.release(lock.lock_token, alice)
    assert table_exists("shop", "notes")  # a soft delete keeps the table
    client = signed_in(alice)
    wrong = client.post(f"/tables/{notes.id}/drop", data={"confirm_name": "nope"})
    assert wrong.status_code == 422
    assert table_exists("shop", "notes")
    client.post(f"/tables/{notes.id}/drop", data={"confirm_name": "notes"})
    assert not table_exists("shop", "notes")
    assert DataTable.get_by_id(notes.id).deployed_at is None
    assert locks.active_lock(notes.id) is None


def test_export_downloads_the_create_script(alice, shop, notes, signed_in):
    response = signed_in(alice).get(f"/projects/{shop.id}/export.sql", htmx=False)
    assert response.headers["Content-Disposition"] == 'attachment; filename="shop.sql"'
    assert 'CREATE TABLE "shop"."notes"' in response.text


def test_the_compare_view_shows_the_migration_sql(alice, shop, notes, signed_in):
    from designer.history import versions

    versions.save_version(alice, shop.id, "one")
    fields.create_field(alice, notes.id, {"name": "Title"})
    page = signed_in(alice).get(f"/projects/{shop.id}/diff?from=1&to=working", htmx=False).text
    assert "Migration SQL" in page
    assert "ALTER TABLE &#34;shop&#34;.&#34;notes&#34; ADD COLUMN &#34;title&#34; text;" in page


def test_owners_set_the_target_schema_in_the_project_form(alice, make_user, shop, signed_in):
    client = signed_in(alice)
    form = client.get(f"/projects/{shop.id}/header/edit").text
    assert 'name="target_schema"' in form and 'value="shop"' in form
    bad = client.put(
        f"/projects/{shop.id}/header",
        data={"name": "Shop", "target_schema": "Bad!", "revision": "1"},
    )
    assert bad.status_code == 422 and "schema name" in bad.text
    saved = client.put(
        f"/projects/{shop.id}/header",
        data={"name": "Shop", "target_schema": "store", "revision": "1"},
    )
    assert saved.status_code == 200 and "<code>store</code>" in saved.text
    eddie = make_user("eddie")
    projects.add_member(alice, shop.id, "eddie", "editor")
    assert (
        'name="target_schema"' not in signed_in(eddie).get(f"/projects/{shop.id}/header/edit").text
    )


def test_the_project_page_checks_for_drift_once_something_was_deployed(
    alice, shop, notes, signed_in
):
    client = signed_in(alice)
    drift = f"/projects/{shop.id}/drift"
    assert drift not in client.get(f"/projects/{shop.id}", htmx=False).text
    tables.transition(alice, notes.id, "active")
    deploy.deploy(alice, shop.id, dry_run=True)
    assert drift not in client.get(f"/projects/{shop.id}", htmx=False).text
    deploy.deploy(alice, shop.id)
    assert drift in client.get(f"/projects/{shop.id}", htmx=False).text
