"""Table locks: one holder at a time under real concurrency, heartbeats, expiry, enforcement."""

import multiprocessing
import threading
import uuid

import pytest
from peewee import SQL

from designer import locks
from designer import projects
from designer.db import database
from designer.design import fields
from designer.design import tables
from designer.errors import Conflict
from designer.errors import Locked
from designer.errors import NotFound
from designer.models import DataField
from designer.models import DataTable
from designer.models import ProjectMember
from designer.models import TableLock
from designer.settings import settings
from tests.integration import lock_worker
from tests.integration.conftest import time_passes_for_locks


@pytest.fixture
def team(make_user):
    owner, editor, other = make_user("olga"), make_user("eddie"), make_user("otto")
    project = projects.create_project(owner, "Shop")
    projects.add_member(owner, project.id, "eddie", "editor")
    projects.add_member(owner, project.id, "otto", "editor")
    table = tables.create_table(owner, project.id, "Orders")
    field = fields.create_field(owner, table.id, {"name": "Total", "data_type": "number"})
    return {"owner": owner, "editor": editor, "other": other, "project": project,
            "table": table, "field": field}  # fmt: skip


def test_fifty_concurrent_acquirers_in_threads_leave_one_holder(team, make_user, api):
    project, table = team["project"], team["table"]
    clients = []
    for i in range(50):
        user = make_user(f"racer{i:02d}")
        projects.add_member(team["owner"], project.id, user.username, "editor")
        clients.append(api(user))
    start = threading.Barrier(len(clients), timeout=60)
    statuses = []

    def race(client):
        start.wait()
        statuses.append(
            client.post(f"/tables/{table.id}/lock", json={"lock_type": "pessimistic"}).status_code
        )
        database.close()

    threads = [threading.Thread(target=race, args=(c,), daemon=True) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not any(t.is_alive() for t in threads)
    assert sorted(statuses) == [201] + [423] * 49
    assert TableLock.select().where(TableLock.released_at.is_null()).count() == 1


@pytest.mark.slow
def test_acquirers_in_two_processes_leave_one_holder(team, make_user, database_url):
    racers = []
    for i in range(20):
        user = make_user(f"proc{i:02d}")
        projects.add_member(team["owner"], team["project"].id, user.username, "editor")
        racers.append(str(user.id))
    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager:
        # All twenty, ten threads in each process, try at once.
        barrier = manager.Barrier(len(racers), timeout=60)
        with context.Pool(2) as pool:
            halves = [racers[::2], racers[1::2]]
            results = pool.starmap_async(
                lock_worker.attempt,
                [(database_url, str(team["table"].id), half, barrier) for half in halves],
            ).get(timeout=90)
    outcomes = [outcome for result in results for outcome in result]
    assert outcomes.count("won") == 1
    assert outcomes.count("refused") == 19
    assert TableLock.select().where(TableLock.released_at.is_null()).count() == 1


def test_a_heartbeat_extends_the_lease(team):
    locks.acquire(team["table"].id, team["editor"], "pessimistic")
    time_passes_for_locks(10)
    lock = locks.active_lock(team["table"].id)
    renewed = locks.heartbeat(lock.lock_token, team["editor"])
    assert renewed.expires_at > lock.expires_at
    assert renewed.heartbeat_at > lock.heartbeat_at


def test_a_heartbeat_on_a_new_connection_still_extends_the_lease(team, api):
    """The heartbeat is prepared once per connection; a new connection prepares it again."""
    lock = locks.acquire(team["table"].id, team["editor"], "pessimistic")
    locks.heartbeat(lock.lock_token, team["editor"])
    database.manual_close()
    assert locks.heartbeat(lock.lock_token, team["editor"]).expires_at > lock.expires_at
    client = api(team["editor"])
    url = f"/tables/{team['table'].id}/lock/heartbeat"
    assert client.post(url, json={"lock_token": str(lock.lock_token)}).status_code == 200
    database.obj.close_all()  # the app role's pooled connections too
    assert client.post(url, json={"lock_token": str(lock.lock_token)}).status_code == 200


def test_a_heartbeat_updates_its_lock_in_place(team):
    """No index covers what a heartbeat moves, so PostgreSQL rewrites no index entry."""
    lock = locks.acquire(team["table"].id, team["editor"], "pessimistic")
    # The connection's counts not yet flushed to the statistics include its earlier
    # transactions': what the heartbeat adds is the difference.
    counts = (
        "SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_xact_user_tables"
        " WHERE relid = 'table_lock'::regclass"
    )
    with database.atomic():
        before = database.execute_sql(counts).fetchone()
        locks.heartbeat(lock.lock_token, team["editor"], team["table"].id)
        after = database.execute_sql(counts).fetchone()
    assert (after[0] - before[0], after[1] - before[1]) == (1, 1)


def test_a_holder_who_is_no_longer_an_editor_cannot_extend_the_lock(team, api):
    lock = locks.acquire(team["table"].id, team["editor"], "pessimistic")
    # Behind change_role's back, which would end the lock: here the lock outlives the role.
    ProjectMember.update(role="viewer").where(ProjectMember.user == team["editor"].id).execute()
    with pytest.raises(Conflict):
        locks.heartbeat(lock.lock_token, team["editor"], team["table"].id)
    url = f"/tables/{team['table'].id}/lock/heartbeat"
    response = api(team["editor"]).post(url, json={"lock_token": str(lock.lock_token)})
    assert response.status_code == 409
    assert TableLock.get_by_id(lock.id).expires_at == lock.expires_at


def test_without_heartbeats_a_lock_expires_and_is_free(team):
    lock = locks.acquire(team["table"].id, team["editor"], "pessimistic")
    with pytest.raises(Locked):
        locks.acquire(team["table"].id, team["other"], "pessimistic")
    time_passes_for_locks(settings.lock_lease_seconds - 1)
    assert locks.active_lock(team["table"].id).id == lock.id
    time_passes_for_locks(2)
    assert locks.active_lock(team["table"].id) is None
    taken = locks.acquire(team["table"].id, team["other"], "pessimistic")
    assert taken.user_id == team["other"].id
    assert TableLock.get_by_id(lock.id).end_reason == "expired"
    with pytest.raises(Conflict):
        locks.heartbeat(lock.lock_token, team["editor"])


def test_the_sweep_records_expired_locks(team, app):
    lock = locks.acquire(team["table"].id, team["editor"], "pessimistic")
    time_passes_for_locks(settings.lock_lease_seconds + 1)
    assert TableLock.get_by_id(lock.id).end_reason is None
    result = app.test_cli_runner().invoke(args=["locks", "sweep"])
    assert "1 expired lock(s) recorded" in result.output
    assert TableLock.get_by_id(lock.id).end_reason == "expired"


def test_wrong_tokens_are_refused(team):
    lock = locks.acquire(team["table"].id, team["editor"], "pessimistic")
    with pytest.raises(Conflict):
        locks.heartbeat(lock.lock_token, team["other"])
    with pytest.raises(Conflict):
        locks.heartbeat(uuid.uuid4(), team["editor"])
    with pytest.raises(NotFound):
        locks.release(lock.lock_token, team["other"])
    with pytest.raises(NotFound):
        locks.heartbeat("not-a-token", team["editor"])
    with pytest.raises(Locked):
        tables.update_table(team["editor"], team["table"].id, 1, uuid.uuid4(), name="X")
    assert locks.active_lock(team["table"].id).id == lock.id


def test_a_non_holder_write_gets_423_and_changes_nothing(team, api):
    locks.acquire(team["table"].id, team["editor"], "pessimistic", "reshaping")
    response = api(team["other"]).patch(
        f"/tables/{team['table'].id}", json={"name": "Mine", "revision": 1}
    )
    assert response.status_code == 423
    assert "eddie holds a pessimistic lock (reshaping)" in response.json["error"]["message"]
    response = api(team["other"]).post(f"/tables/{team['table'].id}/fields", json={"name": "X"})
    assert response.status_code == 423
    assert DataTable.get_by_id(team["table"].id).name == "Orders"
    assert DataField.select().count() == 2


def test_the_holders_write_with_its_token_is_applied(team, api):
    client = api(team["editor"])
    token = client.post(f"/tables/{team['table'].id}/lock", json={}).json["lock_token"]
    url = f"/tables/{team['table'].id}"
    assert client.patch(url, json={"name": "A", "revision": 1}).status_code == 423
    response = client.patch(url, json={"name": "A", "revision": 1}, headers={"X-Lock-Token": token})
    assert response.status_code == 200
    assert DataTable.get_by_id(team["table"].id).name == "A"


def test_only_owners_force_a_release(team, api):
    locks.acquire(team["table"].id, team["editor"], "pessimistic")
    url = f"/tables/{team['table'].id}/lock"
    assert api(team["other"]).delete(url, json={"force": True}).status_code == 403
    assert locks.active_lock(team["table"].id) is not None
    assert api(team["owner"]).delete(url, json={"force": True}).status_code == 204
    assert locks.active_lock(team["table"].id) is None
    assert TableLock.get().end_reason == "forced"


def test_a_forced_holder_is_told_and_their_next_save_refused(team):
    lock = locks.acquire(team["table"].id, team["editor"], "pessimistic")
    locks.force_release(team["table"].id)
    with pytest.raises(Locked) as caught:
        tables.update_table(team["editor"], team["table"].id, 1, lock.lock_token, name="X")
    assert "released by a project owner" in caught.value.message
    with pytest.raises(Conflict):
        locks.heartbeat(lock.lock_token, team["editor"])
    assert DataTable.get_by_id(team["table"].id).name == "Orders"


def test_the_holder_upgrades_to_critical_but_others_cannot(team):
    lock = locks.acquire(team["table"].id, team["editor"], "optimistic")
    upgraded = locks.acquire(team["table"].id, team["editor"], "critical", "dropping columns")
    assert upgraded.lock_token == lock.lock_token
    assert upgraded.lock_type == "critical"
    assert locks.acquire(team["table"].id, team["editor"], "optimistic").lock_type == "critical"
    with pytest.raises(Locked):
        locks.acquire(team["table"].id, team["other"], "critical")


def breaking_changes(team):
    table, field = team["table"], team["field"]
    user = team["editor"]
    return {
        "drop a field": lambda token: fields.delete_field(user, field.id, token),
        "change a field's type": lambda token: fields.update_field(
            user, field.id, 1, {"name": "Total", "data_type": "text"}, token
        ),
        "discard the table": lambda token: tables.delete_table(user, table.id, token),
    }


def mark_deployed(table):
    DataTable.update(deployed_at=SQL("now()")).where(DataTable.id == table.id).execute()


@pytest.mark.parametrize("change", ["drop a field", "change a field's type"])
@pytest.mark.parametrize("held", [None, "optimistic", "pessimistic"])
def test_breaking_changes_to_a_deployed_table_need_a_critical_lock(team, change, held):
    mark_deployed(team["table"])
    token = locks.acquire(team["table"].id, team["editor"], held).lock_token if held else None
    with pytest.raises(Locked) as caught:
        breaking_changes(team)[change](token)
    assert "critical lock" in caught.value.message
    critical = locks.acquire(team["table"].id, team["editor"], "critical").lock_token
    breaking_changes(team)[change](critical)


@pytest.mark.parametrize("change", ["drop a field", "change a field's type", "discard the table"])
def test_reshaping_a_never_deployed_draft_needs_no_critical_lock(team, change):
    breaking_changes(team)[change](None)
    field = DataField.get_or_none(DataField.id == team["field"].id)
    table = DataTable.get_or_none(DataTable.id == team["table"].id)
    applied = {
        "drop a field": field is None,
        "change a field's type": field is not None and field.data_type == "text",
        "discard the table": table is None,
    }
    assert applied[change]


def test_a_deployed_table_cannot_be_discarded(team):
    mark_deployed(team["table"])
    critical = locks.acquire(team["table"].id, team["editor"], "critical").lock_token
    with pytest.raises(Conflict):
        breaking_changes(team)["discard the table"](critical)


@pytest.mark.parametrize("status", ["deprecated", "deleted"])
def test_deprecating_and_deleting_need_a_critical_lock(team, status):
    token = locks.acquire(team["table"].id, team["editor"], "pessimistic").lock_token
    path = ["active", "deprecated", "deleted"][: ["active", "deprecated", "deleted"].index(status)]
    for step in path:
        DataTable.update(status=step).where(DataTable.id == team["table"].id).execute()
    with pytest.raises(Locked):
        tables.transition(team["editor"], team["table"].id, status, confirm=True, lock_token=token)
    critical = locks.acquire(team["table"].id, team["editor"], "critical").lock_token
    moved = tables.transition(team["editor"], team["table"].id, status, True, critical)
    assert moved.status == status


def test_lock_history_keeps_how_each_lock_ended(team, api):
    table_id = team["table"].id
    first = locks.acquire(table_id, team["editor"], "pessimistic", "first")
    locks.release(first.lock_token, team["editor"])
    locks.acquire(table_id, team["editor"], "critical", "second")
    locks.force_release(table_id)
    locks.acquire(table_id, team["other"], "pessimistic", "third")
    time_passes_for_locks(settings.lock_lease_seconds + 1)
    locks.expire_stale()
    history = api(team["owner"]).get(f"/tables/{table_id}/lock").json["history"]
    assert [(h["reason"], h["end_reason"]) for h in history] == [
        ("third", "expired"),
        ("second", "forced"),
        ("first", "released"),
    ]
    assert all("lock_token" not in h for h in history)


def test_api_lock_round_trip(team, api):
    client = api(team["editor"])
    url = f"/tables/{team['table'].id}/lock"
    created = client.post(url, json={"lock_type": "pessimistic", "reason": "split"})
    assert created.status_code == 201
    token = created.json["lock_token"]
    assert client.post(url, json={"lock_type": "critical"}).status_code == 200
    seen = api(team["other"]).get(url).json["lock"]
    assert seen["username"] == "eddie"
    assert seen["lock_type"] == "critical"
    assert "lock_token" not in seen
    beat = client.post(f"{url}/heartbeat", json={"lock_token": token})
    assert beat.status_code == 200
    assert client.delete(url, json={"lock_token": token}).status_code == 204
    assert client.get(url).json["lock"] is None
    assert client.post(f"{url}/heartbeat", json={"lock_token": token}).status_code == 409


def test_unknown_lock_types_are_refused(team, api):
    response = api(team["editor"]).post(
        f"/tables/{team['table'].id}/lock", json={"lock_type": "exclusive"}
    )
    assert response.status_code == 422
    assert "lock_type" in response.json["error"]["fields"]
    assert TableLock.select().count() == 0
