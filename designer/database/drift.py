"""Drift: does the target schema still hold what the designer last deployed there?

The expected catalog is not guessed: the last deployed snapshot is built
into a scratch schema on the target, inside a transaction that is rolled
back, and both schemas are read from pg_catalog the same way. Each deployed table's share
of it is kept in PostgreSQL (designer.database.expectations), so only the tables whose
share is not kept yet are built. A page's check that must build runs on a thread of its own
(designer.database.background), one per project in a process and one per schema on the target
(a session lock there: the others wait and read the shares it kept); the page's requests
answer with its progress (Progress) until one collects its answer.
"""

import dataclasses
import secrets
import time
from dataclasses import dataclass

import psycopg2

from designer.activity import recording
from designer.database import background
from designer.database import ddl
from designer.database import deploy
from designer.database import expectations
from designer.database import records
from designer.database import reservations
from designer.database import target
from designer.database.adopt import Adoption
from designer.database.catalog import fingerprint
from designer.database.catalog import read_catalog
from designer.database.repair import Difference
from designer.database.repair import Drift
from designer.database.repair import Repair
from designer.database.target import first_line
from designer.db import database
from designer.design.fields import regex_problem
from designer.design.snapshot_rules import check_snapshot
from designer.errors import Conflict
from designer.history import versions
from designer.history.restore import apply_snapshot
from designer.history.snapshot import build
from designer.history.snapshot import snapshot_hash
from designer.kept import KeptAnswers
from designer.models import ADOPTED_SQL
from designer.models import DataTable
from designer.models import Deployment
from designer.projects import access
from designer.projects import refuse_branch
from designer.projects import serialize_changes
from designer.settings import settings


@dataclass
class Report:
    """`differences`: every line; `items`: the Differences that can be resolved one by one
    (rows that go with a table or a column folded into its line)."""

    schema: str
    deployed: bool
    differences: list
    items: list = dataclasses.field(default_factory=list)


@dataclass
class Progress:
    """A check still building the expected catalog: `built` of `total` deployed tables'
    shares are at hand (the page asks again, and the check goes on from there)."""

    schema: str
    built: int
    total: int


# Expected catalogs by deployed snapshot hash: building one means creating every deployed
# table in a scratch schema, too much for each page view; a hash's catalog never changes.
expected = KeptAnswers(limit=16)
# What a check found, by target, schema, catalog fingerprint and deployed snapshot hash: the
# drift pages ask again and again, and reading 66,000 columns' definitions took ~0.5 s at
# 3,000 tables where the fingerprint takes ~60 ms. Any DDL on the schema changes the
# fingerprint, so a change shows on the next check. As few as the expected catalogs: a
# schema dropped behind a 3,000-table design differs by some 100,000 lines.
checked = KeptAnswers(limit=16)


def timeouts(cursor):
    cursor.execute(
        "SELECT set_config('statement_timeout', %s, true)",
        (f"{settings.deploy_statement_timeout_ms}ms",),
    )


SCRATCH = "pg_temp"


def build_scratch(cursor, snapshot):
    """Create the snapshot's tables in this session's temporary schema; returns its name.

    Temporary, so the project's role needs no right to create schemas, and nothing can
    outlive the session even if a rollback were skipped. Each statement passes the guard."""
    for step in ddl.migration(SCRATCH, None, snapshot):
        target.execute(cursor, step.sql, SCRATCH)
    cursor.execute("SELECT nspname FROM pg_namespace WHERE oid = pg_my_temp_schema()")
    row = cursor.fetchone()
    return row[0] if row else SCRATCH


class Unbuildable(Conflict):
    """The deployed snapshot's CREATE script fails on the target (what it relies on is gone,
    or it was stored by an older designer): a finding of the check, not a crash."""


def built_catalog(cursor, snapshot):
    """The catalog the snapshot makes, built whole in a scratch schema the caller rolls back;
    Unbuildable, with PostgreSQL's message, when the target refuses to build it."""
    if not snapshot["tables"]:
        return read_catalog(cursor, f"dmd_none_{secrets.token_hex(6)}")
    try:
        return read_catalog(cursor, build_scratch(cursor, snapshot))
    except psycopg2.errors.OutOfMemory as exc:
        raise Conflict(
            f"The deploy target could not hold a scratch copy of "
            f"{len(snapshot['tables']):,} tables in one transaction ({first_line(exc)}). "
            "Raise its max_locks_per_transaction (the README says how)."
        ) from exc
    except (psycopg2.ProgrammingError, psycopg2.DataError) as exc:
        said = exc.diag.message_primary or first_line(exc)
        raise Unbuildable(f"the deployed design no longer builds: {said}") from exc


def expected_catalog(cursor, snapshot_hash, snapshot):
    """The catalog the snapshot makes (built whole, kept by its hash)."""
    return expected.get(snapshot_hash, lambda: built_catalog(cursor, snapshot))


