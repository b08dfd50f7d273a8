"""Branches at 300 and 3,000 tables (issue #28): fork, comparison, migration, review, merge.

Seeds a project as bench/all_pages.py does (N tables × 20 fields, each table but the first
holding a foreign key to the one before, by SQL) and saves it; a second user edits main.
Times forking it (each fork rolled back), then forks the branch the rest reads and edits
both sides through the domain functions: the branch renames tables, retypes a column, adds
a table and links two tables; main renames columns elsewhere, retypes another column and
adds a table of its own. Then, median of RUNS each:

- branches.comparison cold (the first after an edit: one table's description, alternating,
  on the branch, then on main) and kept (the same again, nothing changed);
- branches.migration_sql (first, and again);
- merge_requests.review as the second user (cold after an edit, and kept);
- branches.merge, each in a transaction rolled back afterwards (so each merges the same
  fresh branch into the same main), and once for real, committed.

The issue's target: comparison and merge ≤ 1 s each at 3,000 tables. Prints figures and
the RSS of this process before and after each size; never asserts times. Runs on a fresh
database on TEST_DATABASE_URL's (or BENCH_DATABASE_URL's) server, else embedded.

    .venv/bin/python bench/branches.py [--sizes 300,3000] [--runs 5] [--profile]
"""

import argparse
import cProfile
import os
import pathlib
import pstats
import re
import statistics
import time

from _setup import OUT
from _setup import fresh_database
from _setup import postgres_server
from all_pages import linked

from designer import accounts
from designer import branches
from designer import merge_requests
from designer import projects
from designer.db import database
from designer.db import open_database
from designer.db import upgrade
from designer.design import fields
from designer.design import relationships
from designer.design import tables
from designer.history import versions
from designer.models import DataField
from designer.models import DataTable

PASSWORD = "bench password"
TARGET_TABLES, TARGET_MS = 3000, 1000
RENAMED = 20  # tables renamed on the branch, and tables with a column renamed on main


def rss():
    """(current RSS, peak RSS) of this process in MB."""
    status = pathlib.Path("/proc/self/status").read_text()
    found = dict(re.findall(r"^(VmRSS|VmHWM):\s+(\d+) kB", status, re.M))
    return int(found["VmRSS"]) / 1024, int(found["VmHWM"]) / 1024


def tables_of(project_id):
    """The project's tables, by table name order."""
    return list(
        DataTable.select().where(DataTable.project == project_id).order_by(DataTable.table_name)
    )


def column(table, field_name):
    return DataField.get(DataField.data_table == table.id, DataField.field_name == field_name)


def retype(user, table, field_name):
    """A text column made a bigint (a type change)."""
    found = column(table, field_name)
    values = {"data_type": "number", "number_type": "bigint"}
    fields.update_field(user, found.id, found.revision, values, partial=True)


