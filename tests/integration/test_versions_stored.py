"""Versions live in the database: another process reads back what was stored, not a cache."""

import json
import multiprocessing
import os
import subprocess
import urllib.request

import pytest

from designer.api_tokens import issue_token
from designer.design import fields
from designer.design import relationships
from designer.design import tables
from designer.history import snapshot
from designer.history import versions
from designer.models import DataTable
from designer.models import SchemaVersion
from tests.integration import version_worker
from tests.integration.servers import GUNICORN
from tests.integration.servers import ROOT
from tests.integration.servers import free_port
from tests.integration.servers import wait_for


def stored_snapshot(version):
    return (
        SchemaVersion.select(SchemaVersion.schema_snapshot)
        .where(SchemaVersion.id == version.id)
        .scalar()
    )


def two_versions(user, project):
    """Version 1: customers and orders, linked; version 2: renamed, dropped and added."""
    customers = tables.create_table(user, project.id, "Customers")
    orders = tables.create_table(user, project.id, "Orders")
    fields.create_field(user, customers.id, {"name": "Email", "unique": "1"})
    fields.create_field(user, orders.id, {"name": "Total", "data_type": "number"})
    relationships.create_relationship(
        user, project.id, {"source_table_id": customers.id, "target_table_id": orders.id}
    )
    first = versions.save_version(user, project.id, "first")
    tables.update_table(user, customers.id, 1, name="Clients", table_name="clients")
    tables.create_table(user, project.id, "Invoices")
    second = versions.save_version(user, project.id, "second")
    return first, second


def test_a_saved_version_stores_its_snapshot_and_hash(alice, shop):
    first, second = two_versions(alice, shop)
    assert stored_snapshot(second) == snapshot.build(shop.id)
    assert snapshot.snapshot_hash(stored_snapshot(second)) == second.schema_hash
    assert snapshot.snapshot_hash(stored_snapshot(first)) == first.schema_hash
    assert {t["table_name"] for t in stored_snapshot(first)["tables"].values()} == {
        "customers",
        "orders",
    }


def stored_changes(version):
    return (
        SchemaVersion.select(SchemaVersion.changes).where(SchemaVersion.id == version.id).scalar()
    )


def test_a_saved_version_stores_its_changes_whole(alice, shop):
    first, second = two_versions(alice, shop)
    # The first version records the whole schema as added; the second, what changed since.
    assert stored_changes(first) == versions.diff(None, stored_snapshot(first))
    assert stored_changes(second) == versions.diff(stored_snapshot(first), stored_snapshot(second))
    assert sorted(c["op"] for c in stored_changes(second)) == [
        "add_field",
        "add_table",
        "alter_table",
        "rename_table",
    ]


def test_a_save_diffs_against_the_stored_previous_version(alice, shop):
    tables.create_table(alice, shop.id, "Orders")
    versions.save_version(alice, shop.id, "first")
    versions.cache.clear()  # as in another process, which never saw version 1
    tables.create_table(alice, shop.id, "Invoices")
    second = versions.save_version(alice, shop.id, "second")
    assert [c["op"] for c in versions.changes_of(second)] == ["add_table", "add_field"]
    assert second.change_summary["tables"] == {"added": 1, "changed": 0, "dropped": 0}


@pytest.mark.slow
def test_a_fresh_process_compares_and_restores_from_the_stored_versions(alice, shop, database_url):
    first, second = two_versions(alice, shop)
    _, _, expected = versions.compare(shop.id, 1, 2)
    context = multiprocessing.get_context("spawn")
    with context.Pool(1) as pool:
        job = pool.apply_async(
            version_worker.compare_and_restore,
            (database_url, str(alice.id), str(shop.id), 1, 2, 1),
        )
        changes, restored = job.get(timeout=60)
    assert {"rename_table", "add_table"} <= {c["op"] for c in expected}
    assert changes == expected
    assert restored == 3
    assert snapshot.snapshot_hash(snapshot.build(shop.id)) == first.schema_hash
    assert sorted(t.table_name for t in DataTable.select()) == ["customers", "orders"]


class Server:
    """A gunicorn serving the test database, spoken to through the JSON API."""

    def __init__(self, database_url, instance, token):
        self.port = free_port()
        self.token = token
        env = {k: v for k, v in os.environ.items() if k != "TEST_DATABASE_URL"}
        env.update(DATABASE_URL=database_url, SECRET_KEY="test", INSTANCE_PATH=str(instance))
        self.process = subprocess.Popen(
            [*GUNICORN, "-w", "1", "-b", f"127.0.0.1:{self.port}", "app:create_app()"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(f"http://127.0.0.1:{self.port}/login")

    def call(self, method, path, body=None):
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/api/v1{path}",
            method=method,
            data=json.dumps(body).encode() if body is not None else None,
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310  (local URL)
            return json.loads(response.read())

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=30)


@pytest.mark.slow
def test_two_gunicorn_servers_read_each_others_versions(alice, shop, app_database_url, tmp_path):
    token, _ = issue_token(alice, "gunicorn")
    one = Server(app_database_url, tmp_path / "one", token)
    try:
        two = Server(app_database_url, tmp_path / "two", token)
        try:
            orders = tables.create_table(alice, shop.id, "Orders")
            one.call("POST", f"/projects/{shop.id}/versions", {"message": "first"})
            fields.create_field(alice, orders.id, {"name": "Total", "data_type": "number"})
            saved = two.call("POST", f"/projects/{shop.id}/versions", {"message": "second"})
            assert [c["op"] for c in saved["changes"]] == ["add_field"]
            for server in (one, two):
                compared = server.call("GET", f"/projects/{shop.id}/diff?from=1&to=2")
                assert [c["op"] for c in compared["changes"]] == ["add_field"]
            restore = f"/projects/{shop.id}/versions/1/restore"
            restored = two.call("POST", restore, {"confirm": True})
            first = one.call("GET", f"/projects/{shop.id}/versions/1?include=snapshot")
            assert restored["schema_hash"] == first["schema_hash"]
            assert (
                one.call("GET", f"/projects/{shop.id}/versions/3?include=snapshot")[
                    "schema_snapshot"
                ]
                == (first["schema_snapshot"])
            )
            assert [f.field_name for f in tables.ordered_fields(orders.id)] == ["id"]
        finally:
            two.stop()
    finally:
        one.stop()