def deployed_catalog(cursor, project_id, last, deadline=None, actual=None, progress=None):
    """The catalog what `last` deployed makes: from the tables' kept shares, building the
    missing ones (expectations.Unfinished once `deadline` passes; `progress` hears how far
    the build is), or built whole where the shares cannot tell (and for a deployment stored
    without a manifest). `actual()`: the target schema's catalog, whose tables holding their
    shares are taken as they are."""
    if last is None:
        return expected_catalog(cursor, "", records.deployed_snapshot(None))

    def build():
        made = expectations.catalog_of(
            cursor, project_id, last, build_scratch, deadline, actual, progress
        )
        if made is None:
            made = built_catalog(cursor, records.deployed_snapshot(last))
        return made

    return expected.get(last.to_hash, build)


@dataclass
class Catalogs:
    """What was last deployed to a project's schema, and both catalogs of that schema."""

    last: object
    snapshot: dict
    expected: dict
    actual: dict


def read_catalogs(project):
    last = records.last_applied(project.id)
    snapshot = records.deployed_snapshot(last)
    conn = target.connect_as(reservations.tenant_of(project))
    try:
        with conn.cursor() as cursor:
            timeouts(cursor)
            actual = read_catalog(cursor, project.target_schema)
            expected = deployed_catalog(cursor, project.id, last, actual=lambda: actual)
        conn.rollback()
    finally:
        conn.close()
    return Catalogs(last, snapshot, expected, actual)


def compare(cursor, project_id, schema, last, deadline=None, progress=None):
    """(lines, Differences) between the schema and what `last` deployed there."""
    # Read once the expected catalog's shares are at hand: a check that runs out of time reads
    # no other.
    held = []

    def actual_catalog():
        if not held:
            held.append(read_catalog(cursor, schema))
        return held[0]

    try:
        made = deployed_catalog(cursor, project_id, last, deadline, actual_catalog, progress)
    except Unbuildable as exc:
        return [exc.message], [Difference("", exc.message)]
    actual = actual_catalog()
    # In sync (the usual case) reads as equal catalogs: no need to key 100,000 rows.
    if made == actual:
        return [], []
    found = Drift(made, actual)
    return found.lines(), found.differences()


def check(user, project_id, budget=None):
    """The differences between the target schema and the last deployed design. With `budget`
    (seconds), a check whose answer is not kept runs on a thread of its own (see
    designer.database.background): the request that starts it waits for it that long (and
    until it has built a batch), and answers with a Progress while it goes on; the
    requests after it answer with its Progress at once, until one collects its answer."""
    project = access(user, project_id).project
    schema = project.target_schema
    # Not its SQL and plan: at 300 tables, reading them was a third of a kept check.
    last = records.last_applied(project.id, records.SUMMARY)
    deployed_hash = last.to_hash if last else ""
    tenant = reservations.tenant_of(project)
    conn = target.connect_as(tenant)
    try:
        with conn.cursor() as cursor:
            timeouts(cursor)
            # Taken before the catalog is read: a change made meanwhile can only make the kept
            # answer newer than its key, and the next check has another key.
            stamp = fingerprint(cursor, schema)
            key = (target.target_url(), schema, stamp, deployed_hash)
            found = checked.peek(key)
            if found is None and budget is None:
                found = checked.get(key, lambda: compare(cursor, project.id, schema, last))
        conn.rollback()
    finally:
        conn.close()
    if found is None:
        found = in_background(user, project, tenant, last, key, budget)
        if isinstance(found, Progress):
            return found
    lines, items = found
    return Report(schema, last is not None, list(lines), [d for d in items if d.key])


# Drift checks running on threads of their own, by project.
jobs = background.Jobs("drift-check")


def in_background(user, project, tenant, last, key, budget):
    """(lines, Differences) of the check keyed `key`, or its Progress while it runs on a
    thread of its own (started here unless it runs already)."""
    schema = project.target_schema
    job = jobs.current(project.id)
    if job is not None and job.done.is_set():
        jobs.collect(project.id, job)
        if job.error is not None:
            raise job.error
        if job.key == key:
            return job.answer
        job = None  # the schema changed since that job began: its answer is not this one's
    if job is None:

        def work(job):
            conn = target.connect_as(tenant)
            try:
                with conn.cursor() as cursor:
                    one_at_a_time(cursor, project.id, schema, last, job)
                    timeouts(cursor)
                    return checked.get(
                        key, lambda: compare(cursor, project.id, schema, last, None, job.progress)
                    )
            finally:
                conn.close()

        job, started = jobs.start(project.id, key, work, user.id)
        if job is None:
            return on_its_own(project, tenant, last, key, budget)
        if started:
            job.done.wait(budget)
            job.under_way.wait()
            if job.done.is_set():
                return in_background(user, project, tenant, last, key, budget)
    return Progress(schema, job.built, job.total)