def edit_branch(user, branch):
    """Renames, a type change, an added table and a relationship, on the branch."""
    made = tables_of(branch.id)
    for i, table in enumerate(made[:RENAMED]):
        tables.update_table(user, table.id, table.revision, table_name=f"branch_renamed_{i}")
    retype(user, made[len(made) // 2], "column_7")
    added = tables.create_table(user, branch.id, "Added on the branch")
    fields.create_field(user, added.id, {"name": "Label"})
    relationships.create_relationship(
        user, branch.id, {"source_table_id": str(made[1].id), "target_table_id": str(made[-1].id)}
    )


def edit_main(user, project):
    """Column renames in other tables, another type change and a table, on main."""
    made = tables_of(project.id)
    for table in made[-RENAMED - 1 : -1]:
        found = column(table, "column_1")
        fields.update_field(user, found.id, found.revision, {"field_name": "renamed_on_main"},
                            partial=True)  # fmt: skip
    retype(user, made[len(made) // 3], "column_7")
    tables.create_table(user, project.id, "Added on main")


def touch(user, project_id, turn, which=4):
    """An edit that moves the project's change stamp: one table's description (the
    `which`th part of the way down the list: main's and the branch's touch different ones,
    or they would conflict)."""
    made = tables_of(project_id)
    table = made[len(made) // which]
    tables.update_table(user, table.id, table.revision, description=f"turn {turn % 2}")


def timed(function, runs, before=None):
    """(median seconds, first seconds, the last answer) of `runs` calls, `before` each."""
    times, answer = [], None
    for run in range(runs):
        if before is not None:
            before(run)
        started = time.perf_counter()
        answer = function()
        times.append(time.perf_counter() - started)
    return statistics.median(times), times[0], answer


def rolled_back(function):
    """Call `function` in a transaction rolled back afterwards; the time of the call only."""

    def call():
        with database.atomic() as transaction:
            started = time.perf_counter()
            function()
            took = time.perf_counter() - started
            transaction.rollback()
        return took

    return call


def median_of(calls, runs):
    return statistics.median(calls() for _ in range(runs))


def line(label, seconds, first=None, target=False):
    text = f"  {label:<46} median {seconds * 1000:8.1f} ms"
    if first is not None:
        text += f"   first {first * 1000:8.1f} ms"
    if target:
        met = "met" if seconds * 1000 <= TARGET_MS else "MISSED"
        text += f"   (target ≤ {TARGET_MS} ms: {met})"
    print(text, flush=True)
    return text


def measure(owner, reviewer, count, runs, profile):
    lines = [f"{count:,} tables"]
    print(lines[0], flush=True)
    now, peak = rss()
    lines.append(f"  RSS before: {now:.0f} MB (peak so far {peak:.0f} MB)")
    print(lines[-1], flush=True)
    project = projects.create_project(owner, f"Branches {count}")
    projects.add_member(owner, project.id, reviewer.username, "editor")
    linked(project, owner, count)
    versions.save_version(owner, project.id, "Seeded")
    at_target = count == TARGET_TABLES
    forks = iter(range(runs))
    took = median_of(
        rolled_back(lambda: branches.fork(owner, project.id, f"trial {next(forks)}")), runs
    )
    lines.append(line("branches.fork (rolled back)", took))
    branch = branches.fork(owner, project.id, "redesign")
    edit_branch(owner, branch)
    edit_main(reviewer, project)

    def compare():
        return branches.comparison(owner, branch.id)

    median, first, (found, compared) = timed(compare, runs, lambda n: touch(owner, branch.id, n))
    changes = f"{len(compared.ours)} ours, {len(compared.theirs)} theirs"
    lines.append(f"  comparison: {changes}, {len(compared.conflicts)} conflicts")
    print(lines[-1], flush=True)
    lines.append(line("comparison cold (after a branch edit)", median, first, at_target))
    median, first, _ = timed(compare, runs, lambda n: touch(reviewer, project.id, n, which=5))
    lines.append(line("comparison cold (after a main edit)", median, first, at_target))
    median, first, (found, compared) = timed(compare, runs)
    lines.append(line("comparison kept", median, first, at_target))
    median, first, sql = timed(lambda: branches.migration_sql(found, compared), runs)
    lines.append(line(f"migration_sql ({len(sql or '')} characters)", median, first))
    request = merge_requests.open_request(owner, branch.id, "Redesign")

    def review():
        return merge_requests.review(reviewer, project.id, request.number)

    median, first, _ = timed(review, runs, lambda n: touch(owner, branch.id, n))
    lines.append(line("merge_requests.review cold (after a branch edit)", median, first))
    median, first, _ = timed(review, runs)
    lines.append(line("merge_requests.review kept", median, first))
    took = median_of(rolled_back(lambda: branches.merge(owner, branch.id)), runs)
    lines.append(line("branches.merge (rolled back)", took, target=at_target))
    if profile:
        profiled(owner, branch, project, reviewer)
    started = time.perf_counter()
    version = branches.merge(owner, branch.id)
    took = time.perf_counter() - started
    lines.append(line(f"branches.merge, committed (version {version.version_number})", took))
    now, peak = rss()
    lines.append(f"  RSS after: {now:.0f} MB (peak {peak:.0f} MB)")
    print(lines[-1], flush=True)
    return lines


def profiled(owner, branch, project, reviewer):
    """Where a cold comparison and a merge spend their time."""
    for label, before, call in (
        ("comparison cold", lambda: touch(owner, branch.id, 7),
         lambda: branches.comparison(owner, branch.id)),
        ("merge", None, rolled_back(lambda: branches.merge(owner, branch.id))),
    ):  # fmt: skip
        if before is not None:
            before()
        profiler = cProfile.Profile()
        profiler.enable()
        call()
        profiler.disable()
        print(f"  profile of {label}:", flush=True)
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="300,3000")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--profile", action="store_true", help="profile a comparison and merge")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    lines = []
    with postgres_server() as server_url, fresh_database(server_url, roles=True) as urls:
        # The app's tables belong to the owner role, as `make run` sets them up (0052's
        # functions act as it); the bench then acts as a superuser, as the tests' setup does.
        url, owner_url, _ = urls
        upgrade(open_database(owner_url))
        open_database(owner_url).close_all()
        database.initialize(open_database(url))
        accounts.set_hash_cost(1, 1024)
        owner = accounts.create_user("bench", "bench@example.com", PASSWORD)
        reviewer = accounts.create_user("reviewer", "reviewer@example.com", PASSWORD)
        for count in (int(size) for size in args.sizes.split(",")):
            lines += measure(owner, reviewer, count, args.runs, args.profile)
    lines.append(
        f"total runtime {time.perf_counter() - started:.1f} s;"
        f" load average {' '.join(f'{n:.2f}' for n in os.getloadavg())}"
    )
    print(lines[-1])
    (OUT / "branches.txt").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
