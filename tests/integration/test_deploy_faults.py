"""Deploys under faults: a locked target, a deploy in flight, a process that died mid-way."""

import threading
import time

import pytest

from designer import locks
from designer.database import deploy
from designer.database import in_flight
from designer.database import plans
from designer.database import records
from designer.design import fields
from designer.design import tables
from designer.errors import Conflict
from designer.models import Deployment
from designer.settings import settings
from tests.on_target import connect as on_target_connect
from tests.on_target import on_target as rows


@pytest.fixture
def deployed_notes(alice, notes):
    """Notes deployed, then given a field, so a deploy has an ALTER pending."""
    deploy.transition(alice, notes.id, "active")
    fields.create_field(alice, notes.id, {"name": "Title"})
    return notes


class Holder:
    """A session on the target holding a lock in an open transaction until released."""

    def __init__(self, statement):
        self.conn = on_target_connect()
        self.cursor = self.conn.cursor()
        self.cursor.execute(statement)
        self.pid = self.conn.get_backend_pid()

    def release(self):
        self.conn.rollback()
        self.conn.close()


def columns_of(table):
    return [
        r[0]
        for r in rows(
            "SELECT column_name FROM information_schema.columns"
            " WHERE table_schema = 'shop' AND table_name = %s ORDER BY ordinal_position",
            (table,),
        )
    ]


def test_a_locked_table_fails_the_deploy_by_lock_timeout_naming_the_lock(
    alice, shop, deployed_notes, monkeypatch
):
    monkeypatch.setattr(settings, "deploy_lock_timeout_ms", 300)
    holder = Holder("LOCK TABLE shop.notes IN ACCESS EXCLUSIVE MODE")
    try:
        deployment = deploy.deploy(alice, shop.id)
    finally:
        holder.release()
    assert deployment.status == "failed"
    assert "canceling statement due to lock timeout" in deployment.error
    assert (
        f"It waited 300 ms for a lock on: shop.notes (AccessExclusiveLock, held by process"
        f" {holder.pid}, running: LOCK TABLE shop.notes IN ACCESS EXCLUSIVE MODE)"
    ) in deployment.error
    assert columns_of("notes") == ["id", "body"]
    assert deploy.deploy(alice, shop.id).status == "applied"
    assert columns_of("notes") == ["id", "body", "title"]


def test_another_deploy_of_the_schema_fails_this_one_naming_the_advisory_lock(
    alice, shop, deployed_notes, monkeypatch
):
    monkeypatch.setattr(settings, "deploy_lock_timeout_ms", 300)
    holder = Holder("SELECT pg_advisory_xact_lock(hashtextextended('dmd:shop', 0))")
    try:
        deployment = deploy.deploy(alice, shop.id)
    finally:
        holder.release()
    assert deployment.status == "failed"
    assert "another deploy holds the advisory lock dmd:shop" in deployment.error


def test_a_deploy_is_shown_running_while_it_runs_then_applied(alice, shop, deployed_notes):
    holder = Holder("LOCK TABLE shop.notes IN ACCESS EXCLUSIVE MODE")
    outcome = {}
    worker = threading.Thread(
        target=lambda: outcome.setdefault("row", deploy.deploy(alice, shop.id)), daemon=True
    )
    worker.start()
    try:
        seen = wait_for_status(shop.id, "running")
    finally:
        holder.release()
    worker.join(30)
    assert seen.status == "running" and seen.error is None
    assert outcome["row"].id == seen.id and outcome["row"].status == "applied"
    assert [row.status for row in records.history(shop.id)] == ["applied", "applied"]


def wait_for_status(project_id, status, seconds=20):
    """The project's newest deployment once it has `status` (history settles orphans)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        newest = records.history(project_id)[0]
        if newest.status == status:
            return newest
        time.sleep(0.05)
    raise AssertionError(f"no deployment became {status}")


def test_a_running_deploy_whose_process_is_gone_is_shown_unknown(alice, shop, deployed_notes):
    applied = records.history(shop.id)[0]
    orphan = Deployment.create(
        project=shop.id, target_schema="shop", to_hash="0" * 64, status="running", created_by=alice
    )
    listed = {row.id: row for row in records.history(shop.id)}
    assert listed[orphan.id].status == "unknown"
    assert "The app stopped while this deploy ran" in listed[orphan.id].error
    assert listed[applied.id].status == "applied"
    assert records.get_deployment(alice, shop.id, orphan.id).status == "unknown"


def test_a_running_deploy_whose_process_lives_stays_running(alice, shop, deployed_notes):
    flight = in_flight.InFlight()
    plan = plans.plan_for(alice, shop.id)
    flight.start(plan.record(alice, None))
    try:
        assert records.get_deployment(alice, shop.id, flight.id).status == "running"
    finally:
        flight.end(RuntimeError("stopped by the test"))
    row = records.get_deployment(alice, shop.id, flight.id)
    assert (row.status, row.error) == ("failed", "The deploy stopped: stopped by the test")


def test_a_deploy_whose_designer_side_breaks_is_recorded_failed(
    alice, shop, deployed_notes, monkeypatch
):
    def broken(project_id, desired):
        raise RuntimeError("the designer's write broke")

    monkeypatch.setattr(deploy, "mark_deployed", broken)
    with pytest.raises(RuntimeError):
        deploy.deploy(alice, shop.id)
    newest = records.history(shop.id)[0]
    assert newest.status == "failed"
    assert newest.error == "The deploy stopped: the designer's write broke"
    assert columns_of("notes") == ["id", "body"]


def test_a_refused_deploy_leaves_no_record(alice, shop, notes):
    deploy.transition(alice, notes.id, "active")
    rows("INSERT INTO shop.notes (body) VALUES ('kept')")
    lock = locks.acquire(notes.id, alice, "critical")
    body = tables.ordered_fields(notes.id)[1]
    fields.delete_field(alice, body.id, lock.lock_token)
    with pytest.raises(Conflict):
        deploy.deploy(alice, shop.id)
    assert [row.status for row in Deployment.select()] == ["applied"]