# The session lock a check on its thread holds on the target while it builds (released when
# its connection closes): another app process's check of the schema waits for it, then reads
# the shares it kept rather than build them too.
BUILDING = "SELECT pg_try_advisory_lock(hashtextextended(%s, 0))"
WAIT_SECONDS = 1.0


def building_lock(schema):
    return f"dmd-drift:{schema}"


def one_at_a_time(cursor, project_id, schema, last, job):
    """Return once no other process's check builds the schema's expected catalog, reporting
    meanwhile the shares it has kept."""
    counted = None
    while True:
        cursor.execute(BUILDING, (building_lock(schema),))
        if cursor.fetchone()[0]:
            return
        if counted is None:
            counted = expectations.counter(cursor, project_id, last)
        job.progress(*counted(), True)
        cursor.connection.rollback()  # not idle in a transaction while it waits
        time.sleep(WAIT_SECONDS)


def on_its_own(project, tenant, last, key, budget):
    """(lines, Differences) of the check keyed `key` run here, or its Progress once it has
    built for `budget` seconds (what it built is kept for the next check): where no thread
    may be started for it."""
    schema = project.target_schema
    deadline = time.monotonic() + budget
    conn = target.connect_as(tenant)
    try:
        with conn.cursor() as cursor:
            timeouts(cursor)
            try:
                return checked.get(key, lambda: compare(cursor, project.id, schema, last, deadline))
            except expectations.Unfinished as unfinished:
                return Progress(schema, unfinished.built, unfinished.total)
    finally:
        conn.close()


def narrowed_to(found, key):
    """(the Difference named `key`, `found` with the actual catalog as if it were the only
    drift); Conflict when the target no longer shows it."""
    drift = Drift(found.expected, found.actual)
    for difference in drift.differences():
        if difference.key == key:
            return difference, dataclasses.replace(found, actual=drift.narrowed(difference))
    raise Conflict(
        "That difference is not in the database any more (resolved meanwhile?): "
        "the report shows what differs now."
    )


def repair_of(project, found):
    return Repair(project.target_schema, found.snapshot, found.expected, found.actual)


def repair_steps(user, project_id, difference=None):
    """The steps that would put the target back (empty when in sync or nothing deployed);
    only those of the Difference keyed `difference` when given."""
    granted = access(user, project_id, "editor")
    refuse_branch(granted.project, "change the deploy target")
    found = read_catalogs(granted.project)
    if found.last is None:
        return []
    if difference is not None:
        found = narrowed_to(found, difference)[1]
    return repair_of(granted.project, found).steps()


def redeploy(user, project_id, confirm=False, dry_run=False, difference=None):
    """Put the target schema back to what was last deployed; returns the Deployment recorded.
    With `difference` (a Difference's key), only that difference is put back.

    Destructive steps (what only the target has, holding data) need `confirm`, and a
    critical lock when they touch a designed table, as a deploy's do.
    """
    granted = access(user, project_id, "editor")
    refuse_branch(granted.project, "change the deploy target")
    project = granted.project
    with database.atomic():
        serialize_changes(project.id)
        found = read_catalogs(project)
        if found.last is None:
            raise Conflict("Nothing has been deployed here yet: there is nothing to put back.")
        what = "what was deployed"
        if difference is not None:
            chosen, found = narrowed_to(found, difference)
            what = chosen.line
        steps = repair_of(project, found).steps()
        if not steps:
            raise Conflict(f"{project.target_schema} already holds what was last deployed.")
        values = {
            "project": project.id, "version": found.last.version_id,
            "target_schema": project.target_schema, "from_hash": found.last.to_hash,
            "to_hash": found.last.to_hash, "sql": ddl.script(steps), "created_by": user,
        }  # fmt: skip
        recorded = {}

        def before_commit(outcome):
            recorded["row"] = Deployment.create(
                **values, plan=outcome.steps, duration_ms=outcome.duration_ms,
                status="applied", deployed_snapshot=found.snapshot,
                manifest=records.deployed_manifest(project.id, found.snapshot),
            )  # fmt: skip
            with recording(project.id, user) as log:
                log.add("deployment.applied", f"put back {what}"[:500], recorded["row"].id)

        refuse = deploy.refusal(user, confirm, steps) if not dry_run else (lambda step: None)
        tenant = reservations.tenant_of(project)
        outcome = target.run_plan(steps, tenant, not dry_run, refuse, before_commit)
    done = {**values, "plan": outcome.steps, "duration_ms": outcome.duration_ms}
    if outcome.error:
        return Deployment.create(
            **done, status="dry_run_failed" if dry_run else "failed", error=outcome.error
        )
    if outcome.refused:
        deploy.refuse_unconfirmed(outcome.refused)
    if dry_run:
        return Deployment.create(**done, status="dry_run_ok")
    return recorded["row"]


