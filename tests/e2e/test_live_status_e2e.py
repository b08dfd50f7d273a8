"""A deployed table's page follows its deploy status without a reload."""

import pytest
from playwright.sync_api import expect

from designer import locks
from designer import projects
from designer.database import deploy
from designer.design import fields
from designer.design import tables
from designer.models import DataTable
from designer.settings import settings
from tests.e2e.conftest import sign_in

SCALE = 12  # every interval divided alike, so the ratios of production hold


@pytest.fixture
def production_ratios(monkeypatch):
    for name, seconds in (
        ("lock_edit_idle_seconds", 60),
        ("lock_lease_seconds", 120),
        ("lock_heartbeat_seconds", 20),
        ("lock_watch_seconds", 5),
        ("live_poll_seconds", 3),
        ("lock_leave_grace_seconds", 5),
    ):
        monkeypatch.setattr(settings, name, seconds / SCALE)


def test_the_deploy_status_follows_changes_and_deploys_live(page, user, production_ratios):
    project = projects.create_project(user, "Shop")
    notes = tables.create_table(user, project.id, "Notes")
    fields.create_field(user, notes.id, {"name": "Body"})
    deploy.transition(user, notes.id, "active")
    sign_in(page)
    page.goto(f"/tables/{notes.id}")
    status = page.get_by_role("region", name="Deployment")
    expect(status).to_contain_text("the database holds this table as designed")

    revision = DataTable.get_by_id(notes.id).revision
    tables.update_table(user, notes.id, revision, name="Memos", table_name="memos")
    expect(status).to_contain_text("not deployed")
    summary = status.locator("summary")
    renamed = int(summary.inner_text().split()[0])
    summary.click()
    expect(status.get_by_text("renames table notes to memos")).to_be_visible()

    fields.create_field(user, notes.id, {"name": "Pinned", "data_type": "boolean"})
    expect(summary).to_contain_text(f"{renamed + 1} changes not deployed")
    # The list the person opened stays open as the count changes.
    expect(status.get_by_text("adds column pinned")).to_be_visible()

    assert deploy.deploy(user, project.id, [notes.id]).status == "applied"
    expect(status).to_contain_text("the database holds this table as designed")


def test_a_name_typed_to_drop_a_deleted_table_survives_a_live_refresh(
    page, user, production_ratios
):
    project = projects.create_project(user, "Shop")
    notes = tables.create_table(user, project.id, "Notes")
    fields.create_field(user, notes.id, {"name": "Body"})
    deploy.transition(user, notes.id, "active")
    token = locks.acquire(notes.id, user, "critical").lock_token
    for status in ("deprecated", "deleted"):
        deploy.transition(user, notes.id, status, confirm=True, lock_token=token)
    locks.release(token, user)
    sign_in(page)
    page.goto(f"/tables/{notes.id}")
    typed = page.get_by_label("Type notes to drop it")
    typed.fill("note")
    # A change the page shows (here, a teammate's lock) sends the status again.
    locks.acquire(notes.id, user, "pessimistic", "looking")
    expect(page.locator("#lock-history")).to_contain_text("looking")
    expect(typed).to_have_value("note")
