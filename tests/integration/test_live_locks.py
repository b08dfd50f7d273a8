"""Locks as an open page holds them, and pages that follow teammates' changes.

The page side: a keeper renews the user's lock, a beacon on leaving cuts it
to a short grace, the panel reports a lost lock once (out of band, into the
page's notices), polls stop when the table is gone, and live pollers get 204
until something they show changed.
"""

import re
import threading

import pytest
from peewee import IntegrityError

from designer import create_app
from designer import locks
from designer import projects
from designer.db import database
from designer.design import fields
from designer.design import page_stamps
from designer.design import tables
from designer.models import TableLock
from designer.settings import settings
from tests.integration.conftest import time_passes_for_locks

JOIN_SECONDS = 60


@pytest.fixture
def team(make_user):
    owner, editor = make_user("olga"), make_user("eddie")
    project = projects.create_project(owner, "Shop")
    projects.add_member(owner, project.id, "eddie", "editor")
    table = tables.create_table(owner, project.id, "Orders")
    fields.create_field(owner, table.id, {"name": "Total", "data_type": "number"})
    return {"owner": owner, "editor": editor, "project": project, "table": table}


def run_together(jobs):
    """Run every job in its own thread, all released at once by a barrier."""
    start = threading.Barrier(len(jobs), timeout=JOIN_SECONDS)
    results = [None] * len(jobs)

    def run(index, job):
        start.wait()
        try:
            results[index] = job()
        finally:
            database.close()

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(JOIN_SECONDS)
        assert not thread.is_alive(), "a contender hung"
    return results


def test_forty_concurrent_acquires_give_201_only_to_the_one_that_created_the_lock(
    team, make_user, api
):
    rival = make_user("rita")
    projects.add_member(team["owner"], team["project"].id, "rita", "editor")
    url = f"/tables/{team['table'].id}/lock"
    clients = [api(team["editor"]) for _ in range(20)] + [api(rival) for _ in range(20)]
    jobs = [lambda c=c: c.post(url, json={"lock_type": "pessimistic"}) for c in clients]
    responses = run_together(jobs)
    statuses = [r.status_code for r in responses]
    assert statuses.count(201) == 1
    # The holder's other requests found its lock (200); the rival's were refused.
    holder, rival_side = (statuses[:20], statuses[20:])[:: 1 if 201 in statuses[:20] else -1]
    assert sorted(holder) == [200] * 19 + [201]
    assert rival_side == [423] * 20
    assert TableLock.select().where(TableLock.released_at.is_null()).count() == 1


def test_removing_a_member_ends_their_locks_at_once_in_the_history(team):
    lock = locks.acquire(team["table"].id, team["editor"], "pessimistic", "reshaping")
    projects.remove_member(team["owner"], team["project"].id, team["editor"].id)
    assert locks.active_lock(team["table"].id) is None
    ended = TableLock.get_by_id(lock.id)
    assert ended.end_reason == "forced"
    assert ended.released_at is not None


def test_an_editor_made_viewer_loses_their_locks(team):
    locks.acquire(team["table"].id, team["editor"], "pessimistic")
    member = projects.members_of(team["project"])
    editor_member = next(m for m in member if m.user_id == team["editor"].id)
    projects.change_role(team["owner"], team["project"].id, editor_member.user_id, "viewer")
    assert locks.active_lock(team["table"].id) is None


def test_lock_words_use_the_right_article():
    assert locks.a_lock("optimistic") == "an optimistic lock"
    assert locks.a_lock("critical") == "a critical lock"


def test_a_lease_shorter_than_two_heartbeats_is_refused_at_start(app_database_url, tmp_path):
    config = {
        "TESTING": True,
        "DATABASE_URL": app_database_url,
        "SECRET_KEY": "x",
        "INSTANCE_PATH": str(tmp_path),
        "LOCK_LEASE_SECONDS": 30,
        "LOCK_HEARTBEAT_SECONDS": 20,
    }
    saved = {name: getattr(settings, name) for name in settings.__dataclass_fields__}
    try:
        with pytest.raises(ValueError, match="at least twice"):
            create_app(config)
    finally:
        for name, value in saved.items():
            setattr(settings, name, value)


# ---- the page's keeper, beacon and panel --------------------------------


def lock_by_page(web, table):
    response = web.post(f"/tables/{table.id}/lock", data={"lock_type": "pessimistic"})
    assert response.status_code == 200
    return locks.active_lock(table.id)