def adopt(user, project_id, difference=None):
    """Make the design of the deployed tables what the target schema holds; returns the
    Deployment that records it (nothing runs on the target). With `difference` (a
    Difference's key), only that difference is taken into the design, and the design's
    other changes not yet deployed stay as they are."""
    granted = access(user, project_id, "editor")
    refuse_branch(granted.project, "change the deploy target")
    project = granted.project
    with database.atomic():
        serialize_changes(project.id)
        found = read_catalogs(project)
        chosen = None
        if found.last is not None and difference is not None:
            chosen, found = narrowed_to(found, difference)
        if found.last is None or Drift(found.expected, found.actual).in_sync():
            raise Conflict(
                f"{project.target_schema} holds what was last deployed: nothing to adopt."
            )
        adoption = Adoption(found.snapshot, found.expected, found.actual)
        if not adoption.problems:
            # What the catalog says is built (in a scratch schema) only once the rules allow it.
            check_snapshot(adoption.snapshot, "resolve", regex_problem=regex_problem)
        problems = adoption.problems or unexplained(project, adoption.snapshot, found.actual)
        if problems:
            raise Conflict(
                "The database holds what the design cannot say, so nothing was adopted: "
                + "; ".join(problems[:10])
                + ". Put back what was deployed instead.",
                problems=problems,
            )
        version = adopt_design(user, project.id, found.snapshot, adoption.snapshot, chosen)
        row = Deployment.create(
            project=project.id, version=version, target_schema=project.target_schema,
            from_hash=found.last.to_hash, to_hash=snapshot_hash(adoption.snapshot),
            sql=ADOPTED_SQL, plan=[],
            duration_ms=0, status="applied", deployed_snapshot=adoption.snapshot,
            manifest=records.deployed_manifest(project.id, adoption.snapshot), created_by=user,
        )  # fmt: skip
        what = chosen.line if chosen else f"the schema of {project.target_schema}"
        with recording(project.id, user) as log:
            log.add("deployment.adopted", f"adopted {what}"[:500], row.id)
    return row


def unexplained(project, snapshot, actual):
    """What still differs once `snapshot` is built the way a deploy builds it."""
    conn = target.connect_as(reservations.tenant_of(project))
    try:
        with conn.cursor() as cursor:
            timeouts(cursor)
            made = expected_catalog(cursor, snapshot_hash(snapshot), snapshot)
        conn.rollback()
    finally:
        conn.close()
    return Drift(made, actual).lines()


def adopt_design(user, project_id, deployed, adopted, chosen=None):
    """The design with its deployed tables as adopted, saved as a version (unsaved work first).

    Only what changed from `deployed` to `adopted` (one `chosen` Difference, or the whole
    report) is carried into the design: its own changes, not deployed yet, stay, except where
    the database changed the same setting, which the database wins."""
    design = build(project_id)
    tables = carried(design["tables"], deployed["tables"], adopted["tables"])
    relationships = carried(
        design["relationships"], deployed["relationships"], adopted["relationships"]
    )
    relationships = {
        rid: rel for rid, rel in relationships.items()
        if all(end in tables for end in (rel["source_table_id"], rel["target_table_id"]))
    }  # fmt: skip
    wanted = {**design, "tables": tables, "relationships": relationships}
    if versions.changes_since(project_id, versions.latest(project_id)):
        versions.save_version(
            user, project_id, "Before adopting the database's schema", automatic=True
        )
    apply_snapshot(user, project_id, wanted, confirm=True)
    new = [tid for tid in adopted["tables"] if tid not in design["tables"]]
    DataTable.update(status="active").where(DataTable.id.in_(new)).execute()
    records.mark_deployed(project_id, adopted)
    message = f"Adopted from the database: {chosen.line}" if chosen else None
    if message and not versions.changes_since(project_id, versions.latest(project_id)):
        return versions.latest(project_id)  # the design already said what the database holds
    return versions.save_version(
        user, project_id, (message or "Adopted the database's schema")[: versions.MAX_MESSAGE]
    )


ABSENT = object()


def carried(mine, base, theirs):
    """`mine` with what changed from `base` to `theirs` (JSON values, merged key by key)."""
    if theirs == base:
        return mine
    if not all(isinstance(value, dict) for value in (mine, base, theirs)):
        return theirs
    merged = dict(mine)
    for key in base.keys() | theirs.keys():
        before, after = base.get(key, ABSENT), theirs.get(key, ABSENT)
        if before == after:
            continue
        if after is ABSENT:
            merged.pop(key, None)
        elif before is ABSENT or key not in mine:
            merged[key] = after
        else:
            merged[key] = carried(mine[key], before, after)
    return merged
