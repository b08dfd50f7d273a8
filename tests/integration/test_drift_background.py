"""A page's drift check builds the expected catalog on a thread of its own (#27): the request
that starts it answers with its progress once it has built a batch, the polls after it answer
at once with the progress it reports (building nothing themselves), and the answer one of
them collects is what the target holds."""

import threading

import pytest

from designer.database import drift
from designer.database import expectations
from designer.db import database
from designer.errors import Conflict
from designer.settings import settings
from tests.integration.test_drift_expectations import design
from tests.integration.test_drift_expectations import forget
from tests.integration.test_drift_expectations import kept_shares
from tests.on_target import as_owner_of
from tests.on_target import connect as on_target_connect

rows = as_owner_of("shop")


class Gate:
    """Holds a check's own thread before it keeps each batch after the first, until opened;
    counts the batches the test's thread (a request's) keeps itself."""

    def __init__(self):
        self.permits = threading.Semaphore(1)
        self.here = []

    def keeping(self):
        if threading.current_thread() is threading.main_thread():
            self.here.append(1)
        else:
            assert self.permits.acquire(timeout=60), "the gate was never opened"

    def open(self):
        for _ in range(1000):
            self.permits.release()


@pytest.fixture
def gate(monkeypatch):
    gate = Gate()
    keep = expectations.keep

    def gated(project_id, shares):
        gate.keeping()
        return keep(project_id, shares)

    monkeypatch.setattr(expectations, "keep", gated)
    monkeypatch.setattr(expectations, "BATCH", 2)
    monkeypatch.setattr(settings, "drift_build_seconds", 0)
    yield gate
    gate.open()
    drift.jobs.wait_all()


def cold(project):
    forget()
    database.execute_sql("DELETE FROM drift_expectation WHERE project_id = %s", (str(project.id),))


def threads():
    return [t for t in threading.enumerate() if t.name.startswith("drift-check")]


def test_polls_answer_with_the_progress_of_the_build_under_way(alice, shop, signed_in, api, gate):
    design(alice, shop, 5)
    cold(shop)
    assert drift.check(alice, shop.id, budget=0) == drift.Progress("shop", 2, 5)
    # The thread waits at the gate with its second batch built: the polls build nothing.
    page = signed_in(alice).get(f"/projects/{shop.id}/drift?from=deploy")
    assert page.status_code == 200
    assert "2 of 5 deployed tables" in page.text and 'hx-trigger="load delay' in page.text
    assert f'hx-get="/projects/{shop.id}/drift?from=deploy"' in page.text
    answer = api(alice).get(f"/projects/{shop.id}/drift")
    assert answer.status_code == 202 and answer.headers["Retry-After"] == "1"
    assert answer.json == {"checking": True, "tables_built": 2, "tables": 5}
    assert kept_shares(shop) == 2 and gate.here == [] and len(threads()) == 1

    gate.open()
    drift.jobs.wait_all()
    assert kept_shares(shop) == 5
    answer = api(alice).get(f"/projects/{shop.id}/drift")
    assert answer.status_code == 200 and answer.json["in_sync"] is True
    page = signed_in(alice).get(f"/projects/{shop.id}/drift?from=deploy")
    assert "In sync" in page.text and "hx-trigger" not in page.text
    assert gate.here == [] and threads() == []


def test_a_change_made_before_the_answer_is_collected_shows_in_it(alice, shop, gate):
    design(alice, shop, 5)
    cold(shop)
    assert isinstance(drift.check(alice, shop.id, budget=0), drift.Progress)
    rows("ALTER TABLE shop.item_01 ADD COLUMN during integer")
    gate.open()
    drift.jobs.wait_all()
    rows("ALTER TABLE shop.item_02 ADD COLUMN after integer")
    # The thread's answer is not the schema's any more: the poll checks again (from the
    # kept shares), and shows both changes.
    found = drift.check(alice, shop.id, budget=0)
    assert not isinstance(found, drift.Progress)
    assert any("during" in line for line in found.differences)
    assert any("after" in line for line in found.differences)
    assert found.differences == drift.check(alice, shop.id).differences
    assert gate.here == []


def test_a_small_check_answers_the_request_that_starts_it(alice, shop, signed_in, gate):
    # One batch: the request waits for the thread's answer, as it did building on its own.
    design(alice, shop, 2)
    cold(shop)
    page = signed_in(alice).get(f"/projects/{shop.id}/drift?from=deploy")
    assert "In sync" in page.text and "hx-trigger" not in page.text
    assert kept_shares(shop) == 2 and gate.here == []


def test_what_a_check_on_its_thread_raised_answers_the_poll_that_collects_it(
    alice, shop, api, gate
):
    design(alice, shop, 2)
    cold(shop)

    def refused(*args):
        raise Conflict("the target said no")

    with pytest.MonkeyPatch.context() as patched:
        patched.setattr(drift, "compare", refused)
        answer = api(alice).get(f"/projects/{shop.id}/drift")
    assert answer.status_code == 409 and "the target said no" in answer.text
    # Collected: the next poll checks again.
    answer = api(alice).get(f"/projects/{shop.id}/drift")
    assert answer.status_code == 200 and answer.json["in_sync"] is True


def test_a_check_waits_for_the_one_another_process_builds(alice, shop, api, gate, monkeypatch):
    design(alice, shop, 5)
    cold(shop)
    monkeypatch.setattr(drift, "WAIT_SECONDS", 0.05)
    other = on_target_connect()  # another app process, building the schema's shares
    try:
        with other.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_lock(hashtextextended(%s, 0))", (drift.building_lock("shop"),)
            )
        assert drift.check(alice, shop.id, budget=0) == drift.Progress("shop", 0, 5)
        answer = api(alice).get(f"/projects/{shop.id}/drift")
        assert answer.status_code == 202 and answer.json["tables_built"] == 0
        assert kept_shares(shop) == 0 and len(threads()) == 1
    finally:
        other.close()
    gate.open()
    drift.jobs.wait_all()
    answer = api(alice).get(f"/projects/{shop.id}/drift")
    assert answer.status_code == 200 and answer.json["in_sync"] is True
    assert kept_shares(shop) == 5 and gate.here == []
