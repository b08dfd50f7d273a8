"""Faults with real app servers (gunicorn as `make serve` runs it): two servers racing on one
database, the app killed during a deploy, a graceful stop while a deploy waits on a lock."""

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from designer import accounts
from designer import projects
from designer.database import deploy
from designer.database import plans
from designer.database import records
from designer.design import fields
from designer.design import tables
from designer.models import Deployment
from designer.models import SchemaVersion
from designer.models import TableLock
from tests.integration.servers import Gunicorn
from tests.integration.servers import RedisServer
from tests.integration.test_deploy_faults import Holder
from tests.integration.test_deploy_faults import columns_of

pytestmark = pytest.mark.slow

CONTENDERS = 16  # requests in flight at once, spread over both servers


@pytest.fixture
def serve(app_database_url, owner_database_url, target_url, tmp_path):
    """A factory of gunicorn servers on the test database, all stopped after the test; they
    serve as the app role, bound by row-level security, as in production. serve("one", "two")
    boots both side by side and returns them once both answer."""
    started = []

    def start(*names, **env):
        env = {"OWNER_DATABASE_URL": owner_database_url, "DEPLOY_DATABASE_URL": target_url, **env}
        booting = []
        for name in names or ("app",):
            log = tmp_path / f"{name}.log"
            booting.append(Gunicorn(app_database_url, tmp_path / name, log, wait=False, **env))
            started.append(booting[-1])
        ready = [server.wait_ready() for server in booting]
        return ready[0] if len(ready) == 1 else ready

    yield start
    for server in started:
        server.terminate()
    for server in started:
        server.stop()


def spread(servers, jobs):
    """Run each job (a function of a server) on the servers in turn, CONTENDERS at a time."""
    with ThreadPoolExecutor(CONTENDERS) as pool:
        futures = [pool.submit(job, servers[i % len(servers)]) for i, job in enumerate(jobs)]
        return [future.result() for future in futures]


def test_two_servers_give_one_lock_holder_out_of_200_acquisitions(alice, make_user, shop, serve):
    table = tables.create_table(alice, shop.id, "Orders")
    users = [make_user(f"user{i:02d}") for i in range(20)]
    for user in users:
        projects.add_member(alice, shop.id, user.username, "editor")
    tokens = [accounts.issue_token(user, "race")[0] for user in users]
    servers = serve("one", "two")
    path = f"/api/v1/tables/{table.id}/lock"

    def acquire(i):
        return lambda server: (i % 20, server.call("POST", path, {}, tokens[i % 20])[:2])

    outcomes = spread(servers, [acquire(i) for i in range(200)])
    won = {who for who, (status, _) in outcomes if status in (200, 201)}
    statuses = {status for _, (status, _) in outcomes}
    assert len(won) == 1 and statuses <= {200, 201, 423}, statuses
    assert sum(1 for _, (status, _) in outcomes if status == 201) == 1
    holder = TableLock.get(TableLock.data_table == table.id, TableLock.released_at.is_null())
    assert holder.user_id == users[won.pop()].id
    assert TableLock.select().count() == 1


def test_two_servers_save_consecutive_version_numbers(alice, shop, serve):
    token, _ = accounts.issue_token(alice, "race")
    servers = serve("one", "two")
    versions_path = f"/api/v1/projects/{shop.id}/versions"

    def change(i):
        path = f"/api/v1/projects/{shop.id}/tables"
        return lambda server: server.call("POST", path, {"name": f"Table {i:03d}"}, token)[:2]

    def save(i):
        return lambda server: server.call("POST", versions_path, {"message": f"v{i}"}, token)[:2]

    jobs = [job for i in range(100) for job in (change(i), save(i))]
    outcomes = spread(servers, jobs)
    saved = [body["version_number"] for status, body in outcomes if "version_number" in body]
    refused = [body for status, body in outcomes if status not in (201,)]
    # A save finds nothing to save when another one took its change first: a 409, no gap.
    assert all(body["error"]["code"] == "conflict" for body in refused), refused[:3]
    stored = [
        v.version_number for v in SchemaVersion.select().order_by(SchemaVersion.version_number)
    ]
    assert sorted(saved) == stored == list(range(1, len(stored) + 1))
    assert len(stored) >= 2


