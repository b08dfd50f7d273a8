"""Branch merges racing (#28), with real concurrency: every merge and edit runs on a thread of
its own, with its own connection of the app's role acting for its user, as a server runs them.
Where an order matters it is forced by a held transaction or a hook inside the merge, never by
sleeping, and judged by what PostgreSQL holds afterwards."""

import itertools
import threading

import psycopg2
import pytest
from peewee import OperationalError

from designer import branches
from designer import projects
from designer import rls
from designer.db import database
from designer.design import fields
from designer.design import tables
from designer.errors import Conflict
from designer.history import versions
from designer.models import BranchOrigin
from designer.models import DataField
from designer.models import DataTable
from designer.models import Project
from designer.models import SchemaVersion
from tests.integration.conftest import as_app_role
from tests.integration.conftest import column_names
from tests.integration.conftest import wait_for
from tests.integration.races import TIMEOUT
from tests.integration.races import race


@pytest.fixture
def carol(make_user):
    return make_user("carol")


@pytest.fixture
def designed(designed, alice, shop, carol):
    """The branch tests' shop (tests/integration/conftest.py), carol an editor too (editors,
    not owners: what they may lock is what an editor may)."""
    projects.add_member(alice, shop.id, "carol", "editor")
    return designed


@pytest.fixture
def as_the_app_role(app_database_url):
    """Entered, work outside a request connects as the app's role (see as_app_role)."""
    return lambda: as_app_role(app_database_url)


@pytest.fixture
def watch(database_url):
    """A superuser's connection that sees what other backends wait for."""
    conn = psycopg2.connect(database_url)
    conn.autocommit = True
    yield conn.cursor()
    conn.close()


def acting(user, work):
    """`work` run on this thread's own connection, acting for `user`; its backend's pid is
    noted in `pids` first, so the test can see what it waits for."""

    def run(pids=None, key=None):
        with rls.acting_for(user.id):
            if pids is not None:
                pids[key] = database.execute_sql("SELECT pg_backend_pid()").fetchone()[0]
            return work()

    return run


class Started:
    """A thread running `run(pids, key)`, its outcome (what it returned or raised) kept."""

    def __init__(self, run, pids, key):
        self.outcome = None
        self.done = threading.Event()

        def body():
            try:
                self.outcome = run(pids, key)
            except Exception as exc:  # noqa: BLE001  (the outcome is what the test checks)
                self.outcome = exc
            finally:
                database.close()
                self.done.set()

        self.thread = threading.Thread(target=body, daemon=True)
        self.thread.start()

    def join(self):
        self.thread.join(TIMEOUT)
        assert not self.thread.is_alive(), "a contender never finished"
        return self.outcome


def waiting_for_a_lock(watch, pids, key):
    if key not in pids:
        return False
    watch.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", (pids[key],))
    row = watch.fetchone()
    return row is not None and row[0] == "Lock"


def held_at(event, release):
    """A merge's `after` hook: the merge, its version saved and every lock still held, tells
    `event` and waits for `release`."""

    def after(version):
        event.set()
        assert release.wait(TIMEOUT), "the merge was never released"

    return after


def local_of(branch, origin_id):
    return BranchOrigin.get(
        BranchOrigin.branch == branch.id, BranchOrigin.origin_id == origin_id
    ).local_id


def rename(user, branch, origin_id, name, field_name, data_type="text"):
    field = DataField.get_by_id(local_of(branch, origin_id))
    data = {"name": name, "field_name": field_name, "data_type": data_type}
    fields.update_field(user, field.id, field.revision, data)


def main_versions(project_id):
    return list(
        SchemaVersion.select()
        .where(SchemaVersion.project == project_id)
        .order_by(SchemaVersion.version_number)
    )


def assert_chained(project_id, merged):
    """Main's versions are numbered 1, 2, … and each one's parent is the one before it; the
    merges saved the last ones."""
    saved = main_versions(project_id)
    assert [v.version_number for v in saved] == list(range(1, len(saved) + 1))
    for parent, child in itertools.pairwise(saved):
        assert child.parent_version_id == parent.id, child.version_number
    assert sorted(v.id for v in merged) == sorted(v.id for v in saved[-len(merged) :])


def assert_merged(branch):
    assert Project.get_by_id(branch.id).merged_at is not None
    assert versions.latest(branch.id).is_merged


# Two merges into one main


