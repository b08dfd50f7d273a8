"""Saving a project's first version, and the next after a one-table change (#27).

At each size (tables of FIELDS_PER_TABLE columns, each but the first holding a foreign key
to the one before, seeded by SQL as bench/all_pages.py seeds them): the first version's
time and the bytes it stores (its parts, manifest and `changes`), then the same for a save
after one column is added to one table (--rounds times, the median printed). Prints figures,
never asserts times; --profile prints where the first save of the largest size spends its
time, --profile-next the last one-table save.

    .venv/bin/python bench/first_version.py [--sizes 3000,30000] [--profile]
"""

import argparse
import cProfile
import io
import os
import pstats
import signal
import sys
import time

from _setup import fresh_database
from _setup import postgres_server
from all_pages import linked

from designer import accounts
from designer import projects
from designer.db import database
from designer.db import open_database
from designer.db import upgrade
from designer.design import fields
from designer.history import versions
from designer.models import DataTable

PASSWORD = "bench password"
BYTES = """
SELECT (SELECT coalesce(sum(pg_column_size(body)), 0) FROM schema_part WHERE project_id = %(p)s),
       (SELECT coalesce(sum(octet_length(body::text)), 0) FROM schema_part
        WHERE project_id = %(p)s)
"""
ROW_BYTES = """
SELECT pg_column_size(manifest), pg_column_size(changes), octet_length(changes::text)
FROM schema_version WHERE id = %s
"""


def load():
    return " ".join(f"{n:.2f}" for n in os.getloadavg())


def timed_save(user, project, message, profile=False):
    """{seconds, part bytes added, manifest bytes, changes bytes} of one save."""
    before = database.execute_sql(BYTES, {"p": str(project.id)}).fetchone()
    profiler = cProfile.Profile() if profile else None
    started = time.perf_counter()
    if profiler:
        profiler.enable()
    version = versions.save_version(user, project.id, message)
    if profiler:
        profiler.disable()
    seconds = time.perf_counter() - started
    after = database.execute_sql(BYTES, {"p": str(project.id)}).fetchone()
    manifest, changes, changes_text = database.execute_sql(ROW_BYTES, (str(version.id),)).fetchone()
    if profiler:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(30)
        print(out.getvalue())
    return {
        "seconds": seconds,
        "parts": after[0] - before[0],
        "parts_text": after[1] - before[1],
        "manifest": manifest,
        "changes": changes,
        "changes_text": changes_text,
        "summary": version.change_summary,
        "message": version.message,
    }


def median(values):
    ordered = sorted(values)
    return ordered[len(ordered) // 2]


def run_size(user, count, profile, rounds=1, profile_next=False):
    project = projects.create_project(user, f"First version {count}")
    started = time.perf_counter()
    linked(project, user, count)
    print(f"seeded {count:,} tables in {time.perf_counter() - started:.1f} s", flush=True)
    first = timed_save(user, project, "", profile)
    table_id = (
        DataTable.select(DataTable.id)
        .where(DataTable.project == project.id)
        .order_by(DataTable.table_name)
        .offset(count // 3)
        .scalar()
    )
    nexts = []
    for turn in range(rounds):
        fields.create_field(user, table_id, {"name": f"One more column {turn}"})
        last = turn == rounds - 1
        nexts.append(timed_save(user, project, "One table changed", profile_next and last))
    second = dict(nexts[-1], seconds=median([row["seconds"] for row in nexts]))
    if rounds > 1:
        each = ", ".join(f"{row['seconds'] * 1000:.0f}" for row in nexts)
        print(f"  one-table saves ({rounds}, ms): {each}")
    for label, row in (("first version", first), ("next, one table", second)):
        print(
            f"{count:>6,} tables  save {label:<16} {row['seconds'] * 1000:9.1f} ms"
            f"  parts +{row['parts']:>11,} B  manifest {row['manifest']:>7,} B"
            f"  changes {row['changes']:>11,} B (text {row['changes_text']:,} B)"
            f"  load {load()}",
            flush=True,
        )
    print(f"  first version's message: {first['message']!r}")
    print(f"  first version's summary: {first['summary']}")


def main():
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="3000,30000")
    parser.add_argument("--profile", action="store_true", help="cProfile the first saves")
    parser.add_argument(
        "--rounds", type=int, default=5, help="one-table saves at each size (median printed)"
    )
    parser.add_argument(
        "--profile-next", action="store_true", help="cProfile the last one-table save"
    )
    args = parser.parse_args()
    with postgres_server() as server_url, fresh_database(server_url) as url:
        database.initialize(open_database(url))
        upgrade(database.obj)
        accounts.set_hash_cost(1, 1024)
        user = accounts.create_user("bench", "bench@example.com", PASSWORD)
        for count in (int(size) for size in args.sizes.split(",")):
            run_size(user, count, args.profile, args.rounds, args.profile_next)
    print(f"load average {load()}")


if __name__ == "__main__":
    main()