def test_two_servers_serialize_deploys(alice, shop, notes, serve):
    deploy.transition(alice, notes.id, "active")
    token, _ = accounts.issue_token(alice, "race")
    servers = serve("one", "two")

    def change(i):
        path = f"/api/v1/tables/{notes.id}/fields"
        return lambda server: server.call("POST", path, {"name": f"Column {i:03d}"}, token)[:2]

    def deploy_now(i):
        path = f"/api/v1/projects/{shop.id}/deployments"
        return lambda server: server.call("POST", path, {"dry_run": False}, token)[:2]

    jobs = [job for i in range(100) for job in (change(i), deploy_now(i))]
    outcomes = spread(servers, jobs)
    deploys = [(status, body) for status, body in outcomes if "target_schema" in (body or {})]
    assert deploys and all(body["status"] == "applied" for _, body in deploys)
    others = [body for status, body in outcomes if status not in (201,)]
    assert all("Nothing to deploy" in body["error"]["message"] for body in others), others[:3]
    applied = list(
        Deployment.select().where(Deployment.status == "applied").order_by(Deployment.created_at)
    )
    # Each deploy started from what the one before it left: none ran beside another.
    for before, after in zip(applied, applied[1:], strict=False):
        assert after.from_hash == before.to_hash
    assert Deployment.select().where(Deployment.status != "applied").count() == 0
    # The target holds what the last deploy recorded; changes that came after it are pending.
    held = records.deployed_snapshot(records.last_applied(shop.id))["tables"][str(notes.id)]
    assert sorted(columns_of("notes")) == sorted(f["field_name"] for f in held["fields"].values())
    if plans.has_pending(plans.plan_for(alice, shop.id)):
        deploy.deploy(alice, shop.id)
    assert len(columns_of("notes")) == 2 + 100  # id, body and every column added


def test_the_app_killed_during_a_deploy_leaves_the_target_and_shows_unknown(
    alice, shop, notes, serve
):
    deploy.transition(alice, notes.id, "active")
    fields.create_field(alice, notes.id, {"name": "Title"})
    token, _ = accounts.issue_token(alice, "kill")
    server = serve("killed", DEPLOY_LOCK_TIMEOUT_MS="60000")
    holder = Holder("LOCK TABLE shop.notes IN ACCESS EXCLUSIVE MODE")
    try:
        path = f"/api/v1/projects/{shop.id}/deployments"
        request = threading.Thread(
            target=lambda: pytest.raises(OSError, server.call, "POST", path, {}, token),
            daemon=True,
        )
        request.start()
        running = wait_for_deployment(shop.id, "running")
        server.kill()
        request.join(30)
    finally:
        holder.release()
    assert columns_of("notes") == ["id", "body"]
    back = serve("back")
    status, listed, _ = back.call("GET", f"/api/v1/projects/{shop.id}/deployments", None, token)
    assert status == 200
    newest = listed["deployments"][0]
    assert newest["id"] == str(running.id) and newest["status"] == "unknown"
    assert "The app stopped while this deploy ran" in newest["error"]
    assert not Deployment.select().where(Deployment.status == "running").exists()
    assert deploy.deploy(alice, shop.id).status == "applied"
    assert columns_of("notes") == ["id", "body", "title"]


def test_a_graceful_stop_lets_a_deploy_waiting_on_a_lock_finish_and_name_it(
    alice, shop, notes, serve
):
    deploy.transition(alice, notes.id, "active")
    fields.create_field(alice, notes.id, {"name": "Title"})
    token, _ = accounts.issue_token(alice, "graceful")
    server = serve("graceful", DEPLOY_LOCK_TIMEOUT_MS="2000")
    holder = Holder("LOCK TABLE shop.notes IN ACCESS EXCLUSIVE MODE")
    answered = {}
    try:
        path = f"/api/v1/projects/{shop.id}/deployments"
        request = threading.Thread(
            target=lambda: answered.update(reply=server.call("POST", path, {}, token)),
            daemon=True,
        )
        request.start()
        wait_for_deployment(shop.id, "running")
        stopping = threading.Thread(target=lambda: answered.update(exit=server.stop()))
        stopping.start()
        request.join(30)
        stopping.join(40)
    finally:
        holder.release()
    status, body, _ = answered["reply"]
    assert status == 201 and body["status"] == "failed"
    assert "canceling statement due to lock timeout" in body["error"]
    assert "It waited 2000 ms for a lock on: shop.notes (AccessExclusiveLock" in body["error"]
    assert answered["exit"] == 0
    assert "Shutting down: Master" in server.log()


def wait_for_deployment(project_id, status, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        row = (
            Deployment.select()
            .where(Deployment.project == project_id, Deployment.status == status)
            .first()
        )
        if row is not None:
            return row
        time.sleep(0.05)
    raise AssertionError(f"no deployment became {status}")


@pytest.fixture
def redis_server(tmp_path):
    """A redis-server of this test's own (skipped, saying why, where none can be started)."""
    server = RedisServer.start(tmp_path)
    if server is None:
        pytest.skip(RedisServer.why_not)
    yield server
    server.stop()


def test_two_servers_share_the_sign_in_limit_through_redis(make_user, serve, redis_server):
    """With RATELIMIT_STORAGE_URI on Redis (a redis-server the test starts), failed sign-ins
    count once across servers: the fourth fails on either, not the seventh."""
    user = make_user(f"limited{uuid.uuid4().hex[:8]}")
    shared = {
        "RATELIMIT_STORAGE_URI": redis_server.url,
        "SIGNIN_ACCOUNT_LIMIT": "3 per 10 minutes",
        "SIGNIN_CLIENT_LIMIT": "1000 per minute",
    }
    servers = serve("one", "two", **shared)
    wrong = {"username": user.username, "password": "not the password"}
    statuses = [servers[i % 2].call("POST", "/api/v1/tokens", wrong)[0] for i in range(6)]
    assert statuses == [401, 401, 401, 429, 429, 429]
