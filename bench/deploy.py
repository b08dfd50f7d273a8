"""Deploying: 300 linked tables through the designer next to `psql -1 -f` of the same SQL,
and the plan time for one change in a 3,000-table project.

Prints medians, the ratio to psql (goal ≤ 1.5) and the plan time (goal ≤ 1 s); never asserts
times. Runs on a fresh database on TEST_DATABASE_URL's (or BENCH_DATABASE_URL's) server, else
embedded; the deploy target is a schema of that same database.
"""

import os
import pathlib
import signal
import statistics
import subprocess
import sys
import tempfile
import time

from _setup import OUT
from _setup import fresh_database
from _setup import postgres_server
from versions import PASSWORD
from versions import seed

from designer import accounts
from designer.database import ddl
from designer.database import deploy
from designer.database import pending
from designer.database import plans
from designer.database import schema_objects
from designer.database.records import deployed_snapshot
from designer.database.records import last_applied
from designer.db import database
from designer.db import open_database
from designer.db import upgrade
from designer.history import snapshot as snapshots
from designer.history import versions
from designer.history.snapshot import build
from designer.history.snapshot import snapshot_hash
from designer.models import DataField
from designer.models import DataTable
from designer.models import Deployment
from designer.models import Project
from designer.models import SchemaVersion
from designer.settings import settings

RUNS = 3
DEPLOY_TABLES, PLAN_TABLES = 300, 3000
RATIO_GOAL, PLAN_GOAL_MS = 1.5, 1000


def psql_binary():
    import pgserver

    return pathlib.Path(pgserver.__file__).parent / "pginstall" / "bin" / "psql"


def reset(project, schema):
    """Forget the project's deployments and point it at a new, empty target schema."""
    Deployment.delete().where(Deployment.project == project.id).execute()
    SchemaVersion.delete().where(SchemaVersion.project == project.id).execute()
    DataTable.update(deployed_at=None).where(DataTable.project == project.id).execute()
    Project.update(target_schema=schema).where(Project.id == project.id).execute()
    versions.cache.clear()
    return Project.get_by_id(project.id)


def through_designer(user, project, run):
    project = reset(project, f"designer_{run}")
    started = time.perf_counter()
    row = deploy.deploy(user, project.id)
    elapsed = (time.perf_counter() - started) * 1000
    assert row.status == "applied", row.error
    return elapsed, row.sql, project.target_schema


def through_psql(url, sql, schema, run):
    script = sql.replace(f'"{schema}"', f'"psql_{run}"')
    with tempfile.NamedTemporaryFile("w", suffix=".sql", dir=OUT, delete=False) as handle:
        handle.write(script)
    command = [str(psql_binary()), "-q", "-X", "-v", "ON_ERROR_STOP=1", "-1", "-f", handle.name]
    started = time.perf_counter()
    subprocess.run([*command, url], check=True, capture_output=True)
    elapsed = (time.perf_counter() - started) * 1000
    pathlib.Path(handle.name).unlink()
    return elapsed


def deploy_figures(user, url):
    project, _, links = seed(user, DEPLOY_TABLES)
    DataTable.update(status="active").where(DataTable.project == project.id).execute()
    ours, theirs, statements = [], [], 0
    for run in range(RUNS):
        elapsed, sql, schema = through_designer(user, project, run)
        ours.append(elapsed)
        theirs.append(through_psql(url, sql, schema, run))
        statements = sql.count(";\n")
    return {"links": links, "statements": statements, "ours": ours, "psql": theirs}


def plan_figures(user):
    """Plan time for one renamed field, with the 3,000 tables recorded as deployed."""
    project, first, _ = seed(user, PLAN_TABLES)
    DataTable.update(status="active").where(DataTable.project == project.id).execute()
    snapshot = build(project.id)
    Deployment.create(
        project=project.id, target_schema=project.target_schema, to_hash=snapshot_hash(snapshot),
        status="applied", deployed_snapshot=snapshot, created_by=user,
    )  # fmt: skip
    field = (
        DataField.select()
        .where(DataField.data_table == first.id)
        .order_by(DataField.sort_order.desc())
        .first()
    )
    DataField.update(field_name=field.field_name + "_renamed").where(
        DataField.id == field.id
    ).execute()
    times, builds, migrations, steps = [], [], [], 0
    for _ in range(RUNS + 1):
        started = time.perf_counter()
        plan = plans.plan_for(user, project.id)
        times.append((time.perf_counter() - started) * 1000)
        steps = len(plan.steps)
        with versions.paused_gc():
            started = time.perf_counter()
            build(project.id)
            builds.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            ddl.migration(plan.schema, plan.deployed, plan.desired)
            migrations.append((time.perf_counter() - started) * 1000)
    # As in a process that never read this project: no snapshot cached, no part parsed.
    fresh, cold_parts = [], {"deployed": [], "build": [], "migration": []}
    for _ in range(RUNS):
        forget_everything()
        started = time.perf_counter()
        plans.plan_for(user, project.id)
        fresh.append((time.perf_counter() - started) * 1000)
        # The same cold plan, step by step: where its time goes.
        forget_everything()
        with versions.paused_gc():
            started = time.perf_counter()
            deployed = deployed_snapshot(last_applied(project.id))
            cold_parts["deployed"].append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            design = build(project.id)
            cold_parts["build"].append((time.perf_counter() - started) * 1000)
            desired = plans.desired_state(design, deployed, plans.chosen_tables(design))
            started = time.perf_counter()
            ddl.migration(project.target_schema, deployed, desired)
            cold_parts["migration"].append((time.perf_counter() - started) * 1000)
    # The first run fills the snapshot cache.
    return {
        "times": times[1:], "build": builds[1:], "migration": migrations[1:], "steps": steps,
        "fresh": fresh, "cold": cold_parts,
    }  # fmt: skip


