"""Activating every table of an imported 375-table design at once, next to `psql -1 -f` of the
design's exported SQL, in the same run.

The design is generated (tests/big_designs.py): 375 tables and about 2,600 columns, shaped like
the music database the issue measured. Each run imports it into a new project as Draft tables
(designer.interchange.imports, not timed), activates every Draft table in one plan and one
transaction (designer.database.activations, timed: check, plan, version, measure, apply,
record), exports the design's SQL (designer.interchange.exports) and runs it with pgserver's psql
binary, `psql -X -q -v ON_ERROR_STOP=1 -1 -f`, into a schema of its own (timed). With
BENCH_ONE_BY_ONE=N it also activates the first N tables of one more import one table at a
time (deploy.transition, as the table page does) and prints the time per table.

Prints medians and the ratio (goal ≤ 1.5); never asserts times. Runs on a fresh database on
TEST_DATABASE_URL's (or BENCH_DATABASE_URL's) server, else embedded; the deploy target is a
schema of that same database.
"""

import os
import signal
import statistics
import sys
import time

from _setup import OUT
from _setup import fresh_database
from _setup import postgres_server
from deploy import through_psql
from versions import PASSWORD

from designer import accounts
from designer.database import activations
from designer.database import deploy
from designer.db import database
from designer.db import open_database
from designer.db import upgrade
from designer.history import versions
from designer.interchange import exports
from designer.interchange import imports
from designer.models import DataTable
from designer.settings import settings
from tests.big_designs import music_sql

RUNS = 5
TABLES = 375
RATIO_GOAL = 1.5


def imported(user, text, run):
    started = time.perf_counter()
    project, plan, _ = imports.import_new_project(user, f"Music {run}", "sql", text)
    took = (time.perf_counter() - started) * 1000
    return project, took, len(plan.snapshot["tables"])


def activated(user, project):
    versions.cache.clear()
    started = time.perf_counter()
    done = activations.activate(user, project.id, all_drafts=True)
    elapsed = (time.perf_counter() - started) * 1000
    assert done.deployment.status == "applied", done.deployment.error
    assert all(t.status == "active" for t in done.tables)
    return elapsed, len(done.tables), done.deployment.sql.count(";\n"), done.deployment.duration_ms


def one_by_one(user, text, count):
    """The first `count` tables of a fresh import activated one at a time (ms per table)."""
    project, _, _ = imported(user, text, "one by one")
    rows = DataTable.select(DataTable.id).where(DataTable.project == project.id)
    # Parents first, as a person would: each table's key targets are Active before it.
    chosen = [row.id for row in rows.order_by(DataTable.created_at, DataTable.id)][:count]
    started = time.perf_counter()
    for table_id in chosen:
        deploy.transition(user, table_id, "active")
    return (time.perf_counter() - started) * 1000 / max(len(chosen), 1)


def figures(user, url, text):
    """Each run imports anew, then activates all and runs psql; which of the two goes first
    alternates, so neither always meets the machine after the other's work."""
    ours, theirs, imports_ms, targets = [], [], [], []
    tables = statements = psql_statements = columns = 0
    for run in range(RUNS):
        project, took, tables = imported(user, text, run)
        imports_ms.append(took)
        # The export of the Draft design is the SQL activating them all runs.
        exported = exports.export_design(user, project.id, "sql").text
        psql_statements = exported.count(";\n")
        columns = sum(
            len(t["fields"]) for t in versions.working_copy(project.id)["tables"].values()
        )
        if run % 2:
            theirs.append(through_psql(url, exported, project.target_schema, run))
        elapsed, activated_count, statements, on_target = activated(user, project)
        assert activated_count == tables
        ours.append(elapsed)
        targets.append(on_target)
        if not run % 2:
            theirs.append(through_psql(url, exported, project.target_schema, run))
    return {
        "tables": tables, "columns": columns, "statements": statements,
        "psql_statements": psql_statements, "ours": ours, "psql": theirs, "imports": imports_ms,
        "target": targets,
    }  # fmt: skip


def report(found, per_table):
    ours, theirs = statistics.median(found["ours"]), statistics.median(found["psql"])
    ratio = ours / theirs
    print()
    print(f"(median of {RUNS} runs)")
    print(f"design: {found['tables']} tables, {found['columns']} columns (generated SQL);"
          f" import {statistics.median(found['imports']):.0f} ms (not counted)")  # fmt: skip
    print(f"  activate all Draft tables at once (check, plan, version, measure, apply,"
          f" record; {found['statements']} statements)  {ours:10.1f} ms")  # fmt: skip
    print(f"    of which on the target (guard, statements in one transaction)"
          f"  {statistics.median(found['target']):10.1f} ms")  # fmt: skip
    print(f"  psql -1 -f of the exported SQL ({found['psql_statements']} statements)"
          f"  {theirs:10.1f} ms")  # fmt: skip
    verdict = "meets" if ratio <= RATIO_GOAL else "MISSES"
    print(f"  ratio activate-all / psql  {ratio:.2f}  (goal ≤ {RATIO_GOAL}: {verdict})")
    print(f"  runs: activate {', '.join(f'{v:.0f}' for v in found['ours'])} ms;"
          f" psql {', '.join(f'{v:.0f}' for v in found['psql'])} ms")  # fmt: skip
    pairs = [a / b for a, b in zip(found["ours"], found["psql"], strict=True)]
    print(f"  ratio run by run  {', '.join(f'{r:.2f}' for r in pairs)}"
          f"  (median {statistics.median(pairs):.2f})")  # fmt: skip
    if per_table is not None:
        count, each = per_table
        whole = each * found["tables"] / 1000
        print(f"  one table at a time (the first {count}): {each:.0f} ms a table,"
              f" ~{whole:.0f} s for all {found['tables']}")  # fmt: skip


def main():
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    started = time.perf_counter()
    OUT.mkdir(parents=True, exist_ok=True)
    text = music_sql(TABLES)
    one = int(os.environ.get("BENCH_ONE_BY_ONE") or 0)
    with postgres_server() as server_url, fresh_database(server_url) as url:
        database.initialize(open_database(url))
        upgrade(database.obj)
        settings.designer_database_url = settings.deploy_database_url = url
        accounts.set_hash_cost(1, 1024)
        user = accounts.create_user("bench", "bench@example.com", PASSWORD)
        found = figures(user, url, text)
        per_table = (one, one_by_one(user, text, one)) if one else None
        report(found, per_table)
    print(f"total runtime {time.perf_counter() - started:.1f} s;"
          f" load average {' '.join(f'{n:.2f}' for n in os.getloadavg())}")  # fmt: skip


if __name__ == "__main__":
    main()