def test_two_merges_held_in_turn_give_consecutive_versions_and_lose_nothing(
    alice, shop, designed, bob, carol, as_the_app_role, watch
):
    """The first merge is held once its version is saved; the second, started meanwhile,
    waits for main and then compares against main as the first left it."""
    one = branches.fork(bob, shop.id, "one")
    rename(bob, one, designed["total"].id, "Amount", "amount", "number")
    tables.create_table(bob, one.id, "Invoices")
    two = branches.fork(carol, shop.id, "two")
    rename(carol, two, designed["email"].id, "Mail", "mail")
    tables.create_table(carol, two.id, "Refunds")
    held, release, pids = threading.Event(), threading.Event(), {}
    first_merge = acting(bob, lambda: branches.merge(bob, one.id, after=held_at(held, release)))
    second_merge = acting(carol, lambda: branches.merge(carol, two.id))

    with as_the_app_role():
        first = Started(first_merge, pids, "first")
        wait_for(lambda: held.is_set() or first.done.is_set())
        second = Started(second_merge, pids, "second")
        wait_for(lambda: second.done.is_set() or waiting_for_a_lock(watch, pids, "second"))
        release.set()
        outcomes = [first.join(), second.join()]

    assert [type(o) for o in outcomes] == [SchemaVersion, SchemaVersion], outcomes
    assert [o.version_number for o in outcomes] == [2, 3]
    assert_chained(shop.id, outcomes)
    assert column_names(shop.id) == [("customers", "mail"), ("orders", "amount")]
    assert {t.table_name for t in DataTable.select().where(DataTable.project == shop.id)} == {
        "customers", "orders", "invoices", "refunds",
    }  # fmt: skip
    assert_merged(one)
    assert_merged(two)


def test_four_merges_of_different_branches_at_once_give_consecutive_versions(
    alice, shop, designed, bob, carol, as_the_app_role
):
    made = []
    for i in range(4):
        user = (alice, bob, carol)[i % 3]
        branch = branches.fork(user, shop.id, f"branch {i}")
        tables.create_table(user, branch.id, f"Table {i}")
        made.append((user, branch))
    contenders = [
        acting(user, lambda user=user, branch=branch: branches.merge(user, branch.id))
        for user, branch in made
    ]

    with as_the_app_role():
        outcomes = race(contenders)

    assert [type(o) for o in outcomes] == [SchemaVersion] * 4, outcomes
    assert sorted(o.version_number for o in outcomes) == [2, 3, 4, 5]
    assert_chained(shop.id, outcomes)
    names = {t.table_name for t in DataTable.select().where(DataTable.project == shop.id)}
    assert names == {"customers", "orders", "table_0", "table_1", "table_2", "table_3"}
    for _, branch in made:
        assert_merged(branch)


def test_two_merges_of_one_branch_at_once_merge_it_once(
    alice, shop, designed, bob, carol, as_the_app_role
):
    branch = branches.fork(bob, shop.id, "twice")
    tables.create_table(bob, branch.id, "Invoices")
    contenders = [
        acting(user, lambda user=user: branches.merge(user, branch.id)) for user in (bob, carol)
    ]

    with as_the_app_role():
        outcomes = race(contenders)

    assert sorted(type(o).__name__ for o in outcomes) == ["Conflict", "SchemaVersion"], outcomes
    refused = next(o for o in outcomes if isinstance(o, Conflict))
    assert "merged" in refused.message
    assert [v.version_number for v in main_versions(shop.id)] == [1, 2]
    assert_merged(branch)


# A branch edited during its own merge


def late_edit(user, branch):
    """One transaction of several statements on the branch: a table and two fields."""

    def work():
        with database.atomic():
            table = tables.create_table(user, branch.id, "Late")
            fields.create_field(user, table.id, {"name": "Note"})
            fields.create_field(user, table.id, {"name": "Count", "data_type": "number"})
        return table

    return work


def late_rows(project_id):
    """What of the late edit a project holds: its table's columns."""
    return [column for column in column_names(project_id) if column[0] == "late"]


LATE = [("late", "count"), ("late", "note")]


@pytest.fixture
def sealing(shop, designed, bob):
    """A branch with a rename to merge."""
    branch = branches.fork(bob, shop.id, "sealing")
    rename(bob, branch, designed["total"].id, "Amount", "amount", "number")
    return branch