def forget_everything():
    """As in a process that never read this project: no snapshot kept, no part parsed, no
    object names computed."""
    versions.cache.clear()
    versions.working.clear()
    parts = getattr(snapshots, "parts", None)  # (absent before snapshot parts)
    if parts is not None:
        parts.clear()
    schema_objects._recent.clear()
    pending.pages.clear()
    pending.planned.clear()
    pending.affected_tables.clear()


def report(deployed, planned):
    print()
    print(f"(median of {RUNS} runs)")
    if deployed is not None:
        report_deploys(deployed)
    report_plans(planned)


def report_deploys(deployed):
    ours, theirs = statistics.median(deployed["ours"]), statistics.median(deployed["psql"])
    ratio = ours / theirs
    print(f"deploy {DEPLOY_TABLES} tables, {deployed['links']} foreign keys, "
          f"{deployed['statements']} statements")  # fmt: skip
    print(f"  through the designer (plan, version, measure, apply, record)  {ours:10.1f} ms")
    print(f"  psql -1 -f, the same SQL                                      {theirs:10.1f} ms")
    verdict = "meets" if ratio <= RATIO_GOAL else "MISSES"
    print(f"  ratio designer / psql  {ratio:.2f}  (goal ≤ {RATIO_GOAL}: {verdict})")


def report_plans(planned):
    plan_ms = statistics.median(planned["times"])
    verdict = "meets" if plan_ms <= PLAN_GOAL_MS else "MISSES"
    print(f"plan for one renamed field in a {PLAN_TABLES:,}-table deployed project")
    print(f"  plans.plan_for  {plan_ms:.1f} ms, {planned['steps']} steps"
          f"  (goal ≤ {PLAN_GOAL_MS} ms: {verdict})")  # fmt: skip
    print(f"    of which snapshot.build (the design, read from the designer's database)"
          f"  {statistics.median(planned['build']):.1f} ms")  # fmt: skip
    print(f"    of which ddl.migration (diff, names, steps)"
          f"  {statistics.median(planned['migration']):.1f} ms")  # fmt: skip
    print(f"  plans.plan_for in a process that read nothing of the project before"
          f"  {statistics.median(planned['fresh']):.1f} ms")  # fmt: skip
    cold = {step: statistics.median(times) for step, times in planned["cold"].items()}
    print(f"    of which the deployed snapshot read (records.deployed_snapshot)"
          f"  {cold['deployed']:.1f} ms")  # fmt: skip
    print(f"    of which snapshot.build, nothing parsed before  {cold['build']:.1f} ms")
    print(f"    of which ddl.migration, no object names known  {cold['migration']:.1f} ms")


def main():
    only_plan = os.environ.get("BENCH_ONLY_PLAN")  # skip the 300-table deploys
    # A killed bench must still drop its database and stop its embedded server.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    started = time.perf_counter()
    OUT.mkdir(parents=True, exist_ok=True)
    with postgres_server() as server_url, fresh_database(server_url) as url:
        database.initialize(open_database(url))
        upgrade(database.obj)
        settings.designer_database_url = settings.deploy_database_url = url
        accounts.set_hash_cost(1, 1024)
        user = accounts.create_user("bench", "bench@example.com", PASSWORD)
        deployed = None if only_plan else deploy_figures(user, url)
        report(deployed, plan_figures(user))
    print(f"total runtime {time.perf_counter() - started:.1f} s;"
          f" load average {' '.join(f'{n:.2f}' for n in os.getloadavg())}")  # fmt: skip


if __name__ == "__main__":
    main()