def test_the_keeper_renews_the_users_lock_and_answers_204(team, signed_in):
    web = signed_in(team["editor"])
    url = f"/tables/{team['table'].id}/lock/heartbeat"
    assert web.post(url).status_code == 204  # no lock: nothing to do
    lock_by_page(web, team["table"])
    time_passes_for_locks(10)
    before = locks.active_lock(team["table"].id)
    response = web.post(url)
    assert response.status_code == 204
    after = TableLock.get_by_id(before.id)
    assert after.expires_at > before.expires_at
    assert after.heartbeat_at > before.heartbeat_at


def test_a_keeper_finding_its_lock_lost_makes_the_page_refresh_its_panel(team, signed_in):
    web = signed_in(team["editor"])
    lock_by_page(web, team["table"])
    locks.force_release(team["table"].id)
    response = web.post(f"/tables/{team['table'].id}/lock/heartbeat")
    assert response.status_code == 200
    assert response.headers["HX-Trigger"] == "lock-changed"
    panel = web.get(f"/tables/{team['table'].id}/lock").text
    assert 'hx-swap-oob="beforeend:#lock-notices"' in panel
    assert "released by a project owner" in panel
    # Told once: the notice stays on the page, the panel does not repeat it.
    assert "lock-notices" not in web.get(f"/tables/{team['table'].id}/lock").text


def test_leaving_the_page_cuts_the_lease_to_the_grace_and_a_reload_takes_it_back(
    team, signed_in, monkeypatch
):
    monkeypatch.setattr(settings, "lock_leave_grace_seconds", 0.5)
    web = signed_in(team["editor"])
    lock = lock_by_page(web, team["table"])
    assert web.post(f"/tables/{team['table'].id}/lock/leave").status_code == 204
    cut = TableLock.get_by_id(lock.id).expires_at
    assert (cut - lock.locked_at).total_seconds() < 2
    # The reloaded page's keeper renews it within the grace: a whole lease again.
    assert web.post(f"/tables/{team['table'].id}/lock/heartbeat").status_code == 204
    renewed = TableLock.get_by_id(lock.id).expires_at
    assert (renewed - cut).total_seconds() > settings.lock_lease_seconds - 5


def test_a_beat_the_left_page_sent_before_its_beacon_renews_nothing(team, signed_in):
    web = signed_in(team["editor"])
    lock = lock_by_page(web, team["table"])
    url = f"/tables/{team['table'].id}/lock"
    assert web.post(f"{url}/leave", data={"page": "tab1"}).status_code == 204
    cut = TableLock.get_by_id(lock.id)
    assert cut.left_page == "tab1"
    # The closing page's last beat, on its way when the beacon went, lands after it.
    web.post(f"{url}/heartbeat", data={"page": "tab1"})
    assert TableLock.get_by_id(lock.id).expires_at == cut.expires_at
    # The holder's other tab (or the reloaded page) renews it: a whole lease again.
    assert web.post(f"{url}/heartbeat", data={"page": "tab2"}).status_code == 204
    renewed = TableLock.get_by_id(lock.id)
    assert (renewed.expires_at - cut.expires_at).total_seconds() > settings.lock_lease_seconds - 5
    assert renewed.left_page is None
    # Once renewed by a page still open, a late beat of the one that left does no harm.
    assert web.post(f"{url}/heartbeat", data={"page": "tab1"}).status_code == 204


def test_a_page_id_that_is_not_one_is_not_stored(team, signed_in):
    web = signed_in(team["editor"])
    lock = lock_by_page(web, team["table"])
    url = f"/tables/{team['table'].id}/lock"
    assert web.post(f"{url}/leave", data={"page": "'); DROP TABLE x; --"}).status_code == 204
    assert TableLock.get_by_id(lock.id).left_page is None
    # The database holds the rule too.
    with pytest.raises(IntegrityError), database.atomic():
        TableLock.update(left_page="Tab 1").where(TableLock.id == lock.id).execute()


def test_a_left_page_frees_its_lock_after_the_grace(team, signed_in):
    web = signed_in(team["editor"])
    lock_by_page(web, team["table"])
    web.post(f"/tables/{team['table'].id}/lock/leave")
    time_passes_for_locks(settings.lock_leave_grace_seconds - 1)
    assert locks.active_lock(team["table"].id) is not None
    time_passes_for_locks(2)
    assert locks.active_lock(team["table"].id) is None


def test_leaving_needs_the_csrf_token(team, signed_in):
    web = signed_in(team["editor"])
    lock = lock_by_page(web, team["table"])
    web.token = None
    assert web.post(f"/tables/{team['table'].id}/lock/leave").status_code == 400
    assert TableLock.get_by_id(lock.id).expires_at == lock.expires_at