def test_an_edit_committing_after_the_merge_locked_is_refused_whole(
    alice, shop, sealing, bob, as_the_app_role, watch
):
    """The merge holds the branch's counter; the edit, done meanwhile, waits for it at commit
    and is then refused by the trigger: none of it stays on the branch."""
    held, release, pids = threading.Event(), threading.Event(), {}
    merging = acting(bob, lambda: branches.merge(bob, sealing.id, after=held_at(held, release)))
    editing = acting(bob, late_edit(bob, sealing))

    with as_the_app_role():
        merge = Started(merging, pids, "merge")
        wait_for(lambda: held.is_set() or merge.done.is_set())
        edit = Started(editing, pids, "edit")
        wait_for(lambda: edit.done.is_set() or waiting_for_a_lock(watch, pids, "edit"))
        release.set()
        merged, edited = merge.join(), edit.join()

    assert isinstance(merged, SchemaVersion), merged
    assert isinstance(edited, OperationalError), edited
    assert edited.orig.pgcode == "55000" and "merged" in str(edited)
    assert late_rows(sealing.id) == [] and late_rows(shop.id) == []
    assert ("orders", "amount") in column_names(shop.id)
    assert_merged(sealing)


def test_an_edit_committing_before_the_merge_reads_is_merged_whole(
    alice, shop, sealing, bob, as_the_app_role, watch, database_url
):
    """The edit takes the branch's counter first (a held transaction keeps it from both, so
    the edit queues first); the merge waits behind it, then reads the branch with all of it."""
    pids = {}
    blocker = psycopg2.connect(database_url)
    try:
        blocker.cursor().execute(
            "SELECT 1 FROM project_change WHERE project_id = %s FOR UPDATE", (str(sealing.id),)
        )
        with as_the_app_role():
            edit = Started(acting(bob, late_edit(bob, sealing)), pids, "edit")
            wait_for(lambda: edit.done.is_set() or waiting_for_a_lock(watch, pids, "edit"))
            merge = Started(acting(bob, lambda: branches.merge(bob, sealing.id)), pids, "merge")
            wait_for(lambda: merge.done.is_set() or waiting_for_a_lock(watch, pids, "merge"))
            blocker.rollback()
            edited, merged = edit.join(), merge.join()
    finally:
        blocker.close()

    assert isinstance(edited, DataTable), edited
    assert isinstance(merged, SchemaVersion), merged
    assert late_rows(sealing.id) == LATE
    assert late_rows(shop.id) == LATE
    assert ("orders", "amount") in column_names(shop.id)
    assert_merged(sealing)


# The refusal at commit, as the web and the API answer it


def others_waiting_for_a_lock(watch, pids, key):
    """Some backend other than `key`'s waits for a lock (a request's own pid is not known)."""
    if key not in pids:
        return False
    watch.execute(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
        " AND wait_event_type = 'Lock' AND pid <> %s",
        (pids[key],),
    )
    return watch.fetchone()[0] > 0


@pytest.mark.parametrize("through", ["api", "web"])
def test_an_edit_refused_at_commit_for_a_merge_meanwhile_is_a_409_saying_so(
    alice, shop, sealing, bob, api, signed_in, as_the_app_role, watch, through
):
    """The request passed every check of the app before the merge committed; the trigger
    refuses it at commit, and the answer says why, as a conflict rather than a failure."""
    client = api(bob) if through == "api" else signed_in(bob)
    held, release, pids = threading.Event(), threading.Event(), {}
    merging = acting(bob, lambda: branches.merge(bob, sealing.id, after=held_at(held, release)))

    def adding(_pids, _key):
        if through == "api":
            return client.post(f"/projects/{sealing.id}/tables", json={"name": "Late"})
        return client.post(f"/projects/{sealing.id}/tables", data={"name": "Late"})

    with as_the_app_role():
        merge = Started(merging, pids, "merge")
        wait_for(lambda: held.is_set() or merge.done.is_set())
        edit = Started(adding, pids, "edit")
        wait_for(lambda: edit.done.is_set() or others_waiting_for_a_lock(watch, pids, "merge"))
        release.set()
        merged, response = merge.join(), edit.join()

    assert isinstance(merged, SchemaVersion), merged
    assert response.status_code == 409, response
    if through == "api":
        error = response.get_json()["error"]
        assert error["code"] == "conflict"
        message = error["message"]
    else:
        assert response.headers["HX-Retarget"] == "#flash"
        message = response.text
    assert "This branch was merged into its main project while you changed it" in message
    assert "nothing was saved" in message
    assert not DataTable.select().where(DataTable.table_name == "late").exists()


def test_another_object_not_in_prerequisite_state_stays_an_error(production, shop):
    """Only the merged branch's refusal is a conflict: any other such state is our fault."""
    response = production.test_client().post(
        "/api/v1/test/refused/object_not_in_prerequisite_state"
    )
    assert response.status_code == 500
    assert Project.get_by_id(shop.id).name == "Shop"
