"""Fidelity of import, then deploy, for every schema in tests/data (#24's proof, in figures).

Each file is applied by psql to a database of its own, imported through the app as a new
project, every table activated and deployed; both schemas are read from pg_catalog and
compared (tests/fidelity.py). Prints, per schema, the share of columns with their exact
type, default and nullability, of keys, uniques, foreign keys, CHECKs and indexes kept,
the activation time next to psql's, and every difference (SILENT: the preview does not
name it). Then the preview and import time of a generated 1,000-table file. Never asserts.
Runs on a fresh database on TEST_DATABASE_URL's (or BENCH_DATABASE_URL's) server, else
embedded; the deploy target is a schema of that same database.
"""

import os
import signal
import sys
import time
from collections import Counter

from _setup import OUT
from _setup import fresh_database
from _setup import postgres_server
from import_export import ddl_file
from versions import PASSWORD

from designer import accounts
from designer.db import database
from designer.db import open_database
from designer.db import upgrade
from designer.interchange import imports
from designer.settings import settings
from tests import fidelity

COLUMNS = ("columns: type", "columns: default", "columns: nullability")
KEYS = ("primary keys", "uniques", "foreign keys", "checks", "indexes")
BIG = 1000


def timed(action):
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


def prove(user, server_url, target_url, name):
    """(row of figures, differences marked named or silent) for one schema file."""
    with fresh_database(server_url) as source_url:
        text = fidelity.as_server_runs(source_url, (fidelity.DATA / name).read_text())
        fidelity.prepare(source_url, text)
        fidelity.prepare(target_url, text)
        psql_s, _ = timed(lambda: fidelity.apply_with_psql(source_url, text, name))
        (plan, schema, _), import_s = fidelity.import_and_deploy(
            user, name.removesuffix(".sql"), text, timings=True
        )
        lines = fidelity.Lines(text)
        comparison = fidelity.compare(
            fidelity.read_catalog(source_url, "public"),
            fidelity.read_catalog(target_url, schema),
            lines,
            fidelity.renamed(plan),
        )
    silent = set(fidelity.unnamed(comparison, plan, lines))
    return comparison, silent, psql_s, import_s


def percent(comparison, kind):
    tally = comparison.tallies.get(kind)
    if tally is None or not tally.total:
        return "    -"
    return f"{tally.percent:5.1f}"


def report(name, comparison, silent, psql_s, timings):
    tables = comparison.tallies["tables"]
    columns = comparison.tallies["columns: type"]
    print(f"\n{name}: {tables.total} tables, {columns.total} columns")
    print("  columns exact: " + ", ".join(
        f"{kind.split(': ')[1]} {percent(comparison, kind).strip()}%" for kind in COLUMNS
    ))  # fmt: skip
    print("  kept: " + ", ".join(
        f"{kind} {percent(comparison, kind).strip()}% of {comparison.tallies[kind].total}"
        for kind in KEYS
    ))  # fmt: skip
    names = comparison.tallies["names (of constraints and indexes kept)"]
    print(f"  names of the constraints and indexes kept: {names.percent:.1f}% of {names.total}")
    print(
        f"  psql -1 -f {psql_s:.2f} s; import {timings['import']:.2f} s; activate all "
        f"{timings['activate']:.2f} s ({timings['activate'] / psql_s:.1f}x psql)"
    )
    kinds = Counter(d.what for d in comparison.differences)
    print(f"  {len(comparison.differences)} differences, {len(silent)} SILENT: " + ", ".join(
        f"{what} {n}" for what, n in kinds.most_common()
    ))  # fmt: skip
    for difference in comparison.differences:
        print(f"    {'SILENT' if difference in silent else 'named '} {difference}")


def summary(rows):
    """One line per schema: the figures the issue asks for."""
    head = ["schema", "tables", "columns", "type", "default", "null"]
    head += ["pk", "unique", "fk", "check", "index", "diffs", "silent", "act/psql"]
    print("\n" + " | ".join(head))
    for name, comparison, silent, ratio in rows:
        tallies = comparison.tallies
        cells = [name.removesuffix(".sql"), str(tallies["tables"].total)]
        cells.append(str(tallies["columns: type"].total))
        cells += [percent(comparison, kind).strip() for kind in COLUMNS + KEYS]
        cells += [str(len(comparison.differences)), str(len(silent)), f"{ratio:.1f}"]
        print(" | ".join(cells))


def big_file(user):
    text = ddl_file(BIG)
    preview_s, _ = timed(lambda: imports.preview(user, None, "sql", text))
    import_s, _ = timed(lambda: imports.import_new_project(user, "Big", "sql", text))
    size = len(text.encode()) / 1e6
    print(f"\n{BIG:,} generated tables ({size:.1f} MB): preview {preview_s:.2f} s,"
          f" import {import_s:.2f} s (one run each)")  # fmt: skip


def main():
    # A killed bench must still drop its databases and stop its embedded server.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    started = time.perf_counter()
    only = sys.argv[1:]
    OUT.mkdir(parents=True, exist_ok=True)
    with postgres_server() as server_url, fresh_database(server_url) as url:
        database.initialize(open_database(url))
        upgrade(database.obj)
        settings.designer_database_url = settings.deploy_database_url = url
        accounts.set_hash_cost(1, 1024)
        user = accounts.create_user("bench", "bench@example.com", PASSWORD)
        print("Import, then deploy, against psql: pg_catalog compared (tests/fidelity.py)")
        rows = []
        for name in fidelity.schema_files():
            if only and name.removesuffix(".sql") not in only:
                continue
            comparison, silent, psql_s, timings = prove(user, server_url, url, name)
            report(name, comparison, silent, psql_s, timings)
            rows.append((name, comparison, silent, timings["activate"] / psql_s))
        summary(rows)
        if not only or "big" in only:
            big_file(user)
    print(f"\ntotal runtime {time.perf_counter() - started:.1f} s;"
          f" load average {' '.join(f'{n:.2f}' for n in os.getloadavg())}")  # fmt: skip


if __name__ == "__main__":
    main()