def test_polls_stop_with_286_once_the_table_is_discarded(team, signed_in, make_user):
    web = signed_in(team["editor"])
    table, project = team["table"], team["project"]
    token = locks.acquire(table.id, team["editor"], "critical").lock_token
    tables.delete_table(team["editor"], table.id, token)
    query = f"?project={project.id}&v=x"
    assert web.get(f"/tables/{table.id}/lock{query}").status_code == 286
    assert web.get(f"/tables/{table.id}/live{query}").status_code == 286
    # Someone outside the project learns nothing: 404, as for any table.
    stranger = signed_in(make_user("sam"))
    assert stranger.get(f"/tables/{table.id}/lock{query}").status_code == 404


# ---- live pages ---------------------------------------------------------------


def test_the_table_page_gets_204_until_a_teammate_changes_it(team, signed_in):
    table = team["table"]
    web = signed_in(team["editor"])
    stamp = page_stamps.table_stamp(table.id)
    url = f"/tables/{table.id}/live?project={team['project'].id}&v={stamp}"
    assert web.get(url).status_code == 204
    fields.create_field(team["owner"], table.id, {"name": "Coupon code"})
    response = web.get(url)
    assert response.status_code == 200
    assert response.headers["X-Live-Version"] == page_stamps.table_stamp(table.id) != stamp
    assert "Coupon code" in response.text
    for region in ("table-header", "field-rows", "table-relationships", "lock-history"):
        assert re.search(rf'id="{region}"[^>]*hx-swap-oob="true"', response.text), region
    fresh = f"/tables/{table.id}/live?v={response.headers['X-Live-Version']}"
    assert web.get(fresh).status_code == 204


@pytest.mark.parametrize(
    "change",
    [
        lambda t, u: tables.update_table(u, t.id, 1, name="Purchases"),
        lambda t, u: locks.acquire(t.id, u, "pessimistic"),
        lambda t, u: fields.create_field(u, t.id, {"name": "Note"}),
        lambda t, u: tables.transition(u, t.id, "active"),
    ],
    ids=["rename", "lock", "field", "lifecycle"],
)
def test_every_change_the_table_page_shows_moves_its_stamp(team, change):
    before = page_stamps.table_stamp(team["table"].id)
    change(team["table"], team["owner"])
    assert page_stamps.table_stamp(team["table"].id) != before


def test_the_project_page_follows_new_tables_and_their_counts(team, signed_in):
    project = team["project"]
    web = signed_in(team["editor"])
    stamp = page_stamps.project_stamp(project.id)
    url = f"/projects/{project.id}/live?v={stamp}"
    assert web.get(url).status_code == 204
    tables.create_table(team["owner"], project.id, "Invoices")
    response = web.get(url)
    assert response.status_code == 200
    assert "Invoices" in response.text
    assert 'id="table-count" class="muted" hx-swap-oob="true">2<' in response.text
    assert 'id="activity-feed"' in response.text
    # The offer to activate Draft tables follows the new count too.
    offer = response.text.split('id="activate-offer"')[1].split("</div>")[0]
    assert 'hx-swap-oob="true"' in offer and "2 Draft tables not deployed" in offer
    # The list keeps the page's search: only matching tables come back.
    filtered = web.get(f"/projects/{project.id}/live?v=old&q=Orders").text
    listed = filtered.split('id="table-list"')[1].split("</table>")[0]
    assert "Orders" in listed and "Invoices" not in listed


def test_the_project_header_renders_as_a_whole_page_too(team, signed_in):
    web = signed_in(team["editor"])
    response = web.get(f"/projects/{team['project'].id}/header", htmx=False)
    assert response.status_code == 200
    assert "<html" in response.text and "Orders" in response.text


def test_a_new_field_form_starts_as_text_after_a_date_field_is_saved(team, signed_in):
    web = signed_in(team["editor"])
    table = team["table"]
    web.get(f"/tables/{table.id}/fields/new")
    response = web.post(
        f"/tables/{table.id}/fields",
        data={"name": "Shipped on", "field_name": "shipped_on", "data_type": "date"},
    )
    assert response.status_code == 200
    form = response.text.split('id="new-field-form"')[1].split("</form>")[0]
    assert 'value="text" selected' in form
    assert 'value="date" selected' not in form


def test_the_lock_panel_answers_204_while_it_would_show_the_same(team, signed_in):
    table = team["table"]
    web = signed_in(team["editor"])
    first = web.get(f"/tables/{table.id}/lock").text
    version = re.search(r'hx-vals=\'\{"v": "([0-9a-f]+)"\}\'', first).group(1)
    url = f"/tables/{table.id}/lock?v={version}"
    assert web.get(url).status_code == 204
    locks.acquire(table.id, team["owner"], "pessimistic", "splitting the address")
    changed = web.get(url)
    assert changed.status_code == 200
    assert "olga holds" in changed.text
